/* With OSMEM_ABORT_ON_ERROR=0, damage to the heap that a call other than
 * malloc, free or realloc meets is reported in one line and the program
 * goes on, as it does when malloc or free meets it: the arena goes out of
 * service, the call returns (leaving that arena out), and later calls work
 * in another arena.
 *
 *   recover MODE   (osmem only, run with OSMEM_ABORT_ON_ERROR=0)
 *
 * The damage: the links in the header of a free heap block f, as an
 * overflow from the live block before it would write them. The block g
 * right after f is then freed: a thread's free of a block of its own arena
 * waits in the thread until it next locks that arena, and the lock's first
 * work is to give g back, which merges it with f and meets the links. The
 * call that takes the lock first:
 *   mallinfo  mallinfo2();
 *   stats     malloc_stats();
 *   trim      malloc_trim(0);
 *   usable    malloc_usable_size() of a live block whose header is damaged
 *             too (it locks the arena to look again);
 *   exit      a thread's exit, in its own arena: its deferred frees go back
 *             as it exits (the report names its last call, free), and the
 *             arena, out of service, is then left alone, not trimmed.
 * Then each of those calls once more (the arena is out of service now),
 * and thousands of blocks allocated, written, checked and freed: none
 * handed out twice, and the live blocks (in the arena out of service)
 * keep their contents. The first line of stdout is f; the bats test checks
 * the report line that names it. */
#include "scenario.h"

#include <malloc.h>
#include <pthread.h>

#include "../../include/block_meta.h"

#define HDR sizeof(struct block_meta)
/* Above the thread cache's sizes in a process with threads (4 KiB), below
 * the largest free a thread defers (64 KiB). */
#define BIG 6000
#define NKEEP 4

static char *keep[NKEEP];
static const size_t keep_n[NKEEP] = { 64, 600, BIG, BIG };

static struct block_meta *hdr(void *p)
{
	return (struct block_meta *)((char *)p - HDR);
}

static void *must(void *p, size_t n)
{
	CHECK(p != NULL, "malloc(%zu) failed", n);
	return p;
}

/* Live blocks, checked at the end. */
static void hold(void)
{
	for (unsigned i = 0; i < NKEEP; i++) {
		keep[i] = must(malloc(opaque(keep_n[i])), keep_n[i]);
		pat_fill(keep[i], keep_n[i], 1000 + i);
	}
}

/* f free in the index with its links damaged, g after it waiting in the
 * calling thread for its next lock of its arena. */
static void damage(void)
{
	static char elsewhere[64];
	char *f = must(malloc(opaque(BIG)), BIG), *g = must(malloc(opaque(BIG)), BIG);
	char *h = must(malloc(opaque(BIG)), BIG);   /* g is not the last block */
	struct block_meta *fh = hdr(launder(f));

	printf("%p\n", (void *)f);
	fflush(stdout);
	pat_fill(h, BIG, 7);
	free(f);
	/* A malloc the thread's cache cannot serve locks the arena, which
	 * gives f back first; the block it takes is not deferred when freed. */
	free(launder(must(malloc(opaque(100000)), 100000)));
	free(g);
	fh->prev = (struct block_meta *)elsewhere;
	fh->next = (struct block_meta *)elsewhere;
}

static void *in_thread(void *arg)
{
	(void)arg;
	hold();
	damage();
	return NULL;
}

static void still_works(void)
{
	enum { N = 400 };
	static char *blk[N];
	static size_t bn[N];
	uint64_t rng = 0x5eed;

	for (unsigned round = 0; round < 8; round++) {
		for (unsigned j = 0; j < N; j++) {
			bn[j] = 16 + rng_next(&rng) % 9000;
			blk[j] = must(malloc(opaque(bn[j])), bn[j]);
			pat_fill(blk[j], bn[j], round * N + j);
		}
		for (unsigned j = 0; j < N; j++)
			CHECK(pat_ok(blk[j], bn[j], round * N + j),
			      "block %p (%zu bytes) was overwritten: memory handed out twice?", (void *)blk[j], bn[j]);
		for (unsigned j = 0; j < N; j++)
			free(blk[j]);
	}
	for (unsigned i = 0; i < NKEEP; i++)
		CHECK(pat_ok(keep[i], keep_n[i], 1000 + i),
		      "the live block %p changed", (void *)keep[i]);
	puts("continued");
}

/* Each call that locks an arena outside malloc and free, on an arena out of
 * service too. */
static void every_call(void)
{
	char *p = must(malloc(opaque(BIG)), BIG);   /* in another arena */
	struct mallinfo2 m = mallinfo2();

	CHECK(m.uordblks >= BIG, "mallinfo2 counts %zu bytes in use, not the %d of a live block", m.uordblks, BIG);
	free(p);
	malloc_stats();
	malloc_trim(0);
	CHECK(malloc_usable_size(keep[1]) >= keep_n[1], "malloc_usable_size of a live block is too small");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	pthread_t t;

	require_osmem("recover");
	/* Threads: a free of a block of the thread's own arena waits for its
	 * next lock. */
	free_elsewhere_done(free_elsewhere(launder(must(malloc(opaque(16)), 16))));

	if (strcmp(mode, "exit") == 0) {
		CHECK(pthread_create(&t, NULL, in_thread, NULL) == 0, "pthread_create failed");
		pthread_join(t, NULL);
	} else {
		hold();
		damage();
		if (strcmp(mode, "mallinfo") == 0) {
			struct mallinfo2 m = mallinfo2();
			(void)m;
		} else if (strcmp(mode, "stats") == 0) {
			malloc_stats();
		} else if (strcmp(mode, "trim") == 0) {
			malloc_trim(0);
		} else if (strcmp(mode, "usable") == 0) {
			hdr(keep[2])->status = 7;   /* the unlocked look fails: it locks and looks again */
			CHECK(malloc_usable_size(keep[2]) == 0, "malloc_usable_size of a damaged block is not 0");
		} else {
			FAIL("unknown mode '%s' (mallinfo, stats, trim, usable, exit)", mode);
		}
	}
	every_call();
	still_works();
	return 0;
}
