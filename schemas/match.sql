-- Matching and classification (SPEC section 4), the part that spans orders and
-- runs.  engine/match.c has already merged the ledger and the statements one
-- order at a time, and written this run's cases (run_cases), its ledger
-- anomalies (run_anomalies) and its MATCHED and PENDING keys (run_summary).
-- Parameters: :run, :as_of, :grace, :window (microseconds), and :base: the run
-- an incremental run builds on (0 for a full match), whose open cases it
-- carried over for every order not in temp.t_dirty.
-- Functions registered by recon: recon_case_id(category, key), recon_money(amount, currency).
-- Each statement is run in order inside the run's transaction.

-- Ledger anomalies are cases too (their rows were written by the fold).
INSERT INTO run_cases (run_id, case_id, category, action, status, order_ref, channel, currency,
                       key_amount_minor, amount_minor, expected, actual, first_booked_us,
                       last_booked_us, route_key, txn_ids, ledger_event_ids, detail)
SELECT :run, n.case_id, 'LEDGER_ANOMALY', act.action, 'open', n.order_ref, n.channel,
       n.currency, n.amount_minor, n.amount_minor, 0, 0, NULL, NULL, NULL, '',
       coalesce(n.event_id, ''), n.reason || ': ' || n.event || ' event'
FROM run_anomalies AS n JOIN t_actions AS act ON act.category = 'LEDGER_ANOMALY'
WHERE n.run_id = :run;

-- The first run that reported each open case: this one for a new case, or for
-- a case whose first run did not succeed.  A case carried over from the base
-- needs nothing: the base succeeded and reported it open, so its first run
-- is already a successful one.
INSERT INTO case_first_seen (case_id, run_id)
SELECT case_id, :run FROM run_cases
WHERE run_id = :run AND status = 'open'
  AND (:base = 0 OR order_ref IN (SELECT order_ref FROM temp.t_dirty))
ON CONFLICT (case_id) DO UPDATE SET run_id = excluded.run_id
WHERE (SELECT status FROM runs WHERE runs.run_id = case_first_seen.run_id) IS NOT 'OK'
  AND case_first_seen.run_id <> excluded.run_id;

-- Cases resolved by this run: open in the previous run (the latest successful
-- one with an earlier as-of) and gone now; and, for a rerun of the same as-of
-- after late files, open in the latest earlier run at this as-of and gone now.
-- A case open in both is taken from the later run.  When the previous run is
-- the base, only the orders matched again can have lost a case.
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
      AND (p.run_id <> :base OR p.order_ref IN (SELECT order_ref FROM temp.t_dirty))
      AND NOT EXISTS (SELECT 1 FROM run_cases AS c WHERE c.run_id = :run AND c.case_id = p.case_id)
)
SELECT :run, g.case_id, g.category, g.action, 'resolved', g.order_ref, g.channel, g.currency,
       g.key_amount_minor, g.amount_minor, g.expected, g.actual, g.first_booked_us,
       g.last_booked_us, g.route_key, g.txn_ids, g.ledger_event_ids, g.detail
FROM gone AS g
WHERE NOT EXISTS (SELECT 1 FROM gone AS h WHERE h.case_id = g.case_id AND h.run_id > g.run_id);

-- Summary: open cases per category and currency (the MATCHED and PENDING keys
-- are already there).
INSERT INTO run_summary (run_id, category, currency, cases, amount_minor)
SELECT :run, category, currency, count(*), sum(amount_minor)
FROM run_cases WHERE run_id = :run AND status = 'open'
GROUP BY category, currency;
