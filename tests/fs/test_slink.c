/* Tests of netstack/slink.c against the real libslirp: configuration checks, host forwards
 * on real host ports, and an ARP exchange through slink_input/to_guest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "slink.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static const struct slink_config base_cfg = {
	.net = IP(10, 0, 2, 0), .netmask = IP(255, 255, 255, 0),
	.host = IP(10, 0, 2, 2), .dns = IP(10, 0, 2, 3), .guest = IP(10, 0, 2, 15),
	.mtu = 65520, .hostfwd_addr = IP(127, 0, 0, 1),
};

struct frames {
	int count;
	uint8_t last[128];
	size_t last_len;
};

static void to_guest(void *ctx, const uint8_t *frame, size_t len)
{
	struct frames *f = ctx;

	f->count++;
	f->last_len = len < sizeof(f->last) ? len : sizeof(f->last);
	memcpy(f->last, frame, f->last_len);
}

static void test_bad_config(void **state)
{
	struct slink_config c = base_cfg;
	struct frames f = {0};
	(void)state;

	c.mtu = 65522;
	assert_null(slink_new(&c, to_guest, &f));
	assert_int_equal(errno, EINVAL);
	c = base_cfg;
	c.guest = IP(10, 0, 3, 15);  /* outside the network */
	assert_null(slink_new(&c, to_guest, &f));
	c = base_cfg;
	c.dns = c.host;
	assert_null(slink_new(&c, to_guest, &f));
	assert_null(slink_new(&base_cfg, NULL, &f));
}

/* A host port that is free now: bind port 0 and let it go. */
static uint16_t free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	close(s);
	return ntohs(a.sin_port);
}

static void test_hostfwd(void **state)
{
	struct frames f = {0};
	struct slink *l = slink_new(&base_cfg, to_guest, &f);
	uint16_t port = free_port();
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s;
	(void)state;

	assert_non_null(l);
	assert_int_equal(slink_hostfwd_add(l, port, 9000), 0);
	assert_int_equal(slink_hostfwd_add(l, port, 9001), -EADDRINUSE);
	/* the host really listens there */
	s = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	close(s);
	assert_int_equal(slink_hostfwd_remove(l, port), 0);
	assert_int_equal(slink_hostfwd_remove(l, port), -ENOENT);
	assert_int_equal(slink_hostfwd_add(l, port, 9000), 0);
	slink_free(l);
}

static void test_hostfwd_port_taken(void **state)
{
	struct frames f = {0};
	struct slink *l = slink_new(&base_cfg, to_guest, &f);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	(void)state;

	assert_non_null(l);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 1), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	assert_int_equal(slink_hostfwd_probe(l, ntohs(a.sin_port)), -EADDRINUSE);
	assert_int_equal(slink_hostfwd_add(l, ntohs(a.sin_port), 80), -EADDRINUSE);
	close(s);
	slink_free(l);
}

/* The probe says whether a forward would get the port, and takes nothing itself. */
static void test_hostfwd_probe(void **state)
{
	struct frames f = {0};
	struct slink *l = slink_new(&base_cfg, to_guest, &f);
	uint16_t port = free_port();
	(void)state;

	assert_non_null(l);
	assert_int_equal(slink_hostfwd_probe(l, port), 0);
	assert_int_equal(slink_hostfwd_probe(l, port), 0);
	assert_int_equal(slink_hostfwd_add(l, port, 9000), 0);
	assert_int_equal(slink_hostfwd_probe(l, port), -EADDRINUSE);
	assert_int_equal(slink_hostfwd_remove(l, port), 0);
	assert_int_equal(slink_hostfwd_probe(l, port), 0);
	slink_free(l);
}

/* A burst of host clients must all get through the handshake even before slirp accepts
 * any of them (slirp's own listen backlog of 1 would let 2 in and drop the other SYNs). */
static void test_hostfwd_burst(void **state)
{
	enum { CLIENTS = 16 };
	struct frames f = {0};
	struct slink *l = slink_new(&base_cfg, to_guest, &f);
	uint16_t port = free_port();
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct pollfd p[CLIENTS];
	int connected = 0;
	(void)state;

	assert_non_null(l);
	assert_int_equal(slink_hostfwd_add(l, port, 9000), 0);
	for (int i = 0; i < CLIENTS; i++) {
		p[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		p[i].events = POLLOUT;
		assert_true(connect(p[i].fd, (struct sockaddr *)&a, sizeof(a)) == 0 ||
			    errno == EINPROGRESS);
	}
	/* a dropped SYN is retried after 1 s: 500 ms tells the two cases apart */
	for (int waited = 0; waited < 500 && connected < CLIENTS; waited += 10) {
		connected = 0;
		assert_true(poll(p, CLIENTS, 10) >= 0);
		for (int i = 0; i < CLIENTS; i++) {
			int err = -1;
			socklen_t len = sizeof(err);

			if ((p[i].revents & POLLOUT) &&
			    getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
				connected++;
		}
	}
	assert_int_equal(connected, CLIENTS);
	for (int i = 0; i < CLIENTS; i++)
		close(p[i].fd);
	slink_free(l);
}

static const uint8_t our_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* The guest's broadcast "who-has 10.0.2.2 tell 10.0.2.15". */
static void arp_request(uint8_t req[42])
{
	memset(req, 0, 42);
	memset(req, 0xff, 6);
	memcpy(req + 6, our_mac, 6);
	req[12] = 0x08, req[13] = 0x06;                 /* ARP */
	req[14] = 0, req[15] = 1, req[16] = 8, req[17] = 0, req[18] = 6, req[19] = 4;
	req[20] = 0, req[21] = 1;                       /* request */
	memcpy(req + 22, our_mac, 6);
	req[28] = 10, req[29] = 0, req[30] = 2, req[31] = 15;
	req[38] = 10, req[39] = 0, req[40] = 2, req[41] = 2;
}

/* who-has 10.0.2.2 tell 10.0.2.15 -> slirp answers with its gateway MAC 52:55:0a:00:02:02. */
static void test_arp(void **state)
{
	uint8_t req[42];
	struct frames f = {0};
	struct slink *l = slink_new(&base_cfg, to_guest, &f);
	struct pollfd pfd[64];
	uint32_t timeout = UINT32_MAX;
	int n;
	(void)state;

	assert_non_null(l);
	arp_request(req);
	slink_input(l, req, sizeof(req));
	n = slink_fill(l, pfd, 64, &timeout);
	assert_true(n >= 0);
	slink_poll(l, pfd, n, false);

	assert_int_equal(f.count, 1);
	assert_true(f.last_len >= 42);
	assert_memory_equal(f.last, our_mac, 6);        /* to us */
	assert_int_equal(f.last[21], 2);                /* reply */
	static const uint8_t gw_mac[6] = {0x52, 0x55, 10, 0, 2, 2};
	assert_memory_equal(f.last + 22, gw_mac, 6);
	slink_free(l);
}

static void test_fill_too_small(void **state)
{
	struct frames f = {0};
	struct slink *l = slink_new(&base_cfg, to_guest, &f);
	uint16_t port = free_port();
	struct pollfd pfd[1];
	uint32_t timeout = UINT32_MAX;
	(void)state;

	assert_non_null(l);
	assert_int_equal(slink_fill(l, pfd, 0, &timeout), 0);  /* no sockets yet */
	assert_int_equal(slink_hostfwd_add(l, port, 80), 0);   /* one listening socket */
	timeout = UINT32_MAX;
	assert_int_equal(slink_fill(l, pfd, 0, &timeout), -1);
	timeout = UINT32_MAX;
	assert_int_equal(slink_fill(l, pfd, 1, &timeout), 1);
	assert_int_equal(pfd[0].events & POLLIN, POLLIN);
	slink_poll(l, pfd, 1, false);
	assert_non_null(slink_version());
	slink_free(l);
}

/* Run epoll-mode rounds until slirp has sent the guest a frame (the SYN of a forwarded host
 * connection, or its ARP request for the guest first); bounded by about 2 s. */
static int rounds_until_frame(struct slink *l, struct frames *f, int owner)
{
	int seen = 0;

	for (int i = 0; i < 200 && f->count == 0; i++) {
		uint32_t timeout = 10;

		slink_prepare(l, &timeout);
		int r = slink_wait(l, owner, timeout, NULL);

		assert_true(r >= 0);
		seen |= r;
		slink_dispatch(l, r & SLINK_SLIRP_READY, false);
	}
	return seen;
}

static int connect_to(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(connect(s, (struct sockaddr *)&a, sizeof(a)) == 0 || errno == EINPROGRESS);
	return s;
}

/* The epoll mode sees a forwarded connection, and still sees one after the listener was
 * replaced by another one (slirp 4.7 does not register listeners, and the new one usually
 * gets the old one's fd number).  The owner's fd is reported apart from slirp's. */
static void test_epoll_mode(void **state)
{
	struct frames f = {0};
	struct slink *l = slink_new(&base_cfg, to_guest, &f);
	uint16_t p1 = free_port(), p2 = free_port();
	int pipefd[2], s1, s2;
	uint32_t timeout = 0;
	(void)state;

	assert_non_null(l);
	assert_int_equal(pipe(pipefd), 0);
	assert_true(slink_watch_fd(l) >= 0);
	slink_prepare(l, &timeout);
	assert_int_equal(slink_wait(l, pipefd[0], 0, NULL), 0);  /* nothing ready */
	slink_dispatch(l, false, false);

	assert_int_equal(slink_hostfwd_add(l, p1, 9000), 0);
	s1 = connect_to(p1);
	assert_true(rounds_until_frame(l, &f, pipefd[0]) & SLINK_SLIRP_READY);
	assert_true(f.count > 0);

	assert_int_equal(slink_hostfwd_remove(l, p1), 0);
	assert_int_equal(slink_hostfwd_add(l, p2, 9001), 0);
	f.count = 0;
	s2 = connect_to(p2);
	rounds_until_frame(l, &f, pipefd[0]);
	assert_true(f.count > 0);

	assert_int_equal(write(pipefd[1], "x", 1), 1);
	timeout = 0;
	slink_prepare(l, &timeout);
	assert_true(slink_wait(l, pipefd[0], 1000, NULL) & SLINK_OWNER_READY);
	slink_dispatch(l, false, false);
	close(s1);
	close(s2);
	close(pipefd[0]);
	close(pipefd[1]);
	slink_free(l);
}

/* The wire is several Slirp instances chosen by the guest's port (slink.c, "Shards"): the
 * guest must still get one answer per ARP request, a forward whose instance was made after
 * the guest's ARP must still reach the guest (not ask for its MAC first), and a forward
 * is removed whatever instance holds it.  Guest ports 9000..9002 land in three shards. */
static void test_shards(void **state)
{
	uint8_t req[42];
	struct frames f = {0};
	struct slink *l = slink_new(&base_cfg, to_guest, &f);
	uint16_t p0 = free_port(), p1 = free_port(), p2 = free_port();
	int pipefd[2], s;
	(void)state;

	assert_non_null(l);
	assert_int_equal(pipe(pipefd), 0);
	assert_true(slink_watch_fd(l) >= 0);
	assert_int_equal(slink_hostfwd_add(l, p0, 9000), 0);
	assert_int_equal(slink_hostfwd_add(l, p1, 9001), 0);

	arp_request(req);
	slink_input(l, req, sizeof(req));
	assert_int_equal(f.count, 1);                   /* one gateway, one answer */

	assert_int_equal(slink_hostfwd_add(l, p2, 9002), 0);
	f.count = 0;
	s = connect_to(p2);
	rounds_until_frame(l, &f, pipefd[0]);
	assert_int_equal(f.count, 1);
	assert_true(f.last_len >= 14 + 20 + 20);
	assert_memory_equal(f.last, our_mac, 6);
	assert_int_equal(f.last[12] << 8 | f.last[13], 0x0800);  /* IPv4, not an ARP request */
	assert_int_equal(f.last[14 + 9], 6);                      /* TCP */
	assert_int_equal(f.last[14 + 20 + 2] << 8 | f.last[14 + 20 + 3], 9002);
	assert_int_equal(f.last[14 + 20 + 13] & 0x12, 0x02);      /* SYN */

	assert_int_equal(slink_hostfwd_remove(l, p1), 0);
	assert_int_equal(slink_hostfwd_remove(l, p1), -ENOENT);
	assert_int_equal(slink_hostfwd_probe(l, p1), 0);
	assert_int_equal(slink_hostfwd_probe(l, p0), -EADDRINUSE);
	close(s);
	close(pipefd[0]);
	close(pipefd[1]);
	slink_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_hostfwd),
		cmocka_unit_test(test_hostfwd_port_taken),
		cmocka_unit_test(test_hostfwd_probe),
		cmocka_unit_test(test_hostfwd_burst),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_fill_too_small),
		cmocka_unit_test(test_epoll_mode),
		cmocka_unit_test(test_shards),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
