#!/bin/sh
# The demo: ingest the bundled fixtures (fixtures/demo, written by
# fixtures/gen.py --orders 400 --seed 11) into a fresh database under out/demo/,
# match as of the end of the business day, write the reports to
# out/demo/reports/ and show them.  Usage: scripts/demo.sh RECON
set -eu
recon=$1
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/out/demo
rm -rf "$out"
mkdir -p "$out"
db=$out/recon.db
cd "$root"
echo "== ingesting the order ledger and two overlapping statement downloads"
"$recon" ingest --db "$db" --profile ledger_v1 fixtures/demo/ledger.csv
"$recon" ingest --db "$db" --profile psp_v1 fixtures/demo/statement_a.csv fixtures/demo/statement_b.csv
echo "== files (each ingested once; the overlap collapsed as duplicates)"
sqlite3 -header -column "$db" "SELECT file_id, path, rows_read AS rows, rows_inserted AS inserted,
    rows_duplicate AS duplicate, rows_conflict AS conflict, rows_rejected AS rejected FROM files"
echo "== statement rows per type and currency (amounts in minor units)"
sqlite3 -header -column "$db" "SELECT type, currency, count(*) AS rows, sum(amount_minor) AS amount_minor
    FROM statement_rows GROUP BY type, currency ORDER BY type, currency"
echo "== ledger events per kind"
sqlite3 -header -column "$db" "SELECT event, count(*) AS events FROM ledger_events GROUP BY event ORDER BY event"
echo "== ingesting the same files again is a no-op"
"$recon" -v ingest --db "$db" --profile psp_v1 fixtures/demo/statement_a.csv 2>&1
echo "== matching as of the end of 2026-11-20 (UTC)"
"$recon" match --db "$db" --as-of 2026-11-21T00:00:00Z
"$recon" report --db "$db" --out "$out/reports"
cat "$out/reports/summary.txt"
echo "== customers charged twice (double_charges.csv)"
cut -d, -f2-7,12 "$out/reports/double_charges.csv"
echo
echo "reports: $out/reports/"
echo "database: $db (open it with: sqlite3 $db)"
