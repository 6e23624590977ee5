/* fs/conv.c — conversations, their files' semantics, and parked FUSE requests (see conv.h). */
#include "conv.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl.h"
#include "slink.h"
#include "stack.h"

#define EPHEMERAL_LO 32768
#define EPHEMERAL_HI 60999
#define EPHEMERAL_TRIES 32
#define SERVICE_PASSES 64   /* bound on one round of conv_service (spurious events) */

enum wait_kind { W_READ, W_PEEK, W_WRITE, W_CONNECT, W_LISTEN };

struct wait {
	enum wait_kind kind;
	struct wait *next, *prev;
	struct wait_queue *queue;
	struct conv *conv;
	fuse_req_t req;
	size_t size;                 /* read: bytes asked; connect: the write count to answer */
	char *buf;                   /* write: the bytes not yet sent when it was parked */
	size_t len, off;             /* buf's length, and how much of it is in the send buffer */
	size_t done;                 /* write: the count to answer (all bytes taken so far) */
	struct fuse_file_info fi;    /* listen: the open to answer */
};

/* ---- errors ------------------------------------------------------------------------ */

static const char *errno_text(int e)
{
	switch (e) {
	case EISCONN: return "connection in use";
	case ECONNREFUSED: return "connection refused";
	case ETIMEDOUT: return "connection timed out";
	case ENETUNREACH: return "network unreachable";
	case EHOSTUNREACH: return "host unreachable";
	case EADDRINUSE: return "address in use";
	case EADDRNOTAVAIL: return "address not available";
	case ENFILE: return "no free devices";
	case EACCES: return "permission denied";
	case ECONNRESET: return "connection reset";
	case ECONNABORTED: return "connection aborted";
	case ENOTCONN: return "not connected";
	case EPIPE: return "hungup";
	case EINVAL: return "invalid argument";
	default: return strerror(e);
	}
}

static void set_err(struct conv *c, const char *text)
{
	snprintf(c->err, sizeof(c->err), "%s", text);
}

/* Fail a ctl write: errno to the caller, text to err. */
static void ctl_fail(struct conv *c, fuse_req_t req, int e, const char *text)
{
	set_err(c, text ? text : errno_text(e));
	fuse_reply_err(req, e);
}

/* ---- wait queues --------------------------------------------------------------------- */

static void wq_push(struct wait_queue *q, struct wait *w)
{
	w->queue = q;
	w->next = NULL;
	w->prev = q->tail;
	if (q->tail)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
}

static void wq_remove(struct wait *w)
{
	struct wait_queue *q = w->queue;

	if (w->prev)
		w->prev->next = w->next;
	else
		q->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		q->tail = w->prev;
	w->queue = NULL;
}

static void conv_unref(struct conv *c);

static void wait_free(struct wait *w)
{
	free(w->buf);
	free(w);
}

/* The caller's signal: the kernel sent FUSE_INTERRUPT for this parked request.  Nothing is
 * lost: written bytes stay written (reported as a short write), a queued connection stays
 * queued, a connect carries on in the background. */
static void wait_interrupted(fuse_req_t req, void *data)
{
	struct wait *w = data;
	struct conv *c = w->conv;

	wq_remove(w);
	if (w->kind == W_WRITE && w->done > 0)
		fuse_reply_write(req, w->done);
	else
		fuse_reply_err(req, EINTR);
	if (w->kind == W_LISTEN)
		conv_unref(c);  /* the reference a parked listen holds on its announcer */
	wait_free(w);
}

/* Park w.  Must be the last thing the caller does with w or c: the interrupt may have
 * happened already, and then wait_interrupted runs inside the registration. */
static void wait_park(struct conv *c, struct wait_queue *q, struct wait *w)
{
	w->conv = c;
	wq_push(q, w);
	fuse_req_interrupt_func(w->req, wait_interrupted, w);
}

/* Take w off its queue to answer it normally. */
static void wait_unpark(struct wait *w)
{
	fuse_req_interrupt_func(w->req, NULL, NULL);
	wq_remove(w);
}

static struct wait *wait_new(enum wait_kind kind, fuse_req_t req)
{
	struct wait *w = calloc(1, sizeof(*w));

	if (w) {
		w->kind = kind;
		w->req = req;
	}
	return w;
}

/* ---- table, allocation, references -------------------------------------------------- */

static void on_tcp_event(void *user, struct tcp_sock *s);

static void mark_dirty(struct conv *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->next_dirty = c->tab->dirty;
	c->tab->dirty = c;
}

void conv_table_init(struct conv_table *t, struct ns_stack *st, struct slink *link,
		     uint32_t our_addr, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->st = st;
	t->link = link;
	t->our_addr = our_addr;
	t->rand = seed ? seed : 0x9e3779b97f4a7c15ull;
}

static uint16_t random_port(struct conv_table *t)
{
	t->rand ^= t->rand << 13;
	t->rand ^= t->rand >> 7;
	t->rand ^= t->rand << 17;
	return (uint16_t)(EPHEMERAL_LO + t->rand % (EPHEMERAL_HI - EPHEMERAL_LO + 1));
}

static void conv_init(struct conv *c, uid_t uid, gid_t gid, struct tcp_sock *s)
{
	c->gen++;
	c->live = true;
	c->uid = uid;
	c->gid = gid;
	c->sock = s;
	c->refs = 0;
	c->used = c->announced = c->bound = false;
	c->fwd_port = 0;
	c->backlog = CONV_DEFAULT_BACKLOG;
	c->seen_err = 0;
	c->err[0] = '\0';
	tcp_set_user(s, on_tcp_event, c);
}

/* The lowest free conversation structure, or NULL if all CONV_MAX are live. */
static struct conv *free_slot(struct conv_table *t)
{
	for (unsigned i = 0; i < t->nv; i++)
		if (!t->v[i]->live)
			return t->v[i];
	if (t->nv == CONV_MAX)
		return NULL;
	struct conv *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->tab = t;
	c->n = t->nv;
	t->v[t->nv++] = c;
	return c;
}

struct conv *conv_alloc(struct conv_table *t, uid_t uid, gid_t gid)
{
	struct conv *c = free_slot(t);
	struct tcp_sock *s;

	if (!c)
		return NULL;
	s = tcp_open(t->st, on_tcp_event, c);
	if (!s)
		return NULL;
	conv_init(c, uid, gid, s);
	return c;
}

struct conv *conv_get(struct conv_table *t, unsigned long n)
{
	if (n >= t->nv || !t->v[n]->live)
		return NULL;
	return t->v[n];
}

bool conv_is_owner(const struct conv *c, uid_t uid, gid_t gid)
{
	return uid == 0 || uid == c->uid || gid == c->gid;
}

static void remove_forward(struct conv *c)
{
	if (c->fwd_port && c->tab->link)
		slink_hostfwd_remove(c->tab->link, c->fwd_port);
	c->fwd_port = 0;
}

/* Let go of the socket: FIN after queued data (RST if unread data), or reset a listener's
 * queue.  The stack finishes the connection without us. */
static void release_socket(struct conv *c)
{
	remove_forward(c);
	if (c->sock)
		tcp_close(c->sock);
	c->sock = NULL;
}

void conv_free_unused(struct conv *c)
{
	c->refs = 1;
	conv_unref(c);
}

static void conv_ref(struct conv *c)
{
	c->refs++;
}

static void conv_unref(struct conv *c)
{
	if (--c->refs > 0)
		return;
	/* No open file left, so no parked request can be left either (each belongs to an open
	 * file, and the kernel releases a file only after its requests are answered). */
	release_socket(c);
	c->live = false;
}

/* ---- handles ------------------------------------------------------------------------- */

struct handle *handle_new(struct conv_table *t, enum handle_kind kind, struct conv *c)
{
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->kind = kind;
	h->conv = c;
	if (c) {
		h->conv_gen = c->gen;
		if (kind != H_TEXT) {
			conv_ref(c);
			h->conv_next = c->handles;
			if (c->handles)
				c->handles->conv_prev = h;
			c->handles = h;
		}
	}
	h->all_next = t->handles;
	if (t->handles)
		t->handles->all_prev = h;
	t->handles = h;
	return h;
}

void handle_free(struct conv_table *t, struct handle *h)
{
	if (h->ph)
		fuse_pollhandle_destroy(h->ph);
	if (h->all_prev)
		h->all_prev->all_next = h->all_next;
	else
		t->handles = h->all_next;
	if (h->all_next)
		h->all_next->all_prev = h->all_prev;
	if (h->conv && h->kind != H_TEXT) {
		struct conv *c = h->conv;

		if (h->conv_prev)
			h->conv_prev->conv_next = h->conv_next;
		else
			c->handles = h->conv_next;
		if (h->conv_next)
			h->conv_next->conv_prev = h->conv_prev;
		conv_unref(c);
	}
	free(h->text);
	free(h);
}

void conv_set_pollhandle(struct handle *h, struct fuse_pollhandle *ph)
{
	if (h->ph)
		fuse_pollhandle_destroy(h->ph);
	h->ph = ph;
}

static void notify_pollers(struct conv *c)
{
	for (struct handle *h = c->handles; h; h = h->conv_next) {
		if (!h->ph)
			continue;
		/* One notification wakes every waiter of this file; the kernel polls again. */
		fuse_lowlevel_notify_poll(h->ph);
		fuse_pollhandle_destroy(h->ph);
		h->ph = NULL;
	}
}

/* ---- texts ----------------------------------------------------------------------------- */

static char *format_endpoint(struct tcp_sock *s, bool remote, size_t *len)
{
	uint32_t addr = 0;
	uint16_t port = 0;
	char ip[16];
	char *text;

	if (s) {
		if (remote)
			tcp_remote(s, &addr, &port);
		else
			tcp_local(s, &addr, &port);
	}
	int n = asprintf(&text, "%s!%u\n", ns_format_ip(addr, ip), port);

	*len = n < 0 ? 0 : (size_t)n;
	return n < 0 ? NULL : text;
}

static char *format_status(struct tcp_sock *s, size_t *len)
{
	char *text;

	if (!s) {
		text = strdup("Closed\n");
		*len = text ? strlen(text) : 0;
		return text;
	}
	size_t n = tcp_format_status(s, NULL, 0);

	text = malloc(n + 1);
	if (!text)
		return NULL;
	tcp_format_status(s, text, n + 1);
	*len = strlen(text);
	return text;
}

static char *format_stats(struct ns_stack *st, size_t *len)
{
	size_t n = ns_format_stats(st, NULL, 0);
	char *text = malloc(n + 1);

	if (!text)
		return NULL;
	ns_format_stats(st, text, n + 1);
	*len = strlen(text);
	return text;
}

static char *conv_text(struct conv_table *t, struct handle *h, size_t *len)
{
	struct conv *c = h->conv;
	char *text = NULL;
	int n = -1;

	switch (h->kind) {
	case H_CTL:
		n = asprintf(&text, "%u", c->n);
		break;
	case H_ERR:
		n = asprintf(&text, c->err[0] ? "%s\n" : "%s", c->err);
		break;
	case H_TEXT:
		if (!c)
			return format_stats(t->st, len);
		if (!c->live || c->gen != h->conv_gen)
			return NULL;  /* the conversation is gone: keep the last snapshot */
		if (h->file == NF_STATUS)
			return format_status(c->sock, len);
		return format_endpoint(c->sock, h->file == NF_REMOTE, len);
	default:
		return NULL;
	}
	*len = n < 0 ? 0 : (size_t)n;
	return n < 0 ? NULL : text;
}

void handle_refresh_text(struct conv_table *t, struct handle *h)
{
	size_t len = 0;
	char *text = conv_text(t, h, &len);

	if (!text)
		return;
	free(h->text);
	h->text = text;
	h->text_len = len;
}

/* ---- ctl commands -------------------------------------------------------------------- */

static void reply_ctl_ok(fuse_req_t req, size_t count)
{
	fuse_reply_write(req, count);
}

static void do_connect(struct conv *c, fuse_req_t req, const struct ctl_cmd *cmd, size_t count,
		       bool nonblock)
{
	int r;

	if (c->used)
		return ctl_fail(c, req, EISCONN, NULL);
	if (cmd->has_lport) {
		if (c->bound)
			return ctl_fail(c, req, EINVAL, "address already bound");
		r = tcp_bind(c->sock, 0, cmd->lport);
		if (r < 0)
			return ctl_fail(c, req, -r, NULL);
		c->bound = true;
	}
	r = tcp_connect(c->sock, cmd->addr.ip, cmd->addr.port);
	if (r < 0)
		return ctl_fail(c, req, -r, NULL);
	c->used = true;
	if (nonblock)
		return (void)fuse_reply_err(req, EINPROGRESS);

	struct wait *w = wait_new(W_CONNECT, req);

	if (!w)
		return (void)fuse_reply_err(req, ENOMEM);
	w->size = count;
	mark_dirty(c);  /* the stack may have decided already (e.g. unreachable) */
	wait_park(c, &c->connects, w);
}

/* Host forward for port p unless the listener is not reachable from the host anyway. */
static int add_forward(struct conv *c, bool want, uint16_t p)
{
	if (!want)
		return 0;
	int r = slink_hostfwd_add(c->tab->link, p, p);

	if (r == 0)
		c->fwd_port = p;
	return r;
}

/* Bind the local port and set up its host forward; port 0: try ephemeral candidates until
 * both the namespace and the host have it free. */
static int announce_bind(struct conv *c, const struct ctl_addr *a, bool want_fwd)
{
	uint32_t ip = a->any_ip ? 0 : a->ip;
	int r;

	if (c->bound) {
		uint16_t p;

		tcp_local(c->sock, &(uint32_t){0}, &p);
		if (a->port != 0 && a->port != p)
			return -EINVAL;
		return add_forward(c, want_fwd, p);
	}
	if (a->port != 0) {
		r = add_forward(c, want_fwd, a->port);
		if (r < 0)
			return r;
		r = tcp_bind(c->sock, ip, a->port);
		if (r < 0)
			remove_forward(c);
		return r;
	}
	if (!want_fwd)
		return tcp_bind(c->sock, ip, 0);
	for (int i = 0; i < EPHEMERAL_TRIES; i++) {
		uint16_t p = random_port(c->tab);

		if (add_forward(c, true, p) < 0)
			continue;
		r = tcp_bind(c->sock, ip, p);
		if (r == 0)
			return 0;
		remove_forward(c);
		if (r != -EADDRINUSE)
			return r;
	}
	return -EADDRINUSE;
}

static void do_announce(struct conv *c, fuse_req_t req, const struct ctl_cmd *cmd, size_t count)
{
	/* Reachable from the host only when it listens on the namespace address (or any). */
	bool want_fwd = c->tab->link && (cmd->addr.any_ip || cmd->addr.ip == c->tab->our_addr);
	int r;

	if (c->used)
		return ctl_fail(c, req, EISCONN, NULL);
	r = announce_bind(c, &cmd->addr, want_fwd);
	if (r == -EINVAL && c->bound)
		return ctl_fail(c, req, EINVAL, "address already bound");
	if (r < 0)
		return ctl_fail(c, req, -r, NULL);
	c->bound = true;
	r = tcp_listen(c->sock, c->backlog);
	if (r < 0) {
		remove_forward(c);
		return ctl_fail(c, req, -r, NULL);
	}
	c->used = c->announced = true;
	reply_ctl_ok(req, count);
}

static void do_bind(struct conv *c, fuse_req_t req, const struct ctl_cmd *cmd, size_t count)
{
	int r;

	if (c->used || c->bound)
		return ctl_fail(c, req, EINVAL, "address already bound");
	r = tcp_bind(c->sock, cmd->addr.any_ip ? 0 : cmd->addr.ip, cmd->addr.port);
	if (r < 0)
		return ctl_fail(c, req, -r, NULL);
	c->bound = true;
	reply_ctl_ok(req, count);
}

static int set_option(struct conv *c, const struct ctl_cmd *cmd)
{
	switch (cmd->verb) {
	case CTL_BACKLOG:
		c->backlog = (int)cmd->value;
		return c->announced ? tcp_listen(c->sock, c->backlog) : 0;
	case CTL_KEEPALIVE:
		return tcp_setopt(c->sock, TCP_OPT_KEEPALIVE, cmd->value);
	case CTL_NODELAY:
		return tcp_setopt(c->sock, TCP_OPT_NODELAY, cmd->value);
	case CTL_TTL:
		return tcp_setopt(c->sock, TCP_OPT_TTL, cmd->value);
	case CTL_TOS:
		return tcp_setopt(c->sock, TCP_OPT_TOS, cmd->value);
	default:
		return -EINVAL;
	}
}

void conv_ctl_write(struct conv *c, fuse_req_t req, const char *buf, size_t len, bool nonblock)
{
	struct ctl_cmd cmd;
	const char *errtext;
	int r;

	if (ctl_parse(buf, len, &cmd, &errtext) < 0)
		return ctl_fail(c, req, EINVAL, errtext);
	if (!c->sock && cmd.verb != CTL_HANGUP && cmd.verb != CTL_CLOSE &&
	    cmd.verb != CTL_CLEARERR)
		return ctl_fail(c, req, c->used ? EISCONN : ENOTCONN, "conversation closed");

	switch (cmd.verb) {
	case CTL_CONNECT:
		return do_connect(c, req, &cmd, len, nonblock);
	case CTL_ANNOUNCE:
		return do_announce(c, req, &cmd, len);
	case CTL_BIND:
		return do_bind(c, req, &cmd, len);
	case CTL_HANGUP:
		remove_forward(c);
		if (c->sock)
			tcp_abort(c->sock);
		c->announced = false;
		mark_dirty(c);
		return reply_ctl_ok(req, len);
	case CTL_CLOSE:
		release_socket(c);
		c->announced = false;
		c->used = true;
		mark_dirty(c);
		return reply_ctl_ok(req, len);
	case CTL_SHUTDOWN:
		r = tcp_shutdown(c->sock, cmd.how);
		if (r < 0)
			return ctl_fail(c, req, -r, NULL);
		mark_dirty(c);
		return reply_ctl_ok(req, len);
	case CTL_CLEARERR:
		if (c->sock)
			tcp_error(c->sock, true);
		c->err[0] = '\0';
		mark_dirty(c);
		return reply_ctl_ok(req, len);
	default:
		r = set_option(c, &cmd);
		if (r < 0)
			return ctl_fail(c, req, -r, NULL);
		return reply_ctl_ok(req, len);
	}
}

/* ---- data ------------------------------------------------------------------------------ */

static bool connecting(const struct conv *c)
{
	enum tcp_state s = tcp_state(c->sock);

	return s == TCP_SYN_SENT || s == TCP_SYN_RECEIVED;
}

/* Answer a read now if it can be: returns false if it would block. */
static bool try_read(struct conv *c, fuse_req_t req, size_t size, bool peek)
{
	char small[64];
	ssize_t r;

	if (!c->sock) {
		fuse_reply_buf(req, NULL, 0);  /* after `close`: EOF */
		return true;
	}
	size_t avail = tcp_recv_available(c->sock);

	if (avail == 0 || size == 0) {
		/* nothing buffered: find out whether that means EOF, an error, or "wait" */
		r = tcp_recv(c->sock, small, size < sizeof(small) ? size : sizeof(small),
			     peek ? TCP_RECV_PEEK : 0);
		if (r == -EAGAIN || (r == -ENOTCONN && connecting(c)))
			return false;
		if (r < 0)
			fuse_reply_err(req, (int)-r);
		else
			fuse_reply_buf(req, small, (size_t)r);
		return true;
	}
	size_t n = avail < size ? avail : size;
	char *buf = malloc(n);

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return true;
	}
	r = tcp_recv(c->sock, buf, n, peek ? TCP_RECV_PEEK : 0);
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
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

	/* Park the rest; the request buffer is libfuse's and goes away when we return. */
	struct wait *w = wait_new(W_WRITE, req);

	if (w) {
		w->len = len - (size_t)r;
		w->buf = malloc(w->len);
	}
	if (!w || !w->buf) {
		if (w)
			wait_free(w);
		if (r > 0)
			return (void)fuse_reply_write(req, (size_t)r);
		return (void)fuse_reply_err(req, ENOMEM);
	}
	memcpy(w->buf, buf + r, w->len);
	w->done = (size_t)r;
	wait_park(c, &c->writers, w);
}

/* ---- listen ---------------------------------------------------------------------------- */

/* Take the oldest established call into a new conversation and answer the open with an
 * fd bound to its ctl.  false: nothing waits (or no free conversation: ENFILE sent). */
static bool try_accept(struct conv *c, fuse_req_t req, struct fuse_file_info *fi)
{
	if (tcp_accept_queue_len(c->sock) == 0)
		return false;
	struct conv *m = free_slot(c->tab);

	if (!m) {
		/* the call stays queued for an opener that finds a free number */
		fuse_reply_err(req, ENFILE);
		return true;
	}
	struct tcp_sock *s = tcp_accept(c->sock);

	if (!s)
		return false;
	conv_init(m, c->uid, c->gid, s);
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

/* ---- readiness ------------------------------------------------------------------------- */

unsigned conv_poll_events(struct conv *c)
{
	unsigned ev = 0, t;

	if (!c->sock)
		return POLLIN | POLLRDNORM | POLLOUT | POLLHUP;
	if (c->announced)
		return tcp_accept_queue_len(c->sock) > 0 ? POLLIN | POLLRDNORM : 0;
	t = tcp_poll(c->sock);
	if (t & TCP_EV_IN)
		ev |= POLLIN | POLLRDNORM;
	if (t & TCP_EV_OUT)
		ev |= POLLOUT | POLLWRNORM;
	if (t & TCP_EV_ERR)
		ev |= POLLERR;
	if (t & TCP_EV_HUP)
		ev |= POLLHUP;
	if (t & TCP_EV_RDHUP)
		ev |= POLLRDHUP;
	return ev;
}

/* ---- answering parked requests ------------------------------------------------------- */

static void on_tcp_event(void *user, struct tcp_sock *s)
{
	(void)s;
	mark_dirty(user);  /* never call the stack from here (stack.h) */
}

static void note_error(struct conv *c)
{
	int e = c->sock ? tcp_error(c->sock, false) : 0;

	if (e != 0 && e != c->seen_err)
		set_err(c, errno_text(-e));
	c->seen_err = e;
}

static void serve_connects(struct conv *c)
{
	struct wait *w;

	while ((w = c->connects.head)) {
		int e = c->sock ? tcp_error(c->sock, false) : -ECONNABORTED;
		enum tcp_state st = c->sock ? tcp_state(c->sock) : TCP_CLOSED;

		if (e == 0 && (st == TCP_SYN_SENT || st == TCP_SYN_RECEIVED))
			return;
		wait_unpark(w);
		if (e != 0) {
			if (c->sock)
				tcp_error(c->sock, true);  /* reported by connect, as SO_ERROR would be */
			fuse_reply_err(w->req, -e);
		} else if (st == TCP_CLOSED) {
			fuse_reply_err(w->req, ECONNABORTED);
		} else {
			fuse_reply_write(w->req, w->size);
		}
		wait_free(w);
	}
}

static void serve_listeners(struct conv *c)
{
	struct wait *w;

	while ((w = c->listeners.head)) {
		if (c->announced && c->sock && tcp_state(c->sock) == TCP_LISTEN) {
			if (tcp_accept_queue_len(c->sock) == 0)
				return;
			fuse_req_interrupt_func(w->req, NULL, NULL);
			if (!try_accept(c, w->req, &w->fi)) {
				fuse_req_interrupt_func(w->req, wait_interrupted, w);
				return;
			}
			wq_remove(w);
		} else {
			wait_unpark(w);
			fuse_reply_err(w->req, EINVAL);  /* hung up or closed: not announced any more */
		}
		wait_free(w);
		conv_unref(c);
		if (!c->live)
			return;
	}
}

static void serve_readers(struct conv *c)
{
	struct wait *w;

	while ((w = c->readers.head)) {
		fuse_req_interrupt_func(w->req, NULL, NULL);
		if (!try_read(c, w->req, w->size, w->kind == W_PEEK)) {
			fuse_req_interrupt_func(w->req, wait_interrupted, w);
			return;
		}
		wq_remove(w);
		wait_free(w);
	}
}

static void serve_writers(struct conv *c)
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
		wait_unpark(w);
		if (r < 0 && w->done == 0)
			fuse_reply_err(w->req, (int)-r);
		else
			fuse_reply_write(w->req, w->done);  /* all of it, or what got in before an error */
		wait_free(w);
	}
}

/* Answer what can be answered on c; afterwards wake its pollers. */
static void service_one(struct conv *c)
{
	note_error(c);
	serve_connects(c);
	serve_writers(c);
	serve_readers(c);
	notify_pollers(c);
	serve_listeners(c);  /* last: it may free c */
}

bool conv_service(struct conv_table *t)
{
	for (int pass = 0; pass < SERVICE_PASSES && t->dirty; pass++) {
		struct conv *list = t->dirty;

		t->dirty = NULL;
		while (list) {
			struct conv *c = list;

			list = c->next_dirty;
			c->dirty = false;
			if (c->live)
				service_one(c);
		}
	}
	return t->dirty != NULL;
}

void conv_table_fini(struct conv_table *t, int err)
{
	for (unsigned i = 0; i < t->nv; i++) {
		struct conv *c = t->v[i];
		struct wait_queue *qs[] = {&c->readers, &c->writers, &c->connects, &c->listeners};

		for (size_t q = 0; q < sizeof(qs) / sizeof(qs[0]); q++) {
			struct wait *w;

			while ((w = qs[q]->head)) {
				wait_unpark(w);
				fuse_reply_err(w->req, err);
				wait_free(w);
			}
		}
	}
	while (t->handles) {
		struct handle *h = t->handles;

		t->handles = h->all_next;
		if (h->ph)
			fuse_pollhandle_destroy(h->ph);
		free(h->text);
		free(h);
	}
	for (unsigned i = 0; i < t->nv; i++) {
		if (t->v[i]->live && t->v[i]->sock)
			tcp_close(t->v[i]->sock);
		free(t->v[i]);
	}
	t->nv = 0;
	t->dirty = NULL;
}
