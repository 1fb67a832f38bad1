/* Scenario 19 (SPEC rule 29): free of a mapped block whose munmap the kernel
 * refuses because the process is at vm.max_map_count. No abort, no message,
 * errno unchanged, and the program goes on allocating.
 *
 * How the refusal is made, without changing the machine's sysctl: three
 * mapped blocks of the same size are mapped one below the other, so the
 * kernel merges them into one mapping. The program then maps single pages of
 * alternating protections (they cannot merge) until mmap fails: the process
 * now holds more mappings than vm.max_map_count allows. Unmapping the middle
 * block would split the merged mapping in two, which the kernel refuses with
 * ENOMEM at that count. The test checks that the refusal really happened (the
 * middle block's pages are still mapped) and unmaps its pages afterwards.
 * Where the limit is very high (more than MAX_FILL mappings), filling it
 * would take too long: the program prints "skip" and exits 0. */
#include "scenario.h"

#include <sys/mman.h>

#define SIZE     200000
#define MAX_FILL 300000

static void *fill[MAX_FILL + 16];

static long max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Whether the page at p is mapped: msync fails with ENOMEM on a hole. */
static int mapped(void *p)
{
	return msync((void *)((uintptr_t)p & ~(uintptr_t)(getpagesize() - 1)), 1, MS_ASYNC) == 0;
}

int main(void)
{
	size_t page = (size_t)getpagesize(), span = (SIZE + 32 + page - 1) / page * page, n = 0, i;
	long limit = max_map_count();
	char *a, *b, *c, *p;
	int fill_err, err, still;
	struct mallinfo2 mi;

	require_osmem("munmap_refused");
	if (limit < 0 || limit > MAX_FILL) {
		printf("skip: vm.max_map_count is %ld\n", limit);
		return 0;
	}
	a = malloc(SIZE);
	b = malloc(SIZE);
	c = malloc(SIZE);
	CHECK(a && b && c, "malloc(%d) failed", SIZE);
	/* One below the other: one mapping for the kernel. */
	CHECK(a - b == (ptrdiff_t)span && b - c == (ptrdiff_t)span,
	      "the three mapped blocks are not adjacent (a %p, b %p, c %p): cannot provoke the split", a, b, c);
	pat_fill(a, SIZE, 1);
	pat_fill(b, SIZE, 2);
	pat_fill(c, SIZE, 3);

	while (n < MAX_FILL + 16) {
		void *m = mmap(NULL, page, n % 2 ? PROT_READ : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			break;
		fill[n++] = m;
	}
	fill_err = errno;
	errno = EDOM;
	free(launder(b));               /* its munmap must split a, b, c's mapping: refused */
	err = errno == EDOM ? 0 : errno;
	still = mapped(launder(b));
	for (i = 0; i < n; i++)
		munmap(fill[i], page);
	CHECK(n > 1000 && n <= MAX_FILL + 1, "%zu pages mapped before mmap failed (errno %d)", n, fill_err);
	CHECK(err == 0, "free changed errno from EDOM to %d", err);
	CHECK(still, "b's pages were unmapped: the map count was not reached, nothing was tested");

	/* The neighbours are intact and everything else still works. */
	CHECK(pat_ok(a, SIZE, 1) && pat_ok(c, SIZE, 3), "a neighbour of the lost block changed");
	CHECK(pat_ok(b, SIZE, 2), "the lost block's contents changed");
	mi = mallinfo2();
	CHECK(mi.hblks == 2, "mallinfo2: %zu mapped blocks, expected 2 (a and c; b is no longer ours)", mi.hblks);
	free(a);
	free(c);
	for (i = 0; i < 100; i++) {
		p = malloc(SIZE + i * 4096);
		CHECK(p != NULL, "malloc after the refusal failed");
		pat_fill(p, SIZE, i);
		CHECK(pat_ok(p, SIZE, i), "block %zu", i);
		free(p);
	}
	CHECK(munmap(b - 32, span) == 0, "unmapping the lost block: errno %d", errno);
	printf("munmap refused after %zu mappings; free went on\n", n);
	return 0;
}
