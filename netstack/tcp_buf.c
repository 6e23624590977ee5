/* netstack/tcp_buf.c — byte ring buffers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "tcp_buf.h"

void tcp_buf_init(struct tcp_buf *b, size_t cap)
{
	b->data = NULL;
	b->cap = cap;
	b->head = b->len = 0;
}

void tcp_buf_free(struct tcp_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->head = b->len = 0;
}

void tcp_buf_release(struct tcp_buf *b)
{
	if (b->len == 0)
		tcp_buf_free(b);
}

static bool tcp_buf_reserve(struct tcp_buf *b)
{
	if (!b->data)
		b->data = malloc(b->cap);
	return b->data != NULL;
}

/* Copy n bytes to ring position pos (mod cap), wrapping once at most. */
static void ring_write(struct tcp_buf *b, size_t pos, const void *src, size_t n)
{
	pos %= b->cap;
	size_t first = b->cap - pos < n ? b->cap - pos : n;
	memcpy(b->data + pos, src, first);
	memcpy(b->data, (const unsigned char *)src + first, n - first);
}

int tcp_buf_resize(struct tcp_buf *b, size_t cap)
{
	if (cap < b->len)
		cap = b->len;
	if (cap == 0 || cap == b->cap)
		return 0;
	if (!b->data) {
		b->cap = cap;
		return 0;
	}
	unsigned char *d = malloc(cap);
	if (!d)
		return -ENOMEM;
	tcp_buf_copy_out(b, 0, d, b->len);
	free(b->data);
	b->data = d;
	b->cap = cap;
	b->head = 0;
	return 0;
}

size_t tcp_buf_append(struct tcp_buf *b, const void *src, size_t n)
{
	if (n > tcp_buf_space(b))
		n = tcp_buf_space(b);
	if (n && !tcp_buf_reserve(b))
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
	if (!tcp_buf_reserve(b))
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
	size_t pos = (b->head + off) % b->cap;
	size_t first = b->cap - pos < n ? b->cap - pos : n;
	memcpy(dst, b->data + pos, first);
	memcpy((unsigned char *)dst + first, b->data, n - first);
}

uint64_t tcp_buf_copy_out_csum(const struct tcp_buf *b, size_t off, void *dst, size_t n)
{
	if (!n)
		return 0;
	size_t pos = (b->head + off) % b->cap;
	size_t first = b->cap - pos < n ? b->cap - pos : n;
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
	size_t first = b->cap - b->head < n ? b->cap - b->head : n;
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
	b->head = (b->head + n) % b->cap;
}
