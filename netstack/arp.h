/* netstack/arp.h — ARP: answer for our address, resolve the gateway (the only next hop). */
#ifndef NETSTACK_ARP_H
#define NETSTACK_ARP_H

#include <stddef.h>
#include <stdint.h>

#include "stack_int.h"

void arp_input(struct ns_stack *st, const uint8_t *pkt, size_t len);
/* Send an Ethernet frame carrying IP (header space at frame[0..14)) to the gateway; queued
 * (copied) while its MAC is unknown. */
void arp_output_ip(struct ns_stack *st, uint8_t *frame, size_t len);
/* Gratuitous ARP, and a request for the gateway if it is still unknown. */
void arp_announce(struct ns_stack *st);
ns_time_t arp_deadline(const struct ns_stack *st);
void arp_timer(struct ns_stack *st);

#endif
