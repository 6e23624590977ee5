/* clients/compat/compat.h — internals of libnetfs-compat (never installed).
 *
 * The library gives the BSD socket calls to programs whose TCP/IPv4 sockets are files of a
 * netfs mount: a socket IS an fd on <root>/tcp/N/data.  Which fds are ours is learnt from
 * fstat (the mount's st_dev and an inode that encodes N), so there is no fd table.
 *
 * Every exported socket call first asks the kernel (the real libc function); only when the
 * kernel says ENOTSOCK and the fd is one of our data files do we act.  That keeps host
 * sockets at full speed and gives the kernel's own order for the checks it makes before
 * looking at the socket (EBADF, accept4's flag EINVAL, EMFILE).
 *
 * All internal symbols start with compat_ and are hidden, so the library never calls its own
 * interposed symbols and a static link does not collide with the program's names.
 */
#ifndef CLIENTS_COMPAT_H
#define CLIENTS_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <netinet/in.h>

#define COMPAT_EXPORT __attribute__((visibility("default")))

/* ---- compat_real.c: libc's own functions (dlsym RTLD_NEXT, raw syscall if none) ---------- */
int compat_real_socket(int domain, int type, int protocol);
int compat_real_bind(int fd, const struct sockaddr *addr, socklen_t len);
int compat_real_listen(int fd, int backlog);
int compat_real_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int compat_real_connect(int fd, const struct sockaddr *addr, socklen_t len);
int compat_real_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int compat_real_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int compat_real_shutdown(int fd, int how);
int compat_real_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int compat_real_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
ssize_t compat_real_sendto(int fd, const void *buf, size_t n, int flags,
			   const struct sockaddr *addr, socklen_t len);
ssize_t compat_real_recvfrom(int fd, void *buf, size_t n, int flags,
			     struct sockaddr *addr, socklen_t *len);
ssize_t compat_real_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t compat_real_recvmsg(int fd, struct msghdr *msg, int flags);
int compat_real_ioctl(int fd, unsigned long req, void *arg);

/* ---- compat_conv.c: the mount and the conversation files ---------------------------------- */
/* N when fd is the data file of conversation N of our mount (i.e. one of our sockets),
 * else -1 (errno untouched). */
int compat_conv_of_fd(int fd);
/* Open <root>/tcp/N/<file>; O_CLOEXEC is always added. */
int compat_conv_open(int n, const char *file, int flags);
/* A new conversation; returns an fd on its data file opened with flags (the socket() path). */
int compat_conv_new(int flags);
/* Read a small text file of N into buf (NUL-terminated, trailing newline removed). */
int compat_conv_read(int n, const char *file, char *buf, size_t size);
/* Write one ctl command; 0, or -1 with the daemon's errno. */
int compat_conv_ctl(int n, bool nonblock, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct compat_status {
	char state[16];   /* Plan 9 name: Closed Listen Syn_sent Established ... */
	int error;        /* the pending socket error (SO_ERROR), 0 if none */
	long inq;         /* received bytes not yet read (FIONREAD) */
};
int compat_conv_status(int n, struct compat_status *st);
bool compat_state_is(const struct compat_status *st, const char *name);
/* Local or remote end as a sockaddr_in ("ip!port"). */
int compat_conv_addr(int n, const char *file, struct sockaddr_in *sin);
/* The O_NONBLOCK of the open file description behind fd (the socket's own flag). */
bool compat_fd_nonblock(int fd);

/* ---- compat_addr.c: addresses and user memory --------------------------------------------- */
int compat_addr_parse(const char *text, struct sockaddr_in *sin);
/* "a.b.c.d!port" into buf (size >= 32). */
void compat_addr_format(const struct sockaddr_in *sin, char *buf, size_t size);
/* Copy from/to the caller's memory without ever faulting: -1/EFAULT on a bad pointer. */
int compat_umem_read(void *dst, const void *user_src, size_t n);
int compat_umem_write(void *user_dst, const void *src, size_t n);
/* The kernel's move_addr_to_user: copy min(*ulen, klen) bytes, then store klen in *ulen. */
int compat_addr_to_user(const void *kaddr, socklen_t klen, struct sockaddr *uaddr,
			socklen_t *ulen);
/* The kernel's move_addr_to_kernel: len in [0, 128], copy it in. */
int compat_addr_from_user(struct sockaddr_storage *k, const struct sockaddr *uaddr,
			  socklen_t len);

/* ---- compat_opt.c: the little per-socket state the daemon does not keep ------------------- */
struct compat_opts {
	long rcvtimeo_ms;  /* 0 = none */
	long sndtimeo_ms;
};
void compat_opt_get(int n, struct compat_opts *o);
void compat_opt_forget(int n);  /* a new socket got number n: drop what an old one left */
/* The socket moved from conversation n to m (compat_sock.c's renewal): its options follow. */
void compat_opt_move(int n, int m);
int compat_opt_store(int n, int level, int name, const void *val, socklen_t len);
/* 1 and the value when stored, 0 when not stored. */
int compat_opt_lookup(int n, int level, int name, void *val, socklen_t *len);

/* ---- compat_wait.c: blocking, signals and timeouts ---------------------------------------- */
/* After a blocking FUSE request returned EINTR: would Linux have restarted the socket call
 * transparently (SA_RESTART, no timeout set)?  FUSE itself never restarts. */
bool compat_wait_restart(long timeout_ms);
/* poll one fd for events with a timeout in ms (-1 = none); 1 ready, 0 timed out, -1 error. */
int compat_wait_fd(int fd, short events, long timeout_ms);

/* ---- the calls, one file per family (compat_sock.c, compat_accept.c, compat_io.c,
 *      compat_sockopt.c); each takes the conversation number n of fd ------------------------- */
int compat_socket(int type);
int compat_bind(int fd, int n, const struct sockaddr *addr, socklen_t len);
int compat_listen(int fd, int n, int backlog);
int compat_connect(int fd, int n, const struct sockaddr *addr, socklen_t len);
int compat_getname(int fd, int n, bool peer, struct sockaddr *addr, socklen_t *len);
int compat_shutdown(int fd, int n, int how);
int compat_accept(int fd, int n, struct sockaddr *addr, socklen_t *len, int flags);
ssize_t compat_send(int fd, int n, const struct iovec *iov, int iovcnt, int flags);
ssize_t compat_recv(int fd, int n, const struct iovec *iov, int iovcnt, int flags);
int compat_setsockopt(int fd, int n, int level, int name, const void *val, socklen_t len);
int compat_getsockopt(int fd, int n, int level, int name, void *val, socklen_t *len);
int compat_inq(int fd, int n, int *count);
/* Send the remembered options that have a ctl command to conversation n again. */
int compat_sockopt_replay(int n);

#endif
