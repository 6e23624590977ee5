/* netstack/tcp_reass.h — bookkeeping for out-of-order data.
 *
 * The bytes themselves are stored in the receive ring past its data (tcp_buf_put_beyond), so
 * reassembly never allocates; this only remembers which sequence ranges are present.  The
 * number of separate ranges is bounded; a segment that would need one more is dropped (the
 * peer retransmits it). */
#ifndef NETSTACK_TCP_REASS_H
#define NETSTACK_TCP_REASS_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_REASS_MAX 8

struct tcp_reass {
	unsigned n;
	uint32_t start[TCP_REASS_MAX], end[TCP_REASS_MAX];   /* sorted, disjoint, not adjacent */
	bool fin;                                           /* a FIN was seen at fin_seq */
	uint32_t fin_seq;
};

/* Record [seq, seq+len).  false if it would exceed TCP_REASS_MAX ranges. */
bool tcp_reass_add(struct tcp_reass *r, uint32_t seq, uint32_t len);
/* rcv_nxt moved; returns how many more bytes are contiguous from rcv_nxt and forgets them. */
uint32_t tcp_reass_take(struct tcp_reass *r, uint32_t rcv_nxt);
void tcp_reass_clear(struct tcp_reass *r);

#endif
