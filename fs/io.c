/* fs/io.c — data, peek and listen: reads, writes and accepts, answered now or parked.
 *
 * Each try_* answers a request if it can be answered now; the conv_serve_* functions retry
 * the parked ones in FIFO order when the stack reports progress.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conv_int.h"

/* ---- data and peek ------------------------------------------------------------------- */

static bool connecting(const struct conv *c)
{
	enum tcp_state s = tcp_state(c->sock);

	return s == TCP_SYN_SENT || s == TCP_SYN_RECEIVED;
}

/* Answer a read with what tcp_recv() said.  A reset is reported once, as Linux does: the
 * read that reports it also clears the pending error, and later reads see end of file. */
static void reply_recv(struct conv *c, fuse_req_t req, const char *buf, ssize_t r)
{
	if (r == -ECONNRESET) {
		if (c->reset_reported)
			r = 0;
		c->reset_reported = true;
		tcp_error(c->sock, true);
	}
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
}

/* Answer a read now if it can be: returns false if it would block.  Data goes into the
 * FUSE reply straight from the stack's receive ring (no copy in between), and is taken
 * from the ring only once the reply was written: a read interrupted meanwhile loses
 * nothing. */
static bool try_read(struct conv *c, fuse_req_t req, size_t size, bool peek)
{
	char small[64];
	ssize_t r;

	if (!c->sock) {
		fuse_reply_buf(req, NULL, 0);  /* after `close`: EOF */
		return true;
	}
	struct iovec iov[2];
	int k = size ? tcp_recv_spans(c->sock, size, iov) : 0;

	if (k == 0) {
		/* nothing buffered: find out whether that means EOF, an error, or "wait" */
		r = tcp_recv(c->sock, small, size < sizeof(small) ? size : sizeof(small),
			     peek ? TCP_RECV_PEEK : 0);
		if (r == -EAGAIN || (r == -ENOTCONN && connecting(c)))
			return false;
		reply_recv(c, req, small, r);
		return true;
	}
	size_t n = iov[0].iov_len + (k > 1 ? iov[1].iov_len : 0);

	if (fuse_reply_iov(req, iov, k) == 0 && !peek)
		tcp_recv_consume(c->sock, n);
	return true;
}

void conv_read(struct conv *c, fuse_req_t req, size_t size, bool nonblock, bool peek)
{
	/* Readers queue in FIFO order: a new read does not overtake a parked one. */
	if (!c->readers.head && try_read(c, req, size, peek))
		return;
	if (nonblock)
		return (void)fuse_reply_err(req, EAGAIN);

	struct wait *w = wait_new(peek ? W_PEEK : W_READ, req);

	if (!w)
		return (void)fuse_reply_err(req, ENOMEM);
	w->size = size;
	wait_park(c, &c->readers, w);
}

/* Put as much as fits into the send buffer: bytes taken (>= 0), or a negative errno that
 * ends the write.  -EAGAIN means "no room (or still connecting)". */
static ssize_t try_send(struct conv *c, const char *buf, size_t len)
{
	ssize_t r;

	if (!c->sock)
		return -EPIPE;
	r = tcp_send(c->sock, buf, len);
	if (r == -ENOTCONN && connecting(c))
		return -EAGAIN;
	if (r == -ECONNRESET)
		return -EPIPE;  /* the reset is reported by reads; writes see a broken pipe */
	return r;
}

void conv_write(struct conv *c, fuse_req_t req, const char *buf, size_t len, bool nonblock)
{
	ssize_t r = 0;

	if (len == 0)
		return (void)fuse_reply_write(req, 0);
	if (!c->writers.head) {
		r = try_send(c, buf, len);
		if (r < 0 && r != -EAGAIN)
			return (void)fuse_reply_err(req, (int)-r);
		if (r == (ssize_t)len)
			return (void)fuse_reply_write(req, len);
		if (r == -EAGAIN)
			r = 0;
	}
	if (nonblock) {
		if (r > 0)
			return (void)fuse_reply_write(req, (size_t)r);
		return (void)fuse_reply_err(req, EAGAIN);
	}

	/* Park the rest.  Its bytes stay where they arrived when that is the loop's receive
	 * buffer (the wait keeps it); otherwise the request's buffer goes away when we return. */
	struct wait *w = wait_new(W_WRITE, req);

	if (w) {
		w->len = len - (size_t)r;
		w->mem = conv_rx_take(c->tab, buf, len);
		w->mem_is_rx = w->mem != NULL;
		if (w->mem_is_rx) {
			w->buf = buf + r;
		} else if ((w->mem = malloc(w->len))) {
			memcpy(w->mem, buf + r, w->len);
			w->buf = w->mem;
		}
	}
	if (!w || !w->mem) {
		if (w)
			wait_free(w);
		if (r > 0)
			return (void)fuse_reply_write(req, (size_t)r);
		return (void)fuse_reply_err(req, ENOMEM);
	}
	w->done = (size_t)r;
	wait_park(c, &c->writers, w);
}

/* ---- listen -------------------------------------------------------------------------- */

static bool try_accept(struct conv *c, fuse_req_t req, struct fuse_file_info *fi)
{
	if (tcp_accept_queue_len(c->sock) == 0)
		return false;
	struct conv *m = conv_free_slot(c->tab);

	if (!m) {
		/* the call stays queued for an opener that finds a free number */
		fuse_reply_err(req, ENFILE);
		return true;
	}
	struct tcp_sock *s = tcp_accept(c->sock);

	if (!s)
		return false;
	conv_setup(m, c->uid, c->gid, s);
	m->used = m->bound = true;
	struct handle *h = handle_new(c->tab, H_CTL, m);

	if (!h) {
		/* no memory for the fd: drop the call rather than leave a conversation nobody owns */
		conv_free_unused(m);
		fuse_reply_err(req, ENOMEM);
		return true;
	}
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	fi->nonseekable = 0;
	if (fuse_reply_open(req, fi) != 0)
		handle_free(c->tab, h);  /* the opener is gone: no RELEASE will come */
	return true;
}

void conv_listen(struct conv *c, fuse_req_t req, const struct fuse_file_info *fi, bool nonblock)
{
	struct fuse_file_info copy = *fi;

	if (!c->announced || !c->sock)
		return (void)fuse_reply_err(req, EINVAL);
	if (!c->listeners.head && try_accept(c, req, &copy))
		return;
	if (nonblock)
		return (void)fuse_reply_err(req, EAGAIN);

	struct wait *w = wait_new(W_LISTEN, req);

	if (!w)
		return (void)fuse_reply_err(req, ENOMEM);
	w->fi = copy;
	conv_ref(c);  /* a parked listen keeps the announcer alive, as in Plan 9 */
	wait_park(c, &c->listeners, w);
}

/* ---- answering parked requests ------------------------------------------------------- */

void conv_serve_connects(struct conv *c)
{
	struct wait *w;

	while ((w = c->connects.head)) {
		int e = c->sock ? tcp_error(c->sock, false) : -ECONNABORTED;
		enum tcp_state st = c->sock ? tcp_state(c->sock) : TCP_CLOSED;

		if (e == 0 && (st == TCP_SYN_SENT || st == TCP_SYN_RECEIVED))
			return;
		wait_hold(w);
		if (e != 0) {
			if (c->sock)
				tcp_error(c->sock, true);  /* reported by connect, as SO_ERROR would be */
			fuse_reply_err(w->req, -e);
		} else if (st == TCP_CLOSED) {
			fuse_reply_err(w->req, ECONNABORTED);
		} else {
			fuse_reply_write(w->req, w->size);
		}
		wait_done(w);
	}
}

void conv_serve_listeners(struct conv *c)
{
	struct wait *w;

	while ((w = c->listeners.head)) {
		if (c->announced && c->sock && tcp_state(c->sock) == TCP_LISTEN) {
			if (tcp_accept_queue_len(c->sock) == 0)
				return;
			wait_hold(w);
			if (!try_accept(c, w->req, &w->fi)) {
				wait_rearm(w);
				return;
			}
		} else {
			wait_hold(w);
			fuse_reply_err(w->req, EINVAL);  /* hung up or closed: not announced any more */
		}
		wait_done(w);
		conv_unref(c);
		if (!c->live)
			return;
	}
}

void conv_serve_readers(struct conv *c)
{
	struct wait *w;

	while ((w = c->readers.head)) {
		wait_hold(w);
		if (!try_read(c, w->req, w->size, w->kind == W_PEEK)) {
			wait_rearm(w);
			return;
		}
		wait_done(w);
	}
}

void conv_serve_writers(struct conv *c)
{
	struct wait *w;

	while ((w = c->writers.head)) {
		ssize_t r = try_send(c, w->buf + w->off, w->len - w->off);

		if (r == -EAGAIN || r == 0)
			return;
		if (r > 0) {
			w->off += (size_t)r;
			w->done += (size_t)r;
			if (w->off < w->len)
				return;  /* the rest when room opens */
		}
		wait_hold(w);
		if (r < 0 && w->done == 0)
			fuse_reply_err(w->req, (int)-r);
		else
			fuse_reply_write(w->req, w->done);  /* all of it, or what got in before an error */
		wait_done(w);
	}
}
