/* netstack/tcp_output.c — building segments and deciding what to send. */
#include <string.h>

#include "bytes.h"
#include "csum.h"
#include "tcp_int.h"

struct tcp_hdr_out {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint16_t mss;                   /* MSS option when non-zero */
	uint8_t ttl, tos;
};

/* Write the header in front of the payload_len bytes already at ip_payload()+header size,
 * whose checksum sum (csum.h) is payload_sum, checksum the segment and send it. */
static void tcp_xmit(struct ns_stack *st, const struct tcp_hdr_out *h, size_t payload_len,
		     uint64_t payload_sum)
{
	uint8_t *th = ip_payload(st);
	size_t hl = TCP_HLEN + (h->mss ? 4 : 0);

	put16(th, h->sport);
	put16(th + 2, h->dport);
	put32(th + 4, h->seq);
	put32(th + 8, h->ack);
	th[12] = (uint8_t)(hl / 4 << 4);
	th[13] = h->flags;
	put16(th + 14, h->wnd);
	th[16] = th[17] = 0;
	th[18] = th[19] = 0;
	if (h->mss) {
		th[20] = 2;
		th[21] = 4;
		put16(th + 22, h->mss);
	}
	size_t len = hl + payload_len;
	uint64_t sum = csum_add(csum_pseudo(h->src, h->dst, IP_PROTO_TCP, (uint16_t)len), th, hl);
	uint16_t c = csum_finish(csum_add_at(sum, payload_sum, hl));
	memcpy(th + 16, &c, 2);
	st->tcp.out_segs++;
	if (h->flags & TCP_RST)
		st->tcp.out_rsts++;
	struct ip_hdr_info ip = { .src = h->src, .dst = h->dst, .proto = IP_PROTO_TCP,
				  .ttl = h->ttl, .tos = h->tos };
	ip_output(st, &ip, len);
}

/* How far the right edge must be able to move before moving it is worth it: a full segment
 * or half the largest window we can offer.  Half of TCP_MAXWIN, not of the buffer: with a
 * 64 KiB buffer the window is capped at 65535, and half the buffer (32768) would then never
 * fit after one odd-sized segment, leaving the window one segment wide for good. */
static uint32_t tcp_rcv_unit(const struct tcp_sock *s)
{
	size_t cap = s->rcvbuf.cap < TCP_MAXWIN ? s->rcvbuf.cap : TCP_MAXWIN;
	uint32_t unit = (uint32_t)(cap / 2);

	return unit < s->rcv_mss ? unit : s->rcv_mss;
}

uint32_t tcp_rcv_window(const struct tcp_sock *s)
{
	size_t space = tcp_buf_space(&s->rcvbuf);
	uint32_t win = space > TCP_MAXWIN ? TCP_MAXWIN : (uint32_t)space;
	uint32_t adv = SEQ_GT(s->rcv_adv, s->rcv_nxt) ? s->rcv_adv - s->rcv_nxt : 0;
	uint32_t unit = tcp_rcv_unit(s);

	/* Never move the right edge back; move it forward only by a worthwhile amount
	 * (receiver-side silly window avoidance, RFC 1122 4.2.3.3). */
	if (win <= adv || win - adv < unit)
		return adv;
	return win;
}

/* One segment: payload from the send buffer at off.  Callers send pure ACKs and RSTs with
 * seq = snd_max, not snd_nxt: after a timeout snd_nxt goes back to snd_una, below what the
 * peer may already have; a segment that old is unacceptable there and only draws another
 * ACK, and two stacks doing it at once would ping-pong ACKs forever (BSD uses snd_max for
 * the same reason). */
static void tcp_emit_mss(struct tcp_sock *s, uint32_t seq, uint8_t flags, uint32_t off,
			 uint32_t len, uint16_t mss)
{
	struct ns_stack *st = s->st;
	struct tcp_hdr_out h = {
		.src = s->laddr, .dst = s->raddr, .sport = s->lport, .dport = s->rport,
		.seq = seq, .flags = flags, .ttl = s->ttl, .tos = s->tos,
	};

	if (flags & TCP_ACK)
		h.ack = s->rcv_nxt;
	if (!(flags & TCP_RST)) {
		uint32_t wnd = tcp_rcv_window(s);
		/* A duplicate ACK repeats the window of the previous ACK exactly: a sender
		 * counts an ACK with a different window as a window update, not as a
		 * duplicate, and slirp's next chance after that is its 1 s timeout. */
		if (flags == TCP_ACK && !len && s->rcv_nxt == s->last_ack && !s->wnd_update)
			wnd = SEQ_GT(s->rcv_adv, s->rcv_nxt) ? s->rcv_adv - s->rcv_nxt : 0;
		h.wnd = (uint16_t)wnd;
		if (SEQ_GT(s->rcv_nxt + wnd, s->rcv_adv))
			s->rcv_adv = s->rcv_nxt + wnd;
	}
	h.mss = mss;
	size_t hl = TCP_HLEN + (h.mss ? 4 : 0);
	uint64_t payload_sum = tcp_buf_copy_out_csum(&s->sndbuf, off, ip_payload(st) + hl, len);
	if ((len || (flags & (TCP_SYN | TCP_FIN))) && SEQ_LT(seq, s->snd_max)) {
		st->tcp.retrans_segs++;
		s->retrans++;
	}
	if (flags & TCP_ACK) {
		s->last_ack = s->rcv_nxt;
		s->delack_segs = 0;
		s->ack_now = false;
		tcp_timer_stop(s, TT_DELACK);
	}
	tcp_xmit(st, &h, len, payload_sum);
}

void tcp_emit(struct tcp_sock *s, uint32_t seq, uint8_t flags, uint32_t off, uint32_t len)
{
	tcp_emit_mss(s, seq, flags, off, len, flags & TCP_SYN ? (uint16_t)(s->st->cfg.mtu - 40) : 0);
}

void tcp_reply_rst(struct ns_stack *st, const struct ip_hdr_info *ip, const uint8_t *th,
		   const struct tcp_seg *seg)
{
	if (seg->flags & TCP_RST)
		return;
	struct tcp_hdr_out h = {
		.src = ip->dst, .dst = ip->src,
		.sport = (uint16_t)(th[2] << 8 | th[3]), .dport = (uint16_t)(th[0] << 8 | th[1]),
	};
	if (seg->flags & TCP_ACK) {
		h.seq = seg->ack;
		h.flags = TCP_RST;
	} else {
		h.ack = seg->seq + seg->dlen + !!(seg->flags & TCP_SYN) + !!(seg->flags & TCP_FIN);
		h.flags = TCP_RST | TCP_ACK;
	}
	tcp_xmit(st, &h, 0, 0);
}

void tcp_send_rst(struct tcp_sock *s)
{
	tcp_emit(s, s->snd_max, TCP_RST | TCP_ACK, 0, 0);
}

void tcp_send_challenge_ack(struct tcp_sock *s)
{
	struct ns_stack *st = s->st;

	/* RFC 5961 section 7: a stack-wide budget keeps blind attackers from turning us into
	 * an ACK amplifier. */
	if (st->now - st->challenge_window >= 1000) {
		st->challenge_window = st->now;
		st->challenge_count = 0;
	}
	if (st->challenge_count >= TCP_CHALLENGE_PER_SEC)
		return;
	st->challenge_count++;
	st->tcp.challenge_acks++;
	tcp_emit(s, s->snd_max, TCP_ACK, 0, 0);
}

void tcp_retransmit_una(struct tcp_sock *s)
{
	/* Only what was sent before: bytes past snd_max are new data, and sending them here
	 * without moving snd_max would make the peer's ACK of them look bogus to us. */
	bool fin_sent = s->fin_queued && !s->fin_acked && SEQ_GT(s->snd_max, tcp_snd_end(s));
	uint32_t sent = s->snd_max - s->snd_una - fin_sent;
	uint32_t len = sent < s->mss ? sent : s->mss;
	bool fin = fin_sent && len == s->sndbuf.len;

	if (!len && !fin)
		return;
	uint8_t psh = len && len == s->sndbuf.len ? TCP_PSH : 0;
	tcp_emit(s, s->snd_una, TCP_ACK | (fin ? TCP_FIN : 0) | psh, 0, len);
}

static void tcp_output_syn(struct tcp_sock *s)
{
	if (s->snd_nxt == s->iss) {
		uint8_t flags = TCP_SYN | (s->state == TCP_SYN_RECEIVED ? TCP_ACK : 0);
		if (!s->rtt_timing && s->backoff == 0) {
			s->rtt_timing = true;
			s->rtt_seq = s->iss;
			s->rtt_start = s->st->now;
		}
		/* A retransmitted SYN-ACK goes without the MSS option.  libslirp 4.7 applies an
		 * MSS option in any state (tcp_dooptions -> tcp_mss -> sbreserve), and
		 * sbreserve empties its send buffer: if slirp is established already (our
		 * ACK was lost, or we dropped the handshake's ACK because the accept queue was
		 * full), the bytes it then retransmits are garbage.  Without the option a peer
		 * that missed the first SYN-ACK just assumes 536 (slirp: 1460). */
		uint16_t mss = s->passive && s->state == TCP_SYN_RECEIVED &&
			       SEQ_GT(s->snd_max, s->iss) ? 0 : (uint16_t)(s->st->cfg.mtu - 40);
		tcp_emit_mss(s, s->iss, flags, 0, 0, mss);
		s->snd_nxt = s->iss + 1;
		if (SEQ_GT(s->snd_nxt, s->snd_max))
			s->snd_max = s->snd_nxt;
		if (s->timer[TT_REXMT] == NS_NEVER)
			tcp_timer_set(s, TT_REXMT, s->rto);
	} else if (s->ack_now && s->state == TCP_SYN_RECEIVED) {
		tcp_emit(s, s->snd_max, TCP_ACK, 0, 0);
	}
}

/* Nagle (RFC 896) and sender-side silly window avoidance (RFC 1122 4.2.3.4) for a segment
 * shorter than the MSS. */
static bool tcp_send_small(const struct tcp_sock *s, uint32_t len, uint32_t unsent)
{
	if (SEQ_LT(s->snd_nxt, s->snd_max))
		return true;            /* resending after a timeout: the peer had it already */
	if (len == unsent && (s->nodelay || tcp_flight(s) == 0 || s->fin_queued))
		return true;
	return s->max_sndwnd && len >= s->max_sndwnd / 2;
}

void tcp_output(struct tcp_sock *s)
{
	if (s->state == TCP_CLOSED || s->state == TCP_LISTEN)
		return;
	if (s->state == TCP_SYN_SENT || s->state == TCP_SYN_RECEIVED) {
		tcp_output_syn(s);
		return;
	}
	/* Limited transmit (RFC 3042): the first two duplicate ACKs each let one new segment
	 * out, so that a small window still produces enough dupacks for fast retransmit. */
	uint32_t cwnd = s->cwnd;
	if (!s->in_recovery && s->dupacks)
		cwnd += (s->dupacks < 2 ? s->dupacks : 2) * s->mss;
	bool sent = false;
	for (;;) {
		uint32_t off = s->snd_nxt - s->snd_una;
		uint32_t unsent = s->sndbuf.len > off ? (uint32_t)s->sndbuf.len - off : 0;
		uint32_t win = s->snd_wnd < cwnd ? s->snd_wnd : cwnd;
		uint32_t flight = tcp_flight(s);
		uint32_t usable = win > flight ? win - flight : 0;
		uint32_t len = unsent < usable ? unsent : usable;
		if (len > s->mss)
			len = s->mss;
		bool fin = s->fin_queued && !s->fin_acked && off + len == s->sndbuf.len;
		if (len == 0 && !fin)
			break;
		if (len && len < s->mss && !tcp_send_small(s, len, unsent))
			break;
		if (len < unsent)
			fin = false;
		if (len && !s->rtt_timing && s->backoff == 0 && !SEQ_LT(s->snd_nxt, s->snd_max)) {
			s->rtt_timing = true;
			s->rtt_seq = s->snd_nxt;
			s->rtt_start = s->st->now;
		}
		uint8_t flags = TCP_ACK | (fin ? TCP_FIN : 0) | (len && len == unsent ? TCP_PSH : 0);
		tcp_emit(s, s->snd_nxt, flags, off, len);
		s->snd_nxt += len + fin;
		if (SEQ_GT(s->snd_nxt, s->snd_max))
			s->snd_max = s->snd_nxt;
		if (s->timer[TT_REXMT] == NS_NEVER)
			tcp_timer_set(s, TT_REXMT, s->rto);
		tcp_timer_stop(s, TT_PERSIST);
		sent = true;
		if (fin)
			break;
	}
	if (!sent && s->ack_now)
		tcp_emit(s, s->snd_max, TCP_ACK, 0, 0);
	/* Data waits but nothing is in flight to bring an ACK: only the persist timer will
	 * find out when the window opens. */
	uint32_t off = s->snd_nxt - s->snd_una;
	if (s->sndbuf.len > off && tcp_flight(s) == 0 && s->timer[TT_REXMT] == NS_NEVER &&
	    s->timer[TT_PERSIST] == NS_NEVER) {
		uint32_t t = s->rto;
		if (t < TCP_PERSIST_MIN)
			t = TCP_PERSIST_MIN;
		tcp_timer_set(s, TT_PERSIST, t);
	}
}

void tcp_window_update(struct tcp_sock *s)
{
	if (s->state != TCP_ESTABLISHED && s->state != TCP_FIN_WAIT_1 &&
	    s->state != TCP_FIN_WAIT_2)
		return;
	uint32_t adv = SEQ_GT(s->rcv_adv, s->rcv_nxt) ? s->rcv_adv - s->rcv_nxt : 0;
	uint32_t win = tcp_rcv_window(s);
	/* Like Linux: worth a segment once the window at least doubles or grows by the unit
	 * above.  A reopened zero window always qualifies, which matters: slirp probes a closed
	 * window only every 5 s. */
	if (win > adv && (win >= 2 * adv || win - adv >= tcp_rcv_unit(s))) {
		s->st->tcp.window_updates++;
		s->wnd_update = true;
		tcp_emit(s, s->snd_max, TCP_ACK, 0, 0);
		s->wnd_update = false;
	}
}
