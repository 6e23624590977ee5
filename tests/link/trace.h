/* tests/link/trace.h — optional pcap file of every frame as it was delivered (after the
 * link's faults), for looking at a failing seed with wireshark or a script. */
#ifndef TESTS_LINK_TRACE_H
#define TESTS_LINK_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* NULL (and a message on stderr) if the file cannot be written. */
FILE *trace_open(const char *path);
void trace_frame(FILE *f, uint64_t now_us, const uint8_t *frame, size_t len);

#endif
