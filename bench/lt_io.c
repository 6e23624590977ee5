/* Whole-buffer I/O for the load tools: byte streams may return short counts. */
#include "lt.h"

#include <errno.h>
#include <unistd.h>

void lt_conn_close(struct lt_conn *c)
{
	if (c->data >= 0)
		close(c->data);
	if (c->ctl >= 0)
		close(c->ctl);
	c->data = c->ctl = c->num = -1;
}

int lt_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int lt_read_full(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EPIPE;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}
