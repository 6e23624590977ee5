/* tests/link/stream.c — see stream.h. */
#include "stream.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static uint64_t pattern_word(uint64_t key, uint64_t index)
{
	uint64_t z = key ^ (index * 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void pattern(uint64_t key, uint64_t off, uint8_t *buf, size_t n)
{
	while (n > 0) {
		uint64_t w = pattern_word(key, off / 8);
		for (unsigned b = off % 8; b < 8 && n > 0; b++, n--, off++)
			*buf++ = (uint8_t)(w >> (8 * b));
	}
}

void stream_init(struct stream *s, uint64_t total, uint64_t tx_key, uint64_t rx_key)
{
	memset(s, 0, sizeof *s);
	s->total = total;
	s->tx_key = tx_key;
	s->rx_key = rx_key;
}

size_t stream_tx_fill(const struct stream *s, uint8_t *buf, size_t cap)
{
	uint64_t left = s->total - s->sent;
	size_t n = left < cap ? (size_t)left : cap;
	pattern(s->tx_key, s->sent, buf, n);
	return n;
}

void stream_tx_advance(struct stream *s, size_t n)
{
	s->sent += n;
}

int stream_rx(struct stream *s, const uint8_t *buf, size_t n)
{
	if (n > s->total - s->received) {
		snprintf(s->err, sizeof s->err, "received %zu bytes at offset %" PRIu64
			 ", past the end of the %" PRIu64 "-byte stream", n, s->received, s->total);
		return -1;
	}
	uint8_t want[4096];
	for (size_t done = 0; done < n;) {
		size_t k = n - done < sizeof want ? n - done : sizeof want;
		pattern(s->rx_key, s->received + done, want, k);
		for (size_t i = 0; i < k; i++) {
			if (buf[done + i] != want[i]) {
				snprintf(s->err, sizeof s->err,
					 "wrong byte at stream offset %" PRIu64 ": 0x%02x, expected 0x%02x",
					 s->received + done + i, buf[done + i], want[i]);
				return -1;
			}
		}
		done += k;
	}
	s->received += n;
	return 0;
}

int stream_rx_eof(struct stream *s)
{
	if (s->received != s->total) {
		snprintf(s->err, sizeof s->err, "EOF after %" PRIu64 " of %" PRIu64 " bytes",
			 s->received, s->total);
		return -1;
	}
	s->rx_eof = true;
	return 0;
}

bool stream_done(const struct stream *s)
{
	return s->tx_shut && s->rx_eof;
}
