/* tests/compat/diff_data.c — the data path: half-close, peek, flags, signals, resets, options, fd passing. */
#include "diff.h"

/* ---- data ---------------------------------------------------------------------------------- */

struct pair { int l, c, a; };

static struct pair connected(void)
{
	struct pair p;
	int port;

	p.l = listener(0, &port);
	p.c = dial(port);
	p.a = take(p.l);
	return p;
}

static void unpair(struct pair *p)
{
	close(p->a); close(p->c); close(p->l);
}

void case_half_close(void)
{
	struct pair p = connected();
	char buf[16] = "";
	struct pollfd q = { .fd = p.a, .events = POLLIN | POLLRDHUP };

	out("half.shutdown_bad_how", "%s", R(shutdown(p.c, 7)));
	out("half.shutdown_wr", "%s", R(shutdown(p.c, SHUT_WR)));
	poll(&q, 1, WAIT_MS);
	out("half.server_sees", "poll=%s recv=%s", events(q.revents),
	    R(recv(p.a, buf, sizeof(buf), 0)));
	out("half.server_sends", "%s", R(send(p.a, "pong", 4, 0)));
	readable(p.c, WAIT_MS);
	ssize_t r = recv(p.c, buf, sizeof(buf), 0);
	out("half.client_reads", "%zd %.*s", r, r > 0 ? (int)r : 0, buf);
	out("half.client_send_after", "%s", R(send(p.c, "x", 1, MSG_NOSIGNAL)));
	handle(SIGPIPE, on_signal, 0);
	sigcount = 0;
	const char *sr = R(send(p.c, "x", 1, 0));
	out("half.sigpipe", "%s signals=%d", sr, sigcount);
	handle(SIGPIPE, SIG_DFL, 0);
	close(p.a);
	readable(p.c, WAIT_MS);
	out("half.client_eof", "%s", R(recv(p.c, buf, sizeof(buf), 0)));
	int u = tcp(0);
	out("half.shutdown_unconnected", "%s", R(shutdown(u, SHUT_RDWR)));
	close(u); close(p.c); close(p.l);
}

void case_peek_dontwait(void)
{
	struct pair p = connected();
	char buf[32] = "";

	out("data.dontwait_empty", "%s blocking_after=%d", R(recv(p.a, buf, 5, MSG_DONTWAIT)),
	    !(fcntl(p.a, F_GETFL) & O_NONBLOCK));
	send(p.c, "hello", 5, 0);
	readable(p.a, WAIT_MS);
	ssize_t r = recv(p.a, buf, 3, MSG_PEEK);
	out("data.peek", "%zd %.*s", r, r > 0 ? (int)r : 0, buf);
	int inq = -1;
	ioctl(p.a, FIONREAD, &inq);
	out("data.fionread", "%d", inq);
	r = recv(p.a, buf, sizeof(buf), 0);
	out("data.read_after_peek", "%zd %.*s", r, r > 0 ? (int)r : 0, buf);
	/* A length known only at run time makes _FORTIFY_SOURCE call __recv_chk and
	 * __recvfrom_chk. */
	volatile size_t runtime_len = 4;
	socklen_t flen = 8;
	send(p.c, "fortify!", 8, 0);
	readable(p.a, WAIT_MS);
	r = recv(p.a, buf, runtime_len, MSG_WAITALL);
	ssize_t r2 = recvfrom(p.a, buf + 4, runtime_len, MSG_WAITALL, NULL, &flen);
	out("data.fortified", "%zd %zd %.8s", r, r2, buf);
	out("data.peek_dontwait_empty", "%s", R(recv(p.a, buf, 5, MSG_PEEK | MSG_DONTWAIT)));
	send(p.c, "abc", 3, 0);
	send(p.c, "defghij", 7, 0);
	r = recv(p.a, buf, 10, MSG_WAITALL);
	out("data.waitall", "%zd %.*s", r, r > 0 ? (int)r : 0, buf);
	int on = 1;
	ioctl(p.a, FIONBIO, &on);
	out("data.fionbio", "%s nonblock=%d", R(recv(p.a, buf, 5, 0)),
	    !!(fcntl(p.a, F_GETFL) & O_NONBLOCK));
	struct timeval tv = { 0, 100000 };
	on = 0;
	ioctl(p.a, FIONBIO, &on);
	setsockopt(p.a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	out("data.rcvtimeo", "%s", R(recv(p.a, buf, 5, 0)));
	unpair(&p);
}

void case_msg(void)
{
	struct pair p = connected();
	char a[4], b[8], from[32];
	struct iovec out_iov[2] = { { "1234", 4 }, { "5678", 4 } };
	struct iovec in_iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct msghdr m = { .msg_iov = out_iov, .msg_iovlen = 2 };
	socklen_t flen = sizeof(from);

	out("msg.sendmsg", "%s", R(sendmsg(p.c, &m, 0)));
	readable(p.a, WAIT_MS);
	struct msghdr r = { .msg_name = from, .msg_namelen = sizeof(from), .msg_iov = in_iov,
			    .msg_iovlen = 2 };
	ssize_t n = recvmsg(p.a, &r, 0);
	out("msg.recvmsg", "%zd %.4s%.*s namelen=%u flags=%d", n, a, n > 4 ? (int)n - 4 : 0, b,
	    (unsigned)r.msg_namelen, r.msg_flags);
	send(p.c, "zz", 2, 0);
	readable(p.a, WAIT_MS);
	n = recvfrom(p.a, b, sizeof(b), 0, (struct sockaddr *)from, &flen);
	out("msg.recvfrom_addrlen", "%zd addrlen=%u", n, (unsigned)flen);
	out("msg.sendto_ignored_addr", "%s", ({
		struct sockaddr_in x = loop_addr(1);
		R(sendto(p.c, "q", 1, 0, (struct sockaddr *)&x, sizeof(x)));
	}));
	unpair(&p);
}

/* A blocking recv hit by a signal: EINTR without SA_RESTART; with it the read goes on and
 * returns the data the handler's signal lets a child send. */
void case_recv_signals(void)
{
	struct pair p = connected();
	char b[8];
	int sp[2];

	handle(SIGALRM, on_signal, 0);
	sigcount = 0;
	alarm_ms(100);
	const char *r1 = R(recv(p.a, b, sizeof(b), 0));
	out("recv.eintr", "%s signals=%d", r1, sigcount);
	if (pipe(sp) < 0)
		die("pipe");
	signal_pipe = sp[1];
	pid_t child = fork();
	if (child == 0) {
		char x;
		_exit(read(sp[0], &x, 1) == 1 && send(p.c, "late", 4, 0) == 4 ? 0 : 1);
	}
	handle(SIGALRM, on_signal_pipe, SA_RESTART);
	sigcount = 0;
	alarm_ms(100);
	ssize_t n = recv(p.a, b, sizeof(b), 0);
	out("recv.sa_restart", "%zd %.*s signals=%d", n, n > 0 ? (int)n : 0, b, sigcount);
	waitpid(child, NULL, 0);
	handle(SIGALRM, SIG_DFL, 0);
	close(sp[0]); close(sp[1]);
	unpair(&p);
}

void case_unconnected_io(void)
{
	int s = tcp(0), port, l = listener(0, &port);
	char b[4];

	out("io.recv_unconnected", "%s", R(recv(s, b, sizeof(b), MSG_DONTWAIT)));
	out("io.send_unconnected", "%s", R(send(s, b, sizeof(b), MSG_NOSIGNAL)));
	out("io.recv_listener", "%s", R(recv(l, b, sizeof(b), MSG_DONTWAIT)));
	close(s); close(l);
}

/* Closing with unread data resets: the other end reads ECONNRESET. */
void case_reset(void)
{
	struct pair p = connected();
	char b[8];

	send(p.a, "unread", 6, 0);
	readable(p.c, WAIT_MS);
	close(p.c);
	readable(p.a, WAIT_MS);
	struct pollfd q = { .fd = p.a, .events = POLLIN | POLLOUT | POLLRDHUP };
	poll(&q, 1, 0);
	out("reset.poll", "%s", events(q.revents));
	out("reset.recv", "%s", R(recv(p.a, b, sizeof(b), 0)));
	out("reset.recv_again", "%s", R(recv(p.a, b, sizeof(b), 0)));
	out("reset.send", "%s", R(send(p.a, b, 1, MSG_NOSIGNAL)));
	close(p.a); close(p.l);
}

void case_sockopts(void)
{
	int s = tcp(0), v;
	socklen_t len = sizeof(v);
	struct timeval tv = { 2, 500000 }, tg;
	struct linger lg = { 1, 7 }, lgg;

#define GETI(level, name) ({ int v_ = -1; socklen_t l_ = sizeof(v_); \
	getsockopt(s, level, name, &v_, &l_) < 0 ? -1000 - errno : v_; })
	out("opt.constants", "type=%d domain=%d protocol=%d error=%d",
	    GETI(SOL_SOCKET, SO_TYPE), GETI(SOL_SOCKET, SO_DOMAIN), GETI(SOL_SOCKET, SO_PROTOCOL),
	    GETI(SOL_SOCKET, SO_ERROR));
	v = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v));
	setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v));
	v = 5;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v));
	out("opt.bools", "reuseaddr=%d reuseport=%d keepalive=%d nodelay=%d",
	    GETI(SOL_SOCKET, SO_REUSEADDR), GETI(SOL_SOCKET, SO_REUSEPORT),
	    GETI(SOL_SOCKET, SO_KEEPALIVE), GETI(IPPROTO_TCP, TCP_NODELAY));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	len = sizeof(tg);
	getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tg, &len);
	out("opt.rcvtimeo", "%ld.%06ld len=%u", (long)tg.tv_sec, (long)tg.tv_usec, (unsigned)len);
	tv.tv_usec = 2000000;
	out("opt.rcvtimeo_edom", "%s", R(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))));
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	len = sizeof(lgg);
	getsockopt(s, SOL_SOCKET, SO_LINGER, &lgg, &len);
	out("opt.linger", "%d %d len=%u", lgg.l_onoff, lgg.l_linger, (unsigned)len);
	v = 65536;
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	out("opt.rcvbuf_doubled", "%d", GETI(SOL_SOCKET, SO_RCVBUF) == 131072);
	out("opt.short_optlen", "%s", R(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2)));
	out("opt.unknown", "%s %s", R(setsockopt(s, SOL_SOCKET, 12345, &v, sizeof(v))),
	    R(getsockopt(s, SOL_SOCKET, 12345, &v, &len)));
	out("opt.readonly", "%s", R(setsockopt(s, SOL_SOCKET, SO_TYPE, &v, sizeof(v))));
	int w;
	out("opt.efault", "%s %s", FAULT(getsockopt(s, SOL_SOCKET, SO_TYPE, &w, BAD_LEN)),
	    R(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, (void *)1, sizeof(v))));
	len = 2;
	v = 0x7f7f7f7f;
	getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len);
	out("opt.truncated", "len=%u low=%d", (unsigned)len, v & 0xffff);
	close(s);
#undef GETI
}

/* A socket is an fd: dup and fork share it with no help from the library. */
void case_fd_sharing(void)
{
	struct pair p = connected();
	char b[8];
	int d = dup(p.c);

	pid_t child = fork();
	if (child == 0) {
		_exit(send(p.c, "kid", 3, 0) == 3 ? 0 : 1);
	}
	int st;
	waitpid(child, &st, 0);
	send(d, "dup", 3, 0);
	ssize_t n = recv(p.a, b, 6, MSG_WAITALL);
	out("fd.fork_and_dup", "child=%d %zd %.*s", WEXITSTATUS(st), n, n > 0 ? (int)n : 0, b);
	close(d);
	unpair(&p);
}

void case_more_io(void)
{
	struct pair p = connected();
	char b[16];
	int inq = 0;

	out("more.send_dontwait", "%s blocking_after=%d", R(send(p.c, "abc", 3, MSG_DONTWAIT)),
	    !(fcntl(p.c, F_GETFL) & O_NONBLOCK));
	readable(p.a, WAIT_MS);
	recv(p.a, b, sizeof(b), 0);
	out("more.fionread_listener", "%s", R(ioctl(p.l, FIONREAD, &inq)));
	out("more.send_listener", "%s", R(send(p.l, "x", 1, MSG_NOSIGNAL)));
	out("more.so_error_established", "%d", sock_error(p.c));
	out("more.listen_negative_backlog", "%s", R(listen(p.l, -1)));
	const char *sd = R(shutdown(p.a, SHUT_RD));
	out("more.shutdown_rd", "%s then recv=%s", sd, R(recv(p.a, b, sizeof(b), MSG_DONTWAIT)));
	int high = dup2(p.c, 100);
	struct sockaddr_in n;
	socklen_t len = sizeof(n);
	out("more.dup2_high", "%s %s", high == 100 ? "fd" : "fail",
	    R(getpeername(100, (struct sockaddr *)&n, &len)));
	close(100);
	unpair(&p);
}

/* Edge-triggered epoll on a data socket: one event per arrival. */
void case_epoll_edge(void)
{
	struct pair p = connected();
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = p.a }, got;
	char b[8];

	epoll_ctl(ep, EPOLL_CTL_ADD, p.a, &ev);
	int e0 = epoll_wait(ep, &got, 1, 0);
	send(p.c, "one", 3, 0);
	int e1 = epoll_wait(ep, &got, 1, WAIT_MS);
	int e2 = epoll_wait(ep, &got, 1, 50);
	send(p.c, "two", 3, 0);
	int e3 = epoll_wait(ep, &got, 1, WAIT_MS);
	ssize_t n = recv(p.a, b, sizeof(b), MSG_WAITALL | MSG_DONTWAIT);
	out("epoll.edge", "idle=%d first=%d again=%d second=%d read=%zd", e0, e1, e2, e3, n);
	close(ep);
	unpair(&p);
}

/* A socket passed over SCM_RIGHTS, and one inherited across exec, still work. */
void case_passing(const char *self)
{
	struct pair p = connected();
	int sv[2];
	char b[16];
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
	struct iovec iov = { "f", 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &p.c, sizeof(int));
	sendmsg(sv[0], &m, 0);
	memset(u.buf, 0, sizeof(u.buf));
	m.msg_controllen = sizeof(u.buf);
	iov.iov_base = b;
	recvmsg(sv[1], &m, 0);
	int passed = -1;
	memcpy(&passed, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	send(passed, "scm", 3, 0);
	ssize_t n = recv(p.a, b, 3, MSG_WAITALL);
	out("pass.scm_rights", "%zd %.*s", n, n > 0 ? (int)n : 0, b);
	close(passed);

	pid_t child = fork();
	if (child == 0) {
		char fd[16];
		snprintf(fd, sizeof(fd), "%d", p.c);
		execl(self, self, "--send-on", fd, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(child, &st, 0);
	n = recv(p.a, b, 4, MSG_WAITALL);
	out("pass.exec", "status=%d %zd %.*s", WEXITSTATUS(st), n, n > 0 ? (int)n : 0, b);
	close(sv[0]); close(sv[1]);
	unpair(&p);
}

/* Host processes: other families go to the kernel untouched. */
void case_other_families(void)
{
	int u = socket(AF_UNIX, SOCK_STREAM, 0), d = socket(AF_INET, SOCK_DGRAM, 0);
	int sv[2];

	out("other.unix_dgram", "%s %s", u >= 0 ? "fd" : "fail", d >= 0 ? "fd" : "fail");
	out("other.socketpair", "%s", R(socketpair(AF_UNIX, SOCK_STREAM, 0, sv)));
	char b[2];
	send(sv[0], "p", 1, 0);
	out("other.socketpair_io", "%s", R(recv(sv[1], b, 1, 0)));
	close(sv[0]); close(sv[1]); close(u); close(d);
}
