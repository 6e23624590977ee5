/* compat_accept.c — accept(2)/accept4(2) over <root>/tcp/N/listen.
 *
 * The kernel has already checked, in its own order, what it checks before looking at the
 * socket: EBADF, accept4's flags (EINVAL), a free descriptor (EMFILE).  What is left follows
 * inet_csk_accept and move_addr_to_user:
 *   not announced -> EINVAL (the daemon's answer to opening listen);
 *   queue empty and the listener O_NONBLOCK -> EAGAIN;  blocking -> wait, EINTR / restart;
 *   then the peer address, whose faults (EFAULT, EINVAL for a negative length) drop the
 *   connection that was taken, as Linux does.
 * Descriptors are reserved before a connection is taken, so EMFILE never loses one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "compat.h"

/* Open N/listen: takes the oldest established connection.  The daemon answers EAGAIN at
 * once for O_NONBLOCK; SO_RCVTIMEO is a bounded wait for POLLIN and a non-blocking take. */
static int compat_take(int fd, int n, bool nonblock, long timeout_ms)
{
	for (;;) {
		int l;
		if (timeout_ms > 0 && !nonblock) {
			int r = compat_wait_fd(fd, POLLIN, timeout_ms);
			if (r < 0)
				return -1;
			if (r == 0) {
				errno = EAGAIN;
				return -1;
			}
		}
		l = compat_conv_open(n, "listen", O_RDWR |
				     (nonblock || timeout_ms > 0 ? O_NONBLOCK : 0));
		if (l >= 0)
			return l;
		/* Someone else took the connection that made us ready: wait again. */
		if (errno == EAGAIN && timeout_ms > 0 && !nonblock)
			continue;
		if (errno == EINTR && !nonblock && compat_wait_restart(timeout_ms))
			continue;
		return -1;
	}
}

static int compat_ctl_number(int fd)
{
	char buf[32];
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);

	if (r <= 0) {
		errno = ECONNABORTED;
		return -1;
	}
	buf[r] = '\0';
	return atoi(buf);
}

int compat_accept(int fd, int n, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct compat_opts opts;
	struct sockaddr_in peer;
	int slot, l, m, data, e;

	compat_opt_get(n, &opts);
	/* The slot we will return: the lowest free descriptor, as the kernel's. */
	slot = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (slot < 0)
		return -1;
	l = compat_take(fd, n, compat_fd_nonblock(fd), opts.rcvtimeo_ms);
	if (l < 0)
		goto fail_slot;
	m = compat_ctl_number(l);
	/* The slot now holds M's ctl, which keeps M alive while its data file is opened. */
	if (m < 0 || dup3(l, slot, O_CLOEXEC) < 0) {
		e = errno;
		close(l);
		errno = e;
		goto fail_slot;
	}
	close(l);
	compat_opt_forget(m);
	data = compat_conv_open(m, "data", O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0));
	if (data < 0)
		goto fail_slot;
	if (dup3(data, slot, flags & SOCK_CLOEXEC ? O_CLOEXEC : 0) < 0) {
		e = errno;
		close(data);
		errno = e;
		goto fail_slot;
	}
	close(data);
	if (addr) {
		if (compat_conv_addr(m, "remote", &peer) < 0) {
			errno = ECONNABORTED;
			goto fail_slot;
		}
		if (compat_addr_to_user(&peer, sizeof(peer), addr, len) < 0)
			goto fail_slot;
	}
	return slot;
fail_slot:
	e = errno;
	close(slot);
	errno = e;
	return -1;
}
