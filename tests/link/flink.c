/* tests/link/flink.c — see flink.h. */
#include "flink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct flink_profile profiles[] = {
	{ .name = "clean" },
	/* 5 % loss plus the other faults in both directions.  The hold is long compared to
	 * the in-process round trip, so a held frame really is overtaken by several others. */
	{ .name = "lossy", .loss = 0.05, .dup = 0.02, .corrupt = 0.01, .reorder = 0.03,
	  .delay_us = 200, .hold_us = 1500 },
};

const struct flink_profile *flink_profile_find(const char *name)
{
	for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
		if (strcmp(profiles[i].name, name) == 0)
			return &profiles[i];
	return NULL;
}

uint64_t flink_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double chance(struct flink *l)
{
	return (double)(flink_rand(&l->rng) >> 11) * 0x1p-53;
}

void flink_init(struct flink *l, const struct flink_profile *prof, uint64_t seed)
{
	memset(l, 0, sizeof *l);
	l->prof = *prof;
	l->rng = seed;
}

void flink_clear(struct flink *l)
{
	for (int d = 0; d < 2; d++) {
		struct flink_frame *f = l->q[d].head;
		while (f) {
			struct flink_frame *next = f->next;
			free(f);
			f = next;
		}
		l->q[d].head = l->q[d].tail = NULL;
	}
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Length of the IPv4 datagram in an Ethernet frame, 0 if it is not one. */
static size_t ipv4_len(const uint8_t *f, size_t len)
{
	if (len < 34 || be16(f + 12) != 0x0800 || (f[14] >> 4) != 4)
		return 0;
	size_t tot = be16(f + 16);
	return tot <= len - 14 ? tot : len - 14;
}

/* Count TCP segments and retransmissions as the sender emitted them.  Each test run
 * carries one connection, so one sequence tracker per direction is enough. */
static void observe_tcp(struct flink_queue *q, const uint8_t *f, size_t len)
{
	size_t ip = ipv4_len(f, len);
	if (ip < 20 || f[23] != 6)
		return;
	size_t ihl = (size_t)(f[14] & 0x0f) * 4;
	const uint8_t *t = f + 14 + ihl;
	if (ihl < 20 || ip < ihl + 20)
		return;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	if (doff < 20 || ip < ihl + doff)
		return;
	uint32_t seq = be32(t + 4);
	uint8_t flags = t[13];
	uint32_t space = (uint32_t)(ip - ihl - doff) + !!(flags & 0x02) + !!(flags & 0x01);
	if (space == 0)
		return;
	q->stats.tcp_segs++;
	if (flags & 0x02) {  /* SYN starts the sequence space */
		if (q->seq_seen && seq + 1 == q->seq_max)
			q->stats.tcp_retrans++;
		q->seq_seen = true;
		q->seq_max = seq + 1;
		return;
	}
	if (!q->seq_seen)
		return;
	if ((int32_t)(seq - q->seq_max) < 0)
		q->stats.tcp_retrans++;
	if ((int32_t)(seq + space - q->seq_max) > 0)
		q->seq_max = seq + space;
}

/* Flip one byte of the IPv4 datagram in f (a copy of a well-formed frame); returns where. */
static enum flink_corruption corrupt(struct flink *l, uint8_t *f, size_t len)
{
	size_t ip = ipv4_len(f, len);
	size_t ihl = (size_t)(f[14] & 0x0f) * 4;
	if (ip < 20 || ihl < 20 || ihl > ip)
		return FLINK_INTACT;
	size_t off = flink_rand(&l->rng) % ip;
	f[14 + off] ^= (uint8_t)(1 + flink_rand(&l->rng) % 255);
	if (off < ihl)
		return FLINK_CORRUPT_IPHDR;
	return f[23] == 6 ? FLINK_CORRUPT_TCP : FLINK_CORRUPT_OTHER;
}

static void enqueue(struct flink_queue *q, struct flink_frame *f)
{
	f->next = NULL;
	if (!q->tail || q->tail->due_us <= f->due_us) {
		if (q->tail)
			q->tail->next = f;
		else
			q->head = f;
		q->tail = f;
		return;
	}
	struct flink_frame **pp = &q->head;
	while ((*pp)->due_us <= f->due_us)
		pp = &(*pp)->next;
	f->next = *pp;
	*pp = f;
}

static void send_copy(struct flink *l, struct flink_queue *q, const uint8_t *frame, size_t len,
		      uint64_t now_us)
{
	struct flink_frame *f = malloc(sizeof *f + len);
	if (!f) {
		perror("flink: malloc");
		abort();
	}
	memcpy(f->data, frame, len);
	f->len = len;
	f->corruption = FLINK_INTACT;
	f->due_us = now_us + l->prof.delay_us;
	if (chance(l) < l->prof.reorder) {
		q->stats.held++;
		f->due_us += l->prof.hold_us + flink_rand(&l->rng) % (l->prof.hold_us + 1);
	}
	if (chance(l) < l->prof.corrupt) {
		f->corruption = corrupt(l, f->data, len);
		q->stats.corrupted += f->corruption != FLINK_INTACT;
	}
	enqueue(q, f);
}

void flink_submit(struct flink *l, enum flink_dir d, const uint8_t *frame, size_t len,
		  uint64_t now_us)
{
	struct flink_queue *q = &l->q[d];
	q->stats.submitted++;
	observe_tcp(q, frame, len);
	if (chance(l) < l->prof.loss) {
		q->stats.dropped++;
		return;
	}
	send_copy(l, q, frame, len, now_us);
	if (chance(l) < l->prof.dup) {
		q->stats.duplicated++;
		send_copy(l, q, frame, len, now_us);
	}
}

struct flink_frame *flink_take(struct flink *l, enum flink_dir d, uint64_t now_us)
{
	struct flink_queue *q = &l->q[d];
	struct flink_frame *f = q->head;
	if (!f || f->due_us > now_us)
		return NULL;
	q->head = f->next;
	if (!q->head)
		q->tail = NULL;
	q->stats.delivered++;
	q->stats.delivered_bytes += f->len;
	q->stats.corrupt_iphdr_delivered += f->corruption == FLINK_CORRUPT_IPHDR;
	q->stats.corrupt_tcp_delivered += f->corruption == FLINK_CORRUPT_TCP;
	return f;
}

uint64_t flink_next_due(const struct flink *l)
{
	uint64_t due = UINT64_MAX;
	for (int d = 0; d < 2; d++)
		if (l->q[d].head && l->q[d].head->due_us < due)
			due = l->q[d].head->due_us;
	return due;
}
