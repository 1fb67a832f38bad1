#!/usr/bin/env bats
# CPython on osmem: a script with dicts, lists, json and threads prints the same
# results plainly and under LD_PRELOAD=libosmem.so.

load helpers

setup_file() {
	require_lib
	command -v python3 >/dev/null || { echo "python3 is not installed" >&2; return 1; }
	# The interpreter itself, not a wrapper such as a pyenv shim.
	python3 -c 'import sys; print(sys.executable)' >"$BATS_FILE_TMPDIR/python"
}

setup() {
	PY=$(cat "$BATS_FILE_TMPDIR/python")
	export PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
	SCRIPT=$BATS_TEST_TMPDIR/work.py
	cat >"$SCRIPT" <<'EOF'
import hashlib, json, queue, random, sys, threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

rng = random.Random(1234)
def digest(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]

# dicts and lists
d = {f"key{i}": [i, str(i) * (i % 7), {"sq": i * i}] for i in range(150000)}
for i in range(0, 150000, 3):
    del d[f"key{i}"]
lst = [rng.random() for _ in range(200000)]
lst.sort()
words = ["".join(rng.choice("abcdefgh") for _ in range(rng.randint(1, 8))) for _ in range(60000)]
cnt = Counter(words)
groups = defaultdict(list)
for w in words:
    groups[len(w)].append(w)
print("dict", len(d), digest(sorted(d.items())[:2000]))
print("list", len(lst), round(sum(lst), 6), round(lst[100000], 9))
print("counter", cnt.most_common(5))
print("groups", {k: len(v) for k, v in sorted(groups.items())})
s = set(words)
print("set", len(s), sorted(s)[:5])

# json round trip of a nested structure
doc = {"items": [{"id": i, "name": f"n{i}", "tags": [t for t in words[i:i + 5]], "v": i / 7}
                 for i in range(30000)], "meta": {"count": 30000, "nested": [[j] * j for j in range(50)]}}
text = json.dumps(doc, sort_keys=True, indent=1)
back = json.loads(text)
print("json", len(text), back == doc, digest(back))

# big buffers and string building
buf = bytearray(30 * 1024 * 1024)
for i in range(0, len(buf), 4096):
    buf[i] = i % 251
print("bytes", hashlib.sha256(buf).hexdigest()[:16])
parts = []
for i in range(100000):
    parts.append(f"{i:x}")
joined = ",".join(parts)
print("join", len(joined), joined[-20:])
del buf, parts, joined

# threads: a lock-protected shared dict, a queue pipeline, and a pool
shared = {}
lock = threading.Lock()
def worker(n):
    local = {}
    for i in range(20000):
        k = (i * (n + 3)) % 5003
        local[k] = local.get(k, 0) + 1
        if i % 1000 == 0:
            _ = [str(x) for x in range(200)]
    with lock:
        for k, v in local.items():
            shared[k] = shared.get(k, 0) + v
ts = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
for t in ts: t.start()
for t in ts: t.join()
print("threads", len(shared), sum(shared.values()), digest(sorted(shared.items())))

q, out = queue.Queue(maxsize=64), queue.Queue()
def produce():
    for i in range(20000):
        q.put({"i": i, "payload": "x" * (i % 300)})
    for _ in range(3):
        q.put(None)
def consume():
    total = 0
    while (item := q.get()) is not None:
        total += item["i"] + len(json.dumps(item))
    out.put(total)
threads = [threading.Thread(target=produce)] + [threading.Thread(target=consume) for _ in range(3)]
for t in threads: t.start()
for t in threads: t.join()
print("queue", sum(out.get() for _ in range(3)))

def job(n):
    return digest({"n": n, "data": [list(range(k)) for k in range(n % 40)]})
with ThreadPoolExecutor(max_workers=4) as ex:
    res = list(ex.map(job, range(400)))
print("pool", len(res), hashlib.sha256("".join(res).encode()).hexdigest()[:16])
sys.exit(0)
EOF
}

@test "python3 runs a dict, list, json and threading script identically under osmem" {
	run_both "$PY" "$SCRIPT"
	[ "$(wc -l <"$RUN_PLAIN_OUT")" -eq 11 ] || { echo "unexpected script output:"; cat "$RUN_PLAIN_OUT"; false; }
	grep -qx 'json [0-9]* True [0-9a-f]*' "$RUN_OSMEM_OUT" || { echo "json round trip failed under osmem:"; cat "$RUN_OSMEM_OUT"; false; }
	assert_osmem_served --prog 'python3*' "$PY" "$SCRIPT"
}

@test "python3 -c through the python3 command on PATH is served by osmem" {
	run_both python3 -c 'import json; print(json.dumps({"a": [1, 2, {"b": None}]}, sort_keys=True))'
	[ "$(cat "$RUN_OSMEM_OUT")" = '{"a": [1, 2, {"b": null}]}' ] || { echo "unexpected output:"; cat "$RUN_OSMEM_OUT"; false; }
	assert_osmem_served --prog 'python3*' python3 -c 'print(sum(range(10)))'
}

@test "python3 that ran out of address space (ulimit -v) recovers: the freed heap gives its room back for Python's own next mappings" {
	cat >"$BATS_TEST_TMPDIR/as.py" <<'EOF2'
blocks = []
try:
    while True:
        blocks.append(b"x" * 100000)
except MemoryError:
    n = len(blocks)
del blocks
small = [str(i) * 3 for i in range(100000)]
print("recovered" if n > 100 else "too few", len(small))
EOF2
	# The same limit on glibc: the script itself works there.
	run bash -c "ulimit -v 400000 && exec '$PY' '$BATS_TEST_TMPDIR/as.py'"
	[ "$status" -eq 0 ] && [ "$output" = "recovered 100000" ] || { echo "glibc: $output"; false; }
	run bash -c "ulimit -v 400000 && LD_PRELOAD='$LIB' exec '$PY' '$BATS_TEST_TMPDIR/as.py'"
	[ "$status" -eq 0 ] || { echo "osmem: status $status: $output"; false; }
	[ "$output" = "recovered 100000" ] || { echo "osmem: $output"; false; }
}
