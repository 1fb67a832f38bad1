/* Helpers for the syscall-trace test programs (tests/run_tests.py).
 *
 * No stdio, no malloc: every marker line is built in a local buffer and
 * written to fd 1 with a single write(2), so strace records it whole.
 *   @call os_malloc(10)   before a call (the C text of the call)
 *   @ret 0x55d0c0a01020   after it (0x0 for NULL; "void" for os_free)
 *   @note text            the program's own checks (zeroed, data kept, meta)
 */
#ifndef OSMEM_TRACE_H
#define OSMEM_TRACE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "block_meta.h"
#include "osmem.h"

#define T_UNUSED __attribute__((unused))

struct t_line {
	char buf[512];
	size_t len;
};

static T_UNUSED void t_str(struct t_line *l, const char *s)
{
	while (*s && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = *s++;
}

static T_UNUSED void t_hex(struct t_line *l, uintptr_t v)
{
	char tmp[2 * sizeof(v)];
	int n = 0;

	t_str(l, "0x");
	do {
		tmp[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	while (n > 0 && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = tmp[--n];
}

static T_UNUSED void t_dec(struct t_line *l, size_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n > 0 && l->len < sizeof(l->buf) - 1)
		l->buf[l->len++] = tmp[--n];
}

static T_UNUSED void t_flush(struct t_line *l)
{
	size_t off = 0;

	l->buf[l->len++] = '\n';
	while (off < l->len) {
		ssize_t w = write(1, l->buf + off, l->len - off);
		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			_exit(3);
		}
		off += (size_t)w;
	}
	l->len = 0;
}

static T_UNUSED void t_call(const char *text)
{
	struct t_line l = { .len = 0 };

	t_str(&l, "@call ");
	t_str(&l, text);
	t_flush(&l);
}

static T_UNUSED void t_ret(const void *p)
{
	struct t_line l = { .len = 0 };

	t_str(&l, "@ret ");
	t_hex(&l, (uintptr_t)p);
	t_flush(&l);
}

static T_UNUSED void t_ret_void(void)
{
	struct t_line l = { .len = 0 };

	t_str(&l, "@ret void");
	t_flush(&l);
}

static T_UNUSED void t_note(const char *text)
{
	struct t_line l = { .len = 0 };

	t_str(&l, "@note ");
	t_str(&l, text);
	t_flush(&l);
}

/* The pattern byte i of a region filled with `seed`: never 0, depends on i,
 * so it survives a move (realloc copies byte i to byte i). */
static inline unsigned char t_pat(size_t i, unsigned seed)
{
	return (unsigned char)((i * 31 + seed * 7) % 255 + 1);
}

static T_UNUSED void t_fill(void *p, size_t n, unsigned seed)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		c[i] = t_pat(i, seed);
}

/* "@note data kept" when the first n bytes still hold the pattern. */
static T_UNUSED void t_check(const void *p, size_t n, unsigned seed)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != t_pat(i, seed)) {
			t_note("DATA LOST");
			return;
		}
	t_note("data kept");
}

/* "@note zeroed" when the first n bytes are all 0. */
static T_UNUSED void t_zero_check(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i]) {
			t_note("NOT ZEROED");
			return;
		}
	t_note("zeroed");
}

/* "@note meta NAME: size=S status=T" from the header at hdr (SPEC rule 1). */
static T_UNUSED void t_meta_hdr(const char *name, const void *hdr)
{
	const struct block_meta *b = hdr;
	struct t_line l = { .len = 0 };

	t_str(&l, "@note meta ");
	t_str(&l, name);
	t_str(&l, ": size=");
	t_dec(&l, b->size);
	t_str(&l, " status=");
	t_dec(&l, (size_t)(unsigned)b->status);
	t_flush(&l);
}

static T_UNUSED void t_errno(void)
{
	struct t_line l = { .len = 0 };

	t_str(&l, "@note errno=");
	if (errno == ENOMEM)
		t_str(&l, "ENOMEM");
	else
		t_dec(&l, (size_t)(unsigned)errno);
	t_flush(&l);
}

#define T_MALLOC(var, n) do {						\
		t_call("os_malloc(" #n ")");				\
		(var) = os_malloc(n);					\
		t_ret(var);						\
	} while (0)

/* Also checks that the t = nmemb * size bytes are zero (SPEC rule 14). */
#define T_CALLOC(var, nmemb, size) do {					\
		t_call("os_calloc(" #nmemb ", " #size ")");		\
		(var) = os_calloc(nmemb, size);				\
		t_ret(var);						\
		if (var)						\
			t_zero_check((var), (size_t)(nmemb) * (size_t)(size)); \
	} while (0)

#define T_REALLOC(var, ptr, n) do {					\
		t_call("os_realloc(" #ptr ", " #n ")");			\
		(var) = os_realloc(ptr, n);				\
		t_ret(var);						\
	} while (0)

#define T_FREE(p) do {							\
		t_call("os_free(" #p ")");				\
		os_free(p);						\
		t_ret_void();						\
	} while (0)

#define T_FILL(p, n, seed)  t_fill((p), (n), (seed))
#define T_CHECK(p, n, seed) t_check((p), (n), (seed))
#define T_NOTE(text)        t_note(text)
#define T_ERRNO_CLEAR()     (errno = 0)
#define T_ERRNO()           t_errno()
/* The header of the block whose payload is p. */
#define T_META(p)           t_meta_hdr(#p, (const char *)(p) - 32)
/* The header that starts off bytes after p (e.g. a split remainder). */
#define T_META_AT(p, off)   t_meta_hdr(#p "+" #off, (const char *)(p) + (off))

#endif
