/* Scenario 18 (SPEC rules 26, 28, 32 and the drop-in's large blocks): a buffer
 * grown by realloc from 64 KiB to 16 MiB in 4 KiB steps keeps its contents at
 * every step (mapped blocks are resized with mremap, not copied into fresh
 * mappings, and growth takes slack, so few steps need a syscall); a freed
 * large block raises the mmap threshold, so the next block of that size
 * comes from the heap, unless realloc grew it (such buffers stay mapped);
 * the bats test reads the syscalls from OSMEM_STATS. Shrinking a mapped
 * block keeps the data.
 *
 *   large_blocks refused-populate   a kernel that refuses
 *                          MADV_POPULATE_WRITE (before 5.14; here a seccomp
 *                          filter answers EINVAL): a realloc that moves a
 *                          heap block into a mapping still succeeds, keeps
 *                          the data, and leaves errno as it was */
#include "scenario.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* From here on madvise(..., MADV_POPULATE_WRITE) fails with EINVAL, as
 * on a kernel that does not know it; every other call goes through. False
 * where seccomp filters cannot be had. */
static bool refuse_populate(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_madvise, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MADV_POPULATE_WRITE, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof f / sizeof f[0], f };

	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

static void refused_populate(void)
{
	size_t n = 64 << 10;
	char *p = malloc(n), *q;

	CHECK(p != NULL, "malloc(%zu) failed", n);
	pat_fill(p, n, 7);
	if (!refuse_populate()) {
		printf("skip: no seccomp filter here (%s)\n", strerror(errno));
		return;
	}
	errno = 4242;
	q = realloc(p, 1 << 20);   /* past the mmap threshold: a new mapping, the copy into it */
	CHECK(q != NULL, "realloc to 1 MiB failed: %s", strerror(errno));
	CHECK(errno == 4242, "a realloc that succeeded changed errno to %d (%s)", errno, strerror(errno));
	CHECK(pat_ok(q, n, 7), "realloc lost the data");
	CHECK(mallinfo2().hblks == 1, "the grown block is not mapped (%zu mapped blocks)", mallinfo2().hblks);
	free(q);
	puts("populate refused: realloc succeeded, data and errno kept");
}

static size_t mapped_blocks(void)
{
	return mallinfo2().hblks;
}

int main(int argc, char **argv)
{
	size_t n = 64 << 10, i;
	char *p, *q;

	require_osmem("large_blocks");
	if (argc > 1 && strcmp(argv[1], "refused-populate") == 0) {
		refused_populate();
		return 0;
	}

	p = malloc(n);
	CHECK(p != NULL, "malloc(%zu) failed", n);
	pat_fill(p, n, 1);
	for (; n < (16u << 20); n += 4096) {
		q = realloc(p, n + 4096);
		CHECK(q != NULL, "realloc to %zu failed", n + 4096);
		CHECK(pat_ok(q, n, 1), "realloc to %zu lost the first %zu bytes", n + 4096, n);
		pat_fill(q + n, 4096, 2 + n / 4096);
		/* Refill so the next check covers the whole buffer. */
		pat_fill(q, n + 4096, 1);
		p = q;
	}
	q = realloc(p, 1 << 20);   /* shrink a mapped block */
	CHECK(q != NULL && pat_ok(q, 1 << 20, 1), "shrinking to 1 MiB lost the data");
	CHECK(mapped_blocks() == 1, "the grown buffer is not the one mapped block (%zu)", mapped_blocks());
	free(q);

	/* 1 MiB blocks taken and dropped: the first is mapped (the grown buffer
	 * freed above left the threshold alone), the rest are not. */
	for (i = 0; i < 50; i++) {
		p = malloc(1 << 20);
		CHECK(p != NULL, "malloc(1 MiB) failed");
		CHECK(mapped_blocks() == (i == 0), "1 MiB block %zu: %zu mapped blocks", i, mapped_blocks());
		memset(p, (int)i, 1 << 20);
		CHECK(malloc_usable_size(p) >= (1u << 20), "usable size below the request");
		free(p);
	}
	return 0;
}
