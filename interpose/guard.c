/* OSMEM_CHECK=1: a guard after the requested bytes of every block, verified
 * when the block is freed or reallocated and, for every live block, by a
 * walk at the start of every call that covers them all within eight calls.
 *
 * In check mode the drop-in asks the core for GUARD_MIN byte more than the
 * program did, and every byte from the requested end to the end of the
 * block's usable room is set to GUARD_BYTE: 1 to 16 bytes, plus whatever
 * slack the block has (a slab object's 16-byte class, a heap block's
 * remainder too small to split, a proxy's alignment tail). Slab objects,
 * heap blocks, mapped blocks and the memalign family are all guarded. A
 * write past the requested size changes a guard byte (an overrun from the
 * end of the data always changes the first one) and is reported at the
 * block's free or realloc, or by the walk at the start of one of the next
 * calls of any kind (guard_walk), whichever comes first. malloc_usable_size returns the requested size, as mimalloc's
 * debug padding does, so a program that uses "all of it" stays inside.
 *
 * Where a guard starts is kept here, in a table of the guarded blocks
 * (address, requested and usable size; ptrtab.c, in memory of its own),
 * not inside the block: an overrun cannot damage what says where the guard
 * starts, so a report always names the first damaged byte exactly, however
 * far the overrun ran. The usable size is the one the block had when it was
 * made: in check mode realloc always moves a block, so it never changes
 * while the block lives, and verifying a guard reads no header (a damaged
 * header is the heap checker's to report).
 *
 * A block with a header (all but slab objects) has its header's size, status
 * and magic tag bytes saved too, the words SPEC rule 1 fixes for the
 * block's whole life: an underrun that reaches them (or an overrun of the
 * block before) is reported, naming the damaged byte nearest the block. An underrun of 1 to
 * 16 bytes damages only the header's links (prev, next), which the core may
 * rewrite itself; the heap checker that runs in every call judges those.
 *
 * Not guarded: the bootstrap area (what osmem's own initialisation
 * allocates) and OSMEM_BACKEND=system. One mutex, never held while the
 * allocator lock is taken, nor while reporting. */
#include <pthread.h>
#include <string.h>

#include "insight.h"

#define GUARD_BYTE 0xfd   /* not 0, which a string's terminator writes */

/* The header bytes saved: size and status, then the tag's three magic bytes
 * (its low byte holds flags the core may change). */
#define HEAD_BYTES 16
#define HEAD_FLAGS (offsetof(struct block_meta, status) + sizeof(int))

struct guarded {
	uintptr_t p;       /* the key (ptrtab.c) */
	size_t n;          /* bytes requested: the guard starts here */
	size_t usable;     /* ... and ends here */
	bool has_head;     /* head holds the header's first bytes */
	unsigned char head[HEAD_BYTES];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct ptrtab blocks = { .esize = sizeof(struct guarded) };

/* A damaged guard: the block, how many of its guard bytes changed and the
 * first; for its header, the offset of the damaged byte nearest the block
 * (0: none). */
struct damage {
	struct guarded g;
	size_t count, first;
	int under;
};

/* Header bytes compared and restored: a mapped block's tag is its seal,
 * which the core rewrites when its list neighbours change (map.c), so
 * there only size and status. */
static int head_len(const struct guarded *g)
{
	int status;

	memcpy(&status, g->head + offsetof(struct block_meta, status), sizeof status);
	return status == STATUS_MAPPED ? (int)HEAD_FLAGS : HEAD_BYTES;   /* size and status: the bytes before the tag */
}

static bool damaged(const struct guarded *g, struct damage *d)
{
	const unsigned char *c = (const unsigned char *)g->p;

	d->g = *g;
	d->count = 0;
	d->under = 0;
	for (size_t i = g->n; i < g->usable; i++)
		if (c[i] != GUARD_BYTE && !d->count++)
			d->first = i;
	for (int i = head_len(g) - 1; g->has_head && i >= 0 && !d->under; i--)
		if (i != HEAD_FLAGS && c[i - (int)HDR] != g->head[i])
			d->under = i - (int)HDR;
	return d->count || d->under;
}

/* Sets the guard, and puts the saved header bytes back. */
static void arm(const struct guarded *g)
{
	memset((char *)g->p + g->n, GUARD_BYTE, g->usable - g->n);
	if (g->has_head)
		for (int i = 0; i < head_len(g); i++)
			if (i != HEAD_FLAGS)
				((unsigned char *)g->p)[i - (int)HDR] = g->head[i];
}

bool guard_add(void *p, size_t n, size_t usable, bool header)
{
	struct guarded *g;
	bool fresh;

	pthread_mutex_lock(&mu);
	g = ptrtab_put(&blocks, (uintptr_t)p, &fresh);
	if (g) {
		g->n = n;
		g->usable = usable;
		g->has_head = header;
		if (header)
			memcpy(g->head, block_of(p), HEAD_BYTES);
		arm(g);
	}
	pthread_mutex_unlock(&mu);
	return g != NULL;
}

size_t guard_requested(const void *p)
{
	struct guarded *g;
	size_t n;

	pthread_mutex_lock(&mu);
	g = ptrtab_find(&blocks, (uintptr_t)p);
	n = g ? g->n : SIZE_MAX;
	pthread_mutex_unlock(&mu);
	return n;
}

void guard_forget(const void *p)
{
	struct guarded *g;

	pthread_mutex_lock(&mu);
	if ((g = ptrtab_find(&blocks, (uintptr_t)p)))
		ptrtab_remove(&blocks, g);
	pthread_mutex_unlock(&mu);
}

/* One report: a line, then the allocating stack when OSMEM_LEAKS or
 * OSMEM_TRACE kept one. arg: the pointer passed to call, or NULL when the
 * walk at the start of call found the damage. */
static void report(const char *call, const void *arg, const struct damage *d)
{
	char buf[8192];
	void *frames[INSIGHT_MAX_DEPTH];
	size_t len;
	int n;

	if (arg)
		len = diag_fmt(buf, sizeof buf, "osmem: %s(%p): ", call, arg);
	else
		len = diag_fmt(buf, sizeof buf, "osmem: heap check in %s(): %p: ", call, (void *)d->g.p);
	if (d->count)
		len += diag_fmt(buf + len, sizeof buf - len,
				"heap overflow: %zu of the %zu guard bytes after the %zu requested are damaged, "
				"the first at offset %zu (a block of %zu usable bytes)\n",
				d->count, d->g.usable - d->g.n, d->g.n, d->first, d->g.usable);
	else
		len += diag_fmt(buf + len, sizeof buf - len,
				"header damaged (an underrun, or an overrun of the block before it): its size, "
				"status or tag, the byte nearest the block at offset -%d (a block of %zu requested bytes)\n",
				-d->under, d->g.n);
	n = insight_stacks ? leaks_stack((void *)d->g.p, frames) : -1;
	if (n > 0)
		len += diag_fmt(buf + len, sizeof buf - len, "  allocated at:\n");
	for (int f = 0; f < n && sizeof buf - len > 1100; f++)
		len += leaks_frame_line(buf + len, sizeof buf - len, f, frames[f]);
	buf[len] = '\0';
	misuse_report(buf);
}

bool guard_ok(enum call c, void *p)
{
	struct guarded *g;
	struct damage d;
	bool bad = false;

	pthread_mutex_lock(&mu);
	g = ptrtab_find(&blocks, (uintptr_t)p);
	if (g && (bad = damaged(g, &d)))
		ptrtab_remove(&blocks, g);
	pthread_mutex_unlock(&mu);
	if (bad)
		report(call_name(c), p, &d);
	return !bad;
}

/* Each call verifies the next eighth of the table, from where the last one
 * stopped, so every live guard is verified within eight calls; a block's
 * own free and realloc always verify it at once. Verifying every guard in
 * every call made gcc -O2 -c on a 540-line file take 17 s of CPU instead of
 * 1.4 s with the checker alone (the table scan, and a cache miss per guard). */
static size_t cursor;

void guard_walk(const char *call)
{
	struct damage d;
	bool bad;

	do {
		bad = false;
		pthread_mutex_lock(&mu);
		for (size_t n = blocks.cap / 8; n && !bad; n--) {
			struct guarded *g = ptrtab_slot(&blocks, cursor = (cursor + 1) & (blocks.cap - 1));
			/* Reported once: armed again, so only new damage shows next time. */
			if (g && (bad = damaged(g, &d)))
				arm(g);
		}
		pthread_mutex_unlock(&mu);
		if (bad)
			report(call, NULL, &d);
	} while (bad);
}

void guard_fork_child(void)
{
	pthread_mutex_init(&mu, NULL);
}
