#!/usr/bin/env bats
# git on osmem: the same history made in two repositories, plainly and under
# LD_PRELOAD=libosmem.so, with fixed identities and dates, must have the same
# commit ids, log, packs after gc, and a clean fsck.

load helpers

git_env() {
	export GIT_CONFIG_NOSYSTEM=1 HOME=$1/home
	export GIT_AUTHOR_NAME="Osmem Tester" GIT_AUTHOR_EMAIL="tester@example.com"
	export GIT_COMMITTER_NAME="Osmem Tester" GIT_COMMITTER_EMAIL="tester@example.com"
	mkdir -p "$HOME"
}

setup_file() {
	require_lib
	command -v git >/dev/null || { echo "git is not installed" >&2; return 1; }
	# A plainly made history for the read-only commands of the second test.
	git_env "$BATS_FILE_TMPDIR"
	(make_history "$BATS_FILE_TMPDIR") >/dev/null
	cp "$BATS_FILE_TMPDIR/last-repo" "$BATS_FILE_TMPDIR/plain-repo"
}

setup() {
	git_env "$BATS_TEST_TMPDIR"
}

# Makes a repository with 25 commits in a fresh directory under $1, then
# repacks it; prints the log, the tree of HEAD and the fsck result, and
# writes the repository's path to $1/last-repo.
make_history() {
	local r top=${1:-$BATS_TEST_TMPDIR}
	r=$(mktemp -d "$top/repo.XXXXXX")
	cd "$r" || return
	git init -q -b main .
	git config user.name "Osmem Tester"
	git config user.email "tester@example.com"
	git config gc.auto 0
	local i f
	for i in $(seq 1 25); do
		# commit i is dated 2024-01-01 00:00 UTC + i hours
		export GIT_AUTHOR_DATE="@$((1704067200 + i * 3600)) +0000"
		export GIT_COMMITTER_DATE="$GIT_AUTHOR_DATE"
		mkdir -p "dir$((i % 4))"
		awk -v i="$i" -v d="dir$((i % 4))" 'BEGIN {
			for (f = 1; f <= i % 7 + 1; f++)
				for (n = i; n <= i * 80 + f; n++)
					print n, "line of file", f, "in commit", i > (d "/file" f ".txt")
		}'
		if [ $((i % 5)) -eq 0 ] && [ -e "dir$(((i + 1) % 4))" ]; then
			git rm -q -r "dir$(((i + 1) % 4))"
		fi
		git add -A
		git commit -q -m "commit $i" -m "body of commit $i"
		[ $((i % 10)) -ne 0 ] || git tag -a -m "tag $i" "v$i"
	done
	git log --stat --format='%H %an <%ae> %ad %cd%n%s%n%b' --date=iso-strict
	git ls-tree -r -l HEAD
	git gc -q --prune=now
	git count-objects -v | grep -E '^(count|in-pack|packs|garbage)'
	git verify-pack -v .git/objects/pack/*.idx | grep -c -E '^[0-9a-f]{40} '
	git fsck --full --strict --no-progress
	git describe --tags
	git log --oneline --graph --all
	echo "$r" >"$top/last-repo"
}

@test "git init/add/commit/tag/gc/fsck make the same history under osmem" {
	run_both make_history
	grep -q '^[0-9a-f]\{40\} Osmem Tester <tester@example.com> 2024-01-02T01:00:00+00:00' "$RUN_OSMEM_OUT" ||
		{ echo "expected the last commit's header in the log:"; head -n 5 "$RUN_OSMEM_OUT"; false; }
	grep -qx 'v20-5-g[0-9a-f]*' "$RUN_OSMEM_OUT" || { echo "git describe output missing"; false; }
	local repo
	repo=$(cat "$BATS_TEST_TMPDIR/last-repo")   # the one made under osmem
	run_both git -C "$repo" log --format='%H %T %P %s'
	run_both git -C "$repo" fsck --full --strict --no-progress
	assert_osmem_served --prog git git -C "$repo" log -p -5
}

@test "git diff, blame and grep over the history agree under osmem" {
	local repo
	repo=$(cat "$BATS_FILE_TMPDIR/plain-repo")
	run_both git -C "$repo" diff --stat v10 v20
	run_both git -C "$repo" diff -M HEAD~12 HEAD
	run_both git -C "$repo" blame -- dir1/file1.txt
	run_both git -C "$repo" grep -n -e 'line of file 3' --and -e 'commit 2' HEAD~3
	run_both git -C "$repo" rev-list --objects --all
	assert_osmem_served --prog git git -C "$repo" blame -- dir1/file1.txt
}
