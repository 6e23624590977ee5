/* compat_sockopt.c — setsockopt/getsockopt on our sockets.
 *
 * Answered from the daemon: SO_ERROR (status "errno N", cleared with clearerr as reading it
 * clears it on Linux) and SO_ACCEPTCONN (state Listen).  Constant: SO_TYPE, SO_DOMAIN,
 * SO_PROTOCOL.  Sent to the daemon and remembered: SO_KEEPALIVE, TCP_NODELAY, IP_TTL, IP_TOS.
 * Enforced by the library: SO_RCVTIMEO, SO_SNDTIMEO.  Accepted and remembered only (the
 * daemon has no equivalent; listed in libnetfs-compat(3)): the rest of the table.
 * Unknown options: ENOPROTOOPT, as Linux answers for options it does not know.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/time.h>

#include "compat.h"

enum opt_kind { OPT_BOOL, OPT_INT, OPT_BUF, OPT_TIMEO, OPT_LINGER };

struct opt_def {
	int level, name;
	enum opt_kind kind;
	int dflt;     /* what getsockopt returns before any setsockopt */
	int min, max; /* OPT_INT range (EINVAL outside) */
};

static const struct opt_def compat_opt_defs[] = {
	{ SOL_SOCKET, SO_REUSEADDR, OPT_BOOL, 0, 0, 0 },
	{ SOL_SOCKET, SO_REUSEPORT, OPT_BOOL, 0, 0, 0 },
	{ SOL_SOCKET, SO_KEEPALIVE, OPT_BOOL, 0, 0, 0 },
	{ SOL_SOCKET, SO_BROADCAST, OPT_BOOL, 0, 0, 0 },
	{ SOL_SOCKET, SO_OOBINLINE, OPT_BOOL, 0, 0, 0 },
	{ SOL_SOCKET, SO_PRIORITY, OPT_INT, 0, 0, 6 },
	{ SOL_SOCKET, SO_RCVLOWAT, OPT_INT, 1, 0, 0x7fffffff },
	{ SOL_SOCKET, SO_RCVBUF, OPT_BUF, 131072, 0, 0 },
	{ SOL_SOCKET, SO_SNDBUF, OPT_BUF, 16384, 0, 0 },
	{ SOL_SOCKET, SO_RCVTIMEO, OPT_TIMEO, 0, 0, 0 },
	{ SOL_SOCKET, SO_SNDTIMEO, OPT_TIMEO, 0, 0, 0 },
	{ SOL_SOCKET, SO_LINGER, OPT_LINGER, 0, 0, 0 },
	{ IPPROTO_TCP, TCP_NODELAY, OPT_BOOL, 0, 0, 0 },
	{ IPPROTO_TCP, TCP_KEEPIDLE, OPT_INT, 7200, 1, 32767 },
	{ IPPROTO_TCP, TCP_KEEPINTVL, OPT_INT, 75, 1, 32767 },
	{ IPPROTO_TCP, TCP_KEEPCNT, OPT_INT, 9, 1, 127 },
	{ IPPROTO_TCP, TCP_DEFER_ACCEPT, OPT_INT, 0, -0x7fffffff, 0x7fffffff },
	{ IPPROTO_TCP, TCP_QUICKACK, OPT_BOOL, 1, 0, 0 },
	{ IPPROTO_TCP, TCP_CORK, OPT_BOOL, 0, 0, 0 },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, OPT_INT, 0, 0, 0x7fffffff },
	{ IPPROTO_TCP, TCP_FASTOPEN, OPT_INT, 0, 0, 0x7fffffff },
	{ IPPROTO_TCP, TCP_FASTOPEN_CONNECT, OPT_BOOL, 0, 0, 0 },
	{ IPPROTO_TCP, TCP_NOTSENT_LOWAT, OPT_INT, -1, -0x7fffffff, 0x7fffffff },
	{ IPPROTO_IP, IP_TTL, OPT_INT, 255, -1, 255 },
	{ IPPROTO_IP, IP_TOS, OPT_INT, 0, 0, 255 },
	{ IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, OPT_BOOL, 0, 0, 0 },
	{ IPPROTO_IP, IP_RECVERR, OPT_BOOL, 0, 0, 0 },
	{ IPPROTO_IP, IP_FREEBIND, OPT_BOOL, 0, 0, 0 },
};

static const struct opt_def *compat_opt_def(int level, int name)
{
	for (size_t i = 0; i < sizeof(compat_opt_defs) / sizeof(compat_opt_defs[0]); i++)
		if (compat_opt_defs[i].level == level && compat_opt_defs[i].name == name)
			return &compat_opt_defs[i];
	return NULL;
}

/* The options that have a ctl command. */
static int compat_opt_apply(int n, const struct opt_def *d, int v)
{
	if (d->level == SOL_SOCKET && d->name == SO_KEEPALIVE)
		return v ? compat_conv_ctl(n, false, "keepalive")
			 : compat_conv_ctl(n, false, "keepalive 0");
	if (d->level == IPPROTO_TCP && d->name == TCP_NODELAY)
		return compat_conv_ctl(n, false, "nodelay %s", v ? "on" : "off");
	if (d->level == IPPROTO_IP && d->name == IP_TTL)
		return v < 0 ? compat_conv_ctl(n, false, "ttl")
			     : compat_conv_ctl(n, false, "ttl %d", v);
	if (d->level == IPPROTO_IP && d->name == IP_TOS)
		return compat_conv_ctl(n, false, "tos %d", v);
	return 0;
}

int compat_sockopt_replay(int n)
{
	for (size_t i = 0; i < sizeof(compat_opt_defs) / sizeof(compat_opt_defs[0]); i++) {
		const struct opt_def *d = &compat_opt_defs[i];
		unsigned char buf[16];
		socklen_t len;
		int v;
		if (compat_opt_lookup(n, d->level, d->name, buf, &len) != 1 || len != sizeof(v))
			continue;
		memcpy(&v, buf, sizeof(v));
		if (compat_opt_apply(n, d, v) < 0)
			return -1;
	}
	return 0;
}

static int compat_set_timeo(int n, const struct opt_def *d, const void *val, socklen_t len)
{
	struct timeval tv;

	if (len < sizeof(tv)) {
		errno = EINVAL;
		return -1;
	}
	if (compat_umem_read(&tv, val, sizeof(tv)) < 0)
		return -1;
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) {
		errno = EDOM;
		return -1;
	}
	if (tv.tv_sec < 0)
		tv.tv_sec = tv.tv_usec = 0;
	return compat_opt_store(n, d->level, d->name, &tv, sizeof(tv));
}

int compat_setsockopt(int fd, int n, int level, int name, const void *val, socklen_t len)
{
	const struct opt_def *d = compat_opt_def(level, name);
	int v;

	(void)fd;
	if ((int)len < 0) {
		errno = EINVAL;
		return -1;
	}
	if (!d) {
		errno = ENOPROTOOPT;
		return -1;
	}
	if (len < sizeof(int)) {
		errno = EINVAL;
		return -1;
	}
	if (compat_umem_read(&v, val, sizeof(v)) < 0)
		return -1;
	switch (d->kind) {
	case OPT_TIMEO:
		return compat_set_timeo(n, d, val, len);
	case OPT_LINGER: {
		struct linger l;
		if (len < sizeof(l)) {
			errno = EINVAL;
			return -1;
		}
		if (compat_umem_read(&l, val, sizeof(l)) < 0)
			return -1;
		return compat_opt_store(n, level, name, &l, sizeof(l));
	}
	case OPT_BOOL:
		v = v != 0;
		break;
	case OPT_INT:
		if (v < d->min || v > d->max) {
			errno = EINVAL;
			return -1;
		}
		break;
	case OPT_BUF:
		/* Linux doubles the value for its bookkeeping and reports the double. */
		v = v > 0x3fffffff ? 0x7ffffffe : (v < 1152 ? 2304 : v * 2);
		break;
	}
	if (compat_opt_apply(n, d, v) < 0)
		return -1;
	return compat_opt_store(n, level, name, &v, sizeof(v));
}

/* Values of options nobody set. */
static void compat_opt_default(const struct opt_def *d, void *val, socklen_t *len)
{
	if (d->kind == OPT_TIMEO) {
		memset(val, 0, sizeof(struct timeval));
		*len = sizeof(struct timeval);
	} else if (d->kind == OPT_LINGER) {
		memset(val, 0, sizeof(struct linger));
		*len = sizeof(struct linger);
	} else {
		memcpy(val, &d->dflt, sizeof(int));
		*len = sizeof(int);
	}
}

/* The values that come from the daemon or never change. */
static int compat_opt_live(int n, int level, int name, int *v)
{
	struct compat_status st;

	if (level != SOL_SOCKET)
		return 0;
	switch (name) {
	case SO_TYPE:     *v = SOCK_STREAM; return 1;
	case SO_DOMAIN:   *v = AF_INET; return 1;
	case SO_PROTOCOL: *v = IPPROTO_TCP; return 1;
	case SO_ACCEPTCONN:
	case SO_ERROR:
		if (compat_conv_status(n, &st) < 0)
			return -1;
		if (name == SO_ACCEPTCONN) {
			*v = compat_state_is(&st, "Listen");
		} else {
			*v = st.error;
			if (st.error)
				compat_conv_ctl(n, false, "clearerr");
		}
		return 1;
	}
	return 0;
}

int compat_getsockopt(int fd, int n, int level, int name, void *val, socklen_t *len)
{
	unsigned char buf[16];
	socklen_t klen = 0;
	int ulen, live, v;

	(void)fd;
	if (compat_umem_read(&ulen, len, sizeof(ulen)) < 0)
		return -1;
	if (ulen < 0) {
		errno = EINVAL;
		return -1;
	}
	live = compat_opt_live(n, level, name, &v);
	if (live < 0)
		return -1;
	if (live) {
		memcpy(buf, &v, sizeof(v));
		klen = sizeof(v);
	} else {
		const struct opt_def *d = compat_opt_def(level, name);
		if (!d) {
			errno = ENOPROTOOPT;
			return -1;
		}
		if (!compat_opt_lookup(n, level, name, buf, &klen))
			compat_opt_default(d, buf, &klen);
	}
	if ((socklen_t)ulen > klen)
		ulen = (int)klen;
	if (compat_umem_write(val, buf, (size_t)ulen) < 0)
		return -1;
	return compat_umem_write(len, &ulen, sizeof(ulen));
}
