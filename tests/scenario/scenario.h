/* Shared helpers for the single-scenario programs in tests/scenario/.
 *
 * Each program runs under LD_PRELOAD=libosmem.so (tests/bats/scenarios.bats),
 * checks its own conditions and exits non-zero with a line on stderr naming
 * what failed. require_osmem() first makes sure malloc really is osmem's, so a
 * missing or ignored LD_PRELOAD cannot make a scenario pass on glibc. */
#ifndef SCENARIO_H
#define SCENARIO_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "../bench/rng.h"   /* rng_next: cheap per-thread randomness */

static const char *scn_name = "scenario";

#define FAIL(...)                                                                  \
	do {                                                                       \
		fprintf(stderr, "FAIL %s (%s:%d): ", scn_name, __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                                      \
		fputc('\n', stderr);                                               \
		exit(1);                                                           \
	} while (0)

#define CHECK(cond, fmt, ...)                                              \
	do {                                                               \
		if (!(cond))                                               \
			FAIL("(%s) is false: " fmt, #cond, ##__VA_ARGS__); \
	} while (0)

/* Keeps the compiler from reasoning about (and removing) what happens to p. */
static inline void escape(void *p)
{
	__asm__ volatile("" : : "g"(p) : "memory");
}

/* The same pointer, but the compiler no longer knows where it came from (so it
 * does not warn about, or reason from, a use after a realloc that failed). */
static inline void *launder(void *p)
{
	__asm__ volatile("" : "+r"(p));
	return p;
}

/* A size the compiler cannot see through (no folding of malloc(SIZE_MAX)). */
static inline size_t opaque(size_t n)
{
	volatile size_t v = n;
	return v;
}

/* posix_memalign, but gcc cannot tell: it takes posix_memalign for a builtin
 * that writes *memptr and nothing else, and would reuse the errno stored
 * before the call instead of reading it back. */
static inline int posix_memalign_opaque(void **memptr, size_t align, size_t n)
{
	int (*volatile call)(void **, size_t, size_t) = posix_memalign;

	return call(memptr, align, n);
}

static inline int aligned_to(const void *p, size_t a)
{
	return ((uintptr_t)p & (a - 1)) == 0;
}

/* malloc must be osmem's: os_malloc is visible and malloc comes from the same
 * object. Fails the scenario otherwise. */
static void require_osmem(const char *name)
{
	void *om, *m;
	Dl_info a, b;

	scn_name = name;
	om = dlsym(RTLD_DEFAULT, "os_malloc");
	if (!om)
		FAIL("os_malloc is not visible: not running on osmem (LD_PRELOAD=libosmem.so missing?)");
	m = dlsym(RTLD_DEFAULT, "malloc");
	if (!m || !dladdr(m, &a) || !dladdr(om, &b) || a.dli_fbase != b.dli_fbase)
		FAIL("malloc does not resolve to the object that defines os_malloc (%s)",
		     m && dladdr(m, &a) ? a.dli_fname : "?");
}

/* The process's address space now, from /proc/self/statm. */
static inline size_t vm_size(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;

	CHECK(f != NULL, "cannot open /proc/self/statm");
	CHECK(fscanf(f, "%lu", &pages) == 1, "cannot read /proc/self/statm");
	fclose(f);
	return (size_t)pages * (size_t)getpagesize();
}

/* Sets the soft RLIMIT_AS to the address space now plus `room` bytes: brk
 * and mmap fail beyond it. */
static inline void limit_as(size_t room)
{
	struct rlimit rl;

	CHECK(getrlimit(RLIMIT_AS, &rl) == 0, "getrlimit: %s", strerror(errno));
	rl.rlim_cur = vm_size() + room;
	CHECK(rl.rlim_max == RLIM_INFINITY || rl.rlim_cur <= rl.rlim_max, "hard RLIMIT_AS too low");
	CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit(RLIMIT_AS): %s", strerror(errno));
}

/* A pattern of period 8 seeded by `seed`: written as 64-bit words, checked
 * with memcmp against itself shifted by 8, which is fast at -O1. */
static inline uint64_t pat_word(uint64_t seed)
{
	uint64_t w = seed * 0x9e3779b97f4a7c15ull;
	return w ^ (w >> 29) ^ 0x0101010101010101ull;
}

static inline void pat_fill(void *p, size_t n, uint64_t seed)
{
	uint64_t w = pat_word(seed);
	unsigned char *c = p;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8)
		memcpy(c + i, &w, 8);
	memcpy(c + i, &w, n - i);
}

/* True when p[0..n) still holds pat_fill(p, n, seed). */
static inline int pat_ok(const void *p, size_t n, uint64_t seed)
{
	uint64_t w = pat_word(seed);
	const unsigned char *c = p;

	if (n <= 8)
		return memcmp(c, &w, n) == 0;
	return memcmp(c, &w, 8) == 0 && memcmp(c, c + 8, n - 8) == 0;
}

static inline int all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	if (n == 0)
		return 1;
	return c[0] == 0 && memcmp(c, c + 1, n - 1) == 0;
}

static inline int all_byte(const void *p, size_t n, unsigned char v)
{
	const unsigned char *c = p;

	if (n == 0)
		return 1;
	return c[0] == v && memcmp(c, c + 1, n - 1) == 0;
}

/* A thread that frees p and stays alive until free_elsewhere_done: while it
 * lives, p went back from a thread other than the caller's (in a thread
 * cache that is not the caller's, in the blocks that thread sends other
 * arenas together, or on an arena's remote-free list). */
static pthread_mutex_t elsewhere_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t elsewhere_cv = PTHREAD_COND_INITIALIZER;
static int elsewhere_stage, elsewhere_send;

static void *elsewhere(void *p)
{
	free(p);
	/* osmem: a malloc the thread cache cannot serve enters the thread's own
	 * arena, which first sends what waits in its outbox: p is then on its
	 * arena's remote-free list, until that arena's owner next enters it. */
	if (elsewhere_send)
		free(launder(malloc(opaque(8000))));   /* (laundered: gcc drops a malloc freed unused) */
	pthread_mutex_lock(&elsewhere_mu);
	elsewhere_stage = 1;
	pthread_cond_broadcast(&elsewhere_cv);
	while (elsewhere_stage != 2)
		pthread_cond_wait(&elsewhere_cv, &elsewhere_mu);
	pthread_mutex_unlock(&elsewhere_mu);
	return NULL;
}

/* Returns once p is freed (send: and sent on, so that with osmem it waits
 * on its arena's remote-free list). */
static inline pthread_t free_elsewhere_send(void *p, int send)
{
	pthread_t t;

	elsewhere_stage = 0;
	elsewhere_send = send;
	CHECK(pthread_create(&t, NULL, elsewhere, p) == 0, "pthread_create failed");
	pthread_mutex_lock(&elsewhere_mu);
	while (elsewhere_stage != 1)
		pthread_cond_wait(&elsewhere_cv, &elsewhere_mu);
	pthread_mutex_unlock(&elsewhere_mu);
	return t;
}

static inline pthread_t free_elsewhere(void *p)
{
	return free_elsewhere_send(p, 0);
}

/* Lets the thread end, and joins it. */
static inline void free_elsewhere_done(pthread_t t)
{
	pthread_mutex_lock(&elsewhere_mu);
	elsewhere_stage = 2;
	pthread_cond_broadcast(&elsewhere_cv);
	pthread_mutex_unlock(&elsewhere_mu);
	pthread_join(t, NULL);
}

#endif
