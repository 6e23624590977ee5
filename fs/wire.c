/* fs/wire.c — frames between the stack and slirp (see wire.h). */
#include "wire.h"

#include <stdlib.h>

#include "slink.h"
#include "stack.h"

#define FLUSH_PASSES 64   /* bound on one flush; the loop comes back if work is left */

static void to_slirp(struct wire *w, const uint8_t *frame, size_t len)
{
	w->in_stack = true;
	slink_input(w->link, frame, len);
	w->in_stack = false;
}

static void to_stack(struct wire *w, const uint8_t *frame, size_t len)
{
	w->in_slirp = true;
	ns_input(w->st, frame, len);
	w->in_slirp = false;
}

void wire_from_stack(void *ctx, const uint8_t *frame, size_t len)
{
	struct wire *w = ctx;

	/* inside slirp (it is delivering to us): feeding it now would re-enter it */
	if (w->in_slirp || !w->link)
		frameq_push(&w->to_slirp, frame, len);
	else
		to_slirp(w, frame, len);
}

void wire_from_slirp(void *ctx, const uint8_t *frame, size_t len)
{
	struct wire *w = ctx;

	/* inside the stack (it is sending through us), or before it exists */
	if (w->in_stack || !w->st)
		frameq_push(&w->to_stack, frame, len);
	else
		to_stack(w, frame, len);
}

void wire_flush(struct wire *w)
{
	for (int pass = 0; pass < FLUSH_PASSES && !wire_idle(w); pass++) {
		struct frame *f;

		while ((f = frameq_pop(&w->to_slirp))) {
			to_slirp(w, f->data, f->len);
			frameq_recycle(&w->to_slirp, f);
		}
		while ((f = frameq_pop(&w->to_stack))) {
			ns_input(w->st, f->data, f->len);  /* slirp is not running: answers go straight in */
			frameq_recycle(&w->to_stack, f);
		}
	}
}

bool wire_idle(const struct wire *w)
{
	return !w->to_slirp.head && !w->to_stack.head;
}

void wire_clear(struct wire *w)
{
	frameq_clear(&w->to_slirp);
	frameq_clear(&w->to_stack);
}
