/* netstack/eth.h — Ethernet framing. */
#ifndef NETSTACK_ETH_H
#define NETSTACK_ETH_H

#include <stddef.h>
#include <stdint.h>

#include "stack_int.h"

#define ETH_HLEN 14
#define ETH_TYPE_IP 0x0800
#define ETH_TYPE_ARP 0x0806

void eth_input(struct ns_stack *st, const uint8_t *frame, size_t len);
/* Fill the Ethernet header at frame[0..14) and hand the frame to the output callback. */
void eth_send(struct ns_stack *st, uint8_t *frame, size_t len, const uint8_t *dst, uint16_t type);

#endif
