/* Scenario 4 (SPEC rule 27): aligned_alloc, memalign, valloc and pvalloc give
 * pointers aligned as promised that free, realloc and malloc_usable_size
 * accept; pvalloc rounds the size up to whole pages (usable size >= that);
 * memalign rounds a non-power-of-two alignment up to the next power of two;
 * aligned_alloc with a non-power-of-two alignment returns NULL with EINVAL.
 * Alignments too large (glibc's tst-memalign: memalign(SIZE_MAX, page)): above
 * the largest power of two, EINVAL from memalign and aligned_alloc; that power
 * itself, 2^63, cannot be served: ENOMEM. glibc 2.36 answers the same. */
#include "scenario.h"

static void expect_fail(void *p, int want, const char *what, size_t align, size_t n)
{
	CHECK(p == NULL && errno == want, "%s(%#zx, %zu) gave %p with errno %d, expected NULL with %s",
	      what, align, n, p, errno, want == EINVAL ? "EINVAL" : "ENOMEM");
}

static void too_large(void)
{
	static const size_t einval[] = { SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2 + 2, SIZE_MAX - 4095 };
	static const size_t enomem[] = { SIZE_MAX / 2 + 1, SIZE_MAX / 2, (size_t)1 << 62, (size_t)1 << 40 };
	size_t page = (size_t)getpagesize(), i;
	void *p;

	for (i = 0; i < sizeof einval / sizeof einval[0]; i++) {
		size_t a = opaque(einval[i]);
		errno = 0;
		expect_fail(memalign(a, page), EINVAL, "memalign", a, page);
		errno = 0;
		expect_fail(memalign(a, 0), EINVAL, "memalign", a, 0);
		errno = 0;
		expect_fail(aligned_alloc(a, page), EINVAL, "aligned_alloc", a, page);
		p = &p;
		CHECK(posix_memalign(&p, a, page) == EINVAL && p == &p, "posix_memalign(%#zx)", a);
	}
	for (i = 0; i < sizeof enomem / sizeof enomem[0]; i++) {
		size_t a = opaque(enomem[i]);
		errno = 0;
		expect_fail(memalign(a, 1), ENOMEM, "memalign", a, 1);
		if (a & (a - 1))
			continue;   /* SIZE_MAX / 2: not a power of two, which aligned_alloc refuses */
		errno = 0;
		expect_fail(aligned_alloc(a, 1), ENOMEM, "aligned_alloc", a, 1);
		p = &p;
		CHECK(posix_memalign(&p, a, 1) == ENOMEM && p == &p, "posix_memalign(%#zx)", a);
	}
}

static void use(void *p, size_t n, size_t align, size_t need, const char *what)
{
	char *q;
	uint64_t seed = n ^ align;

	CHECK(p != NULL, "%s(align %zu, size %zu) returned NULL (errno %d)", what, align, n, errno);
	CHECK(aligned_to(p, align), "%s(align %zu, size %zu) returned %p", what, align, n, p);
	CHECK(aligned_to(p, 16), "%s(align %zu, size %zu) returned %p: not 16-aligned", what, align, n, p);
	CHECK(malloc_usable_size(p) >= need, "%s(align %zu, size %zu): malloc_usable_size %zu < %zu",
	      what, align, n, malloc_usable_size(p), need);
	/* All of the usable size may be used. */
	memset(p, 0x5c, malloc_usable_size(p));
	pat_fill(p, n, seed);

	/* Shrink, then grow past the mmap threshold, then back: contents follow. */
	if (n > 8) {
		q = realloc(p, n / 2);
		CHECK(q != NULL, "%s(%zu, %zu): realloc to %zu failed", what, align, n, n / 2);
		CHECK(pat_ok(q, n / 2, seed), "%s(%zu, %zu): realloc shrink lost data", what, align, n);
		p = q;
		n /= 2;
	}
	q = realloc(p, n + 300000);
	CHECK(q != NULL, "%s(%zu, %zu): realloc to %zu failed", what, align, n, n + 300000);
	CHECK(aligned_to(q, 16), "%s(%zu, %zu): realloc gave %p", what, align, n, (void *)q);
	CHECK(pat_ok(q, n, seed), "%s(%zu, %zu): realloc grow lost data", what, align, n);
	CHECK(malloc_usable_size(q) >= n + 300000, "%s: usable size after realloc", what);
	q[n + 300000 - 1] = 1;
	p = realloc(q, n + 10);
	CHECK(p != NULL, "%s(%zu, %zu): realloc back to %zu failed", what, align, n, n + 10);
	CHECK(pat_ok(p, n, seed), "%s(%zu, %zu): realloc back lost data", what, align, n);
	free(p);
}

int main(void)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 100, 1000, 4095, 4096, 4097, 10000,
					131000, 131072, 150000, 1 << 20 };
	size_t page = (size_t)getpagesize(), i, a;
	void *p;

	require_osmem("memalign_family");
	too_large();

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];

		for (a = 1; a <= ((size_t)1 << 16); a <<= 1) {
			use(aligned_alloc(a, opaque(n)), n, a, n, "aligned_alloc");
			use(memalign(a, opaque(n)), n, a, n, "memalign");
		}
		use(aligned_alloc((size_t)1 << 20, opaque(n)), n, (size_t)1 << 20, n, "aligned_alloc");
		use(valloc(opaque(n)), n, page, n, "valloc");
		use(pvalloc(opaque(n)), n, page, (n + page - 1) / page * page, "pvalloc");

		/* memalign rounds a non-power-of-two alignment up. */
		use(memalign(24, opaque(n)), n, 32, n, "memalign(24)");
		use(memalign(100, opaque(n)), n, 128, n, "memalign(100)");
		use(memalign(3, opaque(n)), n, 4, n, "memalign(3)");
		use(memalign(5000, opaque(n)), n, 8192, n, "memalign(5000)");
		use(memalign(0, opaque(n)), n, 16, n, "memalign(0)");

		/* aligned_alloc refuses them. */
		errno = 0;
		p = aligned_alloc(24, opaque(n));
		CHECK(p == NULL && errno == EINVAL, "aligned_alloc(24, %zu) gave %p errno %d, expected NULL/EINVAL",
		      n, p, errno);
		errno = 0;
		p = aligned_alloc(3, opaque(n));
		CHECK(p == NULL && errno == EINVAL, "aligned_alloc(3, %zu) gave %p errno %d, expected NULL/EINVAL",
		      n, p, errno);
	}

	/* pvalloc: exact page multiples stay, anything else rounds up. */
	for (i = 1; i <= 3; i++) {
		size_t n = i * page;
		p = pvalloc(opaque(n - 1));
		CHECK(p && malloc_usable_size(p) >= n, "pvalloc(%zu): usable %zu < %zu", n - 1,
		      p ? malloc_usable_size(p) : 0, n);
		memset(p, 1, n);
		free(p);
		p = pvalloc(opaque(n + 1));
		CHECK(p && malloc_usable_size(p) >= n + page, "pvalloc(%zu): usable %zu < %zu", n + 1,
		      p ? malloc_usable_size(p) : 0, n + page);
		memset(p, 1, n + page);
		free(p);
	}
	p = pvalloc(opaque(0));
	CHECK(p != NULL && aligned_to(p, page), "pvalloc(0) gave %p", p);
	free(p);

	/* Many live aligned blocks at once, then freed in another order. */
	{
		enum { N = 600 };
		static void *v[N];
		static size_t vn[N];
		for (i = 0; i < N; i++) {
			size_t al = (size_t)32 << (i % 8);
			vn[i] = (i * 37) % 5000 + 1;
			v[i] = i % 3 ? memalign(al, vn[i]) : aligned_alloc(al, vn[i]);
			CHECK(v[i] && aligned_to(v[i], al), "block %zu (align %zu) = %p", i, al, v[i]);
			pat_fill(v[i], vn[i], i);
		}
		for (i = 0; i < N; i += 2) {
			CHECK(pat_ok(v[i], vn[i], i), "aligned block %zu overwritten", i);
			free(v[i]);
		}
		for (i = 1; i < N; i += 2) {
			CHECK(pat_ok(v[i], vn[i], i), "aligned block %zu overwritten", i);
			v[i] = realloc(v[i], vn[i] * 3);
			CHECK(v[i] && pat_ok(v[i], vn[i], i), "realloc of aligned block %zu", i);
			free(v[i]);
		}
	}
	return 0;
}
