-- Matching and classification (SPEC section 4), the part that spans orders and
-- runs.  engine/match.c has already merged the ledger and the statements one
-- order at a time, and written this run's cases (new live spans in case_spans,
-- see schemas/migrations/0003_case_spans.sql), its ledger anomalies (new live
-- spans in anomaly_spans, 0008_anomaly_spans.sql) and its MATCHED and PENDING
-- keys (run_summary).  It closed the live spans of the orders it matched again
-- (of all orders for a full match) first, so the run's cases and anomalies are
-- now the live spans.
-- Parameters: :run, :as_of, :grace, :window (microseconds), and :base: the run
-- an incremental run builds on (0 for a full match), the latest matched run,
-- whose cases and anomalies stay as they were for every order not in
-- temp.t_dirty and before the base run's order_frontier (engine/match.c).
-- Functions registered by recon: recon_case_id(category, key), recon_money(amount, currency).
-- Each statement is run in order inside the run's transaction.

-- Ledger anomalies are cases too: those the fold wrote (those of the orders not
-- matched again, and their cases, stayed live).
INSERT INTO case_spans (from_run, case_id, to_run, category, action, status, order_ref, channel,
                        currency, key_amount_minor, amount_minor, expected, actual,
                        first_booked_us, last_booked_us, route_key, txn_ids, ledger_event_ids,
                        detail)
SELECT :run, n.case_id, 9223372036854775807, 'LEDGER_ANOMALY', act.action, 'open', n.order_ref,
       n.channel, n.currency, n.amount_minor, n.amount_minor, 0, 0, NULL, NULL, NULL, '',
       coalesce(n.event_id, ''), n.reason || ': ' || n.event || ' event'
FROM anomaly_spans AS n JOIN t_actions AS act ON act.category = 'LEDGER_ANOMALY'
WHERE n.to_run = 9223372036854775807 AND n.from_run = :run;

-- The first run that reported each open case: this one for a new case, or for
-- a case whose first run did not succeed.  Only the spans this run wrote can
-- be new: a live span carried from the base was reported open by the base, a
-- successful run.
INSERT INTO case_first_seen (order_ref, case_id, run_id)
SELECT order_ref, case_id, :run FROM case_spans
WHERE to_run = 9223372036854775807 AND from_run = :run
ON CONFLICT (order_ref, case_id) DO UPDATE SET run_id = excluded.run_id
WHERE (SELECT status FROM runs WHERE runs.run_id = case_first_seen.run_id) IS NOT 'OK'
  AND case_first_seen.run_id <> excluded.run_id;

-- Cases resolved by this run: open in the previous run (the latest successful
-- one with an earlier as-of) and gone now; and, for a rerun of the same as-of
-- after late files, open in the latest earlier run at this as-of and gone now.
-- A case open in both is taken from the later run.  A case is gone when it has
-- no live span.  When the previous run is the base, only the spans this run
-- closed can be gone; any other previous run's cases are the spans that cover
-- it.  A resolved case is a span of this run alone.
INSERT INTO case_spans (from_run, case_id, to_run, category, action, status, order_ref, channel,
                        currency, key_amount_minor, amount_minor, expected, actual,
                        first_booked_us, last_booked_us, route_key, txn_ids, ledger_event_ids,
                        detail)
WITH prev (run_id) AS (
    SELECT (SELECT run_id FROM runs WHERE status = 'OK' AND as_of_us < :as_of
            ORDER BY as_of_us DESC, run_id DESC LIMIT 1)
    UNION
    SELECT (SELECT run_id FROM runs WHERE status = 'OK' AND as_of_us = :as_of AND run_id < :run
            ORDER BY run_id DESC LIMIT 1)
), covered AS (
    SELECT p.run_id AS prev_run, c.*
    FROM prev AS p JOIN case_spans AS c ON c.to_run = :run
    WHERE p.run_id = :base AND c.from_run <= p.run_id
    UNION ALL
    SELECT p.run_id AS prev_run, c.*
    FROM prev AS p JOIN runs AS r ON r.run_id = p.run_id AND r.match_mode IS NOT NULL
    JOIN case_spans AS c ON c.to_run > p.run_id AND c.from_run <= p.run_id
    WHERE p.run_id <> :base
), gone AS (
    SELECT * FROM covered AS g
    WHERE g.status = 'open'
      AND NOT EXISTS (SELECT 1 FROM case_spans AS x
                      WHERE x.to_run = 9223372036854775807 AND x.order_ref = g.order_ref
                        AND x.case_id = g.case_id)
)
SELECT :run, g.case_id, :run + 1, g.category, g.action, 'resolved', g.order_ref, g.channel,
       g.currency, g.key_amount_minor, g.amount_minor, g.expected, g.actual, g.first_booked_us,
       g.last_booked_us, g.route_key, g.txn_ids, g.ledger_event_ids, g.detail
FROM gone AS g
WHERE NOT EXISTS (SELECT 1 FROM gone AS h WHERE h.case_id = g.case_id AND h.prev_run > g.prev_run);

-- Summary: open cases per category and currency (the MATCHED and PENDING keys
-- are already there).  A full match counts the live spans.  An incremental
-- run starts from the base's lines, which counted the base's open cases, the
-- live spans before this run: it takes off the spans it closed and adds those
-- it wrote, instead of reading every open case again.
INSERT INTO run_summary (run_id, category, currency, cases, amount_minor)
SELECT :run, category, currency, sum(n), sum(a) FROM (
    SELECT category, currency, 1 AS n, amount_minor AS a FROM case_spans
    WHERE :base = 0 AND to_run = 9223372036854775807 AND status = 'open'
    UNION ALL
    SELECT category, currency, cases, amount_minor FROM run_summary
    WHERE :base > 0 AND run_id = :base AND category NOT IN ('MATCHED', 'PENDING')
    UNION ALL
    SELECT category, currency, -1, -amount_minor FROM case_spans
    WHERE :base > 0 AND to_run = :run AND status = 'open'
    UNION ALL
    SELECT category, currency, 1, amount_minor FROM case_spans
    WHERE :base > 0 AND to_run = 9223372036854775807 AND from_run = :run
)
GROUP BY category, currency
HAVING sum(n) > 0;
