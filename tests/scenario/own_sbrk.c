/* Scenario 16 (SPEC rules 24, 31): a program that moves the break itself
 * (sbrk(4096), sbrk(13) unaligned, ...) between mallocs does not corrupt the
 * heap: every block keeps its pattern, the program's own sbrk regions keep
 * theirs, no later block overlaps them, and new pointers stay 16-aligned.
 * Also realloc of the last heap block right after a foreign sbrk, which must
 * not grow over the program's region. */
#include "scenario.h"

#define NB 40000   /* the drop-in grows the break 128 KiB ahead: many blocks per growth */
#define NR 64

static char *blk[NB];
static size_t bn[NB];
static size_t nblk;
static char *reg[NR];
static size_t rn[NR];
static size_t nreg;

static void add_block(size_t n)
{
	char *p = nblk % 5 == 4 ? calloc(1, n) : malloc(n);

	CHECK(p != NULL, "malloc(%zu) failed", n);
	CHECK(aligned_to(p, 16), "malloc(%zu) after sbrk returned %p: not 16-aligned", n, (void *)p);
	CHECK(nblk < NB, "test bug: too many blocks");
	blk[nblk] = p;
	bn[nblk] = n;
	pat_fill(p, n, nblk + 1);
	nblk++;
}

static void own_sbrk(intptr_t n)
{
	char *r = sbrk(n);

	CHECK(r != (char *)-1, "sbrk(%ld) failed: %s", (long)n, strerror(errno));
	CHECK(nreg < NR, "test bug: too many regions");
	reg[nreg] = r;
	rn[nreg] = (size_t)n;
	pat_fill(r, (size_t)n, 0xabc000 + nreg);
	nreg++;
}

static void check_all(const char *when)
{
	size_t i, j;

	for (i = 0; i < nblk; i++) {
		if (!blk[i])
			continue;
		CHECK(pat_ok(blk[i], bn[i], i + 1), "block %zu (%p, %zu bytes) corrupted %s", i, (void *)blk[i],
		      bn[i], when);
		for (j = 0; j < nreg; j++)
			CHECK(blk[i] + bn[i] <= reg[j] || blk[i] >= reg[j] + rn[j],
			      "block %p (%zu bytes) overlaps the program's sbrk region %p (%zu bytes) %s",
			      (void *)blk[i], bn[i], (void *)reg[j], rn[j], when);
	}
	for (j = 0; j < nreg; j++)
		CHECK(pat_ok(reg[j], rn[j], 0xabc000 + j), "the program's sbrk region %p (%zu bytes) corrupted %s",
		      (void *)reg[j], rn[j], when);
}

int main(void)
{
	static const intptr_t steps[] = { 4096, 13, 1, 7, 4096 * 3 + 5, 100, 16, 3, 65536, 9 };
	size_t i, k;
	char *brk0;

	require_osmem("own_sbrk");

	for (k = 0; k < sizeof steps / sizeof steps[0]; k++) {
		/* Enough heap use that the break has to grow between the sbrk calls. */
		brk0 = sbrk(0);
		while ((char *)sbrk(0) == brk0)
			add_block(500 + nblk % 3000);
		for (i = 0; i < 50; i++)
			add_block(16 + (nblk * 37) % 2000);
		own_sbrk(steps[k]);
		for (i = 0; i < 50; i++)
			add_block(1 + (nblk * 53) % 3000);
		check_all("after the program's sbrk");
	}

	/* The last heap block, then a foreign sbrk, then realloc of that block. */
	for (k = 0; k < 10; k++) {
		char *last, *q;
		size_t n = 64;

		brk0 = sbrk(0);
		do {
			add_block(n);
		} while ((char *)sbrk(0) == brk0);   /* this block made the heap grow: it is the last */
		last = blk[nblk - 1];
		own_sbrk(k % 2 ? 13 : 4096);
		q = realloc(last, opaque(20000 + k * 1000));
		CHECK(q != NULL, "realloc of the last block failed");
		CHECK(aligned_to(q, 16), "realloc returned %p: not 16-aligned", (void *)q);
		CHECK(pat_ok(q, n, nblk), "realloc of the last block after a foreign sbrk lost its contents");
		blk[nblk - 1] = q;
		bn[nblk - 1] = 20000 + k * 1000;
		pat_fill(q, bn[nblk - 1], nblk);
		check_all("after realloc of the last block");
	}

	/* The program gives back what it just took: harmless. */
	own_sbrk(8192);
	nreg--;
	CHECK(sbrk(-8192) != (void *)-1, "sbrk(-8192) failed");
	for (i = 0; i < 100; i++)
		add_block(1000);
	check_all("after the program's sbrk(+8192), sbrk(-8192)");

	/* Free half, allocate again (reuse across the gaps), check, free all. */
	for (i = 0; i < nblk; i += 2) {
		free(blk[i]);
		blk[i] = NULL;
	}
	for (i = 0; i < 500; i++)
		add_block(1 + (i * 97) % 5000);
	check_all("after frees and new allocations");
	for (i = 0; i < nblk; i++)
		free(blk[i]);
	return 0;
}
