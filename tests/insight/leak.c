/* A known leak for OSMEM_LEAKS and OSMEM_TRACE: three 1000-byte blocks from
 * one call site in leak_here (built with -rdynamic so its name is visible),
 * plus blocks that are freed and must not be reported. */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) void *leak_here(size_t n)
{
	void *p = malloc(n);

	memset(p, 1, n);
	return p;
}

__attribute__((noinline)) void churn(void)
{
	for (int i = 0; i < 100; i++) {
		char *p = malloc(64 + i);
		p = realloc(p, 200 + i);
		free(p);
	}
}

int main(void)
{
	void *keep[3];

	for (int i = 0; i < 3; i++)
		keep[i] = leak_here(1000);
	churn();
	return keep[0] == NULL;
}
