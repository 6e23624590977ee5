/* netstack/eth.c — Ethernet framing: dispatch by ethertype, fill headers on the way out. */
#include <string.h>

#include "arp.h"
#include "eth.h"
#include "ip.h"

static const uint8_t eth_broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void eth_input(struct ns_stack *st, const uint8_t *frame, size_t len)
{
	st->link.in_frames++;
	/* Runt frames are fine (slirp 4.7 sends 42-byte ARP requests); anything shorter than
	 * a header is garbage. */
	if (len < ETH_HLEN) {
		st->link.bad_frames++;
		return;
	}
	if (memcmp(frame, st->cfg.mac, 6) != 0 && memcmp(frame, eth_broadcast, 6) != 0) {
		st->link.bad_frames++;
		return;
	}
	uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);
	switch (type) {
	case ETH_TYPE_ARP:
		arp_input(st, frame + ETH_HLEN, len - ETH_HLEN);
		break;
	case ETH_TYPE_IP:
		ip_input(st, frame + ETH_HLEN, len - ETH_HLEN, false);
		break;
	default:
		st->link.bad_frames++;
		break;
	}
}

void eth_send(struct ns_stack *st, uint8_t *frame, size_t len, const uint8_t *dst, uint16_t type)
{
	memcpy(frame, dst ? dst : eth_broadcast, 6);
	memcpy(frame + 6, st->cfg.mac, 6);
	frame[12] = (uint8_t)(type >> 8);
	frame[13] = (uint8_t)type;
	st->link.out_frames++;
	st->out(st->out_ctx, frame, len);
}
