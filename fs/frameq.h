/* fs/frameq.h — a FIFO of Ethernet frames between the stack and slirp.
 *
 * Both sides emit frames from inside calls into them (slirp answers synchronously from
 * slirp_input, the stack from tcp_send/ns_input), so neither may be fed from its own
 * callback: frames are copied into a queue and pumped by the loop afterwards.
 */
#ifndef FS_FRAMEQ_H
#define FS_FRAMEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct frame {
	struct frame *next;
	size_t len;
	uint8_t data[];
};

struct frameq {
	struct frame *head, *tail;
	size_t count;
};

/* Copy a frame in; false if out of memory (the frame is dropped, TCP retransmits). */
bool frameq_push(struct frameq *q, const uint8_t *data, size_t len);
/* The oldest frame, owned by the caller (free() it), or NULL. */
struct frame *frameq_pop(struct frameq *q);
void frameq_clear(struct frameq *q);

#endif
