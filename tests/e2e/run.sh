#!/bin/sh
# End-to-end tests: each folder in tests/e2e/cases/ is one case.
#
#   cmd        shell commands, run with sh in a fresh temporary directory that
#              holds a link 'fixtures' to the repository's fixtures/ folder;
#              $RECON is the recon binary, $ROOT the repository.
#   expected/  files compared byte for byte with those the commands leave in the
#              directory.  Three names are special: 'stdout', 'stderr' and
#              'status' (the exit status of the last command of cmd).
#
# Usage: tests/e2e/run.sh RECON [CASE...]    (all cases by default)
# With UPDATE=1, a differing expected file is overwritten with what the case
# wrote: review every such change with git diff before committing it.
set -u
RECON=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); shift
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PATH=$ROOT/build/tools:$PATH    # promtool, installed by make deps
export RECON ROOT PATH
LC_ALL=C.UTF-8; export LC_ALL
TZ=UTC; export TZ
cases=${*:-$(ls "$ROOT/tests/e2e/cases")}
pass=0; fail=0; failed=""
tmp=$(mktemp -d "${TMPDIR:-/tmp}/recon-e2e.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
for name in $cases; do
	dir=$ROOT/tests/e2e/cases/$name
	[ -f "$dir/cmd" ] || { echo "e2e: $name: no cmd file" >&2; fail=$((fail + 1)); continue; }
	work=$tmp/$name
	mkdir -p "$work"
	ln -s "$ROOT/fixtures" "$work/fixtures"
	(cd "$work" && sh "$dir/cmd" >stdout 2>stderr; echo $? >status)
	ok=1
	for exp in "$dir"/expected/*; do
		[ -e "$exp" ] || continue
		got=$work/$(basename "$exp")
		if [ ! -f "$got" ]; then
			echo "FAIL $name: $(basename "$exp") was not written"; ok=0
		elif ! cmp -s "$exp" "$got"; then
			echo "FAIL $name: $(basename "$exp") differs:"; diff -u "$exp" "$got" | head -n 40; ok=0
			[ "${UPDATE:-0}" = 1 ] && cp "$got" "$exp"
		fi
	done
	if [ $ok -eq 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $name"; fi
done
echo "e2e: $pass passed, $fail failed"
[ $fail -eq 0 ] || { echo "failing e2e cases:$failed" >&2; exit 1; }
