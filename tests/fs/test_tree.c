/* Unit tests of the daemon's pure helpers: the tree's inode encoding and names (fs/tree.c),
 * the -o net=/hostfwd_addr= parsers (fs/options.c) and the frame FIFO (fs/frameq.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "frameq.h"
#include "options.h"
#include "tree.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static void test_inode_encoding(void **state)
{
	(void)state;
	/* node ids: the fixed number below, the generation above; static nodes unchanged */
	assert_int_equal(tree_node(INO_ROOT, 0), 1);
	assert_int_equal(tree_node_ino(tree_node(tree_conv_ino(65535, NF_PEEK), 7)),
			 tree_conv_ino(65535, NF_PEEK));
	assert_int_equal(tree_node_gen(tree_node(tree_conv_ino(3, NF_DATA), 0xfffffffeu)), 0xfffffffeu);
	assert_true(tree_node(tree_conv_ino(3, NF_DATA), 1) != tree_node(tree_conv_ino(3, NF_DATA), 2));
	/* the numbers netfs(4) documents and libnetfs-compat relies on */
	assert_int_equal(tree_conv_ino(0, NF_DIR), 0x10000);
	assert_int_equal(tree_conv_ino(0, NF_CTL), 0x10001);
	assert_int_equal(tree_conv_ino(3, NF_DATA), 0x10000 + 3 * 16 + 2);
	assert_int_equal(tree_conv_ino(4095, NF_PEEK), 0x10000 + 4095 * 16 + 8);
	for (unsigned n = 0; n < 5000; n += 7) {
		for (int k = NF_DIR; k < NF_COUNT; k++) {
			fuse_ino_t ino = tree_conv_ino(n, (enum net_file)k);

			assert_true(tree_is_conv_ino(ino));
			assert_int_equal(tree_ino_conv(ino), n);
			assert_int_equal(tree_ino_file(ino), k);
		}
	}
	assert_false(tree_is_conv_ino(INO_ROOT));
	assert_false(tree_is_conv_ino(INO_STATS));
	assert_false(tree_is_conv_ino(0x10000 + 9));   /* k beyond peek */
	assert_false(tree_is_conv_ino(0x10000 + 15));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(tree_file_name(NF_CTL), "ctl");
	assert_string_equal(tree_file_name(NF_PEEK), "peek");
	assert_null(tree_file_name(NF_DIR));
	assert_int_equal(tree_file_lookup("status"), NF_STATUS);
	assert_int_equal(tree_file_lookup("listen"), NF_LISTEN);
	assert_int_equal(tree_file_lookup("clone"), NF_DIR);
	assert_int_equal(tree_file_lookup(""), NF_DIR);
	assert_int_equal(tree_file_lookup("ctl2"), NF_DIR);
	assert_true(tree_file_is_private(NF_PEEK));
	assert_true(tree_file_is_private(NF_LISTEN));
	assert_false(tree_file_is_private(NF_STATUS));

	assert_int_equal(tree_parse_conv_name("0"), 0);
	assert_int_equal(tree_parse_conv_name("4095"), 4095);
	assert_int_equal(tree_parse_conv_name("00"), -1);
	assert_int_equal(tree_parse_conv_name("01"), -1);
	assert_int_equal(tree_parse_conv_name("-1"), -1);
	assert_int_equal(tree_parse_conv_name("+1"), -1);
	assert_int_equal(tree_parse_conv_name("1x"), -1);
	assert_int_equal(tree_parse_conv_name(""), -1);
	assert_int_equal(tree_parse_conv_name("99999999999999999999"), -1);
}

static void test_modes(void **state)
{
	struct stat st;
	(void)state;

	tree_stat(INO_TCP, 1, 2, &st);
	assert_int_equal(st.st_mode, S_IFDIR | 0555);
	assert_int_equal(st.st_uid, 1);
	assert_int_equal(st.st_gid, 2);
	tree_stat(INO_CLONE, 0, 0, &st);
	assert_int_equal(st.st_mode, S_IFREG | 0666);
	tree_stat(INO_STATS, 0, 0, &st);
	assert_int_equal(st.st_mode, S_IFREG | 0444);
	tree_stat(tree_conv_ino(7, NF_DIR), 0, 0, &st);
	assert_int_equal(st.st_mode, S_IFDIR | 0555);
	tree_stat(tree_conv_ino(7, NF_DATA), 0, 0, &st);
	assert_int_equal(st.st_mode, S_IFREG | 0660);
	assert_int_equal(st.st_ino, tree_conv_ino(7, NF_DATA));
	tree_stat(tree_conv_ino(7, NF_REMOTE), 0, 0, &st);
	assert_int_equal(st.st_mode, S_IFREG | 0444);
	assert_int_equal(st.st_size, 0);
}

static void test_options_net(void **state)
{
	uint32_t net, mask, ip;
	(void)state;

	assert_int_equal(options_parse_net("10.0.2.0/24", &net, &mask), 0);
	assert_int_equal(net, IP(10, 0, 2, 0));
	assert_int_equal(mask, IP(255, 255, 255, 0));
	assert_int_equal(options_parse_net("172.16.0.0/12", &net, &mask), 0);
	assert_int_equal(mask, IP(255, 240, 0, 0));
	assert_int_equal(options_parse_net("10.0.2.1/24", &net, &mask), -1);   /* host bits */
	assert_int_equal(options_parse_net("10.0.2.0/29", &net, &mask), -1);   /* no room for .15 */
	assert_int_equal(options_parse_net("10.0.0.0/7", &net, &mask), -1);
	assert_int_equal(options_parse_net("10.0.2.0", &net, &mask), -1);
	assert_int_equal(options_parse_net("10.0.2.0/", &net, &mask), -1);
	assert_int_equal(options_parse_net("10.0.2.0/24x", &net, &mask), -1);
	assert_int_equal(options_parse_net("10.0.2/24", &net, &mask), -1);
	assert_int_equal(options_parse_net("a.b.c.d/24", &net, &mask), -1);
	assert_int_equal(options_parse_ip("127.0.0.1", &ip), 0);
	assert_int_equal(ip, IP(127, 0, 0, 1));
	assert_int_equal(options_parse_ip("0.0.0.0", &ip), 0);
	assert_int_equal(ip, 0);
	assert_int_equal(options_parse_ip("localhost", &ip), -1);
	assert_int_equal(options_parse_ip("1.2.3.4.5", &ip), -1);
}

static void test_frameq(void **state)
{
	struct frameq q = {0};
	uint8_t a[3] = {1, 2, 3}, b[1] = {9};
	struct frame *f;
	(void)state;

	assert_null(frameq_pop(&q));
	assert_true(frameq_push(&q, a, sizeof(a)));
	assert_true(frameq_push(&q, b, sizeof(b)));
	assert_true(frameq_push(&q, a, 0));
	assert_int_equal(q.count, 3);
	a[0] = 7;  /* the queue holds a copy */
	f = frameq_pop(&q);
	assert_int_equal(f->len, 3);
	assert_int_equal(f->data[0], 1);
	free(f);
	f = frameq_pop(&q);
	assert_int_equal(f->len, 1);
	assert_int_equal(f->data[0], 9);
	free(f);
	assert_true(frameq_push(&q, b, 1));
	frameq_clear(&q);
	assert_int_equal(q.count, 0);
	assert_null(frameq_pop(&q));

	/* a recycled frame is reused for one that fits, not for a bigger one */
	uint8_t big[100] = {0};

	assert_true(frameq_push(&q, a, sizeof(a)));
	f = frameq_pop(&q);
	frameq_recycle(&q, f);
	assert_int_equal(q.nspare, 1);
	assert_true(frameq_push(&q, b, sizeof(b)));
	assert_ptr_equal(q.head, f);
	assert_int_equal(q.nspare, 0);
	assert_int_equal(q.head->data[0], 9);
	assert_true(frameq_push(&q, big, sizeof(big)));
	assert_ptr_not_equal(q.tail, f);
	frameq_clear(&q);
	for (int i = 0; i < FRAMEQ_SPARES + 3; i++)
		assert_true(frameq_push(&q, a, sizeof(a)));
	while ((f = frameq_pop(&q)))
		frameq_recycle(&q, f);  /* keeps FRAMEQ_SPARES, frees the rest */
	assert_int_equal(q.nspare, FRAMEQ_SPARES);
	frameq_clear(&q);  /* frees the kept ones too (valgrind/ASan would tell) */
	assert_int_equal(q.nspare, 0);
	assert_null(q.spare);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inode_encoding),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_options_net),
		cmocka_unit_test(test_frameq),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
