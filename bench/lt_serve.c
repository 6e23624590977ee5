/* The server side of the load tools' wire protocol (see lt.h).
 *
 * Blocking I/O with one thread per connection, because that works the same on
 * every transport (sockets, /net files, libnetfs-compat) without relying on
 * poll support.  Threads are kept in a pool and reused, so that the connects/s
 * figure measures the network path rather than thread creation; the pool grows
 * whenever a connection would otherwise wait, because an idle connection (the
 * scale test holds thousands) occupies its thread until it closes.
 */
#include "lt.h"

#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ECHO_BUF = 64 << 10, WORKER_STACK = 256 << 10 };

struct job {
	struct lt_conn conn;
	struct job *next;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, **tail;
	size_t queued, waiting;
} pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, &pool.head, 0, 0 };

static void serve_echo(int fd, char first)
{
	char *buf = malloc(ECHO_BUF);

	if (!buf || lt_write_all(fd, &first, 1) < 0)
		goto out;
	for (;;) {
		ssize_t r = read(fd, buf, ECHO_BUF);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || lt_write_all(fd, buf, (size_t)r) < 0)
			break;
	}
out:
	free(buf);
}

static void serve_sink(int fd)
{
	char *buf = malloc(LT_CHUNK);
	uint64_t count = 0;

	if (!buf)
		return;
	for (;;) {
		ssize_t r = read(fd, buf, LT_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		char *end = memchr(buf, LT_END, (size_t)r);
		if (end) {
			count += (uint64_t)(end - buf);
			break;
		}
		count += (uint64_t)r;
	}
	if (lt_write_all(fd, &count, sizeof count) < 0)
		goto out;
	/* the client closes once it has the count; leave the close to it */
	while (read(fd, buf, LT_CHUNK) > 0)
		;
out:
	free(buf);
}

static void serve_gen(int fd)
{
	char *buf = malloc(LT_CHUNK);

	if (!buf)
		return;
	memset(buf, LT_FILL, LT_CHUNK);
	while (lt_write_all(fd, buf, LT_CHUNK) == 0)
		;
	free(buf);
}

static void serve_conn(struct lt_conn *c)
{
	char svc;

	if (lt_read_full(c->data, &svc, 1) == 0) {
		switch (svc) {
		case LT_SVC_ECHO:
			serve_echo(c->data, svc);
			break;
		case LT_SVC_SINK:
			serve_sink(c->data);
			break;
		case LT_SVC_GEN:
			serve_gen(c->data);
			break;
		default:
			warnx("unknown service byte 0x%02x", (unsigned char)svc);
		}
	}
	lt_conn_close(c);
}

static struct job *pool_take(void)
{
	pthread_mutex_lock(&pool.mu);
	pool.waiting++;
	while (!pool.head)
		pthread_cond_wait(&pool.cv, &pool.mu);
	pool.waiting--;
	struct job *j = pool.head;
	pool.head = j->next;
	if (!pool.head)
		pool.tail = &pool.head;
	pool.queued--;
	pthread_mutex_unlock(&pool.mu);
	return j;
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		struct job *j = pool_take();
		serve_conn(&j->conn);
		free(j);
	}
	return NULL;
}

static void spawn_worker(void)
{
	pthread_attr_t attr;
	pthread_t tid;
	int e;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	e = pthread_create(&tid, &attr, worker, NULL);
	if (e)
		lt_errc(1, e, "pthread_create");
	pthread_attr_destroy(&attr);
}

static void pool_submit(const struct lt_conn *c)
{
	struct job *j = malloc(sizeof *j);

	if (!j)
		err(1, "job");
	j->conn = *c;
	j->next = NULL;
	pthread_mutex_lock(&pool.mu);
	*pool.tail = j;
	pool.tail = &j->next;
	pool.queued++;
	/* every queued job needs a waiting thread of its own */
	int need_worker = pool.queued > pool.waiting;
	pthread_cond_signal(&pool.cv);
	pthread_mutex_unlock(&pool.mu);
	if (need_worker)
		spawn_worker();
}

int lt_serve(const struct lt_transport *t, const char *addr, int port)
{
	struct lt_conn listener;
	int e;

	signal(SIGPIPE, SIG_IGN);
	e = t->announce(addr, port, &listener);
	if (e < 0)
		lt_errc(1, -e, "announce %s port %d", addr, port);
	printf("listening port=%d\n", port);
	fflush(stdout);
	for (;;) {
		struct lt_conn c;
		e = t->accept(&listener, &c);
		if (e == -EINTR || e == -ECONNABORTED)
			continue;
		if (e < 0)
			lt_errc(1, -e, "accept");
		pool_submit(&c);
	}
}
