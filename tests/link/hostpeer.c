/* tests/link/hostpeer.c — see hostpeer.h. */
#include "hostpeer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

int hostpeer_listen(uint16_t *port, char *err, size_t errlen)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = loopback(0);
	socklen_t sl = sizeof sa;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		snprintf(err, errlen, "host listen socket: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

int hostpeer_accept(struct hostpeer *p, int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		snprintf(p->err, sizeof p->err, "host accept: %s", strerror(errno));
		return -1;
	}
	p->fd = fd;
	return 1;
}

int hostpeer_connect(struct hostpeer *p, uint16_t port)
{
	struct sockaddr_in sa = loopback(port);
	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || (connect(p->fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
			  errno != EINPROGRESS)) {
		snprintf(p->err, sizeof p->err, "host connect to 127.0.0.1:%u: %s", port,
			 strerror(errno));
		return -1;
	}
	return 0;
}

short hostpeer_events(const struct hostpeer *p)
{
	if (p->fd < 0)
		return 0;
	short ev = 0;
	if (!p->s.rx_eof)
		ev |= POLLIN;
	if (!p->s.tx_shut)
		ev |= POLLOUT;
	return ev;
}

static int fail_errno(struct hostpeer *p, const char *what)
{
	snprintf(p->err, sizeof p->err, "host %s after %llu bytes sent, %llu received: %s", what,
		 (unsigned long long)p->s.sent, (unsigned long long)p->s.received, strerror(errno));
	return -1;
}

static int do_write(struct hostpeer *p)
{
	uint8_t buf[65536];
	for (;;) {
		size_t n = stream_tx_fill(&p->s, buf, sizeof buf);
		if (n == 0) {
			if (shutdown(p->fd, SHUT_WR) < 0)
				return fail_errno(p, "shutdown(SHUT_WR)");
			p->s.tx_shut = true;
			return 0;
		}
		ssize_t w = send(p->fd, buf, n, MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : fail_errno(p, "send");
		stream_tx_advance(&p->s, (size_t)w);
	}
}

static int do_read(struct hostpeer *p)
{
	uint8_t buf[65536];
	for (;;) {
		ssize_t r = recv(p->fd, buf, sizeof buf, 0);
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : fail_errno(p, "recv");
		if (r == 0)
			return stream_rx_eof(&p->s);
		if (stream_rx(&p->s, buf, (size_t)r) < 0)
			return -1;
	}
}

int hostpeer_io(struct hostpeer *p, short revents)
{
	if (p->fd < 0 || revents == 0)
		return 0;
	if ((revents & (POLLIN | POLLERR | POLLHUP)) && !p->s.rx_eof && do_read(p) < 0)
		return -1;
	if ((revents & (POLLOUT | POLLERR)) && !p->s.tx_shut && do_write(p) < 0)
		return -1;
	return 0;
}

void hostpeer_close(struct hostpeer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}
