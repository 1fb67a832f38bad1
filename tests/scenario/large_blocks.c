/* Scenario 18 (SPEC rules 26, 28, 32 and the drop-in's large blocks): a buffer
 * grown by realloc from 64 KiB to 16 MiB in 4 KiB steps keeps its contents at
 * every step (mapped blocks are resized with mremap, not copied into fresh
 * mappings, and growth takes slack, so few steps need a syscall); a freed
 * large block raises the mmap threshold, so the next block of that size
 * comes from the heap, unless realloc grew it (such buffers stay mapped);
 * the bats test reads the syscalls from OSMEM_STATS. Shrinking a mapped
 * block keeps the data. */
#include "scenario.h"

#include <malloc.h>

static size_t mapped_blocks(void)
{
	return mallinfo2().hblks;
}

int main(void)
{
	size_t n = 64 << 10, i;
	char *p, *q;

	require_osmem("large_blocks");

	p = malloc(n);
	CHECK(p != NULL, "malloc(%zu) failed", n);
	pat_fill(p, n, 1);
	for (; n < (16u << 20); n += 4096) {
		q = realloc(p, n + 4096);
		CHECK(q != NULL, "realloc to %zu failed", n + 4096);
		CHECK(pat_ok(q, n, 1), "realloc to %zu lost the first %zu bytes", n + 4096, n);
		pat_fill(q + n, 4096, 2 + n / 4096);
		/* Refill so the next check covers the whole buffer. */
		pat_fill(q, n + 4096, 1);
		p = q;
	}
	q = realloc(p, 1 << 20);   /* shrink a mapped block */
	CHECK(q != NULL && pat_ok(q, 1 << 20, 1), "shrinking to 1 MiB lost the data");
	CHECK(mapped_blocks() == 1, "the grown buffer is not the one mapped block (%zu)", mapped_blocks());
	free(q);

	/* 1 MiB blocks taken and dropped: the first is mapped (the grown buffer
	 * freed above left the threshold alone), the rest are not. */
	for (i = 0; i < 50; i++) {
		p = malloc(1 << 20);
		CHECK(p != NULL, "malloc(1 MiB) failed");
		CHECK(mapped_blocks() == (i == 0), "1 MiB block %zu: %zu mapped blocks", i, mapped_blocks());
		memset(p, (int)i, 1 << 20);
		CHECK(malloc_usable_size(p) >= (1u << 20), "usable size below the request");
		free(p);
	}
	return 0;
}
