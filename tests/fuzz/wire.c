/* tests/fuzz/wire.c — see wire.h. */
#include "wire.h"

#include <string.h>

uint16_t wire_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
uint32_t wire_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
void wire_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
void wire_put32(uint8_t *p, uint32_t v)
{
	wire_put16(p, (uint16_t)(v >> 16));
	wire_put16(p + 2, (uint16_t)v);
}

static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		sum += wire_be16(p);
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void wire_fix_checksums(uint8_t *f, size_t len)
{
	if (len < WIRE_ETH + 20 || wire_be16(f + 12) != 0x0800)
		return;
	uint8_t *ip = f + WIRE_ETH;
	size_t avail = len - WIRE_ETH;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > avail)
		return;
	wire_put16(ip + 10, 0);
	wire_put16(ip + 10, fold(sum_bytes(0, ip, ihl)));

	size_t total = wire_be16(ip + 2);
	if (total < ihl || total > avail)
		total = avail;
	uint8_t *l4 = ip + ihl;
	size_t l4len = total - ihl;
	size_t csum_at;
	switch (ip[9]) {
	case 6: csum_at = 16; break;
	case 17: csum_at = 6; break;
	case 1: csum_at = 2; break;
	default: return;
	}
	if (l4len < csum_at + 2)
		return;
	wire_put16(l4 + csum_at, 0);
	uint32_t sum = 0;
	if (ip[9] != 1) {  /* pseudo-header */
		sum = sum_bytes(sum, ip + 12, 8);
		sum += ip[9];
		sum += (uint32_t)l4len;
	}
	uint16_t c = fold(sum_bytes(sum, l4, l4len));
	if (ip[9] == 17 && c == 0)
		c = 0xffff;  /* 0 means "no checksum" in UDP */
	wire_put16(l4 + csum_at, c);
}

int wire_checksums_ok(const uint8_t *f, size_t len)
{
	uint8_t copy[65536 + WIRE_ETH];
	if (len < WIRE_ETH + 20 || len > sizeof copy || wire_be16(f + 12) != 0x0800)
		return -1;
	memcpy(copy, f, len);
	wire_fix_checksums(copy, len);
	size_t udp_csum = WIRE_ETH + (size_t)(f[WIRE_ETH] & 0x0f) * 4 + 6;
	if (f[WIRE_ETH + 9] == 17 && udp_csum + 2 <= len && wire_be16(f + udp_csum) == 0)
		wire_put16(copy + udp_csum, 0);  /* UDP may send no checksum */
	return memcmp(copy, f, len) == 0;
}

static void eth_header(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	wire_put16(buf + 12, type);
}

size_t wire_tcp_frame(uint8_t *buf, const struct wire_tcp *t)
{
	size_t optlen = t->mss ? 4 : 0;
	size_t plen = t->payload_len;
	if (plen > WIRE_TCP_FRAME_MAX - WIRE_ETH - 20 - 20 - optlen)
		plen = WIRE_TCP_FRAME_MAX - WIRE_ETH - 20 - 20 - optlen;
	size_t total = 20 + 20 + optlen + plen;
	eth_header(buf, t->dst_mac, t->src_mac, 0x0800);
	uint8_t *ip = buf + WIRE_ETH;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	wire_put16(ip + 2, (uint16_t)total);
	ip[8] = 64;
	ip[9] = 6;
	wire_put32(ip + 12, t->src_ip);
	wire_put32(ip + 16, t->dst_ip);
	uint8_t *tcp = ip + 20;
	memset(tcp, 0, 20 + optlen);
	wire_put16(tcp, t->src_port);
	wire_put16(tcp + 2, t->dst_port);
	wire_put32(tcp + 4, t->seq);
	wire_put32(tcp + 8, t->ack);
	tcp[12] = (uint8_t)((20 + optlen) / 4 << 4);
	tcp[13] = t->flags;
	wire_put16(tcp + 14, t->window);
	if (t->mss) {
		tcp[20] = 2;
		tcp[21] = 4;
		wire_put16(tcp + 22, t->mss);
	}
	if (plen)
		memcpy(tcp + 20 + optlen, t->payload, plen);
	size_t len = WIRE_ETH + total;
	wire_fix_checksums(buf, len);
	return len;
}

size_t wire_arp_reply(uint8_t *buf, const uint8_t *sender_mac, uint32_t sender_ip,
		      const uint8_t *target_mac, uint32_t target_ip)
{
	eth_header(buf, target_mac, sender_mac, 0x0806);
	uint8_t *a = buf + WIRE_ETH;
	wire_put16(a, 1);       /* Ethernet */
	wire_put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	wire_put16(a + 6, 2);   /* reply */
	memcpy(a + 8, sender_mac, 6);
	wire_put32(a + 14, sender_ip);
	memcpy(a + 18, target_mac, 6);
	wire_put32(a + 24, target_ip);
	return WIRE_ETH + 28;
}
