/* Unit tests for the ctl command parser (fs/ctl.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static int parse(const char *s, struct ctl_cmd *c, const char **err)
{
	*err = NULL;
	return ctl_parse(s, strlen(s), c, err);
}

static void expect_error(const char *s, const char *text)
{
	struct ctl_cmd c;
	const char *err;

	assert_int_equal(parse(s, &c, &err), -EINVAL);
	assert_non_null(err);
	assert_string_equal(err, text);
}

static void test_connect(void **state)
{
	struct ctl_cmd c;
	const char *err;
	(void)state;

	assert_int_equal(parse("connect 10.0.2.2!8000\n", &c, &err), 0);
	assert_int_equal(c.verb, CTL_CONNECT);
	assert_int_equal(c.addr.ip, IP(10, 0, 2, 2));
	assert_int_equal(c.addr.port, 8000);
	assert_false(c.addr.any_ip);
	assert_false(c.has_lport);

	assert_int_equal(parse("  connect\t127.0.0.1!65535   4000", &c, &err), 0);
	assert_int_equal(c.addr.ip, IP(127, 0, 0, 1));
	assert_int_equal(c.addr.port, 65535);
	assert_true(c.has_lport);
	assert_int_equal(c.lport, 4000);

	/* Plan 9 suffixes after the port are ignored */
	assert_int_equal(parse("connect 1.2.3.4!80!r", &c, &err), 0);
	assert_int_equal(c.addr.port, 80);
	assert_int_equal(parse("connect 0.0.0.0!1 0", &c, &err), 0);
	assert_int_equal(c.lport, 0);
}

static void test_connect_bad(void **state)
{
	(void)state;
	expect_error("connect", "bad args to connect");
	expect_error("connect 1.2.3.4!80 5 6", "bad args to connect");
	expect_error("connect 1.2.3.4", "bad address");
	expect_error("connect 1.2.3.4!0", "bad address");
	expect_error("connect 1.2.3.4!65536", "bad address");
	expect_error("connect 1.2.3.4!", "bad address");
	expect_error("connect !80", "bad address");
	expect_error("connect *!80", "bad address");
	expect_error("connect 80", "bad address");
	expect_error("connect 1.2.3!80", "bad address");
	expect_error("connect 1.2.3.4.5!80", "bad address");
	expect_error("connect 256.1.1.1!80", "bad address");
	expect_error("connect 1.2.3.4x!80", "bad address");
	expect_error("connect 1..3.4!80", "bad address");
	expect_error("connect 0001.2.3.4!80", "bad address");
	expect_error("connect 1.2.3.4!8a", "bad address");
	expect_error("connect 1.2.3.4!-1", "bad address");
	expect_error("connect 1.2.3.4!+80", "bad address");
	expect_error("connect 1.2.3.4!99999999999", "bad address");
	expect_error("connect 1.2.3.4!80 70000", "bad address");
	expect_error("connect 1.2.3.4!80 x", "bad address");
}

static void test_announce_bind(void **state)
{
	struct ctl_cmd c;
	const char *err;
	(void)state;

	assert_int_equal(parse("announce 9000\n", &c, &err), 0);
	assert_int_equal(c.verb, CTL_ANNOUNCE);
	assert_true(c.addr.any_ip);
	assert_int_equal(c.addr.port, 9000);

	assert_int_equal(parse("announce *!0", &c, &err), 0);
	assert_true(c.addr.any_ip);
	assert_int_equal(c.addr.port, 0);

	assert_int_equal(parse("announce 127.0.0.1!7", &c, &err), 0);
	assert_false(c.addr.any_ip);
	assert_int_equal(c.addr.ip, IP(127, 0, 0, 1));
	assert_int_equal(c.addr.port, 7);

	/* 0.0.0.0 is INADDR_ANY: the same as "*" (a host forward is made for it) */
	assert_int_equal(parse("announce 0.0.0.0!9001", &c, &err), 0);
	assert_true(c.addr.any_ip);
	assert_int_equal(c.addr.ip, 0);
	assert_int_equal(c.addr.port, 9001);
	assert_int_equal(parse("bind 0.0.0.0!0", &c, &err), 0);
	assert_true(c.addr.any_ip);

	assert_int_equal(parse("bind 10.0.2.15!0", &c, &err), 0);
	assert_int_equal(c.verb, CTL_BIND);
	assert_int_equal(c.addr.ip, IP(10, 0, 2, 15));
	assert_int_equal(c.addr.port, 0);

	expect_error("announce", "bad args to announce");
	expect_error("announce 1 2", "bad args to announce");
	expect_error("announce 65536", "bad address");
	expect_error("announce x", "bad address");
	expect_error("announce *", "bad address");
	expect_error("announce *!", "bad address");
	expect_error("announce **!1", "bad address");
	expect_error("announce 1.2.3.4!", "bad address");
	expect_error("bind", "bad args to bind");
	expect_error("bind 1.2.3!4", "bad address");
}

static void test_simple_verbs(void **state)
{
	struct ctl_cmd c;
	const char *err;
	(void)state;

	assert_int_equal(parse("hangup", &c, &err), 0);
	assert_int_equal(c.verb, CTL_HANGUP);
	assert_int_equal(parse("close\n", &c, &err), 0);
	assert_int_equal(c.verb, CTL_CLOSE);
	assert_int_equal(parse("clearerr", &c, &err), 0);
	assert_int_equal(c.verb, CTL_CLEARERR);
	expect_error("hangup now", "bad args to hangup");
	expect_error("close 1", "bad args to close");
}

static void test_options(void **state)
{
	struct ctl_cmd c;
	const char *err;
	(void)state;

	assert_int_equal(parse("shutdown rd", &c, &err), 0);
	assert_int_equal(c.how, SHUT_RD);
	assert_int_equal(parse("shutdown wr", &c, &err), 0);
	assert_int_equal(c.how, SHUT_WR);
	assert_int_equal(parse("shutdown rdwr", &c, &err), 0);
	assert_int_equal(c.how, SHUT_RDWR);
	expect_error("shutdown", "bad args to shutdown");
	expect_error("shutdown both", "bad value");

	assert_int_equal(parse("backlog 5", &c, &err), 0);
	assert_int_equal(c.verb, CTL_BACKLOG);
	assert_int_equal(c.value, 5);
	expect_error("backlog", "bad args to backlog");
	expect_error("backlog -1", "bad value");
	expect_error("backlog 3000000000", "bad value");

	assert_int_equal(parse("keepalive", &c, &err), 0);
	assert_int_equal(c.value, CTL_DEFAULT_KEEPALIVE_MS);
	assert_int_equal(parse("keepalive 0", &c, &err), 0);
	assert_int_equal(c.value, 0);
	assert_int_equal(parse("keepalive 5000", &c, &err), 0);
	assert_int_equal(c.value, 5000);
	expect_error("keepalive soon", "bad value");

	assert_int_equal(parse("nodelay on", &c, &err), 0);
	assert_int_equal(c.value, 1);
	assert_int_equal(parse("nodelay off", &c, &err), 0);
	assert_int_equal(c.value, 0);
	expect_error("nodelay", "bad args to nodelay");
	expect_error("nodelay 1", "bad value");

	assert_int_equal(parse("ttl", &c, &err), 0);
	assert_int_equal(c.value, 255);
	assert_int_equal(parse("ttl 64", &c, &err), 0);
	assert_int_equal(c.value, 64);
	expect_error("ttl 0", "bad value");
	expect_error("ttl 256", "bad value");
	assert_int_equal(parse("tos", &c, &err), 0);
	assert_int_equal(c.value, 0);
	assert_int_equal(parse("tos 16", &c, &err), 0);
	assert_int_equal(c.value, 16);
	expect_error("tos 300", "bad value");
}

static void test_garbage(void **state)
{
	struct ctl_cmd c;
	const char *err;
	char big[CTL_MAX_LEN + 2];
	(void)state;

	expect_error("", "short control request");
	expect_error("\n", "short control request");
	expect_error(" \t \r\n", "short control request");
	expect_error("Connect 1.2.3.4!5", "unknown control request");
	expect_error("connectx 1.2.3.4!5", "unknown control request");
	expect_error("accept 3", "unknown control request");
	expect_error("\xff\xfe", "unknown control request");

	/* an embedded NUL is an ordinary byte: the word no longer matches */
	assert_int_equal(ctl_parse("hangup\0x", 8, &c, &err), -EINVAL);
	assert_string_equal(err, "unknown control request");
	/* len is honoured: the text after it is never seen */
	assert_int_equal(ctl_parse("hangupXYZ", 6, &c, &err), 0);
	assert_int_equal(c.verb, CTL_HANGUP);

	memset(big, ' ', sizeof(big));
	memcpy(big, "hangup", 6);
	assert_int_equal(ctl_parse(big, CTL_MAX_LEN, &c, &err), 0);
	assert_int_equal(ctl_parse(big, CTL_MAX_LEN + 1, &c, &err), -EINVAL);
	assert_string_equal(err, "control request too long");
}

static void test_addr_functions(void **state)
{
	struct ctl_addr a;
	(void)state;

	assert_int_equal(ctl_parse_raddr("255.255.255.255!1", 17, &a), 0);
	assert_int_equal(a.ip, 0xffffffffu);
	assert_int_equal(a.port, 1);
	assert_int_equal(ctl_parse_raddr("1.2.3.4!80", 9, &a), 0);  /* length cuts the port */
	assert_int_equal(a.port, 8);
	assert_int_equal(ctl_parse_raddr("", 0, &a), -EINVAL);
	assert_int_equal(ctl_parse_laddr("", 0, &a), -EINVAL);
	assert_int_equal(ctl_parse_laddr("0", 1, &a), 0);
	assert_true(a.any_ip);
	assert_int_equal(a.port, 0);
	assert_int_equal(ctl_parse_laddr("10.0.2.15!80!r", 14, &a), -EINVAL);
	assert_string_equal(ctl_verb_name(CTL_ANNOUNCE), "announce");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_connect_bad),
		cmocka_unit_test(test_announce_bind),
		cmocka_unit_test(test_simple_verbs),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_addr_functions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
