/* compat_real.c — libc's own socket functions, for every fd that is not ours.
 *
 * Looked up with dlsym(RTLD_NEXT) so that other preloaded libraries still chain, and so that
 * cancellation points and fortify checks stay libc's.  If there is no next definition (a
 * fully static program) or the lookup returns ourselves, the raw system call is used.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compat.h"

static void *compat_real_lookup(const char *name, void *self)
{
	void *p = dlsym(RTLD_NEXT, name);

	return p == self ? NULL : p;
}

/* One wrapper per call: fn is resolved once (a benign race: every thread stores the same
 * value), the syscall is the fallback. */
#define REAL(ret, name, params, args, fallback)                                           \
	ret compat_real_##name params                                                     \
	{                                                                                 \
		static ret (*fn) params;                                                  \
		static int looked;                                                        \
		if (!__atomic_load_n(&looked, __ATOMIC_ACQUIRE)) {                        \
			__atomic_store_n(&fn, compat_real_lookup(#name, (void *)name),    \
					 __ATOMIC_RELAXED);                               \
			__atomic_store_n(&looked, 1, __ATOMIC_RELEASE);                   \
		}                                                                         \
		ret (*f) params = __atomic_load_n(&fn, __ATOMIC_RELAXED);                 \
		return f ? f args : (ret)(fallback);                                      \
	}

REAL(int, socket, (int domain, int type, int protocol), (domain, type, protocol),
     syscall(SYS_socket, domain, type, protocol))
REAL(int, bind, (int fd, const struct sockaddr *addr, socklen_t len), (fd, addr, len),
     syscall(SYS_bind, fd, addr, len))
REAL(int, listen, (int fd, int backlog), (fd, backlog), syscall(SYS_listen, fd, backlog))
REAL(int, accept4, (int fd, struct sockaddr *addr, socklen_t *len, int flags),
     (fd, addr, len, flags), syscall(SYS_accept4, fd, addr, len, flags))
REAL(int, connect, (int fd, const struct sockaddr *addr, socklen_t len), (fd, addr, len),
     syscall(SYS_connect, fd, addr, len))
REAL(int, getsockname, (int fd, struct sockaddr *addr, socklen_t *len), (fd, addr, len),
     syscall(SYS_getsockname, fd, addr, len))
REAL(int, getpeername, (int fd, struct sockaddr *addr, socklen_t *len), (fd, addr, len),
     syscall(SYS_getpeername, fd, addr, len))
REAL(int, shutdown, (int fd, int how), (fd, how), syscall(SYS_shutdown, fd, how))
REAL(int, setsockopt, (int fd, int level, int name, const void *val, socklen_t len),
     (fd, level, name, val, len), syscall(SYS_setsockopt, fd, level, name, val, len))
REAL(int, getsockopt, (int fd, int level, int name, void *val, socklen_t *len),
     (fd, level, name, val, len), syscall(SYS_getsockopt, fd, level, name, val, len))
REAL(ssize_t, sendto,
     (int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr, socklen_t len),
     (fd, buf, n, flags, addr, len), syscall(SYS_sendto, fd, buf, n, flags, addr, len))
REAL(ssize_t, recvfrom,
     (int fd, void *buf, size_t n, int flags, struct sockaddr *addr, socklen_t *len),
     (fd, buf, n, flags, addr, len), syscall(SYS_recvfrom, fd, buf, n, flags, addr, len))
REAL(ssize_t, sendmsg, (int fd, const struct msghdr *msg, int flags), (fd, msg, flags),
     syscall(SYS_sendmsg, fd, msg, flags))
REAL(ssize_t, recvmsg, (int fd, struct msghdr *msg, int flags), (fd, msg, flags),
     syscall(SYS_recvmsg, fd, msg, flags))

/* ioctl is variadic in libc; every request we pass on takes one pointer-sized argument. */
int compat_real_ioctl(int fd, unsigned long req, void *arg)
{
	static int (*fn)(int, unsigned long, ...);
	static int looked;

	if (!__atomic_load_n(&looked, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&fn, compat_real_lookup("ioctl", (void *)ioctl), __ATOMIC_RELAXED);
		__atomic_store_n(&looked, 1, __ATOMIC_RELEASE);
	}
	int (*f)(int, unsigned long, ...) = __atomic_load_n(&fn, __ATOMIC_RELAXED);
	return f ? f(fd, req, arg) : (int)syscall(SYS_ioctl, fd, req, arg);
}
