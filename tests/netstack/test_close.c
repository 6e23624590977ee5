/* tests/netstack/test_close.c — closing: FIN paths, TIME_WAIT, resets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

#define LPORT 80
#define RPORT 40000
#define PISN 1000000u

static size_t nsocks_hint(struct harness *h)
{
	/* CurrEstab from the stats text */
	char buf[2048];
	ns_format_stats(h->st, buf, sizeof buf);
	const char *p = strstr(buf, "CurrEstab: ");
	assert_non_null(p);
	return (size_t)strtoul(p + 11, NULL, 10);
}

static void active_close(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	assert_int_equal(nsocks_hint(h), 1);
	assert_int_equal(tcp_shutdown(s, SHUT_WR), 0);
	expect_seg(h, F_ACK | F_FIN, iss + 1, PISN + 1, 0);
	assert_int_equal(tcp_state(s), TCP_FIN_WAIT_1);
	assert_int_equal(tcp_send(s, "x", 1), -EPIPE);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2, F_ACK, 65535, NULL, 0);
	expect_none(h);
	assert_int_equal(tcp_state(s), TCP_FIN_WAIT_2);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2, F_ACK | F_FIN, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 2, PISN + 2, 0);
	assert_int_equal(tcp_state(s), TCP_TIME_WAIT);
	assert_true(tcp_poll(s) & TCP_EV_HUP);
	char buf[4];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 0);
	tcp_close(s);
	assert_int_equal(ns_next_deadline(h->st), h->now + 1000);
	h_advance(h, 1000);
	expect_none(h);
	assert_int_equal(ns_next_deadline(h->st), NS_NEVER);
	/* gone: a segment for it meets no socket */
	h_send(h, RPORT, LPORT, PISN + 2, iss + 2, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_RST, iss + 2, 0, 0);
	assert_int_equal(nsocks_hint(h), 0);
	h_free(h);
}

static void passive_close(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	int before = ev.count;
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK | F_FIN, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 1, PISN + 2, 0);
	assert_true(ev.count > before);
	assert_int_equal(tcp_state(s), TCP_CLOSE_WAIT);
	assert_true(tcp_poll(s) & TCP_EV_RDHUP);
	char buf[4];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 0);
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 0);
	assert_int_equal(tcp_send(s, "bye", 3), 3);
	expect_seg(h, F_ACK | F_PSH, iss + 1, PISN + 2, 3);
	tcp_close(s);
	expect_seg(h, F_ACK | F_FIN, iss + 4, PISN + 2, 0);
	h_send(h, RPORT, LPORT, PISN + 2, iss + 5, F_ACK, 65535, NULL, 0);
	expect_none(h);
	assert_int_equal(ns_next_deadline(h->st), NS_NEVER);
	h_send(h, RPORT, LPORT, PISN + 2, iss + 5, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_RST, iss + 5, 0, 0);
	h_free(h);
}

/* FIN crossing FIN: CLOSING, then TIME_WAIT. */
static void simultaneous_close(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	tcp_close(s);
	expect_seg(h, F_ACK | F_FIN, iss + 1, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK | F_FIN, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 2, PISN + 2, 0);
	h_send(h, RPORT, LPORT, PISN + 2, iss + 2, F_ACK, 65535, NULL, 0);
	expect_none(h);
	assert_int_equal(ns_next_deadline(h->st), h->now + 1000);
	h_advance(h, 1000);
	assert_int_equal(ns_next_deadline(h->st), NS_NEVER);
	h_free(h);
}

/* FIN+ACK answering our FIN in one segment: straight to TIME_WAIT. */
static void fin_ack_combined(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	assert_int_equal(tcp_shutdown(s, SHUT_WR), 0);
	expect_seg(h, F_ACK | F_FIN, iss + 1, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2, F_ACK | F_FIN, 65535, "zz", 2);
	expect_seg(h, F_ACK, iss + 2, PISN + 4, 0);
	assert_int_equal(tcp_state(s), TCP_TIME_WAIT);
	char buf[4];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 2);
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 0);
	tcp_close(s);
	h_free(h);
}

/* Data queued before close goes first; FIN rides on the last segment. */
static void fin_after_queued_data(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1000, &iss, NULL, &ev);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 0, NULL, 0);    /* window closed */
	assert_int_equal(tcp_send(s, "abcdef", 6), 6);
	expect_none(h);
	tcp_close(s);
	expect_none(h);
	assert_int_equal(tcp_state(s), TCP_FIN_WAIT_1);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 100, NULL, 0);
	expect_seg(h, F_ACK | F_PSH | F_FIN, iss + 1, PISN + 1, 6);
	/* FIN retransmitted with the data after the RTO */
	h_advance(h, 1000);
	expect_seg(h, F_ACK | F_PSH | F_FIN, iss + 1, PISN + 1, 6);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 8, F_ACK | F_FIN, 100, NULL, 0);
	expect_seg(h, F_ACK, iss + 8, PISN + 2, 0);
	h_free(h);
}

static void rst_in_established(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	int before = ev.count;
	h_send(h, RPORT, LPORT, PISN + 1, 0, F_RST, 0, NULL, 0);
	expect_none(h);
	assert_true(ev.count > before);
	assert_int_equal(tcp_state(s), TCP_CLOSED);
	unsigned m = tcp_poll(s);
	assert_true(m & TCP_EV_ERR);
	assert_true(m & TCP_EV_HUP);
	assert_true(m & TCP_EV_IN);
	char buf[4];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), -ECONNRESET);
	assert_int_equal(tcp_send(s, "x", 1), -ECONNRESET);
	char st[256];
	tcp_format_status(s, st, sizeof st);
	assert_non_null(strstr(st, "errno 104\n"));
	assert_int_equal(tcp_error(s, true), -ECONNRESET);
	tcp_format_status(s, st, sizeof st);
	assert_non_null(strstr(st, "errno 0\n"));
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), -ECONNRESET);
	tcp_close(s);
	h_free(h);
}

/* Data that arrived before a reset is still read; then the reset is reported. */
static void data_then_rst(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK | F_PSH, 65535, "reply", 5);
	h_send(h, RPORT, LPORT, PISN + 6, 0, F_RST, 0, NULL, 0);
	assert_int_equal(tcp_state(s), TCP_CLOSED);
	assert_true(tcp_poll(s) & TCP_EV_IN);
	char buf[16];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), 5);
	assert_memory_equal(buf, "reply", 5);
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), -ECONNRESET);
	h_drain(h);
	tcp_close(s);
	expect_none(h);
	h_free(h);
}

/* RFC 5961: an in-window RST that is not exactly rcv_nxt draws a challenge ACK. */
static void rst_bad_seq_challenge(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	h_send(h, RPORT, LPORT, PISN + 10, 0, F_RST, 0, NULL, 0);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 0);
	assert_int_equal(tcp_state(s), TCP_ESTABLISHED);
	/* outside the window: silently dropped */
	h_send(h, RPORT, LPORT, PISN + 1 + 200000, 0, F_RST, 0, NULL, 0);
	expect_none(h);
	assert_int_equal(tcp_state(s), TCP_ESTABLISHED);
	/* SYN in ESTABLISHED: challenge ACK too */
	h_send(h, RPORT, LPORT, PISN + 5, 0, F_SYN, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 0);
	assert_int_equal(tcp_state(s), TCP_ESTABLISHED);
	tcp_close(s);
	h_free(h);
}

/* RFC 5961 5.2: an ACK older than snd_una - max window is challenged and the segment
 * dropped; one acknowledging unsent data likewise. */
static void bad_ack_challenged(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	h_send(h, RPORT, LPORT, PISN + 1, iss - 70000, F_ACK, 65535, "old", 3);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 0);
	assert_int_equal(tcp_recv_available(s), 0);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1000, F_ACK, 65535, "new", 3);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 0);
	assert_int_equal(tcp_recv_available(s), 0);
	/* an old but plausible ACK is only ignored: the data counts */
	h_send(h, RPORT, LPORT, PISN + 1, iss - 10, F_ACK, 65535, "ok", 2);
	assert_int_equal(tcp_recv_available(s), 2);
	tcp_abort(s);
	tcp_close(s);
	h_free(h);
}

/* Challenge ACKs are rate-limited (RFC 5961 section 7). */
static void challenge_ack_rate_limit(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	for (int i = 0; i < 300; i++)
		h_send(h, RPORT, LPORT, PISN + 10 + (uint32_t)i, 0, F_RST, 0, NULL, 0);
	assert_int_equal(h_pending(h), 100);
	h_drain(h);
	h_advance(h, 1000);
	h_send(h, RPORT, LPORT, PISN + 10, 0, F_RST, 0, NULL, 0);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 0);
	tcp_close(s);
	h_free(h);
}

/* close() with unread data sends RST, not FIN. */
static void close_with_unread_data(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 65535, "unread", 6);
	tcp_close(s);
	expect_seg(h, F_RST | F_ACK, iss + 1, PISN + 7, 0);
	expect_none(h);
	h_advance(h, 100000);
	expect_none(h);
	h_free(h);
}

static void abort_sends_rst(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	assert_int_equal(tcp_send(s, "abc", 3), 3);
	expect_seg(h, F_ACK | F_PSH, iss + 1, PISN + 1, 3);
	tcp_abort(s);
	expect_seg(h, F_RST | F_ACK, iss + 4, PISN + 1, 0);
	assert_int_equal(tcp_state(s), TCP_CLOSED);
	char buf[4];
	assert_int_equal(tcp_recv(s, buf, sizeof buf, 0), -ECONNRESET);
	/* data arriving after the reset: RST */
	h_send(h, RPORT, LPORT, PISN + 1, iss + 4, F_ACK, 65535, "late", 4);
	expect_seg(h, F_RST, iss + 4, 0, 0);
	h_advance(h, 100000);
	expect_none(h);
	tcp_close(s);
	h_free(h);
}

/* Data for a socket the user closed (FIN_WAIT_2 orphan): RST. */
static void data_after_close_resets(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	tcp_close(s);
	expect_seg(h, F_ACK | F_FIN, iss + 1, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2, F_ACK, 65535, NULL, 0);
	expect_none(h);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2, F_ACK, 65535, "more", 4);
	expect_seg(h, F_RST | F_ACK, iss + 2, PISN + 1, 0);
	assert_int_equal(ns_next_deadline(h->st), NS_NEVER);
	h_free(h);
}

/* Orphaned FIN_WAIT_2 gives up after 60 s. */
static void fin_wait_2_timeout(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	tcp_close(s);
	expect_seg(h, F_ACK | F_FIN, iss + 1, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2, F_ACK, 65535, NULL, 0);
	assert_int_equal(ns_next_deadline(h->st), h->now + 60000);
	h_advance(h, 60000);
	expect_none(h);
	assert_int_equal(ns_next_deadline(h->st), NS_NEVER);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2, F_ACK | F_FIN, 65535, NULL, 0);
	expect_seg(h, F_RST, iss + 2, 0, 0);
	h_free(h);
}

/* RST in FIN_WAIT_2 ends it. */
static void fin_wait_2_rst(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	tcp_shutdown(s, SHUT_WR);
	expect_seg(h, F_ACK | F_FIN, iss + 1, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2, F_ACK, 65535, NULL, 0);
	assert_int_equal(tcp_state(s), TCP_FIN_WAIT_2);
	h_send(h, RPORT, LPORT, PISN + 1, 0, F_RST, 0, NULL, 0);
	assert_int_equal(tcp_state(s), TCP_CLOSED);
	assert_int_equal(tcp_error(s, false), -ECONNRESET);
	tcp_close(s);
	h_free(h);
}

/* TIME_WAIT: a retransmitted FIN is ACKed again and restarts the timer; RST ends it; a new
 * SYN with a higher sequence number opens a new connection. */
static void time_wait_behaviour(void **state)
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
	h_advance(h, 600);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2, F_ACK | F_FIN, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 2, PISN + 2, 0);
	assert_int_equal(ns_next_deadline(h->st), h->now + 1000);
	/* new incarnation */
	h_send(h, RPORT, LPORT, PISN + 100000, 0, F_SYN, 65535, NULL, 0);
	struct h_seg sa = expect_seg_any(h, F_SYN | F_ACK, PISN + 100001, 0);
	(void)sa;
	assert_int_equal(tcp_accept_queue_len(l), 0);
	tcp_close(l);
	expect_seg(h, F_RST | F_ACK, sa.seq + 1, PISN + 100001, 0);
	h_free(h);
}

/* An old SYN (not beyond the connection's sequence space) in TIME_WAIT is just ACKed. */
static void time_wait_old_syn(void **state)
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
	h_send(h, RPORT, LPORT, PISN, 0, F_SYN, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 2, PISN + 2, 0);
	expect_none(h);
	tcp_close(l);
	h_free(h);
}

static void time_wait_rst(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	tcp_close(s);
	expect_seg(h, F_ACK | F_FIN, iss + 1, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2, F_ACK | F_FIN, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 2, PISN + 2, 0);
	h_send(h, RPORT, LPORT, PISN + 2, 0, F_RST, 0, NULL, 0);
	expect_none(h);
	assert_int_equal(ns_next_deadline(h->st), NS_NEVER);
	h_free(h);
}

/* cfg.time_wait_ms overrides the default. */
static void time_wait_configurable(void **state)
{
	(void)state;
	struct ns_config cfg = { .addr = H_ADDR, .gateway = H_PEER, .mtu = H_MTU, .seed = 3,
				 .time_wait_ms = 5000 };
	memcpy(cfg.mac, h_our_mac, 6);
	struct harness *h = h_new_cfg(&cfg, 1);
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, 1460, &iss, NULL, &ev);
	tcp_close(s);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2, F_ACK | F_FIN, 65535, NULL, 0);
	assert_int_equal(ns_next_deadline(h->st), h->now + 5000);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(active_close),
		cmocka_unit_test(passive_close),
		cmocka_unit_test(simultaneous_close),
		cmocka_unit_test(fin_ack_combined),
		cmocka_unit_test(fin_after_queued_data),
		cmocka_unit_test(rst_in_established),
		cmocka_unit_test(data_then_rst),
		cmocka_unit_test(rst_bad_seq_challenge),
		cmocka_unit_test(bad_ack_challenged),
		cmocka_unit_test(challenge_ack_rate_limit),
		cmocka_unit_test(close_with_unread_data),
		cmocka_unit_test(abort_sends_rst),
		cmocka_unit_test(data_after_close_resets),
		cmocka_unit_test(fin_wait_2_timeout),
		cmocka_unit_test(fin_wait_2_rst),
		cmocka_unit_test(time_wait_behaviour),
		cmocka_unit_test(time_wait_old_syn),
		cmocka_unit_test(time_wait_rst),
		cmocka_unit_test(time_wait_configurable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
