/* fs/wire.h — frames between the stack and slirp, with as few copies as re-entrancy allows.
 *
 * Both sides emit frames from inside calls into them: the stack from tcp_send, ns_input or
 * a timer; slirp synchronously from slirp_input and slirp_pollfds_poll.  A frame is handed
 * to the other side at once (no copy), unless that side is the one running further up the
 * call chain: slirp answering a frame the stack is in the middle of sending, or the stack
 * answering a frame slirp is in the middle of sending.  Only those answers (mostly ACKs)
 * are copied into a queue, and wire_flush() delivers them from the loop.
 *
 * This order also keeps latency low: bytes a FUSE write puts into the stack reach slirp,
 * and the host, before the write's reply wakes the writer.
 */
#ifndef FS_WIRE_H
#define FS_WIRE_H

#include <stdbool.h>

#include "frameq.h"

struct ns_stack;
struct slink;

struct wire {
	struct ns_stack *st;
	struct slink *link;
	struct frameq to_stack, to_slirp;  /* answers that had to wait */
	bool in_stack, in_slirp;           /* a frame from that side is being delivered */
};

/* The stack's ns_output_fn and slink's slink_frame_fn; ctx is the struct wire. */
void wire_from_stack(void *ctx, const uint8_t *frame, size_t len);
void wire_from_slirp(void *ctx, const uint8_t *frame, size_t len);

/* Deliver queued frames until both queues are empty (deliveries can queue more). */
void wire_flush(struct wire *w);
bool wire_idle(const struct wire *w);
void wire_clear(struct wire *w);

#endif
