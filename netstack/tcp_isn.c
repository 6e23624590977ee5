/* netstack/tcp_isn.c — keyed hashes of connection identifiers.
 *
 * Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport, remoteip,
 * remoteport, secretkey), M a 4 us clock, F a keyed hash; and the per-destination offset of
 * RFC 6056's ephemeral port selection.  F is SipHash-2-4 keyed from the stack's seed, so both
 * are unpredictable off-path yet reproducible in tests that fix the seed and the clock. */
#include "tcp_int.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

/* SipHash-2-4 of a message that is exactly two 64-bit words (12 bytes of 4-tuple, padded). */
static uint64_t siphash_2w(const uint64_t key[2], uint64_t m0, uint64_t m1, uint64_t len)
{
	uint64_t v[4] = {
		key[0] ^ 0x736f6d6570736575ull, key[1] ^ 0x646f72616e646f6dull,
		key[0] ^ 0x6c7967656e657261ull, key[1] ^ 0x7465646279746573ull,
	};
	uint64_t words[3] = { m0, m1, len << 56 };

	for (int i = 0; i < 3; i++) {
		v[3] ^= words[i];
		sip_round(v);
		sip_round(v);
		v[0] ^= words[i];
	}
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint32_t tcp_isn(struct ns_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport)
{
	uint64_t m0 = (uint64_t)laddr << 32 | raddr;
	uint64_t m1 = (uint64_t)lport << 16 | rport;
	uint32_t f = (uint32_t)siphash_2w(st->isn_key, m0, m1, 16);

	return f + (uint32_t)(st->now * 250);   /* ms -> 4 us ticks */
}

uint32_t tcp_port_offset(struct ns_stack *st, uint32_t laddr, uint32_t raddr, uint16_t rport)
{
	/* A different message length than tcp_isn's keeps the two hashes unrelated. */
	return (uint32_t)siphash_2w(st->isn_key, (uint64_t)laddr << 32 | raddr, rport, 10);
}
