/* Messages for failure paths and the checker: formatted into the caller's
 * buffer and written with write(2), because stdio may allocate and these run
 * inside the allocator. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, char c)
{
	if (o->pos + 1 < o->len)
		o->buf[o->pos] = c;
	o->pos++;
}

static void put_num(struct out *o, unsigned long long v, unsigned base, const char *prefix)
{
	char tmp[24];
	int n = 0;

	while (*prefix)
		put(o, *prefix++);
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		put(o, tmp[--n]);
}

static size_t vfmt(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct out o = { buf, len, 0 };

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		switch (*++fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			for (s = s ? s : "(null)"; *s; s++)
				put(&o, *s);
			break;
		}
		case 'd': {
			long long v = va_arg(ap, int);
			if (v < 0) {
				put(&o, '-');
				v = -v;
			}
			put_num(&o, (unsigned long long)v, 10, "");
			break;
		}
		case 'u':
			put_num(&o, va_arg(ap, unsigned), 10, "");
			break;
		case 'l':   /* %lu, %lx */
			fmt++;
			put_num(&o, va_arg(ap, unsigned long), *fmt == 'x' ? 16 : 10, *fmt == 'x' ? "0x" : "");
			break;
		case 'z':   /* %zu */
			fmt++;
			put_num(&o, va_arg(ap, size_t), 10, "");
			break;
		case 'x':
			put_num(&o, va_arg(ap, unsigned), 16, "0x");
			break;
		case 'p':
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, "0x");
			break;
		case '%':
			put(&o, '%');
			break;
		default:    /* unknown conversion: show it rather than guess its argument */
			put(&o, '%');
			if (*fmt)
				put(&o, *fmt);
			else
				fmt--;
		}
	}
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = '\0';
	return o.pos;
}

size_t diag_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = vfmt(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

void diag_write(const char *msg)
{
	size_t left = strlen(msg);

	while (left) {
		ssize_t w = write(2, msg, left);
		if (w <= 0)
			return;
		msg += w;
		left -= (size_t)w;
	}
}

_Noreturn void diag_die(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vfmt(buf, sizeof buf, fmt, ap);
	va_end(ap);
	diag_write(buf);
	abort();
}

TLS_IE const char *diag_call = "malloc";
bool diag_abort = true;

TLS_IE diag_jmp *diag_recover;

void diag_unwind(void)
{
	diag_jmp *to = diag_recover;

	if (!diag_abort && to) {
		diag_recover = NULL;
		__builtin_longjmp(*to, 1);
	}
	abort();
}

void diag_corrupt(const char *what, const void *p, const char *detail)
{
	char buf[256];
	int saved = errno;

	diag_fmt(buf, sizeof buf, "osmem: %s(): corrupted %s at %p: %s\n", diag_call, what, p, detail);
	diag_write(buf);
	if (diag_abort)
		abort();
	errno = saved;
}
