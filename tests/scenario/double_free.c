/* Scenario 10 (SPEC rule 29): a double free is reported in exactly one line
 *   osmem: free(0x...): double free (the block is already free)
 * and the process aborts (SIGABRT); with OSMEM_ABORT_ON_ERROR=0 the same line
 * is a warning, the heap stays intact and the program goes on.
 *
 * Usage: double_free [small|merged|realloc]
 *   small   malloc(64), free, free
 *   merged  two 4000-byte neighbours freed (so they merge: too big for a small-block
 *           cache), the second one freed again
 *   realloc malloc, free, then realloc of the freed pointer (the line names realloc)
 *   slab    malloc(64) freed, then 40 more blocks of its size (more than the
 *           thread's cache keeps: a full class gives its oldest back to their
 *           slab, this one among them), then freed again
 *   thread  malloc(64) freed by another thread (into that thread's cache, which
 *           lives on after it: the thread is still running), then freed here
 *   deferred once the process has threads: a 5000-byte block freed (too big
 *           for the cache, so it waits for the thread's next lock of its
 *           arena), which the next malloc of its size takes back; freed
 *           again while it waits the second time, then again
 *   drained once the process has threads and this thread its arena:
 *           malloc(64) freed by another thread onto this arena's remote
 *           list, taken from there into this thread's cache by a malloc
 *           that enters the arena, then freed here
 *   bigcached once the process has threads: a 3000-byte block freed into the
 *           cache's class of 2817-3072 bytes, not handed out for 3060 bytes
 *           (more than it holds), handed out for 2900; freed, then again
 * The pointer is printed on stdout first (one line, "%p"), so the test can
 * match the exact address in the report. */
#include "scenario.h"

#include <pthread.h>

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "small";
	const char *e = getenv("OSMEM_ABORT_ON_ERROR");
	int warn_only = e && strcmp(e, "0") == 0;
	char *live[64];
	char *p, *q, *r;
	size_t i;

	require_osmem("double_free");

	/* Live blocks around the victim, checked at the end. */
	for (i = 0; i < 32; i++) {
		live[i] = malloc(opaque(48 + i * 16));
		CHECK(live[i] != NULL, "malloc failed");
		pat_fill(live[i], 48 + i * 16, i);
	}
	/* 4000 bytes: beyond any small-block cache, so free really releases them. */
	p = malloc(opaque(strcmp(mode, "merged") == 0 ? 4000 : 64));
	q = malloc(opaque(strcmp(mode, "merged") == 0 ? 4000 : 64));
	CHECK(p && q, "malloc failed");
	for (i = 32; i < 64; i++) {
		live[i] = malloc(opaque(48 + i * 16));
		CHECK(live[i] != NULL, "malloc failed");
		pat_fill(live[i], 48 + i * 16, i);
	}
	memset(p, 0x11, 64);
	memset(q, 0x22, 64);

	if (strcmp(mode, "small") == 0) {
		printf("%p\n", (void *)p);
		fflush(stdout);
		r = launder(p);            /* p again, hidden from the compiler's use-after-free analysis */
		free(p);
		free(r);                   /* the double free */
		free(q);
	} else if (strcmp(mode, "merged") == 0) {
		printf("%p\n", (void *)q);
		fflush(stdout);
		r = launder(q);
		free(p);
		free(q);                   /* q (right after p, as a rule) merges into p's free block */
		free(r);                   /* the double free */
	} else if (strcmp(mode, "realloc") == 0) {
		printf("%p\n", (void *)p);
		fflush(stdout);
		r = launder(p);
		free(p);
		r = realloc(r, opaque(100));
		if (r) {                   /* (warning mode) whatever it is, it must be usable */
			memset(r, 0x33, 100);
			free(r);
		}
		free(q);
	} else if (strcmp(mode, "slab") == 0) {
		char *fill[40];
		for (i = 0; i < 40; i++)
			CHECK((fill[i] = malloc(opaque(64))) != NULL, "malloc failed");
		printf("%p\n", (void *)p);
		fflush(stdout);
		r = launder(p);
		free(p);
		/* More than any cache keeps of one size: a full class gives its
		 * oldest back to their slabs, p first. */
		for (i = 0; i < 40; i++)
			free(fill[i]);
		free(r);
		free(q);
	} else if (strcmp(mode, "thread") == 0) {
		pthread_t t;
		printf("%p\n", (void *)p);
		fflush(stdout);
		r = launder(p);
		t = free_elsewhere(p);
		free(r);                   /* the double free */
		free_elsewhere_done(t);
		free(q);
	} else if (strcmp(mode, "drained") == 0) {
		pthread_t t;

		free_elsewhere_done(free_elsewhere(malloc(opaque(16))));   /* threads now */
		free(launder(malloc(opaque(8000))));   /* this thread bound to its arena */
		printf("%p\n", (void *)p);
		fflush(stdout);
		r = launder(p);
		t = free_elsewhere_send(p, 1);       /* onto the remote list */
		free(launder(malloc(opaque(8000))));   /* enters the arena: p into the cache */
		free(r);                   /* the double free */
		free_elsewhere_done(t);
		free(q);
	} else if (strcmp(mode, "deferred") == 0 || strcmp(mode, "bigcached") == 0) {
		int cached = strcmp(mode, "bigcached") == 0;
		size_t n = cached ? 3000 : 5000, m = cached ? 2900 : 5000;
		char *big = malloc(opaque(n)), *again, *more = NULL;

		CHECK(big != NULL, "malloc failed");
		free_elsewhere_done(free_elsewhere(malloc(opaque(16))));   /* the process has threads now */
		free(big);
		if (cached) {
			more = malloc(opaque(3060));
			CHECK(more && more != big, "malloc(3060) gave %p, freed with %zu bytes", (void *)more, n);
		}
		again = malloc(opaque(m));
		CHECK(again == big, "malloc(%zu) after free of %p gave %p: the freed block was not taken back", m,
		      (void *)big, (void *)again);
		CHECK(malloc_usable_size(again) >= n, "the block taken back holds %zu bytes, not %zu",
		      malloc_usable_size(again), n);
		free(more);
		printf("%p\n", (void *)again);
		fflush(stdout);
		r = launder(again);
		free(again);               /* waits for the next lock */
		free(r);                   /* the double free */
		free(p);
		free(q);
	} else {
		FAIL("unknown mode %s", mode);
	}

	if (!warn_only)
		FAIL("the misuse (%s) did not abort the process", mode);

	/* Warning mode: the heap is intact and works. */
	for (i = 0; i < 64; i++)
		CHECK(pat_ok(live[i], 48 + i * 16, i), "live block %zu changed after the misuse", i);
	for (i = 0; i < 64; i += 2)
		free(live[i]);
	for (i = 0; i < 5000; i++) {
		char *a = malloc(opaque(i % 700 + 1)), *b = malloc(opaque(64));
		CHECK(a && b, "malloc failed after the misuse");
		/* The doubly freed block must not be handed out twice. */
		CHECK(a != b, "malloc returned %p twice", (void *)a);
		memset(a, 1, i % 700 + 1);
		memset(b, 2, 64);
		CHECK(all_byte(a, i % 700 + 1, 1), "block %p overlaps a newer one", (void *)a);
		free(a);
		free(b);
	}
	/* Many blocks live at once, of the victims' sizes and others: no memory
	 * may be handed out twice (a corrupted free index would do that). */
	{
		enum { M = 400 };
		static char *m[M];
		static size_t mn[M];
		size_t j;

		for (j = 0; j < M; j++) {
			mn[j] = j % 2 ? 4000 : 64 + (j * 40) % 6000;
			m[j] = malloc(opaque(mn[j]));
			CHECK(m[j] != NULL, "malloc(%zu) failed after the misuse", mn[j]);
			pat_fill(m[j], mn[j], 7000 + j);
		}
		for (j = 0; j < M; j++) {
			CHECK(pat_ok(m[j], mn[j], 7000 + j),
			      "block %p (%zu bytes) allocated after the misuse was overwritten: memory handed out twice?",
			      (void *)m[j], mn[j]);
			for (i = 1; i < 64; i += 2)
				CHECK(m[j] + mn[j] <= live[i] || m[j] >= live[i] + 48 + i * 16,
				      "new block %p overlaps the live block %p", (void *)m[j], (void *)live[i]);
		}
		for (j = 0; j < M; j++)
			free(m[j]);
	}
	for (i = 1; i < 64; i += 2) {
		CHECK(pat_ok(live[i], 48 + i * 16, i), "live block %zu changed after the misuse", i);
		free(live[i]);
	}
	puts("continued");
	return 0;
}
