-- Version 8: a ledger anomaly is stored once per version, with the span of
-- runs that report it, as cases are since version 3.
--
-- Each run copied the anomalies of every order it did not match again from
-- its base into run_anomalies: 15,591 rows a night on day 31 of the bench,
-- 0.05 s, and pages of a table that grows by all open anomalies every night.
-- Now anomaly_spans holds each anomaly with from_run (the run that derived
-- it) and to_run (the first run that no longer reports it, or
-- 9223372036854775807 while live).  A run closes the live anomalies of the
-- orders it matches again, as it closes their cases (engine/match.c), and
-- writes their new ones.  The view run_anomalies lists each run's anomalies,
-- as before.  Existing rows become one-run spans, and those of the latest
-- matched run live ones.

CREATE TABLE anomaly_spans (
    from_run      INTEGER NOT NULL REFERENCES runs (run_id),
    case_id       TEXT NOT NULL,
    to_run        INTEGER NOT NULL,        -- first run without it; live: 9223372036854775807
    order_ref     TEXT NOT NULL,
    event_id      TEXT,
    event         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    channel       TEXT NOT NULL,
    currency      TEXT NOT NULL,
    amount_minor  INTEGER NOT NULL,
    event_time_us INTEGER NOT NULL,
    event_row_id  INTEGER NOT NULL,
    CHECK (to_run > from_run),
    PRIMARY KEY (to_run, from_run, case_id)
) WITHOUT ROWID;

INSERT INTO anomaly_spans (from_run, case_id, to_run, order_ref, event_id, event, reason, channel,
                           currency, amount_minor, event_time_us, event_row_id)
SELECT a.run_id, a.case_id,
       CASE WHEN a.run_id = (SELECT max(run_id) FROM runs WHERE match_mode IS NOT NULL)
            THEN 9223372036854775807 ELSE a.run_id + 1 END,
       a.order_ref, a.event_id, a.event, a.reason, a.channel, a.currency, a.amount_minor,
       a.event_time_us, a.event_row_id
FROM run_anomalies AS a;

-- The live anomalies of an order, to close them.
CREATE INDEX anomaly_spans_order ON anomaly_spans (to_run, order_ref);

DROP TABLE run_anomalies;

CREATE VIEW run_anomalies AS
SELECT r.run_id, a.case_id, a.order_ref, a.event_id, a.event, a.reason, a.channel, a.currency,
       a.amount_minor, a.event_time_us, a.event_row_id
FROM runs AS r JOIN anomaly_spans AS a ON a.to_run > r.run_id AND a.from_run <= r.run_id
WHERE r.match_mode IS NOT NULL;

PRAGMA user_version = 8;
