-- Version 2: statement rows and ledger events stored once, clustered by order.
--
-- Matching works one order at a time (SPEC section 4: every route key of an
-- order, and its mismatch fallback, depends on that order's rows only), so both
-- tables become WITHOUT ROWID tables keyed by (order_ref, time, row id): the
-- rows of one order sit together in event order, matching reads them in one
-- pass without a sort or a lookup, and a row arriving for a recent order lands
-- on a page already in the cache.  Identities are looked up by their text,
-- which channels and ledgers hand out in increasing order, instead of by a
-- random digest whose index no cache can hold:
--   statement rows: (channel, txn_id); a row without a txn_id by its uid, the
--     SHA-256 over (content digest, ordinal among identical rows in its file);
--   ledger events: event_id; an event without one by its uid likewise.
-- Keys are still made at ingest (they may be keyed with HMAC, and matching does
-- not hold the key): route keys on both tables, and on ledger events the order
-- key that, with the event's uid, names a LEDGER_ANOMALY case.  A uid made from
-- an id (plain SHA-256 of it, schemas/routekey.md) is recomputed, not stored.  The content digest is no longer
-- stored: a known identity with other content is still a conflict, found by
-- comparing the kept row's fields.  Row ids are still given in ingest order, from the
-- counters in settings ('next_row_id.statement', 'next_row_id.ledger').

DROP VIEW v_order_status;

CREATE TABLE statement_rows_v2 (
    order_ref     TEXT NOT NULL CHECK (length(order_ref) > 0),
    booked_at_us  INTEGER NOT NULL,
    row_id        INTEGER NOT NULL,            -- ingest order, unique
    file_id       INTEGER NOT NULL REFERENCES files (file_id),
    line          INTEGER NOT NULL,            -- line in that file where the record starts
    txn_id        TEXT,                        -- NULL when the format has none
    uid           BLOB CHECK (uid IS NULL OR length(uid) = 32), -- rows without txn_id only
    type          TEXT NOT NULL CHECK (type = 'CHARGE' OR type = 'REFUND'),
    amount_minor  INTEGER NOT NULL CHECK (amount_minor > 0),
    currency      TEXT NOT NULL CHECK (length(currency) = 3),
    channel       TEXT NOT NULL,
    fee_minor     INTEGER,                     -- NULL when not given
    route_key     BLOB NOT NULL CHECK (length(route_key) = 32),
    CHECK ((txn_id IS NULL) = (uid IS NOT NULL)),
    PRIMARY KEY (order_ref, booked_at_us, row_id)
) WITHOUT ROWID;

INSERT INTO statement_rows_v2 (order_ref, booked_at_us, row_id, file_id, line, txn_id, uid, type,
                               amount_minor, currency, channel, fee_minor, route_key)
SELECT order_ref, booked_at_us, row_id, file_id, line, txn_id,
       CASE WHEN txn_id IS NULL THEN uid END, type, amount_minor, currency, channel, fee_minor,
       route_key
FROM statement_rows;

CREATE TABLE ledger_events_v2 (
    order_ref     TEXT NOT NULL CHECK (length(order_ref) > 0),
    event_time_us INTEGER NOT NULL,
    event_row_id  INTEGER NOT NULL,            -- ingest order: breaks ties of equal times
    file_id       INTEGER NOT NULL REFERENCES files (file_id),
    line          INTEGER NOT NULL,
    event_id      TEXT,
    uid           BLOB CHECK (uid IS NULL OR length(uid) = 32), -- events without event_id only
    event         TEXT NOT NULL CHECK (event = 'CREATED' OR event = 'PAID' OR event = 'REFUNDED'
                                       OR event = 'CANCELLED'),
    amount_minor  INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency      TEXT NOT NULL CHECK (length(currency) = 3),
    channel       TEXT NOT NULL,
    route_key     BLOB CHECK (route_key IS NULL OR length(route_key) = 32), -- PAID: CHARGE key, REFUNDED: REFUND key
    order_key     BLOB NOT NULL CHECK (length(order_key) = 32),
    CHECK ((event_id IS NULL) = (uid IS NOT NULL)),
    PRIMARY KEY (order_ref, event_time_us, event_row_id)
) WITHOUT ROWID;

INSERT INTO ledger_events_v2 (order_ref, event_time_us, event_row_id, file_id, line, event_id, uid,
                              event, amount_minor, currency, channel, route_key, order_key)
SELECT order_ref, event_time_us, event_row_id, file_id, line, event_id,
       CASE WHEN event_id IS NULL THEN uid END, event, amount_minor, currency, channel, route_key,
       order_key
FROM ledger_events;

INSERT INTO settings (name, value)
SELECT 'next_row_id.statement', CAST(coalesce(max(row_id), 0) + 1 AS TEXT) FROM statement_rows;
INSERT INTO settings (name, value)
SELECT 'next_row_id.ledger', CAST(coalesce(max(event_row_id), 0) + 1 AS TEXT) FROM ledger_events;

DROP TABLE statement_rows;
DROP TABLE ledger_events;
ALTER TABLE statement_rows_v2 RENAME TO statement_rows;
ALTER TABLE ledger_events_v2 RENAME TO ledger_events;

-- Identities.  Partial indexes: a row is in exactly one of each pair.
CREATE UNIQUE INDEX statement_rows_txn ON statement_rows (channel, txn_id) WHERE txn_id IS NOT NULL;
CREATE UNIQUE INDEX statement_rows_uid ON statement_rows (uid) WHERE uid IS NOT NULL;
CREATE UNIQUE INDEX ledger_events_id ON ledger_events (event_id) WHERE event_id IS NOT NULL;
CREATE UNIQUE INDEX ledger_events_uid ON ledger_events (uid) WHERE uid IS NOT NULL;

-- Rows in ingest order: what a run adds to the previous one (incremental match).
CREATE INDEX statement_rows_row ON statement_rows (row_id);
CREATE INDEX ledger_events_row ON ledger_events (event_row_id);

-- Incremental matching.  A run records the row-id counters it saw, and the
-- orders whose outcome may change without a new row: a PENDING key (its
-- window may pass), a REFUND_NOT_SETTLED key with refunds not yet overdue (its
-- amount grows), or a row later than its as_of (it becomes visible).  The next
-- run with the same windows and a later or equal as_of then matches only the
-- orders with new rows or on this watch list; the open cases, anomalies and
-- MATCHED and PENDING totals of every other order are carried over
-- (engine/match.c).
ALTER TABLE runs ADD COLUMN next_statement_row_id INTEGER; -- NULL: not a base for the next run
ALTER TABLE runs ADD COLUMN next_event_row_id INTEGER;
ALTER TABLE runs ADD COLUMN match_mode TEXT CHECK (match_mode IN ('full', 'incremental'));
ALTER TABLE runs ADD COLUMN base_run_id INTEGER REFERENCES runs (run_id); -- incremental: the run built on

CREATE TABLE run_watch (
    run_id        INTEGER NOT NULL REFERENCES runs (run_id),
    order_ref     TEXT NOT NULL,
    PRIMARY KEY (run_id, order_ref)
) WITHOUT ROWID;

-- The first successful run that reported each case open (reports' first_seen_run,
-- 'recon run's new cases).  It replaces looking the case up in every run's
-- cases, whose indexes by case and by order cost a random write per open case
-- and per night: run_cases now only grows at the end (run_id, case_id).  A run
-- that fails after its match is replaced by the next run that reports the case.
DROP VIEW v_open_cases;
DROP INDEX run_cases_case;
DROP INDEX run_cases_order;
CREATE TABLE case_first_seen (
    case_id       TEXT PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs (run_id)
) WITHOUT ROWID;
INSERT INTO case_first_seen (case_id, run_id)
SELECT c.case_id, min(c.run_id) FROM run_cases AS c JOIN runs AS r ON r.run_id = c.run_id
WHERE c.status = 'open' AND r.status = 'OK'
GROUP BY c.case_id;

CREATE VIEW v_open_cases AS
SELECT c.case_id, c.category, c.action, c.order_ref, c.channel, c.currency,
       c.amount_minor, c.expected, c.actual, c.txn_ids, c.ledger_event_ids, c.detail,
       (SELECT r.run_no FROM case_first_seen AS f JOIN runs AS r ON r.run_id = f.run_id
        WHERE f.case_id = c.case_id AND r.status = 'OK') AS first_seen_run,
       (SELECT run_no FROM runs WHERE run_id = c.run_id) AS run_no
FROM run_cases AS c
WHERE c.status = 'open'
  AND c.run_id = (SELECT max(run_id) FROM runs WHERE status = 'OK');

-- Same view as version 1, over the new tables.
CREATE VIEW v_order_status AS
WITH refs AS (
    SELECT order_ref FROM ledger_events UNION SELECT order_ref FROM statement_rows
)
SELECT r.order_ref,
       (SELECT count(*) FROM ledger_events AS e WHERE e.order_ref = r.order_ref) AS ledger_events,
       (SELECT e.event FROM ledger_events AS e WHERE e.order_ref = r.order_ref
        ORDER BY e.event_time_us DESC, e.event_row_id DESC LIMIT 1) AS last_event,
       (SELECT count(*) FROM statement_rows AS s
        WHERE s.order_ref = r.order_ref AND s.type = 'CHARGE') AS charges,
       (SELECT count(*) FROM statement_rows AS s
        WHERE s.order_ref = r.order_ref AND s.type = 'REFUND') AS refunds,
       (SELECT count(*) FROM v_open_cases AS c WHERE c.order_ref = r.order_ref) AS open_cases
FROM refs AS r;

PRAGMA user_version = 2;
