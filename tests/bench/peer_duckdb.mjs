// peer_duckdb.mjs - recon's classification summary (SPEC sections 2 and 4) in DuckDB SQL:
// a benchmark peer, what an analyst would otherwise run on the same files (see
// tests/bench/peers.sh).  Same rules and the same steps as peer_sqlite.sql.
//
//   node tests/bench/peer_duckdb.mjs DATA_DIR > summary.csv
//
// DATA_DIR is a directory written by fixtures/gen.py: ledger.csv, statement_a.csv,
// statement_b.csv, and params.txt for as_of, grace_minutes and settlement_hours.  For one
// date of a multi-day set (gen.py --days) the run sees everything ingested up to that
// date, so the files of the earlier dates (sibling directories named YYYY-MM-DD) are read
// first, in date order.  Output on stdout: truth_summary.csv's format.
// Needs the npm package @duckdb/node-api (tests/bench/package.json).
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

if (process.argv.length !== 3) {
	process.stderr.write('usage: node peer_duckdb.mjs DATA_DIR\n');
	process.exit(64);
}
const dir = resolve(process.argv[2]);
const params = Object.fromEntries(readFileSync(join(dir, 'params.txt'), 'utf8')
	.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

// The directories to read, oldest date first.
let dirs = [dir];
if (Number(params.days || 1) > 1) {
	const parent = dirname(dir);
	dirs = readdirSync(parent).filter((d) => /^\d{4}-\d\d-\d\d$/.test(d) && d <= basename(dir))
		.sort().map((d) => join(parent, d));
}
const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const asOf = Math.floor(Date.parse(params.as_of) / 1000);
const grace = 60 * Number(params.grace_minutes);
const settle = 3600 * Number(params.settlement_hours);
if (!Number.isInteger(asOf) || !Number.isInteger(grace) || !Number.isInteger(settle)) {
	process.stderr.write(`${dir}/params.txt: as_of, grace_minutes or settlement_hours missing\n`);
	process.exit(65);
}

// Amounts are read as DECIMAL(18,4), which holds every ISO 4217 exponent exactly, and
// times as TIMESTAMPTZ: typed columns parse in the reader, faster than text cast later.
// Minor units are the decimal times 10^digits, exact (no floating point).
const minor = (col) => `CAST(${col} * CAST(10 ** x.digits AS BIGINT) AS BIGINT)`;
const ledgerCsv = (f) => `read_csv(${quote(f)}, header = true, columns = {
	'event_id': 'VARCHAR', 'order_id': 'VARCHAR', 'event': 'VARCHAR', 'amount': 'DECIMAL(18,4)',
	'currency': 'VARCHAR', 'channel': 'VARCHAR', 'event_time': 'TIMESTAMPTZ'})`;
const statementCsv = (f) => `read_csv(${quote(f)}, header = true, columns = {
	'txn_id': 'VARCHAR', 'booked_at': 'TIMESTAMPTZ', 'type': 'VARCHAR', 'merchant_order_id': 'VARCHAR',
	'amount': 'DECIMAL(18,4)', 'currency': 'VARCHAR', 'channel': 'VARCHAR', 'fee': 'VARCHAR'})`;

const steps = [
	`SET preserve_insertion_order = true`,
	`CREATE TABLE p AS SELECT ${asOf}::BIGINT AS as_of, ${grace}::BIGINT AS grace, ${settle}::BIGINT AS settle`,

	// ---- inputs, typed; rowid = ingest order (file order, earlier dates first)
	`CREATE TABLE ledger_in (event_id VARCHAR, order_id VARCHAR, event VARCHAR, amount DECIMAL(18,4),
		currency VARCHAR, channel VARCHAR, event_time TIMESTAMPTZ)`,
	`CREATE TABLE statement_in (txn_id VARCHAR, booked_at TIMESTAMPTZ, type VARCHAR,
		merchant_order_id VARCHAR, amount DECIMAL(18,4), currency VARCHAR, channel VARCHAR, fee VARCHAR)`,
	...dirs.flatMap((d) => [
		`INSERT INTO ledger_in SELECT * FROM ${ledgerCsv(join(d, 'ledger.csv'))}`,
		`INSERT INTO statement_in SELECT * FROM ${statementCsv(join(d, 'statement_a.csv'))}`,
		`INSERT INTO statement_in SELECT * FROM ${statementCsv(join(d, 'statement_b.csv'))}`,
	]),

	// ISO 4217 exponents (as in engine/currency.c): 2 unless listed here
	`CREATE TABLE exponent AS SELECT * FROM (VALUES
		('BIF', 0), ('CLP', 0), ('DJF', 0), ('GNF', 0), ('ISK', 0), ('JPY', 0), ('KMF', 0),
		('KRW', 0), ('PYG', 0), ('RWF', 0), ('UGX', 0), ('UYI', 0), ('VND', 0), ('VUV', 0),
		('XAF', 0), ('XOF', 0), ('XPF', 0),
		('BHD', 3), ('IQD', 3), ('JOD', 3), ('KWD', 3), ('LYD', 3), ('OMR', 3), ('TND', 3),
		('CLF', 4), ('UYW', 4)) AS t (currency, digits)`,

	// ---- canonical records
	// Ledger: one row per event_id (first ingested), visible at as_of; pos orders an
	// order's events by time, ties by ingest order: (seconds since as_of, <= 0) * 2^32 +
	// ingest ordinal.
	`CREATE TABLE ev AS
	SELECT (t - (SELECT as_of FROM p)) * 4294967296 + ord AS pos, ref, event, ch, cur, amt, t FROM (
		SELECT l.rowid AS ord, l.order_id AS ref, l.event, l.channel AS ch, l.currency AS cur,
		       epoch_ms(l.event_time) // 1000 AS t, ${minor('l.amount')} AS amt
		FROM ledger_in AS l
		JOIN (SELECT currency, coalesce(e.digits, 2) AS digits
		      FROM (SELECT DISTINCT currency FROM ledger_in) LEFT JOIN exponent AS e USING (currency)) AS x
		  USING (currency)
		QUALIFY row_number() OVER (PARTITION BY l.event_id ORDER BY l.rowid) = 1)
	WHERE t <= (SELECT as_of FROM p)`,

	// Statements: one row per txn_id (the two downloads overlap), visible at as_of.
	`CREATE TABLE st AS
	SELECT * FROM (
		SELECT s.type AS kind, s.channel AS ch, s.merchant_order_id AS ref, s.currency AS cur,
		       epoch_ms(s.booked_at) // 1000 AS t, ${minor('s.amount')} AS amt
		FROM statement_in AS s
		JOIN (SELECT currency, coalesce(e.digits, 2) AS digits
		      FROM (SELECT DISTINCT currency FROM statement_in) LEFT JOIN exponent AS e USING (currency)) AS x
		  USING (currency)
		QUALIFY row_number() OVER (PARTITION BY s.txn_id ORDER BY s.rowid) = 1)
	WHERE t <= (SELECT as_of FROM p)`,

	// ---- ledger state machine
	// CREATED -> PAID | CANCELLED, PAID -> REFUNDED*, a missing CREATED tolerated.  So the
	// legal status events of an order are: its first CREATED or PAID; after a CREATED, the
	// first PAID or CANCELLED that follows it; then refunds in the paid currency while the
	// total refunded stays within the paid amount.  Every other event is an anomaly.
	`CREATE TABLE o1 AS
	SELECT ref, min(CASE WHEN event = 'CREATED' THEN pos END) AS c_pos,
	            min(CASE WHEN event = 'PAID' THEN pos END) AS p_pos
	FROM ev GROUP BY ref`,
	// after a CREATED that came before any PAID: the first CANCELLED that follows it
	`CREATE TABLE o2 AS
	SELECT e.ref, min(e.pos) AS x_pos
	FROM ev AS e JOIN o1 ON o1.ref = e.ref
	WHERE e.event = 'CANCELLED' AND e.pos > o1.c_pos AND o1.c_pos < coalesce(o1.p_pos, o1.c_pos + 1)
	GROUP BY e.ref`,
	// the legal CREATED, CANCELLED and PAID of each order (NULL when none)
	`CREATE TABLE ord AS
	SELECT o1.ref,
	       CASE WHEN o1.c_pos < coalesce(o1.p_pos, o1.c_pos + 1) THEN o1.c_pos END AS created_pos,
	       CASE WHEN o2.x_pos < coalesce(o1.p_pos, o2.x_pos + 1) THEN o2.x_pos END AS cancel_pos,
	       CASE WHEN o2.x_pos < coalesce(o1.p_pos, o2.x_pos + 1) THEN NULL ELSE o1.p_pos END AS paid_pos
	FROM o1 LEFT JOIN o2 ON o2.ref = o1.ref`,
	// the paid event's channel, currency and amount
	`CREATE TABLE orders AS
	SELECT o.ref, o.created_pos, o.cancel_pos, o.paid_pos,
	       CASE WHEN o.cancel_pos IS NOT NULL THEN 'CANCELLED' WHEN o.paid_pos IS NOT NULL THEN 'PAID'
	            WHEN o.created_pos IS NOT NULL THEN 'CREATED' ELSE 'NONE' END AS state,
	       e.ch AS paid_ch, e.cur AS paid_cur, e.amt AS paid_amt
	FROM ord AS o LEFT JOIN ev AS e ON e.pos = o.paid_pos`,
	// Refunds after the legal PAID, in its currency, numbered per order; a refund is legal
	// when it fits within the paid amount less the legal refunds before it.
	`CREATE TABLE rf AS
	SELECT e.ref, e.pos, e.amt, o.paid_amt,
	       row_number() OVER (PARTITION BY e.ref ORDER BY e.pos) AS n
	FROM ev AS e JOIN orders AS o ON o.ref = e.ref
	WHERE e.event = 'REFUNDED' AND e.pos > o.paid_pos AND e.cur = o.paid_cur`,
	`CREATE TABLE legal AS
	WITH RECURSIVE fold (ref, n, pos, refunded, ok) AS (
		SELECT ref, n, pos, CASE WHEN amt <= paid_amt THEN amt ELSE 0 END, amt <= paid_amt
		FROM rf WHERE n = 1
		UNION ALL
		SELECT r.ref, r.n, r.pos,
		       f.refunded + CASE WHEN f.refunded + r.amt <= r.paid_amt THEN r.amt ELSE 0 END,
		       f.refunded + r.amt <= r.paid_amt
		FROM fold AS f JOIN rf AS r ON r.ref = f.ref AND r.n = f.n + 1)
	SELECT pos FROM fold WHERE ok
	UNION ALL SELECT created_pos FROM orders WHERE created_pos IS NOT NULL
	UNION ALL SELECT cancel_pos FROM orders WHERE cancel_pos IS NOT NULL
	UNION ALL SELECT paid_pos FROM orders WHERE paid_pos IS NOT NULL`,

	// ---- route keys: E and A
	// E: transactions the ledger expects (the legal PAID and REFUNDED events); overdue:
	// those strictly before as_of minus the settlement window.
	`CREATE TABLE expect AS
	SELECT CASE e.event WHEN 'PAID' THEN 'CHARGE' ELSE 'REFUND' END AS kind,
	       e.ch, e.ref, e.cur, e.amt, count(*) AS e, min(e.t) AS first_t,
	       count(*) FILTER (WHERE e.t < p.as_of - p.settle) AS overdue
	FROM ev AS e SEMI JOIN legal USING (pos) CROSS JOIN p
	WHERE e.event IN ('PAID', 'REFUNDED')
	GROUP BY ALL`,
	// A: distinct statement transactions
	`CREATE TABLE actual AS
	SELECT kind, ch, ref, cur, amt, count(*) AS a, min(t) AS first_t
	FROM st GROUP BY ALL`,

	// ---- classification
	`CREATE TABLE cls AS
	SELECT k.*,
	       CASE
	       WHEN k.a = k.e THEN 'MATCHED'
	       WHEN k.kind = 'CHARGE' THEN CASE
	            WHEN k.e >= 1 AND k.a > k.e THEN 'DOUBLE_CHARGE'
	            WHEN k.e >= 1 THEN 'SHORT'            -- decided below, after the mismatches
	            WHEN o.ref IS NULL THEN 'ORPHAN_CHARGE'
	            WHEN o.state = 'CANCELLED' THEN 'CHARGED_AFTER_CANCEL'
	            WHEN o.paid_pos IS NOT NULL THEN CASE   -- paid under another key
	                 WHEN k.cur <> o.paid_cur THEN 'CURRENCY_MISMATCH'
	                 WHEN k.ch <> o.paid_ch THEN 'CHANNEL_MISMATCH'
	                 ELSE 'AMOUNT_MISMATCH' END
	            WHEN k.a_first < p.as_of - p.grace THEN 'CHARGED_NOT_RECORDED'
	            ELSE 'PENDING' END
	       WHEN k.a < k.e AND k.overdue > k.a THEN 'REFUND_NOT_SETTLED'
	       WHEN k.a < k.e THEN 'PENDING'
	       WHEN k.e = 0 THEN 'REFUND_NOT_RECORDED'
	       ELSE 'DUPLICATE_REFUND' END AS category,
	       o.paid_amt
	FROM (SELECT kind, ch, ref, cur, amt, coalesce(x.e, 0) AS e, coalesce(y.a, 0) AS a,
	             coalesce(x.overdue, 0) AS overdue, x.first_t AS e_first, y.first_t AS a_first
	      FROM expect AS x FULL JOIN actual AS y USING (kind, ch, ref, cur, amt)) AS k
	     LEFT JOIN orders AS o ON o.ref = k.ref CROSS JOIN p`,
	// A short CHARGE key of an order with a mismatch is explained by that case; otherwise
	// it is RECORDED_NOT_CHARGED once the payment is older than the settlement window.
	`UPDATE cls SET category = CASE
	       WHEN ref IN (SELECT ref FROM cls WHERE category IN
	                    ('CURRENCY_MISMATCH', 'CHANNEL_MISMATCH', 'AMOUNT_MISMATCH')) THEN 'EXPLAINED'
	       WHEN e_first < (SELECT as_of - settle FROM p) THEN 'RECORDED_NOT_CHARGED'
	       ELSE 'PENDING' END
	WHERE category = 'SHORT'`,
];

// ---- summary
const summary = `
SELECT category || ',' || currency || ',' || count(*) || ',' || CAST(sum(amount_minor) AS BIGINT) FROM (
	SELECT category, cur AS currency,
	       CASE category
	       WHEN 'MATCHED' THEN e * amt
	       WHEN 'PENDING' THEN abs(a - e) * amt
	       WHEN 'DOUBLE_CHARGE' THEN (a - e) * amt
	       WHEN 'DUPLICATE_REFUND' THEN (a - e) * amt
	       WHEN 'RECORDED_NOT_CHARGED' THEN (e - a) * amt
	       WHEN 'REFUND_NOT_SETTLED' THEN (overdue - a) * amt
	       WHEN 'CHANNEL_MISMATCH' THEN a * amt - paid_amt
	       WHEN 'AMOUNT_MISMATCH' THEN a * amt - paid_amt
	       ELSE a * amt END AS amount_minor
	FROM cls WHERE category <> 'EXPLAINED'
	UNION ALL
	-- every visible event that the state machine refused is a LEDGER_ANOMALY case
	SELECT 'LEDGER_ANOMALY', cur, amt FROM ev ANTI JOIN legal USING (pos))
GROUP BY category, currency
ORDER BY category, currency`;

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
for (const sql of steps)
	await con.run(sql);
const rows = (await con.runAndReadAll(summary)).getRows();
process.stdout.write('category,currency,cases,amount_minor\n' + rows.map((r) => r[0] + '\n').join(''));
con.closeSync();
db.closeSync();
