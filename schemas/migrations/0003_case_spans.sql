-- Version 3: a case is stored once per version, with the span of runs that
-- report it, instead of once per run.
--
-- Version 2 copied every open case into every run (run_cases was a snapshot per
-- run): a night with 116,000 open cases wrote 116,000 rows to report the few
-- thousand that changed, and after 30 nights run_cases held 400 MB of a 2.4 GB
-- database.  Now a run writes only the cases of the orders it matched again;
-- every other case stays as it is and its span runs on.
--
-- case_spans holds one row per version of a case: the runs from from_run up to,
-- not including, to_run report it.  A span still open in the latest matched
-- run is live: to_run = 9223372036854775807.  A run's cases are the spans that
-- cover its run_id; runs whose match did not commit (match_mode IS NULL) have
-- none.  Matched runs form one line: a run builds on the latest matched run
-- only, or matches in full and closes every live span (engine/match.c), so a
-- span never covers a run that did not derive it.  A resolved case is a
-- one-run span (to_run = from_run + 1).
--
-- run_cases becomes a view with the columns and rows it had, so that reports,
-- `recon show` and analysts' queries read what they read before.

CREATE TABLE case_spans (
    from_run          INTEGER NOT NULL REFERENCES runs (run_id),
    case_id           TEXT NOT NULL,           -- 32 lowercase hex digits
    to_run            INTEGER NOT NULL,        -- first run without it; live: 9223372036854775807
    category          TEXT NOT NULL,
    action            TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    order_ref         TEXT NOT NULL,
    channel           TEXT NOT NULL,
    currency          TEXT NOT NULL,
    key_amount_minor  INTEGER NOT NULL,        -- the amount in the route key (one transaction)
    amount_minor      INTEGER NOT NULL,        -- the case's amount, signed (see README)
    expected          INTEGER NOT NULL,        -- E: transactions the ledger expects on the key
    actual            INTEGER NOT NULL,        -- A: distinct statement transactions on the key
    first_booked_us   INTEGER,
    last_booked_us    INTEGER,
    route_key         BLOB,
    txn_ids           TEXT NOT NULL DEFAULT '',  -- ';'-separated, by booked_at then id
    ledger_event_ids  TEXT NOT NULL DEFAULT '',  -- ';'-separated, in event order
    detail            TEXT NOT NULL DEFAULT '',
    CHECK (to_run > from_run),
    PRIMARY KEY (to_run, from_run, case_id)
) WITHOUT ROWID;

-- Per run, what it reported: the listing of runs and the reports read these
-- instead of counting spans.
ALTER TABLE runs ADD COLUMN open_cases INTEGER;
ALTER TABLE runs ADD COLUMN resolved_cases INTEGER;

-- Runs of version 1 matched in full and did not record it.
UPDATE runs SET match_mode = 'full'
WHERE match_mode IS NULL AND run_id IN (SELECT DISTINCT run_id FROM run_cases);

UPDATE runs SET open_cases = (SELECT count(*) FROM run_cases AS c
                              WHERE c.run_id = runs.run_id AND c.status = 'open'),
                resolved_cases = (SELECT count(*) FROM run_cases AS c
                                  WHERE c.run_id = runs.run_id AND c.status = 'resolved')
WHERE match_mode IS NOT NULL;

-- Each run's cases become one-run spans, but the open cases of the latest
-- matched run are live: the next run builds on them.
INSERT INTO case_spans (from_run, case_id, to_run, category, action, status, order_ref, channel,
                        currency, key_amount_minor, amount_minor, expected, actual,
                        first_booked_us, last_booked_us, route_key, txn_ids, ledger_event_ids,
                        detail)
SELECT c.run_id, c.case_id,
       CASE WHEN c.status = 'open'
                 AND c.run_id = (SELECT max(run_id) FROM runs WHERE match_mode IS NOT NULL)
            THEN 9223372036854775807 ELSE c.run_id + 1 END,
       c.category, c.action, c.status, c.order_ref, c.channel, c.currency, c.key_amount_minor,
       c.amount_minor, c.expected, c.actual, c.first_booked_us, c.last_booked_us, c.route_key,
       c.txn_ids, c.ledger_event_ids, c.detail
FROM run_cases AS c;

DROP TABLE run_cases;

-- The table is clustered by to_run: the live spans, the latest run's cases,
-- are one range at the end, where a run also writes its new ones; a closed
-- span moves, once, to the range of the run that closed it.
-- Live spans by order: a run closes those of the orders it matches again.
CREATE INDEX case_spans_order ON case_spans (to_run, order_ref);
-- Versions of one case (is it still open?).
CREATE INDEX case_spans_case ON case_spans (case_id, to_run);

-- A run's cases, as the table of version 2 held them: the spans with
-- to_run > run_id (for the latest run, the live ones) and from_run <= run_id.
CREATE VIEW run_cases AS
SELECT r.run_id, c.case_id, c.category, c.action, c.status, c.order_ref, c.channel, c.currency,
       c.key_amount_minor, c.amount_minor, c.expected, c.actual, c.first_booked_us,
       c.last_booked_us, c.route_key, c.txn_ids, c.ledger_event_ids, c.detail
FROM runs AS r JOIN case_spans AS c ON c.to_run > r.run_id AND c.from_run <= r.run_id
WHERE r.match_mode IS NOT NULL;

PRAGMA user_version = 3;
