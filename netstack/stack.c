/* netstack/stack.c — the stack object: configuration, clock, public entry points, loopback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arp.h"
#include "eth.h"
#include "ip.h"
#include "stack_int.h"
#include "tcp_int.h"

#define NS_DEFAULT_ADDR 0x0a00020fu     /* 10.0.2.15 */
#define NS_DEFAULT_MASK 0xffffff00u
#define NS_DEFAULT_GW 0x0a000202u       /* 10.0.2.2 */
#define NS_DEFAULT_MTU 65520u
#define NS_MTU_MIN 576u
#define NS_MTU_MAX 65521u

bool ns_pktq_push(struct ns_pktq *q, const uint8_t *data, size_t len)
{
	struct ns_pkt *p = malloc(sizeof *p + len);
	if (!p)
		return false;
	p->next = NULL;
	p->len = len;
	memcpy(p->data, data, len);
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	q->n++;
	return true;
}

struct ns_pkt *ns_pktq_pop(struct ns_pktq *q)
{
	struct ns_pkt *p = q->head;
	if (!p)
		return NULL;
	q->head = p->next;
	if (!q->head)
		q->tail = NULL;
	q->n--;
	return p;
}

static void ns_pktq_clear(struct ns_pktq *q)
{
	struct ns_pkt *p;
	while ((p = ns_pktq_pop(q)))
		free(p);
}

/* splitmix64: spreads the seed into independent keys. */
static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct ns_stack *ns_create(const struct ns_config *cfg, ns_output_fn out, void *ctx,
			   ns_time_t now)
{
	static const uint8_t default_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	static const uint8_t zero_mac[6];
	struct ns_stack *st = calloc(1, sizeof *st);

	if (!st)
		return NULL;
	st->cfg = *cfg;
	if (!st->cfg.addr)
		st->cfg.addr = NS_DEFAULT_ADDR;
	if (!st->cfg.netmask)
		st->cfg.netmask = NS_DEFAULT_MASK;
	if (!st->cfg.gateway)
		st->cfg.gateway = NS_DEFAULT_GW;
	if (!memcmp(st->cfg.mac, zero_mac, 6))
		memcpy(st->cfg.mac, default_mac, 6);
	if (!st->cfg.mtu)
		st->cfg.mtu = NS_DEFAULT_MTU;
	if (st->cfg.mtu < NS_MTU_MIN)
		st->cfg.mtu = NS_MTU_MIN;
	if (st->cfg.mtu > NS_MTU_MAX)
		st->cfg.mtu = NS_MTU_MAX;
	st->out = out;
	st->out_ctx = ctx;
	st->now = now;
	st->tx = malloc(ETH_HLEN + st->cfg.mtu);
	st->port_users = calloc(65536, sizeof *st->port_users);
	if (!st->tx || !st->port_users) {
		free(st->tx);
		free(st->port_users);
		free(st);
		return NULL;
	}
	uint64_t seed = cfg->seed;
	st->isn_key[0] = splitmix(&seed);
	st->isn_key[1] = splitmix(&seed);
	st->next_ephemeral = (uint32_t)splitmix(&seed);
	st->arp.retry_at = NS_NEVER;
	st->challenge_window = now;
	return st;
}

void ns_destroy(struct ns_stack *st)
{
	if (!st)
		return;
	tcp_free_all(st);
	ns_pktq_clear(&st->loopq);
	ns_pktq_clear(&st->arp.pending);
	free(st->tx);
	free(st->port_users);
	free(st);
}

void ns_enter(struct ns_stack *st)
{
	st->depth++;
}

void ns_leave(struct ns_stack *st)
{
	if (st->depth > 1) {
		st->depth--;
		return;
	}
	/* Packets to ourselves are processed here, one after another, not recursively: the
	 * replies they cause join the same queue. */
	struct ns_pkt *p;
	while ((p = ns_pktq_pop(&st->loopq))) {
		ip_input(st, p->data, p->len, true);
		free(p);
	}
	tcp_reap(st);
	st->depth = 0;
}

void ns_input(struct ns_stack *st, const uint8_t *frame, size_t len)
{
	if (!frame)
		return;
	ns_enter(st);
	eth_input(st, frame, len);
	ns_leave(st);
}

void ns_advance(struct ns_stack *st, ns_time_t now)
{
	if (now > st->now)
		st->now = now;
	ns_enter(st);
	if (arp_deadline(st) <= st->now)
		arp_timer(st);
	tcp_timers_run(st);
	ns_leave(st);
}

ns_time_t ns_now(const struct ns_stack *st)
{
	return st->now;
}

ns_time_t ns_next_deadline(const struct ns_stack *st)
{
	ns_time_t a = arp_deadline(st), t = tcp_deadline(st);
	return a < t ? a : t;
}

void ns_announce(struct ns_stack *st)
{
	ns_enter(st);
	arp_announce(st);
	ns_leave(st);
}

struct stats_out {
	char *buf;
	size_t n, len;
};

static void stat_line(struct stats_out *o, const char *name, long long v)
{
	char line[64];
	int k = snprintf(line, sizeof line, "%s: %lld\n", name, v);
	if (k <= 0)
		return;
	if (o->len < o->n) {
		size_t room = o->n - o->len;
		size_t c = (size_t)k < room ? (size_t)k : room - 1;
		memcpy(o->buf + o->len, line, c);
		o->buf[o->len + c] = '\0';
	}
	o->len += (size_t)k;
}

size_t ns_format_stats(const struct ns_stack *st, char *buf, size_t n)
{
	struct stats_out o = { buf, n, 0 };
	const struct ns_tcp_stats *t = &st->tcp;

	if (n)
		buf[0] = '\0';
	stat_line(&o, "MaxConn", -1);   /* no fixed limit (RFC 2012's convention) */
	stat_line(&o, "MaxSegment", st->cfg.mtu - 40);
	stat_line(&o, "ActiveOpens", (long long)t->active_opens);
	stat_line(&o, "PassiveOpens", (long long)t->passive_opens);
	stat_line(&o, "AttemptFails", (long long)t->attempt_fails);
	stat_line(&o, "EstabResets", (long long)t->estab_resets);
	stat_line(&o, "CurrEstab", (long long)t->curr_estab);
	stat_line(&o, "InSegs", (long long)t->in_segs);
	stat_line(&o, "OutSegs", (long long)t->out_segs);
	stat_line(&o, "RetransSegs", (long long)t->retrans_segs);
	stat_line(&o, "RetransTimeouts", (long long)t->retrans_timeouts);
	stat_line(&o, "InErrs", (long long)t->in_errs);
	stat_line(&o, "OutRsts", (long long)t->out_rsts);
	stat_line(&o, "CsumErrs", (long long)t->csum_errs);
	stat_line(&o, "HlenErrs", (long long)t->hlen_errs);
	stat_line(&o, "LenErrs", (long long)t->len_errs);
	stat_line(&o, "OutOfOrder", (long long)t->out_of_order);
	stat_line(&o, "ReseqDrops", (long long)t->reseq_drops);
	stat_line(&o, "Delayack", (long long)t->delay_acks);
	stat_line(&o, "Wopenack", (long long)t->window_updates);
	stat_line(&o, "Recovery", (long long)t->recovery);
	stat_line(&o, "RecoveryDone", (long long)t->recovery_done);
	stat_line(&o, "ChallengeAcks", (long long)t->challenge_acks);
	stat_line(&o, "ListenDrops", (long long)t->listen_drops);
	stat_line(&o, "PersistProbes", (long long)t->persist_probes);
	stat_line(&o, "KeepAliveProbes", (long long)t->keepalive_probes);
	stat_line(&o, "Timeouts", (long long)t->timeouts);
	stat_line(&o, "InFrames", (long long)st->link.in_frames);
	stat_line(&o, "OutFrames", (long long)st->link.out_frames);
	stat_line(&o, "BadFrames", (long long)st->link.bad_frames);
	stat_line(&o, "IpDrops", (long long)st->link.ip_drops);
	stat_line(&o, "ArpQueueDrops", (long long)st->link.arp_queue_drops);
	return o.len;
}

int ns_parse_ip(const char *s, uint32_t *out)
{
	uint32_t a = 0;
	int parts = 0;

	if (!s)
		return -1;
	while (parts < 4) {
		unsigned v = 0, digits = 0;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (unsigned)(*s++ - '0');
			if (++digits > 3 || v > 255)
				return -1;
		}
		if (!digits)
			return -1;
		a = a << 8 | v;
		if (++parts < 4 && *s++ != '.')
			return -1;
	}
	if (*s)
		return -1;
	*out = a;
	return 0;
}

char *ns_format_ip(uint32_t addr, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		 addr & 0xff);
	return buf;
}
