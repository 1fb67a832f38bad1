/* Scenario 1 (SPEC rule 25): malloc(0), calloc(0, n), calloc(n, 0) and
 * realloc(NULL, 0) return unique, non-NULL, 16-aligned, freeable pointers;
 * the usable bytes behind them do not overlap; realloc(p, 0) frees p and
 * returns NULL. */
#include "scenario.h"

#define N 20000

struct span { char *p; size_t n; };

static int by_addr(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->p < y->p ? -1 : x->p > y->p;
}

int main(void)
{
	static struct span s[N];
	size_t i;

	require_osmem("malloc_zero");

	for (i = 0; i < N; i++) {
		void *p;
		switch (i % 4) {
		case 0: p = malloc(opaque(0)); break;
		case 1: p = calloc(opaque(0), 16); break;
		case 2: p = calloc(16, opaque(0)); break;
		default: p = realloc(NULL, opaque(0)); break;
		}
		CHECK(p != NULL, "zero-size allocation #%zu (kind %zu) returned NULL", i, i % 4);
		CHECK(aligned_to(p, 16), "zero-size allocation %p is not 16-aligned", p);
		s[i].p = p;
		s[i].n = malloc_usable_size(p);
		/* The usable bytes, if any, are the program's: write them all. */
		memset(p, (int)(i & 0xff), s[i].n);
	}

	qsort(s, N, sizeof s[0], by_addr);
	for (i = 1; i < N; i++) {
		CHECK(s[i].p != s[i - 1].p, "malloc(0) returned %p twice", (void *)s[i].p);
		CHECK(s[i - 1].p + s[i - 1].n <= s[i].p,
		      "usable bytes of %p (%zu) overlap the next zero-size block %p",
		      (void *)s[i - 1].p, s[i - 1].n, (void *)s[i].p);
	}

	/* Free every other one, allocate again: still unique among the live ones. */
	for (i = 0; i < N; i += 2)
		free(s[i].p);
	for (i = 0; i < N; i += 2) {
		s[i].p = malloc(opaque(0));
		CHECK(s[i].p != NULL, "malloc(0) after frees returned NULL");
		s[i].n = malloc_usable_size(s[i].p);
	}
	qsort(s, N, sizeof s[0], by_addr);
	for (i = 1; i < N; i++)
		CHECK(s[i].p != s[i - 1].p, "malloc(0) after frees returned the live pointer %p again",
		      (void *)s[i].p);
	for (i = 0; i < N; i++)
		free(s[i].p);

	/* realloc(p, 0) frees p and returns NULL (as glibc does). */
	for (i = 0; i < 1000; i++) {
		void *p = malloc(opaque(i * 8 + 1));
		CHECK(p != NULL, "malloc(%zu) failed", i * 8 + 1);
		errno = 0;
		CHECK(realloc(p, opaque(0)) == NULL, "realloc(p, 0) did not return NULL");
	}
	/* ... also for a mapped block and for a malloc(0) block. */
	{
		void *p = malloc(opaque(1 << 20));
		CHECK(p != NULL, "malloc(1 MiB) failed");
		CHECK(realloc(p, opaque(0)) == NULL, "realloc(1 MiB block, 0) did not return NULL");
		p = malloc(opaque(0));
		CHECK(p != NULL, "malloc(0) failed");
		CHECK(realloc(p, opaque(0)) == NULL, "realloc(malloc(0), 0) did not return NULL");
	}
	/* A malloc(0) block can be grown by realloc. */
	{
		char *p = malloc(opaque(0)), *q;
		CHECK(p != NULL, "malloc(0) failed");
		q = realloc(p, 100);
		CHECK(q != NULL, "realloc(malloc(0), 100) failed");
		memset(q, 1, 100);
		free(q);
	}
	return 0;
}
