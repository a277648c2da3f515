-- Version 11: a statement row or ledger event stores its route key only when
-- keys are HMACs.
--
-- A route key digests (kind, channel, order_ref, currency, amount), all stored
-- on the row (schemas/routekey.md).  Matching groups an order's rows by those
-- values, which is the same grouping, and makes a route key only for the few
-- keys that become cases; `recon show` makes the ones it prints.  With plain
-- SHA-256 keys anyone can make them again, so only HMAC keys, which need the
-- secret, are stored (as order keys since version 10).  Storing them was 32 of
-- the 111 bytes of a statement row and a digest per row at ingest.  Rows
-- stored before keep theirs: both forms give the same key.
--
-- ledger_events.route_key may already be NULL (events that expect nothing);
-- statement_rows.route_key may not, so that table is made again, as in
-- version 5, with the same rows, keys and indexes.

DROP VIEW v_order_status;

CREATE TABLE statement_rows_v11 (
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

INSERT INTO statement_rows_v11 (late, order_ref, booked_at_us, row_id, file_id, line, txn_id, uid,
                                type, amount_minor, currency, channel, fee_minor, route_key)
SELECT late, order_ref, booked_at_us, row_id, file_id, line, txn_id, uid, type, amount_minor, currency,
       channel, fee_minor, route_key
FROM statement_rows;

DROP TABLE statement_rows;
ALTER TABLE statement_rows_v11 RENAME TO statement_rows;

-- The indexes of versions 5, 6 and 9.
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

PRAGMA user_version = 11;
