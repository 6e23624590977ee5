/* fs/frameq.c — FIFO of copied frames (see frameq.h). */
#include "frameq.h"

#include <stdlib.h>
#include <string.h>

/* A kept frame big enough for len, or a new one.  Most frames are ACKs of a few dozen
 * bytes or full segments of one MTU, so the first spare that fits is good enough. */
static struct frame *frame_get(struct frameq *q, size_t len)
{
	for (struct frame **pp = &q->spare; *pp; pp = &(*pp)->next) {
		struct frame *f = *pp;

		if (f->cap >= len) {
			*pp = f->next;
			q->nspare--;
			return f;
		}
	}
	struct frame *f = malloc(sizeof(*f) + len);

	if (f)
		f->cap = len;
	return f;
}

bool frameq_push(struct frameq *q, const uint8_t *data, size_t len)
{
	struct frame *f = frame_get(q, len);

	if (!f)
		return false;
	f->next = NULL;
	f->len = len;
	memcpy(f->data, data, len);
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	q->count++;
	return true;
}

struct frame *frameq_pop(struct frameq *q)
{
	struct frame *f = q->head;

	if (!f)
		return NULL;
	q->head = f->next;
	if (!q->head)
		q->tail = NULL;
	q->count--;
	return f;
}

void frameq_recycle(struct frameq *q, struct frame *f)
{
	if (q->nspare >= FRAMEQ_SPARES) {
		free(f);
		return;
	}
	f->next = q->spare;
	q->spare = f;
	q->nspare++;
}

void frameq_clear(struct frameq *q)
{
	struct frame *f;

	while ((f = frameq_pop(q)))
		free(f);
	while ((f = q->spare)) {
		q->spare = f->next;
		free(f);
	}
	q->nspare = 0;
}
