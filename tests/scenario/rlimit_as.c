/* Scenario 13 (SPEC rules 26, 30): with a small RLIMIT_AS (current size +
 * 64 MiB) both brk and mmap fail once the limit is reached: allocations then
 * return NULL with errno ENOMEM, the process is neither killed nor aborted,
 * live blocks stay intact, and after freeing everything the program can
 * allocate again (small and large blocks). */
#include "scenario.h"

#include <sys/mman.h>

#define MIB ((size_t)1 << 20)

/* Blocks are kept in singly linked lists threaded through themselves, so the
 * bookkeeping needs no memory of its own. */
struct node { struct node *next; size_t n; uint64_t seed; };

static struct node *push(struct node *head, void *p, size_t n, uint64_t seed)
{
	struct node *x = p;

	x->next = head;
	x->n = n;
	x->seed = seed;
	pat_fill(x + 1, n - sizeof *x, seed);
	return x;
}

static size_t check_free(struct node *head, const char *what)
{
	size_t count = 0;

	while (head) {
		struct node *next = head->next;
		CHECK(pat_ok(head + 1, head->n - sizeof *head, head->seed), "a %s block (%zu bytes) was overwritten",
		      what, head->n);
		free(head);
		head = next;
		count++;
	}
	return count;
}

int main(void)
{
	struct node *big = NULL, *small = NULL, *mid = NULL;
	size_t nbig = 0, nsmall = 0, nmid = 0, nbig0, nfail, i;
	void *probe_mmap, *probe_brk;
	char *keep, *p;

	require_osmem("rlimit_as");

	keep = malloc(opaque(5000));
	CHECK(keep != NULL, "malloc(5000) failed");
	pat_fill(keep, 5000, 5000);

	limit_as(64 * MIB);

	/* 1 MiB blocks (mapped) until NULL. */
	for (;;) {
		errno = 0;
		p = malloc(opaque(MIB));
		if (!p)
			break;
		big = push(big, p, MIB, nbig++);
		CHECK(nbig < 64, "%zu MiB allocated under a 64 MiB RLIMIT_AS", nbig);
	}
	CHECK(errno == ENOMEM, "malloc(1 MiB) failed with errno %d, expected ENOMEM", errno);
	CHECK(nbig >= 32, "only %zu blocks of 1 MiB before NULL", nbig);

	nbig0 = nbig;

	/* 100 MiB: NULL at once. */
	errno = 0;
	p = malloc(opaque(100 * MIB));
	CHECK(p == NULL && errno == ENOMEM, "malloc(100 MiB) gave %p errno %d", (void *)p, errno);
	errno = 0;
	p = calloc(opaque(100), MIB);
	CHECK(p == NULL && errno == ENOMEM, "calloc(100, 1 MiB) gave %p errno %d", (void *)p, errno);

	/* Free half of the big ones, then fill with 64 KiB heap blocks and with
	 * small ones until NULL: brk and the mmap fallback both run out. */
	for (i = 0; i < nbig / 2; i++) {
		struct node *x = big;
		big = big->next;
		CHECK(pat_ok(x + 1, x->n - sizeof *x, x->seed), "a 1 MiB block was overwritten");
		free(x);
	}
	nbig -= nbig / 2;
	for (;;) {
		errno = 0;
		p = malloc(opaque(64 * 1024));
		if (!p)
			break;
		mid = push(mid, p, 64 * 1024, 1000000 + nmid++);
	}
	CHECK(errno == ENOMEM, "malloc(64 KiB) failed with errno %d, expected ENOMEM", errno);
	for (;;) {
		size_t n = 64 + (nsmall % 50) * 16;
		errno = 0;
		p = nsmall % 3 ? malloc(opaque(n)) : calloc(1, opaque(n));
		if (!p)
			break;
		small = push(small, p, n, 2000000 + nsmall++);
	}
	CHECK(errno == ENOMEM, "small malloc failed with errno %d, expected ENOMEM", errno);
	/* Rule 30: NULL only when both brk and mmap fail. Probe both for the
	 * request that just failed (its size + room for headers; one page); the
	 * verdict comes at the end, after the other checks. */
	nfail = 64 + (nsmall % 50) * 16;
	probe_mmap = mmap(NULL, (size_t)getpagesize(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	probe_brk = sbrk((intptr_t)(nfail + 64));
	CHECK(nmid > 0, "no 64 KiB block could be allocated after freeing half of the 1 MiB ones");

	/* Everything fails cleanly now, and a failed realloc keeps its block. */
	errno = 0;
	p = realloc(keep, opaque(10 * MIB));
	CHECK(p == NULL && errno == ENOMEM, "realloc(keep, 10 MiB) gave %p errno %d", (void *)p, errno);
	errno = 0;
	p = memalign(4096, opaque(MIB));
	CHECK(p == NULL && errno == ENOMEM, "memalign(4096, 1 MiB) gave %p errno %d", (void *)p, errno);
	{
		void *q = NULL;
		int r = posix_memalign(&q, 64, opaque(2 * MIB));
		CHECK(r == ENOMEM && q == NULL, "posix_memalign(64, 2 MiB) returned %d", r);
	}

	/* Free everything (contents checked), then allocate again. */
	check_free(big, "1 MiB");
	check_free(mid, "64 KiB");
	check_free(small, "small");
	CHECK(pat_ok(keep, 5000, 5000), "the block from before the limit was overwritten");
	free(keep);

	for (i = 0; i < 20000; i++) {
		p = malloc(opaque(i % 500 + 1));
		CHECK(p != NULL, "malloc(%zu) failed after freeing everything (errno %d)", i % 500 + 1, errno);
		memset(p, 7, i % 500 + 1);
		free(p);
	}
	for (i = 0; i < 16; i++) {
		p = malloc(opaque(MIB));
		CHECK(p != NULL, "malloc(1 MiB) failed after freeing everything");
		memset(p, 8, MIB);
		free(p);
	}
	CHECK(probe_mmap == MAP_FAILED && probe_brk == (void *)-1,
	      "malloc(%zu) returned NULL with ENOMEM, yet the kernel still gave memory right after: "
	      "mmap(one page) -> %p, sbrk(%zu) -> %p (after %zu small blocks; SPEC rule 30)", nfail,
	      probe_mmap == MAP_FAILED ? NULL : probe_mmap, nfail + 64,
	      probe_brk == (void *)-1 ? NULL : probe_brk, nsmall);
	printf("1 MiB blocks: %zu, 64 KiB blocks: %zu, small blocks: %zu\n", nbig0, nmid, nsmall);
	return 0;
}
