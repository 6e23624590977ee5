/* netstack/csum.c — the Internet checksum.
 *
 * Every data byte the daemon sends is summed once (slirp verifies our checksums), so this
 * is on the bulk path.  The sum is the ones' complement sum of 64-bit words: 2^16 - 1
 * divides 2^64 - 1, so it folds to the same 16-bit result as summing 16-bit words, with
 * a quarter of the additions.  On x86-64 CPUs with AVX2 the blocks are summed in vector
 * lanes (about twice as fast again, measured on 64 KiB segments). */
#include <arpa/inet.h>
#include <string.h>

#include "csum.h"

/* Ones' complement addition: the carry out of bit 63 comes back in at bit 0. */
static inline uint64_t add_carry(uint64_t a, uint64_t b)
{
	a += b;
	return a + (a < b);
}

/* The bytes after the last whole 8-byte word: 4, 2, then the odd byte as the first byte
 * of a zero-padded word. */
static uint64_t sum_tail(uint64_t sum, const uint8_t *p, size_t len)
{
	if (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		sum = add_carry(sum, w);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		sum = add_carry(sum, w);
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t w = 0;
		memcpy(&w, p, 1);
		sum = add_carry(sum, w);
	}
	return sum;
}

/* Scalar: 8-byte words, two accumulators so the carry chains overlap.  dst, if not NULL,
 * gets a copy of the bytes summed. */
static uint64_t sum_words(uint64_t sum, uint8_t *dst, const uint8_t *p, size_t len)
{
	uint64_t other = 0;

	while (len >= 16) {
		uint64_t w[2];
		memcpy(w, p, 16);
		if (dst) {
			memcpy(dst, w, 16);
			dst += 16;
		}
		sum = add_carry(sum, w[0]);
		other = add_carry(other, w[1]);
		p += 16;
		len -= 16;
	}
	if (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		sum = add_carry(sum, w);
		p += 8;
		len -= 8;
		if (dst) {
			memcpy(dst, &w, 8);
			dst += 8;
		}
	}
	if (dst)
		memcpy(dst, p, len);
	return sum_tail(add_carry(sum, other), p, len);
}

#if defined(__x86_64__) && defined(__GNUC__)
typedef uint64_t v4u64 __attribute__((vector_size(32)));

/* 32-byte blocks in four 64-bit lanes, the low and high 32-bit halves of each word kept
 * apart so that no carry is lost (a lane gains less than 2^32 per block); the
 * high halves count as much as the low ones because 2^32 is 1 modulo 2^16 - 1. */
__attribute__((target("avx2")))
static uint64_t sum_avx2(uint64_t sum, uint8_t *dst, const uint8_t *p, size_t len)
{
	const v4u64 low = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
	v4u64 lo = {0, 0, 0, 0}, hi = {0, 0, 0, 0};

	while (len >= 32) {
		v4u64 w;
		memcpy(&w, p, 32);
		if (dst) {
			memcpy(dst, &w, 32);
			dst += 32;
		}
		lo += w & low;
		hi += w >> 32;
		p += 32;
		len -= 32;
	}
	uint64_t lanes[4];
	v4u64 both = lo + hi;   /* below 2^60 per lane for anything shorter than 4 GiB */
	memcpy(lanes, &both, sizeof lanes);
	for (int i = 0; i < 4; i++)
		sum = add_carry(sum, lanes[i]);
	return sum_words(sum, dst, p, len);
}

static uint64_t sum_any(uint64_t sum, uint8_t *dst, const uint8_t *p, size_t len)
{
	static int avx2 = -1;

	if (len < 256)
		return sum_words(sum, dst, p, len);
	if (avx2 < 0)
		avx2 = __builtin_cpu_supports("avx2") != 0;
	return avx2 ? sum_avx2(sum, dst, p, len) : sum_words(sum, dst, p, len);
}
#else
static uint64_t sum_any(uint64_t sum, uint8_t *dst, const uint8_t *p, size_t len)
{
	return sum_words(sum, dst, p, len);
}
#endif

uint64_t csum_add(uint64_t sum, const void *data, size_t len)
{
	return sum_any(sum, NULL, data, len);
}

uint64_t csum_copy(uint64_t sum, void *dst, const void *src, size_t len)
{
	return sum_any(sum, dst, src, len);
}

uint64_t csum_add_at(uint64_t sum, uint64_t part, size_t off)
{
	/* Starting at an odd offset every byte sits in the other half of its 16-bit word:
	 * that is the partial sum times 2^8, a rotation modulo 2^64 - 1. */
	if (off & 1)
		part = part << 8 | part >> 56;
	return add_carry(sum, part);
}

uint64_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint32_t a = htonl(src), b = htonl(dst);
	uint16_t p = htons(proto), l = htons(len);

	return (uint64_t)a + b + p + l;
}

uint16_t csum_finish(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
