/* compat_wait.c — blocking, signals and timeouts.
 *
 * A blocking FUSE request hit by a signal returns EINTR, whatever the handler's SA_RESTART:
 * the kernel never restarts it.  Linux restarts accept/connect/recv/send after a handler
 * installed with SA_RESTART (signal(7)) unless the socket has a timeout.  We cannot know
 * which signal interrupted us, so we restart only when no caught signal lacks SA_RESTART:
 * a program that installs a handler without SA_RESTART must handle EINTR anyway, and one
 * whose every handler has SA_RESTART never sees EINTR, as on Linux.  Handlers of the
 * signals that the kernel raises for a fault of the thread itself (SIGSEGV, SIGBUS, ...:
 * crash reporters, sanitizers) are not counted: they do not interrupt a blocked call.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>

#include "compat.h"

static bool compat_wait_synchronous(int sig)
{
	switch (sig) {
	case SIGKILL: case SIGSTOP:  /* no handlers */
	case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP: case SIGSYS:
		return true;
	default:
		return false;
	}
}

bool compat_wait_restart(long timeout_ms)
{
	if (timeout_ms > 0)
		return false;
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;
		if (compat_wait_synchronous(sig) || sigaction(sig, NULL, &sa) < 0)
			continue;
		if (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN &&
		    !(sa.sa_flags & SA_RESTART))
			return false;
	}
	return true;
}

static long compat_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int compat_wait_fd(int fd, short events, long timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	long deadline = timeout_ms < 0 ? 0 : compat_now_ms() + timeout_ms;

	for (;;) {
		long left = timeout_ms < 0 ? -1 : deadline - compat_now_ms();
		int r;
		if (timeout_ms >= 0 && left < 0)
			left = 0;
		r = poll(&p, 1, (int)left);
		if (r >= 0)
			return r;
		if (errno != EINTR || !compat_wait_restart(timeout_ms))
			return -1;
	}
}
