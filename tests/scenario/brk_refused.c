/* Scenario 12 (SPEC rule 30): when brk fails, heap memory comes from mmap.
 *
 * Usage: brk_refused [rlimit|mapping]
 *   rlimit   setrlimit(RLIMIT_DATA) with a soft limit of 0: Linux then refuses
 *            every brk growth (check_data_rlimit in brk()) but still lets
 *            anonymous mmap through, as long as it stays under the hard limit
 *            (may_expand_vm's "workaround for Valgrind" for a soft limit of 0).
 *   mapping  a page mapped with MAP_FIXED_NOREPLACE right at the (page-rounded)
 *            break: brk cannot grow into an existing mapping. The break may
 *            still move inside its last page, never past the mapping.
 * The program first checks that the method really blocks sbrk (else the
 * scenario would prove nothing), then makes many small allocations that do
 * not fit in what the heap already has: all must succeed, be 16-aligned,
 * writable and intact, lie outside the brk heap, and be freeable; the break
 * must not have grown. realloc, calloc and the memalign family must work too;
 * once all is freed (and malloc_trim has emptied the thread's cache), the
 * bytes in use (mallinfo2) are what they were before: no block freed in an
 * older segment went missing. */
#include "scenario.h"

#include <sys/mman.h>
#include <sys/resource.h>

#define N 40000       /* x 96 bytes: ~4.5 MiB with headers, far beyond the 128 KiB preallocation */

static char *v[N];
static size_t vn[N];

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "rlimit";
	size_t page = (size_t)getpagesize(), i, outside = 0;
	char *brk0, *brk1, *limit, *warm;
	size_t before, after;

	require_osmem("brk_refused");

	/* The heap exists and has been used before brk goes away. */
	warm = malloc(opaque(1000));
	CHECK(warm != NULL, "malloc(1000) failed");
	pat_fill(warm, 1000, 1);
	malloc_trim(0);   /* (it may lower the break: before brk0 is read) */
	before = mallinfo2().uordblks;
	brk0 = sbrk(0);

	if (strcmp(mode, "rlimit") == 0) {
		struct rlimit rl;
		CHECK(getrlimit(RLIMIT_DATA, &rl) == 0, "getrlimit: %s", strerror(errno));
		rl.rlim_cur = 0;
		CHECK(setrlimit(RLIMIT_DATA, &rl) == 0, "setrlimit(RLIMIT_DATA, 0): %s", strerror(errno));
		limit = NULL;
	} else if (strcmp(mode, "mapping") == 0) {
		char *at = (char *)(((uintptr_t)brk0 + page - 1) & ~(uintptr_t)(page - 1));
		void *m = mmap(at, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		CHECK(m == at, "mmap(MAP_FIXED_NOREPLACE) at the break %p gave %p: %s", (void *)at, m,
		      strerror(errno));
		limit = at;
	} else {
		FAIL("unknown mode %s", mode);
	}
	/* The method works on this kernel: sbrk cannot grow by a page. */
	{
		void *r = sbrk((intptr_t)(2 * page));
		if (r != (void *)-1)
			FAIL("%s: sbrk(2 pages) still succeeds (%p): the kernel does not block brk this way", mode, r);
	}

	for (i = 0; i < N; i++) {
		vn[i] = 16 + (i * 13) % 160;
		switch (i % 8) {
		case 0: v[i] = calloc(1, opaque(vn[i])); break;
		case 1: v[i] = memalign(64, opaque(vn[i])); break;
		default: v[i] = malloc(opaque(vn[i]));
		}
		CHECK(v[i] != NULL, "%s: allocation %zu (%zu bytes) failed, errno %d", mode, i, vn[i], errno);
		CHECK(aligned_to(v[i], 16), "%s: %p is not 16-aligned", mode, (void *)v[i]);
		if (i % 8 == 0)
			CHECK(all_zero(v[i], vn[i]), "calloc block %zu is not zeroed", i);
		pat_fill(v[i], vn[i], i);
		if (v[i] >= (limit ? limit : brk0))   /* above the break: not brk memory */
			outside++;
		if (limit)
			CHECK(v[i] + vn[i] <= limit || v[i] >= limit + page,
			      "block %p overlaps the blocking page %p", (void *)v[i], (void *)limit);
	}
	brk1 = sbrk(0);
	if (limit)
		CHECK(brk1 <= limit, "the break %p went past the mapping at %p", (void *)brk1, (void *)limit);
	else
		CHECK(brk1 == brk0, "the break moved from %p to %p", (void *)brk0, (void *)brk1);
	CHECK(outside > N / 2, "only %zu of %d blocks lie outside the brk heap", outside, N);

	for (i = 0; i < N; i++)
		CHECK(pat_ok(v[i], vn[i], i), "%s: block %zu at %p was overwritten", mode, i, (void *)v[i]);
	CHECK(pat_ok(warm, 1000, 1), "the block from before was overwritten");

	/* Grow some (they must move: their neighbours are live), free the rest. */
	for (i = 0; i < N; i++) {
		if (i % 4 == 0) {
			char *q = realloc(v[i], opaque(vn[i] * 20));
			CHECK(q != NULL, "%s: realloc(%zu -> %zu) failed", mode, vn[i], vn[i] * 20);
			CHECK(pat_ok(q, vn[i], i), "%s: realloc lost the contents of block %zu", mode, i);
			memset(q + vn[i], 0x3c, vn[i] * 19);
			v[i] = q;
			vn[i] *= 20;
		} else {
			free(v[i]);
			v[i] = NULL;
		}
	}
	for (i = 0; i < N; i += 4) {
		CHECK(all_byte(v[i] + vn[i] / 20, vn[i] - vn[i] / 20, 0x3c), "grown block %zu was overwritten", i);
		free(v[i]);
	}
	/* A large (mapped) block still works, and small ones again. */
	{
		char *big = malloc(opaque(1 << 20));
		CHECK(big != NULL, "malloc(1 MiB) failed");
		memset(big, 5, 1 << 20);
		free(big);
	}
	for (i = 0; i < N; i++) {
		v[i] = malloc(opaque(100));
		CHECK(v[i] != NULL, "malloc(100) failed after the frees");
		memset(v[i], 6, 100);
	}
	for (i = 0; i < N; i++)
		free(v[i]);
	/* Every block freed went back, in whichever segment it lay (free
	 * finds the older ones by a walk of its own): what is in use is what
	 * was before, once the thread's cache has given back what it holds. */
	malloc_trim(0);
	after = mallinfo2().uordblks;
	CHECK(after <= before, "%s: %zu bytes in use after every block was freed, %zu before", mode, after, before);
	free(warm);
	CHECK(limit ? (char *)sbrk(0) <= limit : (char *)sbrk(0) == brk0, "the break moved");
	return 0;
}
