/* Every build-time tunable of the core, one line each. The numbers that SPEC
 * part 1 fixes are marked as such: changing them breaks the trace contract. */
#ifndef OSMEM_CONFIG_H
#define OSMEM_CONFIG_H

#define OSMEM_THRESHOLD    131072UL   /* SPEC: s + 32 >= this is served by mmap */
#define OSMEM_PREALLOC     131072UL   /* SPEC: first heap use grows the break by this */
#define OSMEM_EXACT_MAX    1024UL     /* free sizes up to this get one bin each (8-byte steps) */
#define OSMEM_LIST_MAX     8192UL     /* ... and up to this, one per 16 bytes (LIFO lists in the drop-in) */
#define OSMEM_FALLBACK_SEG (1UL << 20) /* smallest heap segment mmap'd when brk fails */
#define OSMEM_ARENA_COMMIT (128UL << 10) /* the other arenas: bytes committed first, and at least
					    at a time, in their 64 MiB regions */

/* The drop-in only (malloc and friends; os_* keep the numbers above): */
#define OSMEM_GROW_PAD     (128UL << 10) /* extra bytes each growth of the break asks for */
#define OSMEM_MMAP_MAX     (32UL << 20)  /* the mmap threshold rises to the size of a freed
					    mapped block, up to this, as glibc's does */
#define OSMEM_DECAY_MS     600           /* free memory unused this long goes back (OSMEM_DECAY_MS):
					    between half of it and all of it after its free */
#define OSMEM_DECAY_MIN    (16UL << 10)  /* ... from free blocks of at least this many bytes */

#ifndef OSMEM_DEBUG
#define OSMEM_DEBUG 0                 /* 1: run the heap checker inside every os_* call */
#endif

#endif
