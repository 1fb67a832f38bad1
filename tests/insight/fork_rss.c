/* OSMEM_TRACE's rss= across fork: once the child has forked, the parent
 * makes 64 MiB resident; then the child makes its calls. Each process's
 * lines must carry its own resident bytes (the child's stay small, the
 * parent's do not). Prints the child's pid. Both exit normally, so both
 * write their lines, into the one file whose descriptor they share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG (64 << 20)

/* Calls that reach the trace: n pairs, a ms apart (the trace samples the
 * resident bytes at most every 10 ms). */
static void calls(int n)
{
	for (int i = 0; i < n; i++) {
		char *volatile p = malloc(100);

		p[0] = 1;
		free(p);
		usleep(1000);
	}
}

int main(void)
{
	int go[2];
	char c = 0, *big;
	pid_t pid;

	calls(1);
	if (pipe(go) != 0 || (pid = fork()) < 0)
		return 1;
	if (pid == 0) {
		if (read(go[0], &c, 1) != 1)   /* the parent's memory is resident */
			return 1;
		calls(50);
		return 0;
	}
	printf("%d\n", (int)pid);
	fflush(stdout);
	big = malloc(BIG);
	if (!big)
		return 1;
	memset(big, 1, BIG);
	calls(50);
	if (write(go[1], &c, 1) != 1 || waitpid(pid, NULL, 0) != pid)
		return 1;
	free(big);
	return 0;
}
