/* tests/netstack/test_handshake.c — opening connections, listen queues, ports. */
#include <errno.h>
#include <string.h>

#include "harness.h"

#define LPORT 80
#define RPORT 40000
#define PISN 1000000u

static void passive_open(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev lev = { 0 };
	struct tcp_sock *l = tcp_open(h->st, h_event, &lev);
	assert_int_equal(tcp_bind(l, 0, LPORT), 0);
	assert_int_equal(tcp_listen(l, 4), 0);
	assert_int_equal(tcp_state(l), TCP_LISTEN);

	struct h_seg syn = { .sport = RPORT, .dport = LPORT, .seq = PISN, .flags = F_SYN,
			     .wnd = 65535, .mss = 1460 };
	h_inject(h, &syn);
	struct h_seg sa = expect_seg_any(h, F_SYN | F_ACK, PISN + 1, 0);
	(void)sa;
	expect_none(h);
	assert_int_equal(tcp_accept_queue_len(l), 0);
	assert_null(tcp_accept(l));
	assert_int_equal(lev.count, 0);
	h_send(h, RPORT, LPORT, PISN + 1, sa.seq + 1, F_ACK, 65535, NULL, 0);
	expect_none(h);
	assert_true(lev.count > 0);
	assert_int_equal(tcp_poll(l) & TCP_EV_IN, TCP_EV_IN);
	struct tcp_sock *s = tcp_accept(l);
	assert_non_null(s);
	assert_int_equal(tcp_state(s), TCP_ESTABLISHED);
	uint32_t a;
	uint16_t p;
	tcp_remote(s, &a, &p);
	assert_int_equal(a, H_PEER);
	assert_int_equal(p, RPORT);
	tcp_local(s, &a, &p);
	assert_int_equal(a, H_ADDR);
	assert_int_equal(p, LPORT);
	tcp_close(s);
	tcp_close(l);
	h_free(h);
}

/* The SYN-ACK's exact shape: MSS = mtu - 40, window 65535, no other options. */
static void passive_open_synack_shape(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0, LPORT), 0);
	assert_int_equal(tcp_listen(l, 4), 0);
	/* wscale, sackOK, timestamps offered: all ignored */
	static const uint8_t opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10,
					0, 0, 0, 1, 0, 0, 0, 0 };
	struct h_seg syn = { .sport = RPORT, .dport = LPORT, .seq = PISN, .flags = F_SYN,
			     .wnd = 65535, .opts = opts, .optlen = sizeof opts };
	h_inject(h, &syn);
	struct h_seg sa;
	h_take(h, &sa);
	assert_int_equal(sa.flags, F_SYN | F_ACK);
	assert_int_equal(sa.optlen, 4);
	assert_int_equal(sa.mss, H_MTU - 40);
	assert_int_equal(sa.wnd, 65535);
	assert_int_equal(sa.src, H_ADDR);
	assert_int_equal(sa.dst, H_PEER);
	assert_int_equal(sa.sport, LPORT);
	assert_int_equal(sa.dport, RPORT);
	assert_int_equal(sa.dlen, 0);
	tcp_close(l);
	h_free(h);
}

static void active_open(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	struct tcp_sock *s = tcp_open(h->st, h_event, &ev);
	assert_int_equal(tcp_connect(s, H_PEER, 8080), 0);
	assert_int_equal(tcp_state(s), TCP_SYN_SENT);
	struct h_seg syn;
	h_take(h, &syn);
	assert_int_equal(syn.flags, F_SYN);
	assert_int_equal(syn.ack, 0);
	assert_int_equal(syn.mss, H_MTU - 40);
	assert_int_equal(syn.wnd, 65535);
	assert_int_equal(syn.dport, 8080);
	assert_true(syn.sport >= 32768 && syn.sport <= 60999);
	assert_int_equal(tcp_connect(s, H_PEER, 8080), -EALREADY);
	assert_int_equal(tcp_poll(s) & TCP_EV_OUT, 0);
	assert_int_equal(ev.count, 0);

	h_send(h, 8080, syn.sport, PISN, syn.seq + 1, F_SYN | F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK, syn.seq + 1, PISN + 1, 0);
	expect_none(h);
	assert_int_equal(tcp_state(s), TCP_ESTABLISHED);
	assert_true(ev.count > 0);
	assert_true(tcp_poll(s) & TCP_EV_OUT);
	assert_int_equal(tcp_error(s, false), 0);
	assert_int_equal(tcp_connect(s, H_PEER, 8080), -EISCONN);
	tcp_close(s);
	h_free(h);
}

static void connect_refused(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	struct tcp_sock *s = tcp_open(h->st, h_event, &ev);
	assert_int_equal(tcp_connect(s, H_PEER, 8080), 0);
	struct h_seg syn;
	h_take(h, &syn);
	h_send(h, 8080, syn.sport, 0, syn.seq + 1, F_RST | F_ACK, 0, NULL, 0);
	expect_none(h);
	assert_int_equal(tcp_state(s), TCP_CLOSED);
	assert_true(ev.count > 0);
	unsigned m = tcp_poll(s);
	assert_true(m & TCP_EV_ERR);
	assert_true(m & TCP_EV_OUT);
	assert_int_equal(tcp_error(s, true), -ECONNREFUSED);
	assert_int_equal(tcp_error(s, false), 0);
	char buf[16];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), -ECONNREFUSED);
	char st[200];
	tcp_format_status(s, st, sizeof st);
	assert_non_null(strstr(st, "Closed "));
	tcp_close(s);
	h_free(h);
}

/* RST without an acceptable ACK in SYN_SENT is ignored; a bad ACK draws a RST. */
static void syn_sent_bad_ack(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *s = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_connect(s, H_PEER, 8080), 0);
	struct h_seg syn;
	h_take(h, &syn);
	h_send(h, 8080, syn.sport, 0, syn.seq + 5, F_RST | F_ACK, 0, NULL, 0);
	expect_none(h);
	assert_int_equal(tcp_state(s), TCP_SYN_SENT);
	h_send(h, 8080, syn.sport, PISN, syn.seq + 7, F_SYN | F_ACK, 65535, NULL, 0);
	expect_seg(h, F_RST, syn.seq + 7, 0, 0);
	assert_int_equal(tcp_state(s), TCP_SYN_SENT);
	h_send(h, 8080, syn.sport, PISN, syn.seq + 1, F_SYN | F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK, syn.seq + 1, PISN + 1, 0);
	assert_int_equal(tcp_state(s), TCP_ESTABLISHED);
	tcp_close(s);
	h_free(h);
}

static void listen_ack_gets_rst(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0, LPORT), 0);
	assert_int_equal(tcp_listen(l, 4), 0);
	h_send(h, RPORT, LPORT, PISN, 12345, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_RST, 12345, 0, 0);
	h_send(h, RPORT, LPORT, PISN, 0, F_RST, 0, NULL, 0);
	expect_none(h);
	assert_int_equal(tcp_state(l), TCP_LISTEN);
	tcp_close(l);
	h_free(h);
}

static void closed_port_rst(void **state)
{
	(void)state;
	struct harness *h = h_new();
	h_send(h, RPORT, 81, PISN, 0, F_SYN, 65535, NULL, 0);
	expect_seg(h, F_RST | F_ACK, 0, PISN + 1, 0);
	h_send(h, RPORT, 81, PISN, 0, F_ACK, 65535, "abc", 3);
	expect_seg(h, F_RST, 0, 0, 0);
	h_send(h, RPORT, 81, PISN, 77, F_FIN, 65535, "abc", 3);
	expect_seg(h, F_RST | F_ACK, 0, PISN + 4, 0);
	h_free(h);
}

/* A retransmitted SYN in SYN_RECEIVED gets the same SYN-ACK; no second connection. */
static void syn_received_dup_syn(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0, LPORT), 0);
	assert_int_equal(tcp_listen(l, 4), 0);
	h_send(h, RPORT, LPORT, PISN, 0, F_SYN, 65535, NULL, 0);
	struct h_seg sa = expect_seg_any(h, F_SYN | F_ACK, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN, 0, F_SYN, 65535, NULL, 0);
	struct h_seg again = expect_seg(h, F_SYN | F_ACK, sa.seq, PISN + 1, 0);
	assert_int_equal(again.mss, H_MTU - 40);       /* the peer is still connecting */
	expect_none(h);
	h_send(h, RPORT, LPORT, PISN + 1, sa.seq + 1, F_ACK, 65535, NULL, 0);
	assert_int_equal(tcp_accept_queue_len(l), 1);
	expect_none(h);
	tcp_close(l);
	expect_seg(h, F_RST | F_ACK, sa.seq + 1, PISN + 1, 0);
	h_free(h);
}

/* RST in SYN_RECEIVED frees only the half-open entry. */
static void syn_received_rst(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0, LPORT), 0);
	assert_int_equal(tcp_listen(l, 4), 0);
	h_send(h, RPORT, LPORT, PISN, 0, F_SYN, 65535, NULL, 0);
	struct h_seg sa = expect_seg_any(h, F_SYN | F_ACK, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN + 1, 0, F_RST, 0, NULL, 0);
	expect_none(h);
	/* The entry is gone: the handshake ACK now meets the listener and gets a RST. */
	h_send(h, RPORT, LPORT, PISN + 1, sa.seq + 1, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_RST, sa.seq + 1, 0, 0);
	assert_int_equal(tcp_accept_queue_len(l), 0);
	assert_int_equal(tcp_state(l), TCP_LISTEN);
	/* No retransmission of the dead SYN-ACK. */
	h_advance(h, 10000);
	expect_none(h);
	tcp_close(l);
	h_free(h);
}

/* A bad ACK in SYN_RECEIVED draws a RST; the half-open connection survives. */
static void syn_received_bad_ack(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0, LPORT), 0);
	assert_int_equal(tcp_listen(l, 4), 0);
	h_send(h, RPORT, LPORT, PISN, 0, F_SYN, 65535, NULL, 0);
	struct h_seg sa = expect_seg_any(h, F_SYN | F_ACK, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN + 1, sa.seq, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_RST, sa.seq, 0, 0);
	h_send(h, RPORT, LPORT, PISN + 1, sa.seq + 100, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_RST, sa.seq + 100, 0, 0);
	assert_int_equal(tcp_accept_queue_len(l), 0);
	h_send(h, RPORT, LPORT, PISN + 1, sa.seq + 1, F_ACK, 65535, NULL, 0);
	expect_none(h);
	assert_int_equal(tcp_accept_queue_len(l), 1);
	tcp_close(l);
	h_free(h);
}

/* Data on the handshake ACK, then FIN while still in the accept queue. */
static void syn_received_data_and_fin(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0, LPORT), 0);
	assert_int_equal(tcp_listen(l, 4), 0);
	h_send(h, RPORT, LPORT, PISN, 0, F_SYN, 65535, NULL, 0);
	struct h_seg sa = expect_seg_any(h, F_SYN | F_ACK, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN + 1, sa.seq + 1, F_ACK | F_FIN, 65535, "hello", 5);
	expect_seg(h, F_ACK, sa.seq + 1, PISN + 7, 0);
	struct tcp_sock *s = tcp_accept(l);
	assert_non_null(s);
	assert_int_equal(tcp_state(s), TCP_CLOSE_WAIT);
	char buf[16];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 0);
	assert_true(tcp_poll(s) & TCP_EV_RDHUP);
	tcp_close(s);
	expect_seg(h, F_ACK | F_FIN, sa.seq + 1, PISN + 7, 0);
	assert_int_equal(tcp_state(s), TCP_LAST_ACK);
	h_send(h, RPORT, LPORT, PISN + 7, sa.seq + 2, F_ACK, 65535, NULL, 0);
	expect_none(h);
	tcp_close(l);
	h_free(h);
}

/* Backlog: accept queue full -> SYN dropped silently (no RST); the peer's retry works once
 * the application accepted; closing the listener resets what is still queued. */
static void backlog_overflow(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0, LPORT), 0);
	assert_int_equal(tcp_listen(l, 1), 0);
	h_send(h, RPORT, LPORT, PISN, 0, F_SYN, 65535, NULL, 0);
	struct h_seg a = expect_seg_any(h, F_SYN | F_ACK, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN + 1, a.seq + 1, F_ACK, 65535, NULL, 0);
	assert_int_equal(tcp_accept_queue_len(l), 1);
	h_send(h, RPORT + 1, LPORT, 5000, 0, F_SYN, 65535, NULL, 0);
	expect_none(h);
	struct tcp_sock *sa = tcp_accept(l);
	assert_non_null(sa);
	h_send(h, RPORT + 1, LPORT, 5000, 0, F_SYN, 65535, NULL, 0);
	struct h_seg b = expect_seg_any(h, F_SYN | F_ACK, 5001, 0);
	h_send(h, RPORT + 1, LPORT, 5001, b.seq + 1, F_ACK, 65535, NULL, 0);
	assert_int_equal(tcp_accept_queue_len(l), 1);
	expect_none(h);
	tcp_close(l);           /* B: queued, never accepted -> RST */
	expect_seg(h, F_RST | F_ACK, b.seq + 1, 5001, 0);
	expect_none(h);
	assert_int_equal(tcp_state(sa), TCP_ESTABLISHED);
	tcp_abort(sa);
	expect_seg(h, F_RST | F_ACK, a.seq + 1, PISN + 1, 0);
	tcp_close(sa);
	h_free(h);
}

/* Accept queue full when a final ACK arrives: the ACK is dropped and the SYN-ACK
 * retransmitted; once there is room the repeated ACK completes the handshake. */
static void backlog_full_drops_final_ack(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0, LPORT), 0);
	assert_int_equal(tcp_listen(l, 2), 0);
	h_send(h, RPORT, LPORT, PISN, 0, F_SYN, 65535, NULL, 0);
	struct h_seg a = expect_seg_any(h, F_SYN | F_ACK, PISN + 1, 0);
	h_send(h, RPORT + 1, LPORT, 5000, 0, F_SYN, 65535, NULL, 0);
	struct h_seg b = expect_seg_any(h, F_SYN | F_ACK, 5001, 0);
	h_send(h, RPORT + 2, LPORT, 6000, 0, F_SYN, 65535, NULL, 0);
	expect_none(h);         /* SYN queue holds at most backlog entries */
	h_send(h, RPORT, LPORT, PISN + 1, a.seq + 1, F_ACK, 65535, NULL, 0);
	h_send(h, RPORT + 2, LPORT, 6000, 0, F_SYN, 65535, NULL, 0);
	struct h_seg c = expect_seg_any(h, F_SYN | F_ACK, 6001, 0);
	h_send(h, RPORT + 2, LPORT, 6001, c.seq + 1, F_ACK, 65535, NULL, 0);
	assert_int_equal(tcp_accept_queue_len(l), 2);
	h_send(h, RPORT + 1, LPORT, 5001, b.seq + 1, F_ACK, 65535, NULL, 0);
	expect_none(h);
	assert_int_equal(tcp_accept_queue_len(l), 2);
	h_advance(h, 1000);
	struct h_seg again = expect_seg(h, F_SYN | F_ACK, b.seq, 5001, 0);
	assert_int_equal(again.optlen, 0);      /* the peer is established: no MSS option */
	struct tcp_sock *sa = tcp_accept(l);
	h_send(h, RPORT + 1, LPORT, 5001, b.seq + 1, F_ACK, 65535, NULL, 0);
	expect_none(h);
	assert_int_equal(tcp_accept_queue_len(l), 2);
	tcp_close(l);
	expect_seg(h, F_RST | F_ACK, c.seq + 1, 6001, 0);
	expect_seg(h, F_RST | F_ACK, b.seq + 1, 5001, 0);
	tcp_close(sa);
	expect_seg(h, F_ACK | F_FIN, a.seq + 1, PISN + 1, 0);
	h_free(h);
}

static void listener_close_resets_half_open(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0, LPORT), 0);
	assert_int_equal(tcp_listen(l, 4), 0);
	h_send(h, RPORT, LPORT, PISN, 0, F_SYN, 65535, NULL, 0);
	struct h_seg a = expect_seg_any(h, F_SYN | F_ACK, PISN + 1, 0);
	tcp_close(l);
	expect_seg(h, F_RST | F_ACK, a.seq + 1, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN + 1, a.seq + 1, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_RST, a.seq + 1, 0, 0);
	h_free(h);
}

/* A connection reset while queued is still returned by accept; reads then fail. */
static void reset_while_queued(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0, LPORT), 0);
	assert_int_equal(tcp_listen(l, 4), 0);
	h_send(h, RPORT, LPORT, PISN, 0, F_SYN, 65535, NULL, 0);
	struct h_seg a = expect_seg_any(h, F_SYN | F_ACK, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN + 1, a.seq + 1, F_ACK, 65535, NULL, 0);
	h_send(h, RPORT, LPORT, PISN + 1, 0, F_RST, 0, NULL, 0);
	expect_none(h);
	assert_int_equal(tcp_accept_queue_len(l), 1);
	struct tcp_sock *s = tcp_accept(l);
	assert_non_null(s);
	char buf[4];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), -ECONNRESET);
	assert_int_equal(tcp_send(s, "x", 1), -ECONNRESET);
	assert_int_equal(tcp_error(s, false), -ECONNRESET);
	assert_true(tcp_poll(s) & TCP_EV_HUP);
	tcp_close(s);
	tcp_close(l);
	h_free(h);
}

static void syn_ack_retransmit_and_give_up(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0, LPORT), 0);
	assert_int_equal(tcp_listen(l, 4), 0);
	h_send(h, RPORT, LPORT, PISN, 0, F_SYN, 65535, NULL, 0);
	struct h_seg a = expect_seg_any(h, F_SYN | F_ACK, PISN + 1, 0);
	assert_int_equal(a.mss, H_MTU - 40);
	uint32_t rto = 1000;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ns_next_deadline(h->st), h->now + rto);
		h_advance(h, rto - 1);
		expect_none(h);
		h_advance(h, 1);
		struct h_seg r = expect_seg(h, F_SYN | F_ACK, a.seq, PISN + 1, 0);
		/* no MSS option: libslirp 4.7 would empty its send buffer on it */
		assert_int_equal(r.optlen, 0);
		rto *= 2;
	}
	h_advance(h, rto);
	expect_none(h);
	assert_int_equal(ns_next_deadline(h->st), NS_NEVER);
	h_send(h, RPORT, LPORT, PISN + 1, a.seq + 1, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_RST, a.seq + 1, 0, 0);
	tcp_close(l);
	h_free(h);
}

static void syn_retransmit_timeout(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	struct tcp_sock *s = tcp_open(h->st, h_event, &ev);
	assert_int_equal(tcp_connect(s, H_PEER, 8080), 0);
	struct h_seg syn;
	h_take(h, &syn);
	uint32_t rto = 1000;
	for (int i = 0; i < 6; i++) {
		h_advance(h, rto - 1);
		expect_none(h);
		h_advance(h, 1);
		expect_seg(h, F_SYN, syn.seq, 0, 0);
		rto *= 2;
	}
	assert_int_equal(ev.count, 0);
	h_advance(h, rto);
	expect_none(h);
	assert_int_equal(tcp_state(s), TCP_CLOSED);
	assert_int_equal(tcp_error(s, false), -ETIMEDOUT);
	assert_true(ev.count > 0);
	tcp_close(s);
	h_free(h);
}

/* Giving up on a connect in progress sends nothing; the late SYN-ACK meets no socket. */
static void abort_and_close_in_syn_sent(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *s = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_connect(s, H_PEER, 8080), 0);
	struct h_seg syn;
	h_take(h, &syn);
	tcp_abort(s);
	expect_none(h);
	assert_int_equal(tcp_state(s), TCP_CLOSED);
	assert_int_equal(tcp_recv(s, (char[4]){ 0 }, 4, 0), -ECONNRESET);
	tcp_close(s);
	struct tcp_sock *t = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_connect(t, H_PEER, 8081), 0);
	struct h_seg syn2;
	h_take(h, &syn2);
	tcp_close(t);
	expect_none(h);
	h_send(h, 8081, syn2.sport, PISN, syn2.seq + 1, F_SYN | F_ACK, 65535, NULL, 0);
	expect_seg(h, F_RST, syn2.seq + 1, 0, 0);
	assert_int_equal(ns_next_deadline(h->st), NS_NEVER);
	h_free(h);
}

/* Simultaneous open: SYN crosses SYN. */
static void simultaneous_open(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	struct tcp_sock *s = tcp_open(h->st, h_event, &ev);
	assert_int_equal(tcp_bind(s, 0, 5555), 0);
	assert_int_equal(tcp_connect(s, H_PEER, 6666), 0);
	struct h_seg syn = expect_seg_any(h, F_SYN, 0, 0);
	h_send(h, 6666, 5555, PISN, 0, F_SYN, 65535, NULL, 0);
	expect_seg(h, F_SYN | F_ACK, syn.seq, PISN + 1, 0);
	assert_int_equal(tcp_state(s), TCP_SYN_RECEIVED);
	h_send(h, 6666, 5555, PISN, syn.seq + 1, F_SYN | F_ACK, 65535, NULL, 0);
	/* Their SYN-ACK repeats the SYN we have: acceptable ACK completes, the SYN is old. */
	assert_int_equal(tcp_state(s), TCP_ESTABLISHED);
	assert_true(ev.count > 0);
	h_drain(h);
	tcp_abort(s);
	tcp_close(s);
	h_free(h);
}

static void connect_icmp_unreachable(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	struct tcp_sock *s = tcp_open(h->st, h_event, &ev);
	assert_int_equal(tcp_connect(s, 0x0a000263u, 80), 0);
	const struct h_frame *f = h_take_frame(h);
	/* ICMP host unreachable quoting our SYN */
	uint8_t pkt[14 + 20 + 8 + 28];
	memset(pkt, 0, sizeof pkt);
	memcpy(pkt, h_our_mac, 6);
	memcpy(pkt + 6, h_gw_mac, 6);
	pkt[12] = 0x08;
	uint8_t *ip = pkt + 14;
	ip[0] = 0x45;
	ip[3] = sizeof pkt - 14;
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, (uint8_t[]){ 10, 0, 2, 2 }, 4);
	memcpy(ip + 16, (uint8_t[]){ 10, 0, 2, 15 }, 4);
	uint8_t *icmp = ip + 20;
	icmp[0] = 3;
	icmp[1] = 1;
	memcpy(icmp + 8, f->data + 14, 28);
	/* checksums */
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
	sum = 0;
	for (int i = 0; i < 36; i += 2)
		sum += (uint32_t)(icmp[i] << 8 | icmp[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	icmp[2] = (uint8_t)(~sum >> 8);
	icmp[3] = (uint8_t)~sum;
	h_inject_frame(h, pkt, sizeof pkt);
	assert_int_equal(tcp_state(s), TCP_CLOSED);
	assert_int_equal(tcp_error(s, false), -EHOSTUNREACH);
	assert_true(ev.count > 0);
	tcp_close(s);
	h_free(h);
}

static void ports_and_addresses(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *a = tcp_open(h->st, NULL, NULL);
	struct tcp_sock *b = tcp_open(h->st, NULL, NULL);
	struct tcp_sock *c = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(a, 0x0a000263u, 80), -EADDRNOTAVAIL);
	assert_int_equal(tcp_bind(a, 0, 80), 0);
	assert_int_equal(tcp_bind(a, 0, 81), -EINVAL);
	assert_int_equal(tcp_listen(a, 5), 0);
	assert_int_equal(tcp_bind(b, 0, 80), -EADDRINUSE);
	assert_int_equal(tcp_bind(b, H_ADDR, 80), -EADDRINUSE);
	assert_int_equal(tcp_bind(b, 0x7f000001u, 80), -EADDRINUSE);
	assert_int_equal(tcp_bind(b, 0x7f000005u, 81), 0);
	/* a listener that was aborted cannot be reused for connect or listen */
	struct tcp_sock *e = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_listen(e, 1), 0);
	tcp_abort(e);
	assert_int_equal(tcp_connect(e, H_PEER, 80), -EISCONN);
	assert_int_equal(tcp_listen(e, 1), -EISCONN);
	tcp_close(e);
	assert_int_equal(tcp_bind(c, 0, 0), 0);
	uint16_t p;
	tcp_local(c, NULL, &p);
	assert_true(p >= 32768 && p <= 60999);
	tcp_close(a);
	tcp_close(b);
	tcp_close(c);
	/* After close, the port is free again. */
	struct tcp_sock *d = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(d, 0, 80), 0);
	tcp_close(d);
	h_free(h);
}

/* Ephemeral ports for one destination come one after another (RFC 6056 algorithm 3), so
 * a port returns only after the whole range was used: the peer's TIME_WAIT for the old
 * 4-tuple is long over by then. */
static void ephemeral_ports_in_sequence(void **state)
{
	(void)state;
	struct harness *h = h_new();
	uint16_t prev = 0;
	for (int i = 0; i < 50; i++) {
		struct tcp_sock *s = tcp_open(h->st, NULL, NULL);
		assert_int_equal(tcp_connect(s, H_PEER, 8080), 0);
		uint16_t p;
		tcp_local(s, NULL, &p);
		if (i)
			assert_int_equal(p, prev == 60999 ? 32768 : prev + 1);
		prev = p;
		tcp_close(s);           /* SYN_SENT: gone at once, port free again */
	}
	h_drain(h);
	h_free(h);
}

/* A listener may bind a port that only TIME_WAIT leftovers use. */
static void rebind_over_time_wait(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *l;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, &l, &ev);
	tcp_close(s);
	expect_seg(h, F_ACK | F_FIN, iss + 1, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2, F_ACK | F_FIN, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 2, PISN + 2, 0);
	tcp_close(l);
	struct tcp_sock *l2 = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l2, 0, LPORT), 0);
	assert_int_equal(tcp_listen(l2, 4), 0);
	tcp_close(l2);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(passive_open),
		cmocka_unit_test(passive_open_synack_shape),
		cmocka_unit_test(active_open),
		cmocka_unit_test(connect_refused),
		cmocka_unit_test(syn_sent_bad_ack),
		cmocka_unit_test(listen_ack_gets_rst),
		cmocka_unit_test(closed_port_rst),
		cmocka_unit_test(syn_received_dup_syn),
		cmocka_unit_test(syn_received_rst),
		cmocka_unit_test(syn_received_bad_ack),
		cmocka_unit_test(syn_received_data_and_fin),
		cmocka_unit_test(backlog_overflow),
		cmocka_unit_test(backlog_full_drops_final_ack),
		cmocka_unit_test(listener_close_resets_half_open),
		cmocka_unit_test(reset_while_queued),
		cmocka_unit_test(syn_ack_retransmit_and_give_up),
		cmocka_unit_test(syn_retransmit_timeout),
		cmocka_unit_test(abort_and_close_in_syn_sent),
		cmocka_unit_test(simultaneous_open),
		cmocka_unit_test(connect_icmp_unreachable),
		cmocka_unit_test(ports_and_addresses),
		cmocka_unit_test(ephemeral_ports_in_sequence),
		cmocka_unit_test(rebind_over_time_wait),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
