/* tests/link/stream.h — one endpoint's view of a two-way verified byte transfer.
 *
 * Each direction carries `total` bytes of a keyed pseudo-random pattern whose every byte is
 * a function of (key, offset), so the receiver checks each byte where it lands and can name
 * the first wrong offset (stronger than a digest at the end, and it needs no buffering).
 */
#ifndef TESTS_LINK_STREAM_H
#define TESTS_LINK_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stream {
	uint64_t total;
	uint64_t tx_key, rx_key;
	uint64_t sent, received;
	bool tx_shut;   /* our FIN has been requested after the last byte */
	bool rx_eof;    /* the peer's EOF arrived after exactly `total` bytes */
	char err[200];  /* set when the received data is wrong */
};

void stream_init(struct stream *s, uint64_t total, uint64_t tx_key, uint64_t rx_key);

/* Fill buf with the next bytes to send (at most cap); returns the count (0: all sent). */
size_t stream_tx_fill(const struct stream *s, uint8_t *buf, size_t cap);
void stream_tx_advance(struct stream *s, size_t n);

/* Check received bytes; -1 (and err) if any byte is wrong or beyond total. */
int stream_rx(struct stream *s, const uint8_t *buf, size_t n);
/* The peer's EOF; -1 (and err) if it came early. */
int stream_rx_eof(struct stream *s);

bool stream_done(const struct stream *s);

#endif
