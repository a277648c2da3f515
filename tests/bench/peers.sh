#!/bin/sh
# peers.sh: the benchmark's peers, recon's classification summary computed by what a user
# would otherwise run on the same files: the sqlite3 shell (peer_sqlite.sql) and DuckDB
# (peer_duckdb.mjs).  Installs what is missing (sqlite3 from Debian, @duckdb/node-api from
# npm into tests/bench/node_modules at the version of tests/bench/package.json).
#
#   peers.sh DATA_DIR             run each peer once; its output must equal
#                                 DATA_DIR/truth_summary.csv byte for byte
#   peers.sh --time RUNS DATA_DIR run each peer RUNS times (each output checked too) and
#                                 print per peer: NAME WALL CPU RSS_MIB (median wall
#                                 seconds, median user+sys seconds, max peak RSS in MiB)
#
# DATA_DIR is a --out directory of fixtures/gen.py: one business date, or (checks only)
# the top of a --days set, whose dates are then checked in order.  Exit 0 when every
# output equals the truth, 1 otherwise, 64 on usage errors.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

usage() {
	echo "usage: $0 [--time RUNS] DATA_DIR" >&2
	exit 64
}
runs=0
if [ "${1:-}" = "--time" ]; then
	[ $# -eq 3 ] || usage
	runs=$2
	shift 2
	case $runs in '' | *[!0-9]* | 0) usage ;; esac
fi
[ $# -eq 1 ] || usage
[ -d "$1" ] || { echo "$0: $1: no such directory" >&2; exit 66; }
data=$(cd "$1" && pwd)

# ---- what the peers need
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
apt_updated=
apt_install() {
	if [ -z "$apt_updated" ]; then
		as_root apt-get update -qq >&2
		apt_updated=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}
command -v sqlite3 > /dev/null 2>&1 || apt_install sqlite3
command -v node > /dev/null 2>&1 || apt_install nodejs
[ -x /usr/bin/time ] || apt_install time
if [ ! -d "$here/node_modules/@duckdb/node-api" ]; then
	command -v npm > /dev/null 2>&1 || apt_install npm
	echo "installing @duckdb/node-api into tests/bench/node_modules" >&2
	npm install --prefix "$here" --no-package-lock --no-audit --no-fund --loglevel=error >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/recon-peers.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# run_peer NAME DIR OUT [PREFIX...]: one run of a peer on DIR, its summary into OUT; the
# command runs under PREFIX (the timer) when given.
# shellcheck disable=SC2016 # the sh -c script takes its own arguments
run_peer() {
	peer=$1 dir=$2 out=$3
	shift 3
	case $peer in
	sqlite3) "$@" sh -c 'cd "$1" && exec sqlite3 -batch :memory: < "$2"' sh \
		"$dir" "$here/peer_sqlite.sql" > "$out" ;;
	duckdb) "$@" node "$here/peer_duckdb.mjs" "$dir" > "$out" ;;
	esac
}

# check NAME DIR OUT: OUT must equal DIR/truth_summary.csv; prints the differing lines.
check() {
	if cmp -s "$2/truth_summary.csv" "$3"; then
		return 0
	fi
	echo "$1: $2: summary differs from truth_summary.csv (< truth, > $1):" >&2
	diff "$2/truth_summary.csv" "$3" | grep '^[<>]' >&2 || true
	return 1
}

status=0
if [ "$runs" -eq 0 ]; then
	if [ -f "$data/ledger.csv" ]; then
		days=$data
	else
		days=$(ls -d "$data"/????-??-?? 2> /dev/null) ||
			{ echo "$0: $data: no ledger.csv and no YYYY-MM-DD directories" >&2; exit 66; }
	fi
	for dir in $days; do
		for peer in sqlite3 duckdb; do
			if run_peer "$peer" "$dir" "$work/out.csv" && check "$peer" "$dir" "$work/out.csv"; then
				echo "ok   $peer ${dir#"$(dirname "$data")"/}"
			else
				echo "FAIL $peer ${dir#"$(dirname "$data")"/}"
				status=1
			fi
		done
	done
	exit "$status"
fi

# ---- timing: "PEER WALL USER SYS MAXRSS_KB" lines in $work/times
[ -f "$data/ledger.csv" ] || { echo "$0: --time needs one business date's directory" >&2; exit 64; }
for peer in sqlite3 duckdb; do
	i=1
	while [ "$i" -le "$runs" ]; do
		sync
		if ! run_peer "$peer" "$data" "$work/out.csv" \
			/usr/bin/time -f "$peer %e %U %S %M" -a -o "$work/times" ||
			! check "$peer" "$data" "$work/out.csv"; then
			echo "FAIL $peer run $i: no time quoted" >&2
			status=1
		fi
		i=$((i + 1))
	done
done
[ "$status" -eq 0 ] || exit 1
awk '
function median(peer, key,   n, i, j, t, a) {
	n = cnt[peer]
	for (i = 1; i <= n; i++) a[i] = val[peer, key, i]
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return a[int((n + 1) / 2)]
}
NF == 5 {
	n = ++cnt[$1]
	val[$1, "wall", n] = $2 + 0
	val[$1, "cpu", n] = $3 + $4
	if ($5 + 0 > rss[$1] + 0) rss[$1] = $5
}
END {
	split("sqlite3 duckdb", peers, " ")
	for (k = 1; k <= 2; k++) {
		p = peers[k]
		printf "%s %.2f %.2f %.1f\n", p, median(p, "wall"), median(p, "cpu"), rss[p] / 1024
	}
}' "$work/times"
