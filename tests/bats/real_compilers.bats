#!/usr/bin/env bats
# gcc and g++ on osmem: the compilers (gcc, cc1/cc1plus, as, collect2, ld) run
# under LD_PRELOAD=libosmem.so and must produce the same objects and program as
# a plain build; the program then runs under osmem and prints the expected text.

load helpers

setup_file() {
	require_lib
	local c=$BATS_FILE_TMPDIR/c cxx=$BATS_FILE_TMPDIR/cxx
	mkdir -p "$c" "$cxx"

	cat >"$c/prog.h" <<'EOF'
#include <stddef.h>
long count_primes(int n);
long list_roundtrip(int n);
struct map;
struct map *map_new(size_t buckets);
void map_put(struct map *m, const char *key, long v);
long *map_get(struct map *m, const char *key);
int map_del(struct map *m, const char *key);
void map_stats(struct map *m, size_t *count, long *sum);
void map_free(struct map *m);
EOF
	cat >"$c/primes.c" <<'EOF'
#include <stdlib.h>
#include <string.h>
#include "prog.h"
long count_primes(int n)
{
	char *sieve = malloc(n);
	long count = 0;
	memset(sieve, 1, n);
	for (int i = 2; i < n; i++) {
		if (!sieve[i])
			continue;
		count++;
		for (long j = (long)i * i; j < n; j += i)
			sieve[j] = 0;
	}
	free(sieve);
	return count;
}
EOF
	cat >"$c/list.c" <<'EOF'
#include <stdlib.h>
#include "prog.h"
struct node { struct node *next; long v; char pad[24]; };
long list_roundtrip(int n)
{
	struct node *head = NULL, *prev = NULL, *cur, *next;
	long sum = 0;
	for (int i = 0; i < n; i++) {
		cur = malloc(sizeof *cur);
		cur->v = i;
		cur->next = head;
		head = cur;
	}
	for (cur = head; cur; cur = next) {   /* reverse */
		next = cur->next;
		cur->next = prev;
		prev = cur;
	}
	for (cur = prev; cur; cur = next) {
		next = cur->next;
		sum += cur->v;
		free(cur);
	}
	return sum;
}
EOF
	cat >"$c/map.c" <<'EOF'
#include <stdlib.h>
#include <string.h>
#include "prog.h"
struct entry { struct entry *next; char *key; long v; };
struct map { size_t n; struct entry **b; };
static size_t hash(const char *s) { size_t h = 5381; while (*s) h = h * 33 + (unsigned char)*s++; return h; }
struct map *map_new(size_t buckets)
{
	struct map *m = malloc(sizeof *m);
	m->n = buckets;
	m->b = calloc(buckets, sizeof *m->b);
	return m;
}
long *map_get(struct map *m, const char *key)
{
	for (struct entry *e = m->b[hash(key) % m->n]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return &e->v;
	return NULL;
}
void map_put(struct map *m, const char *key, long v)
{
	long *p = map_get(m, key);
	if (p) { *p = v; return; }
	struct entry *e = malloc(sizeof *e);
	e->key = strdup(key);
	e->v = v;
	e->next = m->b[hash(key) % m->n];
	m->b[hash(key) % m->n] = e;
}
int map_del(struct map *m, const char *key)
{
	for (struct entry **pp = &m->b[hash(key) % m->n]; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0) {
			struct entry *e = *pp;
			*pp = e->next;
			free(e->key);
			free(e);
			return 1;
		}
	return 0;
}
void map_stats(struct map *m, size_t *count, long *sum)
{
	*count = 0; *sum = 0;
	for (size_t i = 0; i < m->n; i++)
		for (struct entry *e = m->b[i]; e; e = e->next) { ++*count; *sum += e->v; }
}
void map_free(struct map *m)
{
	for (size_t i = 0; i < m->n; i++)
		for (struct entry *e = m->b[i], *next; e; e = next) { next = e->next; free(e->key); free(e); }
	free(m->b);
	free(m);
}
EOF
	cat >"$c/main.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "prog.h"
static int cmp(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }
int main(void)
{
	char key[32];
	size_t count; long sum;
	struct map *m = map_new(4099);
	for (int i = 0; i < 200000; i++) { snprintf(key, sizeof key, "k%d", i); map_put(m, key, 3L * i); }
	for (int i = 0; i < 200000; i += 2) { snprintf(key, sizeof key, "k%d", i); if (!map_del(m, key)) return 1; }
	map_stats(m, &count, &sum);
	printf("map %zu %ld %ld\n", count, sum, *map_get(m, "k199999"));
	map_free(m);

	printf("primes %ld\n", count_primes(1000000));
	printf("list %ld\n", list_roundtrip(100000));

	int n = 100000, *a = NULL;
	for (int i = 0, cap = 0; i < n; i++) {   /* grow with realloc */
		if (i == cap) { cap = cap ? 2 * cap : 1; a = realloc(a, cap * sizeof *a); }
		a[i] = (int)((i * 7919L) % 100003);
	}
	qsort(a, n, sizeof *a, cmp);
	printf("sorted %d %d %d\n", a[0], a[n / 2], a[n - 1]);
	free(a);

	char *s = NULL; size_t len = 0;
	for (int i = 0; i < 50000; i++) {
		s = realloc(s, len + 8);
		len += (size_t)sprintf(s + len, "%d;", i % 10);
	}
	printf("string %zu %.12s\n", strlen(s), s + len - 12);
	free(s);
	return 0;
}
EOF

	cat >"$cxx/counter.hpp" <<'EOF'
#pragma once
#include <map>
#include <string>
#include <vector>
struct Result { std::map<std::string, long> counts; std::map<int, long> sums; };
Result count_range(long from, long to);
Result run_threads(int nthreads, long n);
EOF
	cat >"$cxx/counter.cpp" <<'EOF'
#include "counter.hpp"
Result count_range(long from, long to)
{
	Result r;
	std::vector<std::string> seen;
	for (long i = from; i < to; i++) {
		int res = static_cast<int>((i * 7919) % 1000);
		std::string key = "w" + std::to_string(res);
		r.counts[key]++;
		r.sums[res] += i;
		if (i % 97 == 0)
			seen.push_back(key + ":" + std::to_string(i));
	}
	if (!seen.empty())
		r.counts["#seen"] += static_cast<long>(seen.size());
	return r;
}
EOF
	cat >"$cxx/threads.cpp" <<'EOF'
#include <mutex>
#include <thread>
#include "counter.hpp"
Result run_threads(int nthreads, long n)
{
	Result total;
	std::mutex mu;
	std::vector<std::thread> pool;
	for (int t = 0; t < nthreads; t++)
		pool.emplace_back([&, t] {
			Result r = count_range(n * t / nthreads, n * (t + 1) / nthreads);
			std::lock_guard<std::mutex> lock(mu);
			for (auto &kv : r.counts) total.counts[kv.first] += kv.second;
			for (auto &kv : r.sums) total.sums[kv.first] += kv.second;
		});
	for (auto &th : pool)
		th.join();
	return total;
}
EOF
	cat >"$cxx/main.cpp" <<'EOF'
#include <iostream>
#include "counter.hpp"
int main()
{
	Result r = run_threads(4, 200000);
	long total = 0;
	for (auto &kv : r.counts)
		if (kv.first[0] == 'w') total += kv.second;
	std::cout << "keys " << r.counts.size() << " total " << total << "\n";
	std::cout << "first " << r.counts.begin()->first << " " << r.counts.begin()->second << "\n";
	std::cout << "last " << r.counts.rbegin()->first << " " << r.counts.rbegin()->second << "\n";
	std::cout << "w0 " << r.counts["w0"] << " sum0 " << r.sums[0] << "\n";
	std::cout << "sums " << r.sums.size() << "\n";
	return 0;
}
EOF
}

# Builds the C program into a fresh directory and prints the checksums of
# what it made; the compiler runs as many processes (gcc, cc1, as, collect2, ld).
build_c() {
	local src=$BATS_FILE_TMPDIR/c out
	out=$(mktemp -d "$BATS_TEST_TMPDIR/cbuild.XXXXXX")
	for f in main primes list map; do
		gcc -O2 -Wall -Werror -c -o "$out/$f.o" "$src/$f.c"
	done
	gcc -O2 -o "$out/prog" "$out"/main.o "$out"/primes.o "$out"/list.o "$out"/map.o
	# The same program in one gcc call (several cc1 and as in one driver).
	gcc -O2 -o "$out/prog2" "$src"/main.c "$src"/primes.c "$src"/list.c "$src"/map.c
	(cd "$out" && sha256sum main.o primes.o list.o map.o prog)
	echo "$out" >"$BATS_TEST_TMPDIR/last-c-build"
}

build_cxx() {
	local src=$BATS_FILE_TMPDIR/cxx out
	out=$(mktemp -d "$BATS_TEST_TMPDIR/cxxbuild.XXXXXX")
	for f in main counter threads; do
		g++ -std=c++17 -O2 -Wall -Werror -pthread -c -o "$out/$f.o" "$src/$f.cpp"
	done
	g++ -O2 -pthread -o "$out/prog" "$out"/main.o "$out"/counter.o "$out"/threads.o
	(cd "$out" && sha256sum main.o counter.o threads.o prog)
	echo "$out" >"$BATS_TEST_TMPDIR/last-cxx-build"
}

@test "gcc -O2 under osmem builds a multi-file C program identical to the plain build, and it runs on osmem" {
	require_cmd gcc
	run_both build_c
	local out
	out=$(cat "$BATS_TEST_TMPDIR/last-c-build")   # the osmem build
	local expected='map 100000 30000000000 599997
primes 78498
list 4999950000
sorted 0 50000 100002
string 100000 4;5;6;7;8;9;'
	local got
	for p in prog prog2; do
		got=$(LD_PRELOAD="$LIB" "$out/$p") || { echo "$p built under osmem failed under osmem (status $?)"; false; }
		[ "$got" = "$expected" ] || { echo "$p under osmem printed:"; echo "$got"; echo "expected:"; echo "$expected"; diff <(echo "$expected") <(echo "$got"); false; }
	done
	run_both "$out/prog"
	assert_osmem_served --prog gcc --prog cc1 --prog as --prog collect2 --prog ld build_c
	assert_osmem_served --prog prog "$out/prog"
}

@test "g++ -O2 under osmem builds a multi-file std::thread/std::map program identical to the plain build, and it runs on osmem" {
	require_cmd g++
	run_both build_cxx
	local out
	out=$(cat "$BATS_TEST_TMPDIR/last-cxx-build")
	local expected='keys 1001 total 200000
first #seen 2062
last w999 200
w0 200 sum0 19900000
sums 1000'
	local got
	got=$(LD_PRELOAD="$LIB" "$out/prog") || { echo "prog built under osmem failed under osmem (status $?)"; false; }
	[ "$got" = "$expected" ] || { echo "prog under osmem printed:"; echo "$got"; echo "expected:"; echo "$expected"; diff <(echo "$expected") <(echo "$got"); false; }
	run_both "$out/prog"
	assert_osmem_served --prog g++ --prog cc1plus --prog as --prog collect2 --prog ld build_cxx
	assert_osmem_served --prog prog "$out/prog"
}
