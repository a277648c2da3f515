-- Matching and classification (SPEC section 4), run by engine/match.c after it
-- has folded the ledger into temp.t_expect, temp.t_order and run_anomalies.
-- Parameters: :run, :as_of, :grace, :window (microseconds).
-- Functions registered by recon: recon_case_id(category, key), recon_money(amount, currency).
-- Each statement is run in order inside the run's transaction.

-- A: distinct statement transactions per route key, visible at as_of.
CREATE TEMP TABLE t_actual AS
SELECT route_key, type AS kind, channel, order_ref, currency, amount_minor,
       count(*) AS a, min(booked_at_us) AS first_us, max(booked_at_us) AS last_us
FROM statement_rows
WHERE booked_at_us <= :as_of
GROUP BY route_key;

-- Every key with E, A or both.
CREATE TEMP TABLE t_keys AS
SELECT x.route_key, x.kind, x.channel, x.order_ref, x.currency, x.amount_minor,
       x.e, coalesce(a.a, 0) AS a, x.overdue, x.first_event_us, x.event_ids,
       a.first_us, a.last_us
FROM t_expect AS x LEFT JOIN t_actual AS a ON a.route_key = x.route_key
UNION ALL
SELECT a.route_key, a.kind, a.channel, a.order_ref, a.currency, a.amount_minor,
       0, a.a, 0, NULL, '', a.first_us, a.last_us
FROM t_actual AS a
WHERE NOT EXISTS (SELECT 1 FROM t_expect AS x WHERE x.route_key = a.route_key);

-- First pass: every key's category; CHARGE keys short of their expectation
-- wait for the mismatch pass ('SHORT').
CREATE TEMP TABLE t_class AS
SELECT k.*, o.state, o.paid_channel, o.paid_currency, o.paid_amount, o.paid_event_id,
       o.cancel_event_id,
       CASE
       WHEN k.a = k.e THEN 'MATCHED'
       WHEN k.kind = 'CHARGE' THEN CASE
            WHEN k.e >= 1 AND k.a > k.e THEN 'DOUBLE_CHARGE'
            WHEN k.e >= 1 THEN 'SHORT'
            WHEN o.order_ref IS NULL THEN 'ORPHAN_CHARGE'
            WHEN o.state = 'CANCELLED' THEN 'CHARGED_AFTER_CANCEL'
            WHEN o.paid_amount IS NOT NULL AND k.currency <> o.paid_currency THEN 'CURRENCY_MISMATCH'
            WHEN o.paid_amount IS NOT NULL AND k.channel <> o.paid_channel THEN 'CHANNEL_MISMATCH'
            WHEN o.paid_amount IS NOT NULL THEN 'AMOUNT_MISMATCH'
            WHEN k.first_us < :as_of - :grace THEN 'CHARGED_NOT_RECORDED'
            ELSE 'PENDING' END
       ELSE CASE
            -- Settlements answer the oldest refunds first: the unsettled ones past
            -- the window are the overdue events beyond those settled.
            WHEN k.a < k.e AND k.overdue > k.a THEN 'REFUND_NOT_SETTLED'
            WHEN k.a < k.e THEN 'PENDING'
            WHEN k.e = 0 THEN 'REFUND_NOT_RECORDED'
            ELSE 'DUPLICATE_REFUND' END
       END AS category
FROM t_keys AS k LEFT JOIN t_order AS o ON o.order_ref = k.order_ref;

-- Second pass: a short CHARGE key of an order whose charge went to another key
-- is explained by that mismatch case, not a missing charge as well.
CREATE TEMP TABLE t_mismatched (order_ref TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT OR IGNORE INTO t_mismatched
SELECT order_ref FROM t_class
WHERE category IN ('CURRENCY_MISMATCH', 'CHANNEL_MISMATCH', 'AMOUNT_MISMATCH');

UPDATE t_class SET category = CASE
       WHEN order_ref IN (SELECT order_ref FROM t_mismatched) THEN 'EXPLAINED'
       WHEN first_event_us < :as_of - :window THEN 'RECORDED_NOT_CHARGED'
       ELSE 'PENDING' END
WHERE category = 'SHORT';

-- The cases of this run.
INSERT INTO run_cases (run_id, case_id, category, action, status, order_ref, channel, currency,
                       key_amount_minor, amount_minor, expected, actual, first_booked_us,
                       last_booked_us, route_key, txn_ids, ledger_event_ids, detail)
SELECT :run, recon_case_id(c.category, c.route_key), c.category, act.action, 'open',
       c.order_ref, c.channel, c.currency, c.amount_minor,
       CASE c.category
       WHEN 'DOUBLE_CHARGE' THEN (c.a - c.e) * c.amount_minor
       WHEN 'DUPLICATE_REFUND' THEN (c.a - c.e) * c.amount_minor
       WHEN 'RECORDED_NOT_CHARGED' THEN (c.e - c.a) * c.amount_minor
       WHEN 'REFUND_NOT_SETTLED' THEN (c.overdue - c.a) * c.amount_minor
       WHEN 'CHANNEL_MISMATCH' THEN c.a * c.amount_minor - c.paid_amount
       WHEN 'AMOUNT_MISMATCH' THEN c.a * c.amount_minor - c.paid_amount
       ELSE c.a * c.amount_minor END,
       c.e, c.a, c.first_us, c.last_us, c.route_key,
       coalesce((SELECT group_concat(t, ';') FROM (
                   SELECT coalesce(s.txn_id, 'row:' || s.row_id) AS t FROM statement_rows AS s
                   WHERE s.route_key = c.route_key AND s.booked_at_us <= :as_of
                   ORDER BY s.booked_at_us, t)), ''),
       CASE WHEN c.category IN ('CURRENCY_MISMATCH', 'CHANNEL_MISMATCH', 'AMOUNT_MISMATCH')
            THEN coalesce(c.paid_event_id, '')
            WHEN c.category = 'CHARGED_AFTER_CANCEL' THEN coalesce(c.cancel_event_id, '')
            ELSE coalesce(c.event_ids, '') END,
       CASE c.category
       WHEN 'DOUBLE_CHARGE' THEN printf('%d charges for %d expected of %s', c.a, c.e,
                                        recon_money(c.amount_minor, c.currency))
       WHEN 'ORPHAN_CHARGE' THEN 'order unknown to the ledger'
       WHEN 'CHARGED_AFTER_CANCEL' THEN 'order cancelled in the ledger'
       WHEN 'CHARGED_NOT_RECORDED' THEN printf('order %s in the ledger, charged',
                                               lower(coalesce(nullif(c.state, 'NONE'), 'not created')))
       WHEN 'RECORDED_NOT_CHARGED' THEN printf('%d of %d expected charges missing', c.e - c.a, c.e)
       WHEN 'REFUND_NOT_SETTLED' THEN printf('%d of %d recorded refunds not settled', c.overdue - c.a, c.e)
       WHEN 'REFUND_NOT_RECORDED' THEN 'refund not in the ledger'
       WHEN 'DUPLICATE_REFUND' THEN printf('%d refunds for %d recorded of %s', c.a, c.e,
                                           recon_money(c.amount_minor, c.currency))
       ELSE printf('charged %s %s on %s; ledger paid %s %s on %s',
                   recon_money(c.a * c.amount_minor, c.currency), c.currency, c.channel,
                   recon_money(c.paid_amount, c.paid_currency), c.paid_currency, c.paid_channel)
       END
FROM t_class AS c JOIN t_actions AS act ON act.category = c.category
WHERE c.category NOT IN ('MATCHED', 'PENDING', 'EXPLAINED');

-- Ledger anomalies are cases too (their rows were written by the fold).
INSERT INTO run_cases (run_id, case_id, category, action, status, order_ref, channel, currency,
                       key_amount_minor, amount_minor, expected, actual, first_booked_us,
                       last_booked_us, route_key, txn_ids, ledger_event_ids, detail)
SELECT :run, n.case_id, 'LEDGER_ANOMALY', act.action, 'open', n.order_ref, n.channel,
       n.currency, n.amount_minor, n.amount_minor, 0, 0, NULL, NULL, NULL, '',
       coalesce(n.event_id, ''), n.reason || ': ' || n.event || ' event'
FROM run_anomalies AS n JOIN t_actions AS act ON act.category = 'LEDGER_ANOMALY'
WHERE n.run_id = :run;

-- Cases resolved by this run: open in the previous run (the latest successful
-- one with an earlier as-of) and gone now; and, for a rerun of the same as-of
-- after late files, open in the latest earlier run at this as-of and gone now.
-- A case open in both is taken from the later run.
INSERT INTO run_cases (run_id, case_id, category, action, status, order_ref, channel, currency,
                       key_amount_minor, amount_minor, expected, actual, first_booked_us,
                       last_booked_us, route_key, txn_ids, ledger_event_ids, detail)
WITH prev (run_id) AS (
    SELECT (SELECT run_id FROM runs WHERE status = 'OK' AND as_of_us < :as_of
            ORDER BY as_of_us DESC, run_id DESC LIMIT 1)
    UNION
    SELECT (SELECT run_id FROM runs WHERE status = 'OK' AND as_of_us = :as_of AND run_id < :run
            ORDER BY run_id DESC LIMIT 1)
), gone AS (
    SELECT p.* FROM run_cases AS p
    WHERE p.run_id IN (SELECT run_id FROM prev) AND p.status = 'open'
      AND NOT EXISTS (SELECT 1 FROM run_cases AS c WHERE c.run_id = :run AND c.case_id = p.case_id)
)
SELECT :run, g.case_id, g.category, g.action, 'resolved', g.order_ref, g.channel, g.currency,
       g.key_amount_minor, g.amount_minor, g.expected, g.actual, g.first_booked_us,
       g.last_booked_us, g.route_key, g.txn_ids, g.ledger_event_ids, g.detail
FROM gone AS g
WHERE NOT EXISTS (SELECT 1 FROM gone AS h WHERE h.case_id = g.case_id AND h.run_id > g.run_id);

-- Summary: open cases per category and currency, and the MATCHED and PENDING keys.
INSERT INTO run_summary (run_id, category, currency, cases, amount_minor)
SELECT :run, category, currency, count(*), sum(amount_minor)
FROM run_cases WHERE run_id = :run AND status = 'open'
GROUP BY category, currency;

INSERT INTO run_summary (run_id, category, currency, cases, amount_minor)
SELECT :run, category, currency, count(*),
       sum(CASE category WHEN 'MATCHED' THEN e * amount_minor
                         WHEN 'PENDING' THEN (CASE WHEN a > e THEN a - e ELSE e - a END) * amount_minor
                         END)
FROM t_class WHERE category IN ('MATCHED', 'PENDING')
GROUP BY category, currency;

DROP TABLE t_actual;
DROP TABLE t_keys;
DROP TABLE t_class;
DROP TABLE t_mismatched;
