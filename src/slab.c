/* Header-free small blocks for the drop-in (os_* never use them: their trace
 * is fixed by SPEC part 1).
 *
 * A slab is an ordinary ALLOC heap block, flagged BLOCK_SLAB, whose payload
 * is one page minus a header (or a few bytes more, when a hole it fills could
 * not be split) and starts on a page boundary, so slabs carved one after
 * another tile the heap: each page is a slab, and the next block's header
 * fills its last 32 bytes. A new slab takes a page-aligned hole that an
 * earlier slab left, if there is one. The page starts with struct slab;
 * objects of one size class follow it, packed. A pointer's slab is found by
 * rounding it down to its page and checking the first word there, the slab's
 * address XOR a per-process secret XOR its arena's address (slab_key): no
 * user data and no other block of ours holds that value (a released slab
 * has its word wiped first), and the arena it names must be the one whose
 * heap holds the page. The drop-in's free compares that word with its
 * thread's own arena's key: one comparison says both that p's page is a
 * slab and that it is the thread's.
 *
 * A bitmap says which objects are free, so a second free is caught exactly
 * and the lowest free object is found in a few instructions. Slabs with a
 * free object sit on their class's list; a slab that empties goes back to the
 * core, unless it is the only one of its class left (allocation that
 * alternates with free would otherwise make and break a slab each time).
 *
 * A slab's header lies in the page before its own, so a slab kept by one
 * live object holds that page too, whatever lies there: after a peak, the
 * free run before it. Decay (heap.c) therefore makes a run that stayed free
 * for a window the slab's front: the run's header becomes the slab's, the
 * slab's old header payload, and every page from the run's payload up to the
 * slab goes back (s->front says how far before the slab its block starts).
 * A front is taken back into the index as a free block before its arena's
 * heap would grow (slab_drop_fronts) and when its slab fills up, so that
 * only slabs on the lists have one: memory a program allocates again is
 * reused, not left behind for new address space. */
#include <errno.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>

#include "internal.h"

_Static_assert(sizeof(struct slab) == SLAB_HDR, "struct slab is its header");
_Static_assert(SLAB_HDR % 16 == 0, "objects keep 16-byte alignment");
_Static_assert((SLAB_BYTES - SLAB_HDR) / 16 <= 64 * SLAB_WORDS, "the bitmap covers the smallest class");
_Static_assert(SLAB_MAX % 16 == 0 && SLAB_MAX <= (SLAB_BYTES - SLAB_HDR) / 8,
	       "every class holds at least 8 objects");

uintptr_t slab_secret = 0x9e3779b97f4a7c15u;   /* replaced by slab_init before any slab exists */
uintptr_t link_secret = 0x243f6a8885a308d3u;   /* and this before any link is stored */

#define INV(k) ((uint32_t)((1ULL << 32) / (16 * (k)) + 1))
const uint32_t slab_inverse[SLAB_CLASSES] = {
	INV(1), INV(2), INV(3), INV(4), INV(5), INV(6), INV(7), INV(8),
	INV(9), INV(10), INV(11), INV(12), INV(13), INV(14), INV(15), INV(16),
};
_Static_assert(SLAB_CLASSES == 16, "one reciprocal per class");

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ULL;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dULL;
	return x ^ (x >> 33);
}

void slab_init(void)
{
	uint64_t r[2] = { 0, 0 };
	const char *aux;

	/* From the kernel; failing that, AT_RANDOM's bytes, hashed together so
	 * the secret gives away neither of the values glibc draws from them. */
	if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r && (aux = (const char *)getauxval(AT_RANDOM)))
		memcpy(r, aux, sizeof r);
	/* Never 0; ASLR adds its part. */
	slab_secret = (mix(r[0]) ^ mix(r[1] + (uintptr_t)&slab_secret)) | 1;
	/* Headers in use are sealed with it (block_magic): a program that used
	 * os_* before the drop-in keeps the one its blocks carry. */
	if (!arena_main.heap.started)
		link_secret = mix(r[1]) ^ mix(r[0] + (uintptr_t)&link_secret);
}

static inline unsigned class_of(size_t size)
{
	return (unsigned)(size / 16) - 1;
}

/* t, reached from slab s by its class's list, checked before it is read
 * further (issue 12): NULL, or a slab of s's class in a's heap. */
static struct slab *follow(struct arena *a, struct slab *s, struct slab *t)
{
	if (t && ((uintptr_t)t % SLAB_PAGE || !heap_segment_of(a, t) || t->check != ((uintptr_t)t ^ slab_key(a)) ||
		  t->size != s->size))
		core_corrupt(a, "slab list", s, "a link of it leads to no slab of its class");
	return t;
}

/* s, about to be used: its check word intact (an overflow from below
 * reaches it before the rest of the header) and its counts sane. */
static struct slab *checked(struct arena *a, struct slab *s, size_t size)
{
	if (s->check != ((uintptr_t)s ^ slab_key(a)) || s->size != size || s->cls != class_of(size) ||
	    s->cap != (SLAB_BYTES - SLAB_HDR) / size || s->nfree == 0 || s->nfree > s->cap)
		core_corrupt(a, "slab", s, "its header was overwritten");
	return s;
}

static void list_push(struct arena *a, struct slab *s)
{
	struct slab **head = &a->partial[class_of(s->size)];

	s->prev = NULL;
	s->next = follow(a, s, *head);
	if (*head)
		(*head)->prev = s;
	*head = s;
}

static void list_unlink(struct arena *a, struct slab *s)
{
	struct slab *prev = follow(a, s, s->prev), *next = follow(a, s, s->next);

	/* Its neighbours must link to it: else the unlink writes where the damage says. */
	if ((prev ? prev->next : a->partial[class_of(s->size)]) != s || (next && next->prev != s))
		core_corrupt(a, "slab list", s, "its neighbours do not link to it");
	if (s->prev)
		s->prev->next = s->next;
	else
		a->partial[class_of(s->size)] = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

/* A slab of size's class at page, the payload of a heap block of a just
 * taken for it: every object free, on no list yet. */
static struct slab *slab_make(struct arena *a, char *page, size_t size)
{
	struct slab *s = (struct slab *)page;
	unsigned cap = (unsigned)((SLAB_BYTES - SLAB_HDR) / size);

	*block_tag(block_of(page)) |= BLOCK_SLAB;
	s->check = (uintptr_t)s ^ slab_key(a);
	s->size = (uint16_t)size;
	s->cls = (uint8_t)class_of(size);
	s->cap = (uint8_t)cap;
	s->nfree = (uint16_t)cap;
	s->front = 0;
	for (unsigned w = 0; w < SLAB_WORDS; w++) {
		unsigned lo = 64 * w;
		s->free[w] = cap >= lo + 64 ? ~0ULL : cap > lo ? (1ULL << (cap - lo)) - 1 : 0;
	}
	a->slabs[s->cls]++;
	return s;
}

/* The free block right after slab s as a slab of s's class, if it starts a
 * header before a page (s's block ends there unless it took a hole a few
 * bytes too large to split) and holds one: NULL else. Its header is checked
 * as a block the index hands out is. */
static struct slab *slab_next(struct arena *a, struct slab *s)
{
	struct block_meta *n = block_succ(slab_block(s));
	const char *what;

	if (!n || n->status != STATUS_FREE || n->size < SLAB_BYTES || (uintptr_t)block_payload(n) % SLAB_PAGE)
		return NULL;
	if ((what = check_block_ends(a, n, false)))
		core_corrupt(a, "free block", block_payload(n), what);
	index_take(a, n);
	index_split(a, n, SLAB_BYTES);
	return slab_make(a, block_payload(n), s->size);
}

/* A new slab of size's class, and up to SLAB_AHEAD more beside it (one for
 * every 8 the class has) where the heap has free room right after it: the
 * break's growth, mostly. A slab needs a page of its own, and a heap block
 * between two slabs (perl's 4080-byte arenas) leaves a hole of nearly a page
 * in front of the next one that the program's own blocks may never fit:
 * perl building a hash of 300,000 small arrays had a heap of 170 MiB, glibc
 * 145 MiB; with slabs made together, the holes come once a batch. */
static struct slab *slab_new(struct arena *a, size_t size)
{
	char *page = align_alloc(a, SLAB_PAGE, SLAB_BYTES);
	struct slab *s[SLAB_AHEAD + 1];
	unsigned n = 1, more;

	if (!page)
		return NULL;
	s[0] = slab_make(a, page, size);
	more = a->slabs[class_of(size)] / 8;
	while (n <= more && n <= SLAB_AHEAD && (s[n] = slab_next(a, s[n - 1])))
		n++;
	/* The lowest first in line: the heap fills upwards, and the top's
	 * stay empty longest, for a trim to take. */
	while (n--)
		list_push(a, s[n]);
	return s[0];
}

static void slab_release(struct arena *a, struct slab *s)
{
	struct block_meta *b = slab_block(s);

	list_unlink(a, s);
	a->fronts -= s->front != 0;
	a->slabs[s->cls]--;
	s->check = 0;   /* the page may become any block's payload: it must not pass for a slab */
	*block_tag(b) &= ~BLOCK_SLAB;
	index_release(a, b);
}

/* f's payload up to slab s, in s->front's 16-byte units. */
static size_t front_units(const struct slab *s, struct block_meta *f)
{
	return (size_t)((const char *)s - (char *)block_payload(f)) / 16;
}

struct slab *slab_front_for(struct arena *a, struct block_meta *f)
{
	struct block_meta *b = block_succ(f);
	struct slab *s;

	if (!b || b->status != STATUS_ALLOC || !(*block_tag(b) & BLOCK_SLAB) || !block_tag_ok(b))
		return NULL;
	s = slab_of_block(b);
	/* On its class's list (a free object), where slab_drop_fronts finds it. */
	if (s->check != ((uintptr_t)s ^ slab_key(a)) || slab_block(s) != b || s->nfree == 0)
		return NULL;
	/* The front's units are 16 bits: past a MiB, the one page kept is
	 * under 0.4% of the run. */
	return front_units(s, f) <= UINT16_MAX ? s : NULL;
}

void slab_take_front(struct arena *a, struct block_meta *f, struct slab *s)
{
	index_give_to_next(a, f);
	a->fronts += !s->front;
	s->front = (uint16_t)front_units(s, f);
}

/* s's front back to the index, s's block starting at s again: the free
 * block it joins. Its header's page is written again; the rest stays
 * purged, and waits a window again before it is a front again. */
static struct block_meta *drop_front(struct arena *a, struct slab *s)
{
	struct block_meta *f = index_take_front(a, slab_block(s), (char *)block_of(s), BLOCK_CLEAN);

	s->front = 0;
	a->fronts--;
	return f;
}

bool slab_drop_fronts(struct arena *a, size_t need)
{
	bool any = false;

	for (unsigned c = 0; c < SLAB_CLASSES && a->fronts; c++)
		for (struct slab *s = a->partial[c]; s && a->fronts; s = follow(a, s, s->next))
			if (s->front) {
				any = true;
				if (drop_front(a, s)->size >= need)
					return true;
			}
	/* Counted but on no list: the heap checker names that; the heap
	 * grows all the same, and no call loops on the count. */
	a->fronts = 0;
	return any;
}

void *slab_alloc(struct arena *a, size_t size)
{
	void *p;

	if (!a->partial[class_of(size)] && !slab_new(a, size))
		return core_nomem();
	slab_alloc_more(a, size, &p, 1);
	return p;
}

unsigned slab_alloc_more(struct arena *a, size_t size, void **v, unsigned n)
{
	unsigned got = 0;
	struct slab *s = a->partial[class_of(size)];

	/* From the first slab with room only: taking from the next ones too
	 * left churn small's peak RSS 100 KiB higher (medians of 8), for no
	 * fewer instructions. */
	if (n && s) {
		checked(a, s, size);
		for (unsigned w = 0; w < SLAB_WORDS && got < n; w++) {
			uint64_t f = s->free[w];
			unsigned from = got;

			for (; f && got < n; f &= f - 1)
				v[got++] = (char *)s + SLAB_HDR + (64 * w + (unsigned)__builtin_ctzll(f)) * size;
			s->free[w] = f;
			s->nfree = (uint16_t)(s->nfree - (got - from));
		}
		if (s->nfree == 0) {
			/* Only slabs on the lists have fronts (slab_drop_fronts finds them there). */
			if (s->front)
				drop_front(a, s);
			list_unlink(a, s);
		}
	}
	return got;
}

/* Object p (at index i) of s, live, back. */
static inline void put_back(struct arena *a, struct slab *s, unsigned i)
{
	s->free[i / 64] |= 1ULL << (i % 64);
	if (s->nfree++ == 0) {
		struct slab *h = a->partial[class_of(s->size)];
		/* An empty slab kept alone on its list: s joining it, it goes
		 * (those slab_new made ahead wait for their use). */
		if (h && h->nfree == h->cap && !h->next)
			slab_release(a, h);
		list_push(a, s);
	}
	/* Emptied: back to the core, unless no other slab of its class has room. */
	if (s->nfree == s->cap && (s->prev || s->next))
		slab_release(a, s);
}

void slab_free(struct arena *a, struct slab *s, void *p)
{
	put_back(a, s, (unsigned)slab_index(s, p));
}

unsigned slab_free_many(struct arena *a, void *const *v, unsigned n)
{
	uintptr_t key = slab_key(a);
	unsigned k;

	for (k = 0; k < n; k++) {
		struct slab *s = slab_page(v[k]);
		size_t off = (size_t)((char *)v[k] - (char *)s) - SLAB_HDR;

		if (s->check != ((uintptr_t)s ^ key))
			break;
		put_back(a, s, (unsigned)((off * slab_inverse[s->cls % SLAB_CLASSES]) >> 32));
	}
	return k;
}

void slab_trim(struct arena *a)
{
	/* Empty slabs on a class's list are the one put_back keeps alone and
	 * those slab_new made ahead, at the list's head unless a slab that
	 * filled up has come back since: the first SLAB_AHEAD + 1 are the
	 * ones to look at, so a pass costs the classes, not the slabs (decay
	 * makes one every half window). */
	for (unsigned c = 0; c < SLAB_CLASSES; c++) {
		struct slab *s = a->partial[c], *next;

		for (unsigned k = 0; s && k <= SLAB_AHEAD; k++, s = next) {
			next = follow(a, s, s->next);
			if (s->nfree == s->cap)
				slab_release(a, s);
		}
	}
}

#define FAIL(...) do { diag_fmt(msg, len, __VA_ARGS__); return -1; } while (0)

int slab_check(struct arena *a, struct block_meta *b, char *msg, size_t len)
{
	struct slab *s = slab_of_block(b);
	size_t front = (size_t)((char *)s - (char *)block_payload(b));
	unsigned n = 0;

	/* A reused hole may leave a few bytes too few to split off past the page. */
	if ((char *)s < (char *)block_payload(b) || b->size - front < SLAB_BYTES ||
	    b->size - front >= SLAB_BYTES + MIN_SPLIT)
		FAIL("slab %p: block of %zu bytes, not a page at a page boundary", (void *)b, b->size);
	if (s->check != ((uintptr_t)s ^ slab_key(a)))
		FAIL("slab %p: check word %zx overwritten", (void *)b, (size_t)s->check);
	if ((size_t)s->front * 16 != front)
		FAIL("slab %p: %zu bytes before it, its front says %zu", (void *)b, front, (size_t)s->front * 16);
	if (s->front && s->nfree == 0)
		FAIL("slab %p: full, with a front (only slabs on the lists have one)", (void *)b);
	if (s->size < 16 || s->size > SLAB_MAX || s->size % 16 || s->cls != class_of(s->size) ||
	    s->cap != (SLAB_BYTES - SLAB_HDR) / s->size)
		FAIL("slab %p: object size %u, %u objects", (void *)b, s->size, s->cap);
	for (unsigned w = 0; w < SLAB_WORDS; w++) {
		unsigned lo = 64 * w;
		uint64_t beyond = s->cap >= lo + 64 ? 0 : s->cap > lo ? ~((1ULL << (s->cap - lo)) - 1) : ~0ULL;
		if (s->free[w] & beyond)
			FAIL("slab %p: free bits past its %u objects", (void *)b, s->cap);
		n += (unsigned)__builtin_popcountll(s->free[w]);
	}
	if (n != s->nfree)
		FAIL("slab %p: %u free bits, %u counted", (void *)b, n, s->nfree);
	if (s->nfree > 0) {
		struct slab *h = a->partial[class_of(s->size)];
		if (s->prev ? s->prev->next != s : h != s)
			FAIL("slab %p: has free objects but is not on its class's list", (void *)b);
	} else if (s->prev || s->next || a->partial[class_of(s->size)] == s) {
		FAIL("slab %p: full but on its class's list", (void *)b);
	}
	return 0;
}
