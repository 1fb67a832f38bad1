/* What the drop-in tells its users about a run: OSMEM_STATS, OSMEM_CHECK,
 * OSMEM_TRACE and OSMEM_LEAKS (insight.c, trace.c, leaks.c, backtrace.c).
 * malloc.c calls the hooks only while one of them is on, and never with the
 * allocator lock held: stacks are unwound in the hooks. */
#ifndef OSMEM_INSIGHT_H
#define OSMEM_INSIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

/* One per exported allocation function, in the order the reports list them. */
enum call {
	CALL_MALLOC, CALL_CALLOC, CALL_REALLOC, CALL_REALLOCARRAY, CALL_FREE,
	CALL_POSIX_MEMALIGN, CALL_ALIGNED_ALLOC, CALL_MEMALIGN, CALL_VALLOC, CALL_PVALLOC,
	NCALLS
};

#define INSIGHT_MAX_DEPTH 32

extern bool insight_on;      /* stats, trace or leaks: the alloc/free hooks run */
extern bool insight_stats;   /* OSMEM_STATS */
extern bool insight_check;   /* OSMEM_CHECK=1: the heap checker in every call */
extern bool insight_trace;   /* OSMEM_TRACE=PATH */
extern bool insight_leaks;   /* OSMEM_LEAKS */
extern int insight_depth;    /* OSMEM_TRACE_DEPTH: frames kept per stack */

const char *call_name(enum call c);
/* Reads the environment without allocating; primes the unwinder when a
 * stack will be wanted. Runs inside the drop-in's init, so what the unwinder
 * allocates comes from the bootstrap area. */
void insight_init(void);

/* After an allocating call with arguments a, b (the memalign family: a is the
 * alignment, b the size; see call_args in trace.c):
 * the block p of `usable` bytes, or NULL. For realloc, old is the block
 * passed in and old_usable its size then. */
void insight_alloc(enum call c, const void *old, size_t old_usable, size_t a, size_t b,
		   void *p, size_t usable);
/* Before p, of `usable` bytes, is released by free (or realloc(p, 0)). */
void insight_free(enum call c, void *p, size_t usable);
/* The checker over a (the caller holds its lock) and every other arena whose
 * lock is free; reports and aborts on a violation. */
void insight_check_heap(struct arena *a, const char *call);
/* At exit, with the heap as it is then (NULL: the system allocator serves). */
void insight_exit(const struct heap_usage *u);
void insight_fork_child(void);

/* ---- backtrace.c ---- */
const char *bt_missing(void);                               /* why there are no stacks, or NULL */
void bt_prime(void);
int bt_capture(void **frames, int max);                      /* this library's frames left out */
size_t bt_symbolize(const void *ip, char *buf, size_t len);  /* "0x.. sym+0x.. (file)" */
bool bt_in_runtime(const void *ip, bool *stdio);             /* in libc, ld.so or osmem */
void bt_fork_child(void);

/* ---- trace.c ---- */
void trace_open(const char *path);
/* One call: freeing (free, realloc(p, 0)) shows only arg0 and, for free, the
 * size a; otherwise the arguments (call_args), then "-> result usable". */
void trace_event(enum call c, bool freeing, const void *arg0, size_t a, size_t b, const void *result,
		 size_t usable, void *const *frames, int nframes);
/* An arena gave bytes of free memory back to the system (why: "decay", a
 * decay pass; "trim", any other trim): a line at once, with the resident
 * bytes read afresh. Called with that arena's lock held, from any thread
 * (the purger too), only while insight_trace is on. */
void trace_given(const char *why, size_t bytes);
void trace_heap_map(void);   /* every block and mapping, for the heap picture */
void trace_close(void);
void trace_fork_child(void);

/* ---- leaks.c ----
 * The table of live blocks and their stacks is kept while OSMEM_LEAKS or
 * OSMEM_TRACE is on (insight_stacks): the report at exit needs it, and so
 * does OSMEM_CHECK's report of a damaged guard. */
#define insight_stacks (insight_leaks || insight_trace)
/* p: `requested` bytes asked for, `usable` handed out. */
void leaks_add(const void *p, size_t requested, size_t usable, void *const *frames, int nframes);
void leaks_remove(const void *p);
/* The allocation stack kept for live block p, into frames (INSIGHT_MAX_DEPTH):
 * its depth, or -1 when none is kept. */
int leaks_stack(const void *p, void **frames);
/* "    #I ADDR symbol+off (file)\n" into line: its length. */
size_t leaks_frame_line(char *line, size_t len, int i, const void *ip);
void leaks_report(const char *path);
void leaks_fork_child(void);

/* ---- ptrtab.c: tables keyed by address, for leaks.c and guard.c ---- */
struct ptrtab {
	char *slots;                /* map_region memory: zero is an empty slot */
	size_t esize;               /* bytes per entry; each entry starts with its key */
	size_t used, cap;
};
uint64_t ptrtab_mix(uint64_t x);
/* Slot i's entry, or NULL when it is empty. */
static inline void *ptrtab_slot(const struct ptrtab *t, size_t i)
{
	char *e = t->slots + i * t->esize;

	return *(uintptr_t *)e ? e : NULL;
}
void *ptrtab_find(const struct ptrtab *t, uintptr_t key);   /* NULL when absent */
/* key's entry, added with only the key set (*fresh) when absent; NULL when
 * the table cannot grow. */
void *ptrtab_put(struct ptrtab *t, uintptr_t key, bool *fresh);
void ptrtab_remove(struct ptrtab *t, void *entry);

/* ---- guard.c: OSMEM_CHECK's guards after the requested bytes ---- */
#define GUARD_MIN 1   /* bytes asked for beyond the request, at least: the guard */
/* Records p, a block of `usable` bytes for a request of n < usable, and fills
 * its guard; header: p has a block header (not a slab object), whose size,
 * status and tag are saved. false when the table cannot grow (p is then not
 * guarded). */
bool guard_add(void *p, size_t n, size_t usable, bool header);
size_t guard_requested(const void *p);   /* the n of guarded block p, SIZE_MAX if none */
/* At free or realloc of p (enum call c): true when p is not guarded or its
 * guard is whole; otherwise the damage is reported (and, unless
 * OSMEM_ABORT_ON_ERROR=0, the process aborts), p is forgotten, and false. */
bool guard_ok(enum call c, void *p);
void guard_forget(const void *p);        /* p is given back */
/* Verifies the next eighth of the guards, so every one within eight calls;
 * reports each damaged one (found at the start of call). */
void guard_walk(const char *call);
void guard_fork_child(void);

/* malloc.c: writes a report of misuse (one or more lines) on stderr, then
 * aborts unless OSMEM_ABORT_ON_ERROR=0; errno survives. */
void misuse_report(const char *msg);

/* insight.c: TMPL with %p replaced by the pid (written to path) opened for
 * appending: the fd or -1; for reports, the fd or stderr (NULL: stderr). */
int insight_open(const char *tmpl, char *path, size_t len);
int insight_report_fd(const char *tmpl);

#endif
