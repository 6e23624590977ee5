/* fs/wait.c — parked FUSE requests: FIFO queues on a conversation, and interrupts.
 *
 * A request that must wait for the network is queued on its conversation and answered
 * later from conv_service().  Its interrupt is armed while it waits, so a signal to the
 * caller answers EINTR at once (a killed caller would otherwise hang in the kernel until
 * the network moves).  Nothing is lost by an interrupt: bytes already written are reported
 * as a short write, a queued connection stays queued, a connect carries on.
 */
#include <errno.h>
#include <stdlib.h>

#include "conv_int.h"

static void queue_push(struct wait_queue *q, struct wait *w)
{
	w->queue = q;
	w->next = NULL;
	w->prev = q->tail;
	if (q->tail)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
}

static void queue_remove(struct wait *w)
{
	struct wait_queue *q = w->queue;

	if (w->prev)
		w->prev->next = w->next;
	else
		q->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		q->tail = w->prev;
	w->queue = NULL;
}

struct wait *wait_new(enum wait_kind kind, fuse_req_t req)
{
	struct wait *w = calloc(1, sizeof(*w));

	if (w) {
		w->kind = kind;
		w->req = req;
	}
	return w;
}

void wait_free(struct wait *w)
{
	if (w->mem_is_rx)
		conv_rx_put(w->conv->tab, w->mem);
	else
		free(w->mem);
	free(w);
}

/* The kernel sent FUSE_INTERRUPT for this request: its caller got a signal. */
static void wait_interrupted(fuse_req_t req, void *data)
{
	struct wait *w = data;
	struct conv *c = w->conv;

	queue_remove(w);
	if (w->kind == W_WRITE && w->done > 0)
		fuse_reply_write(req, w->done);
	else
		fuse_reply_err(req, EINTR);
	if (w->kind == W_LISTEN)
		conv_unref(c);  /* the reference a parked listen holds on its announcer */
	wait_free(w);
}

void wait_park(struct conv *c, struct wait_queue *q, struct wait *w)
{
	w->conv = c;
	queue_push(q, w);
	fuse_req_interrupt_func(w->req, wait_interrupted, w);
}

void wait_hold(struct wait *w)
{
	fuse_req_interrupt_func(w->req, NULL, NULL);
}

void wait_rearm(struct wait *w)
{
	fuse_req_interrupt_func(w->req, wait_interrupted, w);
}

void wait_done(struct wait *w)
{
	queue_remove(w);
	wait_free(w);
}
