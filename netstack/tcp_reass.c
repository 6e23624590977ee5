/* netstack/tcp_reass.c — ranges of out-of-order data. */
#include <string.h>

#include "tcp_int.h"
#include "tcp_reass.h"

static void remove_at(struct tcp_reass *r, unsigned i)
{
	memmove(r->start + i, r->start + i + 1, (r->n - i - 1) * sizeof r->start[0]);
	memmove(r->end + i, r->end + i + 1, (r->n - i - 1) * sizeof r->end[0]);
	r->n--;
}

bool tcp_reass_add(struct tcp_reass *r, uint32_t seq, uint32_t len)
{
	uint32_t s = seq, e = seq + len;
	unsigned i = 0, j;

	if (len == 0)
		return true;
	/* Ranges [i, j) overlap or touch the new one and merge into it. */
	while (i < r->n && SEQ_LT(r->end[i], s))
		i++;
	for (j = i; j < r->n && SEQ_LEQ(r->start[j], e); j++) {
		if (SEQ_LT(r->start[j], s))
			s = r->start[j];
		if (SEQ_GT(r->end[j], e))
			e = r->end[j];
	}
	if (j == i) {
		if (r->n == TCP_REASS_MAX)
			return false;
		memmove(r->start + i + 1, r->start + i, (r->n - i) * sizeof r->start[0]);
		memmove(r->end + i + 1, r->end + i, (r->n - i) * sizeof r->end[0]);
		r->n++;
	} else {
		memmove(r->start + i + 1, r->start + j, (r->n - j) * sizeof r->start[0]);
		memmove(r->end + i + 1, r->end + j, (r->n - j) * sizeof r->end[0]);
		r->n -= j - i - 1;
	}
	r->start[i] = s;
	r->end[i] = e;
	return true;
}

uint32_t tcp_reass_take(struct tcp_reass *r, uint32_t rcv_nxt)
{
	uint32_t to = rcv_nxt;

	while (r->n && SEQ_LEQ(r->start[0], to)) {
		if (SEQ_GT(r->end[0], to))
			to = r->end[0];
		remove_at(r, 0);
	}
	return to - rcv_nxt;
}

void tcp_reass_clear(struct tcp_reass *r)
{
	r->n = 0;
	r->fin = false;
}
