/* tests/link/link_test.c — our stack talking to the real libslirp through a faulty link.
 *
 *   netstack (ns_*, tcp_*) <-> flink (loss, dup, corruption, reordering, delay)
 *                          <-> libslirp (slink_*) <-> kernel sockets on 127.0.0.1
 *
 * One thread, one poll loop, a real monotonic clock.  The stack's output callback and
 * slirp's to_guest callback only queue frames in the link; the loop delivers them later,
 * so nobody is re-entered.  Scenarios:
 *   connect  the stack connects to a host server via 10.0.2.2 (slirp maps it to 127.0.0.1)
 *   accept   a host client connects to a hostfwd port and the stack accepts it
 * Both then send `bytes` each way at once, every byte checked where it lands, then close.
 *
 * Usage: link_test [--seed N] [--bytes N] [--profile clean|lossy] [--mtu N]
 *                  [--timeout S] [--pcap FILE] connect|accept
 * Environment: LINK_SEED, LINK_BYTES (used when the option is not given).
 * Real time and kernel scheduling take part, so a seed fixes the fault decisions applied
 * to the frame sequence, not the exact interleaving.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "flink.h"
#include "hostpeer.h"
#include "slink.h"
#include "stack.h"
#include "stream.h"
#include "tcp.h"
#include "trace.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define GUEST_IP IP4(10, 0, 2, 15)
#define GATEWAY_IP IP4(10, 0, 2, 2)
#define GUEST_PORT 5001
#define HOST_PORT_FIRST 23000  /* our range: 23000-23999 */
#define HOST_PORT_COUNT 1000
#define MAX_POLLFDS 512
#define PUMP_BURST 4096        /* frames per round before the host sockets get a turn */
#define STALL_US (60ull * 1000 * 1000)

struct opts {
	const char *scenario;
	const struct flink_profile *profile;
	uint64_t seed;
	uint64_t bytes;
	uint32_t mtu;
	unsigned timeout_s;
	const char *pcap;
};

struct run {
	struct opts o;
	const char *argv0;
	struct ns_stack *st;
	struct slink *sl;
	struct flink link;
	FILE *trace;           /* --pcap */
	struct tcp_sock *listener, *conn;
	bool listener_event, conn_event;
	unsigned listener_poll, conn_poll;  /* tcp_poll() when the application last looked */
	struct stream gs;      /* the stack's side of the transfer */
	struct hostpeer hp;    /* the host's side */
	int lfd;               /* host listening socket (connect scenario) */
	uint16_t host_port;
	char failure[600];
	uint64_t start_us, progress_us, progress_mark;
	uint8_t buf[65536];
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct run *r, const char *fmt, ...)
{
	if (r->failure[0])
		return;  /* keep the first cause */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->failure, sizeof r->failure, fmt, ap);
	va_end(ap);
}

/* ---- callbacks: record only ---- */

static void stack_output(void *ctx, const uint8_t *frame, size_t len)
{
	struct run *r = ctx;
	flink_submit(&r->link, FLINK_TO_HOST, frame, len, now_us());
}

static void slirp_to_guest(void *ctx, const uint8_t *frame, size_t len)
{
	struct run *r = ctx;
	flink_submit(&r->link, FLINK_TO_STACK, frame, len, now_us());
}

static void conn_event(void *user, struct tcp_sock *s)
{
	(void)s;
	((struct run *)user)->conn_event = true;
}

static void listener_event(void *user, struct tcp_sock *s)
{
	(void)s;
	((struct run *)user)->listener_event = true;
}

/* ---- the stack's application: acts only when told by an event ---- */

static void guest_send(struct run *r)
{
	while (!r->gs.tx_shut) {
		size_t space = tcp_send_space(r->conn);
		size_t n = stream_tx_fill(&r->gs, r->buf, space < sizeof r->buf ? space : sizeof r->buf);
		if (n == 0 && r->gs.sent == r->gs.total) {
			int rc = tcp_shutdown(r->conn, SHUT_WR);
			if (rc < 0)
				fail(r, "tcp_shutdown(SHUT_WR): %s", strerror(-rc));
			r->gs.tx_shut = true;
			return;
		}
		if (n == 0)
			return;
		ssize_t w = tcp_send(r->conn, r->buf, n);
		if (w == -EAGAIN)
			return;
		if (w <= 0) {
			fail(r, "tcp_send after %" PRIu64 " bytes: %s", r->gs.sent,
			     w ? strerror((int)-w) : "returned 0");
			return;
		}
		stream_tx_advance(&r->gs, (size_t)w);
	}
}

static void guest_recv(struct run *r)
{
	while (!r->gs.rx_eof) {
		ssize_t n = tcp_recv(r->conn, r->buf, sizeof r->buf, 0);
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			fail(r, "tcp_recv after %" PRIu64 " bytes: %s", r->gs.received,
			     strerror((int)-n));
			return;
		}
		if ((n == 0 ? stream_rx_eof(&r->gs) : stream_rx(&r->gs, r->buf, (size_t)n)) < 0) {
			fail(r, "stack received wrong data: %s", r->gs.err);
			return;
		}
	}
}

/* Remember what the sockets looked like when the application was done with them. */
static void note_poll(struct run *r)
{
	r->conn_poll = r->conn ? tcp_poll(r->conn) : 0;
	r->listener_poll = r->listener ? tcp_poll(r->listener) : 0;
}

/* Readiness is level-triggered with a callback whenever it may change (tcp.h): after a
 * stack call that the application did not make, a socket whose tcp_poll() changed must
 * have had its callback. */
static void check_events(struct run *r, const char *call)
{
	unsigned now;
	if (r->conn && !r->conn_event && (now = tcp_poll(r->conn)) != r->conn_poll)
		fail(r, "missed event: tcp_poll() of the connection went 0x%x -> 0x%x in %s "
		     "without a callback (state %s)", r->conn_poll, now, call,
		     tcp_state_name(tcp_state(r->conn)));
	if (r->listener && !r->listener_event && (now = tcp_poll(r->listener)) != r->listener_poll)
		fail(r, "missed event: tcp_poll() of the listener went 0x%x -> 0x%x in %s "
		     "without a callback", r->listener_poll, now, call);
}

static void advance(struct run *r, uint64_t t_us)
{
	ns_advance(r->st, t_us / 1000);
	check_events(r, "ns_advance");
}

static void guest_step(struct run *r)
{
	if (r->listener_event) {
		r->listener_event = false;
		if (!r->conn && (r->conn = tcp_accept(r->listener))) {
			tcp_set_user(r->conn, conn_event, r);
			r->conn_event = true;
			uint32_t ra;
			uint16_t rp;
			tcp_remote(r->conn, &ra, &rp);
			if (ra != GATEWAY_IP)
				fail(r, "accepted connection from %08x, expected 10.0.2.2 (slirp "
				     "rewrites loopback clients)", ra);
		}
	}
	if (!r->conn || !r->conn_event) {
		note_poll(r);
		return;
	}
	r->conn_event = false;
	int err = tcp_error(r->conn, false);
	if (err) {
		fail(r, "connection error: %s (state %s)", strerror(-err),
		     tcp_state_name(tcp_state(r->conn)));
		return;
	}
	if (tcp_state(r->conn) != TCP_SYN_SENT && tcp_state(r->conn) != TCP_SYN_RECEIVED) {
		guest_send(r);
		guest_recv(r);
	}
	note_poll(r);
}

/* Deliver every due frame, alternating directions, then let the application react. */
static void pump(struct run *r)
{
	for (int i = 0; i < PUMP_BURST; i++) {
		uint64_t t = now_us();
		advance(r, t);
		struct flink_frame *to_stack = flink_take(&r->link, FLINK_TO_STACK, t);
		struct flink_frame *to_host = flink_take(&r->link, FLINK_TO_HOST, t);
		if (!to_stack && !to_host)
			break;
		if (to_stack) {
			if (r->trace)
				trace_frame(r->trace, t, to_stack->data, to_stack->len);
			ns_input(r->st, to_stack->data, to_stack->len);
			check_events(r, "ns_input");
		}
		if (to_host) {
			if (r->trace)
				trace_frame(r->trace, t, to_host->data, to_host->len);
			slink_input(r->sl, to_host->data, to_host->len);
		}
		free(to_stack);
		free(to_host);
		guest_step(r);
	}
	guest_step(r);
}

static uint32_t ms_until(uint64_t when_us, uint64_t t_us)
{
	if (when_us <= t_us)
		return 0;
	uint64_t ms = (when_us - t_us + 999) / 1000;
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

static void loop_round(struct run *r)
{
	uint64_t t = now_us();
	advance(r, t);
	pump(r);

	struct pollfd pfd[MAX_POLLFDS];
	int n = 0, lfd_i = -1, hp_i = -1;
	if (r->lfd >= 0 && r->hp.fd < 0) {
		pfd[n] = (struct pollfd){ .fd = r->lfd, .events = POLLIN };
		lfd_i = n++;
	}
	short ev = hostpeer_events(&r->hp);
	if (ev) {
		pfd[n] = (struct pollfd){ .fd = r->hp.fd, .events = ev };
		hp_i = n++;
	}
	uint32_t timeout = 100;  /* the loop also checks its deadlines */
	int ns = slink_fill(r->sl, pfd + n, MAX_POLLFDS - n, &timeout);
	if (ns < 0) {
		fail(r, "slink_fill: more than %d fds", MAX_POLLFDS - n);
		return;
	}
	t = now_us();
	ns_time_t deadline = ns_next_deadline(r->st);
	if (deadline != NS_NEVER) {
		uint32_t ms = ms_until(deadline * 1000, t);
		timeout = ms < timeout ? ms : timeout;
	}
	uint32_t link_ms = ms_until(flink_next_due(&r->link), t);
	timeout = link_ms < timeout ? link_ms : timeout;
	if (r->conn_event || r->listener_event)
		timeout = 0;
	int rc = poll(pfd, (nfds_t)(n + ns), (int)timeout);
	slink_poll(r->sl, pfd + n, ns, rc < 0);
	if (rc < 0)
		return;
	if (lfd_i >= 0 && pfd[lfd_i].revents && hostpeer_accept(&r->hp, r->lfd) < 0)
		fail(r, "%s", r->hp.err);
	if (hp_i >= 0 && hostpeer_io(&r->hp, pfd[hp_i].revents) < 0)
		fail(r, "host side: %s", r->hp.err[0] ? r->hp.err : r->hp.s.err);
}

static uint64_t progress_mark(const struct run *r)
{
	return r->gs.sent + r->gs.received + r->hp.s.sent + r->hp.s.received + r->gs.tx_shut +
	       r->gs.rx_eof + r->hp.s.tx_shut + r->hp.s.rx_eof +
	       (r->conn ? (uint64_t)tcp_state(r->conn) << 40 : 0);
}

/* Name what the application is waiting for that the stack says is ready: a callback the
 * stack should have made and did not. */
static void check_missed_event(struct run *r)
{
	if (!r->conn || r->conn_event)
		return;
	unsigned pollbits = tcp_poll(r->conn);
	if (((pollbits & TCP_EV_IN) && !r->gs.rx_eof) ||
	    ((pollbits & TCP_EV_OUT) && !r->gs.tx_shut && tcp_send_space(r->conn) > 0))
		fail(r, "stalled while tcp_poll() = 0x%x: the stack made no event callback for "
		     "a ready socket (missed event)", pollbits);
}

/* Run rounds until done(r) or a failure; false on failure. */
static bool run_until(struct run *r, bool (*done)(const struct run *), const char *what)
{
	uint64_t end = r->start_us + (uint64_t)r->o.timeout_s * 1000000u;
	while (!r->failure[0] && !done(r)) {
		loop_round(r);
		uint64_t t = now_us(), mark = progress_mark(r);
		if (mark != r->progress_mark) {
			r->progress_mark = mark;
			r->progress_us = t;
		} else if (t - r->progress_us > STALL_US) {
			check_missed_event(r);
			fail(r, "no progress for %llu s while waiting for %s",
			     (unsigned long long)(STALL_US / 1000000), what);
		}
		if (t > end)
			fail(r, "timeout (%u s) while waiting for %s", r->o.timeout_s, what);
	}
	return !r->failure[0];
}

static bool transfer_done(const struct run *r)
{
	return stream_done(&r->gs) && stream_done(&r->hp.s);
}

/* Both FINs sent and acknowledged: the stack's side is in TIME_WAIT or CLOSED. */
static bool close_done(const struct run *r)
{
	enum tcp_state s = tcp_state(r->conn);
	return s == TCP_TIME_WAIT || s == TCP_CLOSED;
}

/* ---- statistics ---- */

/* Counters of ns_format_stats.  `rejects` sums every counter a corrupted frame can land
 * in: the *Err* ones (TCP checksum, header, length), IpDrops (IPv4 header checksum among
 * other drops) and BadFrames (Ethernet). */
struct counters {
	uint64_t rejects, retrans_segs, csum_errs, in_errs, ip_drops;
	char text[8192];
};

static void read_counters(struct run *r, struct counters *c)
{
	memset(c, 0, sizeof *c);
	ns_format_stats(r->st, c->text, sizeof c->text);
	for (char *line = c->text; *line;) {
		char *nl = strchr(line, '\n');
		char *colon = strchr(line, ':');
		if (colon && (!nl || colon < nl)) {
			uint64_t v = strtoull(colon + 1, NULL, 10);
			size_t nlen = (size_t)(colon - line);
			if (memmem(line, nlen, "Err", 3) || (nlen == 7 && !memcmp(line, "IpDrops", 7)) ||
			    (nlen == 9 && !memcmp(line, "BadFrames", 9)))
				c->rejects += v;
			if (nlen == 7 && !memcmp(line, "IpDrops", 7))
				c->ip_drops = v;
			if (nlen == 11 && !memcmp(line, "RetransSegs", 11))
				c->retrans_segs = v;
			if (nlen == 8 && !memcmp(line, "CsumErrs", 8))
				c->csum_errs = v;
			if (nlen == 6 && !memcmp(line, "InErrs", 6))
				c->in_errs = v;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
}

/* Frame faults of one direction, and the TCP segments its sender emitted (before faults). */
static void print_link(const char *name, const struct flink_stats *s)
{
	printf("  link %s: %" PRIu64 " frames, %" PRIu64 " lost (%.2f%%), %" PRIu64 " duplicated, "
	       "%" PRIu64 " corrupted, %" PRIu64 " held back; %" PRIu64 " delivered (%" PRIu64
	       " bytes); %" PRIu64 " TCP segments sent, %" PRIu64 " of them retransmissions\n",
	       name, s->submitted, s->dropped,
	       s->submitted ? 100.0 * (double)s->dropped / (double)s->submitted : 0.0,
	       s->duplicated, s->corrupted, s->held, s->delivered, s->delivered_bytes,
	       s->tcp_segs, s->tcp_retrans);
}

static void print_status(struct run *r)
{
	if (!r->conn)
		return;
	char status[512];
	tcp_format_status(r->conn, status, sizeof status);
	printf("  stack socket: %s", status);
	if (!strchr(status, '\n'))
		putchar('\n');
}

static void print_report(struct run *r, const struct counters *before, const struct counters *after)
{
	double secs = (double)(now_us() - r->start_us) / 1e6;
	const struct flink_stats *up = &r->link.q[FLINK_TO_HOST].stats;
	const struct flink_stats *down = &r->link.q[FLINK_TO_STACK].stats;
	printf("  stack->host %" PRIu64 " bytes, host->stack %" PRIu64 " bytes verified in %.2f s "
	       "(%.1f Mbit/s both ways together)\n", r->hp.s.received, r->gs.received, secs,
	       secs > 0 ? (double)(r->hp.s.received + r->gs.received) * 8 / secs / 1e6 : 0.0);
	print_link("stack->slirp", up);
	print_link("slirp->stack", down);
	printf("  stack counters: RetransSegs %" PRIu64 ", CsumErrs %" PRIu64 ", InErrs %" PRIu64
	       ", IpDrops %" PRIu64 "\n", after->retrans_segs, after->csum_errs, after->in_errs,
	       after->ip_drops);
	printf("  corrupted frames delivered to the stack: %" PRIu64 " in the IPv4 header, %" PRIu64
	       " in TCP; InErrs +%" PRIu64 ", all reject counters +%" PRIu64 "\n",
	       down->corrupt_iphdr_delivered, down->corrupt_tcp_delivered,
	       after->in_errs - before->in_errs, after->rejects - before->rejects);
}

/* Every corrupted copy that reached the stack must have been dropped and counted: the
 * received data is verified byte for byte, so here it is only about the counting. */
static void check_rejects(struct run *r, const struct counters *before,
			  const struct counters *after)
{
	const struct flink_stats *down = &r->link.q[FLINK_TO_STACK].stats;
	uint64_t tcp = down->corrupt_tcp_delivered, all = tcp + down->corrupt_iphdr_delivered;
	if (after->in_errs - before->in_errs < tcp)
		fail(r, "%" PRIu64 " segments with a corrupted TCP part reached the stack but InErrs "
		     "rose by only %" PRIu64, tcp, after->in_errs - before->in_errs);
	else if (after->rejects - before->rejects < all)
		fail(r, "%" PRIu64 " corrupted IPv4 frames reached the stack but its error/drop "
		     "counters rose by only %" PRIu64, all, after->rejects - before->rejects);
}

/* ---- setup ---- */

static int start_connect(struct run *r)
{
	char err[200];
	uint16_t port;
	r->lfd = hostpeer_listen(&port, err, sizeof err);
	if (r->lfd < 0) {
		fail(r, "%s", err);
		return -1;
	}
	r->conn = tcp_open(r->st, conn_event, r);
	int rc = r->conn ? tcp_connect(r->conn, GATEWAY_IP, port) : -ENOMEM;
	if (rc < 0) {
		fail(r, "tcp_connect(10.0.2.2:%u): %s", port, strerror(-rc));
		return -1;
	}
	note_poll(r);
	printf("  stack connects to 10.0.2.2:%u (host 127.0.0.1:%u)\n", port, port);
	return 0;
}

static int start_accept(struct run *r)
{
	r->listener = tcp_open(r->st, listener_event, r);
	int rc = r->listener ? tcp_bind(r->listener, 0, GUEST_PORT) : -ENOMEM;
	if (rc == 0)
		rc = tcp_listen(r->listener, 4);
	if (rc < 0) {
		fail(r, "listen on port %u: %s", GUEST_PORT, strerror(-rc));
		return -1;
	}
	unsigned first = (unsigned)getpid() % HOST_PORT_COUNT;
	for (unsigned i = 0; i < HOST_PORT_COUNT; i++) {
		uint16_t port = (uint16_t)(HOST_PORT_FIRST + (first + i) % HOST_PORT_COUNT);
		rc = slink_hostfwd_add(r->sl, port, GUEST_PORT);
		if (rc == 0) {
			r->host_port = port;
			break;
		}
		if (rc != -EADDRINUSE) {
			fail(r, "slink_hostfwd_add(%u): %s", port, strerror(-rc));
			return -1;
		}
	}
	if (!r->host_port) {
		fail(r, "no free host port in %u-%u", HOST_PORT_FIRST,
		     HOST_PORT_FIRST + HOST_PORT_COUNT - 1);
		return -1;
	}
	note_poll(r);
	printf("  host connects to 127.0.0.1:%u, forwarded to 10.0.2.15:%u\n", r->host_port,
	       GUEST_PORT);
	if (hostpeer_connect(&r->hp, r->host_port) < 0) {
		fail(r, "%s", r->hp.err);
		return -1;
	}
	return 0;
}

static int setup(struct run *r)
{
	uint64_t keys = r->o.seed;
	struct ns_config nc = {
		.addr = GUEST_IP, .netmask = IP4(255, 255, 255, 0), .gateway = GATEWAY_IP,
		.mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, .mtu = r->o.mtu,
		.seed = flink_rand(&keys),
	};
	struct slink_config sc = {
		.net = IP4(10, 0, 2, 0), .netmask = IP4(255, 255, 255, 0), .host = GATEWAY_IP,
		.dns = IP4(10, 0, 2, 3), .guest = GUEST_IP, .mtu = r->o.mtu,
		.hostfwd_addr = IP4(127, 0, 0, 1),
	};
	flink_init(&r->link, r->o.profile, flink_rand(&keys));
	uint64_t up_key = flink_rand(&keys), down_key = flink_rand(&keys);
	stream_init(&r->gs, r->o.bytes, up_key, down_key);
	stream_init(&r->hp.s, r->o.bytes, down_key, up_key);
	r->hp.fd = -1;
	r->lfd = -1;
	r->start_us = r->progress_us = now_us();
	if (r->o.pcap && !(r->trace = trace_open(r->o.pcap))) {
		fail(r, "cannot write the trace");
		return -1;
	}
	r->st = ns_create(&nc, stack_output, r, r->start_us / 1000);
	if (!r->st) {
		fail(r, "ns_create failed");
		return -1;
	}
	r->sl = slink_new(&sc, slirp_to_guest, r);
	if (!r->sl) {
		fail(r, "slink_new: %s", strerror(errno));
		return -1;
	}
	ns_announce(r->st);
	return strcmp(r->o.scenario, "connect") == 0 ? start_connect(r) : start_accept(r);
}

static void teardown(struct run *r)
{
	if (r->conn)
		tcp_close(r->conn);
	if (r->listener)
		tcp_close(r->listener);
	if (r->host_port)
		slink_hostfwd_remove(r->sl, r->host_port);
	hostpeer_close(&r->hp);
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->st)
		ns_destroy(r->st);
	if (r->sl)
		slink_free(r->sl);
	flink_clear(&r->link);
	if (r->trace)
		fclose(r->trace);
}

static void print_reproduce(const struct run *r)
{
	printf("reproduce: %s --seed %" PRIu64 " --bytes %" PRIu64 " --profile %s --mtu %u %s\n",
	       r->argv0, r->o.seed, r->o.bytes, r->o.profile->name, r->o.mtu, r->o.scenario);
}

static void print_failure(struct run *r)
{
	printf("FAIL: %s\n", r->failure);
	printf("  at %.2f s: stack sent %" PRIu64 " received %" PRIu64 "%s%s; host sent %" PRIu64
	       " received %" PRIu64 "%s%s\n", (double)(now_us() - r->start_us) / 1e6, r->gs.sent,
	       r->gs.received, r->gs.tx_shut ? " +FIN" : "", r->gs.rx_eof ? " +EOF" : "",
	       r->hp.s.sent, r->hp.s.received, r->hp.s.tx_shut ? " +FIN" : "",
	       r->hp.s.rx_eof ? " +EOF" : "");
	print_status(r);
	if (r->conn)
		printf("  tcp_poll 0x%x, event pending %d\n", tcp_poll(r->conn), r->conn_event);
	print_link("stack->slirp", &r->link.q[FLINK_TO_HOST].stats);
	print_link("slirp->stack", &r->link.q[FLINK_TO_STACK].stats);
	if (r->st) {
		struct counters c;
		read_counters(r, &c);
		printf("  stack stats:\n%s", c.text);
	}
	print_reproduce(r);
}

static int run_scenario(struct run *r)
{
	printf("link %s/%s: seed %" PRIu64 ", %" PRIu64 " bytes each way, mtu %u\n",
	       r->o.scenario, r->o.profile->name, r->o.seed, r->o.bytes, r->o.mtu);
	print_reproduce(r);  /* also for a crash, which prints nothing of ours */
	struct counters before, after;
	if (setup(r) == 0) {
		read_counters(r, &before);
		if (run_until(r, transfer_done, "the transfer") &&
		    run_until(r, close_done, "the close handshake")) {
			read_counters(r, &after);
			print_status(r);
			print_report(r, &before, &after);
			check_rejects(r, &before, &after);
		}
	}
	if (r->failure[0])
		print_failure(r);
	else
		printf("PASS\n");
	teardown(r);
	return r->failure[0] ? 1 : 0;
}

/* ---- options ---- */

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--seed N] [--bytes N] [--profile clean|lossy] [--mtu N] "
		"[--timeout S] [--pcap FILE] connect|accept\n", argv0);
	return 2;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, 's' }, { "bytes", required_argument, NULL, 'b' },
		{ "profile", required_argument, NULL, 'p' }, { "mtu", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' }, { "pcap", required_argument, NULL, 'w' },
		{ 0 },
	};
	const char *seed = getenv("LINK_SEED"), *bytes = getenv("LINK_BYTES");
	const char *profile = "clean";
	uint64_t mtu = 1500, timeout = 240;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': seed = optarg; break;
		case 'b': bytes = optarg; break;
		case 'p': profile = optarg; break;
		case 'm': if (parse_u64(optarg, &mtu) < 0) return -1; break;
		case 't': if (parse_u64(optarg, &timeout) < 0) return -1; break;
		case 'w': o->pcap = optarg; break;
		default: return -1;
		}
	}
	if (optind + 1 != argc || (strcmp(argv[optind], "connect") && strcmp(argv[optind], "accept")))
		return -1;
	o->scenario = argv[optind];
	o->profile = flink_profile_find(profile);
	o->bytes = 64ull << 20;
	if (!o->profile || (bytes && parse_u64(bytes, &o->bytes) < 0) || mtu < 576 || mtu > 65521)
		return -1;
	if (seed) {
		if (parse_u64(seed, &o->seed) < 0)
			return -1;
	} else if (getrandom(&o->seed, sizeof o->seed, 0) != sizeof o->seed) {
		o->seed = (uint64_t)now_us() ^ (uint64_t)getpid() << 32;
	}
	o->mtu = (uint32_t)mtu;
	o->timeout_s = (unsigned)timeout;
	return 0;
}

int main(int argc, char **argv)
{
	static struct run r;
	if (parse_opts(argc, argv, &r.o) < 0)
		return usage(argv[0]);
	r.argv0 = argv[0];
	signal(SIGPIPE, SIG_IGN);  /* slirp writes to host sockets without MSG_NOSIGNAL */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return run_scenario(&r);
}
