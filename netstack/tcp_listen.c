/* netstack/tcp_listen.c — passive open: the SYN queue and the accept queue.
 *
 * Modelled on Linux's inet_csk path: the three-way handshake completes in the stack, a
 * half-open connection waits in the SYN queue, a completed one in the accept queue until
 * tcp_accept() takes it.  Both are bounded by the backlog; when full, SYNs are dropped
 * silently (the peer retries), never refused. */
#include <errno.h>

#include "tcp_int.h"

static void queue_push(struct tcp_queue *q, struct tcp_sock *s)
{
	s->qnext = NULL;
	if (q->tail)
		q->tail->qnext = s;
	else
		q->head = s;
	q->tail = s;
	q->n++;
}

static void queue_remove(struct tcp_queue *q, struct tcp_sock *s)
{
	struct tcp_sock **pp = &q->head, *prev = NULL;

	while (*pp && *pp != s) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	if (!*pp)
		return;
	*pp = s->qnext;
	if (q->tail == s)
		q->tail = prev;
	q->n--;
	s->qnext = NULL;
}

void tcp_listen_input(struct tcp_sock *l, const struct ip_hdr_info *ip, const uint8_t *th,
		      const struct tcp_seg *seg)
{
	struct ns_stack *st = l->st;

	if (seg->flags & TCP_RST)
		return;
	if (seg->flags & TCP_ACK) {
		tcp_reply_rst(st, ip, th, seg);
		return;
	}
	if (!(seg->flags & TCP_SYN))
		return;
	if (l->acceptq.n >= (unsigned)l->backlog || l->synq.n >= (unsigned)l->backlog) {
		st->tcp.listen_drops++;
		return;
	}
	struct tcp_sock *c = tcp_sock_new(st);
	if (!c) {
		st->tcp.listen_drops++;
		return;
	}
	c->passive = true;
	c->parent = l;
	c->laddr = ip->dst;
	tcp_port_take(c, l->lport);
	c->raddr = ip->src;
	c->rport = (uint16_t)(th[0] << 8 | th[1]);
	tcp_hash_conn(c);
	c->nodelay = l->nodelay;
	c->keepalive_ms = l->keepalive_ms;
	c->ttl = l->ttl;
	c->tos = l->tos;
	tcp_buf_init(&c->sndbuf, l->sndbuf.cap);
	tcp_buf_init(&c->rcvbuf, l->rcvbuf.cap);
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->iss = tcp_isn(st, c->laddr, c->lport, c->raddr, c->rport);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->snd_wnd = seg->wnd;
	c->max_sndwnd = seg->wnd;
	c->snd_wl1 = seg->seq;
	c->mss = seg->mss ? seg->mss : TCP_DEFAULT_MSS;
	if (c->mss < TCP_MIN_MSS)
		c->mss = TCP_MIN_MSS;
	if (c->mss > st->cfg.mtu - 40)
		c->mss = st->cfg.mtu - 40;
	tcp_cc_init(c);
	tcp_set_state(c, TCP_SYN_RECEIVED);
	queue_push(&l->synq, c);
	st->tcp.passive_opens++;
	tcp_output(c);
}

bool tcp_listen_has_room(const struct tcp_sock *c)
{
	return c->parent && c->parent->acceptq.n < (unsigned)c->parent->backlog;
}

void tcp_listen_established(struct tcp_sock *c)
{
	struct tcp_sock *l = c->parent;

	queue_remove(&l->synq, c);
	queue_push(&l->acceptq, c);
	c->in_acceptq = true;
	tcp_notify(l);
}

void tcp_listen_unlink(struct tcp_sock *c)
{
	struct tcp_sock *l = c->parent;

	if (!l)
		return;
	queue_remove(c->in_acceptq ? &l->acceptq : &l->synq, c);
	c->in_acceptq = false;
	c->parent = NULL;
}

/* The listener goes away: every connection it still holds is reset. */
void tcp_listen_shutdown(struct tcp_sock *l)
{
	struct tcp_queue *qs[2] = { &l->synq, &l->acceptq };

	for (int i = 0; i < 2; i++) {
		struct tcp_sock *c;
		while ((c = qs[i]->head)) {
			tcp_listen_unlink(c);
			if (c->state != TCP_CLOSED)
				tcp_send_rst(c);
			tcp_done(c);
		}
	}
}

struct tcp_sock *tcp_accept(struct tcp_sock *l)
{
	if (!l || l->state != TCP_LISTEN)
		return NULL;
	struct tcp_sock *c = l->acceptq.head;
	if (!c)
		return NULL;
	tcp_listen_unlink(c);
	c->owned = true;
	c->ev = NULL;
	c->user = NULL;
	return c;
}

size_t tcp_accept_queue_len(const struct tcp_sock *l)
{
	return l ? l->acceptq.n : 0;
}
