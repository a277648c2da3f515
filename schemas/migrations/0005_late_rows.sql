-- Version 5: rows for orders of earlier files are stored apart, in a late
-- segment of the same table.
--
-- Statement rows and ledger events are clustered by order (version 2), and
-- merchants' order refs grow with time, so a night's rows for its own orders
-- go in at the table's end.  But a night also brings rows for orders of the
-- nights before: refunds, cancellations, charges settled a day later.  Each
-- of those landed on a page of an earlier night, filled to the brim when it
-- was written, which the page cache no longer held: a page read, a split and
-- two page writes (WAL and checkpoint) per row.  On 30 days of history, the
-- 6,723 such rows of a 190,000-row ledger made the night read 22,145 pages
-- and write 31,255 against 5,446 and 10,844 without them, and took 2.1 s
-- against 1.3-1.6 s.
--
-- Now a row whose order_ref sorts before the greatest order_ref already in the
-- table's main segment when its file's transaction began is late (late = 1):
-- the key (late, order_ref, time, row id) puts it at the end of its own
-- segment, whose order refs grow night after night in the same way.  Within a
-- file, the same holds of a row for an order 30,000 to 60,000 stored rows
-- behind (a refund hours after its order in a day's file; engine/store.c).
-- Every other row is in the main segment (late = 0), as before.  Readers of an
-- order read both segments: a merge of two ordered scans (engine/match.c) or
-- a lookup with late IN (0, 1).  Identities and row ids are unchanged: the
-- identity indexes span both segments.  Rows already stored are in the main
-- segment.

DROP VIEW v_order_status;

CREATE TABLE statement_rows_v5 (
    late          INTEGER NOT NULL CHECK (late = 0 OR late = 1),
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
    PRIMARY KEY (late, order_ref, booked_at_us, row_id)
) WITHOUT ROWID;

INSERT INTO statement_rows_v5 (late, order_ref, booked_at_us, row_id, file_id, line, txn_id, uid,
                               type, amount_minor, currency, channel, fee_minor, route_key)
SELECT 0, order_ref, booked_at_us, row_id, file_id, line, txn_id, uid, type, amount_minor, currency,
       channel, fee_minor, route_key
FROM statement_rows;

CREATE TABLE ledger_events_v5 (
    late          INTEGER NOT NULL CHECK (late = 0 OR late = 1),
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
    PRIMARY KEY (late, order_ref, event_time_us, event_row_id)
) WITHOUT ROWID;

INSERT INTO ledger_events_v5 (late, order_ref, event_time_us, event_row_id, file_id, line, event_id,
                              uid, event, amount_minor, currency, channel, route_key, order_key)
SELECT 0, order_ref, event_time_us, event_row_id, file_id, line, event_id, uid, event, amount_minor,
       currency, channel, route_key, order_key
FROM ledger_events;

DROP TABLE statement_rows;
DROP TABLE ledger_events;
ALTER TABLE statement_rows_v5 RENAME TO statement_rows;
ALTER TABLE ledger_events_v5 RENAME TO ledger_events;

-- The indexes of versions 2 and 4, over both segments.
CREATE UNIQUE INDEX statement_rows_txn ON statement_rows (channel, txn_id) WHERE txn_id IS NOT NULL;
CREATE UNIQUE INDEX statement_rows_uid ON statement_rows (booked_at_us, uid) WHERE uid IS NOT NULL;
CREATE UNIQUE INDEX ledger_events_id ON ledger_events (event_id) WHERE event_id IS NOT NULL;
CREATE UNIQUE INDEX ledger_events_uid ON ledger_events (event_time_us, uid) WHERE uid IS NOT NULL;
CREATE INDEX statement_rows_row ON statement_rows (row_id);
CREATE INDEX ledger_events_row ON ledger_events (event_row_id);

-- Same view as version 2; an order's rows are looked up in both segments.
CREATE VIEW v_order_status AS
WITH refs AS (
    SELECT order_ref FROM ledger_events UNION SELECT order_ref FROM statement_rows
)
SELECT r.order_ref,
       (SELECT count(*) FROM ledger_events AS e
        WHERE e.late IN (0, 1) AND e.order_ref = r.order_ref) AS ledger_events,
       (SELECT e.event FROM ledger_events AS e WHERE e.late IN (0, 1) AND e.order_ref = r.order_ref
        ORDER BY e.event_time_us DESC, e.event_row_id DESC LIMIT 1) AS last_event,
       (SELECT count(*) FROM statement_rows AS s
        WHERE s.late IN (0, 1) AND s.order_ref = r.order_ref AND s.type = 'CHARGE') AS charges,
       (SELECT count(*) FROM statement_rows AS s
        WHERE s.late IN (0, 1) AND s.order_ref = r.order_ref AND s.type = 'REFUND') AS refunds,
       (SELECT count(*) FROM v_open_cases AS c WHERE c.order_ref = r.order_ref) AS open_cases
FROM refs AS r;

-- A run's frontier: the greatest order_ref in either table's main segment
-- when it matched.  Every row stored before it has an order_ref up to it, so
-- the next run matches the orders after it (new ones) by a range scan, and
-- looks up only the others one by one (engine/match.c).  NULL for runs before
-- this version: the next run then looks up every order one by one.
ALTER TABLE runs ADD COLUMN order_frontier TEXT;

PRAGMA user_version = 5;
