/* Arenas: which thread allocates where, the locks, blocks that cross
 * threads, and fork.
 *
 * While the process has a single thread everything is arena_main (the brk
 * heap) and nothing is locked. From the second thread on, each thread is bound
 * to an arena and takes only that arena's lock: the main thread keeps
 * arena_main, each other thread gets an arena whose threads have all exited,
 * else a new one (heap_new_arena: its own 64 MiB regions) while there are
 * fewer than tune_arena_limit() (2 per CPU by default, 1 per CPU while
 * more than 16 threads per CPU have arenas, M_ARENA_MAX, MALLOC_ARENA_MAX,
 * OSMEM_ARENAS), else the one with the fewest threads. A
 * thread that finds its arena's lock taken moves, as glibc's arena_get2 does:
 * to the first arena whose lock it can take at once, or to a new one, and
 * waits only when neither can be had.
 *
 * A block freed by a thread bound elsewhere goes onto its arena's remote
 * list with one compare-and-swap, never waiting for that arena's lock; the
 * arena's own threads take the list back whenever they enter it. Only a
 * block of an arena that no thread is bound to is freed there directly.
 *
 * fork: the prepare handler takes stdio's list lock (glibc takes it after the
 * handlers; taking it first keeps glibc's own order, bug 19431), then every
 * arena's lock in list order, then the mapped list's; the child starts with
 * fresh locks. A single-threaded process takes none of them, so a fork from
 * a signal handler that interrupted malloc or fork cannot deadlock. */
#define _GNU_SOURCE
#include <elf.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <string.h>
#include <sys/auxv.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dropin.h"
#include "insight.h"

/* glibc's stdio list lock (exported since 2.2.5; recursive). */
extern void _IO_list_lock(void);
extern void _IO_list_unlock(void);

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;   /* creation and binding */
static struct arena *tail = &arena_main;   /* the newest arena */
static unsigned narenas = 1;
/* Threads bound to an arena, and while they crowd the CPUs the arenas
 * (the first room) they may be bound to: tune_arena_limit's of that
 * count, one per CPU; a thread in an arena past it moves at its next
 * entry. Both follow binds and exits, under list_lock. */
static unsigned bound_threads;
static unsigned room = UINT_MAX;
TLS_IE struct arena *arena_bound;
static TLS_IE unsigned contentions;   /* the thread found its arena taken this many times running */

/* A thread moves after finding its arena's lock taken this many times in a
 * row: one that another thread only touched (a realloc of one of its
 * blocks) stays, two threads bound to one arena part soon. */
#define MOVE_AFTER 4
static pthread_key_t exit_key;        /* unbinds a thread when it exits */
static bool exit_key_ok;

struct arena *arena_next(struct arena *a)
{
	return a ? __atomic_load_n(&a->next, __ATOMIC_ACQUIRE) : &arena_main;
}

unsigned arena_count(void)
{
	return __atomic_load_n(&narenas, __ATOMIC_RELAXED);
}

/* The vDSO's clock_gettime, found in its dynamic symbol table (arena_init),
 * or NULL. Not libc's wrapper: a process that never reads the clock itself
 * would fault in a window of libc's text for it at its first decay check,
 * 36 KiB of resident memory in churn small (2.5 MiB). */
typedef int (*clock_fn)(clockid_t, struct timespec *);
static clock_fn vdso_clock;
static clock_fn find_vdso_clock(void);

static void unbind(void *arg);
static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);

/* The process's first thread (its tid is the pid), which binds to
 * arena_main: pthread_self() says, where asking the kernel for both ids
 * cost two system calls at each thread's first arena (50,000 short-lived
 * threads: 100,000 calls, 3% of glibc's time). Known from the first call
 * if the first thread made it, and in a fork child (its one thread is its
 * first); else asked. */
static pthread_t first_thread;
static bool first_thread_known;

static bool on_first_thread(void)
{
	if (first_thread_known)
		return pthread_equal(pthread_self(), first_thread);
	return gettid() == getpid();
}

void arena_init(void)
{
	if ((first_thread_known = gettid() == getpid()))
		first_thread = pthread_self();
	arena_main.grow_pad = tune.top_pad;
	arena_main.populate_moves = true;
	if (!arena_main.heap.started)   /* a program that used os_* first keeps their index */
		arena_main.idx.lists = true;
	exit_key_ok = pthread_key_create(&exit_key, unbind) == 0;
	vdso_clock = find_vdso_clock();
	/* Registered at the first call, so ours is the last prepare handler to
	 * run: handlers of other libraries may still allocate before it. */
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ---- the locks ---- */

/* Spins this many reads of the lock before sleeping: about what a short
 * critical section of the core takes (glibc's adaptive mutex spins up to
 * 100 times too). */
#define LOCK_SPINS 100

/* l was taken: spin while its holder is likely to let go soon, then mark it
 * waited for (2) and sleep until a holder that lets it go wakes one. */
void arena_lock_wait(int *l)
{
	for (int i = 0; i < LOCK_SPINS; i++) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
		if (__atomic_load_n(l, __ATOMIC_RELAXED) == 0 && arena_lock_try(l))
			return;
	}
	while (__atomic_exchange_n(l, 2, __ATOMIC_ACQUIRE) != 0)
		syscall(SYS_futex, l, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
}

void arena_lock_wake(int *l)
{
	syscall(SYS_futex, l, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* ---- binding ---- */

/* A new arena, within the limit unless past_limit (every arena there is
 * out of service, issue 12). */
static struct arena *create_locked(bool past_limit)
{
	struct arena *a;

	if ((!past_limit && narenas >= tune_arena_limit(bound_threads)) || !(a = heap_new_arena()))
		return NULL;
	a->grow_pad = tune.top_pad;
	a->populate_moves = true;
	a->id = narenas;
	__atomic_store_n(&tail->next, a, __ATOMIC_RELEASE);
	tail = a;
	__atomic_store_n(&narenas, narenas + 1, __ATOMIC_RELAXED);
	return a;
}

/* bound_threads changed by d: room follows, and is no limit at all unless
 * the threads crowd the CPUs (an arena made past the limit, or before the
 * limit was lowered, keeps its threads). Once in a thread's life each way. */
static void count_bound(int d)
{
	unsigned limit;

	pthread_mutex_lock(&list_lock);
	bound_threads += (unsigned)d;
	limit = tune_arena_limit(bound_threads);
	__atomic_store_n(&room, limit < tune_arena_limit(0) ? limit : UINT_MAX, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&list_lock);
}

static inline bool in_room(const struct arena *a)
{
	return a->id < __atomic_load_n(&room, __ATOMIC_RELAXED);
}

/* An arena past the room that its threads have left: none allocates there
 * any more, so a block freed into it goes back at once, merged with its
 * free neighbours (arena_free_locked), as decay would give it back later. */
static inline bool abandoned(const struct arena *a)
{
	return !in_room(a) && !__atomic_load_n(&a->threads, __ATOMIC_RELAXED);
}

static void move_to(struct arena *a)
{
	struct arena *old = arena_bound;

	if (old)
		__atomic_fetch_sub(&old->threads, 1, __ATOMIC_RELAXED);
	else
		count_bound(1);
	__atomic_fetch_add(&a->threads, 1, __ATOMIC_RELAXED);
	arena_bound = a;
	tc_bound();
}

/* A thread's first arena, or the next when its own is out of service or
 * past the room. */
static struct arena *bind(void)
{
	struct arena *a = NULL, *fewest = &arena_main;

	if (on_first_thread() && !arena_main.damaged) {
		a = &arena_main;
	} else {
		pthread_mutex_lock(&list_lock);
		for (struct arena *b = arena_next(&arena_main); b && !a; b = arena_next(b)) {
			if (b->damaged || !in_room(b))
				continue;
			if (!b->threads)
				a = b;
			else if (fewest->damaged || b->threads < fewest->threads)
				fewest = b;
		}
		/* Every arena in the room out of service: the thread's own, if
		 * it is not, else one more past the limit (issue 12). */
		if (!a && !(a = create_locked(false)) && fewest->damaged)
			a = arena_bound && !arena_bound->damaged ? arena_bound : create_locked(true);
		pthread_mutex_unlock(&list_lock);
		if (!a)
			a = fewest;
	}
	move_to(a);
	if (exit_key_ok)
		pthread_setspecific(exit_key, a);
	return a;
}

/* a's lock is taken: an arena no thread is bound to whose lock is free,
 * else a new one, else wait for a. Only to an idle arena: moving in beside
 * another thread would make it the next one to find its lock taken, and
 * threads would chase each other round the arenas. Returns the arena
 * locked, now the thread's. */
static __attribute__((noinline)) struct arena *contended(struct arena *a)
{
	struct arena *b;

	for (b = arena_next(a) ? arena_next(a) : &arena_main; b != a; b = arena_next(b) ? arena_next(b) : &arena_main)
		if (!b->damaged && in_room(b) && !__atomic_load_n(&b->threads, __ATOMIC_RELAXED) &&
		    arena_lock_try(&b->lock))
			goto moved;
	pthread_mutex_lock(&list_lock);
	b = create_locked(false);
	pthread_mutex_unlock(&list_lock);
	if (b) {
		arena_lock_take(&b->lock);
		goto moved;
	}
	arena_lock_take(&a->lock);
	return a;
moved:
	move_to(b);
	return b;
}

/* A free top larger than the trim threshold goes back, all but M_TOP_PAD
 * bytes: M_TRIM_THRESHOLD once the program sets it; else, once the process
 * has threads, twice the mmap threshold (glibc's default rule). A
 * single-threaded process keeps its top until malloc_trim: giving back and
 * faulting in again cost it more than they save (bigbuf: 0.07x glibc's time
 * became 0.6x).
 *
 * Under the default rule, an arena whose heap grew again since its last
 * trim (what went back was wanted again, at a page fault a page) gives its
 * top back only once it has stayed over the threshold for TRIM_DELAY_MS,
 * at the first free into the arena after that (malloc_trim and the exit of
 * its last thread do at once). A heap that swings had given back memory at
 * each low and faulted it in again at each high: mstress, 2 threads, went
 * from 17-19k page faults to 14k and ran 15% faster, 8 threads 9% faster,
 * peak RSS the same. Without the first trim at once larson's peak RSS rose
 * 1-3%. */
#define TRIM_DELAY_MS 1000

static clock_fn find_vdso_clock(void)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Phdr *ph;
	const Elf64_Dyn *d = NULL;
	const Elf64_Sym *sym = NULL;
	const char *str = NULL;
	uintptr_t bias = 0;
	size_t nsym = 0;
	bool loaded = false;

	if (!eh || eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 ||
	    eh->e_ident[EI_MAG2] != ELFMAG2 || eh->e_ident[EI_MAG3] != ELFMAG3 || eh->e_ident[EI_CLASS] != ELFCLASS64)
		return NULL;
	ph = (const Elf64_Phdr *)((const char *)eh + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !loaded) {
			bias = (uintptr_t)eh + ph[i].p_offset - ph[i].p_vaddr;
			loaded = true;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			d = (const Elf64_Dyn *)((const char *)eh + ph[i].p_offset);
		}
	}
	for (; loaded && d && d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_SYMTAB)
			sym = (const Elf64_Sym *)(d->d_un.d_ptr + bias);
		else if (d->d_tag == DT_STRTAB)
			str = (const char *)(d->d_un.d_ptr + bias);
		else if (d->d_tag == DT_HASH)   /* nbucket, nchain: nchain is the number of symbols */
			nsym = ((const Elf64_Word *)(d->d_un.d_ptr + bias))[1];
	}
	for (size_t i = 0; sym && str && i < nsym; i++)
		if (ELF64_ST_TYPE(sym[i].st_info) == STT_FUNC && sym[i].st_shndx != SHN_UNDEF &&
		    str_same(str + sym[i].st_name, "__vdso_clock_gettime"))
			return (clock_fn)(sym[i].st_value + bias);
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	if (!vdso_clock || vdso_clock(CLOCK_MONOTONIC_COARSE, &t) != 0)
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC_COARSE, &t);   /* no vDSO (valgrind) */
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Memory given back to the system by arena a, whose lock the caller holds:
 * counted for OSMEM_STATS, and with OSMEM_TRACE a line of kind why ("decay"
 * for a pass, "trim" for the rest) written at once, so that a trace shows
 * what the purger gave back while the program made no call. */
static void returned(struct arena *a, size_t bytes, const char *why)
{
	if (bytes) {
		a->counters.returned_bytes += bytes;
		a->counters.returns++;
		if (insight_trace)
			trace_given(why, bytes);
	}
}

/* Any trim of a: its top past pad back, the heap's size after it noted.
 * Returns the bytes given back, for the caller to count (returned). */
static size_t trim_now(struct arena *a, size_t pad)
{
	size_t before = a->counters.heap_bytes;

	heap_trim(a, pad);
	a->top_over_since = 0;
	a->trimmed_to = a->counters.heap_bytes;
	return before - a->counters.heap_bytes;
}

/* Under an address-space limit (tune.as_limited) a free top goes back at
 * once by the default rule, single-threaded too: a program that recovered
 * from running out must find the room its own next mmap needs. */
static void trim_over_threshold(struct arena *a)
{
	size_t at = tune.trim_threshold ? tune.trim_threshold
			: !__libc_single_threaded || tune.as_limited ? 2 * tune_mmap_from() : 0;
	struct block_meta *last;

	if (!at)
		return;
	if (!(last = heap_last(a)) || last->status != STATUS_FREE || last->size <= at) {
		a->top_over_since = 0;   /* used again: its wait starts over */
		return;
	}
	if (!tune.trim_threshold && !tune.as_limited && a->trimmed_to && a->counters.heap_bytes > a->trimmed_to) {
		uint64_t now = now_ms() | 1;   /* 0: not waiting */

		if (!a->top_over_since)
			a->top_over_since = now;
		if (now - a->top_over_since < TRIM_DELAY_MS)
			return;
	}
	returned(a, trim_now(a, tune.top_pad), "trim");
}

/* ---- decay ----
 * Free memory that nobody uses goes back to the system once it has stayed
 * unused for the window, tune.decay_ms (OSMEM_DECAY_MS, 600 ms by default): a
 * program that frees and allocates again within it pays nothing, one whose
 * peak has passed drops to what it uses. A pass over an arena, every half
 * window while it holds memory not yet given back, gives back its empty
 * slabs (into the heap) and the free blocks of OSMEM_DECAY_MIN bytes and
 * more that the last pass found free already and that nothing has taken,
 * merged or split since (heap_decay): their whole inner pages are purged
 * (MADV_DONTNEED, so resident memory drops), and a free top is trimmed
 * (the break shrinks, a region decommits), so that address space goes back
 * too. A free block goes back between half a window and a window after it
 * was freed.
 *
 * The pass runs inside the calls that reach the arena (a malloc the thread
 * cache cannot serve, a free the cache does not take), when the clock,
 * read every DECAY_TICKS of them, says it is due; in a single-threaded
 * process also every TC_TICK blocks its thread cache hands out
 * (arena_decay_main); and, once the process has threads, from a thread of
 * osmem's own (the purger) that wakes when the next arena's pass is due, so
 * an idle process gives its memory back too. A single-threaded process
 * starts no thread: its memory goes back at its next calls. 0: every such call gives back at once; -1:
 * never (as before decay: malloc_trim and the trim threshold). */

/* What a pass gives back, its top and its purged pages, counts as one. */
static void decay_pass(struct arena *a, uint64_t now)
{
	struct block_meta *last;
	size_t left, given = 0;

	slab_trim(a);
	last = heap_last(a);
	if (last && last->status == STATUS_FREE && (!tune.decay_ms || (*block_tag(last) & BLOCK_AGED)))
		given = trim_now(a, tune.top_pad);
	given += heap_decay(a, OSMEM_DECAY_MIN, &left);
	if (!tune.decay_ms && left)   /* at once: what this pass saw goes now */
		given += heap_decay(a, OSMEM_DECAY_MIN, &left);
	returned(a, given, "decay");
	a->dirty = left != 0;
	a->decay_at = now + (uint64_t)tune.decay_ms / 2;   /* the next pass, at the earliest */
}

/* Passes are half a window apart at least: what one sees free goes back
 * at the next. */
void arena_decay_due(struct arena *a)
{
	uint64_t now;

	if (tune.decay_ms < 0) {
		a->dirty = false;
		return;
	}
	now = now_ms();
	if (now >= a->decay_at)
		decay_pass(a, now);
}

static void decay_locked(struct arena *a, void *arg)
{
	(void)arg;
	if (a->dirty)
		arena_decay_due(a);
}

void arena_decay_main(void)
{
	if (arena_main.dirty)
		arena_with_lock(&arena_main, decay_locked, NULL);
}

bool purger_started;

/* A pass over every arena that holds memory not yet given back, when it is
 * due and its lock is free this moment (one that is busy ticks by itself);
 * then a sleep until the next arena's pass is due, half a window at most,
 * so that a pass is not late by a whole sleep. It allocates nothing, so it
 * never binds an arena, and blocks every signal: the program's signals go
 * to its own threads. */
#define PURGER_MIN_MS 10

static void *purger_main(void *arg)
{
	(void)arg;
	for (;;) {
		uint64_t now = now_ms(), next = now + (tune.decay_ms > 2 * PURGER_MIN_MS ? tune.decay_ms / 2 : PURGER_MIN_MS);
		struct timespec t;

		for (struct arena *a = arena_next(NULL); a; a = arena_next(a)) {
			uint64_t at = __atomic_load_n(&a->decay_at, __ATOMIC_RELAXED);

			/* Blocks freed into an arena that has no thread, while its
			 * lock was taken, wait on its remote list for nobody else:
			 * taking the lock takes them back. */
			if (__atomic_load_n(&a->remote, __ATOMIC_RELAXED) && !__atomic_load_n(&a->threads, __ATOMIC_RELAXED) &&
			    !a->damaged && arena_lock_if_free(a) > 0)
				arena_leave(a, true);
			if (!__atomic_load_n(&a->dirty, __ATOMIC_RELAXED))
				continue;
			if (at <= now) {
				if (!arena_lock_try(&a->lock)) {
					at = now + PURGER_MIN_MS;   /* look again soon */
				} else {
					if (!a->damaged && a->dirty)   /* again, now that it is ours */
						arena_decay_due(a);
					at = a->dirty ? a->decay_at : 0;   /* 0: nothing to wait for */
					arena_lock_drop(&a->lock);
				}
			}
			if (at && at < next)
				next = at;
		}
		next = next > now + PURGER_MIN_MS ? next - now : PURGER_MIN_MS;
		t.tv_sec = (time_t)(next / 1000);
		t.tv_nsec = (long)(next % 1000) * 1000000;
		while (nanosleep(&t, &t) != 0)
			;
	}
	return NULL;
}

/* Started at the first call into an arena once the process has threads
 * (in a fork's child, again), with no lock of ours held (pthread_create
 * allocates). A failure (no threads left, a sandbox) leaves decay to the
 * calls. With decay off it is marked started all the same: the callers'
 * test stays false. */
void arena_purger_start(void)
{
	pthread_attr_t attr;
	pthread_t purger;
	sigset_t all, old;

	if (__atomic_exchange_n(&purger_started, true, __ATOMIC_ACQ_REL) || tune.decay_ms < 0)
		return;
	if (pthread_attr_init(&attr) != 0)
		return;
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&purger, &attr, purger_main, NULL) == 0)
		pthread_setname_np(purger, "osmem-purge");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

/* ---- the outbox ----
 * Blocks the thread freed into one other arena wait here, chained as on a
 * remote list and marked freed, and go onto that arena's list together, with
 * one compare-and-swap instead of one each (a consumer of a producer's
 * blocks pulled the list's cache line across for every free): when
 * OUTBOX_MAX wait or OUTBOX_BYTES, when a block of another arena comes, when the thread
 * next enters an arena, at malloc_trim, and when it exits (after which it
 * sends each block at once). */
#define OUTBOX_MAX 32
#define OUTBOX_BYTES (64 * 1024)   /* ... or blocks of this many bytes */
static TLS_IE struct {
	struct arena *to;
	void *first, *last;     /* newest, oldest */
	unsigned n;
	size_t bytes;
	bool armed;             /* its exit will send it (exit_key set) */
	bool closed;            /* the thread is exiting */
} outbox;

static void outbox_send(void)
{
	if (outbox.n)
		core_remote_push_chain(outbox.to, outbox.first, outbox.last);
	outbox.to = NULL;
	outbox.first = outbox.last = NULL;
	outbox.n = 0;
	outbox.bytes = 0;
}

/* p, of n bytes, marked freed, for a. */
static inline void outbox_put(struct arena *a, void *p, size_t n)
{
	/* A thread that only frees other threads' blocks has no arena, and
	 * maybe no cache, whose exit would send them. */
	if (__builtin_expect(!outbox.armed, 0)) {
		outbox.armed = true;
		if (exit_key_ok && !pthread_getspecific(exit_key))
			pthread_setspecific(exit_key, &outbox);
	}
	if (outbox.to != a) {
		outbox_send();
		outbox.to = a;
		outbox.last = p;
	}
	*(uintptr_t *)p = core_link_mangle(p, outbox.first);
	outbox.first = p;
	outbox.bytes += n;
	if (++outbox.n == OUTBOX_MAX || outbox.bytes >= OUTBOX_BYTES || outbox.closed)
		outbox_send();
}

void arena_outbox_close(void)
{
	outbox.closed = true;
	outbox_send();
}

/* p, where a link of a's remote list leads: inside a's heap, so that it
 * may be read. */
static inline bool remote_within(struct arena *a, void *p)
{
	return (uintptr_t)p % 16 == 0 && heap_segment_of(a, p);
}

/* What is wrong with p (remote_within) as a block other threads freed into
 * a: NULL when nothing. Checked before its link is read. */
static const char *remote_bad(struct arena *a, void *p)
{
	struct slab *s;

	if (!tc_marked(p))
		return "the block there is not marked freed";
	if ((s = slab_of(p)))
		return slab_object(s, p) == SLAB_OBJ_LIVE ? NULL : "not an object in use in its slab";
	return heap_in_use(a, p) ? NULL : "not a block in use";
}

/* Takes back what other threads freed into a (its lock held): with reuse
 * (a is the caller's, which is about to allocate) into the thread's cache
 * while it has room, where its next mallocs find them with no lock (a
 * producer whose consumers free its blocks), else into a. A damaged
 * link is reported, naming the block it is in; the rest of the list stays
 * where it is (lost, never handed out twice). Each block is read once, in
 * its turn: where its link leads is only checked to lie in the arena before
 * the next turn reads it. */
static __attribute__((noinline)) void drain_remote(struct arena *a, void *p, bool reuse)
{
	void *from = NULL, *next;
	struct slab *s;
	const char *bad;

	reuse = reuse && !tc_off;
	for (; p; from = p, p = next) {
		if ((bad = remote_bad(a, p))) {
			diag_corrupt("remote-free list", from ? from : p, bad);
			break;
		}
		next = core_link_next(p);
		if (next && !remote_within(a, next)) {
			diag_corrupt("remote-free list", p, "the link leads outside the arena");
			next = NULL;
		}
		s = slab_of(p);
		if (!reuse || !tc_keep(s, p))
			arena_free_locked(a, s, p);
	}
}

/* What a's lock holder takes back first: the blocks other threads freed
 * into a, and, when a is its own arena, those its frees deferred; then, if
 * any came, the free top over the threshold goes back. */
static inline void take_remote(struct arena *a, bool reuse)
{
	void *p = core_remote_take(a);
	bool deferred = tc->ndefer && a == arena_bound;

	if (p)
		drain_remote(a, p, reuse);
	if (deferred)
		tc_release_deferred(a);
	if (p || deferred)
		trim_over_threshold(a);
}

struct arena *arena_enter_threaded(bool *held)
{
	struct arena *a = arena_bound;

	if (outbox.n)
		outbox_send();
	if (__builtin_expect(!purger_started, 0))
		arena_purger_start();
	if (__builtin_expect(!a || a->damaged || !in_room(a), 0))
		a = bind();
	if (arena_lock_try(&a->lock))
		contentions = 0;
	else if (++contentions < MOVE_AFTER)
		arena_lock_take(&a->lock);
	else {
		contentions = 0;
		a = contended(a);
	}
	*held = true;
	arena_held = a;
	take_remote(a, true);
	return a;
}

bool arena_lock(struct arena *a)
{
	if (__libc_single_threaded)
		return false;
	arena_lock_take(&a->lock);
	arena_held = a;
	take_remote(a, false);
	return true;
}

int arena_lock_if_free(struct arena *a)
{
	if (__libc_single_threaded || a == arena_bound)
		return arena_lock(a);
	if (!arena_lock_try(&a->lock))
		return -1;
	arena_held = a;
	take_remote(a, false);
	return 1;
}

TLS_IE struct arena *arena_held;

void arena_recover(diag_jmp *outer)
{
	struct arena *a = arena_held;

	diag_recover = outer;
	if (a) {
		arena_held = NULL;
		arena_lock_drop(&a->lock);
	}
}

void arena_free_locked(struct arena *a, struct slab *s, void *p)
{
	const char *what;

	if (a->damaged)   /* out of service: what it held stays where it is */
		return;
	a->dirty = true;
	tc_unmark(p);
	if (s) {
		slab_free(a, s, p);
	} else if ((what = check_block(a, block_of(p)))) {
		misuse_header("free", a, p, what);
	} else {
		struct block_meta *b = index_release(a, block_of(p));

		if (__builtin_expect(abandoned(a), 0) && tune.decay_ms >= 0)
			returned(a, heap_purge_block(b, OSMEM_DECAY_MIN), "decay");
	}
}

/* p, of a, for a's remote list, marked freed. */
static inline void to_outbox(struct arena *a, struct slab *s, void *p)
{
	tc_mark(p);
	outbox_put(a, p, s ? s->size : block_of(p)->size);
}

/* a, to free into, locked (arena_lock_if_free's answer) when it is the
 * caller's arena, or nobody's and free; else -1: the blocks go onto its
 * remote list, by the outbox. */
static inline int lock_to_free(struct arena *a)
{
	if (__libc_single_threaded || a == arena_bound || !__atomic_load_n(&a->threads, __ATOMIC_RELAXED))
		return arena_lock_if_free(a);
	return -1;
}

/* After frees into a, locked by lock_to_free: its free top over the
 * threshold back, decay's count, the lock let go. */
static inline void freed_into(struct arena *a, int held)
{
	trim_over_threshold(a);
	arena_tick(a);
	arena_leave(a, held);
}

static inline void give_back_to(struct arena *a, struct slab *s, void *p)
{
	int held = lock_to_free(a);

	if (held < 0) {
		to_outbox(a, s, p);
		return;
	}
	if (insight_check)
		insight_check_heap(a, "free");
	arena_free_locked(a, s, p);
	freed_into(a, held);
}

/* OSMEM_ABORT_ON_ERROR=0: the same inside a recovery point. */
static __attribute__((noinline)) void give_back_recoverable(struct arena *a, struct slab *s, void *p)
{
	diag_jmp jb, *outer = diag_recover;

	diag_recover = &jb;
	if (__builtin_setjmp(jb)) {
		arena_recover(outer);   /* what p was stays where it is */
		return;
	}
	give_back_to(a, s, p);
	diag_recover = outer;
}

void arena_give_back(struct arena *a, struct slab *s, void *p)
{
	if (a->damaged)
		return;
	if (__builtin_expect(!diag_abort, 0))
		give_back_recoverable(a, s, p);
	else
		give_back_to(a, s, p);
}

/* The arena that owns p, a block osmem handed out. */
static inline struct arena *owner_of(void *p, struct slab *s)
{
	return s ? slab_arena(s) : heap_arena_of(p);
}

/* The slab of p when the batch is of slab objects, else NULL: a heap
 * block, whose page's first word (slab_of's test) is not read, a cache
 * miss for each block the cache gives back long after it was freed. */
static inline struct slab *slab_or_not(void *p, bool slabs)
{
	return slabs ? slab_page(p) : NULL;
}

void arena_give_back_many(void **v, unsigned n, bool slabs)
{
	unsigned i = 0;

	/* A report inside may unwind: then each goes alone, recoverably. */
	if (__builtin_expect(!diag_abort, 0)) {
		for (; i < n; i++) {
			struct slab *s = slab_or_not(v[i], slabs);

			arena_give_back(owner_of(v[i], s), s, v[i]);
		}
		return;
	}
	while (i < n) {
		struct slab *s = slab_or_not(v[i], slabs);
		struct arena *a = owner_of(v[i], s);
		int held;

		if (a->damaged) {   /* out of service: it keeps what it held */
			i++;
			continue;
		}
		if ((held = lock_to_free(a)) < 0) {
			to_outbox(a, s, v[i++]);
			continue;
		}
		/* Those of a that follow go under the same lock. */
		if (slabs) {
			unsigned k;

			/* Unmarked first: an emptied slab goes back to the heap. */
			for (unsigned j = i; j < n; j++)
				tc_unmark(v[j]);
			a->dirty = true;
			/* The first is a's (its word named a): k is at least 1. */
			k = slab_free_many(a, v + i, n - i);
			i += k ? k : (arena_free_locked(a, s, v[i]), 1);
		} else {
			do
				arena_free_locked(a, NULL, v[i]);
			while (++i < n && heap_arena_of(v[i]) == a);
		}
		freed_into(a, held);
	}
}

bool arena_with_lock(struct arena *a, void (*fn)(struct arena *a, void *arg), void *arg)
{
	diag_jmp jb, *outer = diag_recover;
	bool held;

	if (a->damaged)
		return false;
	if (!diag_abort) {
		diag_recover = &jb;
		if (__builtin_setjmp(jb)) {
			arena_recover(outer);
			return false;
		}
	}
	held = arena_lock(a);
	fn(a, arg);
	arena_leave(a, held);
	diag_recover = outer;
	return true;
}

static void usage_locked(struct arena *a, void *u)
{
	stats_usage(a, u);
}

bool arena_usage(struct arena *a, struct heap_usage *u)
{
	return arena_with_lock(a, usage_locked, u);
}

/* The last thread out of a: what a holds free beyond a commit's worth goes back. */
static void leave_locked(struct arena *a, void *arg)
{
	(void)arg;
	slab_trim(a);
	returned(a, trim_now(a, OSMEM_ARENA_COMMIT), "trim");
}

/* A thread exits: its arena may go to the next thread that needs one, with
 * what it holds free given back beyond a commit's worth. One out of
 * service is no thread's any more, and nothing in it is trimmed. */
static void unbind(void *arg)
{
	struct arena *a = arena_bound;

	(void)arg;
	tc_flush();
	arena_outbox_close();
	if (!a)
		return;
	arena_bound = NULL;
	tc_bound();
	count_bound(-1);
	if (__atomic_sub_fetch(&a->threads, 1, __ATOMIC_RELAXED) == 0 && a != &arena_main)
		arena_with_lock(a, leave_locked, NULL);
}

struct trim_all {
	size_t pad;
	bool any;
};

/* malloc_trim's work in a: its empty slabs, its free top past pad, and, as
 * glibc's does, the whole pages inside its other free blocks (a free block
 * that a block still in use keeps from the top, or from merging with it,
 * stayed resident however long it had been free). */
#define PURGE_MIN (16 * 1024)

static void trim_locked(struct arena *a, void *arg)
{
	struct trim_all *t = arg;
	size_t given;

	slab_trim(a);
	given = trim_now(a, t->pad);
	returned(a, given, "trim");
	t->any |= given > 0;
	/* Uncounted: it purges again what decay already gave back. */
	t->any |= heap_purge(a, PURGE_MIN) > 0;
}

bool arena_trim_all(size_t pad)
{
	struct trim_all t = { pad, false };

	outbox_send();
	for (struct arena *a = arena_next(NULL); a; a = arena_next(a))
		arena_with_lock(a, trim_locked, &t);
	return t.any;
}

/* ---- fork ---- */

static bool fork_locked;   /* the prepare handler took the locks */

static void fork_prepare(void)
{
	if (__libc_single_threaded)
		return;
	_IO_list_lock();
	pthread_mutex_lock(&list_lock);
	for (struct arena *a = arena_next(NULL); a; a = arena_next(a))
		arena_lock_take(&a->lock);
	map_lock();
	fork_locked = true;
}

static void fork_parent(void)
{
	if (!fork_locked)
		return;
	fork_locked = false;
	map_unlock();
	for (struct arena *a = arena_next(NULL); a; a = arena_next(a))
		arena_lock_drop(&a->lock);
	pthread_mutex_unlock(&list_lock);
	_IO_list_unlock();
}

/* The child has one thread, this one: every lock starts afresh (glibc has
 * reset stdio's), and only its own arena has a thread bound. */
static void fork_child(void)
{
	fork_locked = false;
	first_thread = pthread_self();
	first_thread_known = true;
	/* The parent's purger is not here: the child's next call into an
	 * arena starts its own (if the child counts as threaded). */
	purger_started = false;
	pthread_mutex_init(&list_lock, NULL);
	for (struct arena *a = arena_next(NULL); a; a = arena_next(a)) {
		a->lock = 0;
		a->threads = a == arena_bound;
	}
	bound_threads = 0;
	count_bound(arena_bound != NULL);
	map_fork_child();
	tcache_fork_child();
	insight_fork_child();
}
