/* compat_io.c — send/recv and friends on a data file, with their flags.
 *
 * The data file already behaves as the socket's stream (readv/writev, O_NONBLOCK honoured per
 * request).  What a flag changes for one call only is done on a second open file
 * description, so no other user of the socket sees a flag toggled under it:
 *   MSG_PEEK     -> N/peek (reads without consuming);
 *   MSG_DONTWAIT on a blocking socket, or a timeout to enforce -> N/data opened O_NONBLOCK.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"

struct compat_stream {
	int fd;         /* the fd to read or write */
	bool temp;      /* opened for this call */
	bool nonblock;  /* this call must not block */
	long timeout_ms;
};

static int compat_stream_open(struct compat_stream *s, int fd, int n, const char *file,
			      int mode, bool dontwait, long timeout_ms)
{
	bool fd_nonblock = compat_fd_nonblock(fd);

	s->nonblock = fd_nonblock || dontwait;
	s->timeout_ms = s->nonblock ? 0 : timeout_ms;
	s->temp = strcmp(file, "data") != 0 || (!fd_nonblock && (dontwait || timeout_ms > 0));
	if (!s->temp) {
		s->fd = fd;
		return 0;
	}
	s->fd = compat_conv_open(n, file, mode | (s->nonblock || s->timeout_ms > 0 ? O_NONBLOCK : 0));
	return s->fd < 0 ? -1 : 0;
}

static void compat_stream_close(struct compat_stream *s)
{
	if (s->temp) {
		int e = errno;
		close(s->fd);
		errno = e;
	}
}

/* One readv/writev with Linux's blocking rules: a timeout is a bounded poll before a
 * non-blocking attempt; EINTR restarts when Linux would (see compat_wait.c). */
static ssize_t compat_stream_io(struct compat_stream *s, const struct iovec *iov, int cnt,
				bool out)
{
	for (;;) {
		ssize_t r;
		if (s->timeout_ms > 0) {
			int w = compat_wait_fd(s->fd, out ? POLLOUT : POLLIN, s->timeout_ms);
			if (w <= 0) {
				if (w == 0)
					errno = EAGAIN;
				return -1;
			}
		}
		r = out ? writev(s->fd, iov, cnt) : readv(s->fd, iov, cnt);
		if (r >= 0)
			return r;
		if (errno == EAGAIN && s->timeout_ms > 0)
			continue;  /* raced with another reader: wait again */
		if (errno == EINTR && !s->nonblock && compat_wait_restart(s->timeout_ms))
			continue;
		return -1;
	}
}

static size_t compat_iov_len(const struct iovec *iov, int cnt)
{
	size_t t = 0;

	for (int i = 0; i < cnt; i++)
		t += iov[i].iov_len;
	return t;
}

/* MSG_WAITALL: read until the buffers are full, EOF or an error; a partial count wins over
 * an error, as on Linux. */
static ssize_t compat_recv_all(struct compat_stream *s, const struct iovec *iov, int cnt)
{
	struct iovec *v = malloc((size_t)cnt * sizeof(*v));
	size_t want = compat_iov_len(iov, cnt), got = 0;
	int first = 0;

	if (!v) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(v, iov, (size_t)cnt * sizeof(*v));
	while (got < want) {
		ssize_t r = compat_stream_io(s, v + first, cnt - first, false);
		if (r <= 0) {
			if (r < 0 && got == 0) {
				free(v);
				return -1;
			}
			break;
		}
		got += (size_t)r;
		while (first < cnt && (size_t)r >= v[first].iov_len)
			r -= (ssize_t)v[first++].iov_len;
		if (first < cnt) {
			v[first].iov_base = (char *)v[first].iov_base + r;
			v[first].iov_len -= (size_t)r;
		}
	}
	free(v);
	return (ssize_t)got;
}

/* The daemon answers ENOTCONN for any data call before the connection is established.
 * Linux makes a call on a socket still in its handshake wait for it (or EAGAIN), and a
 * send on a socket that is not connecting at all fails with EPIPE.  True when the call
 * should be tried again. */
static bool compat_not_yet(struct compat_stream *s, int fd, int n, bool out)
{
	struct compat_status st;

	if (compat_conv_status(n, &st) < 0) {
		errno = ENOTCONN;
		return false;
	}
	if (!compat_state_is(&st, "Syn_sent") && !compat_state_is(&st, "Syn_received")) {
		errno = out ? EPIPE : ENOTCONN;
		return false;
	}
	if (s->nonblock) {
		errno = EAGAIN;
		return false;
	}
	return compat_wait_fd(fd, POLLOUT, s->timeout_ms > 0 ? s->timeout_ms : -1) > 0;
}

ssize_t compat_recv(int fd, int n, const struct iovec *iov, int cnt, int flags)
{
	struct compat_stream s;
	struct compat_opts opts;
	bool peek = flags & MSG_PEEK;
	ssize_t r;

	if (flags & MSG_OOB) {
		errno = EINVAL;  /* Linux without urgent data */
		return -1;
	}
	if (flags & MSG_ERRQUEUE) {
		errno = EAGAIN;  /* TCP has nothing in the error queue here */
		return -1;
	}
	compat_opt_get(n, &opts);
	if (compat_stream_open(&s, fd, n, peek ? "peek" : "data", O_RDONLY,
			       flags & MSG_DONTWAIT, opts.rcvtimeo_ms) < 0)
		return -1;
	do {
		if ((flags & MSG_WAITALL) && !peek && !s.nonblock)
			r = compat_recv_all(&s, iov, cnt);
		else
			r = compat_stream_io(&s, iov, cnt, false);
	} while (r < 0 && errno == ENOTCONN && compat_not_yet(&s, fd, n, false));
	compat_stream_close(&s);
	return r;
}

ssize_t compat_send(int fd, int n, const struct iovec *iov, int cnt, int flags)
{
	struct compat_stream s;
	struct compat_opts opts;
	ssize_t r;

	if (flags & MSG_OOB) {
		errno = EOPNOTSUPP;  /* no urgent data in the daemon's TCP */
		return -1;
	}
	compat_opt_get(n, &opts);
	if (compat_stream_open(&s, fd, n, "data", O_WRONLY, flags & MSG_DONTWAIT,
			       opts.sndtimeo_ms) < 0)
		return -1;
	do
		r = compat_stream_io(&s, iov, cnt, true);
	while (r < 0 && errno == ENOTCONN && compat_not_yet(&s, fd, n, true));
	compat_stream_close(&s);
	/* A socket raises SIGPIPE itself; a FUSE file cannot, so we do, to the calling thread
	 * as Linux does. */
	if (r < 0 && errno == EPIPE && !(flags & MSG_NOSIGNAL)) {
		pthread_kill(pthread_self(), SIGPIPE);
		errno = EPIPE;
	}
	return r;
}

int compat_inq(int fd, int n, int *count)
{
	struct compat_status st;

	(void)fd;
	if (compat_conv_status(n, &st) < 0)
		return -1;
	if (compat_state_is(&st, "Listen")) {
		errno = EINVAL;  /* Linux: FIONREAD on a listener */
		return -1;
	}
	*count = st.inq > 0x7fffffff ? 0x7fffffff : (int)st.inq;
	return 0;
}
