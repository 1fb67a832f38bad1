/* A heap overflow by the program, then one more call: OSMEM_CHECK=1 must name
 * the damaged block.
 *
 *   corrupt [header|slab|overrun|underrun K]
 *   header    overwrites the header of the heap block b after a (512 bytes each)
 *   slab      overwrites the start of the page holding a 64-byte block: the
 *             header of its slab (an underflow of the page's first object)
 *   overrun   writes 8 bytes past a malloc(1000) (inside its room: the guard),
 *             then mallocs and frees 8 times: the guard walk, which covers
 *             every block within eight calls, finds it
 *   underrun  writes K bytes in front of a malloc(1000), into its header,
 *             then frees it */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) char *alloc_here(size_t n)
{
	return malloc(n);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "header";
	char *volatile bad;   /* volatile: the overflow is the point */
	size_t len = 16;

	if (strcmp(mode, "slab") == 0) {
		char *a = malloc(64);
		char *page = (char *)((uintptr_t)a & ~(uintptr_t)4095);
		printf("damaged %p\n", (void *)(page - 32));   /* the slab's block header */
		bad = page;
	} else if (strcmp(mode, "overrun") == 0 || strcmp(mode, "underrun") == 0) {
		char *a = alloc_here(1000);
		printf("damaged %p\n", (void *)a);
		len = strcmp(mode, "overrun") == 0 ? 8 : strtoul(argv[2], NULL, 10);
		bad = strcmp(mode, "overrun") == 0 ? a + 1000 : a - len;
		fflush(stdout);
		/* Each byte flipped, so that every byte written differs from what
		 * was there: a fixed value matched the seal's byte at -17 in
		 * about one run in a hundred, and the report then named -18. */
		for (size_t i = 0; i < len; i++)
			bad[i] = (char)~bad[i];
		if (strcmp(mode, "underrun") == 0)
			free(a);
		for (int i = 0; i < 8; i++)
			free(malloc(10));
		return 0;
	} else {
		char *a = malloc(512), *b = malloc(512);
		/* b right after a; OSMEM_CHECK gives a a guard's room past 512 */
		if (b < a + 512 + 32 || b > a + 512 + 32 + 16) {
			fprintf(stderr, "layout not as expected: a=%p b=%p\n", (void *)a, (void *)b);
			return 2;
		}
		printf("damaged %p\n", (void *)(b - 32));
		bad = b - 32;   /* the end of a's room: b's size and status/tag */
	}
	fflush(stdout);
	memset(bad, 0x41, len);
	free(malloc(10));
	return 0;
}
