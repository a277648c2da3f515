#!/bin/sh
# make bench: recon end to end (ingest, match, report) on a dataset from the
# project's generator, from a cold database, RUNS times; prints per phase the
# rows, the median seconds, rows/s, MB/s and the peak RSS, and writes the table
# to tests/bench/results/DATE-ORDERS.txt.
#
#   BENCH_ORDERS=1000000 (default)   orders generated (about 3 CSV rows each)
#   BENCH_RUNS=3 (default)           repetitions; medians are quoted
#
# Comparisons with the sqlite3 shell and DuckDB on the same files are the
# subject of the performance work still to come; this script measures recon.
set -eu
recon=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
orders=${BENCH_ORDERS:-1000000}
runs=${BENCH_RUNS:-3}
data=$root/tests/bench/data/$orders
work=$(mktemp -d "${TMPDIR:-/tmp}/recon-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

if [ ! -f "$data/params.txt" ]; then
	echo "generating $orders orders into $data" >&2
	python3 "$root/fixtures/gen.py" --orders "$orders" --seed 1 --out "$data" >&2
fi
as_of=$(sed -n 's/^as_of=//p' "$data/params.txt")
ledger_rows=$(($(wc -l < "$data/ledger.csv") - 1))
stmt_rows=$(($(wc -l < "$data/statement_a.csv") + $(wc -l < "$data/statement_b.csv") - 2))
ledger_bytes=$(wc -c < "$data/ledger.csv")
stmt_bytes=$(($(wc -c < "$data/statement_a.csv") + $(wc -c < "$data/statement_b.csv")))

# One timed phase: "NAME SECONDS MAXRSS_KB" appended to $work/times.
phase() {
	name=$1; shift
	/usr/bin/time -f "$name %e %M" -a -o "$work/times" "$@" > /dev/null
}

i=1
while [ "$i" -le "$runs" ]; do
	rm -f "$work"/t.db*
	phase ingest_ledger "$recon" -q ingest --db "$work/t.db" --profile ledger_v1 "$data/ledger.csv"
	phase ingest_statements "$recon" -q ingest --db "$work/t.db" --profile psp_v1 \
		"$data/statement_a.csv" "$data/statement_b.csv"
	phase match "$recon" -q match --db "$work/t.db" --as-of "$as_of"
	phase report "$recon" -q report --db "$work/t.db" --out "$work/out"
	i=$((i + 1))
done
# Check the result before quoting a time: the summary must equal the truth.
sqlite3 -csv "$work/t.db" "SELECT category, currency, cases, amount_minor FROM run_summary
    WHERE run_id = (SELECT max(run_id) FROM runs WHERE status = 'OK') ORDER BY 1, 2" > "$work/got.csv"
if tail -n +2 "$data/truth_summary.csv" | cmp -s - "$work/got.csv"; then truth=equal; else truth=DIFFERENT; fi

result=$root/tests/bench/results/$(date -u +%Y-%m-%d)-$orders.txt
awk -v runs="$runs" -v lr="$ledger_rows" -v sr="$stmt_rows" -v lb="$ledger_bytes" -v sb="$stmt_bytes" \
    -v orders="$orders" -v truth="$truth" '
function median(name,   n, i, j, t, a) {
	n = 0
	for (i = 1; i <= cnt[name]; i++) a[++n] = sec[name, i]
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return a[int((n + 1) / 2)]
}
{ cnt[$1]++; sec[$1, cnt[$1]] = $2; if ($3 + 0 > rss[$1] + 0) rss[$1] = $3 }
END {
	printf "recon end to end, %d orders (%d ledger rows, %d statement rows), median of %d runs\n", orders, lr, sr, runs
	printf "%-18s %10s %9s %12s %8s %12s\n", "phase", "rows", "seconds", "rows/s", "MB/s", "peak RSS MiB"
	split("ingest_ledger ingest_statements match report", ph, " ")
	rows["ingest_ledger"] = lr; rows["ingest_statements"] = sr; rows["match"] = lr + sr; rows["report"] = 0
	bytes["ingest_ledger"] = lb; bytes["ingest_statements"] = sb; bytes["match"] = 0; bytes["report"] = 0
	total = 0; peak = 0
	for (k = 1; k <= 4; k++) {
		p = ph[k]; m = median(p); total += m; if (rss[p] + 0 > peak + 0) peak = rss[p]
		rate = (m > 0) ? rows[p] / m : 0
		mbs = (m > 0) ? bytes[p] / m / 1e6 : 0
		printf "%-18s %10d %9.2f %12.0f %8.1f %12.1f\n", p, rows[p], m, rate, mbs, rss[p] / 1024
	}
	printf "%-18s %10d %9.2f %12.0f %8.1f %12.1f\n", "end to end", lr + sr, total, (lr + sr) / total,
	       (lb + sb) / total / 1e6, peak / 1024
	printf "summary per category and currency vs the generator truth: %s\n", truth
}' "$work/times" | tee "$result"
echo "written: ${result#$root/}"
[ "$truth" = equal ]
