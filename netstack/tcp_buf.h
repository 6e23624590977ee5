/* netstack/tcp_buf.h — byte ring buffers for the send and receive queues.
 *
 * cap is the most the ring may hold (the socket's buffer size); memory is taken on the
 * first write, starts small and doubles as the data needs it, and can be given back
 * while empty.  An idle connection, or one that can carry no more data, costs no buffer
 * space (thousands of conversations sit idle in a daemon), and one that only exchanges a
 * few small messages never costs a buffer of cap bytes: those come from mmap (glibc's
 * threshold is fixed at 64 KiB in netfsd), and a map, its page faults and its unmap per
 * connection were a sizeable part of a dial's cost. */
#ifndef NETSTACK_TCP_BUF_H
#define NETSTACK_TCP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcp_buf {
	unsigned char *data;
	size_t cap;                     /* the limit: at most cap bytes of data */
	size_t size;                    /* bytes allocated at data (0 if none), <= cap */
	size_t head, len;               /* len bytes of data start at head (mod size) */
};

void tcp_buf_init(struct tcp_buf *b, size_t cap);
void tcp_buf_free(struct tcp_buf *b);
/* Give the memory back if nothing is stored (the capacity stays). */
void tcp_buf_release(struct tcp_buf *b);
/* Change the capacity, keeping the contents; never below the bytes held. -ENOMEM on failure. */
int tcp_buf_resize(struct tcp_buf *b, size_t cap);

static inline size_t tcp_buf_space(const struct tcp_buf *b)
{
	return b->cap - b->len;
}

/* Append up to n bytes; returns how many fit (0 also when memory ran out). */
size_t tcp_buf_append(struct tcp_buf *b, const void *src, size_t n);
/* Store n bytes at off bytes past the end of the data without making them part of it (out of
 * order data: tcp_buf_commit() takes them in later).  off + n must be <= space. */
bool tcp_buf_put_beyond(struct tcp_buf *b, size_t off, const void *src, size_t n);
void tcp_buf_commit(struct tcp_buf *b, size_t n);
/* Copy n bytes starting at data offset off (off + n <= len). */
void tcp_buf_copy_out(const struct tcp_buf *b, size_t off, void *dst, size_t n);
/* The same, returning the Internet checksum sum (csum.h) of the bytes copied: an outgoing
 * segment's payload is read once, not once to copy and once to sum. */
uint64_t tcp_buf_copy_out_csum(const struct tcp_buf *b, size_t off, void *dst, size_t n);
/* The first n bytes of data as they lie in the ring: up to two pieces (it wraps at most
 * once).  Returns the number of pieces; the pointers are valid until the ring changes. */
int tcp_buf_peek(const struct tcp_buf *b, size_t n, const void *ptr[2], size_t len[2]);
void tcp_buf_drop(struct tcp_buf *b, size_t n);

#endif
