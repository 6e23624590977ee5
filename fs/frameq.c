/* fs/frameq.c — FIFO of copied frames (see frameq.h). */
#include "frameq.h"

#include <stdlib.h>
#include <string.h>

bool frameq_push(struct frameq *q, const uint8_t *data, size_t len)
{
	struct frame *f = malloc(sizeof(*f) + len);

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

void frameq_clear(struct frameq *q)
{
	struct frame *f;

	while ((f = frameq_pop(q)))
		free(f);
}
