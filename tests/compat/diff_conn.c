/* tests/compat/diff_conn.c — bind, listen, connect (blocking and not), poll states, ports and names. */
#include "diff.h"

/* ---- bind, listen, connect, names ---------------------------------------------------------- */

void case_bind(void)
{
	int s = tcp(0), t = tcp(0), u = tcp(0);
	int port = next_port++;
	struct sockaddr_in a = loop_addr(port), far = loop_addr(port), any = loop_addr(0);
	struct sockaddr_in6 six = { .sin6_family = AF_INET6 };

	inet_pton(AF_INET, "192.0.2.1", &far.sin_addr);
	out("bind.short_len", "%s", R(bind(s, (struct sockaddr *)&a, 8)));
	out("bind.long_len", "%s", R(bind(s, (struct sockaddr *)&a, 200)));
	out("bind.efault", "%s %s", R(bind(s, NULL, sizeof(a))),
	    R(bind(s, BAD_ADDR, sizeof(a))));
	out("bind.family_inet6", "%s", R(bind(s, (struct sockaddr *)&six, sizeof(six))));
	out("bind.not_local", "%s", R(bind(s, (struct sockaddr *)&far, sizeof(far))));
	out("bind.ok", "%s", R(bind(s, (struct sockaddr *)&a, sizeof(a))));
	out("bind.twice", "%s", R(bind(s, (struct sockaddr *)&a, sizeof(a))));
	listen(s, 1);
	out("bind.in_use", "%s", R(bind(t, (struct sockaddr *)&a, sizeof(a))));
	out("bind.port0", "%s", R(bind(u, (struct sockaddr *)&any, sizeof(any))));
	struct sockaddr_in got;
	socklen_t len = sizeof(got);
	getsockname(u, (struct sockaddr *)&got, &len);
	out("bind.port0_name", "%s nonzero=%d", addr_name(&got), got.sin_port != 0);
	close(s); close(t); close(u);
}

void case_listen(void)
{
	int port, l = listener(0, &port), s = tcp(0), v, c, a;
	socklen_t len = sizeof(v);

	getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &len);
	out("listen.acceptconn", "before=%d", v);
	len = sizeof(v);
	getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &len);
	out("listen.acceptconn_after", "%d", v);
	out("listen.again", "%s", R(listen(l, 5)));
	c = dial(port);
	a = take(l);
	out("listen.on_connected", "%s %s", R(listen(c, 5)), R(listen(a, 5)));
	int u = tcp(0);
	out("listen.unbound", "%s", R(listen(u, 5)));
	struct sockaddr_in got;
	len = sizeof(got);
	getsockname(u, (struct sockaddr *)&got, &len);
	out("listen.unbound_name", "port_nonzero=%d", got.sin_port != 0);
	close(u); close(a); close(c); close(s); close(l);
}

void case_connect(void)
{
	int port, l = listener(0, &port), s = tcp(0);
	int closed = next_port++;
	struct sockaddr_in a = loop_addr(port), no = loop_addr(closed);
	struct sockaddr_in6 six = { .sin6_family = AF_INET6 };

	out("connect.short_len", "%s", R(connect(s, (struct sockaddr *)&a, 8)));
	out("connect.efault", "%s", R(connect(s, BAD_ADDR, sizeof(a))));
	out("connect.family_inet6", "%s", R(connect(s, (struct sockaddr *)&six, sizeof(six))));
	out("connect.ok", "%s", R(connect(s, (struct sockaddr *)&a, sizeof(a))));
	out("connect.again", "%s", R(connect(s, (struct sockaddr *)&a, sizeof(a))));
	out("connect.on_listener", "%s", R(connect(l, (struct sockaddr *)&a, sizeof(a))));
	int r = tcp(0);
	out("connect.refused", "%s", R(connect(r, (struct sockaddr *)&no, sizeof(no))));
	int a1 = take(l);
	close(a1); close(r); close(s); close(l);
}

/* A connect that failed leaves the socket unconnected: the same socket connects again once
 * the server is there (blocking, and non-blocking after SO_ERROR took the error), keeping
 * its options. */
void case_connect_retry(void)
{
	int port = next_port++, one = 1, v = 0;
	struct sockaddr_in a = loop_addr(port), peer;
	socklen_t len = sizeof(peer);
	int s = tcp(0), t = tcp(SOCK_NONBLOCK);

	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	const char *first = R(connect(s, (struct sockaddr *)&a, sizeof(a)));
	connect(t, (struct sockaddr *)&a, sizeof(a));
	struct pollfd q = { .fd = t, .events = POLLOUT };
	poll(&q, 1, WAIT_MS);
	int err = sock_error(t);
	const char *report = R(connect(t, (struct sockaddr *)&a, sizeof(a)));
	int l = listener_on(port, 0);
	const char *second = R(connect(s, (struct sockaddr *)&a, sizeof(a)));
	const char *nb = R(connect(t, (struct sockaddr *)&a, sizeof(a)));
	q.revents = 0;
	poll(&q, 1, WAIT_MS);
	socklen_t vl = sizeof(v);
	getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &vl);
	out("retry.blocking", "%s then %s peer=%s nodelay=%d", first, second,
	    getpeername(s, (struct sockaddr *)&peer, &len) == 0 ? addr_name(&peer) : "none", v);
	out("retry.nonblocking", "so_error=%s connect=%s then %s poll=%s so_error=%d",
	    res(-1, err), report, nb, events(q.revents), sock_error(t));
	close(take(l)); close(take(l));
	close(s); close(t); close(l);
}

void case_connect_nonblocking(void)
{
	int port, l = listener(0, &port), s = tcp(SOCK_NONBLOCK), ep = epoll_create1(0);
	struct sockaddr_in a = loop_addr(port), no = loop_addr(next_port++);
	struct epoll_event ev = { .events = EPOLLOUT, .data.fd = s }, got;
	struct pollfd p = { .fd = s, .events = POLLOUT };

	out("connect_nb.start", "%s", R(connect(s, (struct sockaddr *)&a, sizeof(a))));
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	int en = epoll_wait(ep, &got, 1, WAIT_MS);
	poll(&p, 1, WAIT_MS);
	out("connect_nb.ready", "epoll=%d:%s poll=%s so_error=%d", en,
	    events(en == 1 ? (int)got.events : 0), events(p.revents), sock_error(s));
	out("connect_nb.again", "%s", R(connect(s, (struct sockaddr *)&a, sizeof(a))));

	int r = tcp(SOCK_NONBLOCK);
	errno = 0;
	int cr = connect(r, (struct sockaddr *)&no, sizeof(no)), ce = errno;
	struct pollfd q = { .fd = r, .events = POLLIN | POLLOUT };
	poll(&q, 1, WAIT_MS);
	int e1 = sock_error(r), e2 = sock_error(r);
	out("connect_nb.refused", "%s poll=%s so_error=%s then %d", res(cr, ce), events(q.revents),
	    res(-1, e1), e2);
	out("connect_nb.refused_again", "%s", R(connect(r, (struct sockaddr *)&no, sizeof(no))));

	struct timeval tv0 = { 0, 0 };
	int w = tcp(SOCK_NONBLOCK);
	fd_set wr;
	connect(w, (struct sockaddr *)&a, sizeof(a));
	FD_ZERO(&wr);
	FD_SET(w, &wr);
	tv0.tv_sec = WAIT_MS / 1000;
	out("connect_nb.select", "%d so_error=%d", select(w + 1, NULL, &wr, NULL, &tv0),
	    sock_error(w));
	close(take(l)); close(take(l));
	close(w); close(r); close(ep); close(s); close(l);
}

/* poll on sockets that never connected: Linux reports a closed socket as writable and hung
 * up, a listener as neither. */
void case_poll_states(void)
{
	int s = tcp(0), port, l = listener(0, &port);
	struct pollfd q[2] = { { .fd = s, .events = POLLIN | POLLOUT | POLLRDHUP },
			       { .fd = l, .events = POLLIN | POLLOUT | POLLRDHUP } };

	poll(q, 2, 0);
	out("poll.fresh_socket", "%s", events(q[0].revents));
	out("poll.listener", "%s", events(q[1].revents));
	close(s); close(l);
}

/* A client bound to a chosen port connects from it; a server restarted on its port right
 * after closing a connection first (TIME_WAIT on the server side) binds again with
 * SO_REUSEADDR, as every server restart needs. */
void case_ports(void)
{
	int port, l = listener(0, &port), cport = next_port++, one = 1;
	int c = tcp(0);
	struct sockaddr_in ca = loop_addr(cport), a = loop_addr(port), peer;
	socklen_t len = sizeof(peer);

	setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	const char *b = R(bind(c, (struct sockaddr *)&ca, sizeof(ca)));
	const char *k = R(connect(c, (struct sockaddr *)&a, sizeof(a)));
	int s = take(l);
	getpeername(s, (struct sockaddr *)&peer, &len);
	out("ports.client_bound", "bind=%s connect=%s peer=%s", b, k, addr_name(&peer));
	close(s);  /* the server closes first: its end goes to TIME_WAIT */
	char x;
	readable(c, WAIT_MS);
	recv(c, &x, 1, 0);
	close(c);
	close(l);
	int l2 = tcp(0);
	setsockopt(l2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	const char *rb = R(bind(l2, (struct sockaddr *)&a, sizeof(a)));
	out("ports.rebind_after_close", "bind=%s listen=%s", rb, R(listen(l2, 4)));
	close(l2);
}

void case_names(void)
{
	int port, l = listener(0, &port), s = tcp(0), c, a;
	struct sockaddr_in n, p, ln, an;
	socklen_t len = sizeof(n);
	int neg = -1;

	getsockname(s, (struct sockaddr *)&n, &len);
	out("name.unbound", "%s len=%u", addr_name(&n), (unsigned)len);
	len = sizeof(p);
	out("name.peer_unconnected", "%s", R(getpeername(s, (struct sockaddr *)&p, &len)));
	len = sizeof(ln);
	getsockname(l, (struct sockaddr *)&ln, &len);
	len = sizeof(p);
	out("name.listener", "%s peer=%s", addr_name(&ln),
	    R(getpeername(l, (struct sockaddr *)&p, &len)));
	c = dial(port);
	a = take(l);
	len = sizeof(n);
	getsockname(c, (struct sockaddr *)&n, &len);
	len = sizeof(p);
	getpeername(c, (struct sockaddr *)&p, &len);
	socklen_t alen = sizeof(an);
	getsockname(a, (struct sockaddr *)&an, &alen);
	out("name.client", "local=%s peer=%s", addr_name(&n), addr_name(&p));
	out("name.accepted", "local=%s", addr_name(&an));
	len = 4;
	memset(&n, 0, sizeof(n));
	getsockname(c, (struct sockaddr *)&n, &len);
	out("name.truncated", "len=%u family=%d port_copied=%d", (unsigned)len, n.sin_family,
	    n.sin_port != 0);
	out("name.negative_len", "%s", R(getsockname(c, (struct sockaddr *)&n, (socklen_t *)&neg)));
	out("name.efault", "%s %s", FAULT(getsockname(c, (struct sockaddr *)&n, BAD_LEN)),
	    FAULT(getpeername(s, (struct sockaddr *)&n, BAD_LEN)));
	len = sizeof(n);
	out("name.efault_addr", "%s", R(getsockname(c, BAD_ADDR, &len)));
	close(a); close(c); close(s); close(l);
}
