/* mstress: phases of mixed allocation, reallocation, partial frees and
 * transfers between threads, in the manner of mimalloc's mstress (benchmark,
 * not a test).
 *
 *   mstress THREADS [SCALE] [--corrupt]
 *
 * Each thread keeps up to 2048 live blocks and runs 16 phases. A phase
 * replaces random blocks with new ones (70% of its operations), reallocates
 * random blocks to new sizes (30%), frees a random quarter of what it holds,
 * and then passes up to 64 of its blocks to the next thread's mailbox and
 * takes in what the previous thread passed to it, to free later. Sizes: 70%
 * 16-256 bytes, 25% 256 B-8 KiB, 4.8% 8-64 KiB, 0.2% 128 KiB-1 MiB (mapped
 * by most allocators). ops: malloc and realloc calls, 1M times SCALE in all
 * (each block is freed once besides). */
#include "tb.h"

#define SLOTS 2048
#define PHASES 16
#define BOX 256
#define PASS 64
#define BASE_OPS 1000000L

struct slot {
	void *p;
	unsigned n, owner;
};

struct mailbox {
	pthread_mutex_t lock;
	int count;
	struct slot s[BOX];
};

static struct mailbox boxes[TB_MAX_THREADS];
static struct slot *held[TB_MAX_THREADS];

static unsigned pick_size(uint64_t *rng)
{
	uint64_t r = rng_next(rng);
	unsigned c = r % 1000, x = (unsigned)(r >> 32);

	if (c < 700)
		return 16 + x % 241;
	if (c < 950)
		return 256 + x % (8192 - 256 + 1);
	if (c < 998)
		return 8192 + x % (65536 - 8192 + 1);
	return 131072 + x % (1048576 - 131072 + 1);
}

static void drop(struct slot *s)
{
	if (s->p)
		tb_free(s->p, s->n, s->owner);
	s->p = NULL;
}

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	uint64_t rng = 0xD1B54A32D192ED03ULL * (uint64_t)(i + 1);
	long ops = tb_share(BASE_OPS, i);
	struct slot *h = calloc(SLOTS, sizeof *h);
	struct mailbox *next = &boxes[(i + 1) % tb_threads], *mine = &boxes[i];

	if (!h)
		tb_die("calloc failed");
	held[i] = h;
	for (int ph = 0; ph < PHASES; ph++) {
		long n = ops / PHASES + (ph < ops % PHASES);
		for (long j = 0; j < n; j++) {
			struct slot *s = &h[rng_next(&rng) % SLOTS];
			unsigned size = pick_size(&rng);
			if (s->p && j % 10 < 3) {
				s->p = tb_realloc(s->p, s->n, size, s->owner);
			} else {
				drop(s);
				s->p = tb_malloc(size, i);
				s->owner = i;
			}
			s->n = size;
		}
		for (int k = 0; k < SLOTS; k++)
			if (rng_next(&rng) % 4 == 0)
				drop(&h[k]);
		pthread_mutex_lock(&next->lock);
		for (int k = 0; k < SLOTS && next->count < BOX && k < PASS * 4; k += 4)
			if (h[k].p) {
				next->s[next->count++] = h[k];
				h[k].p = NULL;
			}
		pthread_mutex_unlock(&next->lock);
		pthread_mutex_lock(&mine->lock);
		for (int k = 1; mine->count > 0 && k < SLOTS; k += 4)
			if (!h[k].p)
				h[k] = mine->s[--mine->count];
		pthread_mutex_unlock(&mine->lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long ops = 0;
	double t0, secs;

	tb_args("mstress", argc, argv);
	for (int i = 0; i < tb_threads; i++) {
		pthread_mutex_init(&boxes[i].lock, NULL);
		ops += tb_share(BASE_OPS, i);
	}
	t0 = tb_now();
	tb_run(tb_threads, worker);
	secs = tb_now() - t0;
	for (int i = 0; i < tb_threads; i++) {
		for (int k = 0; k < SLOTS; k++)
			drop(&held[i][k]);
		free(held[i]);
		while (boxes[i].count > 0)
			drop(&boxes[i].s[--boxes[i].count]);
	}
	tb_result(ops, secs);
	return 0;
}
