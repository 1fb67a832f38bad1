/* A heap overflow by the program, then one more call: OSMEM_CHECK=1 must name
 * the damaged block.
 *
 *   corrupt [header|slab]
 *   header  overwrites the header of the heap block after a (512 bytes each)
 *   slab    overwrites the start of the page holding a 64-byte block: the
 *           header of its slab (an underflow of the page's first object) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "header";
	char *volatile bad;   /* volatile: the overflow is the point */

	if (strcmp(mode, "slab") == 0) {
		char *a = malloc(64);
		char *page = (char *)((uintptr_t)a & ~(uintptr_t)4095);
		printf("damaged %p\n", (void *)(page - 32));   /* the slab's block header */
		bad = page;
	} else {
		char *a = malloc(512), *b = malloc(512);
		if (b != a + 512 + 32) {
			fprintf(stderr, "layout not as expected: a=%p b=%p\n", (void *)a, (void *)b);
			return 2;
		}
		printf("damaged %p\n", (void *)(b - 32));
		bad = a + 512;   /* b's size and status/tag */
	}
	fflush(stdout);
	memset(bad, 0x41, 16);
	free(malloc(10));
	return 0;
}
