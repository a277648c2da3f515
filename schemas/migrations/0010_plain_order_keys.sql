-- Version 10: a ledger event stores its order key only when keys are HMACs.
--
-- An order key is a digest of the order_ref alone (schemas/routekey.md).  With
-- plain SHA-256 keys anyone can make it again from the order_ref, and recon
-- does so where it needs one (a ledger anomaly's case id, `recon show`).  Only
-- HMAC keys need the secret, which a match does not have, so only then is it
-- stored.  Storing it for every event was 32 of the 122 bytes of a ledger row
-- and a digest per event at ingest.  Events stored before keep theirs: both
-- forms give the same key.
--
-- SQLite cannot drop a NOT NULL constraint in place: the table is made again,
-- as in version 5, with the same rows, keys and indexes.

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
    route_key     BLOB CHECK (route_key IS NULL OR length(route_key) = 32), -- PAID: CHARGE key, REFUNDED: REFUND key
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

-- The indexes of versions 5, 6 and 9.
CREATE UNIQUE INDEX ledger_events_id ON ledger_events (event_id) WHERE event_id IS NOT NULL;
CREATE UNIQUE INDEX ledger_events_uid ON ledger_events (event_time_us, uid) WHERE uid IS NOT NULL;
CREATE INDEX ledger_events_late_row ON ledger_events (event_row_id) WHERE late = 1;

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
