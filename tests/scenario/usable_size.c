/* Scenario 5 (SPEC rule 28): malloc_usable_size(p) >= the size asked for, and
 * every usable byte may be written: each block is filled up to its last usable
 * byte while its neighbours are live, and every block is checked afterwards
 * (a usable size that reaches into a neighbour or a header shows up as a
 * corrupted neighbour, or as a crash in free). malloc_usable_size(NULL) == 0. */
#include "scenario.h"

#define N 6000

static char *blk[N];
static size_t req[N], use[N];

static size_t size_for(size_t i)
{
	if (i < 4200)
		return i;                      /* every small size, 0 included */
	if (i < 5800)
		return 4200 + (i - 4200) * 83; /* up to ~137000: crosses the threshold */
	return 130900 + (i - 5800);            /* around the threshold, one by one */
}

static void fill(size_t i)
{
	use[i] = malloc_usable_size(blk[i]);
	CHECK(use[i] >= req[i], "block %zu: malloc_usable_size %zu < requested %zu", i, use[i], req[i]);
	pat_fill(blk[i], use[i], i * 7919 + req[i]);
}

static void verify(size_t i, const char *when)
{
	CHECK(malloc_usable_size(blk[i]) == use[i], "block %zu (%zu bytes): usable size changed %zu -> %zu (%s)",
	      i, req[i], use[i], malloc_usable_size(blk[i]), when);
	CHECK(pat_ok(blk[i], use[i], i * 7919 + req[i]),
	      "block %zu at %p (asked %zu, usable %zu) was corrupted %s", i, (void *)blk[i], req[i],
	      use[i], when);
}

int main(void)
{
	size_t i;

	require_osmem("usable_size");
	CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) = %zu", malloc_usable_size(NULL));

	/* All live at once, allocated in three interleaved passes with different
	 * functions so that neighbours come from different paths. */
	for (i = 0; i < N; i++) {
		req[i] = size_for(i);
		switch (i % 5) {
		case 0: blk[i] = malloc(opaque(req[i])); break;
		case 1: blk[i] = calloc(1, opaque(req[i])); break;
		case 2: blk[i] = realloc(NULL, opaque(req[i])); break;
		case 3: blk[i] = memalign(64, opaque(req[i])); break;
		default: blk[i] = malloc(opaque(req[i] / 2 + 1)); /* grown below */
			 blk[i] = realloc(blk[i], opaque(req[i]));
		}
		CHECK(blk[i] != NULL, "allocation %zu of %zu bytes failed", i, req[i]);
		fill(i);
	}
	for (i = 0; i < N; i++)
		verify(i, "after all were allocated and filled");

	/* Free every third one and allocate new neighbours into the holes. */
	for (i = 0; i < N; i += 3)
		free(blk[i]);
	for (i = 0; i < N; i += 3) {
		req[i] = size_for(N - 1 - i);
		blk[i] = malloc(opaque(req[i]));
		CHECK(blk[i] != NULL, "malloc(%zu) failed", req[i]);
		fill(i);
	}
	for (i = 0; i < N; i++)
		verify(i, "after holes were refilled");

	/* Shrink and grow in place or not: the new usable size holds too. */
	for (i = 1; i < N; i += 3) {
		size_t keep = req[i] / 3;
		uint64_t seed = i * 7919 + req[i];
		char *q = realloc(blk[i], opaque(keep ? keep : 1));
		CHECK(q != NULL, "realloc shrink failed");
		CHECK(pat_ok(q, keep, seed), "realloc shrink of block %zu lost its contents", i);
		blk[i] = q;
		req[i] = keep ? keep : 1;
		fill(i);
	}
	for (i = 0; i < N; i++)
		verify(i, "after shrinking realloc");
	for (i = 0; i < N; i++)
		free(blk[i]);
	return 0;
}
