/* What the drop-in tells its users about a run: OSMEM_STATS, OSMEM_CHECK.
 * Owned by insight.c; malloc.c calls these hooks only when a switch is on. */
#ifndef OSMEM_INSIGHT_H
#define OSMEM_INSIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

/* One per exported allocation function, in the order the report lists them. */
enum call {
	CALL_MALLOC, CALL_CALLOC, CALL_REALLOC, CALL_REALLOCARRAY, CALL_FREE,
	CALL_POSIX_MEMALIGN, CALL_ALIGNED_ALLOC, CALL_MEMALIGN, CALL_VALLOC, CALL_PVALLOC,
	NCALLS
};

extern bool insight_stats;   /* OSMEM_STATS: counters kept, report at exit */
extern bool insight_check;   /* OSMEM_CHECK=1: the heap checker in every call */

void insight_init(void);     /* reads the environment; no allocation */
/* A call asked for `requested` bytes and got a block of `usable` bytes (ok) or
 * nothing; old_usable is what a realloc'd block held before (0 otherwise). */
void insight_alloc(enum call c, size_t requested, size_t old_usable, size_t usable, bool ok);
const char *call_name(enum call c);
void insight_free(size_t usable);
/* Runs the checker (the caller holds the core); reports and aborts on a violation. */
void insight_check_heap(const char *call);
/* The OSMEM_STATS report, given the heap as it is at exit. */
void insight_report(const struct heap_usage *u);

#endif
