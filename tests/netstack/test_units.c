/* tests/netstack/test_units.c — the pure pieces: ring buffer, reassembly ranges, RTT
 * estimator, checksum, address parsing. */
#include <arpa/inet.h>
#include <string.h>

#include "harness.h"
#include "csum.h"
#include "tcp_int.h"

static void ring_wraps(void **state)
{
	(void)state;
	struct tcp_buf b;
	tcp_buf_init(&b, 10);
	assert_null(b.data);            /* memory on first use */
	assert_int_equal(tcp_buf_space(&b), 10);
	assert_int_equal(tcp_buf_append(&b, "abcdefgh", 8), 8);
	tcp_buf_drop(&b, 6);
	assert_int_equal(tcp_buf_append(&b, "ijklmnopq", 9), 8);   /* 2 + 8 = full */
	assert_int_equal(tcp_buf_space(&b), 0);
	char out[10];
	tcp_buf_copy_out(&b, 0, out, 10);
	assert_memory_equal(out, "ghijklmnop", 10);
	tcp_buf_copy_out(&b, 3, out, 4);
	assert_memory_equal(out, "jklm", 4);
	assert_int_equal(tcp_buf_resize(&b, 4), 0);     /* never below the contents */
	assert_int_equal(b.cap, 10);
	tcp_buf_drop(&b, 5);
	assert_int_equal(tcp_buf_resize(&b, 6), 0);
	tcp_buf_copy_out(&b, 0, out, 5);
	assert_memory_equal(out, "lmnop", 5);
	/* bytes stored past the data survive the reader draining it */
	tcp_buf_put_beyond(&b, 0, "Z", 1);
	tcp_buf_drop(&b, 5);
	tcp_buf_commit(&b, 1);
	tcp_buf_copy_out(&b, 0, out, 1);
	assert_int_equal(out[0], 'Z');
	tcp_buf_release(&b);            /* not empty: kept */
	assert_non_null(b.data);
	tcp_buf_drop(&b, 1);
	tcp_buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 6);
	tcp_buf_free(&b);
}

/* A ring starts at a page and doubles as data needs it, up to cap; growing keeps wrapped
 * data and out-of-order bytes stored past it at their offsets. */
static void ring_grows(void **state)
{
	(void)state;
	static char in[6000], out[6000];
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (char)(i * 7 + 1);
	struct tcp_buf b;
	tcp_buf_init(&b, 256 * 1024);
	assert_int_equal(tcp_buf_append(&b, in, 1), 1);
	assert_int_equal(b.size, 4096);                 /* a small message costs a page */
	tcp_buf_drop(&b, 1);
	assert_int_equal(tcp_buf_append(&b, in, 3000), 3000);
	tcp_buf_drop(&b, 2000);
	assert_int_equal(tcp_buf_append(&b, in + 3000, 3000), 3000);   /* wraps */
	assert_int_equal(b.size, 4096);
	assert_true(tcp_buf_put_beyond(&b, 1500, "XY", 2));          /* needs 5502: grows */
	assert_int_equal(b.size, 8192);
	tcp_buf_copy_out(&b, 0, out, 4000);
	assert_memory_equal(out, in + 2000, 4000);
	assert_true(tcp_buf_put_beyond(&b, 0, in, 1500));
	tcp_buf_commit(&b, 1502);
	tcp_buf_copy_out(&b, 5500, out, 2);
	assert_memory_equal(out, "XY", 2);
	assert_int_equal(tcp_buf_append(&b, in, 6000), 6000);          /* 11502: 16 KiB */
	assert_int_equal(b.size, 16384);
	assert_int_equal(tcp_buf_resize(&b, 12000), 0);                /* shrinks the memory */
	assert_int_equal(b.size, 12000);
	tcp_buf_copy_out(&b, 5502, out, 6000);
	assert_memory_equal(out, in, 6000);
	tcp_buf_free(&b);
}

static void reass_ranges(void **state)
{
	(void)state;
	struct tcp_reass r = { 0 };
	assert_true(tcp_reass_add(&r, 100, 10));
	assert_true(tcp_reass_add(&r, 130, 10));
	assert_true(tcp_reass_add(&r, 110, 5));         /* touches the first */
	assert_int_equal(r.n, 2);
	assert_int_equal(r.start[0], 100);
	assert_int_equal(r.end[0], 115);
	assert_true(tcp_reass_add(&r, 112, 20));        /* bridges both */
	assert_int_equal(r.n, 1);
	assert_int_equal(r.end[0], 140);
	assert_int_equal(tcp_reass_take(&r, 90), 0);
	assert_int_equal(tcp_reass_take(&r, 100), 40);
	assert_int_equal(r.n, 0);
	/* the cap: TCP_REASS_MAX separate ranges, then refusals (merges still fine) */
	for (unsigned i = 0; i < TCP_REASS_MAX; i++)
		assert_true(tcp_reass_add(&r, 1000 + 100 * i, 10));
	assert_false(tcp_reass_add(&r, 5000, 10));
	assert_true(tcp_reass_add(&r, 1005, 20));
	assert_int_equal(r.n, TCP_REASS_MAX);
	/* across the wrap */
	tcp_reass_clear(&r);
	r.n = 0;
	assert_true(tcp_reass_add(&r, 0xfffffff0u, 0x20));
	assert_int_equal(tcp_reass_take(&r, 0xffffffe0u), 0);
	assert_int_equal(tcp_reass_take(&r, 0xfffffff8u), 0x18);
}

/* RFC 6298 arithmetic: first sample R -> srtt R, rttvar R/2, RTO srtt + 4 rttvar, with the
 * 200 ms floor and 60 s ceiling. */
static void rtt_estimator(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *s = tcp_open(h->st, NULL, NULL);
	tcp_rtt_sample(s, 100);
	assert_int_equal(s->srtt8 / 8, 100);
	assert_int_equal(s->rttvar4 / 4, 50);
	assert_int_equal(s->rto, 300);
	tcp_rtt_sample(s, 200);
	/* rttvar = 3/4 50 + 1/4 100 = 62.5; srtt = 7/8 100 + 1/8 200 = 112.5 */
	assert_int_equal(s->rttvar4, 250);
	assert_int_equal(s->srtt8, 900);
	assert_int_equal(s->rto, 112 + 250);
	for (int i = 0; i < 50; i++)
		tcp_rtt_sample(s, 1);
	assert_int_equal(s->rto, 200);
	tcp_rtt_sample(s, 100000);
	assert_int_equal(s->rto, 60000);
	tcp_close(s);
	h_free(h);
}

/* Many sockets with timers: the next deadline is always the earliest, timers fire in
 * order, and idle connections hold no buffer memory. */
static void timer_heap_order(void **state)
{
	(void)state;
	struct harness *h = h_new();
	enum { N = 300 };
	struct tcp_sock *socks[N];
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *l;
	socks[0] = h_passive(h, 80, 20000, 1000, 1460, &iss, &l, &ev);
	for (int i = 1; i < N; i++) {
		h_send(h, (uint16_t)(20000 + i), 80, 1000, 0, F_SYN, 65535, NULL, 0);
		struct h_seg sa;
		h_take(h, &sa);
		h_send(h, (uint16_t)(20000 + i), 80, 1001, sa.seq + 1, F_ACK, 65535, NULL, 0);
		socks[i] = tcp_accept(l);
		assert_non_null(socks[i]);
	}
	ns_time_t due[N];
	long ms[N];
	for (int i = 0; i < N; i++) {
		ms[i] = 1000 + (i * 7919) % 5000;
		assert_int_equal(tcp_setopt(socks[i], TCP_OPT_KEEPALIVE, ms[i]), 0);
		due[i] = h->now + (ns_time_t)ms[i];
		assert_null(socks[i]->sndbuf.data);
		assert_null(socks[i]->rcvbuf.data);
	}
	for (int k = 0; k < 3 * N; k++) {
		ns_time_t min = NS_NEVER;
		for (int i = 0; i < N; i++)
			if (due[i] < min)
				min = due[i];
		assert_int_equal(ns_next_deadline(h->st), min);
		h_advance(h, min - h->now);
		while (h_pending(h)) {
			struct h_seg p;
			h_take(h, &p);
			int i = p.dport - 20000;
			assert_true(i >= 0 && i < N);
			assert_int_equal(due[i], min);
			due[i] = min + (ns_time_t)ms[i];        /* keepalive interval */
		}
	}
	for (int i = 0; i < N; i++) {
		tcp_abort(socks[i]);
		tcp_close(socks[i]);
	}
	tcp_close(l);
	assert_int_equal(ns_next_deadline(h->st), NS_NEVER);
	h_free(h);
}

static void checksum_known(void **state)
{
	(void)state;
	/* RFC 1071's example bytes: 00 01 f2 03 f4 f5 f6 f7 -> sum ddf2, checksum 220d */
	static const uint8_t d[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint16_t c = csum_finish(csum_add(0, d, sizeof d));
	uint8_t be[2];
	memcpy(be, &c, 2);
	assert_int_equal(be[0], 0x22);
	assert_int_equal(be[1], 0x0d);
	/* odd length: a trailing byte counts as the high half of a word */
	static const uint8_t o[] = { 0x01, 0x02, 0x03 };
	c = csum_finish(csum_add(0, o, sizeof o));
	memcpy(be, &c, 2);
	assert_int_equal(be[0] << 8 | be[1], (uint16_t)~(0x0102 + 0x0300));
}

/* RFC 1071 the slow way: big-endian 16-bit words, a trailing odd byte padded with zero. */
static uint16_t checksum_reference(uint32_t start, const uint8_t *d, size_t n)
{
	uint32_t sum = start;
	for (size_t i = 0; i < n; i += 2)
		sum += (uint32_t)(d[i] << 8 | (i + 1 < n ? d[i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t stored(uint16_t c)
{
	uint8_t be[2];
	memcpy(be, &c, 2);
	return (uint16_t)(be[0] << 8 | be[1]);
}

/* The word-at-a-time and vector sums, the fused copy and sums of pieces that start at odd
 * offsets all agree with the reference, for every length around the block sizes and for
 * segment-sized buffers at every alignment. */
static void checksum_matches_reference(void **state)
{
	(void)state;
	enum { N = 66000 };
	static uint8_t d[N + 8], copy[N + 8];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < sizeof d; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		d[i] = (uint8_t)x;
	}
	memset(d + 100, 0xff, 300);     /* long carries */
	size_t lens[600], nl = 0;
	for (size_t l = 0; l < 520; l++)
		lens[nl++] = l;
	size_t big[] = { 1023, 1024, 1460, 4096, 32767, 65480, 65535, N };
	for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
		lens[nl++] = big[i];
	for (size_t i = 0; i < nl; i++) {
		for (size_t align = 0; align < 8; align++) {
			size_t l = lens[i];
			if (align + l > N)
				continue;
			const uint8_t *p = d + align;
			uint16_t want = checksum_reference(0x1234, p, l);
			assert_int_equal(stored(csum_finish(csum_add(htons(0x1234), p, l))), want);
			memset(copy, 0, l);
			uint64_t s = csum_copy(htons(0x1234), copy, p, l);
			assert_int_equal(stored(csum_finish(s)), want);
			assert_memory_equal(copy, p, l);
			size_t cut = l / 3 | 1;         /* odd, so the second piece is shifted */
			if (cut <= l) {
				s = csum_add(htons(0x1234), p, cut);
				s = csum_add_at(s, csum_add(0, p + cut, l - cut), cut);
				assert_int_equal(stored(csum_finish(s)), want);
			}
		}
	}
}

static void parse_and_format_ip(void **state)
{
	(void)state;
	uint32_t a;
	assert_int_equal(ns_parse_ip("10.0.2.15", &a), 0);
	assert_int_equal(a, 0x0a00020fu);
	assert_int_equal(ns_parse_ip("255.255.255.255", &a), 0);
	assert_int_equal(a, 0xffffffffu);
	const char *bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "a.b.c.d",
			      "1.2.3.4 ", "0001.2.3.4", "-1.2.3.4", "1.2.3.", NULL };
	for (int i = 0; bad[i]; i++)
		assert_int_equal(ns_parse_ip(bad[i], &a), -1);
	assert_int_equal(ns_parse_ip(NULL, &a), -1);
	char buf[16];
	assert_string_equal(ns_format_ip(0x7f000001u, buf), "127.0.0.1");
	assert_string_equal(ns_format_ip(0xffffffffu, buf), "255.255.255.255");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_wraps),
		cmocka_unit_test(ring_grows),
		cmocka_unit_test(reass_ranges),
		cmocka_unit_test(rtt_estimator),
		cmocka_unit_test(timer_heap_order),
		cmocka_unit_test(checksum_known),
		cmocka_unit_test(checksum_matches_reference),
		cmocka_unit_test(parse_and_format_ip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
