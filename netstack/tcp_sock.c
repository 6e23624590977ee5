/* netstack/tcp_sock.c — the socket-like API of tcp.h. */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "tcp_int.h"

static const char *const state_names[] = {
	[TCP_CLOSED] = "Closed", [TCP_LISTEN] = "Listen", [TCP_SYN_SENT] = "Syn_sent",
	[TCP_SYN_RECEIVED] = "Syn_received", [TCP_ESTABLISHED] = "Established",
	[TCP_FIN_WAIT_1] = "Finwait1", [TCP_FIN_WAIT_2] = "Finwait2",
	[TCP_CLOSE_WAIT] = "Close_wait", [TCP_CLOSING] = "Closing", [TCP_LAST_ACK] = "Last_ack",
	[TCP_TIME_WAIT] = "Time_wait",
};

const char *tcp_state_name(enum tcp_state s)
{
	if ((unsigned)s >= sizeof state_names / sizeof state_names[0])
		return "Unknown";
	return state_names[s];
}

struct tcp_sock *tcp_open(struct ns_stack *st, tcp_event_fn ev, void *user)
{
	struct tcp_sock *s = tcp_sock_new(st);
	if (!s)
		return NULL;
	s->owned = true;
	s->ev = ev;
	s->user = user;
	return s;
}

void tcp_set_user(struct tcp_sock *s, tcp_event_fn ev, void *user)
{
	s->ev = ev;
	s->user = user;
}

void *tcp_user(const struct tcp_sock *s)
{
	return s->user;
}

int tcp_bind(struct tcp_sock *s, uint32_t addr, uint16_t port)
{
	if (s->state != TCP_CLOSED || s->lport || s->connected_once)
		return -EINVAL;
	return tcp_port_bind(s, addr, port);
}

static uint32_t tcp_pick_source(const struct ns_stack *st, uint32_t dst)
{
	if (ns_is_loopback(dst))
		return 0x7f000001u;
	return st->cfg.addr;
}

int tcp_connect(struct tcp_sock *s, uint32_t addr, uint16_t port)
{
	struct ns_stack *st = s->st;
	int rc;

	if (s->state == TCP_SYN_SENT)
		return -EALREADY;
	if (s->state != TCP_CLOSED || s->connected_once)
		return -EISCONN;
	if (addr == 0 || port == 0)
		return -EINVAL;
	if (addr == 0xffffffffu || (addr >> 28) == 0xe)
		return -ENETUNREACH;
	if (ns_is_loopback(s->laddr) && !ns_is_local(st, addr))
		return -ENETUNREACH;
	uint32_t old_laddr = s->laddr;
	if (!s->laddr)
		s->laddr = tcp_pick_source(st, addr);
	s->raddr = addr;
	s->rport = port;
	/* An ephemeral port is picked for this destination (RFC 6056), so a fresh one can
	 * never collide with an existing 4-tuple: only an explicit bind can fail below. */
	if ((!s->lport && (rc = tcp_port_bind(s, s->laddr, 0)) < 0) ||
	    (rc = tcp_port_check_tuple(s)) < 0) {
		s->laddr = old_laddr;
		s->raddr = 0;
		s->rport = 0;
		return rc;
	}
	ns_enter(st);
	tcp_hash_conn(s);
	s->connected_once = true;
	s->iss = tcp_isn(st, s->laddr, s->lport, s->raddr, s->rport);
	s->snd_una = s->snd_nxt = s->snd_max = s->iss;
	s->recover = s->iss;
	s->mss = st->cfg.mtu - 40;
	tcp_cc_init(s);
	tcp_set_state(s, TCP_SYN_SENT);
	st->tcp.active_opens++;
	tcp_output(s);
	ns_leave(st);
	return 0;
}

int tcp_listen(struct tcp_sock *s, int backlog)
{
	int rc;

	if (backlog <= 0)
		backlog = 1;
	if (backlog > 4096)
		backlog = 4096;
	if (s->state == TCP_LISTEN) {
		s->backlog = backlog;
		return 0;
	}
	if (s->state != TCP_CLOSED || s->connected_once)
		return -EISCONN;
	if (!s->lport && (rc = tcp_port_bind(s, s->laddr, 0)) < 0)
		return rc;
	s->backlog = backlog;
	s->connected_once = true;
	tcp_set_state(s, TCP_LISTEN);
	tcp_hash_listener(s);
	return 0;
}

ssize_t tcp_send(struct tcp_sock *s, const void *buf, size_t len)
{
	if (s->term)
		return s->term;
	if (s->fin_queued)
		return -EPIPE;
	if (s->state != TCP_ESTABLISHED && s->state != TCP_CLOSE_WAIT)
		return -ENOTCONN;
	if (len == 0)
		return 0;
	size_t n = tcp_buf_append(&s->sndbuf, buf, len);
	if (n == 0)
		return -EAGAIN;
	ns_enter(s->st);
	tcp_output(s);
	ns_leave(s->st);
	return (ssize_t)n;
}

size_t tcp_send_space(const struct tcp_sock *s)
{
	return tcp_buf_space(&s->sndbuf);
}

void tcp_recv_consume(struct tcp_sock *s, size_t n)
{
	tcp_buf_drop(&s->rcvbuf, n);
	if (s->fin_rcvd)
		tcp_buf_release(&s->rcvbuf);    /* the stream is over */
	ns_enter(s->st);
	tcp_window_update(s);
	ns_leave(s->st);
}

int tcp_recv_spans(const struct tcp_sock *s, size_t len, struct iovec iov[2])
{
	const void *ptr[2];
	size_t n[2];
	int k = tcp_buf_peek(&s->rcvbuf, len, ptr, n);

	for (int i = 0; i < k; i++) {
		iov[i].iov_base = (void *)ptr[i];
		iov[i].iov_len = n[i];
	}
	return k;
}

ssize_t tcp_recv(struct tcp_sock *s, void *buf, size_t len, int flags)
{
	if (s->rcvbuf.len && len) {
		size_t n = len < s->rcvbuf.len ? len : s->rcvbuf.len;
		tcp_buf_copy_out(&s->rcvbuf, 0, buf, n);
		if (!(flags & TCP_RECV_PEEK))
			tcp_recv_consume(s, n);
		return (ssize_t)n;
	}
	if (s->term)
		return s->term;
	if (s->fin_rcvd || s->shut_rd || len == 0)
		return 0;
	switch (s->state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
		return -EAGAIN;
	default:
		return -ENOTCONN;
	}
}

size_t tcp_recv_available(const struct tcp_sock *s)
{
	return s->rcvbuf.len;
}

/* Queue our FIN after the data (both shutdown(WR) and close). */
static void tcp_queue_fin(struct tcp_sock *s)
{
	if (s->fin_queued)
		return;
	s->fin_queued = true;
	if (s->state == TCP_CLOSE_WAIT)
		tcp_set_state(s, TCP_LAST_ACK);
	else
		tcp_set_state(s, TCP_FIN_WAIT_1);
	tcp_output(s);
}

int tcp_shutdown(struct tcp_sock *s, int how)
{
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (!tcp_synchronized(s->state))
		return -ENOTCONN;
	if (how != SHUT_WR)
		s->shut_rd = true;
	if (how != SHUT_RD && (s->state == TCP_ESTABLISHED || s->state == TCP_CLOSE_WAIT)) {
		ns_enter(s->st);
		tcp_queue_fin(s);
		ns_leave(s->st);
	}
	return 0;
}

void tcp_close(struct tcp_sock *s)
{
	struct ns_stack *st = s->st;

	ns_enter(st);
	s->ev = NULL;
	switch (s->state) {
	case TCP_LISTEN:
		tcp_listen_shutdown(s);
		tcp_done(s);
		break;
	case TCP_CLOSED:
		break;
	case TCP_SYN_SENT:
		tcp_done(s);
		break;
	case TCP_SYN_RECEIVED:
		tcp_send_rst(s);
		tcp_done(s);
		break;
	default:
		if (s->rcvbuf.len) {
			/* Unread data: tell the peer it was lost (RFC 2525 2.17, as Linux). */
			tcp_send_rst(s);
			tcp_drop(s, -ECONNRESET);
			break;
		}
		if (s->state == TCP_ESTABLISHED || s->state == TCP_CLOSE_WAIT)
			tcp_queue_fin(s);
		else if (s->state == TCP_FIN_WAIT_2)
			tcp_timer_set(s, TT_WAIT, TCP_FIN_WAIT_2_MS);
		tcp_buf_release(&s->rcvbuf);    /* nobody reads: new data resets */
		break;
	}
	tcp_release(s);
	ns_leave(st);
}

void tcp_abort(struct tcp_sock *s)
{
	struct ns_stack *st = s->st;

	ns_enter(st);
	if (s->state == TCP_LISTEN)
		tcp_listen_shutdown(s);
	else if (s->state == TCP_SYN_RECEIVED || (tcp_synchronized(s->state) &&
						  s->state != TCP_TIME_WAIT))
		tcp_send_rst(s);
	tcp_buf_drop(&s->sndbuf, s->sndbuf.len);
	tcp_buf_drop(&s->rcvbuf, s->rcvbuf.len);
	tcp_reass_clear(&s->reass);
	s->term = -ECONNRESET;
	tcp_done(s);
	ns_leave(st);
}

/* Writers are woken for a useful amount of room, not for every freed byte. */
static size_t tcp_write_wake(const struct tcp_sock *s)
{
	size_t q = s->sndbuf.cap / 4;
	return q < 16384 ? (q ? q : 1) : 16384;
}

unsigned tcp_poll(const struct tcp_sock *s)
{
	unsigned m = s->err ? TCP_EV_ERR : 0;

	switch (s->state) {
	case TCP_LISTEN:
		return m | (s->acceptq.n ? TCP_EV_IN : 0);
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
		return m;
	case TCP_CLOSED:
		if (!s->connected_once && !s->term && !s->passive)
			return m;
		m |= TCP_EV_IN | TCP_EV_OUT | TCP_EV_HUP;
		return m | (s->fin_rcvd ? TCP_EV_RDHUP : 0);
	default:
		break;
	}
	if (s->rcvbuf.len || s->fin_rcvd || s->shut_rd)
		m |= TCP_EV_IN;
	if (s->fin_rcvd)
		m |= TCP_EV_RDHUP;
	if (s->fin_queued || tcp_send_space(s) >= tcp_write_wake(s))
		m |= TCP_EV_OUT;
	if (s->fin_rcvd && s->fin_queued)
		m |= TCP_EV_HUP;
	return m;
}

enum tcp_state tcp_state(const struct tcp_sock *s)
{
	return s->state;
}

int tcp_error(struct tcp_sock *s, bool clear)
{
	int e = s->err;
	if (clear)
		s->err = 0;
	return e;
}

void tcp_local(const struct tcp_sock *s, uint32_t *addr, uint16_t *port)
{
	if (addr)
		*addr = s->laddr;
	if (port)
		*port = s->lport;
}

void tcp_remote(const struct tcp_sock *s, uint32_t *addr, uint16_t *port)
{
	if (addr)
		*addr = s->raddr;
	if (port)
		*port = s->rport;
}

static size_t clamp_buf(long val)
{
	if (val < (long)TCP_BUF_MIN)
		return TCP_BUF_MIN;
	return val > (long)TCP_BUF_MAX ? TCP_BUF_MAX : (size_t)val;
}

int tcp_setopt(struct tcp_sock *s, enum tcp_opt opt, long val)
{
	switch (opt) {
	case TCP_OPT_NODELAY:
		s->nodelay = val != 0;
		if (s->nodelay) {
			ns_enter(s->st);
			tcp_output(s);
			ns_leave(s->st);
		}
		return 0;
	case TCP_OPT_KEEPALIVE:
		if (val < 0 || val > UINT32_MAX)
			return -EINVAL;
		s->keepalive_ms = (uint32_t)val;
		if (val)
			tcp_keepalive_reset(s);
		else
			tcp_timer_stop(s, TT_KEEP);
		return 0;
	case TCP_OPT_SNDBUF:
		return tcp_buf_resize(&s->sndbuf, clamp_buf(val));
	case TCP_OPT_RCVBUF: {
		/* Never below what the window already offered: the right edge must not move
		 * back.  Resizing moves the bytes; out-of-order data past them is given up
		 * (the peer still has it). */
		size_t cap = clamp_buf(val);
		size_t offered = s->rcvbuf.len +
				 (SEQ_GT(s->rcv_adv, s->rcv_nxt) ? s->rcv_adv - s->rcv_nxt : 0);
		if (cap < offered)
			cap = offered;
		tcp_reass_clear(&s->reass);
		return tcp_buf_resize(&s->rcvbuf, cap);
	}
	case TCP_OPT_TTL:
		if (val < 1 || val > 255)
			return -EINVAL;
		s->ttl = (uint8_t)val;
		return 0;
	case TCP_OPT_TOS:
		if (val < 0 || val > 255)
			return -EINVAL;
		s->tos = (uint8_t)val;
		return 0;
	}
	return -EINVAL;
}

long tcp_getopt(const struct tcp_sock *s, enum tcp_opt opt)
{
	switch (opt) {
	case TCP_OPT_NODELAY:
		return s->nodelay;
	case TCP_OPT_KEEPALIVE:
		return s->keepalive_ms;
	case TCP_OPT_SNDBUF:
		return (long)s->sndbuf.cap;
	case TCP_OPT_RCVBUF:
		return (long)s->rcvbuf.cap;
	case TCP_OPT_TTL:
		return s->ttl;
	case TCP_OPT_TOS:
		return s->tos;
	}
	return -EINVAL;
}

size_t tcp_format_status(const struct tcp_sock *s, char *buf, size_t n)
{
	size_t space = tcp_buf_space(&s->rcvbuf);
	int k = snprintf(buf, n,
			 "%s qin %zu qout %zu srtt %u rttvar %u rto %u cwnd %u ssthresh %u "
			 "swin %u rwin %zu retrans %llu errno %d\n",
			 tcp_state_name(s->state), s->rcvbuf.len, s->sndbuf.len, s->srtt8 / 8,
			 s->rttvar4 / 4, s->rto, s->cwnd, s->ssthresh, s->snd_wnd,
			 space > TCP_MAXWIN ? (size_t)TCP_MAXWIN : space,
			 (unsigned long long)s->retrans, -s->err);
	return k < 0 ? 0 : (size_t)k;
}
