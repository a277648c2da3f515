#!/bin/sh
# The demo: the demo job (jobs/demo.ini) over its three bundled business days,
# as cron would run it night after night, into a fresh out/demo/.  Then the run
# history, the last day's summary and its double charges.
# Usage: scripts/demo.sh RECON
set -eu
recon=$1
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rm -rf out/demo
for date in 2026-11-18 2026-11-19 2026-11-20; do
	echo "== recon run jobs/demo.ini --date $date"
	"$recon" run jobs/demo.ini --date "$date"
done
echo "== rerunning a date is safe: files already ingested are skipped, same reports"
"$recon" run jobs/demo.ini --date 2026-11-19
echo "== recon runs --db out/demo/recon.db"
"$recon" runs --db out/demo/recon.db
echo "== out/demo/reports/2026-11-20/summary.txt"
cat out/demo/reports/2026-11-20/summary.txt
echo "== customers charged twice (double_charges.csv)"
cut -d, -f2-7,12 out/demo/reports/2026-11-20/double_charges.csv
echo
echo "reports: out/demo/reports/<date>/   database: out/demo/recon.db (sqlite3 out/demo/recon.db)"
