#!/bin/sh
# make bench: recon end to end (ingest, match, report) on datasets from the
# project's generator, from a cold database, against what a user would
# otherwise run on the same files (the sqlite3 shell and DuckDB, peers.sh),
# every measurement RUNS times with medians quoted; and a nightly run on top
# of 30 days of history against the same day on an empty database.
#
#   BENCH_ORDERS="1000000" (default)  orders per dataset ("" for none); several give
#                                     one table each and the growth ratio
#   BENCH_RUNS=3                      repetitions per measurement
#   BENCH_SHARDS=2                    shards: as parallel processes, and as the
#                                     threads of one ingest (--shards; 0: skip)
#   BENCH_PEERS=1                     0 skips the sqlite3 shell and DuckDB
#   BENCH_DAYS=31                     days of the incremental test (0: skip)
#   BENCH_DAY_ORDERS=100000           orders per day in it
#
# Every recon result is checked against the generator's truth (summary per
# category and currency) and every peer's output too, before any time is
# quoted.  Tables go to stdout and to tests/bench/results/DATE-*.txt.
# Every timed run starts after a sync, so that it does not pay for writing back
# what the run before it (or the copy of the history database) left dirty.
set -eu
recon=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
bench=$root/tests/bench
orders_list=${BENCH_ORDERS-1000000}
runs=${BENCH_RUNS:-3}
shards=${BENCH_SHARDS:-2}
peers=${BENCH_PEERS:-1}
days=${BENCH_DAYS:-31}
day_orders=${BENCH_DAY_ORDERS:-100000}
work=$(mktemp -d "${TMPDIR:-/tmp}/recon-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
today=$(date -u +%Y-%m-%d)
mkdir -p "$bench/results"

say() { echo "$*" >&2; }

# Median of the numbers on stdin.
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# timed FILE NAME CMD...: append "NAME WALL CPU RSS_KB" to FILE.
timed() {
	out=$1 name=$2
	shift 2
	/usr/bin/time -f "$name %e %U %S %M" -a -o "$out.raw" "$@" > /dev/null
	tail -n 1 "$out.raw" | awk '{ printf "%s %s %.2f %s\n", $1, $2, $3 + $4, $5 }' >> "$out"
}

# stats FILE NAME: "WALL CPU RSS_MIB" (medians of wall and CPU, max RSS).
stats() {
	w=$(awk -v n="$2" '$1 == n { print $2 }' "$1" | median)
	c=$(awk -v n="$2" '$1 == n { print $3 }' "$1" | median)
	r=$(awk -v n="$2" '$1 == n && $4 > m { m = $4 } END { printf "%.1f", m / 1024 }' "$1")
	echo "$w $c $r"
}

summary_of() {
	sqlite3 -csv "$1" "SELECT category, currency, cases, amount_minor FROM run_summary
	    WHERE run_id = (SELECT max(run_id) FROM runs WHERE status = 'OK') ORDER BY 1, 2"
}

check_truth() { # DB DATA WHAT
	if ! summary_of "$1" | cmp -s - "$2/truth_summary.csv.body"; then
		say "$3: the summary differs from the generator's truth; no time is quoted"
		exit 1
	fi
}

gen() { # DIR ARGS...
	dir=$1
	shift
	if [ ! -f "$dir/params.txt" ] && [ ! -f "$dir/.done" ]; then
		say "generating $* into $dir"
		python3 "$root/fixtures/gen.py" "$@" --seed 1 --out "$dir" >&2
		touch "$dir/.done"
	fi
}

one_size() {
	orders=$1
	data=$bench/data/$orders
	gen "$data" --orders "$orders"
	tail -n +2 "$data/truth_summary.csv" > "$data/truth_summary.csv.body"
	as_of=$(sed -n 's/^as_of=//p' "$data/params.txt")
	lr=$(($(wc -l < "$data/ledger.csv") - 1))
	sr=$(($(wc -l < "$data/statement_a.csv") + $(wc -l < "$data/statement_b.csv") - 2))
	lb=$(wc -c < "$data/ledger.csv")
	sb=$(($(wc -c < "$data/statement_a.csv") + $(wc -c < "$data/statement_b.csv")))
	t=$work/times.$orders
	: > "$t"
	i=1
	while [ "$i" -le "$runs" ]; do
		say "recon, $orders orders, run $i of $runs"
		rm -rf "$work"/t.db* "$work/out"
		sync
		timed "$t" ingest_ledger "$recon" -q ingest --db "$work/t.db" --profile ledger_v1 "$data/ledger.csv"
		timed "$t" ingest_statements "$recon" -q ingest --db "$work/t.db" --profile psp_v1 \
			"$data/statement_a.csv" "$data/statement_b.csv"
		timed "$t" match "$recon" -q match --db "$work/t.db" --as-of "$as_of"
		timed "$t" report "$recon" -q report --db "$work/t.db" --out "$work/out"
		check_truth "$work/t.db" "$data" "recon"
		if [ "$shards" -gt 0 ]; then
			say "recon, $orders orders, $shards shards in parallel, run $i of $runs"
			rm -rf "$work"/s*.db* "$work"/m.db* "$work/mout"
			sync
			timed "$t" sharded sh -c '
				recon=$1 data=$2 as_of=$3 work=$4 n=$5
				k=0
				while [ "$k" -lt "$n" ]; do
					( "$recon" -q ingest --db "$work/s$k.db" --shard "$k/$n" --profile ledger_v1 "$data/ledger.csv" &&
					  "$recon" -q ingest --db "$work/s$k.db" --shard "$k/$n" --profile psp_v1 \
						"$data/statement_a.csv" "$data/statement_b.csv" &&
					  "$recon" -q match --db "$work/s$k.db" --as-of "$as_of" ) || exit 1 &
					k=$((k + 1))
				done
				wait
				k=0 dbs=
				while [ "$k" -lt "$n" ]; do dbs="$dbs $work/s$k.db"; k=$((k + 1)); done
				"$recon" -q merge --db "$work/m.db" --out "$work/mout" $dbs' sh \
				"$recon" "$data" "$as_of" "$work" "$shards"
			check_truth "$work/m.db" "$data" "recon --shard"
			say "recon, $orders orders, $shards shards by one ingest's threads, run $i of $runs"
			rm -rf "$work"/s*.db* "$work"/m.db* "$work/mout"
			sync
			timed "$t" threaded sh -c '
				recon=$1 data=$2 as_of=$3 work=$4 n=$5
				"$recon" -q ingest --db "$work/s{k}.db" --shards "$n" --profile ledger_v1 "$data/ledger.csv" &&
				"$recon" -q ingest --db "$work/s{k}.db" --shards "$n" --profile psp_v1 \
					"$data/statement_a.csv" "$data/statement_b.csv" || exit 1
				k=0 dbs= pids=
				while [ "$k" -lt "$n" ]; do
					"$recon" -q match --db "$work/s$k.db" --as-of "$as_of" > /dev/null &
					pids="$pids $!" dbs="$dbs $work/s$k.db"
					k=$((k + 1))
				done
				for p in $pids; do wait "$p" || exit 1; done
				"$recon" -q merge --db "$work/m.db" --out "$work/mout" $dbs' sh \
				"$recon" "$data" "$as_of" "$work" "$shards"
			check_truth "$work/m.db" "$data" "recon --shards"
		fi
		i=$((i + 1))
	done
	# End to end per run: the sum of the phases of that run.
	awk '$1 ~ /^(ingest_ledger|ingest_statements|match|report)$/ {
		n[$1]++; k = n[$1]; w[k] += $2; c[k] += $3; if ($4 > r[k]) r[k] = $4 }
	     END { for (k in w) printf "end_to_end %.2f %.2f %d\n", w[k], c[k], r[k] }' "$t" >> "$t"

	peer_lines=
	if [ "$peers" = 1 ]; then
		say "sqlite3 shell and DuckDB, $orders orders, $runs runs each"
		peer_lines=$("$bench/peers.sh" --time "$runs" "$data")
	fi

	res=$bench/results/$today-$orders.txt
	{
		echo "recon end to end, $orders orders ($lr ledger rows, $sr statement rows," \
		     "$(( (lb + sb) / 1000000 )) MB of CSV), median of $runs runs, cold database"
		printf "%-18s %10s %8s %8s %11s %7s %9s\n" phase rows wall_s cpu_s rows/s MB/s peak_MiB
		for p in ingest_ledger ingest_statements match report end_to_end; do
			set -- $(stats "$t" "$p")
			case $p in
			ingest_ledger) rows=$lr bytes=$lb ;;
			ingest_statements) rows=$sr bytes=$sb ;;
			match) rows=$((lr + sr)) bytes=0 ;;
			report) rows=0 bytes=0 ;;
			end_to_end) rows=$((lr + sr)) bytes=$((lb + sb)) ;;
			esac
			awk -v p="$p" -v rows="$rows" -v bytes="$bytes" -v w="$1" -v c="$2" -v r="$3" 'BEGIN {
				printf "%-18s %10d %8.2f %8.2f %11.0f %7.1f %9.1f\n", p, rows, w, c,
				       (w > 0 ? rows / w : 0), (w > 0 ? bytes / w / 1e6 : 0), r }'
		done
		echo "summary per category and currency vs the generator truth: equal (every run)"
		echo
		echo "the same classification, same files, median of $runs runs"
		printf "%-36s %8s %8s %9s %14s\n" what wall_s cpu_s peak_MiB recon_wall/this
		set -- $(stats "$t" end_to_end)
		base=$1
		printf "%-36s %8.2f %8.2f %9.1f %14s\n" "recon, one process" "$1" "$2" "$3" "1.00"
		if [ "$shards" -gt 0 ]; then
			set -- $(stats "$t" sharded)
			awk -v w="$1" -v c="$2" -v r="$3" -v b="$base" -v n="$shards" 'BEGIN {
				printf "%-36s %8.2f %8.2f %9.1f %14.2f\n", "recon, " n " shards in parallel + merge", w, c, r, b / w }'
			set -- $(stats "$t" threaded)
			awk -v w="$1" -v c="$2" -v r="$3" -v b="$base" -v n="$shards" 'BEGIN {
				printf "%-36s %8.2f %8.2f %9.1f %14.2f\n", "recon, " n " shards by threads + merge", w, c, r, b / w }'
		fi
		echo "$peer_lines" | while read -r name w c r; do
			[ -n "$name" ] || continue
			awk -v name="$name" -v w="$w" -v c="$c" -v r="$r" -v b="$base" 'BEGIN {
				label = name == "duckdb" ? "DuckDB (@duckdb/node-api, 2 threads)" : "sqlite3 shell (.import + SQL)"
				printf "%-36s %8.2f %8.2f %9.1f %14.2f\n", label, w, c, r, b / w }'
		done
		echo "(peer outputs checked equal to the truth; recon_wall/this: recon one process / this)"
	} | tee "$res"
	echo "written: ${res#$root/}" >&2
	stats "$t" end_to_end | awk -v o="$orders" '{ print o, $1 }' >> "$work/sizes"
}

# night_phases FILE WHAT DB DAYDIR AS_OF: the night's three commands, timed
# one by one as WHAT_ledger, WHAT_statements and WHAT_match.
night_phases() {
	timed "$1" "$2_ledger" "$recon" -q ingest --db "$3" --profile ledger_v1 "$4/ledger.csv"
	timed "$1" "$2_statements" "$recon" -q ingest --db "$3" --profile psp_v1 \
		"$4/statement_a.csv" "$4/statement_b.csv"
	timed "$1" "$2_match" "$recon" -q match --db "$3" --as-of "$5"
}

nights() {
	data=$bench/data/nights-$days-$day_orders
	gen "$data" --orders $((days * day_orders)) --days "$days"
	last=$(ls -d "$data"/20* | tail -n 1)
	t=$work/times.nights
	: > "$t"
	say "incremental: ingesting and matching $((days - 1)) days of history"
	rm -f "$work"/h.db*
	for d in $(ls -d "$data"/20* | head -n $((days - 1))); do
		"$recon" -q ingest --db "$work/h.db" --profile ledger_v1 "$d/ledger.csv"
		"$recon" -q ingest --db "$work/h.db" --profile psp_v1 "$d/statement_a.csv" "$d/statement_b.csv"
		"$recon" -q match --db "$work/h.db" --as-of "$(sed -n 's/^as_of=//p' "$d/params.txt")" > /dev/null
	done
	sqlite3 "$work/h.db" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
	as_of=$(sed -n 's/^as_of=//p' "$last/params.txt")
	tail -n +2 "$last/truth_summary.csv" > "$last/truth_summary.csv.body"
	i=1
	while [ "$i" -le "$runs" ]; do
		say "incremental: day $days, run $i of $runs"
		rm -f "$work"/n.db* "$work"/e.db*
		cp "$work/h.db" "$work/n.db"
		sync
		night_phases "$t" night "$work/n.db" "$last" "$as_of"
		check_truth "$work/n.db" "$last" "day $days on $((days - 1)) days"
		sync
		night_phases "$t" empty "$work/e.db" "$last" "$as_of"
		i=$((i + 1))
	done
	# A night per run: the sum of its phases.
	for w in night empty; do
		awk -v w="$w" '$1 ~ "^" w "_" {
			n[$1]++; k = n[$1]; s[k] += $2; c[k] += $3; if ($4 > r[k]) r[k] = $4 }
		     END { for (k in s) printf "%s %.2f %.2f %d\n", w, s[k], c[k], r[k] }' "$t" >> "$t"
	done
	mode=$(sqlite3 "$work/n.db" "SELECT match_mode FROM runs ORDER BY run_id DESC LIMIT 1")
	res=$bench/results/$today-nights-$days-$day_orders.txt
	{
		echo "nightly run (ingest + match) of day $days, $day_orders orders a day, median of $runs runs"
		printf "%-44s %8s %8s %9s\n" what wall_s cpu_s peak_MiB
		set -- $(stats "$t" empty)
		e=$1
		printf "%-44s %8.2f %8.2f %9.1f\n" "day $days on an empty database" "$1" "$2" "$3"
		set -- $(stats "$t" night)
		printf "%-44s %8.2f %8.2f %9.1f\n" "day $days on $((days - 1)) days of history ($mode)" "$1" "$2" "$3"
		awk -v a="$1" -v b="$e" 'BEGIN { printf "ratio: %.2fx the empty database (target at most 1.2x)\n", a / b }'
		echo "per phase (medians; empty database, then history):"
		for p in ledger statements match; do
			set -- $(stats "$t" "empty_$p")
			e=$1
			set -- $(stats "$t" "night_$p")
			awk -v p="$p" -v e="$e" -v h="$1" 'BEGIN {
				printf "  %-42s %8.2f %8.2f %7.2fx\n", p, e, h, (e > 0 ? h / e : 0) }'
		done
	} | tee "$res"
	echo "written: ${res#$root/}" >&2
}

for n in $orders_list; do
	one_size "$n"
done
if [ -f "$work/sizes" ] && [ "$(wc -l < "$work/sizes")" -gt 1 ]; then
	awk 'NR == 1 { o = $1; w = $2 } NR > 1 { printf "growth: %d orders take %.2fx the time of %d (%.1fx the orders)\n", $1, $2 / w, o, $1 / o }' "$work/sizes"
fi
if [ "$days" -gt 1 ]; then
	nights
fi
