/* netstack/tcp_input.c — segment arrival: validation, demultiplexing and the state machine
 * (RFC 9293 section 3.10.7, with RFC 5961's stricter RST/SYN/ACK checks). */
#include <errno.h>

#include "bytes.h"
#include "csum.h"
#include "tcp_int.h"

/* Validate lengths and checksum, fill seg.  Unknown options are skipped; a malformed option
 * list ends parsing (the segment itself is still fine). */
static bool tcp_parse(struct ns_stack *st, const struct ip_hdr_info *ip, const uint8_t *p,
		      size_t len, struct tcp_seg *seg)
{
	if (len < TCP_HLEN) {
		st->tcp.len_errs++;
		st->tcp.in_errs++;
		return false;
	}
	size_t hl = (size_t)(p[12] >> 4) * 4;
	if (hl < TCP_HLEN || hl > len) {
		st->tcp.hlen_errs++;
		st->tcp.in_errs++;
		return false;
	}
	/* Summing every received byte once more costs ~6% of the daemon's CPU in bulk
	 * transfers, for nothing when the sender is in-process (see rx_csum_trusted). */
	if (!st->cfg.rx_csum_trusted &&
	    csum_finish(csum_add(csum_pseudo(ip->src, ip->dst, IP_PROTO_TCP, (uint16_t)len),
				 p, len)) != 0) {
		st->tcp.csum_errs++;
		st->tcp.in_errs++;
		return false;
	}
	seg->seq = get32(p + 4);
	seg->ack = get32(p + 8);
	seg->flags = p[13] & 0x3f;
	seg->wnd = get16(p + 14);
	seg->mss = 0;
	for (size_t i = TCP_HLEN; i < hl;) {
		uint8_t kind = p[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hl)
			break;
		size_t olen = p[i + 1];
		if (olen < 2 || i + olen > hl)
			break;
		if (kind == 2 && olen == 4)
			seg->mss = get16(p + i + 2);
		i += olen;
	}
	seg->data = p + hl;
	seg->dlen = (uint32_t)(len - hl);
	return true;
}

void tcp_drop(struct tcp_sock *s, int err)
{
	s->err = err;
	s->term = err;
	/* What arrived in order before the end stays readable, as on Linux: a server's
	 * response followed by its reset must still reach the reader. */
	tcp_buf_drop(&s->sndbuf, s->sndbuf.len);
	tcp_reass_clear(&s->reass);
	tcp_done(s);
	tcp_notify(s);
}

static void tcp_set_mss(struct tcp_sock *s, uint16_t opt)
{
	uint32_t mss = opt ? opt : TCP_DEFAULT_MSS;
	uint32_t max = s->st->cfg.mtu - 40;

	if (mss < TCP_MIN_MSS)
		mss = TCP_MIN_MSS;
	s->mss = mss < max ? mss : max;
	tcp_cc_init(s);
}

static void tcp_enter_time_wait(struct tcp_sock *s)
{
	tcp_set_state(s, TCP_TIME_WAIT);
	tcp_timer_stop_all(s);
	tcp_buf_release(&s->sndbuf);
	tcp_buf_release(&s->rcvbuf);
	tcp_timer_set(s, TT_WAIT, tcp_time_wait_ms(s));
}

/* Our FIN was acknowledged. */
static bool tcp_fin_acked(struct tcp_sock *s)
{
	switch (s->state) {
	case TCP_FIN_WAIT_1:
		tcp_set_state(s, TCP_FIN_WAIT_2);
		if (!s->owned)
			tcp_timer_set(s, TT_WAIT, TCP_FIN_WAIT_2_MS);
		break;
	case TCP_CLOSING:
		tcp_enter_time_wait(s);
		break;
	case TCP_LAST_ACK:
		tcp_done(s);
		tcp_notify(s);
		return false;
	default:
		break;
	}
	tcp_notify(s);
	return true;
}

static void tcp_rcv_fin(struct tcp_sock *s)
{
	s->rcv_nxt++;
	s->fin_rcvd = true;
	s->ack_now = true;
	switch (s->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		tcp_set_state(s, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT_1:
		if (s->fin_acked)
			tcp_enter_time_wait(s);
		else
			tcp_set_state(s, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT_2:
		tcp_enter_time_wait(s);
		break;
	default:
		break;
	}
	tcp_notify(s);
}

/* Window update rule of RFC 9293 3.10.7.4: only from a segment at least as new as the last. */
static bool tcp_update_window(struct tcp_sock *s, const struct tcp_seg *seg)
{
	if (!(SEQ_LT(s->snd_wl1, seg->seq) ||
	      (s->snd_wl1 == seg->seq && SEQ_LEQ(s->snd_wl2, seg->ack))))
		return false;
	bool changed = s->snd_wnd != seg->wnd;
	s->snd_wnd = seg->wnd;
	s->snd_wl1 = seg->seq;
	s->snd_wl2 = seg->ack;
	if (s->snd_wnd > s->max_sndwnd)
		s->max_sndwnd = s->snd_wnd;
	if (s->snd_wnd && s->timer[TT_PERSIST] != NS_NEVER) {
		tcp_timer_stop(s, TT_PERSIST);
		s->probes = 0;
		s->backoff = 0;
	}
	return changed;
}

/* ACK processing in synchronized states.  false: drop the rest of the segment. */
static bool tcp_rcv_ack(struct tcp_sock *s, const struct tcp_seg *seg)
{
	uint32_t ack = seg->ack;

	if (SEQ_GT(ack, s->snd_max) || SEQ_LT(ack, s->snd_una - s->max_sndwnd)) {
		tcp_send_challenge_ack(s);
		return false;
	}
	if (SEQ_LT(ack, s->snd_una))
		return true;            /* old duplicate: nothing to learn from its ACK */
	bool win_changed = tcp_update_window(s, seg);
	uint32_t acked = ack - s->snd_una;
	if (acked == 0) {
		/* RFC 5681's duplicate ACK: outstanding data, no payload, no SYN/FIN, same
		 * window. */
		if (tcp_flight(s) && !seg->dlen && !(seg->flags & (TCP_SYN | TCP_FIN)) &&
		    !win_changed)
			tcp_cc_dupack(s);
		return true;
	}
	if (s->rtt_timing && SEQ_GT(ack, s->rtt_seq)) {
		s->rtt_timing = false;
		tcp_rtt_sample(s, (uint32_t)(s->st->now - s->rtt_start));
	}
	uint32_t data = acked;
	bool fin_now = s->fin_queued && !s->fin_acked && SEQ_GT(ack, tcp_snd_end(s));
	if (fin_now) {
		s->fin_acked = true;
		data--;
	}
	tcp_buf_drop(&s->sndbuf, data);
	if (fin_now)
		tcp_buf_release(&s->sndbuf);    /* nothing will ever be sent again */
	s->snd_una = ack;
	if (SEQ_LT(s->snd_nxt, s->snd_una))
		s->snd_nxt = s->snd_una;
	tcp_cc_ack(s, acked);
	s->backoff = 0;
	s->probes = 0;
	if (s->snd_una == s->snd_max)
		tcp_timer_stop(s, TT_REXMT);
	else
		tcp_timer_set(s, TT_REXMT, s->rto);
	if (fin_now && !tcp_fin_acked(s))
		return false;
	if (data)
		tcp_notify(s);
	return true;
}

/* Data and FIN (RFC 9293 steps 7 and 8).  The segment passed the acceptability test. */
static void tcp_rcv_text(struct tcp_sock *s, const struct tcp_seg *seg)
{
	struct ns_stack *st = s->st;
	uint32_t seq = seg->seq, dlen = seg->dlen;
	const uint8_t *data = seg->data;
	bool fin = seg->flags & TCP_FIN;

	if (s->fin_rcvd) {
		/* The peer ended its stream already: this is a retransmission. */
		if (s->state == TCP_TIME_WAIT)
			tcp_timer_set(s, TT_WAIT, tcp_time_wait_ms(s));
		s->ack_now = true;
		return;
	}
	if (s->state != TCP_ESTABLISHED && s->state != TCP_FIN_WAIT_1 &&
	    s->state != TCP_FIN_WAIT_2)
		return;
	if (SEQ_LT(seq, s->rcv_nxt)) {
		uint32_t skip = s->rcv_nxt - seq;
		if (skip > dlen)
			skip = dlen;
		seq += skip;
		data += skip;
		dlen -= skip;
		s->ack_now = true;      /* partly a retransmission: our ACK may have been lost */
	}
	/* Nobody will ever read: like Linux, new data after close() resets the connection. */
	if (dlen && !s->owned && !s->parent) {
		tcp_send_rst(s);
		tcp_drop(s, -ECONNRESET);
		return;
	}
	uint32_t off = seq - s->rcv_nxt;
	size_t room = tcp_buf_space(&s->rcvbuf);
	if (off > room || (off == room && dlen)) {
		s->ack_now = true;
		return;
	}
	if (off + dlen > room) {
		dlen = (uint32_t)room - off;
		fin = false;
		s->ack_now = true;
	}
	if (dlen > s->rcv_mss)
		s->rcv_mss = dlen;
	if (off == 0) {
		if (!tcp_buf_put_beyond(&s->rcvbuf, 0, data, dlen))
			return;         /* out of memory: as if lost */
		tcp_buf_commit(&s->rcvbuf, dlen);
		s->rcv_nxt += dlen;
		if (s->reass.n) {
			uint32_t more = tcp_reass_take(&s->reass, s->rcv_nxt);
			tcp_buf_commit(&s->rcvbuf, more);
			s->rcv_nxt += more;
			s->ack_now = true;      /* a hole was filled: tell the sender at once */
		}
		if (s->reass.fin && s->rcv_nxt == s->reass.fin_seq && !s->reass.n)
			fin = true;
		if (dlen) {
			/* Delayed ACK (RFC 1122/5681): every second segment, or after a short
			 * timer; right after a loss every segment, like Linux's quickack mode,
			 * so the sender's window regrows twice as fast. */
			if (s->quickacks) {
				s->quickacks--;
				s->ack_now = true;
			} else if (++s->delack_segs >= 2)
				s->ack_now = true;
			else if (s->timer[TT_DELACK] == NS_NEVER)
				tcp_timer_set(s, TT_DELACK, TCP_DELACK_MS);
			tcp_notify(s);
		}
	} else {
		st->tcp.out_of_order++;
		s->ack_now = true;      /* duplicate ACK drives the peer's fast retransmit */
		s->quickacks = TCP_QUICKACKS;
		if (!tcp_buf_put_beyond(&s->rcvbuf, off, data, dlen) ||
		    (dlen && !tcp_reass_add(&s->reass, seq, dlen))) {
			st->tcp.reseq_drops++;
			return;
		}
		if (fin) {
			s->reass.fin = true;
			s->reass.fin_seq = seq + dlen;
		}
		return;
	}
	if (fin)
		tcp_rcv_fin(s);
}

static bool tcp_seq_acceptable(const struct tcp_sock *s, const struct tcp_seg *seg,
			       uint32_t seglen)
{
	uint32_t adv = SEQ_GT(s->rcv_adv, s->rcv_nxt) ? s->rcv_adv - s->rcv_nxt : 0;
	size_t space = tcp_buf_space(&s->rcvbuf);
	uint32_t wnd = space > adv ? (uint32_t)space : adv;
	uint32_t seq = seg->seq;

	/* A segment without data is acceptable up to and including the right edge, as BSD and
	 * Linux have it (RFC 9293 excludes the edge): a peer whose data filled our window
	 * sends its pure ACKs with seq = its snd_max, exactly there, and they must count.
	 * With a closed window a segment at rcv_nxt still carries a useful ACK; its data is
	 * dropped later. */
	if (seglen == 0)
		return SEQ_GEQ(seq, s->rcv_nxt) && SEQ_LEQ(seq, s->rcv_nxt + wnd);
	if (wnd == 0)
		return seq == s->rcv_nxt;
	uint32_t last = seq + seglen - 1;
	return (SEQ_GEQ(seq, s->rcv_nxt) && SEQ_LT(seq, s->rcv_nxt + wnd)) ||
	       (SEQ_GEQ(last, s->rcv_nxt) && SEQ_LT(last, s->rcv_nxt + wnd));
}

static void tcp_rcv_rst(struct tcp_sock *s)
{
	switch (s->state) {
	case TCP_SYN_RECEIVED:
		if (s->passive)
			tcp_done(s);    /* only the half-open entry goes; the listener stays */
		else
			tcp_drop(s, -ECONNREFUSED);
		break;
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		s->st->tcp.estab_resets++;
		tcp_drop(s, -ECONNRESET);
		break;
	case TCP_TIME_WAIT:
		tcp_done(s);
		tcp_notify(s);
		break;
	default:
		tcp_drop(s, -ECONNRESET);
		break;
	}
}

static void tcp_syn_sent_input(struct tcp_sock *s, const struct tcp_seg *seg)
{
	bool ack_ok = false;

	if (seg->flags & TCP_ACK) {
		if (SEQ_LEQ(seg->ack, s->iss) || SEQ_GT(seg->ack, s->snd_max)) {
			if (!(seg->flags & TCP_RST))
				tcp_emit(s, seg->ack, TCP_RST, 0, 0);
			return;
		}
		ack_ok = true;
	}
	if (seg->flags & TCP_RST) {
		if (ack_ok) {
			s->st->tcp.attempt_fails++;
			tcp_drop(s, -ECONNREFUSED);
		}
		return;
	}
	if (!(seg->flags & TCP_SYN))
		return;
	s->irs = seg->seq;
	s->rcv_nxt = seg->seq + 1;
	s->rcv_adv = s->rcv_nxt;
	tcp_set_mss(s, seg->mss);
	s->snd_wnd = seg->wnd;
	s->max_sndwnd = seg->wnd;
	s->snd_wl1 = seg->seq;
	s->snd_wl2 = seg->ack;
	s->ack_now = true;
	if (!ack_ok) {
		/* Simultaneous open: answer with SYN-ACK (our SYN again, now with an ACK). */
		tcp_set_state(s, TCP_SYN_RECEIVED);
		s->snd_nxt = s->iss;
		tcp_output(s);
		return;
	}
	s->snd_una = seg->ack;
	if (s->rtt_timing) {
		s->rtt_timing = false;
		tcp_rtt_sample(s, (uint32_t)(s->st->now - s->rtt_start));
	}
	s->backoff = 0;
	tcp_timer_stop(s, TT_REXMT);
	tcp_set_state(s, TCP_ESTABLISHED);
	tcp_keepalive_reset(s);
	if (seg->dlen || (seg->flags & TCP_FIN)) {
		struct tcp_seg rest = *seg;
		rest.seq++;
		tcp_rcv_text(s, &rest);
	}
	tcp_notify(s);
	tcp_output(s);
}

/* The handshake's final ACK in SYN_RECEIVED.  false: drop the segment. */
static bool tcp_syn_received_ack(struct tcp_sock *s, const struct tcp_seg *seg)
{
	if (SEQ_LEQ(seg->ack, s->iss) || SEQ_GT(seg->ack, s->snd_max)) {
		tcp_emit(s, seg->ack, TCP_RST, 0, 0);
		return false;
	}
	/* Accept queue full: forget the ACK, as Linux does; our SYN-ACK retransmission makes
	 * the peer repeat it, by which time the application may have caught up. */
	if (s->passive && !tcp_listen_has_room(s)) {
		s->st->tcp.listen_drops++;
		return false;
	}
	s->snd_una = s->iss + 1;
	if (SEQ_LT(s->snd_nxt, s->snd_una))
		s->snd_nxt = s->snd_una;
	if (s->rtt_timing) {
		s->rtt_timing = false;
		tcp_rtt_sample(s, (uint32_t)(s->st->now - s->rtt_start));
	}
	s->backoff = 0;
	tcp_timer_stop(s, TT_REXMT);
	s->snd_wnd = seg->wnd;
	s->max_sndwnd = seg->wnd;
	s->snd_wl1 = seg->seq;
	s->snd_wl2 = seg->ack;
	tcp_set_state(s, TCP_ESTABLISHED);
	tcp_keepalive_reset(s);
	if (s->passive)
		tcp_listen_established(s);
	else
		tcp_notify(s);
	return true;
}

static void tcp_sync_input(struct tcp_sock *s, const struct tcp_seg *in)
{
	struct tcp_seg synack;
	const struct tcp_seg *seg = in;

	/* Simultaneous open: the peer's SYN-ACK repeats the SYN we already have.  Its ACK
	 * completes our handshake (as Linux does); the SYN part is old. */
	if (s->state == TCP_SYN_RECEIVED && !s->passive &&
	    (in->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == (TCP_SYN | TCP_ACK) &&
	    in->seq + 1 == s->rcv_nxt && in->ack == s->iss + 1) {
		synack = *in;
		synack.flags &= (uint8_t)~TCP_SYN;
		synack.seq++;
		seg = &synack;
	}
	uint32_t seglen = seg->dlen + !!(seg->flags & TCP_SYN) + !!(seg->flags & TCP_FIN);

	/* A retransmitted SYN for a half-open connection gets the same SYN-ACK again. */
	if (s->state == TCP_SYN_RECEIVED && (seg->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN &&
	    seg->seq == s->irs) {
		tcp_emit(s, s->iss, TCP_SYN | TCP_ACK, 0, 0);
		return;
	}
	if (!tcp_seq_acceptable(s, seg, seglen)) {
		if (seg->flags & TCP_RST)
			return;
		if (SEQ_LEQ(seg->seq + seglen, s->rcv_nxt)) {
			/* Old duplicate (or keepalive/window probe): ACK at once, unlimited. */
			if (s->state == TCP_TIME_WAIT && (seg->flags & TCP_FIN))
				tcp_timer_set(s, TT_WAIT, tcp_time_wait_ms(s));
			tcp_emit(s, s->snd_max, TCP_ACK, 0, 0);
		} else {
			tcp_send_challenge_ack(s);
		}
		return;
	}
	if (seg->flags & TCP_RST) {
		/* RFC 5961 3.2: only an exact match resets; in-window is challenged. */
		if (seg->seq == s->rcv_nxt)
			tcp_rcv_rst(s);
		else
			tcp_send_challenge_ack(s);
		return;
	}
	if (seg->flags & TCP_SYN) {
		tcp_send_challenge_ack(s);      /* RFC 5961 4.2 */
		return;
	}
	if (!(seg->flags & TCP_ACK))
		return;
	tcp_keepalive_reset(s);
	if (s->state == TCP_SYN_RECEIVED && !tcp_syn_received_ack(s, seg))
		return;
	if (!tcp_rcv_ack(s, seg))
		return;
	if (seg->dlen || (seg->flags & TCP_FIN))
		tcp_rcv_text(s, seg);
	if (s->state != TCP_CLOSED)
		tcp_output(s);
}

void tcp_input(struct ns_stack *st, const struct ip_hdr_info *ip, const uint8_t *p, size_t len)
{
	struct tcp_seg seg;

	if (!tcp_parse(st, ip, p, len, &seg))
		return;
	st->tcp.in_segs++;
	uint16_t sport = get16(p), dport = get16(p + 2);
	if (sport == 0 || dport == 0) {
		st->tcp.in_errs++;
		return;
	}
	struct tcp_sock *s = tcp_lookup(st, ip->dst, dport, ip->src, sport);
	/* A new SYN beyond a TIME_WAIT's sequence space starts a new incarnation (RFC 1122
	 * 4.2.2.13). */
	if (s && s->state == TCP_TIME_WAIT &&
	    (seg.flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN && SEQ_GT(seg.seq, s->rcv_nxt)) {
		tcp_done(s);
		s = NULL;
	}
	if (!s) {
		struct tcp_sock *l = tcp_lookup_listener(st, ip->dst, dport);
		if (l)
			tcp_listen_input(l, ip, p, &seg);
		else
			tcp_reply_rst(st, ip, p, &seg);
		return;
	}
	if (s->state == TCP_SYN_SENT)
		tcp_syn_sent_input(s, &seg);
	else
		tcp_sync_input(s, &seg);
}

void tcp_icmp_unreach(struct ns_stack *st, uint8_t code, uint32_t src, uint32_t dst,
		      const uint8_t *th)
{
	struct tcp_sock *s = tcp_lookup(st, src, get16(th), dst, get16(th + 2));
	uint32_t seq = get32(th + 4);

	/* Only a connection attempt is ended by it (RFC 1122 4.2.3.9: soft errors otherwise). */
	if (!s || s->state != TCP_SYN_SENT || seq != s->iss)
		return;
	int err;
	switch (code) {
	case 0:
		err = -ENETUNREACH;
		break;
	case 3:
		err = -ECONNREFUSED;
		break;
	default:
		err = -EHOSTUNREACH;
		break;
	}
	st->tcp.attempt_fails++;
	tcp_drop(s, err);
}
