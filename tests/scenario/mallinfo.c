/* Scenario 17 (SPEC rule 32): mallinfo2 reports real figures (uordblks grows
 * by at least 1 MiB after 1 MiB of small blocks and falls back after they are
 * freed; hblks/hblkhd count a mapped block), mallinfo agrees with mallinfo2,
 * malloc_trim(0) returns 1 after a lot was freed at the top of the heap and
 * the break goes down, and gives back the pages inside free blocks that
 * blocks in use keep apart (mincore: none resident after it), mallopt returns 0 for a parameter osmem does not honour
 * (M_ARENA_MAX), and malloc_stats writes a report naming osmem to stderr. */
#include "scenario.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)
#define NSMALL 16384          /* x 64 bytes = 1 MiB */
#define SLACK (128 * 1024)

static char *v[NSMALL];

#define NPURGE 32
#define PURGE_SIZE (64 * 1024)

/* Resident pages wholly inside the n blocks of `size` bytes at p[0..n) (the
 * blocks are freed: their addresses are only compared and passed to mincore). */
static size_t resident(char *const *p, size_t n, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), count = 0;
	unsigned char vec[PURGE_SIZE / 4096];

	for (size_t i = 0; i < n; i++) {
		uintptr_t lo = ((uintptr_t)p[i] + page - 1) & ~(page - 1), hi = ((uintptr_t)p[i] + size) & ~(page - 1);

		if (hi <= lo)
			continue;
		CHECK(mincore((void *)lo, hi - lo, vec) == 0, "mincore failed");
		for (size_t k = 0; k < (hi - lo) / page; k++)
			count += vec[k] & 1;
	}
	return count;
}

int main(void)
{
	struct mallinfo2 m0, m1, m2;
	struct mallinfo old;
	size_t i, n;
	char *big, *brk1, *brk2;

	require_osmem("mallinfo");

	/* uordblks: 1 MiB in small blocks. */
	m0 = mallinfo2();
	for (i = 0; i < NSMALL; i++) {
		v[i] = malloc(opaque(64));
		CHECK(v[i] != NULL, "malloc(64) failed");
		memset(v[i], 1, 64);
	}
	m1 = mallinfo2();
	CHECK(m1.uordblks >= m0.uordblks + MIB, "uordblks %zu -> %zu after allocating 1 MiB in small blocks",
	      m0.uordblks, m1.uordblks);
	CHECK(m1.arena >= m1.uordblks, "arena %zu < uordblks %zu", m1.arena, m1.uordblks);
	CHECK(m1.hblks == m0.hblks, "hblks changed (%zu -> %zu) for small blocks", m0.hblks, m1.hblks);
	for (i = 0; i < NSMALL; i++)
		free(v[i]);
	/* A thread cache may keep a few freed blocks, counted as in use (glibc's
	 * tcache does the same): allow 128 KiB of them. */
	m2 = mallinfo2();
	CHECK(m2.uordblks + MIB - SLACK <= m1.uordblks, "uordblks %zu -> %zu after freeing 1 MiB of small blocks",
	      m1.uordblks, m2.uordblks);
	CHECK(m2.fordblks >= m0.fordblks + MIB - SLACK, "fordblks %zu -> %zu after freeing 1 MiB", m0.fordblks,
	      m2.fordblks);

	/* hblks / hblkhd: one mapped block. */
	m0 = mallinfo2();
	big = malloc(opaque(4 * MIB));
	CHECK(big != NULL, "malloc(4 MiB) failed");
	memset(big, 2, 4 * MIB);
	m1 = mallinfo2();
	CHECK(m1.hblks == m0.hblks + 1, "hblks %zu -> %zu after one 4 MiB malloc", m0.hblks, m1.hblks);
	CHECK(m1.hblkhd >= m0.hblkhd + 4 * MIB, "hblkhd %zu -> %zu after one 4 MiB malloc", m0.hblkhd, m1.hblkhd);
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	old = mallinfo();
	CHECK((size_t)old.hblks == m1.hblks && (size_t)old.hblkhd == m1.hblkhd && (size_t)old.arena == m1.arena,
	      "mallinfo (hblks %d hblkhd %d arena %d) disagrees with mallinfo2 (%zu %zu %zu)", old.hblks,
	      old.hblkhd, old.arena, m1.hblks, m1.hblkhd, m1.arena);
	free(big);
	m2 = mallinfo2();
	CHECK(m2.hblks == m0.hblks && m2.hblkhd == m0.hblkhd, "hblks/hblkhd %zu/%zu after free, %zu/%zu before",
	      m2.hblks, m2.hblkhd, m0.hblks, m0.hblkhd);

	/* malloc_trim: 4 MiB of heap blocks at the top, freed, trimmed. */
	for (i = 0; i < 1024; i++) {
		v[i] = malloc(opaque(4000));
		CHECK(v[i] != NULL, "malloc(4000) failed");
		memset(v[i], 3, 4000);
	}
	brk1 = sbrk(0);
	for (i = 1024; i-- > 0;)
		free(v[i]);
	m1 = mallinfo2();
	CHECK(m1.keepcost >= 2 * MIB, "keepcost %zu after freeing 4 MiB at the top of the heap", m1.keepcost);
	CHECK(malloc_trim(0) == 1, "malloc_trim(0) did not return 1 after 4 MiB were freed at the top");
	brk2 = sbrk(0);
	CHECK(brk2 + 2 * MIB <= brk1, "the break went from %p to %p only after malloc_trim(0)", (void *)brk1,
	      (void *)brk2);
	m2 = mallinfo2();
	CHECK(m2.arena + 2 * MIB <= m1.arena, "arena %zu -> %zu after malloc_trim", m1.arena, m2.arena);
	/* The heap works after the trim (and grows again). */
	for (i = 0; i < 1024; i++) {
		v[i] = malloc(opaque(4000));
		CHECK(v[i] != NULL, "malloc(4000) after malloc_trim failed");
		memset(v[i], 4, 4000);
	}
	for (i = 0; i < 1024; i++) {
		CHECK(all_byte(v[i], 4000, 4), "block %zu changed after the trim", i);
		free(v[i]);
	}

	/* malloc_trim also gives back, as glibc's does, the pages inside free
	 * blocks that blocks in use keep apart from the top and from each
	 * other: 32 blocks of 64 KiB written, each followed by one kept, freed. */
	for (i = 0; i < NPURGE; i++) {
		v[i] = malloc(opaque(PURGE_SIZE));
		v[NPURGE + i] = malloc(opaque(600));
		CHECK(v[i] != NULL && v[NPURGE + i] != NULL, "malloc failed");
		memset(v[i], 5, PURGE_SIZE);
		memset(v[NPURGE + i], 6, 600);
	}
	for (i = 0; i < NPURGE; i++)
		free(v[i]);
	n = resident(v, NPURGE, PURGE_SIZE);
	CHECK(n >= NPURGE * (PURGE_SIZE / 4096 - 2), "only %zu pages of the freed blocks were resident", n);
	malloc_trim(0);
	n = resident(v, NPURGE, PURGE_SIZE);
	CHECK(n == 0, "%zu pages inside the freed blocks stayed resident after malloc_trim(0)", n);
	for (i = 0; i < NPURGE; i++) {
		CHECK(all_byte(v[NPURGE + i], 600, 6), "a block kept beside the freed ones changed");
		free(v[NPURGE + i]);
	}

	/* mallopt: what glibc's own tests set is honoured (1), the rest is not
	 * (0), and a threshold past glibc's bound (32 MiB) is refused. */
	CHECK(mallopt(M_ARENA_MAX, 4) == 1, "mallopt(M_ARENA_MAX, 4) did not return 1");
	CHECK(mallopt(M_ARENA_TEST, 2) == 1, "mallopt(M_ARENA_TEST, 2) did not return 1");
	CHECK(mallopt(M_TOP_PAD, 64 * 1024) == 1, "mallopt(M_TOP_PAD) did not return 1");
	CHECK(mallopt(M_TRIM_THRESHOLD, 256 * 1024) == 1, "mallopt(M_TRIM_THRESHOLD) did not return 1");
	/* Now a free top past 256 KiB goes back at free, but for the 64 KiB pad. */
	for (i = 0; i < 512; i++)
		CHECK((v[i] = malloc(opaque(4000))) != NULL, "malloc(4000) failed");
	for (i = 512; i-- > 0;)
		free(v[i]);
	m2 = mallinfo2();
	CHECK(m2.keepcost <= 256 * 1024, "with M_TRIM_THRESHOLD 256 KiB, %zu free bytes stay at the top", m2.keepcost);
	CHECK(mallopt(M_PERTURB, 0x55) == 0, "mallopt(M_PERTURB) is not honoured but returned 1");
	CHECK(mallopt(M_MMAP_THRESHOLD, 64 * MIB) == 0, "mallopt(M_MMAP_THRESHOLD, 64 MiB) was not refused");
	/* A 1 MiB threshold: 500 KB comes from the heap, 2 MB is mapped. */
	CHECK(mallopt(M_MMAP_THRESHOLD, 1024 * 1024) == 1, "mallopt(M_MMAP_THRESHOLD, 1 MiB) did not return 1");
	{
		size_t h0 = mallinfo2().hblks;
		char *a = malloc(opaque(500 * 1000)), *b = malloc(opaque(2 * MIB));

		CHECK(a && b, "malloc after M_MMAP_THRESHOLD failed");
		CHECK(mallinfo2().hblks == h0 + 1, "with a 1 MiB threshold, %zu mapped blocks, expected %zu",
		      mallinfo2().hblks, h0 + 1);
		free(a);
		free(b);
	}
	/* M_MMAP_MAX 0: no block is mapped, however large. */
	CHECK(mallopt(M_MMAP_MAX, 0) == 1, "mallopt(M_MMAP_MAX, 0) did not return 1");
	{
		size_t h0 = mallinfo2().hblks;
		char *a = malloc(opaque(4 * MIB));

		CHECK(a != NULL, "malloc(4 MiB) with M_MMAP_MAX 0 failed");
		memset(a, 7, 4 * MIB);
		CHECK(mallinfo2().hblks == h0, "with M_MMAP_MAX 0 a 4 MiB block was mapped");
		free(a);
	}

	/* malloc_stats: to stderr, naming osmem. stderr is redirected to a file
	 * for the call, so the scenario's own stderr stays empty. */
	{
		char path[] = "/tmp/osmem-stats-XXXXXX", buf[4096];
		int fd = mkstemp(path), saved = dup(2);
		ssize_t got;

		CHECK(fd >= 0 && saved >= 0, "mkstemp/dup failed: %s", strerror(errno));
		unlink(path);
		CHECK(dup2(fd, 2) == 2, "dup2 failed");
		malloc_stats();
		dup2(saved, 2);
		close(saved);
		got = pread(fd, buf, sizeof buf - 1, 0);
		close(fd);
		CHECK(got > 0, "malloc_stats wrote nothing to stderr");
		buf[got] = 0;
		CHECK(strstr(buf, "osmem") != NULL, "malloc_stats output does not name osmem: %s", buf);
	}
	return 0;
}
