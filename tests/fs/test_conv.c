/* Unit tests of the conversation table (fs/conv.c) over a real netstack with no wire:
 * numbers, growth past the old fixed 4096, reuse of the lowest free number, the bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "conv_int.h"
#include "stack.h"
#include "tree.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static void discard(void *ctx, const uint8_t *frame, size_t len)
{
	(void)ctx;
	(void)frame;
	(void)len;
}

static struct ns_stack *stack_new(void)
{
	struct ns_config nc = {
		.addr = IP(10, 0, 2, 15), .netmask = IP(255, 255, 255, 0),
		.gateway = IP(10, 0, 2, 2), .mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56},
		.mtu = 65520, .seed = 1,
	};
	struct ns_stack *st = ns_create(&nc, discard, NULL, 0);

	assert_non_null(st);
	return st;
}

/* Allocate and hold a reference, as an open clone fd does. */
static struct conv *take(struct conv_table *t)
{
	struct conv *c = conv_alloc(t, 0, 0);

	if (c)
		conv_ref(c);
	return c;
}

static void test_many(void **state)
{
	enum { N = 10000 };
	struct ns_stack *st = stack_new();
	struct conv_table t;
	static struct conv *cs[N];
	(void)state;

	conv_table_init(&t, st, NULL, IP(10, 0, 2, 15), 1);
	for (unsigned i = 0; i < N; i++) {
		cs[i] = take(&t);
		assert_non_null(cs[i]);
		assert_int_equal(cs[i]->n, i);  /* numbers in order, past the old 4096 */
	}
	assert_ptr_equal(conv_get(&t, N - 1), cs[N - 1]);
	assert_null(conv_get(&t, N));
	/* the inode of a high number still decodes to it */
	assert_int_equal(tree_ino_conv(tree_conv_ino(N - 1, NF_DATA)), N - 1);

	/* free some in the middle: the lowest comes back first, then the next */
	conv_unref(cs[7000]);
	conv_unref(cs[5]);
	conv_unref(cs[4500]);
	assert_null(conv_get(&t, 5));
	struct conv *a = take(&t), *b = take(&t), *c = take(&t), *d = take(&t);

	assert_int_equal(a->n, 5);
	assert_int_equal(b->n, 4500);
	assert_int_equal(c->n, 7000);
	assert_int_equal(d->n, N);
	/* a reused number is a new generation */
	assert_ptr_equal(a, cs[5]);
	conv_table_fini(&t, 0);
	ns_destroy(st);
}

static void test_bound(void **state)
{
	struct ns_stack *st = stack_new();
	struct conv_table t;
	struct conv *c = NULL;
	(void)state;

	conv_table_init(&t, st, NULL, IP(10, 0, 2, 15), 1);
	t.max = 100;
	for (unsigned i = 0; i < 100; i++) {
		c = take(&t);
		assert_non_null(c);
	}
	assert_null(take(&t));  /* ENFILE for the caller */
	unsigned gen = c->gen;

	conv_unref(c);
	c = take(&t);
	assert_non_null(c);
	assert_int_equal(c->n, 99);
	assert_int_equal(c->gen, gen + 1);
	conv_table_fini(&t, 0);
	assert_int_equal(t.nv, 0);
	ns_destroy(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
