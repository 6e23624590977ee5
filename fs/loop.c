/* fs/loop.c — the one event loop: FUSE requests, slirp's sockets, the stack's timers.
 *
 * Each round: deliver the frames that had to wait (wire.c) and answer what became
 * answerable (conv_service), then sleep in slink_wait() on the FUSE device and slirp's
 * epoll set (idle sockets cost nothing there) until the earliest timer,
 * then let slirp run (slink_dispatch: its ready sockets and due TCP timers; frames it sends
 * go straight into the stack) and drain the FUSE device.
 * Signals are blocked except inside that sleep (epoll_pwait), so a SIGTERM is never lost
 * between a check and the sleep.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "slink.h"
#include "stack.h"

#define PUMP_PASSES 64

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Block the stop signals (they are taken only inside the sleep); *old gets the mask to use there. */
static void catch_stop_signals(sigset_t *old)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, old);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(old, sigs[i]);
}

/* Deliver the frames that had to wait and answer parked requests until neither has
 * anything left: answering can send (ACKs, window updates) and frames can make requests
 * answerable, hence the loop.  Returns true if work is left (bounded passes), so the next
 * poll must not sleep. */
static bool pump(struct netfsd *d)
{
	for (int pass = 0; pass < PUMP_PASSES; pass++) {
		wire_flush(&d->wire);
		bool more = conv_service(&d->convs);

		if (!more && wire_idle(&d->wire))
			return false;
	}
	return true;
}

/* Handle every request the kernel has for us now. */
static void drain_fuse(struct netfsd *d, struct fuse_buf *buf)
{
	for (;;) {
		int r = fuse_session_receive_buf(d->se, buf);

		if (r == -EAGAIN || r == -EINTR)
			return;
		if (r <= 0) {
			fuse_session_exit(d->se);  /* unmounted (0) or a device error */
			return;
		}
		fuse_session_process_buf(d->se, buf);  /* a parked write may take buf->mem */
	}
}

static uint32_t timeout_until(uint64_t deadline, uint64_t now)
{
	if (deadline == NS_NEVER)
		return UINT32_MAX;
	if (deadline <= now)
		return 0;
	return deadline - now > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)(deadline - now);
}

int loop_run(struct netfsd *d)
{
	struct fuse_buf buf = {.mem = NULL};
	int fuse_fd = fuse_session_fd(d->se);
	sigset_t waitmask;

	if (slink_watch_fd(d->link) < 0) {
		perror("netfsd: epoll");
		return -1;
	}
	catch_stop_signals(&waitmask);
	d->convs.rx = &buf;
	while (!stop_signal && !fuse_session_exited(d->se)) {
		uint64_t now = loop_now_ms();
		bool busy;

		ns_advance(d->st, now);
		busy = pump(d);

		uint32_t timeout = busy ? 0 : timeout_until(ns_next_deadline(d->st), now);

		slink_prepare(d->link, &timeout);

		int r = slink_wait(d->link, fuse_fd, timeout, &waitmask);

		slink_dispatch(d->link, r > 0 && (r & SLINK_SLIRP_READY), r < 0);
		if (r > 0 && (r & SLINK_OWNER_READY))
			drain_fuse(d, &buf);
	}
	d->convs.rx = NULL;
	free(buf.mem);
	return 0;
}
