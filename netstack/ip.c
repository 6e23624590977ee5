/* netstack/ip.c — IPv4: header validation, local delivery, loopback, ICMP echo and errors. */
#include <string.h>

#include "arp.h"
#include "bytes.h"
#include "csum.h"
#include "ip.h"
#include "tcp_int.h"

#define ICMP_ECHO_REPLY 0
#define ICMP_UNREACH 3
#define ICMP_ECHO 8
#define IP_FLAG_MF 0x2000
#define IP_OFFMASK 0x1fff

static void icmp_echo(struct ns_stack *st, const struct ip_hdr_info *in, const uint8_t *msg,
		      size_t len)
{
	if (len > ip_payload_max(st))
		return;
	uint8_t *out = ip_payload(st);
	memcpy(out, msg, len);
	out[0] = ICMP_ECHO_REPLY;
	out[2] = out[3] = 0;
	uint16_t c = csum_finish(csum_add(0, out, len));
	memcpy(out + 2, &c, 2);
	struct ip_hdr_info h = { .src = in->dst, .dst = in->src, .proto = IP_PROTO_ICMP,
				 .ttl = IP_DEFAULT_TTL };
	ip_output(st, &h, len);
}

static void icmp_input(struct ns_stack *st, const struct ip_hdr_info *h, const uint8_t *msg,
		       size_t len)
{
	st->link.icmp_in++;
	if (len < 8 || csum_finish(csum_add(0, msg, len)) != 0) {
		st->link.ip_drops++;
		return;
	}
	if (msg[0] == ICMP_ECHO && msg[1] == 0) {
		icmp_echo(st, h, msg, len);
		return;
	}
	if (msg[0] != ICMP_UNREACH)
		return;
	/* The quoted datagram: its IP header and at least 8 bytes of TCP header. */
	const uint8_t *q = msg + 8;
	size_t qlen = len - 8;
	if (qlen < IP_HLEN || (q[0] >> 4) != 4)
		return;
	size_t qhl = (size_t)(q[0] & 0xf) * 4;
	if (qhl < IP_HLEN || qlen < qhl + 8 || q[9] != IP_PROTO_TCP)
		return;
	tcp_icmp_unreach(st, msg[1], get32(q + 12), get32(q + 16), q + qhl);
}

void ip_input(struct ns_stack *st, const uint8_t *pkt, size_t len, bool from_loop)
{
	if (len < IP_HLEN || (pkt[0] >> 4) != 4) {
		st->link.ip_drops++;
		return;
	}
	size_t hl = (size_t)(pkt[0] & 0xf) * 4;
	size_t tot = get16(pkt + 2);
	if (hl < IP_HLEN || hl > len || tot < hl || tot > len) {
		st->link.ip_drops++;
		return;
	}
	if (csum_finish(csum_add(0, pkt, hl)) != 0) {
		st->link.ip_drops++;
		return;
	}
	/* Our MTU is as large as the link's, so fragments only come from misbehaving peers. */
	if (get16(pkt + 6) & (IP_FLAG_MF | IP_OFFMASK)) {
		st->link.ip_drops++;
		return;
	}
	struct ip_hdr_info h = {
		.src = get32(pkt + 12), .dst = get32(pkt + 16),
		.proto = pkt[9], .ttl = pkt[8], .tos = pkt[1],
	};
	bool ours = h.dst == st->cfg.addr || (from_loop && ns_is_loopback(h.dst));
	if (!ours || (!from_loop && ns_is_loopback(h.src))) {
		st->link.ip_drops++;
		return;
	}
	/* Ethernet may pad short frames: the IP total length is the truth. */
	const uint8_t *payload = pkt + hl;
	size_t plen = tot - hl;
	switch (h.proto) {
	case IP_PROTO_TCP:
		tcp_input(st, &h, payload, plen);
		break;
	case IP_PROTO_ICMP:
		icmp_input(st, &h, payload, plen);
		break;
	default:
		st->link.ip_drops++;
		break;
	}
}

void ip_output(struct ns_stack *st, const struct ip_hdr_info *h, size_t payload_len)
{
	uint8_t *ip = st->tx + ETH_HLEN;
	size_t tot = IP_HLEN + payload_len;

	ip[0] = 0x45;
	ip[1] = h->tos;
	put16(ip + 2, (uint16_t)tot);
	put16(ip + 4, st->ip_id++);
	put16(ip + 6, 0x4000);          /* DF: we never fragment */
	ip[8] = h->ttl ? h->ttl : IP_DEFAULT_TTL;
	ip[9] = h->proto;
	ip[10] = ip[11] = 0;
	put32(ip + 12, h->src);
	put32(ip + 16, h->dst);
	uint16_t c = csum_finish(csum_add(0, ip, IP_HLEN));
	memcpy(ip + 10, &c, 2);

	if (ns_is_local(st, h->dst)) {
		if (!ns_pktq_push(&st->loopq, ip, tot))
			st->link.ip_drops++;
		return;
	}
	arp_output_ip(st, st->tx, ETH_HLEN + tot);
}
