/* netstack/stack.h — the sans-IO TCP/IP stack: frames in, frames out, an injected clock.
 *
 * The stack never does I/O, never reads a clock and never calls poll(): the caller feeds
 * Ethernet frames with ns_input(), moves time with ns_advance(), and receives every frame the
 * stack emits through the output callback given at creation.  Because of that the whole stack
 * (ARP, IPv4, ICMP errors for TCP, TCP, loopback) is deterministic and testable in-process.
 *
 * Re-entrancy rule (important for the daemon and for tests):
 *   - The output callback and the socket event callbacks (see tcp.h) are called from inside
 *     ns_* and tcp_* calls.  They must NOT call any ns_* or tcp_* function; record what
 *     happened and act after the stack call returns.
 *   - Frames for our own addresses (127.0.0.0/8 and cfg.addr) never reach the output
 *     callback: the stack queues them internally and processes them before the top-level
 *     call returns (no recursion).
 *
 * All addresses and ports in this API are in host byte order.
 */
#ifndef NETSTACK_STACK_H
#define NETSTACK_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t ns_time_t;           /* milliseconds of a monotonic clock, injected */
#define NS_NEVER UINT64_MAX           /* "no timer pending" */

struct ns_config {
	uint32_t addr;          /* our IPv4 address (default 10.0.2.15) */
	uint32_t netmask;       /* 255.255.255.0 */
	uint32_t gateway;       /* 10.0.2.2: every non-local packet goes to its MAC */
	uint8_t mac[6];         /* our MAC */
	uint32_t mtu;           /* IP MTU of the link, 576..65521; MSS = mtu - 40 */
	uint32_t time_wait_ms;  /* TIME_WAIT duration; 0 = the default (see tcp.h) */
	uint64_t seed;          /* secret for ISNs (RFC 6528) and the stack's PRNG */
	/* Don't verify the checksums of incoming TCP segments: for a link whose far end lives
	 * in the same process and has just computed them (netfsd's libslirp), where no wire
	 * can corrupt a byte between its computation and our check.  Off by default, and off
	 * for any link that can lose or damage frames. */
	bool rx_csum_trusted;
};

/* Called for each frame leaving the stack (complete Ethernet frame, no FCS).  The buffer is
 * only valid during the call: copy it. */
typedef void (*ns_output_fn)(void *ctx, const uint8_t *frame, size_t len);

struct ns_stack;

struct ns_stack *ns_create(const struct ns_config *cfg, ns_output_fn out, void *ctx,
			   ns_time_t now);
/* Frees every socket (no frames are sent).  Sockets handed out become invalid. */
void ns_destroy(struct ns_stack *st);

/* A frame from the wire (any length, any content: garbage is counted and dropped). */
void ns_input(struct ns_stack *st, const uint8_t *frame, size_t len);

/* Set the clock (never goes backwards; earlier values are ignored) and run due timers. */
void ns_advance(struct ns_stack *st, ns_time_t now);
ns_time_t ns_now(const struct ns_stack *st);

/* The earliest absolute time at which ns_advance() has work to do, or NS_NEVER. */
ns_time_t ns_next_deadline(const struct ns_stack *st);

/* Plan 9 tcp/stats text: one "Name: value\n" line per counter.  Returns the length that
 * the full text needs (like snprintf); writes at most n bytes including the NUL. */
size_t ns_format_stats(const struct ns_stack *st, char *buf, size_t n);

/* Announce ourselves on the link (gratuitous ARP) so the peer learns our MAC at once. */
void ns_announce(struct ns_stack *st);

/* Parse "a.b.c.d" into host order; 0 on success, -1 on anything else. */
int ns_parse_ip(const char *s, uint32_t *out);
/* Format host-order address into buf (at least 16 bytes). Returns buf. */
char *ns_format_ip(uint32_t addr, char *buf);

#endif
