/* The client load patterns of bench/run, written once for every transport.
 * Every figure is measured where it can be checked: round trips by the
 * client's own clock, bulk sends by the byte count the receiver confirms. */
#include "lt.h"

#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum { WARMUP_ROUNDS = 20 };

static uint64_t deadline_after(double seconds)
{
	return lt_now_ns() + (uint64_t)(seconds * 1e9);
}

static void dial_or_die(const struct lt_transport *t, const char *host, int port,
			struct lt_conn *c)
{
	int e = t->dial(host, port, c);

	if (e < 0)
		lt_errc(1, -e, "dial %s port %d", host, port);
}

static void ask(struct lt_conn *c, char svc)
{
	int e = lt_write_all(c->data, &svc, 1);

	if (e < 0)
		lt_errc(1, -e, "write service byte");
}

/* One 1-byte request/response; returns its duration. */
static uint64_t round_trip(struct lt_conn *c)
{
	char b = LT_SVC_ECHO;
	uint64_t t0 = lt_now_ns();
	int e = lt_write_all(c->data, &b, 1);

	if (e == 0)
		e = lt_read_full(c->data, &b, 1);
	if (e < 0)
		lt_errc(1, -e, "echo round trip");
	return lt_now_ns() - t0;
}

/* Round trips on an echo connection until the deadline; warm-up discarded. */
static void measure_rtt(struct lt_conn *c, double seconds, struct lt_samples *s)
{
	for (int i = 0; i < WARMUP_ROUNDS; i++)
		round_trip(c);
	uint64_t end = deadline_after(seconds);
	while (lt_now_ns() < end)
		lt_samples_add(s, round_trip(c));
}

int lt_rtt(const struct lt_transport *t, const char *host, int port, double seconds)
{
	struct lt_conn c;
	struct lt_samples s = { 0 };

	dial_or_die(t, host, port, &c);
	ask(&c, LT_SVC_ECHO);
	char b;
	if (lt_read_full(c.data, &b, 1) < 0)
		errx(1, "no echo of the service byte");
	measure_rtt(&c, seconds, &s);
	printf("median_us=%.1f p99_us=%.1f n=%zu\n", lt_samples_quantile_us(&s, 0.5),
	       lt_samples_quantile_us(&s, 0.99), s.n);
	lt_samples_free(&s);
	lt_conn_close(&c);
	return 0;
}

struct cps_job {
	const struct lt_transport *t;
	const char *host;
	int port;
	uint64_t end;
	atomic_ulong done, failed;
	int first_errno;
};

/* connect, 1-byte echo, close: one whole connection per iteration */
static int one_connection(struct cps_job *job)
{
	struct lt_conn c;
	int e = job->t->dial(job->host, job->port, &c);

	if (e < 0)
		return e;
	char b = LT_SVC_ECHO;
	e = lt_write_all(c.data, &b, 1);
	if (e == 0)
		e = lt_read_full(c.data, &b, 1);
	lt_conn_close(&c);
	return e;
}

static void *cps_thread(void *arg)
{
	struct cps_job *job = arg;

	while (lt_now_ns() < job->end) {
		int e = one_connection(job);
		if (e == 0) {
			atomic_fetch_add(&job->done, 1);
			continue;
		}
		if (atomic_fetch_add(&job->failed, 1) == 0)
			job->first_errno = -e;
	}
	return NULL;
}

int lt_cps(const struct lt_transport *t, const char *host, int port, double seconds,
	   int threads)
{
	struct cps_job job = { .t = t, .host = host, .port = port };
	pthread_t tid[threads];

	uint64_t t0 = lt_now_ns();
	job.end = t0 + (uint64_t)(seconds * 1e9);
	for (int i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, cps_thread, &job))
			errx(1, "pthread_create");
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	double elapsed = (double)(lt_now_ns() - t0) / 1e9;
	unsigned long done = atomic_load(&job.done), failed = atomic_load(&job.failed);
	printf("rate=%.1f n=%lu failed=%lu", (double)done / elapsed, done, failed);
	if (failed)
		printf(" first_error=\"%s\"", strerror(job.first_errno));
	printf("\n");
	return done ? 0 : 1;
}

static char *filled_chunk(void)
{
	char *buf = malloc(LT_CHUNK);

	if (!buf)
		err(1, "chunk");
	memset(buf, LT_FILL, LT_CHUNK);
	return buf;
}

int lt_send(const struct lt_transport *t, const char *host, int port, double seconds)
{
	struct lt_conn c;
	char *buf = filled_chunk();
	uint64_t sent = 0, confirmed;
	int e;

	dial_or_die(t, host, port, &c);
	uint64_t t0 = lt_now_ns(), end = t0 + (uint64_t)(seconds * 1e9);
	ask(&c, LT_SVC_SINK);
	while (lt_now_ns() < end) {
		e = lt_write_all(c.data, buf, LT_CHUNK);
		if (e < 0)
			lt_errc(1, -e, "bulk write after %llu bytes", (unsigned long long)sent);
		sent += LT_CHUNK;
	}
	char mark = LT_END;
	if ((e = lt_write_all(c.data, &mark, 1)) < 0 ||
	    (e = lt_read_full(c.data, &confirmed, sizeof confirmed)) < 0)
		lt_errc(1, -e, "sink confirmation");
	double elapsed = (double)(lt_now_ns() - t0) / 1e9;
	if (confirmed != sent)
		errx(1, "sink counted %llu bytes of %llu sent", (unsigned long long)confirmed,
		     (unsigned long long)sent);
	printf("mbps=%.1f bytes=%llu seconds=%.3f\n", (double)sent / elapsed / 1e6,
	       (unsigned long long)sent, elapsed);
	free(buf);
	lt_conn_close(&c);
	return 0;
}

int lt_recv(const struct lt_transport *t, const char *host, int port, double seconds)
{
	struct lt_conn c;
	char *buf = filled_chunk();
	uint64_t got = 0;

	dial_or_die(t, host, port, &c);
	uint64_t t0 = lt_now_ns(), end = t0 + (uint64_t)(seconds * 1e9);
	ask(&c, LT_SVC_GEN);
	while (lt_now_ns() < end) {
		ssize_t r = read(c.data, buf, LT_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err(1, "bulk read after %llu bytes", (unsigned long long)got);
		if (r == 0)
			errx(1, "early EOF after %llu bytes", (unsigned long long)got);
		if (buf[0] != LT_FILL || buf[r - 1] != LT_FILL)
			errx(1, "corrupt bulk data after %llu bytes", (unsigned long long)got);
		got += (uint64_t)r;
	}
	double elapsed = (double)(lt_now_ns() - t0) / 1e9;
	printf("mbps=%.1f bytes=%llu seconds=%.3f\n", (double)got / elapsed / 1e6,
	       (unsigned long long)got, elapsed);
	free(buf);
	lt_conn_close(&c);
	return 0;
}

/* VmRSS of a process in KiB, -1 if unknown */
static long rss_kib(int pid)
{
	char path[64], line[256];
	long kib = -1;

	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void raise_fd_limit(long conns)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)conns + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	/* without CAP_SYS_RESOURCE only up to the hard limit; a shortfall shows
	 * as EMFILE from dial, which names the cause */
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

/* An idle conversation on /net is held by its ctl alone (it lives while any
 * of its files is open), so it costs the client one descriptor, as a socket. */
static void dial_idle(const struct lt_transport *t, const char *host, int port,
		      struct lt_conn *c)
{
	dial_or_die(t, host, port, c);
	if (c->ctl >= 0) {
		close(c->data);
		c->data = -1;
	}
}

int lt_scale(const struct lt_transport *t, const char *host, int port, double seconds,
	     const char *levels, int rss_pid)
{
	struct lt_conn active, *idle = NULL;
	long nidle = 0;

	dial_or_die(t, host, port, &active);
	ask(&active, LT_SVC_ECHO);
	char b;
	/* only the echo of the service byte: a round trip here would leave its own echo
	 * unread, and every measured round trip would then read the one before it */
	if (lt_read_full(active.data, &b, 1) < 0)
		errx(1, "no echo of the service byte");
	printf("level=0 rss_kib=%ld\n", rss_pid > 0 ? rss_kib(rss_pid) : -1L);
	fflush(stdout);
	for (const char *p = levels; *p;) {
		char *next;
		long level = strtol(p, &next, 10);
		if (next == p || level < nidle)
			errx(1, "levels must be increasing numbers: %s", levels);
		raise_fd_limit(level);
		idle = realloc(idle, (size_t)level * sizeof *idle);
		if (level && !idle)
			err(1, "idle connections");
		uint64_t t0 = lt_now_ns();
		for (; nidle < level; nidle++)
			dial_idle(t, host, port, &idle[nidle]);
		double dial_s = (double)(lt_now_ns() - t0) / 1e9;
		struct lt_samples s = { 0 };
		measure_rtt(&active, seconds, &s);
		printf("level=%ld rss_kib=%ld median_us=%.1f p99_us=%.1f n=%zu dial_s=%.3f\n",
		       level, rss_pid > 0 ? rss_kib(rss_pid) : -1L, lt_samples_quantile_us(&s, 0.5),
		       lt_samples_quantile_us(&s, 0.99), s.n, dial_s);
		fflush(stdout);
		lt_samples_free(&s);
		p = *next == ',' ? next + 1 : next;
	}
	for (long i = 0; i < nidle; i++)
		lt_conn_close(&idle[i]);
	free(idle);
	lt_conn_close(&active);
	return 0;
}
