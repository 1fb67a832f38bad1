/* OSMEM_BACKEND=system: the next allocator in the process (glibc's, or any
 * preloaded after osmem), so the insight switches can watch it too. */
#ifndef OSMEM_SYSTEM_H
#define OSMEM_SYSTEM_H

#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>

struct system_malloc {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
	int (*malloc_trim)(size_t);
	int (*mallopt)(int, int);
	struct mallinfo2 (*mallinfo2)(void);
	void (*malloc_stats)(void);
};

extern struct system_malloc sys;
extern bool backend_system;

/* Reads OSMEM_BACKEND; for "system" resolves every function with
 * dlsym(RTLD_NEXT, ...). dlsym allocates: call it where those allocations are
 * served from the bootstrap area. */
void system_init(void);

#endif
