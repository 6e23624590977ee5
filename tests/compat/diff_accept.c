/* tests/compat/diff_accept.c — accept and accept4: errno order, signals, faults, EMFILE, addrlen, flags, readiness. */
#include "diff.h"

/* ---- accept ------------------------------------------------------------------------------ */

void case_accept_checks(void)
{
	int port, l = listener(0, &port), nul = open("/dev/null", O_RDONLY), p[2];
	int udp = socket(AF_INET, SOCK_DGRAM, 0), fresh = tcp(0), bound = tcp(0);
	struct sockaddr_in a = loop_addr(next_port++);
	socklen_t len = 1;

	if (pipe(p) < 0 || bind(bound, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("pipe/bind");
	out("accept.ebadf", "%s %s", R(accept(-1, NULL, NULL)), R(accept(9999, NULL, NULL)));
	out("accept4.flags", "%s %s %s", R(accept4(l, NULL, NULL, 0x40000000)),
	    R(accept4(nul, NULL, NULL, ~0)), R(accept4(-1, NULL, NULL, ~0)));
	out("accept.enotsock", "%s %s", R(accept(nul, NULL, NULL)), R(accept(p[0], NULL, NULL)));
	out("accept.eopnotsupp", "%s", R(accept(udp, NULL, NULL)));
	out("accept.not_listening", "%s %s %s %s", R(accept(fresh, NULL, NULL)),
	    R(accept(bound, NULL, NULL)), R(accept(bound, (struct sockaddr *)3, &len)),
	    FAULT(accept(bound, (struct sockaddr *)&a, BAD_LEN)));
	int c = dial(port), a1 = take(l);
	out("accept.connected_socket", "%s %s", R(accept(c, NULL, NULL)), R(accept(a1, NULL, NULL)));
	close(c); close(a1); close(l); close(nul); close(p[0]); close(p[1]);
	close(udp); close(fresh); close(bound);
}

void case_accept_eagain(void)
{
	int port, l = listener(SOCK_NONBLOCK, &port);

	out("accept.eagain", "%s %s", R(accept(l, NULL, NULL)),
	    R(accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)));
	int c = dial(port);
	queued(l);
	int a = accept(l, NULL, NULL);
	out("accept.after_eagain", "%s then %s", a >= 0 ? "fd" : res(a, errno),
	    R(accept(l, NULL, NULL)));
	close(a); close(c); close(l);
}

/* A blocking accept hit by SIGALRM: EINTR without SA_RESTART; with SA_RESTART it goes on
 * waiting and takes the connection that the handler's signal lets a child make. */
void case_accept_signals(void)
{
	int port, l = listener(0, &port), sp[2];

	handle(SIGALRM, on_signal, 0);
	sigcount = 0;
	alarm_ms(100);
	const char *r1 = R(accept(l, NULL, NULL));
	out("accept.eintr", "%s signals=%d", r1, sigcount);

	if (pipe(sp) < 0)
		die("pipe");
	signal_pipe = sp[1];
	pid_t child = fork();
	if (child == 0) {
		char b;
		if (read(sp[0], &b, 1) == 1) {
			int c = dial(port);
			readable(c, WAIT_MS);  /* until the parent closes its end */
		}
		_exit(0);
	}
	handle(SIGALRM, on_signal_pipe, SA_RESTART);
	sigcount = 0;
	alarm_ms(100);
	int a = accept(l, NULL, NULL);
	out("accept.sa_restart", "%s signals=%d", a >= 0 ? "fd" : res(a, errno), sigcount);
	close(a);
	waitpid(child, NULL, 0);

	struct timeval tv = { 5, 0 };
	setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sigcount = 0;
	handle(SIGALRM, on_signal, SA_RESTART);
	alarm_ms(100);
	const char *r2 = R(accept(l, NULL, NULL));
	out("accept.rcvtimeo_eintr", "%s signals=%d", r2, sigcount);
	tv = (struct timeval){ 0, 200000 };
	setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	out("accept.rcvtimeo_expires", "%s", R(accept(l, NULL, NULL)));
	handle(SIGALRM, SIG_DFL, 0);
	close(sp[0]); close(sp[1]); close(l);
}

/* Faults in the address copy: EFAULT after the connection was taken (and dropped, so the
 * peer sees it closed); a negative length: EINVAL; addr NULL: addrlen is never read. */
void case_accept_faults(void)
{
	int port, l = listener(SOCK_NONBLOCK, &port);
	socklen_t len = sizeof(struct sockaddr_in);
	int neg = -1;
	char b;

	int c = dial(port);
	queued(l);
	const char *first = R(accept(l, BAD_ADDR, &len));
	out("accept.efault_addr", "%s then %s", first, R(accept(l, NULL, NULL)));
	readable(c, WAIT_MS);
	out("accept.efault_peer_sees", "%s", R(recv(c, &b, 1, MSG_DONTWAIT)));
	close(c);

	struct sockaddr_in a;
	c = dial(port);
	queued(l);
	out("accept.efault_len", "%s", FAULT(accept(l, (struct sockaddr *)&a, BAD_LEN)));
	close(c);
	c = dial(port);
	queued(l);
	out("accept.negative_len", "%s", R(accept(l, (struct sockaddr *)&a, (socklen_t *)&neg)));
	close(c);
	c = dial(port);
	queued(l);
	int s = faults ? accept(l, NULL, BAD_LEN) : accept(l, NULL, NULL);
	out("accept.null_addr_bad_len", "%s", !faults ? "skipped" : s >= 0 ? "fd" : res(s, errno));
	close(s); close(c); close(l);
}

/* No free descriptor: EMFILE, and the connection stays queued for the next accept. */
void case_accept_emfile(void)
{
	int port, l = listener(SOCK_NONBLOCK, &port), c = dial(port);
	struct rlimit old, lim;

	queued(l);
	getrlimit(RLIMIT_NOFILE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t)lowest_free_fd();
	setrlimit(RLIMIT_NOFILE, &lim);
	int r = accept(l, NULL, NULL), e = errno;
	setrlimit(RLIMIT_NOFILE, &old);
	int a = accept(l, NULL, NULL);
	out("accept.emfile", "%s then %s", res(r, e), a >= 0 ? "fd" : res(a, errno));
	close(a); close(c); close(l);
}

/* addrlen: min(len, 16) bytes copied, 16 written back. */
void case_accept_addrlen(void)
{
	int port, l = listener(0, &port);
	int sizes[] = { 0, 4, 16, 100 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char buf[128];
		socklen_t len = (socklen_t)sizes[i];
		int c = dial(port), beyond = 1;
		size_t limit = sizes[i] < 16 ? (size_t)sizes[i] : 16;
		memset(buf, 0xAA, sizeof(buf));
		queued(l);
		int a = accept(l, (struct sockaddr *)buf, &len);
		for (size_t k = limit; k < sizeof(buf); k++)
			beyond &= buf[k] == 0xAA;
		char name[32];
		snprintf(name, sizeof(name), "accept.addrlen_%d", sizes[i]);
		/* Bytes up to the limit are the address (the port varies); none beyond it. */
		out(name, "%s len=%u family_copied=%d untouched_beyond=%d",
		    a >= 0 ? "fd" : res(a, errno), (unsigned)len,
		    limit >= 2 && ((struct sockaddr *)buf)->sa_family == AF_INET, beyond);
		close(a); close(c);
	}
	close(l);
}

void case_accept_flags(void)
{
	int port, l = listener(SOCK_NONBLOCK, &port);
	int combos[] = { 0, SOCK_NONBLOCK, SOCK_CLOEXEC, SOCK_NONBLOCK | SOCK_CLOEXEC };

	for (size_t i = 0; i < 4; i++) {
		int c = dial(port);
		queued(l);
		int want = lowest_free_fd();
		int a = accept4(l, NULL, NULL, combos[i]);
		out(i == 0 ? "accept4.flags_0" : i == 1 ? "accept4.flags_nonblock"
			     : i == 2 ? "accept4.flags_cloexec" : "accept4.flags_both",
		    "%s nonblock=%d cloexec=%d lowest_fd=%d listener_nonblock=%d",
		    a >= 0 ? "fd" : res(a, errno), !!(fcntl(a, F_GETFL) & O_NONBLOCK),
		    !!(fcntl(a, F_GETFD) & FD_CLOEXEC), a == want,
		    !!(fcntl(l, F_GETFL) & O_NONBLOCK));
		close(a); close(c);
	}
	close(l);
}

/* The address accept reports is the client's, connections come out oldest first. */
void case_accept_peer(void)
{
	int port, l = listener(0, &port), c1 = dial(port), c2 = dial(port);
	struct sockaddr_in p1, p2, n1, n2, g1;
	socklen_t len = sizeof(p1), ln = sizeof(n1);

	queued(l);
	int a1 = accept(l, (struct sockaddr *)&p1, &len);
	len = sizeof(p2);
	int a2 = accept(l, (struct sockaddr *)&p2, &len);
	getsockname(c1, (struct sockaddr *)&n1, &ln);
	ln = sizeof(n2);
	getsockname(c2, (struct sockaddr *)&n2, &ln);
	ln = sizeof(g1);
	getpeername(a1, (struct sockaddr *)&g1, &ln);
	out("accept.peer_is_client", "first=%d second=%d getpeername=%d addr=%s",
	    !memcmp(&p1, &n1, sizeof(p1)), !memcmp(&p2, &n2, sizeof(p2)),
	    !memcmp(&g1, &n1, sizeof(g1)), addr_name(&p1));
	close(a1); close(a2); close(c1); close(c2); close(l);
}

/* A listener is readable exactly while a connection waits, and never writable. */
void case_listener_readiness(void)
{
	int port, l = listener(SOCK_NONBLOCK, &port), ep = epoll_create1(0);
	struct pollfd p = { .fd = l, .events = POLLIN | POLLOUT | POLLRDHUP };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.fd = l }, got;
	struct timeval tv0 = { 0, 0 };
	fd_set rd;

	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	poll(&p, 1, 0);
	FD_ZERO(&rd);
	FD_SET(l, &rd);
	int sel = select(l + 1, &rd, NULL, NULL, &tv0);
	out("listener.idle", "poll=%s select=%d epoll=%d", events(p.revents), sel,
	    epoll_wait(ep, &got, 1, 0));
	int c = dial(port);
	p.revents = 0;
	int pr = poll(&p, 1, WAIT_MS);
	FD_ZERO(&rd);
	FD_SET(l, &rd);
	tv0 = (struct timeval){ 0, 0 };
	sel = select(l + 1, &rd, NULL, NULL, &tv0);
	int en = epoll_wait(ep, &got, 1, 0);
	out("listener.pending", "poll=%d:%s select=%d epoll=%d:%s", pr, events(p.revents), sel, en,
	    events(en == 1 ? (int)got.events : 0));
	int a = accept(l, NULL, NULL);
	p.revents = 0;
	poll(&p, 1, 0);
	out("listener.after_accept", "poll=%s epoll=%d", events(p.revents),
	    epoll_wait(ep, &got, 1, 0));
	close(a); close(c); close(ep); close(l);
}
