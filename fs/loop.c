/* fs/loop.c — the one event loop: FUSE requests, slirp's sockets, the stack's timers.
 *
 * Each round: deliver the frames that had to wait (wire.c) and answer what became
 * answerable (conv_service), then sleep in slink_wait() on the FUSE device and slirp's
 * epoll set (idle sockets cost nothing there) until the earliest timer (spinning briefly
 * first while work comes in quick succession),
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

/* Waking a sleeping thread is slow on a virtual machine: the idle vCPU halts, and kicking
 * it costs about as much as the rest of a 1-byte round trip (lt_files rtt: 41-47 us when the
 * loop sleeps, 27-32 us when it first looks for work for 50 us).  So while work comes in
 * quick succession (the last wait took under SPIN_US) the loop looks again without sleeping
 * for up to SPIN_US before it sleeps; an idle or sparsely used daemon sleeps at once. */
#define SPIN_US 50

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* slink_wait, spinning first if the last wait (*last_us) was short. */
static int wait_for_work(struct netfsd *d, int fuse_fd, uint32_t timeout,
			 const sigset_t *mask, uint64_t *last_us)
{
	uint64_t t0 = now_us();
	int r = 0;

	if (timeout > 0 && *last_us < SPIN_US) {
		while ((r = slink_wait(d->link, fuse_fd, 0, mask)) == 0 && now_us() - t0 < SPIN_US)
			;
	}
	if (r == 0)
		r = slink_wait(d->link, fuse_fd, timeout, mask);
	*last_us = now_us() - t0;
	return r;
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
	uint64_t last_wait_us = UINT64_MAX;

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

		int r = wait_for_work(d, fuse_fd, timeout, &waitmask, &last_wait_us);

		slink_dispatch(d->link, r > 0 && (r & SLINK_SLIRP_READY), r < 0);
		if (r > 0 && (r & SLINK_OWNER_READY))
			drain_fuse(d, &buf);
	}
	d->convs.rx = NULL;
	free(buf.mem);
	return 0;
}
