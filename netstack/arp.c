/* netstack/arp.c — ARP for Ethernet/IPv4.
 *
 * Every packet that leaves the stack goes to the gateway (slirp answers ARP only for its own
 * addresses), so the cache is a single entry.  Frames wait in a bounded queue until the
 * gateway answers; the request is repeated every second while something waits. */
#include <stdlib.h>
#include <string.h>

#include "arp.h"
#include "bytes.h"
#include "eth.h"

#define ARP_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
#define ARP_QUEUE_MAX 256       /* frames waiting for the gateway; TCP retransmits the rest */
#define ARP_RETRY_MS 1000

static void arp_send(struct ns_stack *st, uint16_t op, const uint8_t *tha, uint32_t tpa)
{
	uint8_t frame[ETH_HLEN + ARP_LEN];
	uint8_t *a = frame + ETH_HLEN;

	a[0] = 0; a[1] = 1;             /* Ethernet */
	a[2] = 0x08; a[3] = 0x00;       /* IPv4 */
	a[4] = 6; a[5] = 4;
	a[6] = 0; a[7] = (uint8_t)op;
	memcpy(a + 8, st->cfg.mac, 6);
	put32(a + 14, st->cfg.addr);
	if (tha)
		memcpy(a + 18, tha, 6);
	else
		memset(a + 18, 0, 6);
	put32(a + 24, tpa);
	eth_send(st, frame, sizeof frame, op == ARP_OP_REPLY ? tha : NULL, ETH_TYPE_ARP);
}

static void arp_flush(struct ns_stack *st)
{
	struct ns_pkt *p;

	while ((p = ns_pktq_pop(&st->arp.pending))) {
		eth_send(st, p->data, p->len, st->arp.gw_mac, ETH_TYPE_IP);
		free(p);
	}
	st->arp.retry_at = NS_NEVER;
}

void arp_input(struct ns_stack *st, const uint8_t *a, size_t len)
{
	if (len < ARP_LEN || a[0] != 0 || a[1] != 1 || a[2] != 0x08 || a[3] != 0x00 ||
	    a[4] != 6 || a[5] != 4) {
		st->link.bad_frames++;
		return;
	}
	uint16_t op = (uint16_t)(a[6] << 8 | a[7]);
	uint32_t spa = get32(a + 14), tpa = get32(a + 24);

	if (spa == st->cfg.gateway) {
		memcpy(st->arp.gw_mac, a + 8, 6);
		st->arp.resolved = true;
		arp_flush(st);
	}
	if (op == ARP_OP_REQUEST && tpa == st->cfg.addr && spa != st->cfg.addr)
		arp_send(st, ARP_OP_REPLY, a + 8, spa);
}

void arp_output_ip(struct ns_stack *st, uint8_t *frame, size_t len)
{
	if (st->arp.resolved) {
		eth_send(st, frame, len, st->arp.gw_mac, ETH_TYPE_IP);
		return;
	}
	if (st->arp.pending.n >= ARP_QUEUE_MAX || !ns_pktq_push(&st->arp.pending, frame, len))
		st->link.arp_queue_drops++;
	if (st->arp.retry_at == NS_NEVER) {
		arp_send(st, ARP_OP_REQUEST, NULL, st->cfg.gateway);
		st->arp.retry_at = st->now + ARP_RETRY_MS;
	}
}

void arp_announce(struct ns_stack *st)
{
	arp_send(st, ARP_OP_REQUEST, NULL, st->cfg.addr);
	if (!st->arp.resolved)
		arp_send(st, ARP_OP_REQUEST, NULL, st->cfg.gateway);
}

ns_time_t arp_deadline(const struct ns_stack *st)
{
	return st->arp.retry_at;
}

void arp_timer(struct ns_stack *st)
{
	if (st->arp.retry_at > st->now)
		return;
	arp_send(st, ARP_OP_REQUEST, NULL, st->cfg.gateway);
	st->arp.retry_at = st->now + ARP_RETRY_MS;
}
