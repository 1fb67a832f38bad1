/* Overwrites the header of the block after a (a heap overflow by the program),
 * then allocates again: OSMEM_CHECK=1 must name the damaged block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char *a = malloc(64), *b = malloc(64);

	if (b != a + 64 + 32) {
		fprintf(stderr, "layout not as expected: a=%p b=%p\n", (void *)a, (void *)b);
		return 2;
	}
	printf("damaged %p\n", (void *)(b - 32));
	fflush(stdout);
	char *volatile past_a = a + 64;   /* volatile: the overflow is the point */
	memset(past_a, 0x41, 16);         /* b's size and status/tag */
	free(malloc(10));
	return 0;
}
