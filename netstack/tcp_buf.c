/* netstack/tcp_buf.c — byte ring buffers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "tcp_buf.h"

#define TCP_BUF_FIRST 4096   /* the first allocation: a page, from the heap */

void tcp_buf_init(struct tcp_buf *b, size_t cap)
{
	b->data = NULL;
	b->cap = cap;
	b->size = b->head = b->len = 0;
}

void tcp_buf_free(struct tcp_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->size = b->head = b->len = 0;
}

void tcp_buf_release(struct tcp_buf *b)
{
	if (b->len == 0)
		tcp_buf_free(b);
}

/* Move the ring into an allocation of new_size bytes, unwrapped.  All of the old ring is
 * kept in order from head, so out-of-order bytes stored past the data stay at their
 * offsets (only as many as fit when shrinking). */
static bool move_to(struct tcp_buf *b, size_t new_size)
{
	unsigned char *d = malloc(new_size);

	if (!d)
		return false;
	if (b->data) {
		size_t keep = b->size < new_size ? b->size : new_size;
		size_t first = b->size - b->head < keep ? b->size - b->head : keep;

		memcpy(d, b->data + b->head, first);
		memcpy(d + first, b->data, keep - first);
		free(b->data);
	}
	b->data = d;
	b->size = new_size;
	b->head = 0;
	return true;
}

/* Room for need bytes past head (need <= cap), doubling from TCP_BUF_FIRST. */
static bool tcp_buf_reserve(struct tcp_buf *b, size_t need)
{
	if (need <= b->size)
		return true;
	size_t n = b->size ? b->size : TCP_BUF_FIRST;

	while (n < need)
		n *= 2;
	return move_to(b, n < b->cap ? n : b->cap);
}

/* Copy n bytes to ring position pos (mod size), wrapping once at most. */
static void ring_write(struct tcp_buf *b, size_t pos, const void *src, size_t n)
{
	pos %= b->size;
	size_t first = b->size - pos < n ? b->size - pos : n;
	memcpy(b->data + pos, src, first);
	memcpy(b->data, (const unsigned char *)src + first, n - first);
}

int tcp_buf_resize(struct tcp_buf *b, size_t cap)
{
	if (cap < b->len)
		cap = b->len;
	if (cap == 0 || cap == b->cap)
		return 0;
	if (b->size > cap && !move_to(b, cap))
		return -ENOMEM;
	b->cap = cap;
	return 0;
}

size_t tcp_buf_append(struct tcp_buf *b, const void *src, size_t n)
{
	if (n > tcp_buf_space(b))
		n = tcp_buf_space(b);
	if (n && !tcp_buf_reserve(b, b->len + n))
		return 0;
	if (n) {
		ring_write(b, b->head + b->len, src, n);
		b->len += n;
	}
	return n;
}

bool tcp_buf_put_beyond(struct tcp_buf *b, size_t off, const void *src, size_t n)
{
	if (!n)
		return true;
	if (!tcp_buf_reserve(b, b->len + off + n))
		return false;
	ring_write(b, b->head + b->len + off, src, n);
	return true;
}

void tcp_buf_commit(struct tcp_buf *b, size_t n)
{
	b->len += n;
}

void tcp_buf_copy_out(const struct tcp_buf *b, size_t off, void *dst, size_t n)
{
	if (!n)
		return;
	size_t pos = (b->head + off) % b->size;
	size_t first = b->size - pos < n ? b->size - pos : n;
	memcpy(dst, b->data + pos, first);
	memcpy((unsigned char *)dst + first, b->data, n - first);
}

uint64_t tcp_buf_copy_out_csum(const struct tcp_buf *b, size_t off, void *dst, size_t n)
{
	if (!n)
		return 0;
	size_t pos = (b->head + off) % b->size;
	size_t first = b->size - pos < n ? b->size - pos : n;
	uint64_t sum = csum_copy(0, dst, b->data + pos, first);
	if (n > first)
		sum = csum_add_at(sum, csum_copy(0, (unsigned char *)dst + first, b->data, n - first),
				  first);
	return sum;
}

int tcp_buf_peek(const struct tcp_buf *b, size_t n, const void *ptr[2], size_t len[2])
{
	if (n > b->len)
		n = b->len;
	if (!n)
		return 0;
	size_t first = b->size - b->head < n ? b->size - b->head : n;
	ptr[0] = b->data + b->head;
	len[0] = first;
	if (n == first)
		return 1;
	ptr[1] = b->data;
	len[1] = n - first;
	return 2;
}

void tcp_buf_drop(struct tcp_buf *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	b->len -= n;
	/* head keeps moving even when the ring empties: out-of-order bytes stored past the
	 * data must stay where they are. */
	if (b->size)
		b->head = (b->head + n) % b->size;
}
