/* compat_conv.c — the mount and the files of a conversation.
 *
 * The mount point comes from NETFS_ROOT (default /net), read when the library is loaded.  Its st_dev is learnt from
 * <root>/tcp/clone (inode 3) and cached; it is learnt again whenever an fd carries our inode
 * encoding on another device (the daemon was restarted, or the fd came from elsewhere).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"

/* The daemon's inode encoding (netfs(4)). */
#define INO_CLONE 3u
#define INO_CONV_BASE 0x10000u
#define INO_CONV_STRIDE 16u
#define INO_KIND_DATA 2u

static dev_t compat_dev;
static int compat_dev_known;  /* compat_dev is valid */

/* Read once, when the library is loaded: programs may clear their environment later (nginx
 * does before it forks its workers), and their sockets must keep working. */
#define COMPAT_ROOT_MAX 3968  /* room for "/tcp/N/file" in a 4096-byte path */
static char compat_root_path[COMPAT_ROOT_MAX] = "/net";
static pthread_once_t compat_root_once = PTHREAD_ONCE_INIT;

static void compat_root_read(void)
{
	const char *r = getenv("NETFS_ROOT");

	if (r && *r && strlen(r) < sizeof(compat_root_path))
		strcpy(compat_root_path, r);
}

__attribute__((constructor)) static void compat_root_init(void)
{
	pthread_once(&compat_root_once, compat_root_read);
}

static const char *compat_root(void)
{
	pthread_once(&compat_root_once, compat_root_read);
	return compat_root_path;
}

static int compat_learn_dev(void)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/tcp/clone", compat_root());
	if (stat(path, &st) < 0)
		return -1;
	if (st.st_ino != INO_CLONE) {
		errno = ENOENT;  /* some other file system with a tcp/clone */
		return -1;
	}
	__atomic_store_n(&compat_dev, st.st_dev, __ATOMIC_RELAXED);
	__atomic_store_n(&compat_dev_known, 1, __ATOMIC_RELEASE);
	return 0;
}

int compat_conv_of_fd(int fd)
{
	struct stat st;
	int saved = errno;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_ino < INO_CONV_BASE ||
	    (st.st_ino - INO_CONV_BASE) % INO_CONV_STRIDE != INO_KIND_DATA)
		goto not_ours;
	if (!__atomic_load_n(&compat_dev_known, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&compat_dev, __ATOMIC_RELAXED) != st.st_dev) {
		if (compat_learn_dev() < 0 ||
		    __atomic_load_n(&compat_dev, __ATOMIC_RELAXED) != st.st_dev)
			goto not_ours;
	}
	errno = saved;
	return (int)((st.st_ino - INO_CONV_BASE) / INO_CONV_STRIDE);
not_ours:
	errno = saved;
	return -1;
}

int compat_conv_open(int n, const char *file, int flags)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/tcp/%d/%s", compat_root(), n, file);
	return open(path, flags | O_CLOEXEC);
}

/* A failure to reach the mount at all is reported as "this family is not available here"
 * (socket(2) has no errno for "the network file system is missing"); descriptor and memory
 * exhaustion keep their own errno. */
static int compat_clone_errno(int e)
{
	switch (e) {
	case EMFILE: case ENFILE: case EACCES: case ENOMEM: case EINTR:
		return e;
	default:
		return EAFNOSUPPORT;
	}
}

static int compat_read_number(int fd)
{
	char buf[32];
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);

	if (r <= 0) {
		errno = r < 0 ? errno : EIO;
		return -1;
	}
	buf[r] = '\0';
	return atoi(buf);
}

/* Both fds are needed at once; the data fd is then moved onto the clone fd's number so the
 * caller gets the lowest free descriptor, as socket(2) gives. */
int compat_conv_new(int flags)
{
	char path[4096];
	int ctl, data, n;

	snprintf(path, sizeof(path), "%s/tcp/clone", compat_root());
	ctl = open(path, O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		errno = compat_clone_errno(errno);
		return -1;
	}
	n = compat_read_number(ctl);
	data = n < 0 ? -1 : compat_conv_open(n, "data", O_RDWR | (flags & O_NONBLOCK));
	if (data < 0) {
		int e = errno;
		close(ctl);
		errno = e;
		return -1;
	}
	compat_opt_forget(n);
	if (compat_learn_dev() < 0 || dup3(data, ctl, flags & O_CLOEXEC) < 0) {
		int e = errno;
		close(data);
		close(ctl);
		errno = e;
		return -1;
	}
	close(data);
	return ctl;
}

int compat_conv_read(int n, const char *file, char *buf, size_t size)
{
	int fd = compat_conv_open(n, file, O_RDONLY);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, size - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	if (r > 0 && buf[r - 1] == '\n')
		buf[r - 1] = '\0';
	return 0;
}

int compat_conv_ctl(int n, bool nonblock, const char *fmt, ...)
{
	char cmd[256];
	va_list ap;
	int fd, len;
	ssize_t w;

	va_start(ap, fmt);
	len = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fd = compat_conv_open(n, "ctl", O_RDWR | (nonblock ? O_NONBLOCK : 0));
	if (fd < 0)
		return -1;
	w = write(fd, cmd, (size_t)len);
	int e = errno;
	close(fd);
	errno = e;
	return w < 0 ? -1 : 0;
}

int compat_conv_status(int n, struct compat_status *st)
{
	char buf[1024];
	const char *e;

	if (compat_conv_read(n, "status", buf, sizeof(buf)) < 0)
		return -1;
	memset(st, 0, sizeof(*st));
	sscanf(buf, "%15s", st->state);
	e = strstr(buf, " errno ");
	if (e)
		st->error = atoi(e + 7);
	e = strstr(buf, " qin ");
	if (e)
		st->inq = atol(e + 5);
	return 0;
}

bool compat_state_is(const struct compat_status *st, const char *name)
{
	return strcmp(st->state, name) == 0;
}

int compat_conv_addr(int n, const char *file, struct sockaddr_in *sin)
{
	char buf[64];

	if (compat_conv_read(n, file, buf, sizeof(buf)) < 0)
		return -1;
	return compat_addr_parse(buf, sin);
}

bool compat_fd_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_NONBLOCK);
}
