/* Scenario 11 (SPEC rule 29): free or realloc of a pointer osmem did not hand
 * out is reported in exactly one line
 *   osmem: free(0x...): invalid pointer (not allocated by osmem)
 *   osmem: realloc(0x...): invalid pointer (not allocated by osmem)
 * and the process aborts (SIGABRT); with OSMEM_ABORT_ON_ERROR=0 it is a
 * warning, the heap stays intact and the program goes on.
 *
 * Usage: foreign_free MODE, MODE one of
 *   static          free() of a 16-aligned pointer into a static array (zeros before it)
 *   stack           free() of a 16-aligned pointer into a stack buffer (zeros before it)
 *   interior        free() of a pointer 32 bytes inside a heap block (zeros before it)
 *   interior-small  free() of a pointer 16 bytes inside a 64-byte block (a slab object)
 *   interior-mapped free() of a pointer 4096 bytes inside a 1 MiB mapped block
 *   realloc-static  realloc() of the static pointer
 *   realloc-stack   realloc() of the stack pointer
 * The pointer is printed on stdout first (one line, "%p"). */
#include "scenario.h"

static _Alignas(64) char static_buf[4096];

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "static";
	const char *e = getenv("OSMEM_ABORT_ON_ERROR");
	int warn_only = e && strcmp(e, "0") == 0;
	_Alignas(64) char stack_buf[4096];
	char *live[32], *heap, *small, *mapped, *bad, *r;
	int is_realloc = 0;
	size_t i;

	require_osmem("foreign_free");

	memset(stack_buf, 0, sizeof stack_buf);
	heap = malloc(opaque(512));
	small = malloc(opaque(64));
	mapped = malloc(opaque(1 << 20));
	CHECK(heap && small && mapped, "malloc failed");
	memset(heap, 0, 512);
	memset(small, 0, 64);
	memset(mapped, 0, 1 << 20);
	for (i = 0; i < 32; i++) {
		live[i] = malloc(opaque(100 + i * 40));
		CHECK(live[i] != NULL, "malloc failed");
		pat_fill(live[i], 100 + i * 40, i);
	}

	if (strcmp(mode, "static") == 0)
		bad = static_buf + 256;
	else if (strcmp(mode, "stack") == 0)
		bad = stack_buf + 256;
	else if (strcmp(mode, "interior") == 0)
		bad = heap + 32;
	else if (strcmp(mode, "interior-small") == 0)
		bad = small + 16;
	else if (strcmp(mode, "interior-mapped") == 0)
		bad = mapped + 4096;
	else if (strcmp(mode, "realloc-static") == 0)
		bad = static_buf + 256, is_realloc = 1;
	else if (strcmp(mode, "realloc-stack") == 0)
		bad = stack_buf + 256, is_realloc = 1;
	else
		FAIL("unknown mode %s", mode);
	bad = launder(bad);
	CHECK(aligned_to(bad, 16), "test bug: %p is not 16-aligned", (void *)bad);

	printf("%p\n", (void *)bad);
	fflush(stdout);
	if (is_realloc) {
		r = realloc(bad, opaque(100));
		escape(r);
	} else {
		free(bad);
	}

	if (!warn_only)
		FAIL("the misuse (%s) did not abort the process", mode);

	/* Warning mode: nothing was freed, the heap is intact and works. */
	CHECK(all_zero(static_buf, sizeof static_buf), "the static array changed");
	CHECK(all_zero(stack_buf, sizeof stack_buf), "the stack buffer changed");
	CHECK(all_zero(heap, 512), "the heap block changed");
	CHECK(all_zero(small, 64), "the small block changed");
	CHECK(all_zero(mapped, 1 << 20), "the mapped block changed");
	for (i = 0; i < 32; i++)
		CHECK(pat_ok(live[i], 100 + i * 40, i), "live block %zu changed after the misuse", i);
	for (i = 0; i < 3000; i++) {
		char *a = malloc(opaque(i % 900 + 1));
		CHECK(a != NULL, "malloc failed after the misuse");
		CHECK(a + i % 900 + 1 <= heap || a >= heap + 512, "malloc returned %p inside the live block %p",
		      (void *)a, (void *)heap);
		CHECK(a + i % 900 + 1 <= small || a >= small + 64, "malloc returned %p inside the live block %p",
		      (void *)a, (void *)small);
		memset(a, 1, i % 900 + 1);
		free(a);
	}
	for (i = 0; i < 32; i++)
		free(live[i]);
	free(heap);
	free(small);
	free(mapped);
	puts("continued");
	return 0;
}
