/* netstack/tcp_timer.c — per-socket timers driven by the injected clock, and RTT estimation.
 *
 * Each socket keeps absolute deadlines for its few timers; the sockets with any timer armed
 * sit in a binary min-heap on their earliest deadline.  ns_next_deadline() is the heap's top
 * and ns_advance() visits only sockets that are due, so thousands of idle connections cost
 * nothing per loop round.  Arming and disarming (done on nearly every segment) is a sift of
 * O(log n) only when the socket's earliest deadline actually changes. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "tcp_int.h"

static ns_time_t earliest(const struct tcp_sock *s)
{
	ns_time_t d = NS_NEVER;
	for (int i = 0; i < TT_COUNT; i++)
		if (s->timer[i] < d)
			d = s->timer[i];
	return d;
}

static void heap_place(struct ns_stack *st, size_t i, struct tcp_sock *s)
{
	st->theap[i] = s;
	s->heap_idx = i;
}

static void heap_up(struct ns_stack *st, size_t i)
{
	struct tcp_sock *s = st->theap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (st->theap[parent]->deadline <= s->deadline)
			break;
		heap_place(st, i, st->theap[parent]);
		i = parent;
	}
	heap_place(st, i, s);
}

static void heap_down(struct ns_stack *st, size_t i)
{
	struct tcp_sock *s = st->theap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= st->theap_n)
			break;
		if (c + 1 < st->theap_n && st->theap[c + 1]->deadline < st->theap[c]->deadline)
			c++;
		if (s->deadline <= st->theap[c]->deadline)
			break;
		heap_place(st, i, st->theap[c]);
		i = c;
	}
	heap_place(st, i, s);
}

static void heap_remove(struct ns_stack *st, struct tcp_sock *s)
{
	size_t i = s->heap_idx;
	struct tcp_sock *last = st->theap[--st->theap_n];

	s->heap_idx = TCP_NO_HEAP;
	if (last == s)
		return;
	heap_place(st, i, last);
	heap_up(st, i);
	heap_down(st, last->heap_idx);
}

/* The socket's earliest deadline may have changed: fix its place in the heap. */
static void tcp_timer_sync(struct tcp_sock *s)
{
	struct ns_stack *st = s->st;
	ns_time_t d = earliest(s);

	if (d == s->deadline)
		return;
	s->deadline = d;
	if (d == NS_NEVER) {
		if (s->heap_idx != TCP_NO_HEAP)
			heap_remove(st, s);
		return;
	}
	if (s->heap_idx == TCP_NO_HEAP) {
		/* Room was reserved when the socket was created (tcp_timer_reserve). */
		heap_place(st, st->theap_n++, s);
		heap_up(st, s->heap_idx);
		return;
	}
	heap_up(st, s->heap_idx);
	heap_down(st, s->heap_idx);
}

int tcp_timer_reserve(struct ns_stack *st, size_t nsocks)
{
	if (nsocks <= st->theap_cap)
		return 0;
	size_t cap = st->theap_cap ? st->theap_cap * 2 : 64;
	while (cap < nsocks)
		cap *= 2;
	struct tcp_sock **h = realloc(st->theap, cap * sizeof *h);
	if (!h)
		return -ENOMEM;
	st->theap = h;
	st->theap_cap = cap;
	return 0;
}

void tcp_timer_set(struct tcp_sock *s, enum tcp_timer t, uint32_t ms)
{
	/* At least 1 ms: a timer due "now" would be run again by the same ns_advance(). */
	s->timer[t] = s->st->now + (ms ? ms : 1);
	tcp_timer_sync(s);
}

void tcp_timer_stop(struct tcp_sock *s, enum tcp_timer t)
{
	s->timer[t] = NS_NEVER;
	tcp_timer_sync(s);
}

void tcp_timer_stop_all(struct tcp_sock *s)
{
	for (int i = 0; i < TT_COUNT; i++)
		s->timer[i] = NS_NEVER;
	tcp_timer_sync(s);
}

ns_time_t tcp_deadline(const struct ns_stack *st)
{
	return st->theap_n ? st->theap[0]->deadline : NS_NEVER;
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
	bool syn = s->state == TCP_SYN_SENT || s->state == TCP_SYN_RECEIVED;
	unsigned limit = TCP_MAX_RETRIES;

	if (!syn && s->snd_wnd == 0 && s->sndbuf.len) {
		/* The peer took what it could and closed its window: the rest was dropped for
		 * lack of room, not lost.  Probe the window (tcp_output arms the persist
		 * timer) instead of counting timeouts against a peer that is alive. */
		s->snd_nxt = s->snd_una;
		tcp_output(s);
		return;
	}
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
	if (syn) {
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
	tcp_timer_stop(s, t);
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
	while (st->theap_n && st->theap[0]->deadline <= st->now) {
		struct tcp_sock *s = st->theap[0];
		/* Each timer is stopped before it fires and can only be set again into the
		 * future, so this loop ends. */
		for (int t = 0; t < TT_COUNT; t++)
			if (s->timer[t] <= st->now)
				tcp_timer_fire(s, (enum tcp_timer)t);
	}
}
