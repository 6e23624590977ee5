/* compat_sock.c — socket, bind, listen, connect, getsockname/getpeername, shutdown.
 *
 * Each call checks what Linux checks before it reaches the protocol (lengths, families,
 * the caller's memory), then speaks to the conversation's ctl file; the daemon gives the
 * protocol's errors (EADDRINUSE, EISCONN, ECONNREFUSED, ...).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"

/* What the library remembers about a socket beyond its options (compat_opt.c's table,
 * under a level no real option uses). */
#define COMPAT_LEVEL_LIBRARY (-1)
#define COMPAT_OPT_CONNECTING 1  /* a non-blocking connect whose outcome connect() owes */
#define COMPAT_OPT_FAILED 2      /* its last connect failed: the next one starts afresh */
#define COMPAT_OPT_BOUND 3       /* the address given to bind(), a struct sockaddr_in */

int compat_socket(int type)
{
	int flags = 0;

	if (type & SOCK_NONBLOCK)
		flags |= O_NONBLOCK;
	if (type & SOCK_CLOEXEC)
		flags |= O_CLOEXEC;
	return compat_conv_new(flags);
}

/* The inet checks of bind(2)/connect(2) on a copied-in address. */
static int compat_inet_addr(struct sockaddr_storage *ss, const struct sockaddr *addr,
			    socklen_t len, struct sockaddr_in **sin)
{
	if (compat_addr_from_user(ss, addr, len) < 0)
		return -1;
	*sin = (struct sockaddr_in *)ss;
	if (len < sizeof(struct sockaddr_in)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int compat_bind(int fd, int n, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin;
	char text[64];

	(void)fd;
	if (compat_inet_addr(&ss, addr, len, &sin) < 0)
		return -1;
	/* Linux takes AF_UNSPEC for AF_INET only together with INADDR_ANY. */
	if (sin->sin_family != AF_INET &&
	    (sin->sin_family != AF_UNSPEC || sin->sin_addr.s_addr != htonl(INADDR_ANY))) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	compat_addr_format(sin, text, sizeof(text));
	if (compat_conv_ctl(n, false, "bind %s", text) < 0)
		return -1;
	compat_opt_store(n, COMPAT_LEVEL_LIBRARY, COMPAT_OPT_BOUND, sin, sizeof(*sin));
	return 0;
}

int compat_listen(int fd, int n, int backlog)
{
	struct compat_status st;
	struct sockaddr_in local;
	char text[64];

	(void)fd;
	if (compat_conv_status(n, &st) < 0)
		return -1;
	/* Linux: (unsigned)backlog > somaxconn -> somaxconn, so a negative backlog is the max. */
	if (backlog < 0 || backlog > 4096)
		backlog = 4096;
	if (compat_state_is(&st, "Listen"))
		return compat_conv_ctl(n, false, "backlog %d", backlog);
	if (!compat_state_is(&st, "Closed")) {
		errno = EINVAL;  /* connected or connecting */
		return -1;
	}
	if (compat_conv_addr(n, "local", &local) < 0 ||
	    compat_conv_ctl(n, false, "backlog %d", backlog) < 0)
		return -1;
	compat_addr_format(&local, text, sizeof(text));
	return compat_conv_ctl(n, false, "announce %s", text);
}

/* Linux remembers that a connect was started (SS_CONNECTING): the next connect() call
 * reports its outcome once (0, or the error, or ECONNABORTED when SO_ERROR already took it)
 * and only later ones say EISCONN.  The daemon cannot tell those calls apart, so this
 * process keeps the mark. */
static void compat_mark(int n, int what, int on)
{
	compat_opt_store(n, COMPAT_LEVEL_LIBRARY, what, &on, sizeof(on));
}

static bool compat_marked(int n, int what)
{
	int on = 0;
	socklen_t len;

	return compat_opt_lookup(n, COMPAT_LEVEL_LIBRARY, what, &on, &len) && on;
}

static void compat_mark_connecting(int n, int on)
{
	compat_mark(n, COMPAT_OPT_CONNECTING, on);
}

static bool compat_is_connecting(int n)
{
	return compat_marked(n, COMPAT_OPT_CONNECTING);
}

/* A connect that failed: Linux leaves the socket unconnected and lets it connect again. */
static int compat_failed(int n, int err)
{
	compat_mark(n, COMPAT_OPT_FAILED, 1);
	errno = err;
	return -1;
}

static bool compat_handshaking(const struct compat_status *st)
{
	return compat_state_is(st, "Syn_sent") || compat_state_is(st, "Syn_received");
}

/* The outcome of a connect in progress, reported as connect(2) does: wait for it unless
 * non-blocking (EALREADY), then 0 or the error. */
static int compat_connect_report(int fd, int n, bool nonblock, long timeout_ms)
{
	struct compat_status st;

	if (compat_conv_status(n, &st) < 0)
		return -1;
	if (compat_handshaking(&st)) {
		int r;
		if (nonblock) {
			errno = EALREADY;
			return -1;
		}
		r = compat_wait_fd(fd, POLLOUT, timeout_ms > 0 ? timeout_ms : -1);
		if (r <= 0) {
			if (r == 0)
				errno = EINPROGRESS;  /* SO_SNDTIMEO expired: Linux says the same */
			return -1;
		}
		if (compat_conv_status(n, &st) < 0)
			return -1;
	}
	compat_mark_connecting(n, 0);
	if (st.error) {
		compat_conv_ctl(n, false, "clearerr");
		return compat_failed(n, st.error);
	}
	if (compat_state_is(&st, "Closed"))
		return compat_failed(n, ECONNABORTED);
	return 0;
}

/* The daemon does not connect a conversation twice, so after a failed connect the
 * descriptor gets a fresh conversation under the same number (same O_NONBLOCK and
 * FD_CLOEXEC), with the socket's bound address and options.  Other descriptors that share
 * the old one (dup, fork) keep it: the one divergence (libnetfs-compat(3)).  Returns the
 * new conversation's number. */
static int compat_renew(int fd, int n)
{
	int cloexec = fcntl(fd, F_GETFD), fresh, m, e;
	struct sockaddr_in bound;
	socklen_t len;
	char text[64];

	fresh = compat_conv_new(O_CLOEXEC | (compat_fd_nonblock(fd) ? O_NONBLOCK : 0));
	if (fresh < 0)
		return -1;
	m = compat_conv_of_fd(fresh);
	if (m < 0)
		goto fail;
	compat_opt_move(n, m);
	compat_mark(m, COMPAT_OPT_FAILED, 0);
	if (compat_opt_lookup(m, COMPAT_LEVEL_LIBRARY, COMPAT_OPT_BOUND, &bound, &len) == 1) {
		compat_addr_format(&bound, text, sizeof(text));
		if (compat_conv_ctl(m, false, "bind %s", text) < 0)
			goto fail;
	}
	if (compat_sockopt_replay(m) < 0 ||
	    dup3(fresh, fd, cloexec >= 0 && (cloexec & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
		goto fail;
	close(fresh);
	return m;
fail:
	e = errno;
	close(fresh);
	errno = e;
	return -1;
}

int compat_connect(int fd, int n, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin;
	struct compat_opts opts;
	char text[64];
	bool nonblock = compat_fd_nonblock(fd);
	int r;

	if (compat_inet_addr(&ss, addr, len, &sin) < 0)
		return -1;
	if (sin->sin_family != AF_INET) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (compat_is_connecting(n)) {
		compat_opt_get(n, &opts);
		return compat_connect_report(fd, n, nonblock, opts.sndtimeo_ms);
	}
	if (compat_marked(n, COMPAT_OPT_FAILED) && (n = compat_renew(fd, n)) < 0)
		return -1;
	compat_opt_get(n, &opts);
	/* Linux sends a connect to INADDR_ANY to the loopback address. */
	if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	compat_addr_format(sin, text, sizeof(text));
	/* A send timeout bounds the wait, so the daemon must not block: start it non-blocking
	 * and wait here. */
	r = compat_conv_ctl(n, nonblock || opts.sndtimeo_ms > 0, "connect %s", text);
	if (r == 0)
		return 0;
	if (errno == EINPROGRESS || errno == EALREADY) {
		compat_mark_connecting(n, 1);
		return nonblock ? -1 : compat_connect_report(fd, n, false, opts.sndtimeo_ms);
	}
	if (errno == EINTR) {
		/* Linux goes on connecting in the background after a signal. */
		compat_mark_connecting(n, 1);
		if (compat_wait_restart(opts.sndtimeo_ms))
			return compat_connect_report(fd, n, false, -1);
		errno = EINTR;
		return -1;
	}
	/* The attempt itself failed (refused, unreachable, timed out), not the request. */
	if (errno == ECONNREFUSED || errno == ETIMEDOUT || errno == ENETUNREACH ||
	    errno == EHOSTUNREACH || errno == ECONNRESET || errno == ECONNABORTED)
		return compat_failed(n, errno);
	return -1;
}

int compat_getname(int fd, int n, bool peer, struct sockaddr *addr, socklen_t *len)
{
	struct sockaddr_in sin;

	(void)fd;
	if (peer) {
		struct compat_status st;
		if (compat_conv_status(n, &st) < 0)
			return -1;
		/* Linux: no peer while unconnected or still in SYN_SENT. */
		if (compat_state_is(&st, "Closed") || compat_state_is(&st, "Listen") ||
		    compat_state_is(&st, "Syn_sent")) {
			errno = ENOTCONN;
			return -1;
		}
	}
	if (compat_conv_addr(n, peer ? "remote" : "local", &sin) < 0)
		return -1;
	if (peer && sin.sin_port == 0) {
		errno = ENOTCONN;
		return -1;
	}
	return compat_addr_to_user(&sin, sizeof(sin), addr, len);
}

int compat_shutdown(int fd, int n, int how)
{
	static const char *const words[] = { "rd", "wr", "rdwr" };
	struct compat_status st;

	(void)fd;
	if (how < SHUT_RD || how > SHUT_RDWR) {
		errno = EINVAL;
		return -1;
	}
	if (compat_conv_status(n, &st) < 0)
		return -1;
	if (compat_state_is(&st, "Closed")) {
		errno = ENOTCONN;
		return -1;
	}
	return compat_conv_ctl(n, false, "shutdown %s", words[how]);
}
