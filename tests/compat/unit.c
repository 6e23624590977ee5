/* tests/compat/unit.c — cmocka tests of libnetfs-compat's pure parts: "ip!port" texts,
 * copying to and from the caller's memory without faulting (move_addr_to_user's rules),
 * the per-socket option table, and the SA_RESTART decision.  Everything that needs the
 * daemon is in diff.c. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "compat.h"

static void *volatile bad = (void *)8;  /* never mapped */

static void test_addr_parse(void **state)
{
	struct sockaddr_in a;

	(void)state;
	assert_int_equal(compat_addr_parse("10.0.2.15!8080", &a), 0);
	assert_int_equal(a.sin_family, AF_INET);
	assert_int_equal(ntohs(a.sin_port), 8080);
	assert_int_equal(ntohl(a.sin_addr.s_addr), 0x0a00020f);
	assert_int_equal(compat_addr_parse("0.0.0.0!0", &a), 0);
	assert_int_equal(a.sin_port, 0);
	const char *bad_texts[] = { "", "1.2.3.4", "1.2.3!5", "1.2.3.4!70000", "x!1", "1.2.3.4!",
				    "1.2.3.4.5.6.7.8.9.10.11.12.13.14!1" };
	for (size_t i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++) {
		errno = 0;
		assert_int_equal(compat_addr_parse(bad_texts[i], &a), -1);
		assert_int_equal(errno, EIO);
	}
}

static void test_addr_format(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(21000) };
	char buf[64];

	(void)state;
	compat_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "*!21000");  /* INADDR_ANY: the daemon's "any" */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	compat_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1!21000");
}

static void test_umem(void **state)
{
	int v = 7, w = 0;
	/* one read-only page followed by a hole */
	char *ro = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)state;
	assert_ptr_not_equal(ro, MAP_FAILED);
	assert_int_equal(munmap(ro + 4096, 4096), 0);
	assert_int_equal(compat_umem_read(&w, &v, sizeof(v)), 0);
	assert_int_equal(w, 7);
	assert_int_equal(compat_umem_write(&w, &(int){9}, sizeof(int)), 0);
	assert_int_equal(w, 9);
	errno = 0;
	assert_int_equal(compat_umem_read(&w, bad, sizeof(w)), -1);
	assert_int_equal(errno, EFAULT);
	errno = 0;
	assert_int_equal(compat_umem_write(bad, &v, sizeof(v)), -1);
	assert_int_equal(errno, EFAULT);
	errno = 0;
	assert_int_equal(compat_umem_write(ro, &v, sizeof(v)), -1);  /* read-only page */
	assert_int_equal(errno, EFAULT);
	assert_int_equal(compat_umem_read(&w, ro, sizeof(w)), 0);
	/* a range that runs off the end of a mapping */
	errno = 0;
	assert_int_equal(compat_umem_read(&(char[16]){0}, ro + 4090, 16), -1);
	assert_int_equal(errno, EFAULT);
	munmap(ro, 4096);
}

static void test_addr_to_user(void **state)
{
	struct sockaddr_in k = { .sin_family = AF_INET, .sin_port = htons(80) };
	unsigned char out[32];
	socklen_t len;
	int neg = -1;

	(void)state;
	memset(out, 0xAA, sizeof(out));
	len = 4;
	assert_int_equal(compat_addr_to_user(&k, sizeof(k), (struct sockaddr *)out, &len), 0);
	assert_int_equal(len, sizeof(k));       /* the real length, larger than given */
	assert_memory_equal(out, &k, 4);        /* truncated copy */
	assert_int_equal(out[4], 0xAA);
	len = 100;
	assert_int_equal(compat_addr_to_user(&k, sizeof(k), (struct sockaddr *)out, &len), 0);
	assert_int_equal(len, sizeof(k));
	assert_memory_equal(out, &k, sizeof(k));
	len = 0;  /* nothing copied, so even a bad address is fine */
	assert_int_equal(compat_addr_to_user(&k, sizeof(k), bad, &len), 0);
	assert_int_equal(len, sizeof(k));
	errno = 0;
	assert_int_equal(compat_addr_to_user(&k, sizeof(k), (struct sockaddr *)out,
					     (socklen_t *)&neg), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(compat_addr_to_user(&k, sizeof(k), (struct sockaddr *)out, bad), -1);
	assert_int_equal(errno, EFAULT);
	len = 16;
	errno = 0;
	assert_int_equal(compat_addr_to_user(&k, sizeof(k), bad, &len), -1);
	assert_int_equal(errno, EFAULT);
	len = 16;  /* TCP's recvfrom: no address, length 0 */
	assert_int_equal(compat_addr_to_user(NULL, 0, (struct sockaddr *)out, &len), 0);
	assert_int_equal(len, 0);
}

static void test_addr_from_user(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1) };

	(void)state;
	assert_int_equal(compat_addr_from_user(&ss, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_memory_equal(&ss, &a, sizeof(a));
	errno = 0;
	assert_int_equal(compat_addr_from_user(&ss, (struct sockaddr *)&a, sizeof(ss) + 1), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(compat_addr_from_user(&ss, bad, sizeof(a)), -1);
	assert_int_equal(errno, EFAULT);
}

static void test_opt_table(void **state)
{
	struct timeval tv = { 1, 250000 };
	struct compat_opts o;
	int v = 1, got = 0;
	socklen_t len = 0;

	(void)state;
	compat_opt_get(3, &o);
	assert_int_equal(o.rcvtimeo_ms, 0);
	assert_int_equal(compat_opt_store(3, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(compat_opt_store(3, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), 0);
	for (int n = 10; n < 60; n++)  /* grows past its first allocation */
		assert_int_equal(compat_opt_store(n, SOL_SOCKET, SO_REUSEADDR, &n, sizeof(n)), 0);
	compat_opt_get(3, &o);
	assert_int_equal(o.rcvtimeo_ms, 1250);
	assert_int_equal(o.sndtimeo_ms, 0);
	assert_int_equal(compat_opt_lookup(3, SOL_SOCKET, SO_REUSEADDR, &got, &len), 1);
	assert_int_equal(got, 1);
	assert_int_equal(len, sizeof(int));
	assert_int_equal(compat_opt_lookup(42, SOL_SOCKET, SO_REUSEADDR, &got, &len), 1);
	assert_int_equal(got, 42);
	assert_int_equal(compat_opt_lookup(4, SOL_SOCKET, SO_REUSEADDR, &got, &len), 0);
	compat_opt_forget(3);  /* number 3 reused by a new socket */
	assert_int_equal(compat_opt_lookup(3, SOL_SOCKET, SO_REUSEADDR, &got, &len), 0);
	compat_opt_get(3, &o);
	assert_int_equal(o.rcvtimeo_ms, 0);
	for (int n = 10; n < 60; n++)
		compat_opt_forget(n);
}

static void on_signal(int sig) { (void)sig; }

static void set_handler(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void test_restart_rule(void **state)
{
	(void)state;
	assert_true(compat_wait_restart(0));          /* no handlers at all */
	set_handler(SIGALRM, on_signal, SA_RESTART);
	assert_true(compat_wait_restart(0));
	assert_false(compat_wait_restart(100));       /* a timeout: always EINTR */
	set_handler(SIGSEGV, on_signal, 0);           /* a crash handler does not count */
	assert_true(compat_wait_restart(0));
	set_handler(SIGUSR1, on_signal, 0);           /* a handler without SA_RESTART */
	assert_false(compat_wait_restart(0));
	set_handler(SIGUSR1, SIG_IGN, 0);
	assert_true(compat_wait_restart(0));
	set_handler(SIGUSR1, SIG_DFL, 0);
	set_handler(SIGSEGV, SIG_DFL, 0);
	set_handler(SIGALRM, SIG_DFL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_addr_format),
		cmocka_unit_test(test_umem),
		cmocka_unit_test(test_addr_to_user),
		cmocka_unit_test(test_addr_from_user),
		cmocka_unit_test(test_opt_table),
		cmocka_unit_test(test_restart_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
