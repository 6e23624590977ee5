/* netstack/csum.c — the Internet checksum. */
#include <arpa/inet.h>
#include <string.h>

#include "csum.h"

uint64_t csum_add(uint64_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	/* 32-bit words into a 64-bit accumulator: carries pile up in the high half and are
	 * folded once at the end. */
	while (len >= 16) {
		uint32_t w[4];
		memcpy(w, p, 16);
		sum += (uint64_t)w[0] + w[1] + w[2] + w[3];
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		sum += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t w = 0;
		memcpy(&w, p, 1);       /* the odd byte is the first byte of a zero-padded word */
		sum += w;
	}
	return sum;
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
