/* tests/link/flink.h — a fault-injecting Ethernet link between the stack and libslirp.
 *
 * Frames are copied in from the output callbacks (flink_submit, which never calls back
 * into anything) and taken out later by the test's loop (flink_take), so neither side is
 * ever re-entered.  Each submitted frame may be lost, duplicated, corrupted (one byte
 * flipped), held back (so later frames overtake it) and delayed.  Every decision comes
 * from one seeded PRNG, so a seed names the fault pattern applied to a frame sequence.
 */
#ifndef TESTS_LINK_FLINK_H
#define TESTS_LINK_FLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flink_profile {
	const char *name;
	double loss;        /* probability a frame vanishes */
	double dup;         /* probability a kept frame is delivered twice */
	double corrupt;     /* probability a delivered IPv4 copy gets one byte flipped */
	double reorder;     /* probability a copy is held back by hold_us * (1..2) */
	uint32_t delay_us;  /* one-way latency of every copy */
	uint32_t hold_us;
};

enum flink_dir {
	FLINK_TO_HOST,   /* stack -> slirp */
	FLINK_TO_STACK,  /* slirp -> stack */
};

/* Where a corrupted copy got its flipped byte.  Only IPv4 datagrams are corrupted: a real
 * link's frame check sequence drops frames damaged on the wire, so what reaches a stack
 * damaged was damaged in between (a router, a middlebox, memory) and only the IPv4/TCP
 * checksums can catch it.  (Corrupting ARP, which has no checksum, would just poison the
 * peer's ARP table for the rest of the run.) */
enum flink_corruption {
	FLINK_INTACT,
	FLINK_CORRUPT_IPHDR,   /* IPv4 header */
	FLINK_CORRUPT_TCP,     /* TCP header or payload (IPv4 header intact) */
	FLINK_CORRUPT_OTHER,   /* another protocol's payload */
};

struct flink_frame {
	struct flink_frame *next;
	uint64_t due_us;
	enum flink_corruption corruption;
	size_t len;
	uint8_t data[];
};

struct flink_stats {
	uint64_t submitted, dropped, duplicated, corrupted, held;
	uint64_t delivered, delivered_bytes;
	uint64_t corrupt_iphdr_delivered, corrupt_tcp_delivered;
	/* As sent by the endpoint, before faults: TCP segments carrying sequence space,
	 * and how many of them resent sequence numbers already sent (retransmissions). */
	uint64_t tcp_segs, tcp_retrans;
};

struct flink_queue {
	struct flink_frame *head, *tail;
	struct flink_stats stats;
	bool seq_seen;
	uint32_t seq_max;  /* highest sequence number sent so far (end of a segment) */
};

struct flink {
	struct flink_profile prof;
	uint64_t rng;
	struct flink_queue q[2];
};

void flink_init(struct flink *l, const struct flink_profile *prof, uint64_t seed);
/* Frees every frame still in flight. */
void flink_clear(struct flink *l);

void flink_submit(struct flink *l, enum flink_dir d, const uint8_t *frame, size_t len,
		  uint64_t now_us);
/* The next frame due at now_us in direction d, or NULL; the caller free()s it. */
struct flink_frame *flink_take(struct flink *l, enum flink_dir d, uint64_t now_us);
/* Earliest due time of any queued frame, or UINT64_MAX. */
uint64_t flink_next_due(const struct flink *l);

/* A profile by name ("clean", "lossy"), or NULL. */
const struct flink_profile *flink_profile_find(const char *name);

/* The PRNG (splitmix64), exposed so the test derives its other keys from the same seed. */
uint64_t flink_rand(uint64_t *state);

#endif
