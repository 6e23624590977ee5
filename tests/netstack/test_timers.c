/* tests/netstack/test_timers.c — loss recovery, congestion control, persist, keepalive. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define LPORT 80
#define RPORT 40000
#define PISN 1000000u

static uint8_t pattern[100000];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i * 13 + 5);
	return 0;
}

/* Value of "key N" in the status line. */
static long status_field(struct tcp_sock *s, const char *key)
{
	char buf[256], pat[32];
	tcp_format_status(s, buf, sizeof buf);
	snprintf(pat, sizeof pat, " %s ", key);
	const char *p = strstr(buf, pat);
	assert_non_null(p);
	return strtol(p + strlen(pat), NULL, 10);
}

static long stat_value(struct harness *h, const char *name)
{
	char buf[4096], pat[64];
	ns_format_stats(h->st, buf, sizeof buf);
	snprintf(pat, sizeof pat, "%s: ", name);
	const char *p = strstr(buf, pat);
	assert_non_null(p);
	return strtol(p + strlen(pat), NULL, 10);
}

static struct tcp_sock *established(struct harness *h, uint16_t mss, uint32_t *iss,
				    struct h_ev *ev)
{
	struct tcp_sock *s = h_passive(h, LPORT, RPORT, PISN, mss, iss, NULL, ev);
	assert_int_equal(tcp_setopt(s, TCP_OPT_NODELAY, 1), 0);
	return s;
}

/* RTO: 200 ms after the handshake's tiny RTT, doubling per retransmission. */
static void rto_backoff(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 1000, &iss, &ev);
	assert_int_equal(tcp_send(s, pattern, 100), 100);
	expect_seg(h, F_ACK | F_PSH, iss + 1, PISN + 1, 100);
	uint32_t rto = 200;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ns_next_deadline(h->st), h->now + rto);
		h_advance(h, rto - 1);
		expect_none(h);
		h_advance(h, 1);
		expect_seg(h, F_ACK | F_PSH, iss + 1, PISN + 1, 100);
		rto *= 2;
		assert_int_equal(status_field(s, "rto"), rto);
	}
	assert_int_equal(status_field(s, "retrans"), 5);
	assert_int_equal(stat_value(h, "RetransTimeouts"), 5);
	assert_int_equal(stat_value(h, "RetransSegs"), 5);
	/* The ACK of a retransmitted segment is no RTT sample (Karn). */
	h_advance(h, 3000);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 101, F_ACK, 65535, NULL, 0);
	assert_int_equal(status_field(s, "srtt"), 0);
	assert_int_equal(ns_next_deadline(h->st), NS_NEVER);
	tcp_close(s);
	h_free(h);
}

/* A partial ACK restarts the timer from now. */
static void rto_restart_on_partial_ack(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 1000, &iss, &ev);
	assert_int_equal(tcp_send(s, pattern, 2000), 2000);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 1000);
	expect_seg(h, F_ACK | F_PSH, iss + 1001, PISN + 1, 1000);
	h_advance(h, 150);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1001, F_ACK, 65535, NULL, 0);
	assert_int_equal(ns_next_deadline(h->st), h->now + status_field(s, "rto"));
	h_advance(h, (ns_time_t)status_field(s, "rto"));
	expect_seg(h, F_ACK | F_PSH, iss + 1001, PISN + 1, 1000);
	tcp_close(s);
	h_free(h);
}

/* Established give-up: after 12 unanswered retransmissions the connection fails. */
static void rto_give_up(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 1000, &iss, &ev);
	assert_int_equal(tcp_send(s, pattern, 10), 10);
	h_drain(h);
	int n = 0;
	while (tcp_state(s) == TCP_ESTABLISHED && n < 100) {
		ns_time_t d = ns_next_deadline(h->st);
		assert_true(d != NS_NEVER);
		h_advance(h, d - h->now);
		n++;
	}
	assert_int_equal(n, 13);
	assert_int_equal(h_pending(h), 12);
	assert_int_equal(tcp_state(s), TCP_CLOSED);
	assert_int_equal(tcp_error(s, false), -ETIMEDOUT);
	assert_int_equal(tcp_send(s, "x", 1), -ETIMEDOUT);
	assert_true(ev.count > 0);
	tcp_close(s);
	h_free(h);
}

/* After a timeout: cwnd = 1 MSS, ssthresh = max(flight / 2, 2 MSS); the whole window is
 * resent from snd_una in slow start. */
static void whole_window_lost(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 1000, &iss, &ev);
	assert_int_equal(status_field(s, "cwnd"), 4000);
	assert_int_equal(tcp_send(s, pattern, 4000), 4000);
	for (int i = 0; i < 4; i++)
		expect_seg(h, F_ACK | (i == 3 ? F_PSH : 0), iss + 1 + 1000 * (uint32_t)i, PISN + 1, 1000);
	expect_none(h);
	h_advance(h, 200);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 1000);
	expect_none(h);
	assert_int_equal(status_field(s, "cwnd"), 1000);
	assert_int_equal(status_field(s, "ssthresh"), 2000);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1001, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 1001, PISN + 1, 1000);
	expect_seg(h, F_ACK, iss + 2001, PISN + 1, 1000);
	expect_none(h);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 3001, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK | F_PSH, iss + 3001, PISN + 1, 1000);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 4001, F_ACK, 65535, NULL, 0);
	expect_none(h);
	tcp_close(s);
	h_free(h);
}

/* Slow start grows cwnd by one MSS per ACK; above ssthresh it grows by ~MSS per RTT. */
static void slow_start_and_avoidance(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 10000, &iss, &ev);
	assert_int_equal(status_field(s, "cwnd"), 20000);
	assert_int_equal(tcp_send(s, pattern, 80000), 80000);
	uint32_t acked = iss + 1;
	for (int i = 0; i < 2; i++)
		expect_seg(h, F_ACK, iss + 1 + 10000 * (uint32_t)i, PISN + 1, 10000);
	expect_none(h);
	acked += 10000;
	h_send(h, RPORT, LPORT, PISN + 1, acked, F_ACK, 65535, NULL, 0);
	assert_int_equal(status_field(s, "cwnd"), 30000);
	h_drain(h);
	acked += 10000;
	h_send(h, RPORT, LPORT, PISN + 1, acked, F_ACK, 65535, NULL, 0);
	assert_int_equal(status_field(s, "cwnd"), 40000);
	h_drain(h);
	/* ssthresh is 65535: the ACKs that take cwnd past it switch to avoidance */
	acked += 10000;
	h_send(h, RPORT, LPORT, PISN + 1, acked, F_ACK, 65535, NULL, 0);
	acked += 10000;
	h_send(h, RPORT, LPORT, PISN + 1, acked, F_ACK, 65535, NULL, 0);
	acked += 10000;
	h_send(h, RPORT, LPORT, PISN + 1, acked, F_ACK, 65535, NULL, 0);
	assert_int_equal(status_field(s, "cwnd"), 70000);
	acked += 10000;
	h_send(h, RPORT, LPORT, PISN + 1, acked, F_ACK, 65535, NULL, 0);
	assert_int_equal(status_field(s, "cwnd"), 70000 + 10000 * 10000 / 70000);
	h_drain(h);
	tcp_close(s);
	h_free(h);
}

/* Three duplicate ACKs: fast retransmit, recovery, inflation, full ACK deflates. */
static void fast_retransmit_and_recovery(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 1000, &iss, &ev);
	assert_int_equal(tcp_send(s, pattern, 20000), 20000);
	for (int i = 0; i < 4; i++)
		expect_seg(h, F_ACK, iss + 1 + 1000 * (uint32_t)i, PISN + 1, 1000);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1001, F_ACK, 65535, NULL, 0);
	/* cwnd 5000: two more segments */
	expect_seg(h, F_ACK, iss + 4001, PISN + 1, 1000);
	expect_seg(h, F_ACK, iss + 5001, PISN + 1, 1000);
	expect_none(h);
	/* segment 2 lost.  Limited transmit: the first two dupacks each release a new
	 * segment; the third triggers the fast retransmit. */
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1001, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 6001, PISN + 1, 1000);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1001, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 7001, PISN + 1, 1000);
	expect_none(h);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1001, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 1001, PISN + 1, 1000);
	expect_none(h);
	assert_int_equal(status_field(s, "ssthresh"), 3500);
	assert_int_equal(status_field(s, "cwnd"), 6500);
	/* inflation: +1 MSS per dupack; at 8500 a new full segment fits */
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1001, F_ACK, 65535, NULL, 0);
	expect_none(h);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1001, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 8001, PISN + 1, 1000);
	expect_none(h);
	/* full ACK (covers everything sent before recovery): cwnd = flight + 1 MSS */
	h_send(h, RPORT, LPORT, PISN + 1, iss + 8001, F_ACK, 65535, NULL, 0);
	assert_int_equal(status_field(s, "cwnd"), 2000);
	expect_seg(h, F_ACK, iss + 9001, PISN + 1, 1000);
	expect_none(h);
	assert_int_equal(stat_value(h, "Recovery"), 1);
	assert_int_equal(stat_value(h, "RecoveryDone"), 1);
	tcp_abort(s);
	tcp_close(s);
	h_free(h);
}

/* NewReno: a partial ACK during recovery retransmits the next hole at once. */
static void newreno_partial_ack(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 1000, &iss, &ev);
	assert_int_equal(tcp_send(s, pattern, 4000), 4000);
	h_drain(h);
	/* segments 1 and 3 lost */
	for (int i = 0; i < 3; i++)
		h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 1000);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2001, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 2001, PISN + 1, 1000);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 4001, F_ACK, 65535, NULL, 0);
	assert_int_equal(stat_value(h, "RecoveryDone"), 1);
	tcp_close(s);
	h_free(h);
}

/* Early retransmit (RFC 5827): two segments out, nothing more to send: one dupack is all
 * the receiver can produce, and it suffices. */
static void early_retransmit(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 1000, &iss, &ev);
	assert_int_equal(tcp_send(s, pattern, 2000), 2000);
	h_drain(h);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 1000);
	expect_none(h);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2001, F_ACK, 65535, NULL, 0);
	assert_int_equal(stat_value(h, "RecoveryDone"), 1);
	assert_int_equal(stat_value(h, "RetransTimeouts"), 0);
	tcp_close(s);
	h_free(h);
}

/* Duplicate ACKs that carry data or change the window are not counted. */
static void dupack_exclusions(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 1000, &iss, &ev);
	assert_int_equal(tcp_send(s, pattern, 3000), 3000);
	h_drain(h);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 65000, NULL, 0);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 64000, NULL, 0);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 64000, "d", 1);
	h_send(h, RPORT, LPORT, PISN + 2, iss + 1, F_ACK, 64000, "e", 1);
	expect_seg(h, F_ACK, iss + 3001, PISN + 3, 0);  /* second data segment: ACK */
	expect_none(h);
	assert_int_equal(stat_value(h, "Recovery"), 0);
	tcp_abort(s);
	tcp_close(s);
	h_free(h);
}

/* Zero window: no data; probes with backoff; probes answered keep it alive; opening the
 * window resumes at once. */
static void zero_window_persist(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 1000, &iss, &ev);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 0, NULL, 0);
	assert_int_equal(tcp_send(s, pattern, 500), 500);
	expect_none(h);
	uint32_t t = 200;
	for (int i = 0; i < 6; i++) {
		assert_int_equal(ns_next_deadline(h->st), h->now + t);
		h_advance(h, t);
		expect_seg(h, F_ACK, iss, PISN + 1, 0);
		h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 0, NULL, 0);
		expect_none(h);
		t *= 2;
	}
	assert_int_equal(tcp_state(s), TCP_ESTABLISHED);
	/* 300 bytes of window for 500 queued: sender SWS avoidance waits for the override
	 * timer (the persist timer) before sending a window-sized piece. */
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 300, NULL, 0);
	expect_none(h);
	h_advance(h, 200);
	expect_seg(h, F_ACK | F_PSH, iss + 1, PISN + 1, 300);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 301, F_ACK, 1000, NULL, 0);
	expect_seg(h, F_ACK | F_PSH, iss + 301, PISN + 1, 200);
	expect_none(h);
	assert_int_equal(stat_value(h, "PersistProbes"), 6);
	tcp_abort(s);
	tcp_close(s);
	h_free(h);
}

/* The peer closes its window with part of our data in flight (it had no room for it): the
 * retransmission timer turns into window probing, and the connection survives as long as
 * the peer answers; when the window opens the dropped segment goes again. */
static void zero_window_with_data_in_flight(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 1000, &iss, &ev);
	assert_int_equal(tcp_send(s, pattern, 3000), 3000);
	h_drain(h);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2001, F_ACK, 0, NULL, 0);
	h_advance(h, 200);              /* the RTO: nothing to resend into a closed window */
	expect_none(h);
	for (int i = 0; i < 40; i++) {
		h_advance(h, ns_next_deadline(h->st) - h->now);
		expect_seg(h, F_ACK, iss + 2000, PISN + 1, 0);  /* probe, never data */
		h_send(h, RPORT, LPORT, PISN + 1, iss + 2001, F_ACK, 0, NULL, 0);
	}
	assert_int_equal(tcp_state(s), TCP_ESTABLISHED);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2001, F_ACK, 5000, NULL, 0);
	expect_seg(h, F_ACK | F_PSH, iss + 2001, PISN + 1, 1000);
	tcp_abort(s);
	tcp_close(s);
	h_free(h);
}

/* Unanswered probes of a closed window eventually time out. */
static void zero_window_probe_timeout(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 1000, &iss, &ev);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 0, NULL, 0);
	assert_int_equal(tcp_send(s, pattern, 500), 500);
	for (int i = 0; i < 50 && tcp_state(s) == TCP_ESTABLISHED; i++)
		h_advance(h, ns_next_deadline(h->st) - h->now);
	assert_int_equal(tcp_state(s), TCP_CLOSED);
	assert_int_equal(tcp_error(s, false), -ETIMEDOUT);
	tcp_close(s);
	h_free(h);
}

static void keepalive_probes(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 1000, &iss, &ev);
	assert_int_equal(tcp_setopt(s, TCP_OPT_KEEPALIVE, 5000), 0);
	assert_int_equal(tcp_getopt(s, TCP_OPT_KEEPALIVE), 5000);
	h_advance(h, 4999);
	expect_none(h);
	h_advance(h, 1);
	expect_seg(h, F_ACK, iss, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 1, F_ACK, 65535, NULL, 0);  /* answered */
	h_advance(h, 5000);
	expect_seg(h, F_ACK, iss, PISN + 1, 0);
	for (int i = 0; i < 8; i++) {
		h_advance(h, 5000);
		expect_seg(h, F_ACK, iss, PISN + 1, 0);
	}
	assert_int_equal(tcp_state(s), TCP_ESTABLISHED);
	h_advance(h, 5000);
	expect_none(h);
	assert_int_equal(tcp_state(s), TCP_CLOSED);
	assert_int_equal(tcp_error(s, false), -ETIMEDOUT);
	tcp_close(s);
	h_free(h);
}

/* The peer's keepalive (seq = rcv_nxt - 1) and zero-window probes are ACKed at once. */
static void responds_to_keepalive(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 1000, &iss, &ev);
	h_send(h, RPORT, LPORT, PISN, iss + 1, F_ACK, 65535, NULL, 0);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 0);
	h_send(h, RPORT, LPORT, PISN, iss + 1, F_ACK, 65535, "k", 1);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 0);
	tcp_close(s);
	h_free(h);
}

/* Sequence numbers of our side wrapping: start near 2^32 by moving the clock (the ISN's
 * clock component advances 250 per ms). */
static void send_sequence_wraparound(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 1000, &iss, &ev);
	tcp_abort(s);
	tcp_close(s);
	h_drain(h);
	uint32_t to_wrap = 0u - 2500u - iss;    /* ISN distance to 2^32 - 2500 */
	h_advance(h, to_wrap / 250);
	s = established(h, 1000, &iss, &ev);
	assert_true(iss > 0xffffffffu - 3000u);
	assert_int_equal(tcp_send(s, pattern, 4000), 4000);
	for (int i = 0; i < 4; i++) {
		struct h_seg d = expect_seg(h, F_ACK | (i == 3 ? F_PSH : 0), iss + 1 + 1000 * (uint32_t)i,
					    PISN + 1, 1000);
		assert_memory_equal(d.data, pattern + 1000 * i, 1000);
	}
	/* lose the one crossing zero: RTO resends it from snd_una */
	h_send(h, RPORT, LPORT, PISN + 1, iss + 2001, F_ACK, 65535, NULL, 0);
	h_advance(h, 200);
	struct h_seg r = expect_seg(h, F_ACK, iss + 2001, PISN + 1, 1000);
	assert_memory_equal(r.data, pattern + 2000, 1000);
	h_send(h, RPORT, LPORT, PISN + 1, iss + 4001, F_ACK, 65535, NULL, 0);
	assert_int_equal(tcp_send_space(s), 256 * 1024);
	assert_int_equal(ns_next_deadline(h->st), NS_NEVER);
	tcp_close(s);
	h_free(h);
}

/* A tiny peer MSS is clamped to 64 bytes. */
static void tiny_mss_clamped(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = established(h, 8, &iss, &ev);
	assert_int_equal(tcp_send(s, pattern, 100), 100);
	expect_seg(h, F_ACK, iss + 1, PISN + 1, 64);
	expect_seg(h, F_ACK | F_PSH, iss + 65, PISN + 1, 36);
	tcp_close(s);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rto_backoff),
		cmocka_unit_test(rto_restart_on_partial_ack),
		cmocka_unit_test(rto_give_up),
		cmocka_unit_test(whole_window_lost),
		cmocka_unit_test(slow_start_and_avoidance),
		cmocka_unit_test(fast_retransmit_and_recovery),
		cmocka_unit_test(newreno_partial_ack),
		cmocka_unit_test(early_retransmit),
		cmocka_unit_test(dupack_exclusions),
		cmocka_unit_test(zero_window_persist),
		cmocka_unit_test(zero_window_with_data_in_flight),
		cmocka_unit_test(zero_window_probe_timeout),
		cmocka_unit_test(keepalive_probes),
		cmocka_unit_test(responds_to_keepalive),
		cmocka_unit_test(send_sequence_wraparound),
		cmocka_unit_test(tiny_mss_clamped),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
