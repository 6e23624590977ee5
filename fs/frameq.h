/* fs/frameq.h — a FIFO of copied Ethernet frames (fs/wire.c queues the frames that cannot
 * be delivered at once).  Popped frames can be given back with frameq_recycle, so a busy
 * queue reuses a few buffers instead of a malloc and free per frame. */
#ifndef FS_FRAMEQ_H
#define FS_FRAMEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAMEQ_SPARES 16

struct frame {
	struct frame *next;
	size_t len, cap;
	uint8_t data[];
};

struct frameq {
	struct frame *head, *tail;
	size_t count;
	struct frame *spare;       /* popped frames kept for reuse */
	unsigned nspare;
};

/* Copy a frame in; false if out of memory (the frame is dropped, TCP retransmits). */
bool frameq_push(struct frameq *q, const uint8_t *data, size_t len);
/* The oldest frame, owned by the caller (free() it or give it back), or NULL. */
struct frame *frameq_pop(struct frameq *q);
/* Give back a popped frame for reuse (freed if enough are kept already). */
void frameq_recycle(struct frameq *q, struct frame *f);
/* Free every queued and kept frame. */
void frameq_clear(struct frameq *q);

#endif
