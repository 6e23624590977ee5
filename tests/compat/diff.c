/* tests/compat/diff.c — the differential test of libnetfs-compat.
 *
 * Run once on the kernel's sockets and once with the library against a netfsd mount; every
 * case prints one line, and the two outputs must be identical (run_diff.sh compares them).
 * Everything happens on 127.0.0.1, which is the kernel's loopback in the first run and the
 * namespace's own loopback in the second.  Ports are printed relative to the base port given
 * on the command line ("+3"), ephemeral ports as "eph", addresses by role ("client").
 *
 * usage: diff BASEPORT      run the cases
 *        diff --send-on FD  (used by the exec case) send "exec" on inherited socket FD
 *        diff --where      print what a new TCP socket's fd is (a netfs data file or a
 *                          kernel socket), so a run can prove which one it tested
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 5000  /* the bound of every wait for a condition */

static int base_port;
/* Addresses that are never mapped: the calls must fail with EFAULT, never crash. */
static void *volatile bad_ptr = (void *)1;
#define BAD_LEN ((socklen_t *)bad_ptr)
#define BAD_ADDR ((struct sockaddr *)bad_ptr)
/* Sanitizer runtimes read *addrlen / *optlen in their own interceptors before the call and
 * crash on a bad one (by design); run_diff.sh sets DIFF_NO_FAULTS=1 in sanitized builds and
 * both runs print "skipped" for those cases. */
static int faults = 1;
#define FAULT(call) (faults ? R(call) : "skipped")
static int next_port;  /* each case that listens takes a fresh port */

/* ---- output -------------------------------------------------------------------------------- */

static void out(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%-28s ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* "ok", "ret=N" or the errno's name. */
static const char *res(long r, int err)
{
	static char buf[8][32];
	static int i;
	char *b = buf[i++ % 8];

	if (r >= 0)
		snprintf(b, 32, r == 0 ? "ok" : "ret=%ld", r);
	else
		snprintf(b, 32, "%s", strerrorname_np(err) ? strerrorname_np(err) : "E?");
	return b;
}
#define R(call) ({ errno = 0; long r_ = (long)(call); res(r_, errno); })
/* fd results: "fd" instead of the number. */
#define RFD(call) ({ errno = 0; long r_ = (long)(call); r_ >= 0 ? "fd" : res(r_, errno); })

static const char *events(int ev)
{
	static char buf[4][64];
	static int i;
	char *b = buf[i++ % 4];

	b[0] = '\0';
	if (ev & POLLIN) strcat(b, "IN|");
	if (ev & POLLPRI) strcat(b, "PRI|");
	if (ev & POLLOUT) strcat(b, "OUT|");
	if (ev & POLLERR) strcat(b, "ERR|");
	if (ev & POLLHUP) strcat(b, "HUP|");
	if (ev & POLLRDHUP) strcat(b, "RDHUP|");
	if (ev & POLLNVAL) strcat(b, "NVAL|");
	if (!b[0])
		strcpy(b, "none|");
	b[strlen(b) - 1] = '\0';
	return b;
}

static const char *port_name(int port)
{
	static char buf[4][16];
	static int i;
	char *b = buf[i++ % 4];

	if (port == 0)
		return "0";
	if (port >= base_port && port < base_port + 200)
		snprintf(b, 16, "+%d", port - base_port);
	else
		snprintf(b, 16, "eph");
	return b;
}

static const char *addr_name(const struct sockaddr_in *a)
{
	static char buf[4][64];
	static int i;
	char *b = buf[i++ % 4];
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	snprintf(b, 64, "%s:%s", ip, port_name(ntohs(a->sin_port)));
	return b;
}

/* ---- helpers ------------------------------------------------------------------------------- */

static struct sockaddr_in loop_addr(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static void die(const char *what)
{
	printf("SETUP FAILED: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int tcp(int flags)
{
	int s = socket(AF_INET, SOCK_STREAM | flags, 0);

	if (s < 0)
		die("socket");
	return s;
}

static int listener_on(int port, int flags)
{
	int s = tcp(flags), one = 1;
	struct sockaddr_in a = loop_addr(port);

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0)
		die("bind/listen");
	return s;
}

static int listener(int flags, int *port)
{
	*port = next_port++;
	return listener_on(*port, flags);
}

static int dial(int port)
{
	int s = tcp(0);
	struct sockaddr_in a = loop_addr(port);

	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	return s;
}

static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Until a connection waits on listener l (bounded). */
static void queued(int l)
{
	if (!readable(l, WAIT_MS))
		die("no connection queued");
}

static int take(int l)
{
	queued(l);
	int c = accept(l, NULL, NULL);
	if (c < 0)
		die("accept");
	return c;
}

static int lowest_free_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

static int sigcount;
static void on_signal(int sig) { (void)sig; sigcount++; }
static int signal_pipe = -1;
static void on_signal_pipe(int sig)
{
	(void)sig;
	sigcount++;
	if (write(signal_pipe, "s", 1) < 0)
		sigcount += 100;
}

static void handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void alarm_ms(int ms)
{
	struct itimerval it = { .it_value = { ms / 1000, (ms % 1000) * 1000 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static int sock_error(int s)
{
	int e = -1;
	socklen_t l = sizeof(e);

	getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &l);
	return e;
}

/* ---- accept ------------------------------------------------------------------------------ */

static void case_accept_checks(void)
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

static void case_accept_eagain(void)
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
static void case_accept_signals(void)
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
static void case_accept_faults(void)
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
static void case_accept_emfile(void)
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
static void case_accept_addrlen(void)
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

static void case_accept_flags(void)
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
static void case_accept_peer(void)
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
static void case_listener_readiness(void)
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

/* ---- bind, listen, connect, names ---------------------------------------------------------- */

static void case_bind(void)
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

static void case_listen(void)
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

static void case_connect(void)
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
static void case_connect_retry(void)
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

static void case_connect_nonblocking(void)
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
static void case_poll_states(void)
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
static void case_ports(void)
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

static void case_names(void)
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

static void case_half_close(void)
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

static void case_peek_dontwait(void)
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

static void case_msg(void)
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
static void case_recv_signals(void)
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

static void case_unconnected_io(void)
{
	int s = tcp(0), port, l = listener(0, &port);
	char b[4];

	out("io.recv_unconnected", "%s", R(recv(s, b, sizeof(b), MSG_DONTWAIT)));
	out("io.send_unconnected", "%s", R(send(s, b, sizeof(b), MSG_NOSIGNAL)));
	out("io.recv_listener", "%s", R(recv(l, b, sizeof(b), MSG_DONTWAIT)));
	close(s); close(l);
}

/* Closing with unread data resets: the other end reads ECONNRESET. */
static void case_reset(void)
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

static void case_sockopts(void)
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
static void case_fd_sharing(void)
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

static void case_more_io(void)
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
static void case_epoll_edge(void)
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
static void case_passing(const char *self)
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
static void case_other_families(void)
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

static int where(void)
{
	char link[64], path[4096];
	int s = tcp(0);
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", s);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 1;
	printf("%.*s\n", (int)n, path);
	return 0;
}

int main(int argc, char **argv)
{
	/* the exec'd half of case_passing: an inherited socket, used after exec */
	if (argc == 3 && strcmp(argv[1], "--send-on") == 0)
		return send(atoi(argv[2]), "exec", 4, 0) == 4 &&
		       getsockopt(atoi(argv[2]), SOL_SOCKET, SO_TYPE, &(int){0},
				  &(socklen_t){sizeof(int)}) == 0 ? 0 : 1;
	if (argc != 2)
		return 2;
	if (strcmp(argv[1], "--where") == 0)
		return where();
	base_port = atoi(argv[1]);
	faults = getenv("DIFF_NO_FAULTS") == NULL;
	next_port = base_port;
	signal(SIGPIPE, SIG_DFL);

	case_accept_checks();
	case_accept_eagain();
	case_accept_signals();
	case_accept_faults();
	case_accept_emfile();
	case_accept_addrlen();
	case_accept_flags();
	case_accept_peer();
	case_listener_readiness();
	case_bind();
	case_listen();
	case_connect();
	case_connect_nonblocking();
	case_connect_retry();
	case_poll_states();
	case_ports();
	case_names();
	case_half_close();
	case_peek_dontwait();
	case_msg();
	case_recv_signals();
	case_unconnected_io();
	case_reset();
	case_sockopts();
	case_fd_sharing();
	case_more_io();
	case_epoll_edge();
	case_passing(argv[0]);
	case_other_families();
	out("done", "");
	return 0;
}
