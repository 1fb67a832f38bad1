/* Heap-exploitation primitives (issue 12, hardening), one per mode, run the
 * same way on glibc (no preload) and on osmem (LD_PRELOAD=libosmem.so), so
 * scripts/harden-table can set the two side by side and
 * tests/bats/hardening.bats can hold osmem to its outcomes.
 *
 * Usage: harden MODE      (harden list: the modes, one a line)
 *
 * The first line of stdout is the victim pointer ("%p"), the one a report
 * would name. The program then damages the heap the way an attacker with a
 * use after free or an overflow would, tries to have the allocator hand out
 * a chosen address (`target`, a fake block) or memory it already handed out,
 * and says what it saw:
 *   steered: WHAT   the allocator handed out the target, a fake block or a
 *                   block overlapping one the program holds, or unmapped a
 *                   live mapping (exit 0)
 *   harmless        none of that (exit 0)
 * An allocator that aborts or crashes kills the process; the caller reads
 * the signal. With OSMEM_ABORT_ON_ERROR=0, a program that survives goes on
 * to check that the heap still works (thousands of blocks, none handed out
 * twice, nothing it holds overwritten) and prints `continued`.
 *
 * The program runs without require_osmem(): glibc is half the comparison. It
 * writes the two allocators' headers where an attacker would:
 *   osmem  struct block_meta (include/block_meta.h), 32 bytes before the
 *          payload: size, status, a 4-byte tag, prev, next
 *   glibc  struct malloc_chunk, 16 bytes before the payload: prev_size, then
 *          size with the flags in its low 3 bits (bit 0 PREV_INUSE); a free
 *          chunk's fd and bk are the payload's first two words */
#include "scenario.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>

#include "../../include/block_meta.h"

/* The address an attacker wants malloc to return: static memory, 16-aligned. */
static char target[4096] __attribute__((aligned(16)));

static int on_osmem;

/* ---- the two allocators' headers ---- */

#define OM_HDR sizeof(struct block_meta)
/* The tag: the 4 bytes after status (osmem keeps a magic value there). */
#define OM_TAG_OFF (offsetof(struct block_meta, status) + sizeof(int))

struct glibc_chunk {
	size_t prev_size;  /* the previous chunk's size, when it is free */
	size_t size;       /* chunk size, header included; flags in the low 3 bits */
	void *fd, *bk;     /* a free chunk's list links: the payload's first words */
	void *fd_nextsize, *bk_nextsize;
};
#define GL_HDR (2 * sizeof(size_t))
#define GL_PREV_INUSE ((size_t)1)
#define GL_FLAGS ((size_t)7)

static struct block_meta *om_hdr(void *p)
{
	return (struct block_meta *)((char *)p - OM_HDR);
}

static struct glibc_chunk *gl_chunk(void *p)
{
	return (struct glibc_chunk *)((char *)p - GL_HDR);
}

static size_t gl_size(void *p)
{
	return gl_chunk(p)->size & ~GL_FLAGS;
}

/* Where the block after p's starts its payload, by p's header. */
static char *next_payload(void *p)
{
	if (on_osmem)
		return (char *)p + om_hdr(p)->size + OM_HDR;
	return (char *)p + gl_size(p);
}

/* The size field's room for a block of payload n: osmem's header size is the
 * payload's, glibc's chunk size counts its header. */
static size_t whole_size(void *p)
{
	return on_osmem ? om_hdr(p)->size + OM_HDR : gl_size(p);
}

/* Grows p's size field by `by` bytes (an overflow from the block before). */
static void enlarge(void *p, size_t by)
{
	if (on_osmem)
		om_hdr(p)->size += by;
	else
		gl_chunk(p)->size += by;
}

/* ---- what the program holds, and what malloc hands out ---- */

struct held {
	char *p;
	size_t n;
	uint64_t seed;
	int damaged;    /* the primitive wrote into it: no content check */
};
static struct held held[1024];
static size_t nheld;
static uint64_t next_seed = 1;

static char steer_why[256];   /* the first sign of a steered allocator */
static void *fake_at;         /* a fake block's payload (stack or heap), if any */
static const char *fake_where;

static void steered(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void steered(const char *fmt, ...)
{
	va_list ap;

	if (steer_why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(steer_why, sizeof(steer_why), fmt, ap);
	va_end(ap);
}

static int overlaps(const char *a, size_t an, const char *b, size_t bn)
{
	return a < b + bn && b < a + an;
}

/* Checks a pointer malloc(n) returned: the target, the fake, or memory the
 * program still holds. Returns 1 when it is an honest new block. */
static int look(void *p, size_t n)
{
	size_t i;

	if (!p)
		return 0;
	if (overlaps(p, n, target, sizeof(target))) {
		steered("malloc(%zu) returned %p, the static target", n, p);
		return 0;
	}
	if (fake_at && p == fake_at) {
		steered("malloc(%zu) returned the fake block %s", n, fake_where);
		return 0;
	}
	for (i = 0; i < nheld; i++)
		if (p == held[i].p) {
			steered("malloc(%zu) returned %p a second time, the program holding it", n, p);
			return 0;
		} else if (overlaps(p, n, held[i].p, held[i].n)) {
			steered("malloc(%zu) returned %p, overlapping the live block %p (%zu bytes)",
				n, p, (void *)held[i].p, held[i].n);
			return 0;
		}
	return 1;
}

/* Takes p (n bytes) into the held set, filled with a pattern. */
static char *keep(void *p, size_t n)
{
	CHECK(nheld < sizeof(held) / sizeof(held[0]), "too many held blocks");
	held[nheld] = (struct held){ p, n, next_seed++, 0 };
	pat_fill(p, n, held[nheld].seed);
	nheld++;
	return p;
}

/* malloc(n), held; fails the program when malloc fails. */
static char *hold(size_t n)
{
	char *p = malloc(opaque(n));

	CHECK(p != NULL, "malloc(%zu) failed", n);
	return keep(p, n);
}

/* malloc(n) after the primitive: checked, and held when honest. */
static char *attempt(size_t n)
{
	char *p = malloc(opaque(n));

	if (look(p, n))
		keep(p, n);
	return p;
}

static struct held *held_of(void *p)
{
	size_t i;

	for (i = 0; i < nheld; i++)
		if (held[i].p == p)
			return &held[i];
	FAIL("%p is not held", p);
}

/* p leaves the held set (about to be freed). */
static void release(void *p)
{
	struct held *h = held_of(p);

	*h = held[--nheld];
}

static void damaged(void *p)
{
	held_of(p)->damaged = 1;
}

/* Every held block that the primitive did not write to still holds its pattern. */
static void check_held(void)
{
	size_t i;

	for (i = 0; i < nheld; i++)
		if (!held[i].damaged && !pat_ok(held[i].p, held[i].n, held[i].seed))
			steered("the live block %p (%zu bytes) was overwritten", (void *)held[i].p, held[i].n);
}

static void victim(void *p)
{
	printf("%p\n", p);
	fflush(stdout);
}

/* The payload's first two words. */
static void write_words(void *p, int words)
{
	void **w = launder(p);

	w[0] = target;
	if (words > 1)
		w[1] = target;
	escape(w);
}

/* ---- faults where the primitive may touch unmapped memory ---- */

static sigjmp_buf fault_jmp;

static void on_fault(int sig)
{
	siglongjmp(fault_jmp, sig);
}

static void catch_faults(int on)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on ? on_fault : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* ---- the modes ---- */

/* Blocks of the given sizes, each right after the one before (by its
 * header): the layouts an overflow needs. Tries again further on when the
 * allocator places them apart (a free block reused first); what was tried
 * stays held, as live blocks around. */
static void neighbours(char **out, const size_t *sizes, size_t k)
{
	size_t i, tries;

	for (tries = 0; tries < 32; tries++) {
		for (i = 0; i < k; i++)
			out[i] = hold(sizes[i]);
		for (i = 1; i < k && next_payload(out[i - 1]) == out[i]; i++)
			;
		if (i == k)
			return;
	}
	FAIL("no %zu neighbouring blocks of %zu bytes in 32 tries", k, sizes[0]);
}

/* Thread cache: a freed block's first word (or two) links it to the next. */
static void tc_link(size_t n, int words)
{
	char *a = hold(n), *b = hold(n), *dangling = launder(a);

	victim(a);
	release(b);
	release(a);
	free(b);
	free(a);           /* a is the list's head, its first word points to b */
	write_words(dangling, words);
	attempt(n);
	attempt(n);
}

/* More blocks of a slab class than osmem's thread cache keeps in its
 * stack (128). */
#define PAST_STACK 160

/* PAST_STACK blocks of 48 bytes made and freed, the one at index v the
 * victim (printed): returns it, dangling. */
static char *free_past_stack(size_t v)
{
	char *fill[PAST_STACK], *dangling;
	size_t i;

	for (i = 0; i < PAST_STACK; i++)
		fill[i] = hold(48);
	dangling = launder(fill[v]);
	victim(dangling);
	for (i = 0; i < PAST_STACK; i++) {
		release(fill[i]);
		free(fill[i]);
	}
	return dangling;
}

/* Small blocks back in their slab (osmem: the thread's cache given back
 * by malloc_trim; glibc: more freed than its cache keeps). */
static void slab_uaf(void)
{
	char *dangling = free_past_stack(PAST_STACK - 2);

	if (on_osmem)
		malloc_trim(0);
	write_words(dangling, 2);
	for (int i = 0; i < 2 * PAST_STACK; i++)
		attempt(48);
}

/* The first of PAST_STACK blocks of 48 bytes freed: osmem's thread cache
 * keeps 128 of a slab class in its stack and the older ones past it (in
 * magazines of its own memory since they replaced a list through the
 * blocks' first words), where the victim goes; that word set, malloc
 * takes the blocks back. */
static void spill_uaf(void)
{
	write_words(free_past_stack(0), 1);
	for (int i = 0; i < 2 * PAST_STACK; i++)
		attempt(48);
}

static uintptr_t page_of(const void *p)
{
	return (uintptr_t)p & ~(uintptr_t)4095;
}

/* Every other one of 2 * PAST_STACK blocks of 48 bytes freed, and a freed
 * one's first word XORed with the addresses of the block its link names
 * (the one freed before it) and the live block beside that one: whatever
 * the encoding (osmem's mangling, glibc's safe-linking), a link that XORs
 * the address into it now leads to the live block, on the same page.
 * osmem keeps 128 of a class in its cache's stack and spills the older
 * ones, so the victim is among them (once on a list through the blocks,
 * linked to the block freed before it; in magazines of the cache's own
 * memory now, which the write does not reach). */
static void spill_redirect(void)
{
	char *fill[2 * PAST_STACK], *dangling;
	size_t i, k = 0;

	for (i = 0; i < 2 * PAST_STACK; i++)
		fill[i] = hold(48);
	/* Among the first 48 freed, which osmem spills: the victim, the block
	 * its link names and the live one beside that on one page. */
	for (i = 2; i < 48 && !k; i += 2)
		if (page_of(fill[i]) == page_of(fill[i - 2]) && page_of(fill[i - 1]) == page_of(fill[i - 2]))
			k = i;
	CHECK(k != 0, "no three 48-byte blocks in a row on one page");
	dangling = launder(fill[k]);
	victim(dangling);
	for (i = 0; i < 2 * PAST_STACK; i += 2) {
		release(fill[i]);
		free(fill[i]);
	}
	*(uintptr_t *)dangling ^= (uintptr_t)fill[k - 2] ^ (uintptr_t)fill[k - 1];
	escape(dangling);
	for (i = 0; i < 2 * PAST_STACK; i++)
		attempt(48);
}

/* A free heap block (or a mapped one, unmapped by now) written through a
 * dangling pointer, then its size asked for twice. */
static void block_uaf(size_t n)
{
	const size_t sizes[] = { n, 512 };   /* a live block keeps a from the top */
	char *blk[2], *a;

	if (n < 128 * 1024)
		neighbours(blk, sizes, 2);
	else
		blk[0] = hold(n);
	a = launder(blk[0]);
	victim(a);
	release(blk[0]);
	free(blk[0]);
	catch_faults(1);
	if (sigsetjmp(fault_jmp, 1) == 0)
		write_words(a, 2);
	/* else it was unmapped: the write could not reach anything */
	catch_faults(0);
	attempt(n);
	attempt(n);
}

/* Another thread frees p onto the main arena's remote list (osmem) and
 * stays alive until main is done. */
static void remote_uaf(int words)
{
	char *p, *dangling;
	pthread_t t;

	/* osmem: once the process has threads and this thread has entered its
	 * arena (a malloc the thread cache cannot serve), another thread's free
	 * of p goes onto the arena's remote-free list, not straight in. */
	free_elsewhere_done(free_elsewhere(malloc(opaque(16))));
	free(launder(malloc(opaque(8000))));
	p = hold(600);
	dangling = launder(p);
	victim(p);
	release(p);
	t = free_elsewhere_send(p, 1);
	write_words(dangling, words);
	attempt(600);
	attempt(600);
	free_elsewhere_done(t);
}

/* A fake block: a live block's header copied in front of `at`
 * (16-aligned, 296 bytes of room), then freed and its size asked for twice.
 * 296 bytes, not 64: osmem keeps blocks of 64 bytes in slabs, without a
 * header to copy. */
#define FAKE_SIZE 296
static void fake_block(char *at, const char *where)
{
	const size_t sizes[] = { FAKE_SIZE, FAKE_SIZE };   /* the model is not the last block */
	size_t hdr = on_osmem ? OM_HDR : GL_HDR;
	char *blk[2];

	neighbours(blk, sizes, 2);
	memcpy(at - hdr, blk[0] - hdr, hdr);
	fake_at = at;
	fake_where = where;
	victim(at);
	free(launder(at));
	attempt(FAKE_SIZE);
	attempt(FAKE_SIZE);
}

/* a's size field grown over its live neighbour b, then a freed; then `ask`
 * (a and b together) and the grown size asked for. */
static void size_enlarge(size_t n, size_t ask)
{
	const size_t sizes[] = { n, n, n };   /* a, b, a live block after b */
	char *blk[3], *a;
	size_t grown;

	neighbours(blk, sizes, 3);
	a = blk[0];
	victim(a);
	enlarge(a, whole_size(blk[1]));
	/* what a's grown header now offers (osmem: its payload; glibc: its chunk
	 * less the size word) */
	grown = on_osmem ? om_hdr(a)->size : gl_size(a) - sizeof(size_t);
	release(a);
	free(a);
	attempt(ask);
	if (grown != ask)
		attempt(grown);
}

/* a's size field shrunk to 64 bytes' worth, then a freed. */
static void size_shrink(void)
{
	const size_t sizes[] = { 296, 296, 296 };
	char *blk[3], *a;

	neighbours(blk, sizes, 3);
	a = blk[1];
	victim(a);
	if (on_osmem)
		om_hdr(a)->size = 64;
	else
		gl_chunk(a)->size = 0x50 | (gl_chunk(a)->size & GL_FLAGS);
	release(a);
	free(a);
	attempt(64);
	attempt(296);
}

/* b's link to its physical predecessor pointed at a fake free block in the
 * static target, then b freed: a merge would take the fake in. */
static void pred_redirect(void)
{
	/* Above the thread cache's 8 KiB: b goes back to the free index at once. */
	const size_t sizes[] = { 9000, 9000, 9000 };   /* a, b, a live block after b */
	char *blk[3], *a, *b;

	neighbours(blk, sizes, 3);
	a = blk[0];
	b = blk[1];
	victim(b);
	if (on_osmem) {
		struct block_meta *fake = (struct block_meta *)target;

		memcpy(fake, om_hdr(a), OM_HDR);   /* the tag bytes of a real header */
		fake->size = sizeof(target) - 2 * OM_HDR;
		fake->status = STATUS_FREE;
		fake->prev = fake;
		fake->next = fake;
		om_hdr(b)->prev = fake;
	} else {
		struct glibc_chunk *fake = (struct glibc_chunk *)target, *bc = gl_chunk(b);
		size_t dist = (size_t)((char *)bc - (char *)fake);

		/* What glibc's backward merge checks: the fake's size matches b's
		 * prev_size, and its links point back at it. */
		fake->prev_size = 0;
		fake->size = dist | GL_PREV_INUSE;
		fake->fd = fake;
		fake->bk = fake;
		fake->fd_nextsize = NULL;
		fake->bk_nextsize = NULL;
		bc->prev_size = dist;
		bc->size &= ~GL_PREV_INUSE;
		damaged(a);   /* b's prev_size is a's last word */
	}
	release(b);
	free(b);
	attempt(18000);
	attempt(18000);
}

/* f freed right after the live a; an overflow from a then reaches f's
 * header: its list links (free-links) or its size, grown over the live g
 * (free-size). */
static void free_block(int links)
{
	/* Above the thread cache's 8 KiB: f goes back to the free index at once. */
	const size_t sizes[] = { 9000, 9000, 9000, 9000 };   /* a, f, g, a live block after g */
	char *blk[4], *f, *dangling;

	neighbours(blk, sizes, 4);
	f = blk[1];
	dangling = launder(f);
	victim(f);
	release(f);
	free(f);
	if (links && on_osmem) {
		om_hdr(dangling)->prev = (struct block_meta *)target;
		om_hdr(dangling)->next = (struct block_meta *)target;
	} else if (links) {
		write_words(dangling, 2);
	} else {
		enlarge(dangling, whole_size(blk[2]));
	}
	if (links) {
		attempt(9000);
		attempt(9000);
	} else {
		/* the grown size, and the size f was filed under */
		attempt(18000);
		attempt(9000);
		attempt(9000);
	}
}

/* A linear overflow of 120 bytes past a 48-byte block. On osmem the block
 * is the last object of its slab page and the next page is a slab of the
 * same class, on its class's list: the overflow crosses the block header
 * between them into that slab's header. Then malloc(48) until the slab is
 * used. The victim is the next slab (osmem) or the block overflowed. */
static void slab_overflow(void)
{
	enum { N = 240, OVER = 120 };
	char *obj[N], *x = NULL, *page = NULL;
	size_t i, j, freed = 0;

	for (i = 0; i < N; i++)
		obj[i] = hold(48);
	/* osmem: the objects its thread cache took ahead back in their slabs,
	 * so that malloc meets the slabs' headers again. */
	if (on_osmem)
		malloc_trim(0);
	for (i = 0; i < N && !x; i++) {
		char *pg = (char *)((uintptr_t)obj[i] & ~(uintptr_t)4095);

		if (!on_osmem) {
			x = obj[i];
			break;
		}
		if (obj[i] - pg != 4000)   /* the last of the 83 objects of a slab of 48 */
			continue;
		for (j = 0; j < N; j++)
			if ((char *)((uintptr_t)obj[j] & ~(uintptr_t)4095) == pg + 4096)
				x = obj[i], page = pg + 4096;
	}
	CHECK(x != NULL, "no 48-byte block ends a slab page followed by another");
	victim(on_osmem ? page : x);
	/* Free the next page's blocks but one (osmem: into the thread's cache;
	 * the mallocs after the overflow empty it and go on to the slab,
	 * which has had its objects back from the trim above and is the
	 * first of its class with room). */
	for (i = 0; i < N && freed < PAST_STACK; i++)
		if (obj[i] != x && (!on_osmem || (char *)((uintptr_t)obj[i] & ~(uintptr_t)4095) == page)) {
			release(obj[i]);
			free(obj[i]);
			obj[i] = NULL;
			freed++;
		}
	for (i = 0; i < nheld; i++)
		if (overlaps(held[i].p, held[i].n, x + 48, OVER))
			held[i].damaged = 1;
	memset(launder(x) + 48, 0x41, OVER);
	for (i = 0; i < 100; i++)
		attempt(48);
}

/* A mapped block's size grown by 2 MiB, then freed: does free unmap the
 * live mappings beyond it? With by_realloc, first reallocated to a size
 * its damaged header says its pages hold: a realloc that believed it would
 * keep the block where it is, its size now the damaged one (osmem's
 * realloc: sized to its pages, and sealed again), and the free after it
 * unmap the live mappings. */
static void mapped_size(int by_realloc)
{
	char *m, *dangling;
	volatile char sum = 0;
	static size_t i, j;   /* static: they must survive the longjmp */

	/* Mappings are placed downwards: m below the two live ones. */
	hold(1 << 20);
	hold(1 << 20);
	m = hold(1 << 20);
	dangling = launder(m);
	victim(m);
	enlarge(m, 2u << 20);
	release(m);
	if (by_realloc) {
		char *q = realloc(m, (3u << 20) - 4096);

		if (q)   /* kept or moved: the mapping to free now (NULL: refused) */
			free(q);
	} else {
		free(m);
	}
	catch_faults(1);
	for (i = 0; i < nheld; i++) {
		if (sigsetjmp(fault_jmp, 1) != 0) {
			steered("free(%p) unmapped the live block %p (%zu bytes)", (void *)dangling,
				(void *)held[i].p, held[i].n);
			held[i].damaged = 1;
			continue;
		}
		for (j = 0; j < held[i].n; j += 4096)
			sum += held[i].p[j];
	}
	catch_faults(0);
	(void)sum;
}

/* ---- the heap still works (OSMEM_ABORT_ON_ERROR=0) ---- */

static void check_new(char *p, size_t n)
{
	size_t i;

	CHECK(p != NULL, "malloc(%zu) failed after the primitive", n);
	CHECK(!overlaps(p, n, target, sizeof(target)), "malloc(%zu) returned the target %p", n, (void *)p);
	for (i = 0; i < nheld; i++)
		CHECK(!overlaps(p, n, held[i].p, held[i].n),
		      "malloc(%zu) returned %p, overlapping the live block %p (%zu bytes)",
		      n, (void *)p, (void *)held[i].p, held[i].n);
}

static void heap_still_works(void)
{
	enum { N = 1000 };
	static char *blk[N];
	static size_t bn[N];
	static uint64_t bs[N];
	uint64_t rng = 0x0de1f00d, seed = 1u << 20;
	size_t i, j, round;

	for (i = 0; i < 5000; i++) {
		size_t n = 16 + rng_next(&rng) % 2000;
		char *a = malloc(opaque(n)), *b = malloc(opaque(64));

		check_new(a, n);
		check_new(b, 64);
		CHECK(!overlaps(a, n, b, 64), "malloc returned %p and %p, overlapping", (void *)a, (void *)b);
		memset(a, 1, n);
		memset(b, 2, 64);
		CHECK(all_byte(a, n, 1), "block %p overlaps a newer one", (void *)a);
		free(b);
		free(a);
	}
	for (round = 0; round < 4; round++) {
		for (j = 0; j < N; j++) {
			if (blk[j])
				continue;
			bn[j] = j % 331 == 17 ? 200000 : 16 + rng_next(&rng) % 7985;
			blk[j] = malloc(opaque(bn[j]));
			check_new(blk[j], bn[j]);
			bs[j] = seed++;
			pat_fill(blk[j], bn[j], bs[j]);
		}
		for (j = 0; j < N; j++)
			CHECK(pat_ok(blk[j], bn[j], bs[j]),
			      "block %p (%zu bytes) was overwritten: memory handed out twice?",
			      (void *)blk[j], bn[j]);
		for (i = 0; i < nheld; i++)
			CHECK(held[i].damaged || pat_ok(held[i].p, held[i].n, held[i].seed),
			      "the live block %p (%zu bytes) changed", (void *)held[i].p, held[i].n);
		for (j = 0; j < N; j++)
			if (round == 3 || rng_next(&rng) % 2) {
				free(blk[j]);
				blk[j] = NULL;
			}
	}
	puts("continued");
}

/* ---- main ---- */

static const char *const modes[] = {
	"tc-word0-40", "tc-word0-600", "tc-both-40", "tc-both-600", "slab-uaf",
	"spill-uaf", "spill-redirect", "bin-uaf-3000", "bin-uaf-20000", "mapped-uaf", "remote-uaf", "remote-both",
	"fake-static", "fake-stack", "fake-heap", "size-enlarge", "size-enlarge-2000",
	"size-shrink", "pred-redirect", "free-links", "free-size", "mapped-size",
	"mapped-size-realloc",
	"slab-overflow",
};

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	const char *e = getenv("OSMEM_ABORT_ON_ERROR");
	char stack[1024] __attribute__((aligned(16)));
	size_t i;

	scn_name = "harden";
	(void)require_osmem;   /* glibc is half the comparison */
	on_osmem = dlsym(RTLD_DEFAULT, "os_malloc") != NULL;
	if (strcmp(mode, "list") == 0) {
		for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
			puts(modes[i]);
		return 0;
	}
	/* Blocks live around the victims, checked at the end. */
	for (i = 0; i < 16; i++)
		hold(48 + i * 40);

	if (strcmp(mode, "tc-word0-40") == 0)
		tc_link(40, 1);
	else if (strcmp(mode, "tc-word0-600") == 0)
		tc_link(600, 1);
	else if (strcmp(mode, "tc-both-40") == 0)
		tc_link(40, 2);
	else if (strcmp(mode, "tc-both-600") == 0)
		tc_link(600, 2);
	else if (strcmp(mode, "slab-uaf") == 0)
		slab_uaf();
	else if (strcmp(mode, "spill-uaf") == 0)
		spill_uaf();
	else if (strcmp(mode, "spill-redirect") == 0)
		spill_redirect();
	else if (strcmp(mode, "bin-uaf-3000") == 0)
		block_uaf(3000);
	else if (strcmp(mode, "bin-uaf-20000") == 0)
		block_uaf(20000);
	else if (strcmp(mode, "mapped-uaf") == 0)
		block_uaf(1 << 20);
	else if (strcmp(mode, "remote-uaf") == 0)
		remote_uaf(1);
	else if (strcmp(mode, "remote-both") == 0)
		remote_uaf(2);
	else if (strcmp(mode, "fake-static") == 0)
		fake_block(target + 1024, "in static memory");
	else if (strcmp(mode, "fake-stack") == 0)
		fake_block(stack + 256, "on the stack");
	else if (strcmp(mode, "fake-heap") == 0) {
		char *buf = hold(4096);

		damaged(buf);   /* the fake header is written into it */
		fake_block(buf + 2048, "inside a live heap block");
	} else if (strcmp(mode, "size-enlarge") == 0)
		size_enlarge(296, 600);
	else if (strcmp(mode, "size-enlarge-2000") == 0)
		size_enlarge(2000, 4000);
	else if (strcmp(mode, "size-shrink") == 0)
		size_shrink();
	else if (strcmp(mode, "pred-redirect") == 0)
		pred_redirect();
	else if (strcmp(mode, "free-links") == 0)
		free_block(1);
	else if (strcmp(mode, "free-size") == 0)
		free_block(0);
	else if (strcmp(mode, "mapped-size") == 0)
		mapped_size(0);
	else if (strcmp(mode, "mapped-size-realloc") == 0)
		mapped_size(1);
	else if (strcmp(mode, "slab-overflow") == 0)
		slab_overflow();
	else
		FAIL("unknown mode '%s' (harden list: the modes)", mode);
	escape(stack);

	check_held();
	if (steer_why[0])
		printf("steered: %s\n", steer_why);
	else
		puts("harmless");
	fflush(stdout);
	if (e && strcmp(e, "0") == 0)
		heap_still_works();
	return 0;
}
