/* Initialisation, on the first call (nothing happens at load time, SPEC rule
 * 6), and the bootstrap area that serves what initialisation itself
 * allocates: dlsym (OSMEM_BACKEND=system), pthread_atfork, getenv's callers,
 * the unwinder's set-up. Since glibc 2.32 ld.so switches to a preloaded
 * malloc right after relocation, so the first call may come before any
 * constructor; a second thread arriving meanwhile waits for the first. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>

#include "dropin.h"
#include "insight.h"
#include "system.h"

_Atomic int boot_state;
TLS_IE bool boot_in_init;
bool boot_plain;

_Alignas(64) char boot_area[BOOT_SIZE];
static size_t boot_used;   /* only the initialising thread allocates here */

void boot_init(void)
{
	int expected = BOOT_NONE;

	if (!atomic_compare_exchange_strong(&boot_state, &expected, BOOT_RUNNING)) {
		while (atomic_load(&boot_state) != BOOT_DONE)
			sched_yield();
		return;
	}
	boot_in_init = true;
	misuse_init();
	slab_init();
	tcache_init();
	system_init();
	insight_init();
	tc_off = insight_check;   /* OSMEM_CHECK: every free reaches the core, guards and all */
	tune_init();
	arena_init();
	boot_plain = !insight_on && !insight_check && !backend_system;
	boot_in_init = false;
	atomic_store(&boot_state, BOOT_DONE);
}

/* Each chunk is preceded by its size, so realloc and malloc_usable_size work. */
void *boot_alloc(size_t align, size_t n)
{
	uintptr_t start = (uintptr_t)boot_area + boot_used + sizeof(size_t);
	uintptr_t p;

	if (align < 16)
		align = 16;
	p = (start + align - 1) & ~(uintptr_t)(align - 1);
	if (n > BOOT_SIZE || p + n > (uintptr_t)boot_area + BOOT_SIZE) {
		errno = ENOMEM;
		return NULL;
	}
	((size_t *)p)[-1] = n;
	boot_used = p + n - (uintptr_t)boot_area;
	return (void *)p;
}

size_t boot_size(const void *p)
{
	return ((const size_t *)p)[-1];
}
