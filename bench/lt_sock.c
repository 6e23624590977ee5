/* lt_sock: the load tool over BSD sockets.  bench/run uses it for the kernel,
 * inside slirp4netns's namespace, and unmodified under netfs-run (the compat
 * library), so those three figures come from identical code.
 *
 * usage: lt_sock serve PORT [ADDR] | lt_sock rtt|cps|send|recv|scale HOST PORT ... */
#include "lt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

static void no_delay(int fd)
{
	int on = 1;

	/* small round trips, as netperf's TCP_RR; a library that cannot set it
	 * still gets measured, so the result is ignored */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

static int fail(int fd)
{
	int e = -errno;

	close(fd);
	return e;
}

static int sock_dial(const char *host, int port, struct lt_conn *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		if (errno != EINTR)
			return fail(fd);
	no_delay(fd);
	*c = (struct lt_conn){ .data = fd, .ctl = -1, .num = -1 };
	return 0;
}

static int sock_announce(const char *addr, int port, struct lt_conn *l)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int on = 1;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -EINVAL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4096) < 0)
		return fail(fd);
	*l = (struct lt_conn){ .data = fd, .ctl = -1, .num = -1 };
	return 0;
}

static int sock_accept(struct lt_conn *l, struct lt_conn *c)
{
	int fd = accept4(l->data, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return -errno;
	no_delay(fd);
	*c = (struct lt_conn){ .data = fd, .ctl = -1, .num = -1 };
	return 0;
}

static const struct lt_transport sock_transport = {
	.dial = sock_dial,
	.announce = sock_announce,
	.accept = sock_accept,
};

int main(int argc, char **argv)
{
	return lt_cli("lt_sock", argc - 1, argv + 1, &sock_transport);
}
