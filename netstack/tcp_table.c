/* netstack/tcp_table.c — the stack's sockets: creation, demultiplexing, ports, lifetime.
 *
 * A socket is freed only at the end of a public call (tcp_reap from ns_leave), never in the
 * middle of processing, so no code path can see a socket disappear under it. */
#include <errno.h>
#include <stdlib.h>

#include "tcp_int.h"

static void tcp_sock_link(struct tcp_sock *s)
{
	struct ns_stack *st = s->st;
	s->prev = NULL;
	s->next = st->socks;
	if (st->socks)
		st->socks->prev = s;
	st->socks = s;
	st->nsocks++;
}

struct tcp_sock *tcp_sock_new(struct ns_stack *st)
{
	if (tcp_timer_reserve(st, st->nsocks + 1))
		return NULL;
	struct tcp_sock *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	tcp_buf_init(&s->sndbuf, TCP_SNDBUF_DEFAULT);
	tcp_buf_init(&s->rcvbuf, TCP_RCVBUF_DEFAULT);
	s->st = st;
	s->state = TCP_CLOSED;
	s->rto = TCP_RTO_INIT;
	s->mss = st->cfg.mtu - 40;
	s->rcv_mss = TCP_DEFAULT_MSS;
	s->ttl = IP_DEFAULT_TTL;
	for (int i = 0; i < TT_COUNT; i++)
		s->timer[i] = NS_NEVER;
	s->deadline = NS_NEVER;
	s->heap_idx = TCP_NO_HEAP;
	tcp_cc_init(s);
	tcp_sock_link(s);
	return s;
}

static size_t conn_bucket(const struct ns_stack *st, uint32_t laddr, uint16_t lport,
			  uint32_t raddr, uint16_t rport)
{
	/* Seeded so that a peer cannot aim many connections at one chain. */
	uint64_t k = ((uint64_t)laddr << 32 | raddr) ^ st->isn_key[0];
	k ^= ((uint64_t)lport << 16 | rport) * 0x9e3779b97f4a7c15ull;
	k *= 0xbf58476d1ce4e5b9ull;
	return (size_t)(k >> 32) % NS_CONN_HASH;
}

static void chain_insert(struct tcp_sock **head, struct tcp_sock *s)
{
	s->hnext = *head;
	if (*head)
		(*head)->hpprev = &s->hnext;
	*head = s;
	s->hpprev = head;
}

void tcp_hash_conn(struct tcp_sock *s)
{
	chain_insert(&s->st->conns[conn_bucket(s->st, s->laddr, s->lport, s->raddr, s->rport)], s);
}

void tcp_hash_listener(struct tcp_sock *s)
{
	if (!s->hpprev)
		chain_insert(&s->st->listeners[s->lport % NS_LISTEN_HASH], s);
}

void tcp_port_take(struct tcp_sock *s, uint16_t port)
{
	s->lport = port;
	s->st->port_users[port]++;
}

static void tcp_sock_unlink(struct tcp_sock *s)
{
	struct ns_stack *st = s->st;
	if (s->lport)
		st->port_users[s->lport]--;
	if (s->hpprev) {
		*s->hpprev = s->hnext;
		if (s->hnext)
			s->hnext->hpprev = s->hpprev;
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		st->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (st->hit == s)
		st->hit = NULL;
	st->nsocks--;
}

static void tcp_sock_free(struct tcp_sock *s)
{
	tcp_timer_stop_all(s);
	tcp_buf_free(&s->sndbuf);
	tcp_buf_free(&s->rcvbuf);
	free(s);
}

static bool tcp_live(const struct tcp_sock *s)
{
	return !s->dead && s->state != TCP_CLOSED && s->state != TCP_LISTEN;
}

struct tcp_sock *tcp_lookup(struct ns_stack *st, uint32_t laddr, uint16_t lport,
			    uint32_t raddr, uint16_t rport)
{
	struct tcp_sock *s = st->hit;

	if (s && s->lport == lport && s->rport == rport && s->laddr == laddr &&
	    s->raddr == raddr && tcp_live(s))
		return s;
	for (s = st->conns[conn_bucket(st, laddr, lport, raddr, rport)]; s; s = s->hnext) {
		if (s->lport == lport && s->rport == rport && s->laddr == laddr &&
		    s->raddr == raddr && tcp_live(s)) {
			st->hit = s;
			return s;
		}
	}
	return NULL;
}

struct tcp_sock *tcp_lookup_listener(struct ns_stack *st, uint32_t laddr, uint16_t lport)
{
	struct tcp_sock *wild = NULL;

	for (struct tcp_sock *s = st->listeners[lport % NS_LISTEN_HASH]; s; s = s->hnext) {
		if (s->state != TCP_LISTEN || s->dead || s->lport != lport)
			continue;
		if (s->laddr == laddr)
			return s;
		if (s->laddr == 0)
			wild = s;
	}
	return wild;
}

static bool tcp_addr_is_ours(const struct ns_stack *st, uint32_t addr)
{
	return addr == 0 || ns_is_local(st, addr);
}

/* Does o keep port/addr from being bound by someone else?  Only sockets a user holds that
 * were bound or connected by that user; connections left over from a closed socket (TIME_WAIT,
 * closing) and accepted connections do not: SO_REUSEADDR behaviour, so a restarted server
 * can listen again at once. */
static bool tcp_holds_port(const struct tcp_sock *o, uint32_t addr, uint16_t port)
{
	if (o->dead || o->lport != port || o->passive || !o->owned || o->state == TCP_TIME_WAIT)
		return false;
	return o->laddr == 0 || addr == 0 || o->laddr == addr;
}


/* RFC 6056 algorithm 3: a per-destination offset plus a counter that every pick advances.
 * Successive connections to one destination walk the whole range before a port comes back,
 * which slirp needs: it keeps its side of a closed connection in TIME_WAIT for seconds and
 * refuses a SYN that reuses the 4-tuple meanwhile.  A random pick reused a port within
 * 0.3 s about once per hundred connects. */
static uint16_t tcp_port_pick(struct ns_stack *st, uint32_t laddr, uint32_t raddr,
			      uint16_t rport)
{
	uint32_t range = TCP_EPHEMERAL_HI - TCP_EPHEMERAL_LO + 1;
	uint32_t offset = tcp_port_offset(st, laddr, raddr, rport);

	for (uint32_t i = 0; i < range; i++) {
		uint16_t p = (uint16_t)(TCP_EPHEMERAL_LO + (offset + st->next_ephemeral++) % range);
		if (!st->port_users[p])
			return p;
	}
	return 0;
}

int tcp_port_bind(struct tcp_sock *s, uint32_t addr, uint16_t port)
{
	struct ns_stack *st = s->st;

	if (!tcp_addr_is_ours(st, addr))
		return -EADDRNOTAVAIL;
	if (port == 0) {
		port = tcp_port_pick(st, addr, s->raddr, s->rport);
		if (port == 0)
			return -EADDRINUSE;
	} else if (st->port_users[port]) {
		for (const struct tcp_sock *o = st->socks; o; o = o->next)
			if (o != s && tcp_holds_port(o, addr, port))
				return -EADDRINUSE;
	}
	s->laddr = addr;
	tcp_port_take(s, port);
	return 0;
}

/* Before connecting: the 4-tuple must be unique.  A TIME_WAIT leftover gives way. */
int tcp_port_check_tuple(struct tcp_sock *s)
{
	struct ns_stack *st = s->st;
	size_t b = conn_bucket(st, s->laddr, s->lport, s->raddr, s->rport);

	for (struct tcp_sock *o = st->conns[b]; o; o = o->hnext) {
		if (o == s || o->dead || o->lport != s->lport || o->rport != s->rport ||
		    o->laddr != s->laddr || o->raddr != s->raddr || o->state == TCP_LISTEN)
			continue;
		if (o->state == TCP_TIME_WAIT || o->state == TCP_CLOSED) {
			if (o->state == TCP_TIME_WAIT)
				tcp_done(o);
			continue;
		}
		return -EADDRINUSE;
	}
	return 0;
}

void tcp_set_state(struct tcp_sock *s, enum tcp_state state)
{
	bool was = s->state == TCP_ESTABLISHED || s->state == TCP_CLOSE_WAIT;
	bool is = state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT;

	if (was && !is)
		s->st->tcp.curr_estab--;
	else if (!was && is)
		s->st->tcp.curr_estab++;
	s->state = state;
}

void tcp_notify(struct tcp_sock *s)
{
	if (s->owned && s->ev)
		s->ev(s->user, s);
}

static void tcp_reap_later(struct tcp_sock *s)
{
	if (s->dead)
		return;
	s->dead = true;
	s->reap_next = s->st->reap;
	s->st->reap = s;
}

void tcp_done(struct tcp_sock *s)
{
	tcp_timer_stop_all(s);
	tcp_buf_release(&s->sndbuf);
	tcp_buf_release(&s->rcvbuf);
	tcp_set_state(s, TCP_CLOSED);
	if (s->parent && !s->in_acceptq)
		tcp_listen_unlink(s);
	if (!s->owned && !s->parent)
		tcp_reap_later(s);
}

/* The user let go (tcp_close) of a socket that is finished already. */
void tcp_release(struct tcp_sock *s)
{
	s->owned = false;
	s->ev = NULL;
	if (s->state == TCP_CLOSED && !s->parent)
		tcp_reap_later(s);
}

void tcp_reap(struct ns_stack *st)
{
	struct tcp_sock *s;
	while ((s = st->reap)) {
		st->reap = s->reap_next;
		tcp_sock_unlink(s);
		tcp_sock_free(s);
	}
}

void tcp_free_all(struct ns_stack *st)
{
	struct tcp_sock *s;
	while ((s = st->socks)) {
		tcp_sock_unlink(s);
		tcp_sock_free(s);
	}
	st->reap = NULL;
	free(st->theap);
	st->theap = NULL;
	st->theap_n = st->theap_cap = 0;
}
