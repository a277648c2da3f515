-- recon database schema, version 1.
--
-- This file creates a new database.  Later changes are forward migrations in
-- schemas/migrations/NNNN_name.sql, each ending with PRAGMA user_version = NNNN;
-- recon applies the missing ones at open, in order, each in its own transaction.
-- Amounts are INTEGER minor units of their row's currency (ISO 4217 exponent);
-- instants are INTEGER microseconds since 1970-01-01T00:00:00Z; keys and digests
-- are 32-byte BLOBs (schemas/routekey.md).  Readable with the sqlite3 shell, e.g.
--   SELECT order_ref, type, amount_minor, currency,
--          strftime('%Y-%m-%dT%H:%M:%SZ', booked_at_us / 1000000, 'unixepoch')
--   FROM statement_rows;

PRAGMA application_id = 1919247726; -- 0x7265636e, "recn"

-- One row per ingested file, identified by the SHA-256 of its bytes: ingesting
-- the same bytes again is a no-op.  A refused file leaves no row at all.
CREATE TABLE files (
    file_id         INTEGER PRIMARY KEY,
    sha256          BLOB NOT NULL UNIQUE CHECK (length(sha256) = 32),
    path            TEXT NOT NULL,              -- as given on the command line
    kind            TEXT NOT NULL CHECK (kind IN ('statement', 'ledger')),
    profile         TEXT NOT NULL,              -- profile name
    profile_sha256  BLOB NOT NULL CHECK (length(profile_sha256) = 32),
    channel         TEXT,                       -- --channel override, if any
    bytes           INTEGER NOT NULL CHECK (bytes >= 0),
    rows_read       INTEGER NOT NULL DEFAULT 0, -- data records after preamble/header
    rows_inserted   INTEGER NOT NULL DEFAULT 0, -- new statement rows / ledger events
    rows_duplicate  INTEGER NOT NULL DEFAULT 0, -- already known, same content
    rows_conflict   INTEGER NOT NULL DEFAULT 0, -- known id, different content: first kept
    rows_rejected   INTEGER NOT NULL DEFAULT 0, -- quarantined
    rows_skipped    INTEGER NOT NULL DEFAULT 0, -- filtered on purpose (see file_skips)
    ingested_at     TEXT NOT NULL               -- wall clock, ISO-8601 UTC
);

-- Statement rows: what the channel or bank says really moved money.
-- uid is the row's identity: SHA-256 over (channel, txn_id), or, where the format
-- has no id, over (content digest, ordinal among identical rows in its file).
CREATE TABLE statement_rows (
    row_id        INTEGER PRIMARY KEY,
    file_id       INTEGER NOT NULL REFERENCES files (file_id),
    line          INTEGER NOT NULL,            -- line in that file where the record starts
    uid           BLOB NOT NULL UNIQUE CHECK (length(uid) = 32),
    txn_id        TEXT,                        -- NULL when the format has none
    order_ref     TEXT NOT NULL CHECK (length(order_ref) > 0),
    type          TEXT NOT NULL CHECK (type IN ('CHARGE', 'REFUND')),
    amount_minor  INTEGER NOT NULL CHECK (amount_minor > 0),
    currency      TEXT NOT NULL CHECK (length(currency) = 3),
    booked_at_us  INTEGER NOT NULL,
    channel       TEXT NOT NULL,
    fee_minor     INTEGER,                     -- NULL when not given
    route_key     BLOB NOT NULL CHECK (length(route_key) = 32),
    order_key     BLOB NOT NULL CHECK (length(order_key) = 32),
    content       BLOB NOT NULL CHECK (length(content) = 32) -- digest of the canonical fields
);

-- Ledger events: the merchant's view of each order.  Ingest order (event_row_id)
-- breaks ties between events with equal times.
CREATE TABLE ledger_events (
    event_row_id  INTEGER PRIMARY KEY,
    file_id       INTEGER NOT NULL REFERENCES files (file_id),
    line          INTEGER NOT NULL,
    uid           BLOB NOT NULL UNIQUE CHECK (length(uid) = 32),
    event_id      TEXT,
    order_ref     TEXT NOT NULL CHECK (length(order_ref) > 0),
    event         TEXT NOT NULL CHECK (event IN ('CREATED', 'PAID', 'REFUNDED', 'CANCELLED')),
    amount_minor  INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency      TEXT NOT NULL CHECK (length(currency) = 3),
    event_time_us INTEGER NOT NULL,
    channel       TEXT NOT NULL,
    route_key     BLOB CHECK (route_key IS NULL OR length(route_key) = 32), -- PAID: CHARGE key, REFUNDED: REFUND key
    order_key     BLOB NOT NULL CHECK (length(order_key) = 32),
    content       BLOB NOT NULL CHECK (length(content) = 32)
);

-- Rows that could not be read: the file's good rows are still ingested.
CREATE TABLE quarantine (
    quarantine_id INTEGER PRIMARY KEY,
    file_id       INTEGER NOT NULL REFERENCES files (file_id),
    line          INTEGER NOT NULL,
    field         TEXT,                        -- canonical field at fault, if one
    reason        TEXT NOT NULL,
    raw           BLOB NOT NULL                -- the record's text (first 1024 bytes)
);

-- A known txn_id / event_id arriving again with different content: the first
-- version is kept, the newcomer recorded here.
CREATE TABLE conflicts (
    conflict_id   INTEGER PRIMARY KEY,
    file_id       INTEGER NOT NULL REFERENCES files (file_id),
    line          INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('statement', 'ledger')),
    ident         TEXT NOT NULL,               -- the txn_id or event_id
    kept_row_id   INTEGER NOT NULL,            -- statement_rows.row_id or ledger_events.event_row_id
    raw           BLOB NOT NULL
);

-- Rows skipped on purpose by a profile's filters or maps, counted per reason.
CREATE TABLE file_skips (
    file_id       INTEGER NOT NULL REFERENCES files (file_id),
    reason        TEXT NOT NULL,
    rows          INTEGER NOT NULL CHECK (rows > 0),
    PRIMARY KEY (file_id, reason)
) WITHOUT ROWID;

-- Database-wide settings.  'routekey' records how keys are made ('sha256', or
-- 'hmac-sha256:' and the first 16 hex digits of the SHA-256 of the key file), so
-- that files keyed differently can never be matched against each other.
CREATE TABLE settings (
    name          TEXT PRIMARY KEY,
    value         TEXT NOT NULL
) WITHOUT ROWID;

-- Runs: one row per attempt of a match or a job run, in start order (run_id).
-- A run sees the ledger events and statement rows whose time is at or before
-- its as_of; later rows already in the database are invisible to it.  Only
-- successful runs get a run number (run_no, 1, 2, ...): it is what reports,
-- 'recon runs' and 'recon report --run' show, so that an attempt killed half
-- way and rerun gives the same reports as a run never interrupted.  A run left
-- RUNNING by a dead process is marked ABORTED by the next writer.
CREATE TABLE runs (
    run_id        INTEGER PRIMARY KEY,
    run_no        INTEGER UNIQUE,              -- successful runs only
    job           TEXT,                        -- job name, NULL for a bare 'recon match'
    business_date TEXT,                        -- YYYY-MM-DD, when a job gives one
    as_of_us      INTEGER NOT NULL,
    grace_us      INTEGER NOT NULL CHECK (grace_us >= 0),
    window_us     INTEGER NOT NULL CHECK (window_us >= 0),
    status        TEXT NOT NULL CHECK (status IN ('RUNNING', 'OK', 'FAILED', 'ABORTED')),
    started_at    TEXT NOT NULL,               -- wall clock, ISO-8601 UTC
    finished_at   TEXT,
    pid           INTEGER,                     -- the process that ran it
    params        TEXT,                        -- JSON: job file, date, as-of, options, output directory
    ingest_ms     INTEGER,                     -- durations per phase
    match_ms      INTEGER,
    report_ms     INTEGER,
    error         TEXT,                        -- why a FAILED run failed
    CHECK ((status = 'OK') = (run_no IS NOT NULL))
);

-- The files a run covers (their rejects go to its rejects.csv).
CREATE TABLE run_files (
    run_id        INTEGER NOT NULL REFERENCES runs (run_id),
    file_id       INTEGER NOT NULL REFERENCES files (file_id),
    PRIMARY KEY (run_id, file_id)
) WITHOUT ROWID;

-- Every case a run found, and the cases it resolved (open in the run before it,
-- by as_of, and gone now).  case_id is stable: the hash of the category and the
-- route key (or, for ledger anomalies, the order key and the event).
CREATE TABLE run_cases (
    run_id            INTEGER NOT NULL REFERENCES runs (run_id),
    case_id           TEXT NOT NULL,           -- 32 lowercase hex digits
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
    PRIMARY KEY (run_id, case_id)
) WITHOUT ROWID;

-- Ledger state-machine violations seen by a run, one per offending event.
CREATE TABLE run_anomalies (
    run_id        INTEGER NOT NULL REFERENCES runs (run_id),
    case_id       TEXT NOT NULL,
    order_ref     TEXT NOT NULL,
    event_id      TEXT,
    event         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    channel       TEXT NOT NULL,
    currency      TEXT NOT NULL,
    amount_minor  INTEGER NOT NULL,
    event_time_us INTEGER NOT NULL,
    event_row_id  INTEGER NOT NULL,
    PRIMARY KEY (run_id, case_id)
) WITHOUT ROWID;

-- Per run, category and currency: cases and amounts, plus MATCHED and PENDING keys.
CREATE TABLE run_summary (
    run_id        INTEGER NOT NULL REFERENCES runs (run_id),
    category      TEXT NOT NULL,
    currency      TEXT NOT NULL,
    cases         INTEGER NOT NULL,
    amount_minor  INTEGER NOT NULL,
    PRIMARY KEY (run_id, category, currency)
) WITHOUT ROWID;

-- Matching reads ledger events per order in event order, and statement rows
-- per route key.
CREATE INDEX ledger_events_order ON ledger_events (order_ref, event_time_us, event_row_id);
CREATE INDEX statement_rows_route ON statement_rows (route_key, booked_at_us);
CREATE INDEX run_cases_case ON run_cases (case_id, run_id);
CREATE INDEX run_cases_order ON run_cases (order_ref, run_id);

-- Views for analysts (sqlite3 shell, BI tools).  They read only the tables above.

-- Cases open in the latest successful run, with their amounts as exact decimals.
CREATE VIEW v_open_cases AS
SELECT c.case_id, c.category, c.action, c.order_ref, c.channel, c.currency,
       c.amount_minor, c.expected, c.actual, c.txn_ids, c.ledger_event_ids, c.detail,
       (SELECT min(r.run_no) FROM run_cases AS x JOIN runs AS r ON r.run_id = x.run_id
        WHERE x.case_id = c.case_id AND x.status = 'open' AND r.status = 'OK') AS first_seen_run,
       (SELECT run_no FROM runs WHERE run_id = c.run_id) AS run_no
FROM run_cases AS c
WHERE c.status = 'open'
  AND c.run_id = (SELECT max(run_id) FROM runs WHERE status = 'OK');

-- Customers charged more often than the ledger expects, in the latest run:
-- excess_minor is what to refund.
CREATE VIEW v_double_charges AS
SELECT case_id, order_ref, channel, currency, key_amount_minor AS order_amount_minor,
       actual AS charge_count, expected AS expected_count, amount_minor AS excess_minor,
       txn_ids, first_booked_us, last_booked_us, lower(hex(route_key)) AS route_key,
       (SELECT run_no FROM runs WHERE runs.run_id = run_cases.run_id) AS run_no
FROM run_cases
WHERE category = 'DOUBLE_CHARGE' AND status = 'open'
  AND run_id = (SELECT max(run_id) FROM runs WHERE status = 'OK');

-- One line per order known to the ledger or the statements: what each side holds
-- (all rows, whatever their time) and how many cases are open on it.  The ledger
-- state after the state machine is what 'recon show ORDER_REF' prints.
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

CREATE INDEX quarantine_file ON quarantine (file_id, line);
CREATE INDEX conflicts_file ON conflicts (file_id, line);

PRAGMA user_version = 1;
