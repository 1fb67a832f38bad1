/* OSMEM_CHECK=1 across arenas: a second thread (its own arena) damages the
 * header of one of its heap blocks (its prev link) and then waits; the main thread's next
 * call, in arena_main, must find the damage in the other arena.
 *
 *   corrupt_thread     prints "damaged ADDR" (the header), then calls malloc */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int damaged;

static void *damage(void *arg)
{
	char *a = malloc(512), *b = malloc(512);
	char *volatile header = b - 32;   /* out of the compiler's sight: the underrun is the point */

	(void)arg;
	printf("damaged %p\n", (void *)header);
	fflush(stdout);
	/* b's prev: only the heap checker reads it (OSMEM_CHECK's guards keep
	 * size, status and tag), so the report must come from its walk. */
	memset(header + 16, 0x41, 8);
	(void)a;
	pthread_mutex_lock(&mu);
	damaged = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	for (;;)   /* no further call: only another thread's check can find it */
		pause();
	return NULL;
}

int main(void)
{
	pthread_t t;

	free(malloc(10));
	pthread_create(&t, NULL, damage, NULL);
	pthread_mutex_lock(&mu);
	while (!damaged)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	free(malloc(10));
	return 0;
}
