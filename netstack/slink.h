/* netstack/slink.h — the wire: in-process libslirp.
 *
 * slink.c is the only file in the project that includes <libslirp.h>.  It owns the Slirp
 * instances (shards: one per group of guest ports, so that libslirp's per-frame walk over
 * its sockets stays short; see slink.c), their timers and their host sockets; it never
 * calls poll() itself: the owner of the event loop asks for slirp's pollfds with
 * slink_fill() and hands the results back with slink_poll(), or uses the epoll calls below.
 *
 * Frames to the guest (our stack) are handed to the to_guest callback, which is invoked from
 * inside slink_input()/slink_poll() (slirp answers synchronously): the callback must only
 * copy/queue the frame, never feed it back into slirp from there.
 *
 * Addresses are host byte order; ports host order.
 */
#ifndef NETSTACK_SLINK_H
#define NETSTACK_SLINK_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct slink_config {
	uint32_t net, netmask;     /* 10.0.2.0 / 255.255.255.0 */
	uint32_t host;             /* 10.0.2.2 (host loopback alias, gateway) */
	uint32_t dns;              /* 10.0.2.3 */
	uint32_t guest;            /* 10.0.2.15: where host forwards deliver */
	uint32_t mtu;              /* if_mtu = if_mru, 68..65521 */
	uint32_t hostfwd_addr;     /* host address announced ports are bound to (127.0.0.1) */
	bool no_host_loopback;     /* disable 10.0.2.2 -> 127.0.0.1 */
};

typedef void (*slink_frame_fn)(void *ctx, const uint8_t *frame, size_t len);

struct slink;

/* NULL on failure (bad config); errno set. */
struct slink *slink_new(const struct slink_config *cfg, slink_frame_fn to_guest, void *ctx);
void slink_free(struct slink *l);

/* A frame from the guest to slirp. */
void slink_input(struct slink *l, const uint8_t *frame, size_t len);

/* Append slirp's fds to pfd[0..max) and return how many were added (-1 if max is too small).
 * *timeout_ms may be lowered (never raised); pass UINT32_MAX for "no limit". */
int slink_fill(struct slink *l, struct pollfd *pfd, int max, uint32_t *timeout_ms);
/* After poll(): pfd/n as filled by slink_fill (revents set).  error=true if poll failed.
 * Always call once per loop round: slirp runs its TCP timers here. */
void slink_poll(struct slink *l, struct pollfd *pfd, int n, bool error);

/* The same for loops with many connections: slirp's fds are kept in an epoll set of slink's
 * own, so a round costs the kernel what changed and what is ready, not every idle socket.
 * Per round: slink_prepare() (may lower *timeout_ms), sleep until slink_watch_fd() is
 * readable (POLLIN) or the timeout, then slink_dispatch() (ready: the watch fd polled
 * readable; error: the sleep failed).  Always call slink_dispatch once per round: slirp
 * runs its TCP timers there.  Use one pair or the other on a slink, not both. */
int slink_watch_fd(struct slink *l);  /* -1 with errno if the epoll set cannot be made */
void slink_prepare(struct slink *l, uint32_t *timeout_ms);
void slink_dispatch(struct slink *l, bool ready, bool error);
/* Or sleep in slink itself, on the set plus one fd of the owner's (POLLIN), with the signal
 * mask of epoll_pwait: one syscall where poll + epoll_wait would be two.  Returns -1 with
 * errno (EINTR), or which side is ready; then slink_dispatch(l, r & SLINK_SLIRP_READY, r < 0). */
#define SLINK_OWNER_READY 1
#define SLINK_SLIRP_READY 2
int slink_wait(struct slink *l, int owner_fd, uint32_t timeout_ms, const sigset_t *mask);

/* Host forward: host hostfwd_addr:host_port -> guest:guest_port.  0 or -errno
 * (-EADDRINUSE when the host port is taken). */
int slink_hostfwd_add(struct slink *l, uint16_t host_port, uint16_t guest_port);
int slink_hostfwd_remove(struct slink *l, uint16_t host_port);
/* Is host_port free at hostfwd_addr right now (a later slink_hostfwd_add would get it,
 * barring a race)?  0 or -errno (-EADDRINUSE).  Adds nothing. */
int slink_hostfwd_probe(struct slink *l, uint16_t host_port);

/* libslirp version string, for --version. */
const char *slink_version(void);

#endif
