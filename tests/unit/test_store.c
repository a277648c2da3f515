/*
 * test_store.c - pins engine/store.h: opening and migrating the database, files,
 * statement rows and their identities, ordinals, settings and transactions.
 *
 * Each test works in its own temporary directory (mkdtemp) and inspects the
 * database with a second, plain SQLite connection where the store's API does not
 * say enough (schema version, row counts after a rollback).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "embedded_sql.h"
#include "store.h"

#define RECON_APPLICATION_ID 1919247726 /* "recn" */

static struct {
	char dir[64];
	char db[128];
	struct store *s;
	char err[1024];
} fx;

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/test_store_XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	snprintf(fx.db, sizeof(fx.db), "%s/recon.db", fx.dir);
	return 0;
}

static int teardown(void **state)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char path[160];
	size_t i;

	(void)state;
	store_close(fx.s);
	fx.s = NULL;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", fx.db, suffixes[i]);
		unlink(path);
	}
	rmdir(fx.dir);
	return 0;
}

static struct store *open_ok(void)
{
	if (store_open(fx.db, &fx.s, fx.err, sizeof(fx.err)) != 0)
		fail_msg("store_open: %s", fx.err);
	assert_non_null(fx.s);
	return fx.s;
}

/* One integer from SQL run on a separate connection. */
static int64_t query_int(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open_v2(fx.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Make a database at fx.db with plain SQLite. */
static void make_foreign(const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(fx.db, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

static void key(unsigned char k[STORE_KEY_LEN], unsigned char fill)
{
	memset(k, fill, STORE_KEY_LEN);
}

static int64_t add_file(unsigned char fill)
{
	unsigned char sha[STORE_KEY_LEN], psha[STORE_KEY_LEN];
	struct store_file f;
	int64_t id = 0;

	key(sha, fill);
	key(psha, 0xee);
	memset(&f, 0, sizeof(f));
	f.sha256 = sha;
	f.path = "day.csv";
	f.kind = "statement";
	f.profile = "psp_v1";
	f.profile_sha256 = psha;
	f.bytes = 123;
	if (store_file_insert(fx.s, &f, &id) != 0)
		fail_msg("store_file_insert: %s", store_errmsg(fx.s));
	assert_true(id > 0);
	return id;
}

/* A statement row with uid/content keys filled with UID and CONTENT bytes. */
struct row_keys {
	unsigned char uid[STORE_KEY_LEN], content[STORE_KEY_LEN], route[STORE_KEY_LEN], order[STORE_KEY_LEN];
};

static struct store_row make_row(struct row_keys *k, unsigned char uid, unsigned char content,
				 const char *txn_id, int64_t amount)
{
	struct store_row r;

	key(k->uid, uid);
	key(k->content, content);
	key(k->route, 0x11);
	key(k->order, 0x22);
	memset(&r, 0, sizeof(r));
	r.uid = k->uid;
	r.route_key = k->route;
	r.order_key = k->order;
	r.id = txn_id;
	r.order_ref = "ORD-1";
	r.type = "CHARGE";
	r.amount_minor = amount;
	r.currency = "USD";
	r.time_us = INT64_C(1795169709000000);
	r.channel = "stripe";
	r.line = 2;
	return r;
}

/* ---- open and migrate --------------------------------------------------------------- */

static void test_store_new_database_has_version_and_application_id(void **state)
{
	(void)state;
	open_ok();
	assert_int_equal(query_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(STORE_SCHEMA_VERSION, 10);
	assert_int_equal(query_int("PRAGMA application_id"), RECON_APPLICATION_ID);
	assert_int_equal(query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN"
				   " ('files', 'statement_rows', 'ledger_events', 'quarantine', 'conflicts',"
				   " 'file_skips', 'settings')"), 7);
	assert_int_equal(query_int("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
	assert_int_equal(query_int("PRAGMA page_size"), 16384);
}

static void test_store_reopen_keeps_data(void **state)
{
	unsigned char sha[STORE_KEY_LEN];
	int64_t id, found = 0;

	(void)state;
	open_ok();
	assert_int_equal(store_begin(fx.s), 0);
	id = add_file(0x01);
	assert_int_equal(store_commit(fx.s), 0);
	store_close(fx.s);
	fx.s = NULL;
	open_ok();
	key(sha, 0x01);
	assert_int_equal(store_file_find(fx.s, sha, &found), 1);
	assert_int_equal(found, id);
	assert_int_equal(query_int("PRAGMA user_version"), 10);
}

/* A version 1 database (schemas/recon.sql) is migrated in place: rows kept,
 * identities and row-id counters carried over. */
static void test_store_migrates_version_1(void **state)
{
	struct row_keys k;
	struct store_row r;
	enum store_outcome o;
	int64_t kept = -1;

	(void)state;
	make_foreign("PRAGMA page_size = 4096; PRAGMA user_version = 1;"); /* as version 1 made it */
	make_foreign(sql_recon);
	make_foreign("INSERT INTO files (file_id, sha256, path, kind, profile, profile_sha256, bytes, ingested_at)"
		     " VALUES (1, zeroblob(32), 'a.csv', 'statement', 'psp_v1', zeroblob(32), 10, 'now');"
		     "INSERT INTO statement_rows (row_id, file_id, line, uid, txn_id, order_ref, type, amount_minor,"
		     " currency, booked_at_us, channel, fee_minor, route_key, order_key, content) VALUES"
		     " (7, 1, 2, randomblob(32), 'T-1', 'ORD-1', 'CHARGE', 1234, 'USD', 5, 'stripe', NULL,"
		     "  randomblob(32), randomblob(32), randomblob(32)),"
		     " (9, 1, 3, x'" "5555555555555555555555555555555555555555555555555555555555555555" "', NULL,"
		     "  'ORD-2', 'REFUND', 10, 'EUR', 6, 'bank', -3, randomblob(32), randomblob(32), randomblob(32));"
		     "INSERT INTO ledger_events (event_row_id, file_id, line, uid, event_id, order_ref, event,"
		     " amount_minor, currency, event_time_us, channel, route_key, order_key, content) VALUES"
		     " (4, 1, 2, randomblob(32), 'E-1', 'ORD-1', 'PAID', 1234, 'USD', 1, 'stripe', randomblob(32),"
		     "  randomblob(32), randomblob(32));"
		     "INSERT INTO runs (run_id, run_no, as_of_us, grace_us, window_us, status, started_at) VALUES"
		     " (1, 1, 10, 0, 0, 'OK', 'now'), (2, NULL, 11, 0, 0, 'FAILED', 'now'), (3, 2, 12, 0, 0, 'OK', 'now');"
		     "INSERT INTO run_cases (run_id, case_id, category, action, status, order_ref, channel, currency,"
		     " key_amount_minor, amount_minor, expected, actual) VALUES"
		     " (1, 'c1', 'ORPHAN_CHARGE', 'REFUND', 'open', 'ORD-1', 'stripe', 'USD', 1, 1, 0, 1),"
		     " (2, 'c2', 'ORPHAN_CHARGE', 'REFUND', 'open', 'ORD-2', 'stripe', 'USD', 1, 1, 0, 1),"
		     " (3, 'c1', 'ORPHAN_CHARGE', 'REFUND', 'open', 'ORD-1', 'stripe', 'USD', 1, 1, 0, 1),"
		     " (3, 'c2', 'ORPHAN_CHARGE', 'REFUND', 'open', 'ORD-2', 'stripe', 'USD', 1, 1, 0, 1);");
	open_ok();
	/* First seen: the first successful run that reported the case open. */
	assert_int_equal(query_int("SELECT run_id FROM case_first_seen WHERE case_id = 'c1'"), 1);
	assert_int_equal(query_int("SELECT run_id FROM case_first_seen WHERE case_id = 'c2'"), 3);
	/* Version 7: keyed by order, then case; no index of spans by case id. */
	assert_int_equal(query_int("SELECT group_concat(order_ref || ':' || case_id || ':' || run_id, ' ')"
				   " = 'ORD-1:c1:1 ORD-2:c2:3' FROM case_first_seen"), 1);
	assert_int_equal(query_int("SELECT count(*) FROM sqlite_schema WHERE name = 'case_spans_case'"), 0);
	assert_int_equal(query_int("SELECT sum(first_seen_run) FROM v_open_cases"), 3);
	/* Version 9: no index of every row by row id. */
	assert_int_equal(query_int("SELECT count(*) FROM sqlite_schema WHERE"
				   " name IN ('statement_rows_row', 'ledger_events_row')"), 0);
	/* Version 10: the order and route keys may be NULL; the rows keep
	 * theirs, and the tables their indexes and the view. */
	assert_int_equal(query_int("SELECT \"notnull\" FROM pragma_table_info('ledger_events')"
				   " WHERE name = 'order_key'"), 0);
	assert_int_equal(query_int("SELECT length(order_key) FROM ledger_events WHERE event_id = 'E-1'"), 32);
	assert_int_equal(query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'ledger_events'"
				   " AND name IN ('ledger_events_id', 'ledger_events_uid', 'ledger_events_late_row')"), 3);
	assert_int_equal(query_int("SELECT \"notnull\" FROM pragma_table_info('statement_rows')"
				   " WHERE name = 'route_key'"), 0);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows WHERE length(route_key) = 32"), 2);
	assert_int_equal(query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'statement_rows'"
				   " AND name IN ('statement_rows_txn', 'statement_rows_uid', 'statement_rows_late_row')"), 3);
	assert_int_equal(query_int("SELECT count(*) FROM v_order_status"), 2);
	assert_int_equal(query_int("PRAGMA user_version"), 10);
	/* Version 3: each run's cases are what its snapshot held, the latest
	 * run's open cases live, the counts kept per run. */
	assert_int_equal(query_int("SELECT group_concat(run_id || ':' || case_id, ' ') = '1:c1 2:c2 3:c1 3:c2'"
				   " FROM (SELECT run_id, case_id FROM run_cases ORDER BY run_id, case_id)"), 1);
	assert_int_equal(query_int("SELECT group_concat(from_run || '-' || to_run, ' ')"
				   " = '1-2 2-3 3-9223372036854775807 3-9223372036854775807'"
				   " FROM (SELECT from_run, to_run FROM case_spans ORDER BY from_run, case_id)"), 1);
	assert_int_equal(query_int("SELECT group_concat(run_id || ':' || match_mode || ':' || open_cases || ':'"
				   " || resolved_cases, ' ') = '1:full:1:0 2:full:1:0 3:full:2:0'"
				   " FROM (SELECT * FROM runs ORDER BY run_id)"), 1);
	/* An existing database keeps the page size it was made with. */
	assert_int_equal(query_int("PRAGMA page_size"), 4096);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows"), 2);
	assert_int_equal(query_int("SELECT row_id FROM statement_rows WHERE txn_id = 'T-1' AND uid IS NULL"), 7);
	/* Version 4: rows without an id are looked up by time, then uid. */
	assert_int_equal(query_int("SELECT group_concat(name, ',') = 'booked_at_us,uid'"
				   " FROM pragma_index_info('statement_rows_uid')"), 1);
	assert_int_equal(query_int("SELECT group_concat(name, ',') = 'event_time_us,uid'"
				   " FROM pragma_index_info('ledger_events_uid')"), 1);
	assert_int_equal(query_int("SELECT fee_minor FROM statement_rows WHERE txn_id IS NULL"
				   " AND hex(uid) = '5555555555555555555555555555555555555555555555555555555555555555'"), -3);
	assert_int_equal(query_int("SELECT event_row_id FROM ledger_events WHERE event_id = 'E-1' AND uid IS NULL"), 4);
	assert_int_equal(query_int("SELECT count(*) FROM v_order_status"), 2);
	/* Version 5: rows stored before are in the main segment, keyed by it first. */
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows WHERE late = 0"), 2);
	assert_int_equal(query_int("SELECT count(*) FROM ledger_events WHERE late = 0"), 1);
	assert_int_equal(query_int("SELECT group_concat(name, ',') = 'late,order_ref,booked_at_us,row_id'"
				   " FROM pragma_index_info('sqlite_autoindex_statement_rows_1')"), 1);
	assert_int_equal(query_int("SELECT group_concat(name, ',') = 'late,order_ref,event_time_us,event_row_id'"
				   " FROM pragma_index_info('sqlite_autoindex_ledger_events_1')"), 1);
	assert_int_equal(query_int("SELECT ledger_events || ',' || last_event || ',' || charges || ',' || refunds"
				   " = '1,PAID,1,0' FROM v_order_status WHERE order_ref = 'ORD-1'"), 1);
	/* Runs of before have no frontier: the next run looks up every order. */
	assert_int_equal(query_int("SELECT count(*) FROM runs WHERE order_frontier IS NULL"), 3);
	/* Version 6: late rows by row id, in an index of their own per table. */
	assert_int_equal(query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND"
				   " name IN ('statement_rows_late_row', 'ledger_events_late_row')"
				   " AND sql LIKE '%WHERE late = 1'"), 2);
	/* The same txn_id is still a duplicate; new rows continue the row ids. */
	assert_int_equal(store_begin(fx.s), 0);
	r = make_row(&k, 0xa1, 0xc1, "T-1", 1234);
	r.time_us = 5;
	assert_int_equal(store_insert_statement(fx.s, 1, &r, &o, &kept), 0);
	assert_int_equal(o, STORE_DUPLICATE);
	assert_int_equal(kept, 7);
	r = make_row(&k, 0xa1, 0xc1, "T-2", 1234);
	assert_int_equal(store_insert_statement(fx.s, 1, &r, &o, &kept), 0);
	assert_int_equal(o, STORE_INSERTED);
	/* The row without an id is still found by its uid (and time). */
	r = make_row(&k, 0x55, 0xc2, NULL, 10);
	r.order_ref = "ORD-2";
	r.type = "REFUND";
	r.currency = "EUR";
	r.time_us = 6;
	r.channel = "bank";
	r.has_fee = 1;
	r.fee_minor = -3;
	assert_int_equal(store_insert_statement(fx.s, 1, &r, &o, &kept), 0);
	assert_int_equal(o, STORE_DUPLICATE);
	assert_int_equal(kept, 9);
	assert_int_equal(store_file_finish(fx.s, 1, &(struct store_counts){ 0 }), 0);
	assert_int_equal(store_commit(fx.s), 0);
	assert_int_equal(query_int("SELECT row_id FROM statement_rows WHERE txn_id = 'T-2'"), 10);
	assert_int_equal(query_int("SELECT value FROM settings WHERE name = 'next_row_id.statement'"), 11);
}

/* A version 5 database forgets its runs' frontiers, which meant the greatest
 * order_ref, not the lesser of the two tables' (engine/match.c, dirty_sql):
 * its next run looks up every order with new rows.  Its runs' anomalies
 * become spans (version 8): one-run spans, the latest matched run's live. */
static void test_store_migrates_version_5_forgets_frontiers(void **state)
{
	(void)state;
	/* Version 5 as recon made it: the schema and the migrations up to 0005. */
	make_foreign("PRAGMA user_version = 1;");
	make_foreign(sql_recon);
	make_foreign(sql_migration_0002_order_clustered_rows);
	make_foreign(sql_migration_0003_case_spans);
	make_foreign(sql_migration_0004_time_local_uid);
	make_foreign(sql_migration_0005_late_rows);
	make_foreign("INSERT INTO runs (run_id, run_no, as_of_us, grace_us, window_us, status, started_at,"
		     " order_frontier, match_mode) VALUES (1, 1, 10, 0, 0, 'OK', 'now', 'ORD-9', 'full'),"
		     " (2, 2, 11, 0, 0, 'OK', 'now', 'ORD-12', 'incremental'),"
		     " (3, NULL, 12, 0, 0, 'FAILED', 'now', NULL, NULL);"
		     "INSERT INTO run_anomalies VALUES (1, 'a1', 'ORD-1', 'E-1', 'REFUNDED', 'REFUND_BEFORE_PAYMENT',"
		     " 'stripe', 'EUR', 100, 5, 1), (2, 'a1', 'ORD-1', 'E-1', 'REFUNDED', 'REFUND_BEFORE_PAYMENT',"
		     " 'stripe', 'EUR', 100, 5, 1), (2, 'a2', 'ORD-2', NULL, 'PAID', 'PAID_AFTER_CANCEL',"
		     " 'bank', 'USD', -7, 6, 2);");
	assert_int_equal(query_int("PRAGMA user_version"), 5);
	assert_int_equal(query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND"
				   " name IN ('statement_rows_row', 'ledger_events_row')"), 2);
	open_ok();
	assert_int_equal(query_int("PRAGMA user_version"), 10);
	/* Version 9: no index of every row by row id. */
	assert_int_equal(query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND"
				   " name IN ('statement_rows_row', 'ledger_events_row')"), 0);
	assert_int_equal(query_int("SELECT count(*) FROM runs WHERE order_frontier IS NULL"), 3);
	assert_int_equal(query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND"
				   " name IN ('statement_rows_late_row', 'ledger_events_late_row')"), 2);
	assert_int_equal(query_int("SELECT count(*) FROM pragma_table_info('case_first_seen')"
				   " WHERE name = 'order_ref' AND pk = 1"), 1);
	assert_int_equal(query_int("SELECT group_concat(from_run || '-' || to_run || ':' || case_id, ' ')"
				   " = '1-2:a1 2-9223372036854775807:a1 2-9223372036854775807:a2'"
				   " FROM (SELECT * FROM anomaly_spans ORDER BY from_run, case_id)"), 1);
	assert_int_equal(query_int("SELECT group_concat(run_id || ':' || case_id || ':' || order_ref || ':'"
				   " || coalesce(event_id, '-') || ':' || amount_minor || ':' || event_row_id, ' ')"
				   " = '1:a1:ORD-1:E-1:100:1 2:a1:ORD-1:E-1:100:1 2:a2:ORD-2:-:-7:2'"
				   " FROM (SELECT * FROM run_anomalies ORDER BY run_id, case_id)"), 1);
}

static void test_store_refuses_foreign_database(void **state)
{
	char want[512];

	(void)state;
	make_foreign("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);");
	assert_int_equal(store_open(fx.db, &fx.s, fx.err, sizeof(fx.err)), -1);
	assert_null(fx.s);
	snprintf(want, sizeof(want), "%s: not a recon database (application_id 0)", fx.db);
	assert_string_equal(fx.err, want);
	/* Untouched: no recon table was added, the journal mode is still its own. */
	assert_int_equal(query_int("SELECT count(*) FROM sqlite_schema WHERE name = 'files'"), 0);
	assert_int_equal(query_int("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'delete'"), 1);
}

static void test_store_refuses_other_application_id(void **state)
{
	char want[512];

	(void)state;
	make_foreign("PRAGMA application_id = 42; CREATE TABLE t (x);");
	assert_int_equal(store_open(fx.db, &fx.s, fx.err, sizeof(fx.err)), -1);
	snprintf(want, sizeof(want), "%s: not a recon database (application_id 42)", fx.db);
	assert_string_equal(fx.err, want);
}

static void test_store_refuses_newer_schema_version(void **state)
{
	char want[512];

	(void)state;
	make_foreign("PRAGMA application_id = 1919247726; PRAGMA user_version = 99; CREATE TABLE files (x);");
	assert_int_equal(store_open(fx.db, &fx.s, fx.err, sizeof(fx.err)), -1);
	assert_null(fx.s);
	snprintf(want, sizeof(want),
		 "%s: database schema version 99 is newer than this recon understands (10)", fx.db);
	assert_string_equal(fx.err, want);
	assert_int_equal(query_int("PRAGMA user_version"), 99);
}

static void test_store_refuses_file_that_is_not_sqlite(void **state)
{
	FILE *f = NULL;
	char prefix[256];

	(void)state;
	f = fopen(fx.db, "wb");
	assert_non_null(f);
	fputs("txn_id,amount\nT1,1.00\n this is a CSV file, not a database, and it is long enough\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(store_open(fx.db, &fx.s, fx.err, sizeof(fx.err)), -1);
	assert_null(fx.s);
	snprintf(prefix, sizeof(prefix), "%s: ", fx.db);
	assert_memory_equal(fx.err, prefix, strlen(prefix));
	assert_non_null(strstr(fx.err, "not a database"));
}

/* ---- files ----------------------------------------------------------------------------- */

static void test_store_file_insert_and_find(void **state)
{
	unsigned char sha[STORE_KEY_LEN];
	int64_t id, found = -1;
	struct store_counts c = { 10, 7, 1, 1, 1, 0 };

	(void)state;
	open_ok();
	key(sha, 0x01);
	assert_int_equal(store_file_find(fx.s, sha, &found), 0);
	assert_int_equal(found, -1);
	assert_int_equal(store_begin(fx.s), 0);
	id = add_file(0x01);
	assert_int_equal(store_file_find(fx.s, sha, &found), 1);
	assert_int_equal(found, id);
	key(sha, 0x02);
	assert_int_equal(store_file_find(fx.s, sha, &found), 0);
	assert_int_equal(store_file_finish(fx.s, id, &c), 0);
	assert_int_equal(store_commit(fx.s), 0);
	assert_int_equal(query_int("SELECT rows_read * 100000 + rows_inserted * 10000 + rows_duplicate * 1000"
				   " + rows_conflict * 100 + rows_rejected * 10 + rows_skipped FROM files"), 1071110);
	assert_int_equal(query_int("SELECT bytes FROM files"), 123);
	assert_int_equal(query_int("SELECT channel IS NULL FROM files"), 1);
}

static void test_store_same_file_bytes_twice_is_an_error(void **state)
{
	unsigned char sha[STORE_KEY_LEN], psha[STORE_KEY_LEN];
	struct store_file f;
	int64_t id = 0;

	(void)state;
	open_ok();
	add_file(0x01);
	key(sha, 0x01);
	key(psha, 0xee);
	memset(&f, 0, sizeof(f));
	f.sha256 = sha;
	f.path = "again.csv";
	f.kind = "statement";
	f.profile = "psp_v1";
	f.profile_sha256 = psha;
	assert_int_equal(store_file_insert(fx.s, &f, &id), -1);
	assert_non_null(strstr(store_errmsg(fx.s), "UNIQUE"));
	assert_non_null(strstr(store_errmsg(fx.s), "INSERT INTO files"));
}

/* ---- statement rows ------------------------------------------------------------------------ */

static void test_store_statement_insert_duplicate_conflict(void **state)
{
	struct row_keys k1, k2, k3;
	struct store_row r;
	enum store_outcome o;
	int64_t file_id, kept = -1, first_id;

	(void)state;
	open_ok();
	assert_int_equal(store_begin(fx.s), 0);
	file_id = add_file(0x01);
	r = make_row(&k1, 0xa1, 0xc1, "T-1", 1234);
	assert_int_equal(store_insert_statement(fx.s, file_id, &r, &o, &kept), 0);
	assert_int_equal(o, STORE_INSERTED);
	assert_int_equal(store_commit(fx.s), 0);
	first_id = query_int("SELECT row_id FROM statement_rows WHERE txn_id = 'T-1'");

	assert_int_equal(store_begin(fx.s), 0);
	/* Same uid, same content: a duplicate. */
	r = make_row(&k2, 0xa1, 0xc1, "T-1", 1234);
	r.line = 9;
	assert_int_equal(store_insert_statement(fx.s, file_id, &r, &o, &kept), 0);
	assert_int_equal(o, STORE_DUPLICATE);
	/* Same uid, other content: a conflict, the first version kept. */
	r = make_row(&k3, 0xa1, 0xc2, "T-1", 9999);
	kept = -1;
	assert_int_equal(store_insert_statement(fx.s, file_id, &r, &o, &kept), 0);
	assert_int_equal(o, STORE_CONFLICT);
	assert_int_equal(kept, first_id);
	assert_int_equal(store_conflict(fx.s, file_id, 3, "statement", "T-1", kept, "raw,text", 8), 0);
	assert_int_equal(store_commit(fx.s), 0);

	assert_int_equal(query_int("SELECT count(*) FROM statement_rows"), 1);
	assert_int_equal(query_int("SELECT amount_minor FROM statement_rows"), 1234);
	assert_int_equal(query_int("SELECT line FROM statement_rows"), 2);
	assert_int_equal(query_int("SELECT kept_row_id FROM conflicts WHERE ident = 'T-1'"), first_id);
}

static void test_store_statement_without_id_or_fee_stores_null(void **state)
{
	struct row_keys k;
	struct store_row r;
	enum store_outcome o;
	int64_t file_id, kept;

	(void)state;
	open_ok();
	assert_int_equal(store_begin(fx.s), 0);
	file_id = add_file(0x01);
	r = make_row(&k, 0xa1, 0xc1, "", 1);
	assert_int_equal(store_insert_statement(fx.s, file_id, &r, &o, &kept), 0);
	r = make_row(&k, 0xa2, 0xc2, NULL, 2);
	r.has_fee = 1;
	r.fee_minor = -30;
	r.route_key = NULL; /* plain keys: none stored */
	assert_int_equal(store_insert_statement(fx.s, file_id, &r, &o, &kept), 0);
	assert_int_equal(store_commit(fx.s), 0);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows WHERE txn_id IS NULL"), 2);
	assert_int_equal(query_int("SELECT fee_minor IS NULL FROM statement_rows WHERE amount_minor = 1"), 1);
	assert_int_equal(query_int("SELECT fee_minor FROM statement_rows WHERE amount_minor = 2"), -30);
	assert_int_equal(query_int("SELECT route_key IS NULL FROM statement_rows WHERE amount_minor = 2"), 1);
	assert_int_equal(query_int("SELECT length(route_key) FROM statement_rows WHERE amount_minor = 1"), 32);
}

static void test_store_schema_refuses_non_positive_statement_amount(void **state)
{
	struct row_keys k;
	struct store_row r;
	enum store_outcome o;
	int64_t file_id, kept;

	(void)state;
	open_ok();
	file_id = add_file(0x01);
	r = make_row(&k, 0xa1, 0xc1, "T-1", 0);
	assert_int_equal(store_insert_statement(fx.s, file_id, &r, &o, &kept), -1);
	assert_non_null(strstr(store_errmsg(fx.s), "CHECK constraint failed"));
}

static void test_store_event_insert_duplicate_conflict(void **state)
{
	struct row_keys k;
	struct store_row r;
	enum store_outcome o;
	int64_t file_id, kept = -1, first_id;

	(void)state;
	open_ok();
	assert_int_equal(store_begin(fx.s), 0);
	file_id = add_file(0x01);
	r = make_row(&k, 0xb1, 0xd1, "E-1", 0);
	r.type = "CREATED";
	r.route_key = NULL; /* events without a route key */
	assert_int_equal(store_insert_event(fx.s, file_id, &r, &o, &kept), 0);
	assert_int_equal(o, STORE_INSERTED);
	assert_int_equal(store_commit(fx.s), 0);
	first_id = query_int("SELECT event_row_id FROM ledger_events WHERE event_id = 'E-1'");
	assert_int_equal(query_int("SELECT route_key IS NULL FROM ledger_events"), 1);
	assert_int_equal(store_begin(fx.s), 0);
	assert_int_equal(store_insert_event(fx.s, file_id, &r, &o, &kept), 0);
	assert_int_equal(o, STORE_DUPLICATE);
	/* Same event_id, another amount: a conflict, found by comparing fields. */
	r.amount_minor = 5;
	kept = -1;
	assert_int_equal(store_insert_event(fx.s, file_id, &r, &o, &kept), 0);
	assert_int_equal(o, STORE_CONFLICT);
	assert_int_equal(kept, first_id);
	assert_int_equal(store_commit(fx.s), 0);
	assert_int_equal(query_int("SELECT count(*) FROM ledger_events"), 1);
	assert_int_equal(query_int("SELECT length(order_key) FROM ledger_events"), 32);
	/* With plain keys an event stores no order key. */
	assert_int_equal(store_begin(fx.s), 0);
	r = make_row(&k, 0xb2, 0xd2, "E-2", 0);
	r.order_ref = "ORD-2"; /* row ids restart: no file was finished */
	r.type = "CREATED";
	r.route_key = NULL;
	r.order_key = NULL;
	assert_int_equal(store_insert_event(fx.s, file_id, &r, &o, &kept), 0);
	assert_int_equal(o, STORE_INSERTED);
	assert_int_equal(store_commit(fx.s), 0);
	assert_int_equal(query_int("SELECT order_key IS NULL FROM ledger_events WHERE event_id = 'E-2'"), 1);
}

/* Insert ids PREFIX0, PREFIX1, ... (PREFIX a letter) for orders REFS (N of
 * them) as one file of statement rows, or of ledger events if LEDGER, each
 * expected new; row DUP_AT (N for none) is sent twice, the second time a
 * duplicate. */
static int64_t add_file_of_refs(int ledger, unsigned char fill, char prefix,
				const char *const *refs, size_t n, size_t dup_at)
{
	struct row_keys k;
	struct store_row r;
	enum store_outcome o;
	int64_t file_id, kept = -1;
	char id[32];
	size_t i;
	int (*ins)(struct store *, int64_t, const struct store_row *, enum store_outcome *, int64_t *) =
		ledger ? store_insert_event : store_insert_statement;

	assert_int_equal(store_begin(fx.s), 0);
	file_id = add_file(fill);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%c%zu", prefix, i);
		r = make_row(&k, 0xa1, 0xc1, id, 100);
		r.order_ref = refs[i];
		if (ledger)
			r.type = "PAID";
		assert_int_equal(ins(fx.s, file_id, &r, &o, &kept), 0);
		assert_int_equal(o, STORE_INSERTED);
		if (i == dup_at) {
			assert_int_equal(ins(fx.s, file_id, &r, &o, &kept), 0);
			assert_int_equal(o, STORE_DUPLICATE);
		}
	}
	assert_int_equal(store_file_finish(fx.s, file_id, &(struct store_counts){ 0 }), 0);
	assert_int_equal(store_commit(fx.s), 0);
	return file_id;
}

/* The order_ref and segment of each row of TABLE in ingest order (ID its row
 * id column), as "ORD-1:0 ORD-2:1 ...", compared with WANT. */
static void assert_segments(const char *table, const char *id, const char *want)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT group_concat(order_ref || ':' || late, ' ') = '%s'"
		 " FROM (SELECT order_ref, late FROM %s ORDER BY %s)", want, table, id);
	assert_int_equal(query_int(sql), 1);
}

/* A row for an order before the greatest order_ref of the main segment when
 * the file's transaction began goes to the late segment; identities span both
 * segments. */
static void test_store_rows_before_the_frontier_are_late(void **state)
{
	static const char *const first[] = { "ORD-2", "ORD-5" };
	static const char *const second[] = { "ORD-1", "ORD-5", "ORD-9", "ORD-7", "ORD-3" };
	struct row_keys k;
	struct store_row r;
	enum store_outcome o;
	int64_t file_id, kept = -1;
	int ledger;

	(void)state;
	open_ok();
	for (ledger = 0; ledger < 2; ledger++) {
		int (*ins)(struct store *, int64_t, const struct store_row *, enum store_outcome *, int64_t *) =
			ledger ? store_insert_event : store_insert_statement;

		/* An empty table has no frontier: nothing is late.  Then the
		 * frontier is ORD-5 for the whole second file: ORD-7 after ORD-9
		 * is not late, ORD-3 is. */
		add_file_of_refs(ledger, (unsigned char)(0x10 + 2 * ledger), 'A', first, 2, 2);
		file_id = add_file_of_refs(ledger, (unsigned char)(0x11 + 2 * ledger), 'B', second, 5, 5);
		/* A late row's identity is known to the next file, whatever its
		 * segment: the same row is a duplicate, other fields a conflict. */
		assert_int_equal(store_begin(fx.s), 0);
		r = make_row(&k, 0xa1, 0xc1, "B0", 100);
		if (ledger)
			r.type = "PAID";
		assert_int_equal(ins(fx.s, file_id, &r, &o, &kept), 0);
		assert_int_equal(o, STORE_DUPLICATE);
		r.order_ref = "ORD-9";
		assert_int_equal(ins(fx.s, file_id, &r, &o, &kept), 0);
		assert_int_equal(o, STORE_CONFLICT);
		assert_int_equal(store_file_finish(fx.s, file_id, &(struct store_counts){ 0 }), 0);
		assert_int_equal(store_commit(fx.s), 0);
	}
	assert_segments("statement_rows", "row_id", "ORD-2:0 ORD-5:0 ORD-1:1 ORD-5:0 ORD-9:0 ORD-7:0 ORD-3:1");
	assert_segments("ledger_events", "event_row_id", "ORD-2:0 ORD-5:0 ORD-1:1 ORD-5:0 ORD-9:0 ORD-7:0 ORD-3:1");
	/* What an analyst sees per order spans both segments. */
	assert_int_equal(query_int("SELECT group_concat(order_ref || '=' || ledger_events || '/' || charges, ' ')"
				   " = 'ORD-1=1/1 ORD-2=1/1 ORD-3=1/1 ORD-5=2/2 ORD-7=1/1 ORD-9=1/1'"
				   " FROM (SELECT * FROM v_order_status ORDER BY order_ref)"), 1);
}

/* Within a file, the frontier moves on every STORE_LATE_LAG stored rows (here
 * 2) to the greatest order_ref of the main segment one lag before: a row for
 * an order that many rows behind is late too.  A duplicate stores nothing and
 * does not count. */
static void test_store_frontier_moves_with_the_rows_stored(void **state)
{
	static const char *const refs[] = { "ORD-1", "ORD-2", "ORD-3", "ORD-1", "ORD-1", "ORD-2", "ORD-5",
					    "ORD-4", "ORD-2" };

	(void)state;
	open_ok();
	assert_int_equal(STORE_LATE_LAG, 30000);
	store_set_late_lag(fx.s, 2);
	/* Row 4 twice: the duplicate is not stored, not counted. */
	add_file_of_refs(0, 0x30, 'L', refs, sizeof(refs) / sizeof(refs[0]), 4);
	/* After 2 rows the frontier is still unset (the table was empty when the
	 * file began); after 4, ORD-2 (the greatest after 2); after 6, ORD-3. */
	assert_segments("statement_rows", "row_id",
			"ORD-1:0 ORD-2:0 ORD-3:0 ORD-1:0 ORD-1:1 ORD-2:0 ORD-5:0 ORD-4:0 ORD-2:1");
}

/* ---- ordinals ---------------------------------------------------------------------------------- */

static void test_store_ordinals_count_identical_content(void **state)
{
	unsigned char a[STORE_KEY_LEN], b[STORE_KEY_LEN];
	int64_t ord = -1;

	(void)state;
	open_ok();
	key(a, 0x0a);
	key(b, 0x0b);
	assert_int_equal(store_begin(fx.s), 0);
	assert_int_equal(store_ordinal_reset(fx.s), 0);
	assert_int_equal(store_ordinal_next(fx.s, a, &ord), 0);
	assert_int_equal(ord, 0);
	assert_int_equal(store_ordinal_next(fx.s, a, &ord), 0);
	assert_int_equal(ord, 1);
	assert_int_equal(store_ordinal_next(fx.s, b, &ord), 0);
	assert_int_equal(ord, 0);
	assert_int_equal(store_ordinal_next(fx.s, a, &ord), 0);
	assert_int_equal(ord, 2);
	/* A new file starts again at 0. */
	assert_int_equal(store_ordinal_reset(fx.s), 0);
	assert_int_equal(store_ordinal_next(fx.s, a, &ord), 0);
	assert_int_equal(ord, 0);
	assert_int_equal(store_ordinal_next(fx.s, b, &ord), 0);
	assert_int_equal(ord, 0);
	assert_int_equal(store_commit(fx.s), 0);
}

/* ---- settings ----------------------------------------------------------------------------------- */

static void test_store_settings_get_and_set(void **state)
{
	char buf[64];

	(void)state;
	open_ok();
	assert_int_equal(store_setting_get(fx.s, "routekey", buf, sizeof(buf)), 0);
	assert_int_equal(store_setting_set(fx.s, "routekey", "sha256"), 0);
	assert_int_equal(store_setting_get(fx.s, "routekey", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "sha256");
	assert_int_equal(store_setting_set(fx.s, "routekey", "hmac-sha256:0123456789abcdef"), 0);
	assert_int_equal(store_setting_get(fx.s, "routekey", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "hmac-sha256:0123456789abcdef");
	/* Truncated to the buffer, never overrun. */
	assert_int_equal(store_setting_get(fx.s, "routekey", buf, 5), 1);
	assert_string_equal(buf, "hmac");
	assert_int_equal(query_int("SELECT count(*) FROM settings WHERE name = 'routekey'"), 1);
}

/* ---- transactions ---------------------------------------------------------------------------------- */

static void test_store_rollback_discards_a_files_rows(void **state)
{
	unsigned char sha[STORE_KEY_LEN];
	struct row_keys k;
	struct store_row r;
	enum store_outcome o;
	int64_t file_id, found = -1, kept;

	(void)state;
	open_ok();
	assert_int_equal(store_begin(fx.s), 0);
	file_id = add_file(0x05);
	r = make_row(&k, 0xa1, 0xc1, "T-1", 100);
	assert_int_equal(store_insert_statement(fx.s, file_id, &r, &o, &kept), 0);
	assert_int_equal(store_quarantine(fx.s, file_id, 3, "amount", "missing amount", "T-2,,", 5), 0);
	assert_int_equal(store_skip_add(fx.s, file_id, "pending", 2), 0);
	assert_int_equal(store_rollback(fx.s), 0);
	key(sha, 0x05);
	assert_int_equal(store_file_find(fx.s, sha, &found), 0);
	assert_int_equal(query_int("SELECT count(*) FROM files"), 0);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows"), 0);
	assert_int_equal(query_int("SELECT count(*) FROM quarantine"), 0);
	assert_int_equal(query_int("SELECT count(*) FROM file_skips"), 0);
	/* The uid is free again. */
	assert_int_equal(store_begin(fx.s), 0);
	file_id = add_file(0x05);
	assert_int_equal(store_insert_statement(fx.s, file_id, &r, &o, &kept), 0);
	assert_int_equal(o, STORE_INSERTED);
	assert_int_equal(store_commit(fx.s), 0);
}

static void test_store_rollback_without_transaction_is_harmless(void **state)
{
	(void)state;
	open_ok();
	assert_int_equal(store_rollback(fx.s), 0);
	assert_int_equal(store_begin(fx.s), 0);
	assert_int_equal(store_commit(fx.s), 0);
	assert_int_equal(store_rollback(fx.s), 0);
}

static void test_store_quarantine_and_skips_are_kept(void **state)
{
	int64_t file_id;

	(void)state;
	open_ok();
	assert_int_equal(store_begin(fx.s), 0);
	file_id = add_file(0x01);
	assert_int_equal(store_quarantine(fx.s, file_id, 7, NULL, "NUL byte in record", "a\0b", 3), 0);
	assert_int_equal(store_quarantine(fx.s, file_id, 8, "amount", "missing amount", NULL, 0), 0);
	assert_int_equal(store_skip_add(fx.s, file_id, "pending", 2), 0);
	assert_int_equal(store_skip_add(fx.s, file_id, "pending", 3), 0);
	assert_int_equal(store_skip_add(fx.s, file_id, "type Payout", 1), 0);
	assert_int_equal(store_commit(fx.s), 0);
	assert_int_equal(query_int("SELECT length(raw) FROM quarantine WHERE line = 7"), 3);
	assert_int_equal(query_int("SELECT field IS NULL FROM quarantine WHERE line = 7"), 1);
	assert_int_equal(query_int("SELECT length(raw) FROM quarantine WHERE line = 8"), 0);
	assert_int_equal(query_int("SELECT rows FROM file_skips WHERE reason = 'pending'"), 5);
	assert_int_equal(query_int("SELECT count(*) FROM file_skips"), 2);
}

/* Runs first: SQLite is configured for one thread before it initialises, and
 * refuses a second configuration once a database is open. */
static void test_store_library_init_only_before_first_open(void **state)
{
	char err[200] = "";

	(void)state;
	assert_int_equal(store_library_init(err, sizeof(err)), 0);
	assert_string_equal(err, "");
	open_ok();
	assert_int_equal(store_library_init(err, sizeof(err)), -1);
	assert_string_equal(err, "cannot configure SQLite for one thread: bad parameter or other API misuse");
}

/* One integer a pragma reads on the store's own connection. */
static int64_t pragma_int(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(store_handle(s), sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* 16 MiB to read in order; to load a file, the smallest of 16, 32 and
 * 64 MiB at least twice its size, divided between the databases loaded at
 * once.  Negative means KiB. */
static void test_store_cache_sized_per_use(void **state)
{
	struct store *s;

	(void)state;
	s = open_ok();
	assert_int_equal(pragma_int(s, "PRAGMA cache_size"), -16384);
	assert_int_equal(store_cache_load(s, 0, 1), 0);
	assert_int_equal(pragma_int(s, "PRAGMA cache_size"), -16384);
	assert_int_equal(store_cache_load(s, 8 << 20, 1), 0);
	assert_int_equal(pragma_int(s, "PRAGMA cache_size"), -16384);
	assert_int_equal(store_cache_load(s, (8 << 20) + 1, 1), 0);
	assert_int_equal(pragma_int(s, "PRAGMA cache_size"), -32768);
	assert_int_equal(store_cache_load(s, 16 << 20, 1), 0);
	assert_int_equal(pragma_int(s, "PRAGMA cache_size"), -32768);
	assert_int_equal(store_cache_load(s, (16 << 20) + 1, 1), 0);
	assert_int_equal(pragma_int(s, "PRAGMA cache_size"), -65536);
	assert_int_equal(store_cache_load(s, 5000000000LL, 1), 0);
	assert_int_equal(pragma_int(s, "PRAGMA cache_size"), -65536);
	/* Shards loaded at once share it, down to 2 MiB each. */
	assert_int_equal(store_cache_load(s, 5000000000LL, 2), 0);
	assert_int_equal(pragma_int(s, "PRAGMA cache_size"), -32768);
	assert_int_equal(store_cache_load(s, 0, 4), 0);
	assert_int_equal(pragma_int(s, "PRAGMA cache_size"), -4096);
	assert_int_equal(store_cache_load(s, 0, 64), 0);
	assert_int_equal(pragma_int(s, "PRAGMA cache_size"), -2048);
	assert_int_equal(store_cache_scan(s), 0);
	assert_int_equal(pragma_int(s, "PRAGMA cache_size"), -16384);
}

/* A load checks no foreign keys; store_open and reading in order do. */
static void test_store_foreign_keys_off_for_loads_only(void **state)
{
	struct store *s;

	(void)state;
	s = open_ok();
	assert_int_equal(pragma_int(s, "PRAGMA foreign_keys"), 1);
	assert_int_equal(store_cache_load(s, 0, 1), 0);
	assert_int_equal(pragma_int(s, "PRAGMA foreign_keys"), 0);
	assert_int_equal(store_load_done(s), 0);
	assert_int_equal(pragma_int(s, "PRAGMA foreign_keys"), 1);
	assert_int_equal(store_cache_load(s, 0, 1), 0);
	assert_int_equal(store_cache_scan(s), 0);
	assert_int_equal(pragma_int(s, "PRAGMA foreign_keys"), 1);
}

/* How many identity indexes the store's own connection sees on the row tables. */
static int64_t identity_indexes(void)
{
	return pragma_int(fx.s, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN"
				" ('statement_rows_txn', 'statement_rows_uid', 'ledger_events_id', 'ledger_events_uid')");
}

/* The identity indexes are dropped only for a large enough file into an empty
 * table, only that table's, and come back by being built (refused if two rows
 * share an identity), by a rollback, never by a commit. */
static void test_store_identity_indexes_deferred_for_bulk_loads(void **state)
{
	struct row_keys k;
	struct store_row r;
	enum store_outcome o;
	int64_t file_id, kept;

	(void)state;
	open_ok();
	assert_int_equal(identity_indexes(), 4);
	assert_int_equal(store_begin(fx.s), 0);
	/* Below STORE_DEFER_MIN: kept. */
	assert_int_equal(store_identity_defer(fx.s, 0, STORE_DEFER_MIN - 1), 0);
	assert_int_equal(identity_indexes(), 4);
	assert_int_equal(store_identity_defer(fx.s, 0, STORE_DEFER_MIN), 1);
	assert_int_equal(identity_indexes(), 2);
	assert_int_equal(pragma_int(fx.s, "SELECT count(*) FROM sqlite_schema WHERE name = 'ledger_events_id'"), 1);
	file_id = add_file(0x01);
	r = make_row(&k, 0xa1, 0xc1, "T-1", 100);
	assert_int_equal(store_insert_statement(fx.s, file_id, &r, &o, &kept), 0);
	assert_int_equal(o, STORE_INSERTED);
	assert_int_equal(store_commit(fx.s), -1);
	assert_non_null(strstr(store_errmsg(fx.s), "commit before the identity indexes are built"));
	assert_int_equal(store_identity_build(fx.s), 0);
	assert_int_equal(identity_indexes(), 4);
	assert_int_equal(store_identity_build(fx.s), 0); /* nothing left to build */
	assert_int_equal(store_commit(fx.s), 0);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows"), 1);
	/* The statement table has a row now; the ledger has none. */
	assert_int_equal(store_begin(fx.s), 0);
	assert_int_equal(store_identity_defer(fx.s, 0, STORE_DEFER_MIN), 0);
	assert_int_equal(store_identity_defer(fx.s, 1, STORE_DEFER_MIN), 1);
	assert_int_equal(identity_indexes(), 2);
	assert_int_equal(store_rollback(fx.s), 0);
	assert_int_equal(identity_indexes(), 4);
	assert_int_equal(store_begin(fx.s), 0);
	assert_int_equal(store_commit(fx.s), 0);
	/* Two rows with one id: the index cannot be built. */
	store_set_defer_min(fx.s, 0);
	assert_int_equal(store_begin(fx.s), 0);
	assert_int_equal(store_identity_defer(fx.s, 1, 10), 1);
	file_id = add_file(0x02);
	r = make_row(&k, 0xa2, 0xc2, "E-1", 100);
	r.type = "PAID";
	assert_int_equal(store_insert_event(fx.s, file_id, &r, &o, &kept), 0);
	r.line = 3;
	r.amount_minor = 200;
	assert_int_equal(store_insert_event(fx.s, file_id, &r, &o, &kept), 0);
	assert_int_equal(o, STORE_INSERTED);
	assert_int_equal(store_identity_build(fx.s), 1);
	assert_string_equal(store_errmsg(fx.s), "two rows of the file share an identity");
	assert_int_equal(store_rollback(fx.s), 0);
	assert_int_equal(identity_indexes(), 4);
	assert_int_equal(query_int("SELECT count(*) FROM ledger_events"), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_store_library_init_only_before_first_open),
		T(test_store_new_database_has_version_and_application_id),
		T(test_store_cache_sized_per_use),
		T(test_store_foreign_keys_off_for_loads_only),
		T(test_store_identity_indexes_deferred_for_bulk_loads),
		T(test_store_reopen_keeps_data),
		T(test_store_refuses_foreign_database),
		T(test_store_refuses_other_application_id),
		T(test_store_refuses_newer_schema_version),
		T(test_store_refuses_file_that_is_not_sqlite),
		T(test_store_file_insert_and_find),
		T(test_store_same_file_bytes_twice_is_an_error),
		T(test_store_statement_insert_duplicate_conflict),
		T(test_store_statement_without_id_or_fee_stores_null),
		T(test_store_schema_refuses_non_positive_statement_amount),
		T(test_store_event_insert_duplicate_conflict),
		T(test_store_rows_before_the_frontier_are_late),
		T(test_store_frontier_moves_with_the_rows_stored),
		T(test_store_ordinals_count_identical_content),
		T(test_store_migrates_version_1),
		T(test_store_migrates_version_5_forgets_frontiers),
		T(test_store_settings_get_and_set),
		T(test_store_rollback_discards_a_files_rows),
		T(test_store_rollback_without_transaction_is_harmless),
		T(test_store_quarantine_and_skips_are_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
