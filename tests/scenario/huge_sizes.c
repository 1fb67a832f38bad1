/* Scenario 7 (SPEC rule 26): sizes that cannot be served give NULL with
 * errno ENOMEM from every allocation function, and the process goes on: no
 * exit, no abort, the heap intact. */
#include "scenario.h"

static void expect_nomem(void *p, const char *what, size_t n)
{
	CHECK(p == NULL, "%s(%zu) returned %p, expected NULL", what, n, p);
	CHECK(errno == ENOMEM, "%s(%zu): errno %d (%s), expected ENOMEM", what, n, errno, strerror(errno));
}

int main(void)
{
	static const size_t huge[] = { SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 16, SIZE_MAX - 4096,
				       SIZE_MAX / 2, SIZE_MAX / 2 + 1, (size_t)PTRDIFF_MAX,
				       (size_t)PTRDIFF_MAX + 1, (size_t)PTRDIFF_MAX - 4096,
				       (size_t)1 << 62, (size_t)1 << 48, (size_t)1 << 47 };
	size_t i, page = (size_t)getpagesize();
	char *keep = malloc(1000);

	require_osmem("huge_sizes");
	CHECK(keep != NULL, "malloc(1000) failed");
	pat_fill(keep, 1000, 1000);

	for (i = 0; i < sizeof huge / sizeof huge[0]; i++) {
		size_t n = huge[i];
		errno = 0; expect_nomem(malloc(opaque(n)), "malloc", n);
		errno = 0; expect_nomem(calloc(opaque(n), 1), "calloc(n, 1)", n);
		errno = 0; expect_nomem(calloc(1, opaque(n)), "calloc(1, n)", n);
		errno = 0; expect_nomem(realloc(NULL, opaque(n)), "realloc(NULL, n)", n);
		errno = 0; expect_nomem(reallocarray(NULL, opaque(n), 1), "reallocarray(NULL, n, 1)", n);
		errno = 0; expect_nomem(memalign(64, opaque(n)), "memalign(64, n)", n);
		errno = 0; expect_nomem(aligned_alloc(page, opaque(n)), "aligned_alloc(page, n)", n);
		errno = 0; expect_nomem(valloc(opaque(n)), "valloc", n);
		errno = 0; expect_nomem(pvalloc(opaque(n)), "pvalloc", n);
	}
	/* The heap is intact and still serves. */
	CHECK(pat_ok(keep, 1000, 1000), "a live block changed");
	for (i = 0; i < 2000; i++) {
		void *p = malloc(opaque(i * 3 + 1));
		CHECK(p != NULL, "malloc(%zu) failed after the huge requests", i * 3 + 1);
		memset(p, 1, i * 3 + 1);
		free(p);
	}
	free(keep);
	return 0;
}
