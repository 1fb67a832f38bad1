/* Scenario 15 (SPEC rule 31): fork() from a multi-threaded program leaves the
 * child able to allocate. Three threads allocate and free continuously (small,
 * calloc, realloc, mapped sizes) while the main thread forks 200 times; each
 * child allocates, writes, checks and frees a few blocks and _exit(0)s. A child
 * that finds the allocator lock held forever would hang: alarm() turns that
 * into SIGALRM, which the parent reports. The parent also keeps allocating.
 *
 * Usage: fork_threads [forks] */
#include "scenario.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

static volatile int stop;

static void *churn(void *arg)
{
	uint64_t rs = 12345 + (uint64_t)(intptr_t)arg;
	char *v[64] = { 0 };
	size_t n[64] = { 0 };

	while (!stop) {
		uint64_t r = rng_next(&rs);
		unsigned k = (unsigned)(r % 64);

		if (v[k]) {
			if (v[k][0] != (char)k || v[k][n[k] - 1] != (char)k)
				FAIL("churn thread: block %p changed", (void *)v[k]);
			if (r & 0x100) {
				free(v[k]);
				v[k] = NULL;
				continue;
			}
			n[k] = (size_t)(r >> 20) % 8000 + 1;
			v[k] = realloc(v[k], n[k]);
		} else {
			n[k] = (r & 0x3f00) == 0 ? (size_t)(r >> 20) % 300000 + 1 : (size_t)(r >> 20) % 2000 + 1;
			v[k] = (r & 0x200) ? calloc(1, n[k]) : malloc(n[k]);
		}
		if (!v[k])
			FAIL("churn thread: allocation of %zu failed", n[k]);
		v[k][0] = v[k][n[k] - 1] = (char)k;
	}
	for (unsigned k = 0; k < 64; k++)
		free(v[k]);
	return NULL;
}

static void child_msg(const char *m)
{
	ssize_t r = write(2, m, strlen(m));
	(void)r;
}

/* The child: async-signal-safe reporting only (write), then _exit. */
static void child(int i)
{
	char *p[8];
	int k;

	alarm(10);
	for (k = 0; k < 8; k++) {
		size_t n = (size_t)(k == 7 ? 200000 : 16 << k) + (size_t)i;
		p[k] = k % 2 ? calloc(1, n) : malloc(n);
		if (!p[k]) {
			child_msg("child: allocation failed\n");
			_exit(2);
		}
		memset(p[k], k + 1, n);
	}
	p[0] = realloc(p[0], 5000);
	if (!p[0] || p[0][0] != 1) {
		child_msg("child: realloc failed or lost data\n");
		_exit(3);
	}
	for (k = 0; k < 8; k++)
		free(p[k]);
	_exit(0);
}

int main(int argc, char **argv)
{
	int forks = argc > 1 ? atoi(argv[1]) : 200, i, t;
	pthread_t th[3];

	require_osmem("fork_threads");

	for (t = 0; t < 3; t++)
		CHECK(pthread_create(&th[t], NULL, churn, (void *)(intptr_t)t) == 0, "pthread_create failed");

	for (i = 0; i < forks; i++) {
		int st;
		pid_t pid;
		char *mine = malloc((size_t)(i % 50) * 100 + 1);

		CHECK(mine != NULL, "parent malloc failed");
		pid = fork();
		CHECK(pid >= 0, "fork %d failed: %s", i, strerror(errno));
		if (pid == 0)
			child(i);
		free(mine);
		CHECK(waitpid(pid, &st, 0) == pid, "waitpid failed: %s", strerror(errno));
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
			FAIL("child %d (of %d) hung for 10 s: deadlocked in the allocator after fork", i, forks);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d: %s %d", i,
		      WIFEXITED(st) ? "exit status" : "killed by signal",
		      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	}
	stop = 1;
	for (t = 0; t < 3; t++)
		pthread_join(th[t], NULL);
	printf("%d forks\n", forks);
	return 0;
}
