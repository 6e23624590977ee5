/* tests/netstack/test_data.c — the data path: receive, send, flow control, reassembly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

#define LPORT 80
#define RPORT 40000
#define PISN 1000000u

static uint8_t pattern[300000];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i * 7 + i / 251);
	return 0;
}

/* One segment in: delayed ACK after 40 ms; the data reads back. */
static void receive_delayed_ack(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK | F_PSH, 65535, "hello", 5);
	expect_none(h);
	assert_true(ev.count > 0);
	assert_true(tcp_poll(s) & TCP_EV_IN);
	assert_int_equal(tcp_recv_available(s), 5);
	assert_int_equal(ns_next_deadline(h->st), h->now + 40);
	h_advance(h, 39);
	expect_none(h);
	h_advance(h, 1);
	struct h_seg a = expect_seg(h, F_ACK, iss + 1, PISN + 6, 0);
	assert_int_equal(a.wnd, 65535 - 5);      /* right edge kept: 1 byte is no update */
	char buf[16];
	assert_int_equal(tcp_recv(s, buf, 3, TCP_RECV_PEEK), 3);
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), -EAGAIN);
	expect_none(h);         /* window barely moved: no update */
	tcp_close(s);
	h_free(h);
}

/* Every second segment is ACKed at once. */
static void receive_ack_every_second_segment(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 65535, pattern, 1000);
	expect_none(h);
	h_send(h, RPORT, LPORT, PISN + 1001, iss + 1, F_ACK, 65535, pattern + 1000, 1000);
	struct h_seg a = expect_seg(h, F_ACK, iss + 1, PISN + 2001, 0);
	assert_int_equal(a.wnd, 65535 - 2000);
	expect_none(h);
	h_advance(h, 100);
	expect_none(h);         /* no leftover delayed ACK */
	uint8_t buf[4000];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 2000);
	assert_memory_equal(buf, pattern, 2000);
	tcp_close(s);
	h_free(h);
}

/* Send: segments of the peer's MSS; Nagle holds the tail while data is unacknowledged. */
static void send_mss_and_nagle(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1000, &iss, NULL, &ev);
	assert_int_equal(tcp_send(s, pattern, 2500), 2500);
	struct h_seg a = expect_seg(h, F_ACK, iss + 1, PISN + 1, 1000);
	assert_memory_equal(a.data, pattern, 1000);
	struct h_seg b = expect_seg(h, F_ACK, iss + 1001, PISN + 1, 1000);
	assert_memory_equal(b.data, pattern + 1000, 1000);
	expect_none(h);         /* 500 bytes wait for an ACK (Nagle) */
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2001, F_ACK, 65535, NULL, 0);
	struct h_seg c = expect_seg(h, F_ACK | F_PSH, iss + 2001, PISN + 1, 500);
	assert_memory_equal(c.data, pattern + 2000, 500);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2501, F_ACK, 65535, NULL, 0);
	expect_none(h);
	assert_int_equal(tcp_send_space(s), 256 * 1024);
	tcp_close(s);
	h_free(h);
}

static void send_nodelay(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1000, &iss, NULL, &ev);
	assert_int_equal(tcp_setopt(s, TCP_OPT_NODELAY, 1), 0);
	assert_int_equal(tcp_getopt(s, TCP_OPT_NODELAY), 1);
	assert_int_equal(tcp_send(s, "a", 1), 1);
	expect_seg(h, F_ACK | F_PSH, iss + 1, PISN + 1, 1);
	assert_int_equal(tcp_send(s, "b", 1), 1);
	expect_seg(h, F_ACK | F_PSH, iss + 2, PISN + 1, 1);
	tcp_setopt(s, TCP_OPT_NODELAY, 0);
	assert_int_equal(tcp_send(s, "c", 1), 1);
	expect_none(h);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 3, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK | F_PSH, iss + 3, PISN + 1, 1);
	tcp_close(s);
	h_free(h);
}

/* The peer's window limits what is in flight; an ACK that opens it releases more. */
static void send_flow_control(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1000, &iss, NULL, &ev);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 1500, NULL, 0);
	assert_int_equal(tcp_send(s, pattern, 5000), 5000);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 1000);
	/* 500 left in the window: more than half the max window seen (65535)? no -> wait */
	expect_none(h);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1001, F_ACK, 2000, NULL, 0);
	expect_seg(h, F_ACK, iss + 1001, PISN + 1, 1000);
	expect_seg(h, F_ACK, iss + 2001, PISN + 1, 1000);
	expect_none(h);
	tcp_close(s);
	h_free(h);
}

/* Bulk both ways at MTU 65520: 32 KiB segments in, window never above 65535. */
static void bulk_receive_window(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	/* Peer advertises a big MSS but sends 32768-byte segments, as slirp does. */
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 65480, &iss, NULL, &ev);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 65535, pattern, 32768);
	expect_none(h);
	h_send(h, RPORT, LPORT, PISN + 32769, iss + 1, F_ACK, 65535, pattern + 32768, 32767);
	struct h_seg a = expect_seg(h, F_ACK, iss + 1, PISN + 65536, 0);
	assert_int_equal(a.wnd, 0);     /* 1 byte of room: not announced (SWS) */
	/* beyond the window: dropped, ACKed */
	h_send(h, RPORT, LPORT, PISN + 65536, iss + 1, F_ACK, 65535, pattern, 100);
	struct h_seg b = expect_seg(h, F_ACK, iss + 1, PISN + 65537, 0);
	assert_int_equal(b.wnd, 0);
	uint8_t *buf = malloc(70000);
	assert_int_equal(tcp_recv(s, buf, 1000, 0), 1000);
	expect_none(h);         /* a 1000-byte window is not worth announcing */
	assert_int_equal(tcp_recv(s, buf + 1000, 70000, 0), 64536);
	struct h_seg u = expect_seg(h, F_ACK, iss + 1, PISN + 65537, 0);
	assert_int_equal(u.wnd, 65535);
	assert_memory_equal(buf, pattern, 65535);
	assert_int_equal(buf[65535], pattern[0]);
	free(buf);
	tcp_close(s);
	h_free(h);
}

/* Zero-copy reads: the bytes in place, in two pieces once the ring wraps, bounded by the
 * length asked for; consuming them opens the window as tcp_recv does. */
static void receive_spans(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 65480, &iss, NULL, &ev);
	struct iovec iov[2];
	assert_int_equal(tcp_recv_spans(s, 100, iov), 0);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 65535, pattern, 40000);
	h_drain(h);
	assert_int_equal(tcp_recv_spans(s, 65536, iov), 1);
	assert_int_equal(iov[0].iov_len, 40000);
	assert_memory_equal(iov[0].iov_base, pattern, 40000);
	tcp_recv_consume(s, 40000);
	struct h_seg u = expect_seg(h, F_ACK, iss + 1, PISN + 40001, 0);
	assert_int_equal(u.wnd, 65535);
	/* the ring (64 KiB) wraps 25536 bytes into the next 40000 */
	h_send(h, RPORT, LPORT, PISN + 40001, iss + 1, F_ACK | F_FIN, 65535, pattern + 40000,
	       40000);
	h_drain(h);
	assert_int_equal(tcp_recv_spans(s, 30000, iov), 2);
	assert_int_equal(iov[0].iov_len, 25536);
	assert_int_equal(iov[1].iov_len, 4464);
	assert_memory_equal(iov[0].iov_base, pattern + 40000, 25536);
	assert_memory_equal(iov[1].iov_base, pattern + 65536, 4464);
	tcp_recv_consume(s, 30000);
	assert_int_equal(tcp_recv_spans(s, 65536, iov), 1);
	assert_int_equal(iov[0].iov_len, 10000);
	assert_memory_equal(iov[0].iov_base, pattern + 70000, 10000);
	tcp_recv_consume(s, 10000);
	assert_int_equal(tcp_recv_spans(s, 65536, iov), 0);
	char c;
	assert_int_equal(tcp_recv(s, &c, 1, 0), 0);     /* then the FIN */
	tcp_close(s);
	h_free(h);
}

/* slirp at MTU 65520 sends 32768 + 32767-byte pairs.  After an odd-sized segment has been
 * read, the window must open all the way again (65535, the cap without window scaling), not
 * stay one segment wide: the unit of "worth moving the right edge" is half the largest
 * window we can offer, and 65535 is odd. */
static void window_reopens_after_odd_segment(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 65480, &iss, NULL, &ev);
	uint8_t *buf = malloc(65536);
	uint32_t seq = PISN + 1;

	for (int round = 0; round < 3; round++) {
		size_t len = round == 0 ? 32767 : 32768;
		h_send(h, RPORT, LPORT, seq, iss + 1, F_ACK | F_PSH, 65535, pattern, len);
		seq += (uint32_t)len;
		h_advance(h, 50);       /* the delayed ACK goes out while the data is unread */
		assert_int_equal(tcp_recv(s, buf, 65536, 0), (ssize_t)len);
		h_advance(h, 50);
	}
	struct h_seg last = { 0 };
	while (h->next < h->nframes)
		h_take(h, &last);
	assert_int_equal(last.ack, seq);
	assert_int_equal(last.wnd, 65535);
	free(buf);
	tcp_close(s);
	h_free(h);
}

/* Out-of-order segments are held and delivered once the hole fills; each OOO segment draws
 * an immediate duplicate ACK. */
static void out_of_order_reassembly(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	uint32_t b = PISN + 1;
	h_send(h, RPORT, LPORT, b + 2000, iss + 1, F_ACK, 65535, pattern + 2000, 1000);
	expect_seg(h, F_ACK, iss + 1, b, 0);
	h_send(h, RPORT, LPORT, b + 4000, iss + 1, F_ACK | F_FIN, 65535, pattern + 4000, 500);
	expect_seg(h, F_ACK, iss + 1, b, 0);
	assert_int_equal(tcp_recv_available(s), 0);
	h_send(h, RPORT, LPORT, b + 1000, iss + 1, F_ACK, 65535, pattern + 1000, 1000);
	expect_seg(h, F_ACK, iss + 1, b, 0);
	h_send(h, RPORT, LPORT, b, iss + 1, F_ACK, 65535, pattern, 1000);
	expect_seg(h, F_ACK, iss + 1, b + 3000, 0);
	assert_int_equal(tcp_recv_available(s), 3000);
	h_send(h, RPORT, LPORT, b + 3000, iss + 1, F_ACK, 65535, pattern + 3000, 1000);
	/* hole filled up to the FIN */
	expect_seg(h, F_ACK, iss + 1, b + 4501, 0);
	assert_int_equal(tcp_state(s), TCP_CLOSE_WAIT);
	uint8_t buf[5000];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 4500);
	assert_memory_equal(buf, pattern, 4500);
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 0);
	tcp_close(s);
	h_free(h);
}

/* Duplicate and partially overlapping segments: old data ACKed at once, new part kept. */
static void duplicate_and_overlap(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	uint32_t b = PISN + 1;
	h_send(h, RPORT, LPORT, b, iss + 1, F_ACK, 65535, pattern, 1000);
	h_send(h, RPORT, LPORT, b, iss + 1, F_ACK, 65535, pattern, 1000);
	expect_seg(h, F_ACK, iss + 1, b + 1000, 0);
	h_send(h, RPORT, LPORT, b + 500, iss + 1, F_ACK, 65535, pattern + 500, 1000);
	expect_seg(h, F_ACK, iss + 1, b + 1500, 0);
	for (int i = 0; i < 3; i++) {   /* not rate-limited */
		h_send(h, RPORT, LPORT, b, iss + 1, F_ACK, 65535, pattern, 100);
		expect_seg(h, F_ACK, iss + 1, b + 1500, 0);
	}
	uint8_t buf[2000];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 1500);
	assert_memory_equal(buf, pattern, 1500);
	tcp_close(s);
	h_free(h);
}

/* Data from far outside the window: challenge-style ACK, nothing kept. */
static void out_of_window_data(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	h_send(h, RPORT, LPORT, PISN + 1 + 100000, iss + 1, F_ACK, 65535, "x", 1);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 0);
	assert_int_equal(tcp_recv_available(s), 0);
	/* ACK for data never sent: ACK back, segment dropped */
	h_send(h, RPORT, LPORT, PISN + 1, iss + 5000, F_ACK, 65535, "y", 1);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 0);
	assert_int_equal(tcp_recv_available(s), 0);
	tcp_close(s);
	h_free(h);
}

/* The stack accepts segments up to mtu-40 whatever MSS it advertised. */
static void accepts_large_segments(void **state)
{
	(void)state;
	struct ns_config cfg = { .addr = H_ADDR, .gateway = H_PEER, .mtu = 1500, .seed = 1 };
	memcpy(cfg.mac, h_our_mac, 6);
	struct harness *h = h_new_cfg(&cfg, 1);
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 536, &iss, NULL, &ev);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 65535, pattern, 1460);
	assert_int_equal(tcp_recv_available(s), 1460);
	/* send side: min(peer 536, mtu - 40) */
	assert_int_equal(tcp_send(s, pattern, 600), 600);
	expect_seg(h, F_ACK, iss + 1, PISN + 1461, 536);
	tcp_close(s);
	h_free(h);
}

/* Sequence numbers wrapping through 2^32 on both sides. */
static void sequence_wraparound(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	uint32_t pisn = 0xffffffffu - 1500;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, pisn, 1000, &iss, NULL, &ev);
	uint32_t b = pisn + 1;
	for (int i = 0; i < 4; i++)
		h_send(h, RPORT, LPORT, b + 1000 * i, iss + 1, F_ACK, 65535, pattern + 1000 * i, 1000);
	expect_seg(h, F_ACK, iss + 1, b + 2000, 0);
	expect_seg(h, F_ACK, iss + 1, b + 4000, 0);
	uint8_t buf[5000];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 4000);
	assert_memory_equal(buf, pattern, 4000);
	h_free(h);
}

/* Out-of-order ranges are bounded: one range too many is dropped (and counted); the data
 * arrives again later and everything is delivered in order. */
static void reassembly_range_cap(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	uint32_t b = PISN + 1;
	for (int i = 1; i <= 9; i++) {  /* holes before every range */
		h_send(h, RPORT, LPORT, b + 200 * (uint32_t)i, iss + 1, F_ACK, 65535,
		       pattern + 200 * i, 100);
		expect_seg(h, F_ACK, iss + 1, b, 0);
	}
	char st[4096];
	ns_format_stats(h->st, st, sizeof st);
	assert_non_null(strstr(st, "ReseqDrops: 1\n"));
	assert_non_null(strstr(st, "OutOfOrder: 9\n"));
	for (int i = 0; i < 10; i++)
		h_send(h, RPORT, LPORT, b + 200 * (uint32_t)i, iss + 1, F_ACK, 65535,
		       pattern + 200 * i, 200);
	h_drain(h);
	uint8_t buf[3000];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 2000);
	assert_memory_equal(buf, pattern, 2000);
	tcp_close(s);
	h_free(h);
}

/* A segment straddling the right edge of the buffer: the part that fits is kept, the FIN
 * after it is not. */
static void partly_outside_window(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *s = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_setopt(s, TCP_OPT_RCVBUF, 4096), 0);
	assert_int_equal(tcp_connect(s, H_PEER, 8080), 0);
	struct h_seg syn;
	h_take(h, &syn);
	assert_int_equal(syn.wnd, 4096);
	h_send(h, 8080, syn.sport, PISN, syn.seq + 1, F_SYN | F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK, syn.seq + 1, PISN + 1, 0);
	h_send(h, 8080, syn.sport, PISN + 1, syn.seq + 1, F_ACK | F_FIN, 65535, pattern, 5000);
	struct h_seg a = expect_seg(h, F_ACK, syn.seq + 1, PISN + 4097, 0);
	assert_int_equal(a.wnd, 0);
	assert_int_equal(tcp_state(s), TCP_ESTABLISHED);
	tcp_close(s);
	h_free(h);
}

/* The right edge of the window never moves back, even when the buffer shrinks. */
static void window_right_edge_kept(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	assert_int_equal(tcp_setopt(s, TCP_OPT_RCVBUF, 8192), 0);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 65535, pattern, 1000);
	h_advance(h, 40);
	struct h_seg a = expect_seg(h, F_ACK, iss + 1, PISN + 1001, 0);
	assert_int_equal(a.wnd, 65535 - 1000);
	/* the buffer stays large enough for what was offered */
	assert_int_equal(tcp_getopt(s, TCP_OPT_RCVBUF), 65535);
	tcp_close(s);
	h_free(h);
}

/* A window with its top bit set is just a large window (no sign confusion). */
static void window_msb_set(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 40000, &iss, NULL, &ev);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 0x8001, NULL, 0);
	assert_int_equal(tcp_send(s, pattern, 100000), 100000);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 32769);        /* the whole window */
	expect_none(h);
	char st[256];
	tcp_format_status(s, st, sizeof st);
	assert_non_null(strstr(st, " swin 32769 "));
	tcp_abort(s);
	tcp_close(s);
	h_free(h);
}

/* A pure ACK whose sequence number sits exactly at our window's right edge (the peer
 * filled the window and its data was lost) still acknowledges our data. */
static void ack_at_right_window_edge(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	assert_int_equal(tcp_send(s, "data", 4), 4);
	h_drain(h);
	h_send(h, RPORT, LPORT, PISN + 1 + 65535, iss + 5, F_ACK, 65535, NULL, 0);
	expect_none(h);
	assert_int_equal(tcp_send_space(s), 256 * 1024);
	assert_int_equal(ns_next_deadline(h->st), NS_NEVER);   /* nothing left to retransmit */
	/* beyond the edge (the buffer's 65536 bytes) is not acceptable: ACKed, ignored */
	h_send(h, RPORT, LPORT, PISN + 1 + 65537, iss + 5, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 5, PISN + 1, 0);
	tcp_close(s);
	h_free(h);
}

/* Socket options: range checks, and TTL/TOS in what goes out. */
static void options_ttl_tos_bufs(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	assert_int_equal(tcp_setopt(s, TCP_OPT_TTL, 0), -EINVAL);
	assert_int_equal(tcp_setopt(s, TCP_OPT_TTL, 256), -EINVAL);
	assert_int_equal(tcp_setopt(s, TCP_OPT_TOS, -1), -EINVAL);
	assert_int_equal(tcp_setopt(s, TCP_OPT_KEEPALIVE, -5), -EINVAL);
	assert_int_equal(tcp_setopt(s, TCP_OPT_TTL, 5), 0);
	assert_int_equal(tcp_setopt(s, TCP_OPT_TOS, 0x10), 0);
	assert_int_equal(tcp_getopt(s, TCP_OPT_TTL), 5);
	assert_int_equal(tcp_getopt(s, TCP_OPT_TOS), 0x10);
	assert_int_equal(tcp_send(s, "t", 1), 1);
	const struct h_frame *f = h_take_frame(h);
	assert_int_equal(f->data[14 + 8], 5);           /* IP TTL */
	assert_int_equal(f->data[14 + 1], 0x10);        /* IP TOS */
	/* buffers: clamped to sane bounds, never below what they hold */
	assert_int_equal(tcp_setopt(s, TCP_OPT_SNDBUF, 1), 0);
	assert_int_equal(tcp_getopt(s, TCP_OPT_SNDBUF), 4096);
	assert_int_equal(tcp_setopt(s, TCP_OPT_SNDBUF, 1L << 40), 0);
	assert_int_equal(tcp_getopt(s, TCP_OPT_SNDBUF), 16 * 1024 * 1024);
	tcp_close(s);
	h_free(h);
}

/* shutdown(SHUT_RD): reads return what is buffered, then EOF; the peer may still send. */
static void shutdown_read(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 65535, "ab", 2);
	assert_int_equal(tcp_shutdown(s, SHUT_RD), 0);
	assert_true(tcp_poll(s) & TCP_EV_IN);
	char buf[8];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 2);
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 0);
	assert_int_equal(tcp_send(s, "x", 1), 1);       /* writing still works */
	assert_int_equal(tcp_shutdown(s, 42), -EINVAL);
	h_drain(h);
	tcp_close(s);
	h_free(h);
}

/* Readiness events: data in, send room back after an ACK. */
static void events_for_data_and_room(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	assert_int_equal(tcp_setopt(s, TCP_OPT_SNDBUF, 4096), 0);
	assert_int_equal(tcp_setopt(s, TCP_OPT_NODELAY, 1), 0);
	assert_int_equal(tcp_send(s, pattern, 10000), 4096);
	assert_int_equal(tcp_send(s, pattern, 10), -EAGAIN);
	assert_false(tcp_poll(s) & TCP_EV_OUT);
	h_drain(h);
	int before = ev.count;
	h_send(h, RPORT, LPORT, PISN + 1, iss + 4097, F_ACK, 65535, NULL, 0);
	assert_true(ev.count > before);
	assert_true(tcp_poll(s) & TCP_EV_OUT);
	assert_false(tcp_poll(s) & TCP_EV_IN);
	before = ev.count;
	h_send(h, RPORT, LPORT, PISN + 1, iss + 4097, F_ACK, 65535, "x", 1);
	assert_true(ev.count > before);
	assert_true(tcp_poll(s) & TCP_EV_IN);
	tcp_abort(s);
	tcp_close(s);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(receive_delayed_ack),
		cmocka_unit_test(receive_spans),
		cmocka_unit_test(receive_ack_every_second_segment),
		cmocka_unit_test(send_mss_and_nagle),
		cmocka_unit_test(send_nodelay),
		cmocka_unit_test(send_flow_control),
		cmocka_unit_test(bulk_receive_window),
		cmocka_unit_test(window_reopens_after_odd_segment),
		cmocka_unit_test(out_of_order_reassembly),
		cmocka_unit_test(duplicate_and_overlap),
		cmocka_unit_test(out_of_window_data),
		cmocka_unit_test(accepts_large_segments),
		cmocka_unit_test(sequence_wraparound),
		cmocka_unit_test(reassembly_range_cap),
		cmocka_unit_test(partly_outside_window),
		cmocka_unit_test(window_right_edge_kept),
		cmocka_unit_test(window_msb_set),
		cmocka_unit_test(events_for_data_and_room),
		cmocka_unit_test(ack_at_right_window_edge),
		cmocka_unit_test(options_ttl_tos_bufs),
		cmocka_unit_test(shutdown_read),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
