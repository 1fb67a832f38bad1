/* What a program may tune, as with glibc: mallopt's parameters and the
 * MALLOC_* variables glibc reads (MALLOC_ARENA_MAX, MALLOC_ARENA_TEST,
 * MALLOC_MMAP_THRESHOLD_, MALLOC_MMAP_MAX_, MALLOC_TRIM_THRESHOLD_,
 * MALLOC_TOP_PAD_), plus OSMEM_ARENAS, OSMEM_DECAY_MS and OSMEM_TCACHE_KB,
 * read once at initialisation. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dropin.h"

/* glibc's bounds: the mmap threshold stops rising (and mallopt refuses more)
 * at half a non-main heap, 32 MiB on 64 bits. */
#define MMAP_THRESHOLD_MAX OSMEM_MMAP_MAX

struct tune tune = {
	.mmap_threshold = OSMEM_THRESHOLD,
	.mmap_max = 65536,           /* glibc's default */
	.trim_threshold = 0,         /* osmem trims only when asked (malloc_trim), unless set */
	.top_pad = OSMEM_GROW_PAD,
	.decay_ms = OSMEM_DECAY_MS,
	.tc_bytes = TC_BYTES,
	.tc_bytes_mt = TC_BYTES_MT,
	.tc_bytes_freer = TC_BYTES_FREER,
};

/* OSMEM_TCACHE_KB's largest value: the cache's per-class counts hold about
 * 1 MiB of blocks at most anyway. */
#define TCACHE_KB_MAX (64u << 10)

/* The CPUs the process may run on. The system call itself: libc's
 * wrapper lies in a window of its text that a process which never asks
 * would not fault in (16 KiB resident). */
static unsigned cpus(void)
{
	unsigned long set[1024 / (8 * sizeof(unsigned long))];
	long got = syscall(SYS_sched_getaffinity, 0, sizeof set, set);
	unsigned n = 0;

	for (long i = 0; i < got / (long)sizeof set[0]; i++)
		n += (unsigned)__builtin_popcountl(set[i]);
	return n ? n : 1;
}

/* Arenas the threads spread over unless told: 2 per CPU, where glibc makes
 * 8 and jemalloc 4. Only about one thread per CPU runs at a time, and the
 * thread caches take most calls off the locks; one more arena per CPU
 * leaves room for a thread whose lock holder was preempted. Each arena,
 * though, grows to what its threads held at their peak, and a block freed
 * elsewhere is memory no other arena can use: 256 threads passing blocks
 * through shared slots on 2 CPUs peaked at 94 MiB with 16 arenas and 27 MiB
 * with 4 (jemalloc 43), as fast or faster; at 8 threads the five
 * bench-threads programs ran as fast with 4 as with 16. */
#define ARENAS_PER_CPU 2
/* ... and one per CPU once more than this many threads per CPU have one.
 * Then a thread that runs takes a whole time slice, and what it allocates
 * in its own arena replaces most of what the program holds: each arena
 * grows to nearly all of the live blocks, and the free memory every other
 * arena then holds serves only its own threads. 256 threads replacing
 * 1-2000 B blocks in 4096 shared slots on 2 CPUs (bench-memory's
 * many-threads) peaked at 31 MiB with 4 arenas and 22 MiB with 2, and the
 * same shape peaked 8 MiB lower with 2 at 16, 32 and 64 threads too. But
 * where threads bind at once, the mark decides after their first arenas
 * have grown: at 8 per CPU the 16 threads of bench-threads on 2 CPUs ran
 * 8% slower at 8% more peak RSS; and at 8 threads the arenas beyond one
 * per CPU pay their way (prodcons ran 1.28x glibc's throughput with 4,
 * 1.01x with 2). */
#define CROWD_PER_CPU 16

unsigned tune_arena_limit(unsigned bound)
{
	unsigned n = tune.arena_max;

	if (n)
		return n;
	if (!tune.arena_test && bound > CROWD_PER_CPU * tune.cpus)
		return tune.cpus;
	n = ARENAS_PER_CPU * tune.cpus;
	return n > tune.arena_test ? n : tune.arena_test;
}

extern char **environ;

const char *env_get(const char *name)
{
	for (char **e = environ; e && *e; e++) {
		const char *s = *e, *n = name;

		while (*n && *s == *n) {
			s++;
			n++;
		}
		if (!*n && *s == '=')
			return s + 1;
	}
	return NULL;
}

bool str_same(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* A decimal variable, or -1 when unset or not a number. */
static long env_num(const char *name)
{
	const char *v = env_get(name);
	char *end;
	long n;

	if (!v || !*v)
		return -1;
	n = strtol(v, &end, 10);
	return *end || n < 0 ? -1 : n;
}

int tune_set(int param, int value)
{
	if (value < 0)
		return 0;
	switch (param) {
	case M_ARENA_MAX:
		if (value == 0)
			return 0;
		tune.arena_max = (unsigned)value;
		return 1;
	case M_ARENA_TEST:
		if (value == 0)
			return 0;
		tune.arena_test = (unsigned)value;
		return 1;
	case M_MMAP_THRESHOLD:
		if ((size_t)value > MMAP_THRESHOLD_MAX)
			return 0;
		/* Blocks of value bytes and up are mapped: ours counts the header. */
		__atomic_store_n(&tune.mmap_threshold, (size_t)value + HDR, __ATOMIC_RELAXED);
		break;
	case M_MMAP_MAX:
		tune.mmap_max = (size_t)value;
		break;
	case M_TRIM_THRESHOLD:
		tune.trim_threshold = (size_t)value;
		break;
	case M_TOP_PAD:
		tune.top_pad = ALIGN16((size_t)value);
		for (struct arena *a = arena_next(NULL); a; a = arena_next(a))
			a->grow_pad = tune.top_pad;
		break;
	default:
		return 0;
	}
	/* As glibc: setting any of these four fixes the mmap threshold. */
	tune.mmap_fixed = true;
	return 1;
}

void tune_init(void)
{
	static const struct { const char *name; int param; } vars[] = {
		{ "MALLOC_ARENA_MAX", M_ARENA_MAX },
		{ "MALLOC_ARENA_TEST", M_ARENA_TEST },
		{ "MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD },
		{ "MALLOC_MMAP_MAX_", M_MMAP_MAX },
		{ "MALLOC_TRIM_THRESHOLD_", M_TRIM_THRESHOLD },
		{ "MALLOC_TOP_PAD_", M_TOP_PAD },
		{ "OSMEM_ARENAS", M_ARENA_MAX },   /* ours, read last: it wins */
	};

	struct rlimit as;
	const char *d = env_get("OSMEM_DECAY_MS");
	long n;

	tune.cpus = cpus();
	for (unsigned i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		n = env_num(vars[i].name);
		if (n >= 0 && n <= 0x7fffffff)
			tune_set(vars[i].param, (int)n);
	}
	if (d && str_same(d, "-1"))
		tune.decay_ms = -1;
	else if ((n = env_num("OSMEM_DECAY_MS")) >= 0)
		tune.decay_ms = n > 3600000 ? 3600000 : (int)n;
	if ((n = env_num("OSMEM_TCACHE_KB")) >= 0)   /* 0: no caching at all */
		tune.tc_bytes = tune.tc_bytes_mt = tune.tc_bytes_freer = (size_t)(n > TCACHE_KB_MAX ? TCACHE_KB_MAX : n) << 10;
	/* Under an address-space limit a free top is address space another
	 * mapping may need (the program's own, after it recovered from ENOMEM):
	 * it goes back at free, as glibc's does. */
	tune.as_limited = getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY;
}

void tune_freed_mapped(struct block_meta *b)
{
	size_t m = b->size + HDR;

	/* A buffer grown by realloc is better left to mremap than moved about
	 * the heap as it grows (realloc_grow: peak RSS 0.71x, from 1.0x). */
	if (tune.mmap_fixed || (*block_tag(b) & BLOCK_GROWN))
		return;
	if (m >= tune_mmap_from() && m <= OSMEM_MMAP_MAX)
		__atomic_store_n(&tune.mmap_threshold, m + 16, __ATOMIC_RELAXED);
}
