/* tests/fuzz/fuzz_frames.c — fuzz target: arbitrary frames into a stack that has a listener
 * on port 80 and an established connection 10.0.2.2:40000 -> 10.0.2.15:80 (made with a
 * crafted handshake), plus a loopback connection.
 *
 * Input: records until the data runs out, each
 *   u8 op, u8 tick, u16 len (big endian), len bytes of an Ethernet frame (cut at the end)
 * op bits patch the frame before ns_input so the fuzzer reaches deep states:
 *   0x04 CONN  addresses (and TCP ports) of the established connection
 *   0x02 REL   TCP seq is an offset from the next byte the stack expects, ack an offset
 *              from the highest ACK fed so far (0: a duplicate ACK); ack 0xffffffff
 *              acknowledges everything the stack has sent
 *   0x08 LEN   IPv4 total length = frame length - 14
 *   0x01 CSUM  repair the IPv4 and TCP/UDP/ICMP checksums (applied last)
 * then the clock moves by (tick & 15) << (tick >> 4) ms (0 .. ~8 min), and op bits ask the
 * application to act: 0x10 send, 0x20 receive/accept, 0x40 shutdown/close/abort (by tick),
 * 0x80 set an option (by tick).
 *
 * Oracle besides the sanitizers: every frame the stack emits comes from our MAC, and every
 * IPv4 frame from 10.0.2.15 with correct checksums and a length that matches the frame
 * (or is padded to the 60-byte Ethernet minimum); after ns_advance(t) no timer is due at
 * or before t any more (else an event loop would spin).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "stack.h"
#include "tcp.h"
#include "wire.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define STACK_IP IP4(10, 0, 2, 15)
#define GATEWAY_IP IP4(10, 0, 2, 2)
#define PEER_PORT 40000
#define LISTEN_PORT 80
#define PEER_ISN 1000u
#define MTU 1500
#define MAX_ACCEPTED 8

enum { OP_CSUM = 0x01, OP_REL = 0x02, OP_CONN = 0x04, OP_LEN = 0x08,
       OP_SEND = 0x10, OP_RECV = 0x20, OP_CLOSE = 0x40, OP_OPT = 0x80 };

static const uint8_t stack_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t gateway_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };

static struct harness {
	struct ns_stack *st;
	ns_time_t now;
	struct tcp_sock *listener, *conn, *lo_client;
	struct tcp_sock *accepted[MAX_ACCEPTED];
	size_t n_accepted;
	bool arp_for_gateway;     /* the stack asked who-has 10.0.2.2 */
	bool conn_seen;           /* it sent a segment on the connection's 4-tuple */
	uint32_t stack_nxt;       /* highest sequence number it sent there */
	uint32_t stack_ack;       /* the last ACK it sent there: the next byte it wants */
	uint32_t peer_una;        /* the highest ACK fed to it there (its snd_una, roughly) */
} h;

static void bad_output(const char *why, const uint8_t *f, size_t len)
{
	fprintf(stderr, "fuzz_frames: the stack emitted a bad frame (%s), %zu bytes:", why, len);
	for (size_t i = 0; i < len && i < 64; i++)
		fprintf(stderr, " %02x", f[i]);
	fputc('\n', stderr);
	abort();
}

static void track_connection(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + WIRE_ETH;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4, total = wire_be16(ip + 2);
	if (ip[9] != 6 || total < ihl + 20)
		return;
	const uint8_t *tcp = ip + ihl;
	size_t doff = (size_t)(tcp[12] >> 4) * 4;
	if (WIRE_ETH + ihl + 20 > len || wire_be32(ip + 16) != GATEWAY_IP ||
	    wire_be16(tcp) != LISTEN_PORT || wire_be16(tcp + 2) != PEER_PORT || total < ihl + doff)
		return;
	uint8_t flags = tcp[13];
	uint32_t end = wire_be32(tcp + 4) + (uint32_t)(total - ihl - doff) +
		       !!(flags & WIRE_SYN) + !!(flags & WIRE_FIN);
	if (!h.conn_seen || (int32_t)(end - h.stack_nxt) > 0)
		h.stack_nxt = end;
	if (flags & WIRE_ACK)
		h.stack_ack = wire_be32(tcp + 8);
	h.conn_seen = true;
}

static void stack_output(void *ctx, const uint8_t *f, size_t len)
{
	(void)ctx;
	if (len < WIRE_ETH || memcmp(f + 6, stack_mac, 6) != 0)
		bad_output("not from our MAC", f, len);
	if (len > WIRE_ETH + MTU)
		bad_output("longer than the MTU", f, len);
	uint16_t type = wire_be16(f + 12);
	if (type == 0x0806 && len >= WIRE_ETH + 28 && wire_be16(f + WIRE_ETH + 6) == 1 &&
	    wire_be32(f + WIRE_ETH + 24) == GATEWAY_IP)
		h.arp_for_gateway = true;
	if (type != 0x0800)
		return;
	if (wire_checksums_ok(f, len) != 1)
		bad_output("bad checksum or truncated IPv4", f, len);
	size_t total = wire_be16(f + WIRE_ETH + 2);
	bool padded = len == 60 && total < 60 - WIRE_ETH;  /* Ethernet minimum frame */
	if (total != len - WIRE_ETH && !padded)
		bad_output("IPv4 total length does not match the frame", f, len);
	if (wire_be32(f + WIRE_ETH + 12) != STACK_IP)
		bad_output("IPv4 source is not 10.0.2.15", f, len);
	track_connection(f, len);
}

static void on_event(void *user, struct tcp_sock *s)
{
	(void)user;
	(void)s;  /* the harness acts when the input says so, not on events */
}

/* Answer the stack's ARP for the gateway, as slirp would. */
static void settle(void)
{
	uint8_t frame[64];
	for (int i = 0; i < 4 && h.arp_for_gateway; i++) {
		h.arp_for_gateway = false;
		size_t n = wire_arp_reply(frame, gateway_mac, GATEWAY_IP, stack_mac, STACK_IP);
		ns_input(h.st, frame, n);
	}
}

static void advance(ns_time_t ms)
{
	h.now += ms;
	ns_advance(h.st, h.now);
	ns_time_t next = ns_next_deadline(h.st);
	if (next != NS_NEVER && next <= h.now) {
		fprintf(stderr, "fuzz_frames: after ns_advance(%llu) a timer is still due at %llu\n",
			(unsigned long long)h.now, (unsigned long long)next);
		abort();
	}
	settle();
}

static void feed(const uint8_t *f, size_t len)
{
	ns_input(h.st, f, len);
	settle();
}

static void feed_peer_segment(uint32_t seq, uint32_t ack, uint8_t flags, uint16_t mss)
{
	uint8_t frame[WIRE_TCP_FRAME_MAX];
	struct wire_tcp t = {
		.src_mac = gateway_mac, .dst_mac = stack_mac, .src_ip = GATEWAY_IP,
		.dst_ip = STACK_IP, .src_port = PEER_PORT, .dst_port = LISTEN_PORT,
		.seq = seq, .ack = ack, .flags = flags, .window = 65535, .mss = mss,
	};
	feed(frame, wire_tcp_frame(frame, &t));
}

static void setup_failed(const char *why)
{
	fprintf(stderr, "fuzz_frames: setup failed: %s\n", why);
	abort();
}

static void keep_accepted(struct tcp_sock *s)
{
	tcp_set_user(s, on_event, NULL);
	if (h.n_accepted < MAX_ACCEPTED)
		h.accepted[h.n_accepted++] = s;
	else
		tcp_close(s);
}

static void setup(void)
{
	uint8_t frame[64];
	struct ns_config cfg = {
		.addr = STACK_IP, .netmask = IP4(255, 255, 255, 0), .gateway = GATEWAY_IP,
		.mtu = MTU, .seed = 0x5eed,
	};
	memcpy(cfg.mac, stack_mac, 6);
	memset(&h, 0, sizeof h);
	h.now = 1000000;
	h.st = ns_create(&cfg, stack_output, NULL, h.now);
	if (!h.st)
		setup_failed("ns_create");
	feed(frame, wire_arp_reply(frame, gateway_mac, GATEWAY_IP, stack_mac, STACK_IP));

	h.listener = tcp_open(h.st, on_event, NULL);
	if (!h.listener || tcp_bind(h.listener, 0, LISTEN_PORT) < 0 || tcp_listen(h.listener, 8) < 0)
		setup_failed("listen on port 80");
	feed_peer_segment(PEER_ISN, 0, WIRE_SYN, 1460);
	if (!h.conn_seen || h.stack_ack != PEER_ISN + 1)
		setup_failed("no SYN-ACK for the crafted SYN");
	h.peer_una = h.stack_nxt;
	feed_peer_segment(PEER_ISN + 1, h.peer_una, WIRE_ACK, 0);
	h.conn = tcp_accept(h.listener);
	if (!h.conn)
		setup_failed("the crafted handshake left nothing to accept");
	tcp_set_user(h.conn, on_event, NULL);

	h.lo_client = tcp_open(h.st, on_event, NULL);
	if (h.lo_client && tcp_connect(h.lo_client, IP4(127, 0, 0, 1), LISTEN_PORT) == 0) {
		struct tcp_sock *s = tcp_accept(h.listener);
		if (s)
			keep_accepted(s);
	}
}

static void teardown(void)
{
	for (size_t i = 0; i < h.n_accepted; i++)
		tcp_close(h.accepted[i]);
	if (h.conn)
		tcp_close(h.conn);
	if (h.lo_client)
		tcp_close(h.lo_client);
	if (h.listener)
		tcp_close(h.listener);
	/* Let closing connections run their timers out before the stack goes away. */
	for (int i = 0; i < 4; i++)
		advance(120000);
	ns_destroy(h.st);
}

static void patch(uint8_t *f, size_t len, uint8_t op)
{
	uint8_t *ip = f + WIRE_ETH;
	size_t ihl = len >= WIRE_ETH + 20 ? (size_t)(ip[0] & 0x0f) * 4 : 0;
	bool tcp = ihl >= 20 && ip[9] == 6 && len >= WIRE_ETH + ihl + 20;
	if ((op & OP_CONN) && len >= WIRE_ETH) {
		memcpy(f, stack_mac, 6);
		memcpy(f + 6, gateway_mac, 6);
		if (ihl) {
			wire_put32(ip + 12, GATEWAY_IP);
			wire_put32(ip + 16, STACK_IP);
		}
		if (tcp) {
			wire_put16(ip + ihl, PEER_PORT);
			wire_put16(ip + ihl + 2, LISTEN_PORT);
		}
	}
	if ((op & OP_REL) && tcp) {
		uint8_t *t = ip + ihl;
		uint32_t ack = wire_be32(t + 8);
		ack = ack == 0xffffffff ? h.stack_nxt : h.peer_una + ack;
		if ((int32_t)(ack - h.peer_una) > 0 && (int32_t)(ack - h.stack_nxt) <= 0)
			h.peer_una = ack;
		wire_put32(t + 4, h.stack_ack + wire_be32(t + 4));
		wire_put32(t + 8, ack);
	}
	if ((op & OP_LEN) && len >= WIRE_ETH + 4 && len - WIRE_ETH <= 0xffff)
		wire_put16(ip + 2, (uint16_t)(len - WIRE_ETH));
	if (op & OP_CSUM)
		wire_fix_checksums(f, len);
}

static void drain(struct tcp_sock *s)
{
	uint8_t buf[4096];
	if (s)
		while (tcp_recv(s, buf, sizeof buf, 0) > 0)
			;
}

static void app(uint8_t op, uint8_t tick)
{
	static const uint8_t junk[4096] = { 'x' };
	if (op & OP_SEND) {
		size_t n = 1 + (size_t)tick * 97 % sizeof junk;
		if (h.conn)
			tcp_send(h.conn, junk, n);
		if (h.lo_client)
			tcp_send(h.lo_client, junk, n);
	}
	if (op & OP_RECV) {
		drain(h.conn);
		drain(h.lo_client);
		for (size_t i = 0; i < h.n_accepted; i++)
			drain(h.accepted[i]);
		struct tcp_sock *s;
		while (h.listener && (s = tcp_accept(h.listener)))
			keep_accepted(s);
	}
	if ((op & OP_CLOSE) && h.conn) {
		switch (tick & 3) {
		case 0: tcp_shutdown(h.conn, SHUT_WR); break;
		case 1: tcp_close(h.conn); h.conn = NULL; break;
		case 2: tcp_abort(h.conn); break;
		case 3:
			if (h.listener)
				tcp_close(h.listener);
			h.listener = NULL;
			break;
		}
	}
	if ((op & OP_OPT) && h.conn)
		tcp_setopt(h.conn, (enum tcp_opt)(tick % 6), (long)tick * 1000);
	settle();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[65536];
	setup();
	while (size >= 4) {
		uint8_t op = data[0], tick = data[1];
		size_t len = wire_be16(data + 2);
		data += 4;
		size -= 4;
		if (len > size)
			len = size;
		memcpy(frame, data, len);
		data += len;
		size -= len;
		patch(frame, len, op);
		feed(frame, len);
		ns_time_t ms = (ns_time_t)(tick & 15) << (tick >> 4);
		if (ms)
			advance(ms);
		app(op, tick);
	}
	teardown();
	return 0;
}
