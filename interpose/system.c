/* OSMEM_BACKEND=system: find the allocator that osmem shadows. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "dropin.h"
#include "system.h"

struct system_malloc sys;
bool backend_system;

#define RESOLVE(name) (*(void **)&sys.name = dlsym(RTLD_NEXT, #name))

void system_init(void)
{
	const char *v = env_get("OSMEM_BACKEND");

	if (!v || !str_same(v, "system")) {
		if (v && *v && !str_same(v, "osmem"))
			diag_write("osmem: OSMEM_BACKEND takes 'osmem' or 'system'; using osmem\n");
		return;
	}
	RESOLVE(malloc);
	RESOLVE(free);
	RESOLVE(calloc);
	RESOLVE(realloc);
	RESOLVE(posix_memalign);
	RESOLVE(aligned_alloc);
	RESOLVE(memalign);
	RESOLVE(valloc);
	RESOLVE(pvalloc);
	RESOLVE(malloc_usable_size);
	RESOLVE(malloc_trim);
	RESOLVE(mallopt);
	RESOLVE(mallinfo2);
	RESOLVE(malloc_stats);
	/* Without every one of these, forwarding would mix two heaps. */
	if (!sys.malloc || !sys.free || !sys.calloc || !sys.realloc || !sys.posix_memalign ||
	    !sys.aligned_alloc || !sys.memalign || !sys.valloc || !sys.pvalloc || !sys.malloc_usable_size ||
	    !sys.malloc_trim || !sys.mallopt || !sys.mallinfo2 || !sys.malloc_stats) {
		diag_write("osmem: OSMEM_BACKEND=system: the next allocator lacks part of the malloc family; using osmem\n");
		return;
	}
	backend_system = true;
}
