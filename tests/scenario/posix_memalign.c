/* Scenario 3 (SPEC rule 27): posix_memalign returns EINVAL for an alignment
 * that is not a power of two multiple of sizeof(void *) (0, 3, 4, 24, ...),
 * leaving errno alone, and ENOMEM when the size cannot be served (SIZE_MAX/2),
 * setting errno to ENOMEM too, as glibc's does; it leaves *memptr alone on
 * failure, and otherwise gives a pointer aligned as asked, writable over its
 * whole size, with malloc_usable_size >= size, that realloc and free accept. */
#include "scenario.h"

#define SENTINEL ((void *)0x5eed5eedUL)

static void expect_fail(size_t align, size_t n, int want)
{
	void *p = SENTINEL;
	int r, e;

	errno = EDOM;
	r = posix_memalign_opaque(&p, align, n);
	e = errno;
	CHECK(r == want, "posix_memalign(align %zu, size %zu) returned %d, expected %d (%s)",
	      align, n, r, want, want == EINVAL ? "EINVAL" : "ENOMEM");
	/* As glibc: ENOMEM sets errno as well, EINVAL leaves it. */
	CHECK(e == (want == ENOMEM ? ENOMEM : EDOM), "posix_memalign(align %zu, size %zu) returned %d and "
	      "left errno at %d", align, n, r, e);
	CHECK(p == SENTINEL, "posix_memalign(align %zu, size %zu) failed but changed *memptr to %p",
	      align, n, p);
}

int main(void)
{
	static const size_t bad[] = { 0, 1, 2, 3, 4, 5, 6, 7, 12, 24, 48, 96, 100, 4095, 4097,
				      (size_t)3 << 20, SIZE_MAX };
	static const size_t good[] = { 8, 16, 32, 64, 128, 256, 4096, 8192, 65536, 1 << 20 };
	static const size_t sizes[] = { 0, 1, 7, 16, 100, 1000, 4000, 4096, 40000, 131000,
					131072, 200000, 1 << 20 };
	void *keep[sizeof good / sizeof good[0] * sizeof sizes / sizeof sizes[0]];
	size_t nkeep = 0, i, j;

	require_osmem("posix_memalign");
	CHECK(sizeof(void *) == 8, "this scenario assumes a 64-bit target");

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		expect_fail(bad[i], 100, EINVAL);
		expect_fail(bad[i], 0, EINVAL);
	}
	/* EINVAL wins over a size that cannot be served. */
	expect_fail(24, SIZE_MAX / 2, EINVAL);

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		expect_fail(good[i], SIZE_MAX / 2, ENOMEM);
		expect_fail(good[i], SIZE_MAX, ENOMEM);
		expect_fail(good[i], SIZE_MAX - good[i], ENOMEM);
		expect_fail(good[i], (size_t)PTRDIFF_MAX, ENOMEM);
	}
	/* An alignment that is itself too big to serve. */
	expect_fail((size_t)1 << 62, 16, ENOMEM);

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		for (j = 0; j < sizeof sizes / sizeof sizes[0]; j++) {
			size_t a = good[i], n = sizes[j];
			void *p = SENTINEL;
			int r = posix_memalign(&p, a, opaque(n));

			CHECK(r == 0, "posix_memalign(align %zu, size %zu) returned %d", a, n, r);
			CHECK(p != SENTINEL && p != NULL, "posix_memalign(%zu, %zu) succeeded with %p", a, n, p);
			CHECK(aligned_to(p, a), "posix_memalign(align %zu, size %zu) gave %p", a, n, p);
			CHECK(malloc_usable_size(p) >= n, "posix_memalign(%zu, %zu): usable size %zu", a, n,
			      malloc_usable_size(p));
			pat_fill(p, n, a * 1000 + n);
			if (j % 2) {
				keep[nkeep++] = p;   /* freed later, after its neighbours */
				continue;
			}
			CHECK(pat_ok(p, n, a * 1000 + n), "posix_memalign(%zu, %zu): contents changed", a, n);
			free(p);
		}
	}
	/* The kept ones: contents intact, realloc keeps them, free accepts. */
	nkeep = 0;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		for (j = 1; j < sizeof sizes / sizeof sizes[0]; j += 2) {
			size_t a = good[i], n = sizes[j];
			char *p = keep[nkeep++], *q;

			CHECK(pat_ok(p, n, a * 1000 + n), "posix_memalign(%zu, %zu) block %p was overwritten",
			      a, n, (void *)p);
			q = realloc(p, n + 5000);
			CHECK(q != NULL, "realloc of a posix_memalign(%zu, %zu) block failed", a, n);
			CHECK(aligned_to(q, 16), "realloc gave %p", (void *)q);
			CHECK(pat_ok(q, n, a * 1000 + n), "realloc of posix_memalign(%zu, %zu) lost its contents",
			      a, n);
			memset(q + n, 0x77, 5000);
			free(q);
		}
	}
	/* The heap still works. */
	for (i = 0; i < 1000; i++) {
		void *p = malloc(opaque(i + 1));
		CHECK(p != NULL, "malloc(%zu) failed at the end", i + 1);
		free(p);
	}
	return 0;
}
