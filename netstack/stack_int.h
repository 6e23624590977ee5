/* netstack/stack_int.h — the stack object shared by the protocol modules (not installed). */
#ifndef NETSTACK_STACK_INT_H
#define NETSTACK_STACK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack.h"

/* A copied packet waiting in a queue (loopback, or frames waiting for ARP). */
struct ns_pkt {
	struct ns_pkt *next;
	size_t len;
	uint8_t data[];
};

struct ns_pktq {
	struct ns_pkt *head, *tail;
	size_t n;
};

bool ns_pktq_push(struct ns_pktq *q, const uint8_t *data, size_t len);
struct ns_pkt *ns_pktq_pop(struct ns_pktq *q);

/* Counters behind ns_format_stats(); names follow Plan 9's tcp/stats. */
struct ns_tcp_stats {
	uint64_t active_opens, passive_opens, attempt_fails, estab_resets, curr_estab;
	uint64_t in_segs, out_segs, retrans_segs, retrans_timeouts, in_errs, out_rsts;
	uint64_t csum_errs, hlen_errs, len_errs, out_of_order, reseq_drops;
	uint64_t delay_acks, window_updates, recovery, recovery_done, challenge_acks;
	uint64_t listen_drops, persist_probes, keepalive_probes, timeouts;
};

/* Link and IP level drops, shown after the TCP counters. */
struct ns_link_stats {
	uint64_t in_frames, out_frames, bad_frames, arp_queue_drops, ip_drops, icmp_in;
};

struct tcp_sock;

#define NS_CONN_HASH 4096
#define NS_LISTEN_HASH 256

struct ns_arp {
	bool resolved;
	uint8_t gw_mac[6];
	struct ns_pktq pending;         /* frames waiting for the gateway's MAC */
	ns_time_t retry_at;             /* next ARP request while frames wait; NS_NEVER otherwise */
};

struct ns_stack {
	struct ns_config cfg;
	ns_output_fn out;
	void *out_ctx;
	ns_time_t now;
	uint8_t *tx;                    /* scratch frame: Ethernet + IP + transport, mtu + 14 bytes */
	struct ns_arp arp;
	struct ns_pktq loopq;           /* IP packets to ourselves, drained by ns_leave() */
	unsigned depth;                 /* nesting of public calls; work is flushed at depth 0 */
	uint16_t ip_id;
	uint64_t isn_key[2];
	struct tcp_sock *socks;         /* every socket the stack knows */
	struct tcp_sock *reap;          /* sockets to free when the public call returns */
	struct tcp_sock *hit;           /* last demultiplexed socket: bulk flows hit it */
	struct tcp_sock *conns[NS_CONN_HASH];   /* by 4-tuple, once a socket has a peer */
	struct tcp_sock *listeners[NS_LISTEN_HASH];     /* by local port */
	uint32_t *port_users;           /* sockets per local port (65536 counters) */
	uint32_t next_ephemeral;        /* RFC 6056 counter */
	size_t nsocks;
	struct tcp_sock **theap;        /* sockets with a timer armed, min-heap on deadline */
	size_t theap_n, theap_cap;
	ns_time_t challenge_window;     /* RFC 5961 challenge ACK limiter: window start */
	unsigned challenge_count;
	struct ns_tcp_stats tcp;
	struct ns_link_stats link;
};

/* Every public entry point brackets its work with these: the outermost ns_leave() drains the
 * loopback queue (so local traffic never recurses) and frees sockets that died meanwhile. */
void ns_enter(struct ns_stack *st);
void ns_leave(struct ns_stack *st);

static inline bool ns_is_loopback(uint32_t a)
{
	return (a >> 24) == 127;
}

static inline bool ns_is_local(const struct ns_stack *st, uint32_t a)
{
	return ns_is_loopback(a) || a == st->cfg.addr;
}

#endif
