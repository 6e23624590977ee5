/* lt_files: the load tool over the /net files themselves, with nothing but
 * open/read/write/close (netfs(4)): clone -> ctl, "connect ip!port" or
 * "announce port", N/data for the stream, N/listen to accept.
 *
 * usage: lt_files -m MOUNT serve PORT [ADDR] | lt_files -m MOUNT rtt|cps|... */
#include "lt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *mount_dir;

static int fail(struct lt_conn *c)
{
	int e = -errno;

	lt_conn_close(c);
	return e;
}

/* The number of the conversation whose ctl is open on fd. */
static int conv_number(int ctl)
{
	char buf[16];
	ssize_t r = pread(ctl, buf, sizeof buf - 1, 0);

	if (r <= 0)
		return r < 0 ? -errno : -EPROTO;
	buf[r] = '\0';
	char *end;
	long n = strtol(buf, &end, 10);
	if (end == buf || *end != '\0' || n < 0)
		return -EPROTO;
	return (int)n;
}

/* Takes over an open ctl fd and learns its conversation number. */
static int adopt_ctl(int ctl, struct lt_conn *c)
{
	*c = (struct lt_conn){ .data = -1, .ctl = ctl, .num = conv_number(ctl) };
	if (c->num < 0) {
		errno = -c->num;
		return fail(c);
	}
	return 0;
}

static int open_data(struct lt_conn *c)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/tcp/%d/data", mount_dir, c->num);
	c->data = open(path, O_RDWR | O_CLOEXEC);
	return c->data < 0 ? fail(c) : 0;
}

static int clone_conv(struct lt_conn *c)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/tcp/clone", mount_dir);
	int ctl = open(path, O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	return adopt_ctl(ctl, c);
}

static int ctl_command(struct lt_conn *c, const char *cmd)
{
	size_t n = strlen(cmd);
	ssize_t w = write(c->ctl, cmd, n);

	if (w == (ssize_t)n)
		return 0;
	return w < 0 ? -errno : -EPROTO;
}

static int files_dial(const char *host, int port, struct lt_conn *c)
{
	char cmd[128];
	int e = clone_conv(c);

	if (e < 0)
		return e;
	snprintf(cmd, sizeof cmd, "connect %s!%d", host, port);
	e = ctl_command(c, cmd);
	if (e < 0) {
		lt_conn_close(c);
		return e;
	}
	return open_data(c);
}

static int files_announce(const char *addr, int port, struct lt_conn *l)
{
	char cmd[128];
	int e = clone_conv(l);

	if (e < 0)
		return e;
	if (strcmp(addr, "0.0.0.0") == 0)
		snprintf(cmd, sizeof cmd, "announce %d", port);
	else
		snprintf(cmd, sizeof cmd, "announce %s!%d", addr, port);
	e = ctl_command(l, cmd);
	if (e < 0)
		lt_conn_close(l);
	return e;
}

static int files_accept(struct lt_conn *l, struct lt_conn *c)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/tcp/%d/listen", mount_dir, l->num);
	int ctl = open(path, O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	int e = adopt_ctl(ctl, c);
	return e < 0 ? e : open_data(c);
}

static const struct lt_transport files_transport = {
	.dial = files_dial,
	.announce = files_announce,
	.accept = files_accept,
};

int main(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "-m") != 0) {
		fprintf(stderr, "usage: lt_files -m MOUNT COMMAND ...  (see lt_sock)\n");
		return 2;
	}
	mount_dir = argv[2];
	return lt_cli("lt_files", argc - 3, argv + 3, &files_transport);
}
