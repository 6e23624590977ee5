/* Load tools for bench/run.
 *
 * One measurement core (lt_load.c) drives the same load patterns over two ways
 * of reaching the network, so that the figures differ only in the transport:
 * BSD sockets (lt_sock.c: kernel, slirp4netns, libnetfs-compat) and the /net
 * files opened directly (lt_files.c).
 *
 * Wire protocol between a client and lt_load's server: the first byte a client
 * sends picks the service of that connection.
 *   'e'  echo every byte, the first one included (round trips, connects/s)
 *   's'  sink: count bytes up to the end marker 'Z', answer the count as a
 *        uint64_t in host order (same machine), then wait for the close
 *   'g'  generate: send LT_CHUNK blocks of 'x' until the peer goes away
 * Bulk data is all 'x', so the end marker can never occur inside it.
 */
#ifndef LT_H
#define LT_H

#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stddef.h>

enum { LT_CHUNK = 1 << 20 };	/* bulk I/O size, as the issue asks */

#define LT_SVC_ECHO 'e'
#define LT_SVC_SINK 's'
#define LT_SVC_GEN 'g'
#define LT_FILL 'x'
#define LT_END 'Z'

/* err(3) with an explicit errno (glibc has no errc). */
#define lt_errc(status, errnum, ...) (errno = (errnum), err((status), __VA_ARGS__))

/* A connection: the byte stream, plus the conversation's ctl file and number
 * for /net (sockets leave ctl = num = -1). */
struct lt_conn {
	int data;
	int ctl;
	int num;
};

/* Each call returns 0 or a negative errno; on success the conn is open. */
struct lt_transport {
	int (*dial)(const char *host, int port, struct lt_conn *c);
	int (*announce)(const char *addr, int port, struct lt_conn *listener);
	int (*accept)(struct lt_conn *listener, struct lt_conn *c);
};

/* lt_io.c: whole-buffer I/O that retries short transfers and EINTR. */
void lt_conn_close(struct lt_conn *c);
int lt_write_all(int fd, const void *buf, size_t n);	/* 0 or -errno */
int lt_read_full(int fd, void *buf, size_t n);		/* 0, -errno, -EPIPE on EOF */

/* lt_serve.c: the server side of the wire protocol, one thread per connection. */
int lt_serve(const struct lt_transport *t, const char *addr, int port);

/* lt_load.c: the client load patterns.  Each prints one line of key=value pairs on
 * stdout (bench/run parses them) and returns an exit status. */
int lt_rtt(const struct lt_transport *t, const char *host, int port, double seconds);
int lt_cps(const struct lt_transport *t, const char *host, int port, double seconds,
	   int threads);
int lt_send(const struct lt_transport *t, const char *host, int port, double seconds);
int lt_recv(const struct lt_transport *t, const char *host, int port, double seconds);
int lt_scale(const struct lt_transport *t, const char *host, int port, double seconds,
	     const char *levels, int rss_pid);

/* lt_cli.c: the command line shared by both tools. */
int lt_cli(const char *prog, int argc, char **argv, const struct lt_transport *t);

/* lt_stats.c: clock and latency samples. */
uint64_t lt_now_ns(void);

struct lt_samples {
	uint64_t *ns;
	size_t n, cap;
};

void lt_samples_add(struct lt_samples *s, uint64_t ns);
/* q in [0,1]; sorts the samples; 0 when empty. */
double lt_samples_quantile_us(struct lt_samples *s, double q);
void lt_samples_free(struct lt_samples *s);

#endif
