/* Call stacks for OSMEM_TRACE and OSMEM_LEAKS. Built with OSMEM_LIBUNWIND
 * (the default), libunwind's unw_backtrace walks the stack; the library is
 * dlopen'ed when a switch first needs stacks, not linked: a process that
 * asks for none does not pay for its pages (libunwind and liblzma, about
 * 100 KiB of resident memory in every program). Without it there are no
 * frames. Never called with the allocator lock held: unwinding takes the
 * loader lock, and a thread inside dlopen may hold that one while it waits
 * for ours. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <string.h>

#include "insight.h"

/* unw_backtrace from libunwind.so.8, once bt_prime has found it. */
static int (*unwind)(void **frames, int max);

/* This library's own code, so that its frames are left out of a stack. */
static uintptr_t self_lo, self_hi;

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t here = (uintptr_t)arg;
	(void)size;

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && here >= lo && here < lo + ph->p_memsz) {
			self_lo = lo;
			self_hi = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

const char *bt_missing(void)
{
#ifdef OSMEM_LIBUNWIND
	return unwind ? NULL : "libunwind.so.8 not found";
#else
	return "built without libunwind";
#endif
}

/* Called during init (its allocations go to the bootstrap area). */
void bt_prime(void)
{
	void *frames[4];

	dl_iterate_phdr(find_self, (void *)(uintptr_t)bt_prime);
#ifdef OSMEM_LIBUNWIND
	void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);

	if (h)
		*(void **)&unwind = dlsym(h, "unw_backtrace");
#endif
	bt_capture(frames, 4);   /* libunwind sets itself up now, while init guards re-entry */
}

int bt_capture(void **frames, int max)
{
	void *raw[INSIGHT_MAX_DEPTH + 16];
	int n, skip = 0, out = 0;

	if (!unwind)
		return 0;
	n = unwind(raw, max + 16 < (int)(sizeof raw / sizeof *raw) ? max + 16 : (int)(sizeof raw / sizeof *raw));
	while (skip < n && (uintptr_t)raw[skip] >= self_lo && (uintptr_t)raw[skip] < self_hi)
		skip++;
	for (int i = skip; i < n && out < max; i++)
		frames[out++] = raw[i];
	return out;
}

static size_t symbolize(const void *ip, char *buf, size_t len)
{
	Dl_info info;
	/* A return address points after the call: look up the call itself. */
	const char *at = (const char *)ip - 1;

	if (dladdr(at, &info) && info.dli_fname) {
		const char *file = strrchr(info.dli_fname, '/');
		file = file ? file + 1 : info.dli_fname;
		if (info.dli_sname && info.dli_saddr)
			return diag_fmt(buf, len, "%p %s+%lx (%s)", ip, info.dli_sname,
					(unsigned long)((const char *)ip - (const char *)info.dli_saddr), file);
		return diag_fmt(buf, len, "%p %s+%lx", ip, file,
				(unsigned long)((const char *)ip - (const char *)info.dli_fbase));
	}
	return diag_fmt(buf, len, "%p", ip);
}

/* dladdr scans a module's whole dynamic symbol table (cc1's takes
 * milliseconds), and traces name the same return addresses again and again:
 * a direct-mapped cache of the text, filled outside its mutex. */
#define SYM_CACHE 4096
static struct {
	const void *ip;
	char text[120];
} sym_cache[SYM_CACHE];
static pthread_mutex_t sym_mu = PTHREAD_MUTEX_INITIALIZER;

size_t bt_symbolize(const void *ip, char *buf, size_t len)
{
	size_t i = ((uintptr_t)ip * 0x9e3779b97f4a7c15ull) >> 52, n;
	char text[sizeof sym_cache[0].text];

	pthread_mutex_lock(&sym_mu);
	if (sym_cache[i].ip == ip) {
		n = diag_fmt(buf, len, "%s", sym_cache[i].text);
		pthread_mutex_unlock(&sym_mu);
		return n;
	}
	pthread_mutex_unlock(&sym_mu);
	n = symbolize(ip, text, sizeof text);
	if (n < sizeof text) {
		pthread_mutex_lock(&sym_mu);
		sym_cache[i].ip = ip;
		memcpy(sym_cache[i].text, text, n + 1);
		pthread_mutex_unlock(&sym_mu);
	}
	return diag_fmt(buf, len, "%s", text);
}

void bt_fork_child(void)
{
	pthread_mutex_init(&sym_mu, NULL);
}

/* In the C library, the loader or osmem: the runtime's own code. *stdio
 * tells whether it is stdio's buffer management (_IO_*). */
bool bt_in_runtime(const void *ip, bool *stdio)
{
	Dl_info info;
	const char *file;

	*stdio = false;
	if ((uintptr_t)ip >= self_lo && (uintptr_t)ip < self_hi)
		return true;
	if (!dladdr((const char *)ip - 1, &info) || !info.dli_fname)
		return false;
	file = strrchr(info.dli_fname, '/');
	file = file ? file + 1 : info.dli_fname;
	if (strncmp(file, "libc.so", 7) != 0 && strncmp(file, "ld-linux", 8) != 0)
		return false;
	*stdio = info.dli_sname && strncmp(info.dli_sname, "_IO_", 4) == 0;
	return true;
}
