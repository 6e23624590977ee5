/* netstack/tcp_cc.c — congestion control: slow start and congestion avoidance (RFC 5681),
 * fast retransmit and NewReno fast recovery (RFC 6582). */
#include <stdbool.h>

#include "tcp_int.h"

#define TCP_CWND_MAX (1u << 30)

void tcp_cc_init(struct tcp_sock *s)
{
	/* RFC 5681 3.1 initial window. */
	uint32_t iw = s->mss > 2190 ? 2 * s->mss : s->mss > 1095 ? 3 * s->mss : 4 * s->mss;
	s->cwnd = iw;
	s->ssthresh = TCP_MAXWIN;       /* the largest window the peer can offer */
	s->dupacks = 0;
	s->in_recovery = false;
}

static uint32_t tcp_flight_half(const struct tcp_sock *s)
{
	uint32_t half = (s->snd_max - s->snd_una) / 2;
	return half > 2 * s->mss ? half : 2 * s->mss;
}

void tcp_cc_ack(struct tcp_sock *s, uint32_t acked)
{
	s->dupacks = 0;
	if (s->in_recovery) {
		if (SEQ_GEQ(s->snd_una, s->recover)) {
			/* Full ACK: leave recovery with cwnd = min(ssthresh, flight + mss). */
			uint32_t flight = s->snd_max - s->snd_una;
			s->cwnd = flight + s->mss < s->ssthresh ? flight + s->mss : s->ssthresh;
			s->in_recovery = false;
			s->st->tcp.recovery_done++;
			return;
		}
		/* Partial ACK: the next hole is lost too; resend it, deflate by what was acked
		 * and add back one segment (RFC 6582 3.2 step 3). */
		tcp_retransmit_una(s);
		s->cwnd = s->cwnd > acked ? s->cwnd - acked : 0;
		s->cwnd += s->mss;
		return;
	}
	if (s->cwnd < s->ssthresh)
		s->cwnd += acked < s->mss ? acked : s->mss;     /* slow start, ABC with L = 1 */
	else
		s->cwnd += s->mss * s->mss / s->cwnd > 0 ? s->mss * s->mss / s->cwnd : 1;
	if (s->cwnd > TCP_CWND_MAX)
		s->cwnd = TCP_CWND_MAX;
}

/* Duplicate ACKs needed to call a segment lost.  Normally 3; with fewer than four segments
 * outstanding and nothing new to send, three can never come: early retransmit (RFC 5827)
 * lowers it to the number of segments behind the lost one.  On a lossy path with a tiny RTT
 * this turns most 200 ms timeouts into immediate retransmissions. */
static unsigned tcp_dupthresh(const struct tcp_sock *s)
{
	uint32_t flight = tcp_flight(s);
	uint32_t oseg = (flight + s->mss - 1) / s->mss;
	uint32_t off = s->snd_nxt - s->snd_una;
	bool more = s->sndbuf.len > off && s->snd_wnd > flight;

	if (oseg >= 4 || more || oseg < 2)
		return 3;
	return oseg - 1;
}

void tcp_cc_dupack(struct tcp_sock *s)
{
	s->dupacks++;
	if (s->in_recovery) {
		s->cwnd += s->mss;      /* each dupack: one more segment left the network */
		return;
	}
	/* RFC 6582 section 4: no new recovery for dupacks from before the last one ended. */
	if (s->dupacks != tcp_dupthresh(s) || SEQ_LT(s->snd_una, s->recover))
		return;
	s->st->tcp.recovery++;
	s->ssthresh = tcp_flight_half(s);
	s->recover = s->snd_max;
	s->in_recovery = true;
	s->rtt_timing = false;
	tcp_retransmit_una(s);
	s->cwnd = s->ssthresh + 3 * s->mss;
}

void tcp_cc_timeout(struct tcp_sock *s)
{
	s->ssthresh = tcp_flight_half(s);
	s->cwnd = s->mss;
	s->dupacks = 0;
	s->in_recovery = false;
	s->recover = s->snd_max;
}
