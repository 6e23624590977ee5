/* tests/netstack/harness.c — see harness.h. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

const uint8_t h_gw_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
const uint8_t h_our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void capture(void *ctx, const uint8_t *frame, size_t len)
{
	struct harness *h = ctx;
	if (h->nframes == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->frames = realloc(h->frames, h->cap * sizeof *h->frames);
		assert_non_null(h->frames);
	}
	h->frames[h->nframes].data = malloc(len ? len : 1);
	assert_non_null(h->frames[h->nframes].data);
	memcpy(h->frames[h->nframes].data, frame, len);
	h->frames[h->nframes].len = len;
	h->nframes++;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Plain RFC 1071 checksum, written independently of the stack's. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t tcp_sum(uint32_t src, uint32_t dst, const uint8_t *seg, size_t len)
{
	uint32_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 +
		     (uint32_t)len;
	return fold(sum16(s, seg, len));
}

static void arp_reply_from_gw(struct harness *h)
{
	uint8_t f[42];
	memcpy(f, h_our_mac, 6);
	memcpy(f + 6, h_gw_mac, 6);
	put16(f + 12, 0x0806);
	uint8_t *a = f + 14;
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 2);
	memcpy(a + 8, h_gw_mac, 6);
	put32(a + 14, H_PEER);
	memcpy(a + 18, h_our_mac, 6);
	put32(a + 24, H_ADDR);
	ns_input(h->st, f, sizeof f);
}

struct harness *h_new_cfg(const struct ns_config *cfg, int resolve_arp)
{
	struct harness *h = calloc(1, sizeof *h);
	assert_non_null(h);
	h->cfg = *cfg;
	h->now = 1000;
	h->st = ns_create(cfg, capture, h, h->now);
	assert_non_null(h->st);
	if (resolve_arp)
		arp_reply_from_gw(h);
	return h;
}

struct harness *h_new(void)
{
	struct ns_config cfg = {
		.addr = H_ADDR, .netmask = 0xffffff00u, .gateway = H_PEER,
		.mtu = H_MTU, .seed = 42,
	};
	memcpy(cfg.mac, h_our_mac, 6);
	return h_new_cfg(&cfg, 1);
}

void h_free(struct harness *h)
{
	ns_destroy(h->st);
	for (size_t i = 0; i < h->nframes; i++)
		free(h->frames[i].data);
	free(h->frames);
	free(h);
}

void h_advance(struct harness *h, ns_time_t ms)
{
	h->now += ms;
	ns_advance(h->st, h->now);
}

void h_inject_frame(struct harness *h, const uint8_t *frame, size_t len)
{
	ns_input(h->st, frame, len);
}

size_t h_build(const struct h_seg *seg, uint8_t *buf, size_t cap)
{
	uint8_t mssopt[4];
	const uint8_t *opts = seg->opts;
	size_t optlen = seg->optlen;
	if (!opts && seg->mss) {
		mssopt[0] = 2;
		mssopt[1] = 4;
		put16(mssopt + 2, seg->mss);
		opts = mssopt;
		optlen = 4;
	}
	size_t thl = 20 + ((optlen + 3) & ~(size_t)3);
	size_t len = 14 + 20 + thl + seg->dlen;
	assert_true(len <= cap);
	memset(buf, 0, 14 + 20 + thl);
	memcpy(buf, h_our_mac, 6);
	memcpy(buf + 6, h_gw_mac, 6);
	put16(buf + 12, 0x0800);
	uint8_t *ip = buf + 14;
	uint32_t src = seg->src ? seg->src : H_PEER, dst = seg->dst ? seg->dst : H_ADDR;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + thl + seg->dlen));
	ip[8] = seg->ttl ? seg->ttl : 64;
	ip[9] = 6;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, fold(sum16(0, ip, 20)));
	uint8_t *th = ip + 20;
	put16(th, seg->sport);
	put16(th + 2, seg->dport);
	put32(th + 4, seg->seq);
	put32(th + 8, seg->ack);
	th[12] = (uint8_t)(thl / 4 << 4);
	th[13] = seg->flags;
	put16(th + 14, seg->wnd);
	if (optlen)
		memcpy(th + 20, opts, optlen);
	if (seg->dlen)
		memcpy(th + thl, seg->data, seg->dlen);
	put16(th + 16, tcp_sum(src, dst, th, thl + seg->dlen));
	return len;
}

void h_inject(struct harness *h, const struct h_seg *seg)
{
	size_t cap = 14 + 60 + 60 + seg->dlen;
	uint8_t *buf = malloc(cap);
	assert_non_null(buf);
	size_t len = h_build(seg, buf, cap);
	ns_input(h->st, buf, len);
	free(buf);
}

void h_send(struct harness *h, uint16_t rport, uint16_t lport, uint32_t seq, uint32_t ack,
	    uint8_t flags, uint16_t wnd, const void *data, size_t dlen)
{
	struct h_seg s = { .sport = rport, .dport = lport, .seq = seq, .ack = ack,
			   .flags = flags, .wnd = wnd, .data = data, .dlen = dlen };
	h_inject(h, &s);
}

size_t h_pending(const struct harness *h)
{
	return h->nframes - h->next;
}

const struct h_frame *h_take_frame(struct harness *h)
{
	assert_true(h->next < h->nframes);
	return &h->frames[h->next++];
}

void h_take(struct harness *h, struct h_seg *out)
{
	const struct h_frame *f = h_take_frame(h);
	const uint8_t *p = f->data;

	memset(out, 0, sizeof *out);
	assert_true(f->len >= 14 + 20 + 20);
	assert_memory_equal(p, h_gw_mac, 6);
	assert_memory_equal(p + 6, h_our_mac, 6);
	assert_int_equal(get16(p + 12), 0x0800);
	const uint8_t *ip = p + 14;
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(fold(sum16(0, ip, 20)), 0);
	size_t tot = get16(ip + 2);
	assert_int_equal(tot, f->len - 14);
	assert_int_equal(ip[9], 6);
	out->src = get32(ip + 12);
	out->dst = get32(ip + 16);
	out->ttl = ip[8];
	const uint8_t *th = ip + 20;
	size_t tl = tot - 20;
	assert_int_equal(tcp_sum(out->src, out->dst, th, tl), 0);
	size_t thl = (size_t)(th[12] >> 4) * 4;
	assert_true(thl >= 20 && thl <= tl);
	out->sport = get16(th);
	out->dport = get16(th + 2);
	out->seq = get32(th + 4);
	out->ack = get32(th + 8);
	out->flags = th[13];
	out->wnd = get16(th + 14);
	if (thl >= 24 && th[20] == 2 && th[21] == 4)
		out->mss = get16(th + 22);
	out->optlen = thl - 20;
	out->data = th + thl;
	out->dlen = tl - thl;
}

void h_drain(struct harness *h)
{
	h->next = h->nframes;
}

static const char *flag_str(uint8_t f, char *buf)
{
	static const char names[] = "FSRPAU";
	int k = 0;
	for (int i = 0; i < 6; i++)
		if (f & (1 << i))
			buf[k++] = names[i];
	buf[k] = '\0';
	return buf;
}

static struct h_seg h_expect_seq(struct harness *h, uint8_t flags, const uint32_t *seq,
				 uint32_t ack, size_t dlen, const char *file, int line)
{
	struct h_seg s;
	char a[8], b[8];

	if (h_pending(h) == 0)
		fail_msg("%s:%d: expected a segment [%s] seq %u ack %u len %zu, got nothing", file,
			 line, flag_str(flags, a), seq ? *seq : 0, ack, dlen);
	h_take(h, &s);
	if (s.flags != flags || (seq && s.seq != *seq) || s.ack != ack || s.dlen != dlen)
		fail_msg("%s:%d: expected [%s] seq %u ack %u len %zu, got [%s] seq %u ack %u len %zu",
			 file, line, flag_str(flags, a), seq ? *seq : 0, ack, dlen,
			 flag_str(s.flags, b), s.seq, s.ack, s.dlen);
	return s;
}

struct h_seg h_expect(struct harness *h, uint8_t flags, uint32_t seq, uint32_t ack, size_t dlen,
		      const char *file, int line)
{
	return h_expect_seq(h, flags, &seq, ack, dlen, file, line);
}

struct h_seg h_expect_any(struct harness *h, uint8_t flags, uint32_t ack, size_t dlen,
			  const char *file, int line)
{
	return h_expect_seq(h, flags, NULL, ack, dlen, file, line);
}

void h_expect_none(struct harness *h, const char *file, int line)
{
	if (h_pending(h)) {
		struct h_seg s;
		char a[8];
		const struct h_frame *f = &h->frames[h->next];
		if (f->len >= 14 + 20 + 20 && f->data[12] == 0x08 && f->data[13] == 0) {
			h_take(h, &s);
			fail_msg("%s:%d: expected no output, got [%s] seq %u ack %u len %zu", file,
				 line, flag_str(s.flags, a), s.seq, s.ack, s.dlen);
		}
		fail_msg("%s:%d: expected no output, got a %zu-byte frame", file, line, f->len);
	}
}

void h_event(void *user, struct tcp_sock *s)
{
	(void)s;
	((struct h_ev *)user)->count++;
}

struct tcp_sock *h_passive(struct harness *h, uint16_t lport, uint16_t rport, uint32_t peer_isn,
			   uint16_t peer_mss, uint32_t *iss, struct tcp_sock **lis,
			   struct h_ev *ev)
{
	struct h_ev lev = { 0 };
	struct tcp_sock *l = tcp_open(h->st, h_event, &lev);
	assert_non_null(l);
	assert_int_equal(tcp_bind(l, 0, lport), 0);
	assert_int_equal(tcp_listen(l, 8), 0);
	struct h_seg syn = { .sport = rport, .dport = lport, .seq = peer_isn, .flags = F_SYN,
			     .wnd = 65535, .mss = peer_mss };
	h_inject(h, &syn);
	struct h_seg sa;
	h_take(h, &sa);
	assert_int_equal(sa.flags, F_SYN | F_ACK);
	assert_int_equal(sa.ack, peer_isn + 1);
	*iss = sa.seq;
	h_send(h, rport, lport, peer_isn + 1, sa.seq + 1, F_ACK, 65535, NULL, 0);
	assert_int_equal(tcp_accept_queue_len(l), 1);
	struct tcp_sock *s = tcp_accept(l);
	assert_non_null(s);
	tcp_set_user(s, h_event, ev);
	if (lis) {
		tcp_set_user(l, NULL, NULL);
		*lis = l;
	} else {
		tcp_close(l);
	}
	expect_none(h);
	return s;
}

struct tcp_sock *h_active(struct harness *h, uint16_t rport, uint32_t peer_isn, uint16_t peer_mss,
			  uint32_t *iss, struct h_ev *ev)
{
	struct tcp_sock *s = tcp_open(h->st, h_event, ev);
	assert_non_null(s);
	assert_int_equal(tcp_connect(s, H_PEER, rport), 0);
	struct h_seg syn;
	h_take(h, &syn);
	assert_int_equal(syn.flags, F_SYN);
	*iss = syn.seq;
	struct h_seg sa = { .sport = rport, .dport = syn.sport, .seq = peer_isn, .ack = syn.seq + 1,
			    .flags = F_SYN | F_ACK, .wnd = 65535, .mss = peer_mss };
	h_inject(h, &sa);
	expect_seg(h, F_ACK, syn.seq + 1, peer_isn + 1, 0);
	assert_int_equal(tcp_state(s), TCP_ESTABLISHED);
	return s;
}
