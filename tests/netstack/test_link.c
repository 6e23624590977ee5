/* tests/netstack/test_link.c — Ethernet, ARP, IPv4, ICMP, loopback, garbage, stats. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static struct harness *unresolved(void)
{
	struct ns_config cfg = { .addr = H_ADDR, .gateway = H_PEER, .mtu = H_MTU, .seed = 9 };
	memcpy(cfg.mac, h_our_mac, 6);
	return h_new_cfg(&cfg, 0);
}

static void check_arp(const struct h_frame *f, int op, uint32_t spa, uint32_t tpa,
		      const uint8_t *eth_dst)
{
	assert_int_equal(f->len, 42);
	assert_memory_equal(f->data, eth_dst, 6);
	assert_memory_equal(f->data + 6, h_our_mac, 6);
	assert_int_equal(f->data[12], 0x08);
	assert_int_equal(f->data[13], 0x06);
	const uint8_t *a = f->data + 14;
	assert_int_equal(a[7], op);
	assert_memory_equal(a + 8, h_our_mac, 6);
	uint8_t b[4];
	put32(b, spa);
	assert_memory_equal(a + 14, b, 4);
	put32(b, tpa);
	assert_memory_equal(a + 24, b, 4);
}

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* slirp's 42-byte who-has for our address is answered. */
static void arp_answers_request(void **state)
{
	(void)state;
	struct harness *h = h_new();
	uint8_t f[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x55, 10, 0, 2, 2, 0x08, 0x06,
			  0, 1, 0x08, 0, 6, 4, 0, 1, 0x52, 0x55, 10, 0, 2, 2, 10, 0, 2, 2,
			  0, 0, 0, 0, 0, 0, 10, 0, 2, 15 };
	h_inject_frame(h, f, sizeof f);
	const struct h_frame *r = h_take_frame(h);
	check_arp(r, 2, H_ADDR, H_PEER, h_gw_mac);
	assert_memory_equal(r->data + 14 + 18, h_gw_mac, 6);
	/* who-has for another address: silence */
	f[41] = 77;
	h_inject_frame(h, f, sizeof f);
	expect_none(h);
	h_free(h);
}

/* Packets wait for the gateway's MAC; the ARP request repeats every second. */
static void arp_queue_until_resolved(void **state)
{
	(void)state;
	struct harness *h = unresolved();
	struct tcp_sock *s = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_connect(s, 0x0a000202u, 80), 0);
	check_arp(h_take_frame(h), 1, H_ADDR, H_PEER, bcast);
	expect_none(h);
	h_advance(h, 1000);
	/* the SYN's own retransmission timer fires too: queued behind ARP */
	check_arp(h_take_frame(h), 1, H_ADDR, H_PEER, bcast);
	expect_none(h);
	uint8_t f[42] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x55, 10, 0, 2, 2, 0x08, 0x06,
			  0, 1, 0x08, 0, 6, 4, 0, 2, 0x52, 0x55, 10, 0, 2, 2, 10, 0, 2, 2,
			  0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15 };
	h_inject_frame(h, f, sizeof f);
	struct h_seg a, b;
	h_take(h, &a);
	h_take(h, &b);
	assert_int_equal(a.flags, F_SYN);
	assert_int_equal(b.flags, F_SYN);
	assert_int_equal(a.seq, b.seq);
	expect_none(h);
	assert_int_equal(ns_next_deadline(h->st) > h->now, 1);
	tcp_close(s);
	h_free(h);
}

static void announce_gratuitous(void **state)
{
	(void)state;
	struct harness *h = unresolved();
	ns_announce(h->st);
	check_arp(h_take_frame(h), 1, H_ADDR, H_ADDR, bcast);
	check_arp(h_take_frame(h), 1, H_ADDR, H_PEER, bcast);
	expect_none(h);
	h_free(h);
}

#define TCP_CSUM_AT (14 + 20 + 16)
#define IP_CSUM_AT (14 + 10)

/* A SYN to port 80 with one bit of the byte at off flipped. */
static void inject_syn_flipped(struct harness *h, size_t off)
{
	struct h_seg s = { .sport = 1234, .dport = 80, .seq = 1, .flags = F_SYN, .wnd = 100 };
	uint8_t buf[200];
	size_t len = h_build(&s, buf, sizeof buf);

	buf[off] ^= 1;
	h_inject_frame(h, buf, len);
}

/* Bad checksums are counted and dropped, never answered. */
static void bad_checksums(void **state)
{
	(void)state;
	struct harness *h = h_new();
	inject_syn_flipped(h, TCP_CSUM_AT);
	expect_none(h);
	inject_syn_flipped(h, IP_CSUM_AT);
	expect_none(h);
	char st[4096];
	ns_format_stats(h->st, st, sizeof st);
	assert_non_null(strstr(st, "CsumErrs: 1\n"));
	assert_non_null(strstr(st, "InErrs: 1\n"));
	assert_non_null(strstr(st, "IpDrops: 1\n"));
	h_free(h);
}

/* A stack told that its link computes real checksums in-process (netfsd's libslirp) takes
 * a segment whose TCP checksum is wrong (here: answered with RST, nothing listens), and
 * still drops a bad IP header checksum. */
static void trusted_checksums(void **state)
{
	(void)state;
	struct ns_config cfg = {
		.addr = H_ADDR, .netmask = 0xffffff00u, .gateway = H_PEER,
		.mtu = H_MTU, .seed = 42, .rx_csum_trusted = true,
	};
	memcpy(cfg.mac, h_our_mac, 6);
	struct harness *h = h_new_cfg(&cfg, 1);
	inject_syn_flipped(h, TCP_CSUM_AT);
	expect_seg(h, F_RST | F_ACK, 0, 2, 0);
	inject_syn_flipped(h, IP_CSUM_AT);
	expect_none(h);
	char st[4096];
	ns_format_stats(h->st, st, sizeof st);
	assert_non_null(strstr(st, "CsumErrs: 0\n"));
	assert_non_null(strstr(st, "IpDrops: 1\n"));
	h_free(h);
}

/* Truncations of a valid frame at every length, bad header lengths, random bytes: no crash,
 * no output. */
static void garbage_frames(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0, 80), 0);
	assert_int_equal(tcp_listen(l, 4), 0);
	struct h_seg s = { .sport = 1234, .dport = 80, .seq = 1, .flags = F_ACK, .wnd = 100,
			   .data = "payload", .dlen = 7, .mss = 1000 };
	uint8_t buf[200];
	size_t len = h_build(&s, buf, sizeof buf);
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, buf, n);
		h_inject_frame(h, copy, n);
		free(copy);
	}
	expect_none(h);
	/* data offset beyond the segment, and below 5 */
	uint8_t b2[200];
	memcpy(b2, buf, len);
	b2[14 + 20 + 12] = 0xf0;
	h_inject_frame(h, b2, len);
	b2[14 + 20 + 12] = 0x10;
	h_inject_frame(h, b2, len);
	/* IP total length larger than the frame; IHL below 5 */
	memcpy(b2, buf, len);
	b2[14 + 2] = 0xff;
	h_inject_frame(h, b2, len);
	memcpy(b2, buf, len);
	b2[14] = 0x43;
	h_inject_frame(h, b2, len);
	expect_none(h);
	char st[4096];
	ns_format_stats(h->st, st, sizeof st);
	assert_non_null(strstr(st, "HlenErrs: 2\n"));
	srand(7);
	for (int i = 0; i < 20000; i++) {
		uint8_t r[128];
		size_t n = (size_t)rand() % sizeof r;
		for (size_t k = 0; k < n; k++)
			r[k] = (uint8_t)rand();
		if (i & 1) {            /* keep the headers plausible half of the time */
			memcpy(r, buf, n < 34 ? n : 34);
		}
		h_inject_frame(h, r, n);
	}
	h_inject_frame(h, NULL, 0);
	h_drain(h);
	assert_true(ns_format_stats(h->st, st, sizeof st) < sizeof st);
	tcp_close(l);
	h_free(h);
}

/* Options with bogus lengths don't hurt: the MSS before them still counts. */
static void malformed_options(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0, 80), 0);
	assert_int_equal(tcp_listen(l, 4), 0);
	static const uint8_t opts[] = { 2, 4, 0x01, 0x00, 8, 40, 0, 0 };
	struct h_seg s = { .sport = 1234, .dport = 80, .seq = 1, .flags = F_SYN, .wnd = 100,
			   .opts = opts, .optlen = sizeof opts };
	h_inject(h, &s);
	struct h_seg sa = expect_seg_any(h, F_SYN | F_ACK, 2, 0);
	h_send(h, 1234, 80, 2, sa.seq + 1, F_ACK, 65535, NULL, 0);
	struct tcp_sock *c = tcp_accept(l);
	assert_non_null(c);
	assert_int_equal(tcp_send(c, (char[400]){ 0 }, 400), 400);
	expect_seg(h, F_ACK, sa.seq + 1, 2, 256);
	tcp_close(l);
	h_drain(h);
	tcp_abort(c);
	tcp_close(c);
	h_free(h);
}

static void icmp_echo_reply(void **state)
{
	(void)state;
	struct harness *h = h_new();
	uint8_t f[14 + 20 + 12] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x55, 10, 0, 2, 2,
				    0x08, 0x00, 0x45, 0, 0, 32, 0, 0, 0, 0, 64, 1, 0, 0,
				    10, 0, 2, 2, 10, 0, 2, 15,
				    8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g' };
	uint32_t sum = 0;
	for (int i = 14; i < 34; i += 2)
		sum += (uint32_t)(f[i] << 8 | f[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[24] = (uint8_t)(~sum >> 8);
	f[25] = (uint8_t)~sum;
	sum = 0;
	for (int i = 34; i < 46; i += 2)
		sum += (uint32_t)(f[i] << 8 | f[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f[36] = (uint8_t)(~sum >> 8);
	f[37] = (uint8_t)~sum;
	h_inject_frame(h, f, sizeof f);
	const struct h_frame *r = h_take_frame(h);
	assert_int_equal(r->len, sizeof f);
	assert_int_equal(r->data[14 + 9], 1);
	assert_int_equal(r->data[34], 0);       /* echo reply */
	assert_memory_equal(r->data + 38, f + 38, 8);
	assert_memory_equal(r->data + 26, f + 30, 4);   /* src = our address */
	h_free(h);
}

struct loop_ev {
	int n;
};

static void loop_cb(void *user, struct tcp_sock *s)
{
	(void)s;
	((struct loop_ev *)user)->n++;
}

/* 127.0.0.1 and our own address are delivered inside the stack; a 0.0.0.0 listener takes
 * both; nothing reaches the wire. */
static void loopback_connections(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct loop_ev lev = { 0 }, cev = { 0 };
	struct tcp_sock *l = tcp_open(h->st, loop_cb, &lev);
	assert_int_equal(tcp_bind(l, 0, 7000), 0);
	assert_int_equal(tcp_listen(l, 8), 0);
	uint32_t dsts[2] = { 0x7f000001u, H_ADDR };
	for (int i = 0; i < 2; i++) {
		struct tcp_sock *c = tcp_open(h->st, loop_cb, &cev);
		assert_int_equal(tcp_connect(c, dsts[i], 7000), 0);
		assert_int_equal(tcp_state(c), TCP_ESTABLISHED);
		assert_true(cev.n > 0);
		struct tcp_sock *a = tcp_accept(l);
		assert_non_null(a);
		uint32_t la, ra;
		tcp_local(a, &la, NULL);
		tcp_remote(a, &ra, NULL);
		assert_int_equal(la, dsts[i]);
		assert_int_equal(ra, dsts[i]);
		static uint8_t big[200000];
		for (size_t k = 0; k < sizeof big; k++)
			big[k] = (uint8_t)(k * 31);
		size_t sent = 0, got = 0;
		static uint8_t rx[200000];
		while (got < sizeof big) {
			ssize_t n = tcp_send(c, big + sent, sizeof big - sent);
			if (n > 0)
				sent += (size_t)n;
			ssize_t r = tcp_recv(a, rx + got, sizeof rx - got, 0);
			assert_true(r > 0);
			got += (size_t)r;
		}
		assert_memory_equal(rx, big, sizeof big);
		tcp_close(c);
		assert_int_equal(tcp_recv(a, rx, 10, 0), 0);
		tcp_close(a);
		h_advance(h, 2000);
	}
	expect_none(h);
	assert_int_equal(ns_next_deadline(h->st), NS_NEVER);
	/* no listener on 127.0.0.1:7001: refused */
	struct tcp_sock *c = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_connect(c, 0x7f000001u, 7001), 0);
	assert_int_equal(tcp_error(c, false), -ECONNREFUSED);
	tcp_close(c);
	tcp_close(l);
	expect_none(h);
	h_free(h);
}

/* A listener bound to 127.0.0.1 does not take connections to our address. */
static void loopback_bound_listener(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0x7f000001u, 7000), 0);
	assert_int_equal(tcp_listen(l, 8), 0);
	struct tcp_sock *c = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_connect(c, H_ADDR, 7000), 0);
	assert_int_equal(tcp_error(c, false), -ECONNREFUSED);
	struct tcp_sock *d = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_connect(d, 0x7f000001u, 7000), 0);
	assert_int_equal(tcp_state(d), TCP_ESTABLISHED);
	/* segments from the wire claiming 127/8 are martians */
	h_send(h, 1, 7000, 1, 0, F_SYN, 100, NULL, 0);
	expect_seg(h, F_RST | F_ACK, 0, 2, 0);  /* (to our address: refused) */
	tcp_close(c);
	tcp_close(d);
	tcp_close(l);
	h_free(h);
}

static void stats_text(void **state)
{
	(void)state;
	struct harness *h = h_new();
	char buf[4096];
	size_t need = ns_format_stats(h->st, buf, sizeof buf);
	assert_int_equal(need, strlen(buf));
	const char *names[] = { "MaxConn: ", "MaxSegment: 65480\n", "ActiveOpens: 0\n",
				"PassiveOpens: ", "EstabResets: ", "CurrEstab: 0\n", "InSegs: ",
				"OutSegs: ", "RetransSegs: ", "RetransTimeouts: ", "InErrs: ",
				"OutRsts: ", "CsumErrs: ", "HlenErrs: ", "LenErrs: ", "OutOfOrder: " };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		assert_non_null(strstr(buf, names[i]));
	char small[10];
	assert_int_equal(ns_format_stats(h->st, small, sizeof small), need);
	assert_int_equal(strlen(small), 9);
	assert_int_equal(ns_format_stats(h->st, NULL, 0), need);
	h_free(h);
}

static void status_text(void **state)
{
	(void)state;
	struct harness *h = h_new();
	struct h_ev ev = { 0 };
	uint32_t iss;
	struct tcp_sock *s = h_passive(h, 80, 4000, 5, 1460, &iss, NULL, &ev);
	char buf[256];
	size_t n = tcp_format_status(s, buf, sizeof buf);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "Established qin 0 qout 0 srtt 0 rttvar 0 rto 200 cwnd 4380 "
				 "ssthresh 65535 swin 65535 rwin 65535 retrans 0 errno 0\n");
	assert_string_equal(tcp_state_name(TCP_FIN_WAIT_2), "Finwait2");
	assert_string_equal(tcp_state_name(TCP_SYN_RECEIVED), "Syn_received");
	tcp_close(s);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(arp_answers_request),
		cmocka_unit_test(arp_queue_until_resolved),
		cmocka_unit_test(announce_gratuitous),
		cmocka_unit_test(bad_checksums),
		cmocka_unit_test(trusted_checksums),
		cmocka_unit_test(garbage_frames),
		cmocka_unit_test(malformed_options),
		cmocka_unit_test(icmp_echo_reply),
		cmocka_unit_test(loopback_connections),
		cmocka_unit_test(loopback_bound_listener),
		cmocka_unit_test(stats_text),
		cmocka_unit_test(status_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
