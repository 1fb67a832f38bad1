/* Ten blocks of 12345 bytes leaked: 123450 bytes asked for, which a leak
 * report must say whatever the allocator rounds them up to (osmem 12352
 * each, glibc 12360). */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) void *leak_12345(void)
{
	void *p = malloc(12345);

	memset(p, 1, 12345);
	return p;
}

int main(void)
{
	void *keep[10];

	for (int i = 0; i < 10; i++)
		keep[i] = leak_12345();
	return keep[9] == NULL;
}
