/* netstack/csum.h — the Internet checksum (RFC 1071). */
#ifndef NETSTACK_CSUM_H
#define NETSTACK_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Sums are kept in native word order: the folded, complemented result can be stored into the
 * packet with memcpy as is, which saves byte swapping on every 16-bit word.  A sum covers
 * bytes from an even offset of the checksummed data (see csum_add_at for the others). */
uint64_t csum_add(uint64_t sum, const void *data, size_t len);
/* Copy len bytes and sum them in the same pass (one trip over the data instead of two). */
uint64_t csum_copy(uint64_t sum, void *dst, const void *src, size_t len);
/* Add part, the sum (from 0) of bytes that start off bytes into the checksummed data. */
uint64_t csum_add_at(uint64_t sum, uint64_t part, size_t off);
uint64_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
/* Fold and complement: the value to store (memcpy) into the checksum field.  A received
 * packet whose sum (checksum field included) folds to 0 here is intact. */
uint16_t csum_finish(uint64_t sum);

#endif
