/* Misuse: a pointer handed to free or realloc that osmem never handed out,
 * or one already freed. One line on stderr naming the call, the address and
 * what is wrong, written without stdio or allocation; then abort, as glibc
 * does, unless OSMEM_ABORT_ON_ERROR=0. The heap is never touched for it. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dropin.h"
#include "insight.h"

const char misuse_double_free[] = "double free (the block is already free)";
const char misuse_invalid[] = "invalid pointer (not allocated by osmem)";

void misuse_init(void)
{
	const char *v = env_get("OSMEM_ABORT_ON_ERROR");

	if (v && str_same(v, "0"))
		diag_abort = false;   /* the core's flag: its reports and these go the same way */
}

void misuse_report(const char *msg)
{
	int saved = errno;

	diag_write(msg);
	if (diag_abort)
		abort();
	errno = saved;
}

void misuse_say(const char *call, const char *what, const void *p)
{
	char msg[160];

	diag_fmt(msg, sizeof msg, "osmem: %s(%p): %s\n", call, p, what);
	misuse_report(msg);
}

const char *misuse_of(struct arena *a, void *p)
{
	switch (check_pointer(a, p)) {
	case PTR_HEAP:
		/* In a thread cache or on a remote list: freed already. */
		return tc_marked(p) ? misuse_double_free : NULL;
	case PTR_MAPPED:
		return NULL;
	case PTR_FREED:
		return misuse_double_free;
	case PTR_DAMAGED:
		return "corrupted header: a mapped block whose size or links were changed";
	default:
		return misuse_invalid;
	}
}

void misuse_header(const char *call, struct arena *a, void *p, const char *what)
{
	char why[128];

	diag_fmt(why, sizeof why, "corrupted header: %s", what);
	a->damaged = true;
	misuse_say(call, why, p);
}

struct look {
	void *p;
	const char *what;
};

static void look_locked(struct arena *a, void *arg)
{
	struct look *l = arg;

	l->what = check_block(a, block_of(l->p));
}

bool misuse_header_bad(const char *call, struct arena *a, void *p)
{
	struct look l = { p, check_block(a, block_of(p)) };

	if (l.what && !__libc_single_threaded) {
		diag_call = call;
		arena_with_lock(a, look_locked, &l);
	}
	if (l.what)
		misuse_header(call, a, p, l.what);
	return l.what != NULL;
}

void misuse_small(const char *call, struct slab *s, void *p)
{
	misuse_say(call, slab_object(s, p) == SLAB_OBJ_BAD ? misuse_invalid : misuse_double_free, p);
}
