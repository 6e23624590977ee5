/* tests/fuzz/wire.h — just enough Ethernet/ARP/IPv4/TCP building and patching for the
 * frame harness: it crafts the handshake that sets up its connection and repairs
 * checksums of fuzzed frames on request (so the fuzzer gets past the first check). */
#ifndef TESTS_FUZZ_WIRE_H
#define TESTS_FUZZ_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_ETH 14
#define WIRE_TCP_FRAME_MAX 1514

struct wire_tcp {
	const uint8_t *src_mac, *dst_mac;
	uint32_t src_ip, dst_ip;      /* host order */
	uint16_t src_port, dst_port;
	uint32_t seq, ack;
	uint8_t flags;                /* WIRE_SYN, ... */
	uint16_t window;
	uint16_t mss;                 /* 0: no MSS option */
	const uint8_t *payload;
	size_t payload_len;
};

#define WIRE_FIN 0x01
#define WIRE_SYN 0x02
#define WIRE_RST 0x04
#define WIRE_PSH 0x08
#define WIRE_ACK 0x10

/* Build a valid frame into buf (at least WIRE_TCP_FRAME_MAX bytes); returns its length. */
size_t wire_tcp_frame(uint8_t *buf, const struct wire_tcp *t);
/* An ARP reply "sender_ip is at sender_mac" addressed to target. Returns 42. */
size_t wire_arp_reply(uint8_t *buf, const uint8_t *sender_mac, uint32_t sender_ip,
		      const uint8_t *target_mac, uint32_t target_ip);

/* Recompute the IPv4 header checksum and the TCP/UDP/ICMP checksum of frame, as far as
 * its (possibly nonsensical) header fields allow.  Never reads or writes past len. */
void wire_fix_checksums(uint8_t *frame, size_t len);

/* 1 if frame is an IPv4 datagram whose header and TCP/UDP/ICMP checksums verify, 0 if a
 * checksum is wrong, -1 if it is not IPv4 or too short to tell. */
int wire_checksums_ok(const uint8_t *frame, size_t len);

uint16_t wire_be16(const uint8_t *p);
uint32_t wire_be32(const uint8_t *p);
void wire_put16(uint8_t *p, uint16_t v);
void wire_put32(uint8_t *p, uint32_t v);

#endif
