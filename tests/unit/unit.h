/* Shared by the core unit tests. They link the core alone (build/libosmem-core.a),
 * so malloc stays glibc's; they print with write(2) only, because glibc's stdio
 * would allocate through glibc's malloc and move the break under the core. */
#ifndef OSMEM_UNIT_H
#define OSMEM_UNIT_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "osmem.h"

static inline void unit_say(const char *fmt, unsigned long a, unsigned long b)
{
	char buf[512];
	diag_fmt(buf, sizeof buf, fmt, a, b);
	(void)!write(1, buf, strlen(buf));
}

/* Fails the test with file:line and the checker's first violation. */
#define CHECK_HEAP() do { \
	char m_[256]; \
	if (check_heap(&arena_main, m_, sizeof m_) != 0) \
		diag_die("%s:%d: heap check failed: %s\n", __FILE__, __LINE__, m_); \
} while (0)

#define EXPECT(cond) do { \
	if (!(cond)) \
		diag_die("%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
} while (0)

#endif
