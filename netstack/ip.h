/* netstack/ip.h — IPv4 input/output and ICMP. */
#ifndef NETSTACK_IP_H
#define NETSTACK_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eth.h"
#include "stack_int.h"

#define IP_HLEN 20
#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_DEFAULT_TTL 64

/* Where a transport builds its outgoing packet: right after Ethernet and IP headers of the
 * scratch frame.  ip_payload_max() bytes fit. */
static inline uint8_t *ip_payload(struct ns_stack *st)
{
	return st->tx + ETH_HLEN + IP_HLEN;
}

static inline size_t ip_payload_max(const struct ns_stack *st)
{
	return st->cfg.mtu - IP_HLEN;
}

struct ip_hdr_info {
	uint32_t src, dst;
	uint8_t proto, ttl, tos;
};

/* from_loop: the packet came from our own loopback queue (127/8 is only valid there). */
void ip_input(struct ns_stack *st, const uint8_t *pkt, size_t len, bool from_loop);
/* Send the payload already written at ip_payload(st): local destinations go to the loopback
 * queue, everything else to the gateway. */
void ip_output(struct ns_stack *st, const struct ip_hdr_info *h, size_t payload_len);

#endif
