/* netstack/tcp_timer.c — per-socket timers driven by the injected clock, and RTT estimation.
 *
 * Each socket keeps absolute deadlines for its few timers; ns_advance() visits the sockets
 * whose earliest deadline has passed.  A scan is plenty for the number of connections a
 * daemon holds, and keeps arming/disarming (done on nearly every segment) free. */
#include <errno.h>

#include "tcp_int.h"

void tcp_timer_set(struct tcp_sock *s, enum tcp_timer t, uint32_t ms)
{
	s->timer[t] = s->st->now + ms;
}

void tcp_timer_stop(struct tcp_sock *s, enum tcp_timer t)
{
	s->timer[t] = NS_NEVER;
}

ns_time_t tcp_sock_deadline(const struct tcp_sock *s)
{
	ns_time_t d = NS_NEVER;
	for (int i = 0; i < TT_COUNT; i++)
		if (s->timer[i] < d)
			d = s->timer[i];
	return d;
}

ns_time_t tcp_deadline(const struct ns_stack *st)
{
	ns_time_t d = NS_NEVER;
	for (const struct tcp_sock *s = st->socks; s; s = s->next) {
		if (s->dead)
			continue;
		ns_time_t t = tcp_sock_deadline(s);
		if (t < d)
			d = t;
	}
	return d;
}

uint32_t tcp_time_wait_ms(const struct tcp_sock *s)
{
	return s->st->cfg.time_wait_ms ? s->st->cfg.time_wait_ms : TCP_TIME_WAIT_MS;
}

static uint32_t clamp_rto(uint32_t rto)
{
	if (rto < TCP_RTO_MIN)
		return TCP_RTO_MIN;
	return rto > TCP_RTO_MAX ? TCP_RTO_MAX : rto;
}

/* RFC 6298 section 2, in ms, with BSD's scaled integers (srtt*8, rttvar*4). */
void tcp_rtt_sample(struct tcp_sock *s, uint32_t r)
{
	if (!s->rtt_valid) {
		s->srtt8 = r * 8;
		s->rttvar4 = r * 2;
		s->rtt_valid = true;
	} else {
		int32_t delta = (int32_t)r - (int32_t)(s->srtt8 / 8);
		uint32_t adelta = delta < 0 ? (uint32_t)-delta : (uint32_t)delta;
		/* rttvar = 3/4 rttvar + 1/4 |delta|; srtt = 7/8 srtt + 1/8 r */
		s->rttvar4 = s->rttvar4 - s->rttvar4 / 4 + adelta;
		s->srtt8 = (uint32_t)((int32_t)s->srtt8 + delta);
	}
	/* RTO = srtt + max(G, 4 * rttvar), clock granularity G = 1 ms. */
	uint32_t var = s->rttvar4 > 1 ? s->rttvar4 : 1;
	s->rto = clamp_rto(s->srtt8 / 8 + var);
}

void tcp_keepalive_reset(struct tcp_sock *s)
{
	s->probes = 0;
	if (s->keepalive_ms && tcp_synchronized(s->state))
		tcp_timer_set(s, TT_KEEP, s->keepalive_ms);
}

static void tcp_timeout(struct tcp_sock *s)
{
	s->st->tcp.timeouts++;
	if (s->state == TCP_SYN_RECEIVED && s->passive) {
		tcp_done(s);
		return;
	}
	if (s->state == TCP_SYN_SENT)
		s->st->tcp.attempt_fails++;
	if (s->owned || s->parent)
		tcp_drop(s, -ETIMEDOUT);
	else
		tcp_done(s);
}

static void tcp_rexmt_timer(struct tcp_sock *s)
{
	unsigned limit = TCP_MAX_RETRIES;

	if (s->state == TCP_SYN_SENT)
		limit = TCP_SYN_RETRIES;
	else if (s->state == TCP_SYN_RECEIVED)
		limit = s->passive ? TCP_SYNACK_RETRIES : TCP_SYN_RETRIES;
	if (s->backoff >= limit) {
		tcp_timeout(s);
		return;
	}
	s->backoff++;
	s->st->tcp.retrans_timeouts++;
	s->rto = clamp_rto(s->rto * 2);
	s->rtt_timing = false;          /* Karn: no sample from a retransmitted segment */
	if (s->state == TCP_SYN_SENT || s->state == TCP_SYN_RECEIVED) {
		s->snd_nxt = s->iss;
	} else {
		tcp_cc_timeout(s);
		s->snd_nxt = s->snd_una;        /* go back N, in order: slirp 4.7 dislikes holes */
	}
	tcp_timer_set(s, TT_REXMT, s->rto);
	tcp_output(s);
}

static uint32_t tcp_backed_off(const struct tcp_sock *s, unsigned n)
{
	uint32_t t = s->rto < TCP_PERSIST_MIN ? TCP_PERSIST_MIN : s->rto;
	while (n-- && t < TCP_PERSIST_MAX)
		t *= 2;
	return t > TCP_PERSIST_MAX ? TCP_PERSIST_MAX : t;
}

/* Zero-window probe, Linux style: an ACK one below snd_una draws an ACK with the current
 * window from the peer, without committing any data to a closed window. */
static void tcp_persist_timer(struct tcp_sock *s)
{
	if (s->snd_wnd > 0) {
		/* The window is open but too small for SWS avoidance to send into: now send
		 * what fits anyway. */
		uint32_t off = s->snd_nxt - s->snd_una;
		uint32_t unsent = s->sndbuf.len > off ? (uint32_t)s->sndbuf.len - off : 0;
		uint32_t len = unsent < s->snd_wnd ? unsent : s->snd_wnd;
		if (len > s->mss)
			len = s->mss;
		if (len) {
			tcp_emit(s, s->snd_nxt, TCP_ACK | TCP_PSH, off, len);
			s->snd_nxt += len;
			if (SEQ_GT(s->snd_nxt, s->snd_max))
				s->snd_max = s->snd_nxt;
			tcp_timer_set(s, TT_REXMT, s->rto);
		}
		return;
	}
	if (s->probes >= TCP_MAX_RETRIES) {
		tcp_timeout(s);
		return;
	}
	/* probes counts unanswered probes (any ACK resets it: RFC 1122 says never give up
	 * on a receiver that keeps answering); backoff grows while the window stays shut. */
	s->st->tcp.persist_probes++;
	s->probes++;
	tcp_emit(s, s->snd_una - 1, TCP_ACK, 0, 0);
	tcp_timer_set(s, TT_PERSIST, tcp_backed_off(s, ++s->backoff));
}

static void tcp_keep_timer(struct tcp_sock *s)
{
	if (!s->keepalive_ms || !tcp_synchronized(s->state) || s->state == TCP_TIME_WAIT)
		return;
	if (s->probes >= TCP_KEEP_PROBES) {
		tcp_timeout(s);
		return;
	}
	s->probes++;
	s->st->tcp.keepalive_probes++;
	tcp_emit(s, s->snd_una - 1, TCP_ACK, 0, 0);
	uint32_t intvl = s->keepalive_ms < TCP_KEEP_INTVL_MAX ? s->keepalive_ms : TCP_KEEP_INTVL_MAX;
	tcp_timer_set(s, TT_KEEP, intvl);
}

static void tcp_wait_timer(struct tcp_sock *s)
{
	/* TIME_WAIT over, or an orphan's FIN_WAIT_2 gave up waiting for the peer's FIN. */
	tcp_done(s);
	tcp_notify(s);
}

static void tcp_timer_fire(struct tcp_sock *s, enum tcp_timer t)
{
	s->timer[t] = NS_NEVER;
	switch (t) {
	case TT_REXMT:
		tcp_rexmt_timer(s);
		break;
	case TT_PERSIST:
		tcp_persist_timer(s);
		break;
	case TT_DELACK:
		s->st->tcp.delay_acks++;
		s->ack_now = true;
		tcp_output(s);
		break;
	case TT_KEEP:
		tcp_keep_timer(s);
		break;
	case TT_WAIT:
		tcp_wait_timer(s);
		break;
	case TT_COUNT:
		break;
	}
}

void tcp_timers_run(struct ns_stack *st)
{
	for (struct tcp_sock *s = st->socks; s; s = s->next) {
		for (int t = 0; t < TT_COUNT && !s->dead; t++)
			if (s->timer[t] <= st->now)
				tcp_timer_fire(s, (enum tcp_timer)t);
	}
}
