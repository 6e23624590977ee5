/* tests/compat/diff_util.c — printing results by name and role, and the socket helpers every case uses. */
#include "diff.h"

int base_port;
void *volatile bad_ptr = (void *)1;
int faults = 1;
int next_port;

/* ---- output -------------------------------------------------------------------------------- */

void out(const char *name, const char *fmt, ...)
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
const char *res(long r, int err)
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

const char *events(int ev)
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

const char *port_name(int port)
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

const char *addr_name(const struct sockaddr_in *a)
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

struct sockaddr_in loop_addr(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

void die(const char *what)
{
	printf("SETUP FAILED: %s: %s\n", what, strerror(errno));
	exit(1);
}

int tcp(int flags)
{
	int s = socket(AF_INET, SOCK_STREAM | flags, 0);

	if (s < 0)
		die("socket");
	return s;
}

int listener_on(int port, int flags)
{
	int s = tcp(flags), one = 1;
	struct sockaddr_in a = loop_addr(port);

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0)
		die("bind/listen");
	return s;
}

int listener(int flags, int *port)
{
	*port = next_port++;
	return listener_on(*port, flags);
}

int dial(int port)
{
	int s = tcp(0);
	struct sockaddr_in a = loop_addr(port);

	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	return s;
}

int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Until a connection waits on listener l (bounded). */
void queued(int l)
{
	if (!readable(l, WAIT_MS))
		die("no connection queued");
}

int take(int l)
{
	queued(l);
	int c = accept(l, NULL, NULL);
	if (c < 0)
		die("accept");
	return c;
}

int lowest_free_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

int sigcount;
void on_signal(int sig) { (void)sig; sigcount++; }
int signal_pipe = -1;
void on_signal_pipe(int sig)
{
	(void)sig;
	sigcount++;
	if (write(signal_pipe, "s", 1) < 0)
		sigcount += 100;
}

void handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

void alarm_ms(int ms)
{
	struct itimerval it = { .it_value = { ms / 1000, (ms % 1000) * 1000 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

int sock_error(int s)
{
	int e = -1;
	socklen_t l = sizeof(e);

	getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &l);
	return e;
}
