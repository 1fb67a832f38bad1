/* Scenario 9 (SPEC rule 29): free preserves errno, whatever it frees: NULL, a
 * heap block (merging with free neighbours or not), a mapped block, an
 * over-aligned block, and realloc(p, 0). */
#include "scenario.h"

#define CHECK_ERRNO(what)                                                              \
	CHECK(errno == EDOM, "errno changed by %s: %d (%s), was EDOM", what, errno, strerror(errno))

int main(void)
{
	char *a, *b, *c, *big, *al, *mal;
	int i;

	require_osmem("free_errno");

	for (i = 0; i < 3; i++) {
		a = malloc(opaque(100));
		b = malloc(opaque(200));
		c = malloc(opaque(300));
		big = malloc(opaque(4 << 20));
		al = memalign(4096, opaque(10000));
		mal = memalign(65536, opaque(200000));
		CHECK(a && b && c && big && al && mal, "allocation failed");
		memset(big, 1, 4 << 20);

		errno = EDOM; free(NULL);  CHECK_ERRNO("free(NULL)");
		errno = EDOM; free(a);     CHECK_ERRNO("free(heap block)");
		errno = EDOM; free(c);     CHECK_ERRNO("free(heap block)");
		errno = EDOM; free(b);     CHECK_ERRNO("free(heap block between two free ones)");
		errno = EDOM; free(big);   CHECK_ERRNO("free(4 MiB mapped block)");
		errno = EDOM; free(al);    CHECK_ERRNO("free(memalign(4096) block)");
		errno = EDOM; free(mal);   CHECK_ERRNO("free(memalign(65536, 200000) block)");

		a = malloc(opaque(50));
		big = malloc(opaque(1 << 20));
		CHECK(a && big, "allocation failed");
		errno = EDOM; escape(realloc(a, opaque(0))); CHECK_ERRNO("realloc(heap block, 0)");
		errno = EDOM; escape(realloc(big, opaque(0))); CHECK_ERRNO("realloc(mapped block, 0)");
	}
	return 0;
}
