/* prodcons: producers allocate, consumers free, through bounded queues, in
 * the manner of xmalloc-test (benchmark, not a test).
 *
 *   prodcons THREADS [SCALE] [--corrupt]
 *
 * Of T threads, (T+1)/2 are producers and the rest consumers; producer p
 * feeds consumer p % C's queue. A producer mallocs messages of 16-512
 * bytes, fills them and hands them over in batches of 64 through a queue
 * of 8 batches (a mutex and two condition variables); the consumer checks
 * each message and frees it, so every block is freed by a thread that did
 * not allocate it. With one thread, the thread produces a batch and then
 * consumes it itself. ops: messages (one malloc and one free), 3M times
 * SCALE in all. */
#include "tb.h"

#define BATCH 64
#define QBATCHES 8
#define BASE_OPS 3000000L

struct msg {
	void *p;
	unsigned n, owner;
};

struct batch {
	int count;
	struct msg m[BATCH];
};

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
	struct batch b[QBATCHES];
	unsigned head, tail;   /* batches put, batches taken */
	int producers;         /* producers still feeding this queue */
};

static struct queue queues[TB_MAX_THREADS];
static int nprod, ncons;

static long produced_by(int p)
{
	long total = (long)(BASE_OPS * tb_scale);

	if (total < nprod)
		total = nprod;
	return total / nprod + (p < total % nprod);
}

static void produce(struct batch *b, int n, uint64_t *rng, unsigned me)
{
	b->count = n;
	for (int k = 0; k < n; k++) {
		b->m[k].n = 16 + rng_next(rng) % 497;
		b->m[k].owner = me;
		b->m[k].p = tb_malloc(b->m[k].n, me);
	}
}

static void consume(const struct batch *b)
{
	for (int k = 0; k < b->count; k++)
		tb_free(b->m[k].p, b->m[k].n, b->m[k].owner);
}

static void *producer(void *arg)
{
	int p = (int)(long)arg;
	struct queue *q = &queues[p % ncons];
	uint64_t rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(p + 1);
	struct batch b;

	for (long left = produced_by(p); left > 0; left -= b.count) {
		produce(&b, left < BATCH ? (int)left : BATCH, &rng, p);
		pthread_mutex_lock(&q->lock);
		while (q->head - q->tail == QBATCHES)
			pthread_cond_wait(&q->not_full, &q->lock);
		q->b[q->head++ % QBATCHES] = b;
		pthread_cond_signal(&q->not_empty);
		pthread_mutex_unlock(&q->lock);
	}
	pthread_mutex_lock(&q->lock);
	q->producers--;
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

static void *consumer(void *arg)
{
	struct queue *q = &queues[(long)arg];
	struct batch b;

	for (;;) {
		pthread_mutex_lock(&q->lock);
		while (q->head == q->tail && q->producers > 0)
			pthread_cond_wait(&q->not_empty, &q->lock);
		if (q->head == q->tail) {
			pthread_mutex_unlock(&q->lock);
			return NULL;
		}
		b = q->b[q->tail++ % QBATCHES];
		pthread_cond_signal(&q->not_full);
		pthread_mutex_unlock(&q->lock);
		consume(&b);
	}
}

static void *worker(void *arg)
{
	long i = (long)arg;
	return i < nprod ? producer(arg) : consumer((void *)(i - nprod));
}

int main(int argc, char **argv)
{
	long ops = 0;
	double t0, secs;

	tb_args("prodcons", argc, argv);
	nprod = tb_threads == 1 ? 1 : (tb_threads + 1) / 2;
	ncons = tb_threads - nprod;
	for (int p = 0; p < nprod; p++)
		ops += produced_by(p);
	t0 = tb_now();
	if (tb_threads == 1) {
		uint64_t rng = 0x9E3779B97F4A7C15ULL;
		struct batch b;
		for (long left = ops; left > 0; left -= b.count) {
			produce(&b, left < BATCH ? (int)left : BATCH, &rng, 0);
			consume(&b);
		}
	} else {
		for (int c = 0; c < ncons; c++) {
			pthread_mutex_init(&queues[c].lock, NULL);
			pthread_cond_init(&queues[c].not_full, NULL);
			pthread_cond_init(&queues[c].not_empty, NULL);
		}
		for (int p = 0; p < nprod; p++)
			queues[p % ncons].producers++;
		tb_run(tb_threads, worker);
	}
	secs = tb_now() - t0;
	tb_result(ops, secs);
	return 0;
}
