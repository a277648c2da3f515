-- peer_sqlite.sql - recon's classification summary (SPEC sections 2 and 4) in plain SQL
-- for the stock sqlite3 shell: a benchmark peer, what an analyst would otherwise run on
-- the same files (see tests/bench/peers.sh).
--
--   cd DATA && sqlite3 -batch :memory: < tests/bench/peer_sqlite.sql > summary.csv
--
-- DATA is a directory written by fixtures/gen.py.  Inputs: ledger.csv, statement_a.csv,
-- statement_b.csv, and params.txt for as_of, grace_minutes and settlement_hours (nothing
-- needs to be passed on the command line).  For one date of a multi-day set (gen.py
-- --days), the run sees everything ingested up to that date, so the files of the earlier
-- dates (sibling directories named YYYY-MM-DD) are imported first, in date order.
-- Output on stdout: truth_summary.csv's format, rows sorted by category then currency.
-- Needs sqlite3 >= 3.39 (unixepoch, FULL JOIN, .import --skip).
.bail on
PRAGMA temp_store = MEMORY;        -- sorts and temporary indexes stay in memory too
PRAGMA cache_size = -1000000;      -- 1 GB

-- ---------------------------------------------------------------- inputs, as text
-- rowid = ingest order (file order, earlier dates first): the tie-breaker of equal times.
CREATE TABLE ledger_in (event_id TEXT, order_id TEXT, event TEXT, amount TEXT,
                        currency TEXT, channel TEXT, event_time TEXT);
CREATE TABLE statement_in (txn_id TEXT, booked_at TEXT, type TEXT, merchant_order_id TEXT,
                           amount TEXT, currency TEXT, channel TEXT, fee TEXT);
CREATE TABLE param (k TEXT, v TEXT);

.separator "="
.import params.txt param
-- One ".import" line per input file, printed by the shell: the files of this directory or,
-- in a multi-day set (params.txt days > 1), those of every date up to this one.
.read "|case $(sed -n 's/^days=//p' params.txt) in ''|1) dirs=. ;; *) dirs=$(ls -d ../????-??-?? | awk -v me=\"../$(basename \"$(pwd)\")\" '$0 <= me') ;; esac; for d in $dirs; do echo \".import --csv --skip 1 $d/ledger.csv ledger_in\"; for f in statement_a statement_b; do echo \".import --csv --skip 1 $d/$f.csv statement_in\"; done; done"

-- as_of and the two windows, in seconds
CREATE TABLE p AS
SELECT (SELECT unixepoch(v) FROM param WHERE k = 'as_of') AS as_of,
       (SELECT 60 * v FROM param WHERE k = 'grace_minutes') AS grace,
       (SELECT 3600 * v FROM param WHERE k = 'settlement_hours') AS settle;

-- ISO 4217 exponents other than 2 (as in engine/currency.c)
CREATE TABLE exponent (currency TEXT PRIMARY KEY, digits INTEGER) WITHOUT ROWID;
INSERT INTO exponent VALUES
    ('BIF', 0), ('CLP', 0), ('DJF', 0), ('GNF', 0), ('ISK', 0), ('JPY', 0), ('KMF', 0),
    ('KRW', 0), ('PYG', 0), ('RWF', 0), ('UGX', 0), ('UYI', 0), ('VND', 0), ('VUV', 0),
    ('XAF', 0), ('XOF', 0), ('XPF', 0),
    ('BHD', 3), ('IQD', 3), ('JOD', 3), ('KWD', 3), ('LYD', 3), ('OMR', 3), ('TND', 3),
    ('CLF', 4), ('UYW', 4);

-- ---------------------------------------------------------------- canonical records
-- Amounts: exact integer minor units from the decimal text (whole part times 10^digits
-- plus the fraction padded to the currency's digits); no floating point.
-- Ledger: one row per event_id (first ingested), visible at as_of.  pos orders an order's
-- events by time, ties by ingest order: (seconds since as_of, <= 0) * 2^32 + ingest ordinal.
CREATE TABLE ev (pos INTEGER PRIMARY KEY, ref TEXT, event TEXT, ch TEXT, cur TEXT,
                 amt INTEGER, t INTEGER);
INSERT INTO ev
SELECT (t - (SELECT as_of FROM p)) * 4294967296 + ord, ref, event, ch, cur, amt, t FROM (
    SELECT l.rowid AS ord, l.order_id AS ref, l.event, l.channel AS ch, l.currency AS cur,
           unixepoch(l.event_time) AS t,
           CAST(substr(l.amount, 1, instr(l.amount || '.', '.') - 1) AS INTEGER)
               * CAST(power(10, coalesce(x.digits, 2)) AS INTEGER)
           + CAST(substr(substr(l.amount, instr(l.amount || '.', '.') + 1) || '0000', 1,
                         coalesce(x.digits, 2)) AS INTEGER) AS amt
    FROM ledger_in AS l LEFT JOIN exponent AS x ON x.currency = l.currency
    WHERE l.rowid IN (SELECT min(rowid) FROM ledger_in GROUP BY event_id))
WHERE t <= (SELECT as_of FROM p);

-- Statements: one row per txn_id (the two downloads overlap), visible at as_of.
CREATE TABLE st AS
SELECT * FROM (
    SELECT s.type AS kind, s.channel AS ch, s.merchant_order_id AS ref, s.currency AS cur,
           unixepoch(s.booked_at) AS t,
           CAST(substr(s.amount, 1, instr(s.amount || '.', '.') - 1) AS INTEGER)
               * CAST(power(10, coalesce(x.digits, 2)) AS INTEGER)
           + CAST(substr(substr(s.amount, instr(s.amount || '.', '.') + 1) || '0000', 1,
                         coalesce(x.digits, 2)) AS INTEGER) AS amt
    FROM statement_in AS s LEFT JOIN exponent AS x ON x.currency = s.currency
    WHERE s.rowid IN (SELECT min(rowid) FROM statement_in GROUP BY txn_id))
WHERE t <= (SELECT as_of FROM p);

-- ---------------------------------------------------------------- ledger state machine
-- CREATED -> PAID | CANCELLED, PAID -> REFUNDED*, a missing CREATED tolerated.  So the
-- legal status events of an order are: its first CREATED or PAID; after a CREATED, the
-- first PAID or CANCELLED that follows it; then refunds in the paid currency while the
-- total refunded stays within the paid amount.  Every other event is an anomaly.
CREATE TABLE o1 AS
SELECT ref, min(CASE WHEN event = 'CREATED' THEN pos END) AS c_pos,
            min(CASE WHEN event = 'PAID' THEN pos END) AS p_pos
FROM ev GROUP BY ref;
CREATE UNIQUE INDEX o1_ref ON o1 (ref);

-- after a CREATED that came before any PAID: the first CANCELLED that follows it
CREATE TABLE o2 AS
SELECT e.ref, min(e.pos) AS x_pos
FROM ev AS e JOIN o1 ON o1.ref = e.ref
WHERE e.event = 'CANCELLED' AND e.pos > o1.c_pos AND o1.c_pos < coalesce(o1.p_pos, o1.c_pos + 1)
GROUP BY e.ref;

-- the legal CREATED, CANCELLED and PAID of each order (NULL when none)
CREATE TABLE ord AS
SELECT o1.ref,
       CASE WHEN o1.c_pos < coalesce(o1.p_pos, o1.c_pos + 1) THEN o1.c_pos END AS created_pos,
       CASE WHEN o2.x_pos < coalesce(o1.p_pos, o2.x_pos + 1) THEN o2.x_pos END AS cancel_pos,
       CASE WHEN o2.x_pos < coalesce(o1.p_pos, o2.x_pos + 1) THEN NULL ELSE o1.p_pos END AS paid_pos
FROM o1 LEFT JOIN o2 ON o2.ref = o1.ref;

-- the paid event's channel, currency and amount
CREATE TABLE orders AS
SELECT o.ref, o.created_pos, o.cancel_pos, o.paid_pos,
       CASE WHEN o.cancel_pos IS NOT NULL THEN 'CANCELLED' WHEN o.paid_pos IS NOT NULL THEN 'PAID'
            WHEN o.created_pos IS NOT NULL THEN 'CREATED' ELSE 'NONE' END AS state,
       e.ch AS paid_ch, e.cur AS paid_cur, e.amt AS paid_amt
FROM ord AS o LEFT JOIN ev AS e ON e.pos = o.paid_pos;
CREATE UNIQUE INDEX orders_ref ON orders (ref);

-- Refunds after the legal PAID, in its currency, numbered per order; a refund is legal
-- when it fits within the paid amount less the legal refunds before it.
CREATE TABLE rf AS
SELECT e.ref, e.pos, e.amt, o.paid_amt,
       row_number() OVER (PARTITION BY e.ref ORDER BY e.pos) AS n
FROM ev AS e JOIN orders AS o ON o.ref = e.ref
WHERE e.event = 'REFUNDED' AND e.pos > o.paid_pos AND e.cur = o.paid_cur;
CREATE UNIQUE INDEX rf_ref_n ON rf (ref, n);

CREATE TABLE legal (pos INTEGER PRIMARY KEY);
INSERT INTO legal
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
UNION ALL SELECT paid_pos FROM orders WHERE paid_pos IS NOT NULL;

-- ---------------------------------------------------------------- route keys: E and A
-- E: transactions the ledger expects (the legal PAID and REFUNDED events); overdue: those
-- strictly before as_of minus the settlement window.
CREATE TABLE expect AS
SELECT CASE e.event WHEN 'PAID' THEN 'CHARGE' ELSE 'REFUND' END AS kind,
       e.ch, e.ref, e.cur, e.amt, count(*) AS e, min(e.t) AS first_t,
       sum(e.t < p.as_of - p.settle) AS overdue
FROM ev AS e JOIN legal USING (pos), p
WHERE e.event IN ('PAID', 'REFUNDED')
GROUP BY 1, 2, 3, 4, 5;

-- A: distinct statement transactions
CREATE TABLE actual AS
SELECT kind, ch, ref, cur, amt, count(*) AS a, min(t) AS first_t
FROM st GROUP BY 1, 2, 3, 4, 5;
CREATE UNIQUE INDEX actual_key ON actual (ref, kind, ch, cur, amt);

-- ---------------------------------------------------------------- classification
CREATE TABLE cls AS
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
     LEFT JOIN orders AS o ON o.ref = k.ref, p;

-- A short CHARGE key of an order with a mismatch is explained by that case; otherwise it
-- is RECORDED_NOT_CHARGED once the payment is older than the settlement window.
UPDATE cls SET category = CASE
       WHEN ref IN (SELECT ref FROM cls WHERE category IN
                    ('CURRENCY_MISMATCH', 'CHANNEL_MISMATCH', 'AMOUNT_MISMATCH')) THEN 'EXPLAINED'
       WHEN e_first < (SELECT as_of - settle FROM p) THEN 'RECORDED_NOT_CHARGED'
       ELSE 'PENDING' END
WHERE category = 'SHORT';

-- ---------------------------------------------------------------- summary
.mode list
.separator ","
.headers on
SELECT category, currency, count(*) AS cases, sum(amount_minor) AS amount_minor FROM (
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
    SELECT 'LEDGER_ANOMALY', cur, amt FROM ev WHERE pos NOT IN (SELECT pos FROM legal))
GROUP BY category, currency
ORDER BY category, currency;
