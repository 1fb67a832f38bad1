#!/usr/bin/env bats
# sqlite3 on osmem: a 100k-row table with indexes, queried, updated and
# vacuumed, must give the same results plainly and under LD_PRELOAD=libosmem.so.

load helpers

setup_file() {
	require_lib
	command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed (scripts/install-deps installs it)" >&2; return 1; }
}

# Builds a fresh database and prints query results and its integrity check.
sqlite_work() {
	local dir
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/db.XXXXXX")
	echo "$dir/t.db" >"$BATS_TEST_TMPDIR/last-db"
	sqlite3 -batch -bail "$dir/t.db" <<'SQL'
PRAGMA cache_size = -4000;
PRAGMA synchronous = OFF;
PRAGMA journal_mode = MEMORY;
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, grp INTEGER, val REAL, payload TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
INSERT INTO t SELECT x, 'name' || (x * 7919 % 100003), x % 97, (x * 31337 % 1000) / 7.0,
                     printf('%.*c', x % 60, 'p') || x FROM c;
CREATE INDEX t_grp_val ON t(grp, val);
CREATE UNIQUE INDEX t_name ON t(name);
SELECT count(*), count(DISTINCT name), sum(length(payload)) FROM t;
SELECT grp, count(*), round(sum(val), 3), min(name), max(name) FROM t GROUP BY grp ORDER BY grp;
EXPLAIN QUERY PLAN SELECT id FROM t WHERE name = 'name12345';
EXPLAIN QUERY PLAN SELECT id FROM t WHERE grp = 7 AND val > 100;
SELECT id, name, grp, round(val, 4) FROM t WHERE name BETWEEN 'name5000' AND 'name5010' ORDER BY name;
SELECT id, round(val, 4) FROM t WHERE grp = 7 AND val > 142 ORDER BY val DESC, id LIMIT 20;
UPDATE t SET payload = upper(payload) || '!' WHERE grp IN (5, 6, 7);
DELETE FROM t WHERE id % 3 = 0;
SELECT grp, name, rank() OVER (PARTITION BY grp ORDER BY val DESC, id) AS r FROM t WHERE grp < 3 ORDER BY grp, r LIMIT 30;
SELECT a.grp, count(*) FROM t a JOIN t b ON b.id = a.id - 1 WHERE a.grp = b.grp + 1 GROUP BY a.grp ORDER BY 2 DESC, 1 LIMIT 5;
SELECT group_concat(name, ',') FROM (SELECT name FROM t WHERE grp = 42 ORDER BY name LIMIT 50);
VACUUM;
PRAGMA integrity_check;
SELECT count(*), sum(id), max(length(payload)) FROM t;
SQL
}

@test "sqlite3 with 100k rows and indexes returns the same query results under osmem" {
	run_both sqlite_work
	grep -qx 'ok' "$RUN_OSMEM_OUT" || { echo "PRAGMA integrity_check did not print ok under osmem"; false; }
	grep -q '^100000|100000|' "$RUN_OSMEM_OUT" || { echo "the table does not have 100000 distinct rows"; head -n 3 "$RUN_OSMEM_OUT"; false; }
	grep -q 'USING COVERING INDEX t_name\|USING INDEX t_name' "$RUN_OSMEM_OUT" || { echo "the name query does not use the index"; false; }
	local db
	db=$(cat "$BATS_TEST_TMPDIR/last-db")   # made under osmem
	run_both sqlite3 -batch "$db" "SELECT grp, count(*), round(avg(val), 6) FROM t GROUP BY grp HAVING count(*) > 680 ORDER BY grp; PRAGMA integrity_check;"
	assert_osmem_served --prog sqlite3 sqlite3 -batch "$db" "SELECT count(*) FROM t WHERE name > 'name9';"
}
