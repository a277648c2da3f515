#!/bin/sh
# Run every cmocka unit-test binary given; fail if any fails.  Prints a closing
# "N passed, N failed" line counting the test binaries' individual tests.
set -u
pass=0; fail=0; failed_bins=""
for t in "$@"; do
	# A hung test (threads waiting on each other) fails instead of holding CI.
	out=$(timeout 600 "$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
	if [ $rc -ne 0 ]; then
		failed_bins="$failed_bins $t"
		[ -n "$f" ] || fail=$((fail + 1))
	fi
done
echo "unit: $pass passed, $fail failed"
[ -z "$failed_bins" ] || { echo "failing unit test binaries:$failed_bins" >&2; exit 1; }
