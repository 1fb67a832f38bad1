/* Scenario 8 (SPEC rules 22, 26): a realloc that cannot be served returns
 * NULL with errno ENOMEM and leaves the old block untouched: same contents,
 * same usable size, still live (free, realloc and malloc_usable_size accept
 * it). Tried on small heap blocks, mapped blocks, over-aligned blocks and a
 * malloc(0) block, with sizes the library refuses at once and sizes mmap
 * refuses. */
#include "scenario.h"

static void try_fail(char *p, size_t n, uint64_t seed, size_t bad)
{
	size_t u = malloc_usable_size(p);
	void *q;

	char *same = launder(p);   /* p, used after the failed calls */

	errno = 0;
	q = realloc(p, opaque(bad));
	p = same;
	CHECK(q == NULL, "realloc(%zu-byte block, %zu) returned %p", n, bad, q);
	CHECK(errno == ENOMEM, "realloc(%zu-byte block, %zu): errno %d, expected ENOMEM", n, bad, errno);
	CHECK(malloc_usable_size(p) == u, "failed realloc(%zu-byte block, %zu) changed the usable size %zu -> %zu",
	      n, bad, u, malloc_usable_size(p));
	CHECK(pat_ok(p, u, seed), "failed realloc(%zu-byte block, %zu) changed its contents", n, bad);
	errno = 0;
	q = reallocarray(same, opaque(bad), 1);
	CHECK(q == NULL && errno == ENOMEM, "reallocarray(%zu-byte block, %zu, 1) gave %p errno %d", n, bad, q, errno);
	CHECK(pat_ok(p, u, seed), "failed reallocarray(%zu-byte block, %zu) changed its contents", n, bad);
}

int main(void)
{
	static const size_t bad[] = { SIZE_MAX, SIZE_MAX - 16, (size_t)PTRDIFF_MAX, SIZE_MAX / 2,
				      (size_t)1 << 47, (size_t)1 << 46 };
	static const size_t sizes[] = { 0, 1, 100, 1000, 4000, 100000, 131000, 131072, 200000, 1 << 20 };
	char *v[sizeof sizes / sizeof sizes[0] * 2];
	size_t i, j, k = 0;

	require_osmem("realloc_fail");

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		for (j = 0; j < 2; j++, k++) {
			size_t n = sizes[i];
			char *p = j ? memalign(256, opaque(n)) : malloc(opaque(n));
			size_t b;

			CHECK(p != NULL, "allocation of %zu failed", n);
			v[k] = p;
			/* A neighbour after it, so a heap block cannot simply grow. */
			pat_fill(p, malloc_usable_size(p), k);
			for (b = 0; b < sizeof bad / sizeof bad[0]; b++)
				try_fail(p, n, k, bad[b]);
		}
	}
	/* Still live: grow them for real, check, free. */
	for (k = 0; k < sizeof v / sizeof v[0]; k++) {
		size_t u = malloc_usable_size(v[k]);
		char *q;

		CHECK(pat_ok(v[k], u, k), "block %zu changed later", k);
		q = realloc(v[k], u + 50000);
		CHECK(q != NULL, "realloc(%zu -> %zu) failed", u, u + 50000);
		CHECK(pat_ok(q, u, k), "block %zu lost its contents in a real realloc", k);
		memset(q + u, 3, 50000);
		free(q);
	}
	return 0;
}
