-- Version 9: no index of every row by row id.
--
-- statement_rows_row and ledger_events_row served one reader: an incremental
-- match whose base run recorded no frontier, which put every order with rows
-- since the base in its list, by row id.  Every row paid for them: on the
-- bench's 1,000,000 orders, ledger_events_row was 5,315 of the ledger's 27,800
-- pages of 16 KiB, and its B-tree one of three written per row.  Without them
-- (3 runs alternated) the ledger took 8.92-9.72 s against 10.45-14.48 s and
-- the two statement files 5.06-5.41 s against 5.62-8.01 s.
--
-- A run now records a frontier whenever a table has a row (engine/match.c):
-- the lesser of the greatest main-segment order_refs of the tables that have
-- one.  A table that had no row at the base run holds only rows stored since,
-- and the match reads it whole.  Only a base recorded by version 5 to 8
-- without a frontier (a table had no row, or the base is older than version
-- 6) still makes the next run read every row for those stored since: once.
-- The late-row indexes of version 6 stay.
DROP INDEX statement_rows_row;
DROP INDEX ledger_events_row;

PRAGMA user_version = 9;
