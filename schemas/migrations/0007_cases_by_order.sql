-- Version 7: what a night writes about its cases lands at the end of the
-- tables, as for its rows.
--
-- case_first_seen was keyed by case id, a digest, and case_spans had an index
-- on it: each case a night opened wrote a page of each somewhere in the whole
-- history.  On day 31 of the bench (30 days of history), 414 pages of
-- case_spans_case and 325 of case_first_seen, of the 1,100 pages the match
-- changed, and a commit of 0.08-0.11 s against 0.007 s on an empty database.
-- A case belongs to one order, and every reader has its order_ref at hand, so
-- the first run that reported a case is now keyed by (order_ref, case_id): a
-- night's new cases, for orders whose refs grow night after night, go in at
-- its end.  A case's live span is found through case_spans_order
-- (to_run, order_ref), which holds its case_id; case_spans_case goes.

ALTER TABLE case_first_seen RENAME TO case_first_seen_v6;

CREATE TABLE case_first_seen (
    order_ref     TEXT NOT NULL,
    case_id       TEXT NOT NULL,
    run_id        INTEGER NOT NULL REFERENCES runs (run_id),
    PRIMARY KEY (order_ref, case_id)
) WITHOUT ROWID;

-- A case id is a digest of the case's category and key, whose rows are those
-- of one order; should one ever have been seen for two orders, each keeps the
-- first run of the id.
INSERT INTO case_first_seen (order_ref, case_id, run_id)
SELECT DISTINCT c.order_ref, f.case_id, f.run_id
FROM case_first_seen_v6 AS f JOIN case_spans AS c ON c.case_id = f.case_id;

DROP VIEW v_open_cases;
CREATE VIEW v_open_cases AS
SELECT c.case_id, c.category, c.action, c.order_ref, c.channel, c.currency,
       c.amount_minor, c.expected, c.actual, c.txn_ids, c.ledger_event_ids, c.detail,
       (SELECT r.run_no FROM case_first_seen AS f JOIN runs AS r ON r.run_id = f.run_id
        WHERE f.order_ref = c.order_ref AND f.case_id = c.case_id AND r.status = 'OK') AS first_seen_run,
       (SELECT run_no FROM runs WHERE run_id = c.run_id) AS run_no
FROM run_cases AS c
WHERE c.status = 'open'
  AND c.run_id = (SELECT max(run_id) FROM runs WHERE status = 'OK');

DROP TABLE case_first_seen_v6;
DROP INDEX case_spans_case;

PRAGMA user_version = 7;
