/* tests/netstack/test_stress.c — many connections over the stack's own loopback at once:
 * random write and read sizes, random clock steps, both close orders.  Every byte must arrive
 * intact and in order, and afterwards nothing may be left: no timer, no established
 * connection (valgrind checks the memory). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

enum { PAIRS = 40, MAX_BYTES = 200000 };

static uint8_t byte_at(int stream, size_t off)
{
	return (uint8_t)(off * 31 + (off >> 9) + (size_t)stream * 7);
}

struct end {
	struct tcp_sock *s;
	size_t total, sent, got;        /* this end sends total, has received got */
	size_t peer_total;
	bool shut, eof, closed, reset;
	size_t abort_at;                /* non-zero: hang up once this much is sent */
	int stream;                     /* the stream this end sends */
};

static unsigned rnd(unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

static void pump(struct end *e, struct end *peer, unsigned *r)
{
	uint8_t buf[20000];

	if (e->closed)
		return;
	if (e->abort_at && e->sent >= e->abort_at) {
		tcp_abort(e->s);
		tcp_close(e->s);
		e->closed = true;
		return;
	}
	if (e->sent < e->total && !e->reset) {
		size_t n = 1 + rnd(r) % sizeof buf;
		if (n > e->total - e->sent)
			n = e->total - e->sent;
		for (size_t i = 0; i < n; i++)
			buf[i] = byte_at(e->stream, e->sent + i);
		ssize_t k = tcp_send(e->s, buf, n);
		assert_true(k > 0 || k == -EAGAIN || (peer->abort_at && k == -ECONNRESET));
		if (k > 0)
			e->sent += (size_t)k;
	} else if (!e->shut && !e->reset) {
		int rc = tcp_shutdown(e->s, SHUT_WR);
		/* after the peer's hangup the connection is gone: nothing to shut down */
		assert_true(rc == 0 || (peer->abort_at && rc == -ENOTCONN));
		e->shut = true;
	}
	if (!e->eof) {
		size_t n = 1 + rnd(r) % sizeof buf;
		ssize_t k = tcp_recv(e->s, buf, n, 0);
		if (k > 0) {
			for (ssize_t i = 0; i < k; i++)
				if (buf[i] != byte_at(peer->stream, e->got + (size_t)i))
					fail_msg("stream %d corrupt at %zu", peer->stream, e->got + (size_t)i);
			e->got += (size_t)k;
		} else if (k == 0) {
			assert_int_equal(e->got, e->peer_total);
			e->eof = true;
		} else if (k == -ECONNRESET) {
			assert_true(peer->abort_at != 0);
			e->reset = e->eof = true;
		} else {
			assert_int_equal(k, -EAGAIN);
		}
	}
	if ((e->shut || e->reset) && e->eof) {
		tcp_close(e->s);
		e->closed = true;
	}
}

static void loopback_many_streams(void **state)
{
	(void)state;
	struct harness *h = h_new();
	unsigned r = 12345;
	struct tcp_sock *l = tcp_open(h->st, NULL, NULL);
	assert_int_equal(tcp_bind(l, 0, 9000), 0);
	assert_int_equal(tcp_listen(l, PAIRS), 0);
	struct end cl[PAIRS], sv[PAIRS];
	for (int i = 0; i < PAIRS; i++) {
		memset(&cl[i], 0, sizeof cl[i]);
		memset(&sv[i], 0, sizeof sv[i]);
		cl[i].s = tcp_open(h->st, NULL, NULL);
		if (i % 3 == 0)
			tcp_setopt(cl[i].s, TCP_OPT_NODELAY, 1);
		if (i % 4 == 1)
			tcp_setopt(cl[i].s, TCP_OPT_RCVBUF, 8192);
		assert_int_equal(tcp_connect(cl[i].s, i % 2 ? H_ADDR : 0x7f000001u, 9000), 0);
		assert_int_equal(tcp_state(cl[i].s), TCP_ESTABLISHED);
		sv[i].s = tcp_accept(l);
		assert_non_null(sv[i].s);
		cl[i].stream = 2 * i;
		sv[i].stream = 2 * i + 1;
		cl[i].total = sv[i].peer_total = rnd(&r) % MAX_BYTES;
		sv[i].total = cl[i].peer_total = rnd(&r) % MAX_BYTES;
		if (i % 10 == 7)
			cl[i].abort_at = cl[i].total / 2 + 1;
	}
	tcp_close(l);
	int open = 2 * PAIRS;
	for (int round = 0; round < 100000 && open; round++) {
		int i = (int)(rnd(&r) % PAIRS);
		if (rnd(&r) & 1)
			pump(&cl[i], &sv[i], &r);
		else
			pump(&sv[i], &cl[i], &r);
		if (rnd(&r) % 8 == 0)
			h_advance(h, rnd(&r) % 50);
		open = 0;
		for (int k = 0; k < PAIRS; k++)
			open += !cl[k].closed + !sv[k].closed;
	}
	assert_int_equal(open, 0);
	size_t moved = 0;
	int resets = 0;
	for (int k = 0; k < PAIRS; k++) {
		if (cl[k].abort_at) {
			resets += sv[k].reset;
			assert_true(sv[k].got <= cl[k].sent);
		} else {
			assert_int_equal(cl[k].got, cl[k].peer_total);
			assert_int_equal(sv[k].got, sv[k].peer_total);
		}
		moved += cl[k].got + sv[k].got;
	}
	assert_true(resets > 0);
	print_message("%zu bytes in %d streams\n", moved, 2 * PAIRS);
	assert_true(moved > 2 * PAIRS * (MAX_BYTES / 4));
	expect_none(h);                 /* nothing left the stack */
	h_advance(h, 5000);
	assert_int_equal(ns_next_deadline(h->st), NS_NEVER);
	char st[4096];
	ns_format_stats(h->st, st, sizeof st);
	assert_non_null(strstr(st, "CurrEstab: 0\n"));

	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loopback_many_streams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
