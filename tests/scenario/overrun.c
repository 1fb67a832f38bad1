/* Scenario 20 (OSMEM_CHECK=1 OSMEM_ABORT_ON_ERROR=0): every write past the
 * requested size is reported when the block is freed, naming the block, the
 * requested size and the offset of the first damaged byte, whatever the kind
 * of block (slab object, heap block, mapped block, memalign'd).
 *
 * Each case: p = malloc(n); the k bytes after p[n - 1] are saved and then
 * overwritten; free(p) must write exactly one report and leave p alone (the
 * heap is not touched, with OSMEM_ABORT_ON_ERROR=0); the saved bytes are put
 * back (an overrun past the block's room reaches its neighbour's header or
 * data, which the heap checker would otherwise find at the next call), and
 * a second free(p) frees it, silently. Where the block ends at the heap's
 * end (the break), k stops there (fewer than 1 case in 100). stderr is a pipe the program reads
 * after each free; its own failures go to the real stderr.
 *
 * Sizes: every n from 1 to 4096 with k = 1, 8, 16, 48, 64; every k from 1
 * to 64 for n up to 300 (the slab classes and the first heap blocks) and
 * around 1 KiB, 4 KiB, 8 KiB and 64 KiB; n up to 100000 in steps of 97 (a
 * prime: every residue of the 16-byte classes) with k = 1 and 64; mapped
 * blocks (200000, 1 MiB) and memalign'd ones. */
#include "scenario.h"

#include <fcntl.h>
#include <sys/mman.h>

static int pipe_rd, real_err;
static size_t ncases, nclamped;

#define CASE_CHECK(cond, ...) do {                     \
		if (!(cond)) {                         \
			dup2(real_err, 2);             \
			CHECK(cond, __VA_ARGS__);      \
		}                                      \
	} while (0)

/* What the pipe holds now (the reports of the last call), NUL-terminated. */
static size_t drain(char *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;

	while (got + 1 < len && (r = read(pipe_rd, buf + got, len - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	return got;
}

/* Bytes from p + n to the end of its page: a mapped block's room may end there. */
static size_t to_page_end(const char *p, size_t n)
{
	size_t page = (size_t)getpagesize();

	return page - ((uintptr_t)(p + n) & (page - 1));
}

/* k, or fewer where the k bytes past p + n would run past the memory the
 * process has: a heap block at the very top of the heap may end at the
 * break (a write past it faults under any allocator, and is no overrun to
 * report). */
static size_t reachable(const char *p, size_t n, size_t k)
{
	size_t page = (size_t)getpagesize();
	unsigned char v;

	if (mincore((void *)((uintptr_t)(p + n + k - 1) & ~(page - 1)), 1, &v) == 0 || k <= to_page_end(p, n))
		return k;
	nclamped++;
	return to_page_end(p, n);
}

/* p: a block of n bytes (from `how`); k bytes past it are overwritten. */
static void overrun(char *p, size_t n, size_t k, const char *how)
{
	unsigned char save[64];
	char line[512], *q;
	size_t damaged, guard, req, first, usable;
	void *at;

	CASE_CHECK(p != NULL, "%s(%zu) failed", how, n);
	k = reachable(p, n, k);
	CASE_CHECK(malloc_usable_size(p) == n, "%s(%zu): malloc_usable_size %zu, want the requested size",
		   how, n, malloc_usable_size(p));
	memcpy(save, p + n, k);
	memset(p + n, 0x41, k);
	free(launder(p));
	drain(line, sizeof line);
	q = strchr(line, '\n');
	CASE_CHECK(q && q[1] == '\0', "%s(%zu) overrun by %zu: want one report line, got '%s'", how, n, k, line);
	CASE_CHECK(sscanf(line, "osmem: free(%p): heap overflow: %zu of the %zu guard bytes after the %zu requested "
			  "are damaged, the first at offset %zu (a block of %zu usable bytes)",
			  &at, &damaged, &guard, &req, &first, &usable) == 6,
		   "%s(%zu) overrun by %zu: report not understood: %s", how, n, k, line);
	CASE_CHECK(at == p && req == n && first == n && guard == usable - n && guard >= 1 &&
		   damaged == (k < guard ? k : guard),
		   "%s(%zu) = %p overrun by %zu: wrong report: %s", how, n, (void *)p, k, line);
	memcpy(p + n, save, k);
	free(p);                 /* no longer guarded: a plain free */
	CASE_CHECK(drain(line, sizeof line) == 0, "%s(%zu): the second free reported '%s'", how, n, line);
	ncases++;
}

static void sweep(size_t n, const size_t *ks, size_t nk)
{
	for (size_t i = 0; i < nk; i++)
		overrun(malloc(n), n, ks[i], "malloc");
}

int main(void)
{
	static const size_t five[] = { 1, 8, 16, 48, 64 }, ends[] = { 1, 64 };
	static const size_t around[] = { 1008, 1024, 1040, 4080, 4096, 4112, 8176, 8192, 8208, 65520, 65536 };
	size_t all[64], n, k, i;
	int fds[2];
	char *p;

	require_osmem("overrun");
	CHECK(getenv("OSMEM_CHECK") && strcmp(getenv("OSMEM_CHECK"), "1") == 0, "run with OSMEM_CHECK=1");
	for (k = 0; k < 64; k++)
		all[k] = k + 1;
	real_err = dup(2);
	CHECK(real_err >= 0 && pipe(fds) == 0, "pipe");
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	pipe_rd = fds[0];
	dup2(fds[1], 2);
	close(fds[1]);

	for (n = 1; n <= 4096; n++)
		sweep(n, five, 5);
	for (n = 1; n <= 300; n++)
		sweep(n, all, 64);
	for (i = 0; i < sizeof around / sizeof around[0]; i++)
		for (n = around[i] - 1; n <= around[i] + 1; n++)
			sweep(n, all, 64);
	for (n = 4097; n <= 100000; n += 97)
		sweep(n, ends, 2);
	sweep(100000, all, 64);

	/* Mapped blocks: the overrun stays inside the mapping's last page. */
	for (n = 200000; n <= 200016; n += 8)
		for (k = 1; k <= 64; k++) {
			p = malloc(n);
			overrun(p, n, k < to_page_end(p, n) ? k : to_page_end(p, n), "malloc");
		}
	p = malloc(1 << 20);
	overrun(p, 1 << 20, 8, "malloc");

	/* calloc, realloc and the memalign family are guarded too. */
	for (n = 1; n <= 5000; n += 61) {
		overrun(calloc(n, 1), n, 8, "calloc");
		p = malloc(n / 2 + 1);
		overrun(realloc(p, n), n, 8, "realloc");
		overrun(memalign(64, n), n, 8, "memalign");
		overrun(aligned_alloc(4096, n), n, 8, "aligned_alloc");
		overrun(valloc(n), n, 8, "valloc");
	}
	p = memalign(4096, 300000);
	overrun(p, 300000, to_page_end(p, 300000) < 64 ? to_page_end(p, 300000) : 64, "memalign");

	dup2(real_err, 2);
	/* A block that ends at the break is rare: the cases stay what they test. */
	CHECK(nclamped * 100 < ncases, "%zu of %zu overruns cut short at the end of the heap", nclamped, ncases);
	printf("%zu overruns, each reported at its first byte\n", ncases);
	return 0;
}
