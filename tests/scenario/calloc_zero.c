/* Scenario 6 (SPEC rules 25, 26): calloc and reallocarray overflow give NULL
 * with errno ENOMEM (and leave the old block of reallocarray alone); calloc
 * memory is zero even when the block is reused (malloc, fill with 0xAA, free,
 * calloc the same size), for heap and mapped sizes and after merges. */
#include "scenario.h"

static void expect_nomem(void *p, const char *what)
{
	CHECK(p == NULL, "%s returned %p, expected NULL", what, p);
	CHECK(errno == ENOMEM, "%s: errno %d, expected ENOMEM", what, errno);
}

int main(void)
{
	static const size_t sizes[] = { 1, 8, 15, 16, 24, 100, 1000, 1024, 4000, 4056, 4080, 4096,
					5000, 65536, 131000, 131040, 131072, 140000, 1 << 20 };
	size_t half = SIZE_MAX / 2 + 1, i, j;
	char *p, *q;

	require_osmem("calloc_zero");

	errno = 0; expect_nomem(calloc(opaque(half), 2), "calloc(SIZE_MAX/2+1, 2)");
	errno = 0; expect_nomem(calloc(2, opaque(half)), "calloc(2, SIZE_MAX/2+1)");
	errno = 0; expect_nomem(calloc(opaque(SIZE_MAX), opaque(SIZE_MAX)), "calloc(SIZE_MAX, SIZE_MAX)");
	errno = 0; expect_nomem(calloc(opaque((size_t)1 << 32), (size_t)1 << 32), "calloc(2^32, 2^32)");
	errno = 0; expect_nomem(calloc(opaque(SIZE_MAX), 1), "calloc(SIZE_MAX, 1)");
	errno = 0; expect_nomem(reallocarray(NULL, opaque(half), 2), "reallocarray(NULL, SIZE_MAX/2+1, 2)");
	errno = 0; expect_nomem(reallocarray(NULL, 3, opaque(SIZE_MAX / 3 + 1)), "reallocarray(NULL, 3, SIZE_MAX/3+1)");

	/* A failed reallocarray leaves the old block untouched and live. */
	p = malloc(opaque(300));
	CHECK(p != NULL, "malloc(300) failed");
	pat_fill(p, 300, 300);
	q = launder(p);   /* the same pointer, used after the failed call */
	errno = 0;
	expect_nomem(reallocarray(p, opaque(half), 2), "reallocarray(p, SIZE_MAX/2+1, 2)");
	p = q;
	CHECK(pat_ok(p, 300, 300), "failed reallocarray changed the old block");
	q = reallocarray(p, 100, opaque(10));
	CHECK(q != NULL && pat_ok(q, 300, 300), "reallocarray(p, 100, 10) failed or lost data");
	free(q);

	/* Reused blocks come back zeroed. */
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];

		p = malloc(opaque(n));
		CHECK(p != NULL, "malloc(%zu) failed", n);
		memset(p, 0xAA, malloc_usable_size(p));
		escape(p);
		free(launder(p));   /* p's address is still printed below */
		q = calloc(opaque(n), 1);
		CHECK(q != NULL, "calloc(%zu, 1) failed", n);
		CHECK(all_zero(q, n), "calloc(%zu, 1) at %p (the freed block was %p) is not zeroed", n,
		      (void *)q, (void *)p);
		memset(q, 0xAA, n);
		escape(q);
		free(q);
		if (n % 8 == 0) {
			q = calloc(opaque(n / 8), 8);
			CHECK(q != NULL && all_zero(q, n), "calloc(%zu, 8) is not zeroed", n / 8);
			free(q);
		}
	}

	/* Many dirty blocks freed (so they merge and split), then calloc of
	 * other sizes all over the same memory. */
	for (j = 0; j < 20; j++) {
		enum { N = 500 };
		char *v[N];
		size_t vn[N];
		uint64_t s = 99 + j;

		for (i = 0; i < N; i++) {
			v[i] = malloc(opaque(rng_next(&s) % 3000 + 1));
			CHECK(v[i] != NULL, "malloc failed");
			memset(v[i], 0xAA, malloc_usable_size(v[i]));
			escape(v[i]);
		}
		for (i = 0; i < N; i++)
			free(v[i]);
		for (i = 0; i < N; i++) {
			vn[i] = rng_next(&s) % 4000 + 1;
			v[i] = calloc(opaque(vn[i]), 1);
			CHECK(v[i] != NULL, "calloc(%zu) failed", vn[i]);
			CHECK(all_zero(v[i], vn[i]), "round %zu: calloc(%zu, 1) at %p is not zeroed", j,
			      vn[i], (void *)v[i]);
			memset(v[i], 0xAA, vn[i]);
		}
		for (i = 0; i < N; i++)
			free(v[i]);
	}
	return 0;
}
