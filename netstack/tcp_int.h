/* netstack/tcp_int.h — TCP internals shared by the tcp_*.c files (not part of the API). */
#ifndef NETSTACK_TCP_INT_H
#define NETSTACK_TCP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "ip.h"
#include "stack_int.h"
#include "tcp.h"
#include "tcp_buf.h"
#include "tcp_reass.h"

/* Sequence space comparisons, correct across wraparound. */
#define SEQ_LT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

#define TCP_HLEN 20
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

#define TCP_MAXWIN 65535u               /* no window scaling: slirp never echoes it */
#define TCP_DEFAULT_MSS 536u            /* RFC 9293, when the peer sends no MSS option */
#define TCP_MIN_MSS 64u                 /* smaller MSS options are clamped up to this */
#define TCP_SNDBUF_DEFAULT (256u * 1024)
#define TCP_RCVBUF_DEFAULT (64u * 1024)
#define TCP_BUF_MIN 4096u
#define TCP_BUF_MAX (16u * 1024 * 1024)

/* Timers (ms).  RTO per RFC 6298 with Linux's 200 ms floor: the link is in-process, RTTs are
 * tiny, and a 1 s floor would make every loss cost a second. */
#define TCP_RTO_INIT 1000u
#define TCP_RTO_MIN 200u
#define TCP_RTO_MAX 60000u
#define TCP_SYN_RETRIES 6               /* 1+2+4+...+64 s: give up after ~127 s, like Linux */
#define TCP_SYNACK_RETRIES 5            /* half-open entries die after ~63 s */
#define TCP_MAX_RETRIES 12              /* established: ~5 min of backed-off retransmits */
#define TCP_DELACK_MS 40                /* Linux's minimum delayed-ACK time */
#define TCP_QUICKACKS 16                /* Linux's TCP_MAX_QUICKACKS */
#define TCP_FIN_WAIT_2_MS 60000u        /* orphaned FIN_WAIT_2, like Linux's tcp_fin_timeout */
/* TIME_WAIT: 2*MSL would be minutes.  Every peer of this stack is slirp on the same host or the
 * stack itself, where no old duplicate survives anywhere near a second, so 1 s keeps ports
 * reusable quickly while still absorbing a retransmitted FIN.  cfg.time_wait_ms overrides. */
#define TCP_TIME_WAIT_MS 1000u
#define TCP_KEEP_PROBES 9
#define TCP_KEEP_INTVL_MAX 75000u
#define TCP_PERSIST_MIN 200u
#define TCP_PERSIST_MAX 60000u
#define TCP_CHALLENGE_PER_SEC 100       /* RFC 5961 challenge ACKs, stack-wide */
#define TCP_EPHEMERAL_LO 32768
#define TCP_EPHEMERAL_HI 60999

enum tcp_timer {
	TT_REXMT,       /* retransmission, also SYN and SYN-ACK */
	TT_PERSIST,     /* zero-window probes */
	TT_DELACK,
	TT_KEEP,        /* keepalive */
	TT_WAIT,        /* TIME_WAIT and orphaned FIN_WAIT_2 */
	TT_COUNT
};

#define TCP_NO_HEAP SIZE_MAX

struct tcp_queue {
	struct tcp_sock *head, *tail;
	unsigned n;
};

struct tcp_sock {
	struct ns_stack *st;
	struct tcp_sock *prev, *next;   /* st->socks */
	struct tcp_sock *qnext;         /* in the parent's SYN or accept queue */
	struct tcp_sock *reap_next;
	struct tcp_sock *hnext, **hpprev;       /* st->conns or st->listeners chain */
	enum tcp_state state;
	tcp_event_fn ev;
	void *user;
	bool owned;                     /* a user holds it: from tcp_open/tcp_accept to tcp_close */
	bool dead;                      /* on st->reap */
	bool passive;                   /* created by a listener */
	bool connected_once;            /* connect or listen happened: no second one */
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	int err;                        /* pending error for tcp_error(), negative errno */
	int term;                       /* terminal condition send/recv report after a reset */

	/* Listener side: a child sits in exactly one of the parent's queues until accepted. */
	struct tcp_sock *parent;
	struct tcp_queue synq, acceptq;
	bool in_acceptq;
	int backlog;

	/* Send sequence space.  The send buffer holds the bytes from snd_una on (after the SYN
	 * is acknowledged); a FIN, once queued, sits right after them. */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_sndwnd;
	uint32_t mss;                   /* send MSS */
	struct tcp_buf sndbuf;
	bool fin_queued, fin_acked;

	/* Receive sequence space. */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge of the window we advertised */
	uint32_t last_ack;              /* acknowledgment number of our latest ACK */
	bool wnd_update;                /* the ACK being sent is a window update */
	uint32_t rcv_mss;               /* largest segment seen: SWS and delayed-ACK unit */
	struct tcp_buf rcvbuf;
	struct tcp_reass reass;
	bool fin_rcvd, shut_rd;

	/* RTT (RFC 6298), ms; srtt scaled by 8, rttvar by 4, as in BSD. */
	uint32_t srtt8, rttvar4, rto;
	bool rtt_valid, rtt_timing;
	uint32_t rtt_seq;
	ns_time_t rtt_start;
	unsigned backoff;               /* consecutive retransmission timeouts */
	unsigned probes;                /* unanswered persist or keepalive probes */

	/* Congestion control (RFC 5681, NewReno RFC 6582). */
	uint32_t cwnd, ssthresh, recover;
	unsigned dupacks;
	bool in_recovery;

	unsigned delack_segs;           /* segments received since our last ACK */
	unsigned quickacks;             /* segments still to ACK at once after a loss */
	bool ack_now;
	ns_time_t timer[TT_COUNT];
	ns_time_t deadline;             /* earliest of timer[], the heap key */
	size_t heap_idx;                /* place in st->theap, TCP_NO_HEAP if none armed */

	bool nodelay;
	uint32_t keepalive_ms;
	uint8_t ttl, tos;
	uint64_t retrans;               /* segments retransmitted, for status */
};

struct tcp_seg {
	uint32_t seq, ack;
	uint16_t wnd;
	uint8_t flags;
	uint16_t mss;                   /* MSS option, 0 if absent */
	const uint8_t *data;
	uint32_t dlen;
};

/* tcp_table.c: the stack's sockets, ports, demultiplexing, lifetime */
struct tcp_sock *tcp_sock_new(struct ns_stack *st);
/* Make the socket findable by its 4-tuple (after connect) or, listening, by its port. */
void tcp_hash_conn(struct tcp_sock *s);
void tcp_hash_listener(struct tcp_sock *s);
struct tcp_sock *tcp_lookup(struct ns_stack *st, uint32_t laddr, uint16_t lport,
			    uint32_t raddr, uint16_t rport);
struct tcp_sock *tcp_lookup_listener(struct ns_stack *st, uint32_t laddr, uint16_t lport);
int tcp_port_bind(struct tcp_sock *s, uint32_t addr, uint16_t port);
/* The socket now uses local port port (bound, or a listener's child). */
void tcp_port_take(struct tcp_sock *s, uint16_t port);
int tcp_port_check_tuple(struct tcp_sock *s);
/* The connection is over: CLOSED, timers off, freed once nobody holds it. */
void tcp_done(struct tcp_sock *s);
void tcp_release(struct tcp_sock *s);
void tcp_reap(struct ns_stack *st);
void tcp_free_all(struct ns_stack *st);
void tcp_set_state(struct tcp_sock *s, enum tcp_state state);
void tcp_notify(struct tcp_sock *s);

/* tcp_input.c */
void tcp_input(struct ns_stack *st, const struct ip_hdr_info *ip, const uint8_t *seg,
	       size_t len);
void tcp_icmp_unreach(struct ns_stack *st, uint8_t code, uint32_t src, uint32_t dst,
		      const uint8_t *tcph);
/* An error ends the connection: record it, CLOSED, wake the user. */
void tcp_drop(struct tcp_sock *s, int err);

/* tcp_output.c */
void tcp_output(struct tcp_sock *s);
void tcp_emit(struct tcp_sock *s, uint32_t seq, uint8_t flags, uint32_t off, uint32_t len);
void tcp_send_rst(struct tcp_sock *s);
void tcp_reply_rst(struct ns_stack *st, const struct ip_hdr_info *ip, const uint8_t *th,
		   const struct tcp_seg *seg);
void tcp_send_challenge_ack(struct tcp_sock *s);
void tcp_retransmit_una(struct tcp_sock *s);
uint32_t tcp_rcv_window(const struct tcp_sock *s);
/* After the user read: send a window update if the window opened enough to matter. */
void tcp_window_update(struct tcp_sock *s);

/* tcp_timer.c */
void tcp_timer_set(struct tcp_sock *s, enum tcp_timer t, uint32_t ms);
void tcp_timer_stop(struct tcp_sock *s, enum tcp_timer t);
void tcp_timer_stop_all(struct tcp_sock *s);
int tcp_timer_reserve(struct ns_stack *st, size_t nsocks);
void tcp_timers_run(struct ns_stack *st);
ns_time_t tcp_deadline(const struct ns_stack *st);
void tcp_rtt_sample(struct tcp_sock *s, uint32_t rtt_ms);
void tcp_keepalive_reset(struct tcp_sock *s);
uint32_t tcp_time_wait_ms(const struct tcp_sock *s);

/* tcp_listen.c */
void tcp_listen_input(struct tcp_sock *l, const struct ip_hdr_info *ip, const uint8_t *th,
		      const struct tcp_seg *seg);
bool tcp_listen_has_room(const struct tcp_sock *child);
void tcp_listen_established(struct tcp_sock *child);
void tcp_listen_unlink(struct tcp_sock *child);
void tcp_listen_shutdown(struct tcp_sock *l);

/* tcp_cc.c */
void tcp_cc_init(struct tcp_sock *s);
void tcp_cc_ack(struct tcp_sock *s, uint32_t acked);
void tcp_cc_dupack(struct tcp_sock *s);
void tcp_cc_timeout(struct tcp_sock *s);

/* tcp_isn.c: keyed hashes for ISNs (RFC 6528) and ephemeral port offsets (RFC 6056) */
uint32_t tcp_isn(struct ns_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport);
uint32_t tcp_port_offset(struct ns_stack *st, uint32_t laddr, uint32_t raddr, uint16_t rport);

static inline uint32_t tcp_flight(const struct tcp_sock *s)
{
	return s->snd_nxt - s->snd_una;
}

/* Sequence number just after the last byte in the send buffer (where a FIN goes). */
static inline uint32_t tcp_snd_end(const struct tcp_sock *s)
{
	return s->snd_una + (uint32_t)s->sndbuf.len;
}

static inline bool tcp_synchronized(enum tcp_state st)
{
	return st >= TCP_ESTABLISHED;
}

#endif
