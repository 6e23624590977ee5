/* compat_export.c — the interposed symbols.
 *
 * Each one asks the kernel first (libc's function): that is the whole story for host sockets
 * and every other fd, and it also gives the kernel's errno for everything it checks before
 * it looks at the socket.  Only ENOTSOCK on one of our data files brings us in.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "compat.h"

/* The conversation of fd when the kernel just said ENOTSOCK for it, else -1. */
static int compat_ours(long r, int fd)
{
	return r < 0 && errno == ENOTSOCK ? compat_conv_of_fd(fd) : -1;
}

COMPAT_EXPORT int socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (domain == AF_INET && base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
		return compat_socket(type);
	return compat_real_socket(domain, type, protocol);
}

COMPAT_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	int r = compat_real_bind(fd, addr, len), n = compat_ours(r, fd);

	return n < 0 ? r : compat_bind(fd, n, addr, len);
}

COMPAT_EXPORT int listen(int fd, int backlog)
{
	int r = compat_real_listen(fd, backlog), n = compat_ours(r, fd);

	return n < 0 ? r : compat_listen(fd, n, backlog);
}

static int compat_do_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	int r = compat_real_accept4(fd, addr, len, flags), n = compat_ours(r, fd);

	return n < 0 ? r : compat_accept(fd, n, addr, len, flags);
}

COMPAT_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return compat_do_accept4(fd, addr, len, flags);
}

COMPAT_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return compat_do_accept4(fd, addr, len, 0);
}

COMPAT_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int r = compat_real_connect(fd, addr, len), n = compat_ours(r, fd);

	return n < 0 ? r : compat_connect(fd, n, addr, len);
}

COMPAT_EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	int r = compat_real_getsockname(fd, addr, len), n = compat_ours(r, fd);

	return n < 0 ? r : compat_getname(fd, n, false, addr, len);
}

COMPAT_EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	int r = compat_real_getpeername(fd, addr, len), n = compat_ours(r, fd);

	return n < 0 ? r : compat_getname(fd, n, true, addr, len);
}

COMPAT_EXPORT int shutdown(int fd, int how)
{
	int r = compat_real_shutdown(fd, how), n = compat_ours(r, fd);

	return n < 0 ? r : compat_shutdown(fd, n, how);
}

COMPAT_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int r = compat_real_setsockopt(fd, level, name, val, len), n = compat_ours(r, fd);

	return n < 0 ? r : compat_setsockopt(fd, n, level, name, val, len);
}

COMPAT_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int r = compat_real_getsockopt(fd, level, name, val, len), n = compat_ours(r, fd);

	return n < 0 ? r : compat_getsockopt(fd, n, level, name, val, len);
}

/* ---- data ---------------------------------------------------------------------------------- */

/* A TCP socket has no source address to report: Linux stores length 0 (after the data was
 * taken, so a bad addrlen pointer loses it, as on Linux). */
static ssize_t compat_no_from(ssize_t r, struct sockaddr *addr, socklen_t *len)
{
	if (r < 0 || !addr)
		return r;
	return compat_addr_to_user(NULL, 0, addr, len) < 0 ? -1 : r;
}

static ssize_t compat_do_sendto(int fd, const void *buf, size_t len, int flags,
				const struct sockaddr *addr, socklen_t alen)
{
	ssize_t r = compat_real_sendto(fd, buf, len, flags, addr, alen);
	int n = compat_ours(r, fd);
	struct iovec iov = { (void *)buf, len };

	/* A destination on a connected TCP socket is ignored, as Linux does. */
	return n < 0 ? r : compat_send(fd, n, &iov, 1, flags);
}

COMPAT_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			     const struct sockaddr *addr, socklen_t alen)
{
	return compat_do_sendto(fd, buf, len, flags, addr, alen);
}

COMPAT_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return compat_do_sendto(fd, buf, len, flags, NULL, 0);
}

static ssize_t compat_do_recvfrom(int fd, void *buf, size_t len, int flags,
				  struct sockaddr *addr, socklen_t *alen)
{
	ssize_t r = compat_real_recvfrom(fd, buf, len, flags, addr, alen);
	int n = compat_ours(r, fd);
	struct iovec iov = { buf, len };

	return n < 0 ? r : compat_no_from(compat_recv(fd, n, &iov, 1, flags), addr, alen);
}

COMPAT_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			       struct sockaddr *addr, socklen_t *alen)
{
	return compat_do_recvfrom(fd, buf, len, flags, addr, alen);
}

COMPAT_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return compat_do_recvfrom(fd, buf, len, flags, NULL, NULL);
}

/* The caller's msghdr, copied in without faulting; its iovec array comes next. */
static int compat_msg_in(const struct msghdr *umsg, struct msghdr *msg)
{
	if (compat_umem_read(msg, umsg, sizeof(*msg)) < 0)
		return -1;
	if (msg->msg_iovlen > IOV_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

COMPAT_EXPORT ssize_t sendmsg(int fd, const struct msghdr *umsg, int flags)
{
	ssize_t r = compat_real_sendmsg(fd, umsg, flags);
	int n = compat_ours(r, fd);
	struct msghdr msg;

	if (n < 0)
		return r;
	if (compat_msg_in(umsg, &msg) < 0)
		return -1;
	{
		struct iovec iov[msg.msg_iovlen ? msg.msg_iovlen : 1];
		if (compat_umem_read(iov, msg.msg_iov, msg.msg_iovlen * sizeof(*iov)) < 0)
			return -1;
		return compat_send(fd, n, iov, (int)msg.msg_iovlen, flags);
	}
}

COMPAT_EXPORT ssize_t recvmsg(int fd, struct msghdr *umsg, int flags)
{
	ssize_t r = compat_real_recvmsg(fd, umsg, flags);
	int n = compat_ours(r, fd);
	struct msghdr msg;

	if (n < 0)
		return r;
	if (compat_msg_in(umsg, &msg) < 0)
		return -1;
	{
		struct iovec iov[msg.msg_iovlen ? msg.msg_iovlen : 1];
		socklen_t zero = 0;
		int mflags = 0;
		size_t nocontrol = 0;
		if (compat_umem_read(iov, msg.msg_iov, msg.msg_iovlen * sizeof(*iov)) < 0)
			return -1;
		r = compat_recv(fd, n, iov, (int)msg.msg_iovlen, flags);
		if (r < 0)
			return -1;
		/* No source address, no control messages, no flags: what Linux reports for TCP. */
		if ((msg.msg_name && compat_umem_write(&umsg->msg_namelen, &zero, sizeof(zero)) < 0) ||
		    compat_umem_write(&umsg->msg_controllen, &nocontrol, sizeof(nocontrol)) < 0 ||
		    compat_umem_write(&umsg->msg_flags, &mflags, sizeof(mflags)) < 0)
			return -1;
		return r;
	}
}

/* _FORTIFY_SOURCE turns recv/recvfrom into these when the buffer size is known. */
extern void __chk_fail(void) __attribute__((noreturn));

COMPAT_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		__chk_fail();
	return compat_do_recvfrom(fd, buf, len, flags, NULL, NULL);
}

COMPAT_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
				     struct sockaddr *addr, socklen_t *alen)
{
	if (len > buflen)
		__chk_fail();
	return compat_do_recvfrom(fd, buf, len, flags, addr, alen);
}

/* FIONREAD (SIOCINQ) must be answered by us: the kernel would answer it for any regular
 * file (size minus offset).  FIONBIO needs nothing: the kernel sets O_NONBLOCK on the open
 * file description of any fd, and the daemon honours it. */
COMPAT_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int n, count;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (req == FIONREAD && (n = compat_conv_of_fd(fd)) >= 0) {
		if (compat_inq(fd, n, &count) < 0)
			return -1;
		return compat_umem_write(arg, &count, sizeof(count));
	}
	return compat_real_ioctl(fd, req, arg);
}
