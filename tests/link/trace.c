/* tests/link/trace.c — classic pcap (LINKTYPE_ETHERNET, microsecond timestamps). */
#include "trace.h"

#include <errno.h>
#include <string.h>

static void put32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }  /* native order: pcap allows it */
static void put16(FILE *f, uint16_t v) { fwrite(&v, 2, 1, f); }

FILE *trace_open(const char *path)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	put32(f, 0xa1b2c3d4);  /* magic: microseconds */
	put16(f, 2);
	put16(f, 4);
	put32(f, 0);           /* GMT offset */
	put32(f, 0);           /* accuracy */
	put32(f, 65535 + 14);  /* snap length */
	put32(f, 1);           /* Ethernet */
	return f;
}

void trace_frame(FILE *f, uint64_t now_us, const uint8_t *frame, size_t len)
{
	put32(f, (uint32_t)(now_us / 1000000));
	put32(f, (uint32_t)(now_us % 1000000));
	put32(f, (uint32_t)len);
	put32(f, (uint32_t)len);
	fwrite(frame, 1, len, f);
}
