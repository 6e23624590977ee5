/* tests/netstack/harness.h — drive the stack segment by segment with an injected clock.
 *
 * The harness plays the peer (by default 10.0.2.2 behind the gateway MAC): it crafts
 * Ethernet/IPv4/TCP frames with valid checksums, feeds them with ns_input(), captures every
 * frame the stack emits and parses them back, checking their checksums. */
#ifndef TESTS_NETSTACK_HARNESS_H
#define TESTS_NETSTACK_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "stack.h"
#include "tcp.h"

#define H_ADDR 0x0a00020fu      /* 10.0.2.15, the stack */
#define H_PEER 0x0a000202u      /* 10.0.2.2, the peer (and gateway) */
#define H_MTU 65520u

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

struct h_seg {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint16_t mss;                   /* MSS option (0: none) */
	const uint8_t *opts;            /* raw options instead of mss, when crafting */
	size_t optlen;
	const void *data;
	size_t dlen;
	uint8_t ttl;
};

struct h_frame {
	uint8_t *data;
	size_t len;
};

struct harness {
	struct ns_stack *st;
	ns_time_t now;
	struct h_frame *frames;
	size_t nframes, cap, next;
	struct ns_config cfg;
};

extern const uint8_t h_gw_mac[6];
extern const uint8_t h_our_mac[6];

/* A stack with the gateway's MAC already learnt (no ARP in the captured output). */
struct harness *h_new(void);
struct harness *h_new_cfg(const struct ns_config *cfg, int resolve_arp);
void h_free(struct harness *h);

void h_advance(struct harness *h, ns_time_t ms);
void h_inject_frame(struct harness *h, const uint8_t *frame, size_t len);
/* Build frame for seg (src/dst default to peer -> stack, ttl 64) into buf; returns length. */
size_t h_build(const struct h_seg *seg, uint8_t *buf, size_t cap);
void h_inject(struct harness *h, const struct h_seg *seg);

/* Captured frames not yet taken. */
size_t h_pending(const struct harness *h);
/* Take the next captured frame raw. */
const struct h_frame *h_take_frame(struct harness *h);
/* Take the next frame as a TCP segment (asserts Ethernet/IP/TCP validity and checksums). */
void h_take(struct harness *h, struct h_seg *out);
void h_drain(struct harness *h);

/* Take the next segment and assert its flags, seq, ack and payload length. */
#define expect_seg(h, fl, sq, ak, len) h_expect((h), (fl), (sq), (ak), (len), __FILE__, __LINE__)
struct h_seg h_expect(struct harness *h, uint8_t flags, uint32_t seq, uint32_t ack, size_t dlen,
		      const char *file, int line);
/* The same, for a segment whose sequence number is ours to pick (SYN-ACKs). */
#define expect_seg_any(h, fl, ak, len) h_expect_any((h), (fl), (ak), (len), __FILE__, __LINE__)
struct h_seg h_expect_any(struct harness *h, uint8_t flags, uint32_t ack, size_t dlen,
			  const char *file, int line);
#define expect_none(h) h_expect_none((h), __FILE__, __LINE__)
void h_expect_none(struct harness *h, const char *file, int line);

/* Event counting for sockets. */
struct h_ev {
	int count;
};
void h_event(void *user, struct tcp_sock *s);

/* Peer-side shortcuts: a segment from peer port rport to our port lport. */
void h_send(struct harness *h, uint16_t rport, uint16_t lport, uint32_t seq, uint32_t ack,
	    uint8_t flags, uint16_t wnd, const void *data, size_t dlen);

/* Full handshakes.  Passive: a listener on lport (backlog 8) accepts the peer's connection
 * from rport with ISN peer_isn; *iss gets our ISN.  The listener is returned in *lis (or
 * closed when lis is NULL: the accepted socket lives on). */
struct tcp_sock *h_passive(struct harness *h, uint16_t lport, uint16_t rport, uint32_t peer_isn,
			   uint16_t peer_mss, uint32_t *iss, struct tcp_sock **lis,
			   struct h_ev *ev);
/* Active: connect to the peer's rport; the peer answers with ISN peer_isn. */
struct tcp_sock *h_active(struct harness *h, uint16_t rport, uint32_t peer_isn, uint16_t peer_mss,
			  uint32_t *iss, struct h_ev *ev);

#endif
