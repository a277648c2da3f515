#!/bin/sh
# Run the tests of the code that runs threads under ThreadSanitizer: the
# read-ahead ring's unit tests and the e2e cases that ingest with --shards.
# A report fails the run even when the command it came from went on to exit 0:
# reports go to files (log_path), and any such file is printed and counted.
#
# Usage: tests/run-tsan.sh BUILD_DIR    (a build made with make TSAN=1)
set -u
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 64; }
build=$1
root=$(cd "$(dirname "$0")/.." && pwd)
reports=$(mktemp -d "${TMPDIR:-/tmp}/recon-tsan.XXXXXX") || exit 1
trap 'rm -rf "$reports"' EXIT INT TERM
# Absolute: each e2e case runs in a directory of its own.
reports=$(cd "$reports" && pwd)
TSAN_OPTIONS="log_path=$reports/report second_deadlock_stack=1"
export TSAN_OPTIONS
rc=0
sh "$root/tests/run-unit.sh" "$build/tests/test_readahead" || rc=1
cases=$(grep -l -e '--shards' "$root"/tests/e2e/cases/*/cmd | sed 's|/cmd$||; s|.*/||')
# An empty list would make run.sh run every case.
[ -n "$cases" ] || { echo "tsan: no e2e case uses --shards" >&2; exit 1; }
# shellcheck disable=SC2086 # one word per case
sh "$root/tests/e2e/run.sh" "$build/recon" $cases || rc=1
n=$(find "$reports" -type f | wc -l)
if [ "$n" -gt 0 ]; then
	cat "$reports"/*
	echo "tsan: $n report(s)" >&2
	rc=1
else
	echo "tsan: no report"
fi
exit $rc
