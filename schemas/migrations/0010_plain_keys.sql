-- Version 10: rows store their route and order keys only when keys are HMACs.
--
-- A route key digests (kind, channel, order_ref, currency, amount), an order
-- key the order_ref alone (schemas/routekey.md), all stored on the row.  With
-- plain SHA-256 keys anyone can make them again, and recon does so where it
-- needs one: matching groups an order's rows by those values, which is the
-- same grouping, and makes a route key only for a key that becomes a case; a
-- ledger anomaly's case id makes the order key; `recon show` makes the keys it
-- prints.  Only HMAC keys, which need the secret a match does not have, are
-- stored.  Plain keys were 32 of the 122 bytes of a ledger row and 32 of the
-- 111 of a statement row, and a digest per row at ingest.  Rows stored before
-- keep theirs: both forms give the same key.
--
-- SQLite cannot drop a NOT NULL constraint in place: both tables are made
-- again, as in version 5, with the same rows, keys and indexes.

DROP VIEW v_order_status;

CREATE TABLE ledger_events_v10 (
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
    route_key     BLOB CHECK (route_key IS NULL OR length(route_key) = 32), -- PAID: CHARGE, REFUNDED: REFUND; HMAC only
    order_key     BLOB CHECK (order_key IS NULL OR length(order_key) = 32), -- HMAC keys only
    CHECK ((event_id IS NULL) = (uid IS NOT NULL)),
    PRIMARY KEY (late, order_ref, event_time_us, event_row_id)
) WITHOUT ROWID;

INSERT INTO ledger_events_v10 (late, order_ref, event_time_us, event_row_id, file_id, line, event_id,
                               uid, event, amount_minor, currency, channel, route_key, order_key)
SELECT late, order_ref, event_time_us, event_row_id, file_id, line, event_id, uid, event, amount_minor,
       currency, channel, route_key, order_key
FROM ledger_events;

DROP TABLE ledger_events;
ALTER TABLE ledger_events_v10 RENAME TO ledger_events;

CREATE TABLE statement_rows_v10 (
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
    route_key     BLOB CHECK (route_key IS NULL OR length(route_key) = 32), -- HMAC keys only
    CHECK ((txn_id IS NULL) = (uid IS NOT NULL)),
    PRIMARY KEY (late, order_ref, booked_at_us, row_id)
) WITHOUT ROWID;

INSERT INTO statement_rows_v10 (late, order_ref, booked_at_us, row_id, file_id, line, txn_id, uid,
                                type, amount_minor, currency, channel, fee_minor, route_key)
SELECT late, order_ref, booked_at_us, row_id, file_id, line, txn_id, uid, type, amount_minor, currency,
       channel, fee_minor, route_key
FROM statement_rows;

DROP TABLE statement_rows;
ALTER TABLE statement_rows_v10 RENAME TO statement_rows;

-- The indexes of versions 5, 6 and 9.
CREATE UNIQUE INDEX ledger_events_id ON ledger_events (event_id) WHERE event_id IS NOT NULL;
CREATE UNIQUE INDEX ledger_events_uid ON ledger_events (event_time_us, uid) WHERE uid IS NOT NULL;
CREATE INDEX ledger_events_late_row ON ledger_events (event_row_id) WHERE late = 1;

CREATE UNIQUE INDEX statement_rows_txn ON statement_rows (channel, txn_id) WHERE txn_id IS NOT NULL;
CREATE UNIQUE INDEX statement_rows_uid ON statement_rows (booked_at_us, uid) WHERE uid IS NOT NULL;
CREATE INDEX statement_rows_late_row ON statement_rows (row_id) WHERE late = 1;

-- Same view as version 5.
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

PRAGMA user_version = 10;
