/* Clock and latency samples for the load tools. */
#include "lt.h"

#include <err.h>
#include <stdlib.h>
#include <time.h>

uint64_t lt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void lt_samples_add(struct lt_samples *s, uint64_t ns)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4096;
		s->ns = realloc(s->ns, s->cap * sizeof *s->ns);
		if (!s->ns)
			err(1, "samples");
	}
	s->ns[s->n++] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

double lt_samples_quantile_us(struct lt_samples *s, double q)
{
	if (s->n == 0)
		return 0;
	qsort(s->ns, s->n, sizeof *s->ns, cmp_u64);
	/* nearest-rank: the smallest sample with at least q of all at or below it */
	size_t rank = (size_t)(q * (double)s->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return (double)s->ns[rank - 1] / 1000.0;
}

void lt_samples_free(struct lt_samples *s)
{
	free(s->ns);
	s->ns = NULL;
	s->n = s->cap = 0;
}
