/* rusage: the part of GNU time that scripts/bench-threads uses, for a machine
 * without /usr/bin/time (not a benchmark).
 *
 *   rusage [-f FORMAT] -o FILE CMD [ARGS...]
 *
 * Runs CMD and writes "WALL USER SYS MAXRSS_KIB" to FILE, as time -f
 * '%e %U %S %M' does (FORMAT is accepted and ignored), with a line
 * "Command terminated by signal N" first if CMD was killed; exits with CMD's
 * status. The peak RSS comes from this process's children only: a process
 * keeps its peak across exec, so a child of python would carry python's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *out = NULL;
	struct timespec a, b;
	struct rusage ru;
	int i = 1, status;
	pid_t pid;
	FILE *f;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "-o") == 0)
			out = argv[i + 1];
		else if (strcmp(argv[i], "-f") != 0)
			break;
	}
	if (!out || i >= argc) {
		fprintf(stderr, "usage: rusage [-f FORMAT] -o FILE CMD [ARGS...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid == 0) {
		execvp(argv[i], argv + i);
		perror(argv[i]);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		perror("rusage");
		return 126;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	getrusage(RUSAGE_CHILDREN, &ru);
	f = fopen(out, "w");
	if (!f) {
		perror(out);
		return 126;
	}
	if (WIFSIGNALED(status))
		fprintf(f, "Command terminated by signal %d\n", WTERMSIG(status));
	fprintf(f, "%.2f %.2f %.2f %ld\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9,
		ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6,
		ru.ru_maxrss);
	fclose(f);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
