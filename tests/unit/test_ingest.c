/*
 * test_ingest.c - pins engine/ingest.h end to end: a file on disk through the
 * reader, the normaliser and the keys into a temporary database.
 *
 * Each test works in its own mkdtemp directory (inputs, profiles, database) with
 * the shipped psp_v1 / ledger_v1 profiles or a small one written there.  What a
 * refused file leaves behind is checked in the database itself, with a second
 * SQLite connection; what the user is told is checked on stderr.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "ingest.h"
#include "log.h"
#include "profile.h"
#include "routekey.h"
#include "store.h"

#define MAX_PATHS 16

static struct {
	char dir[64];
	char db[128];
	char *paths[MAX_PATHS];  /* files made in dir, removed at teardown */
	size_t npaths;
	struct store *s;
	struct routekey *rk;
	struct profile *p;
	struct ingest_result res;
	char *captured;          /* stderr of the last ingest */
	char *scratch[2];        /* generated inputs, freed at teardown */
	char err[1024];
} fx;

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/test_ingest_XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	snprintf(fx.db, sizeof(fx.db), "%s/recon.db", fx.dir);
	if (store_open(fx.db, &fx.s, fx.err, sizeof(fx.err)) != 0)
		return -1;
	fx.rk = routekey_new(NULL, 0);
	log_set_level(LOG_WARN);
	return fx.rk ? 0 : -1;
}

static int teardown(void **state)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char path[160];
	size_t i;

	(void)state;
	store_close(fx.s);
	routekey_free(fx.rk);
	profile_free(fx.p);
	free(fx.captured);
	free(fx.scratch[0]);
	free(fx.scratch[1]);
	for (i = 0; i < fx.npaths; i++) {
		unlink(fx.paths[i]);
		free(fx.paths[i]);
	}
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", fx.db, suffixes[i]);
		unlink(path);
	}
	rmdir(fx.dir);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

/* DIR/NAME holding LEN bytes of DATA. */
static const char *put_file(const char *name, const char *data, size_t len)
{
	size_t size = strlen(fx.dir) + strlen(name) + 2;
	char *path = malloc(size);
	FILE *f;

	assert_non_null(path);
	assert_true(fx.npaths < MAX_PATHS);
	snprintf(path, size, "%s/%s", fx.dir, name);
	fx.paths[fx.npaths++] = path;
	f = fopen(path, "wb");
	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static const char *put_text(const char *name, const char *text)
{
	return put_file(name, text, strlen(text));
}

static void use_shipped(const char *name)
{
	char path[4096];
	const char *file = __FILE__;
	const char *slash = strrchr(file, '/');
	FILE *f;

	snprintf(path, sizeof(path), "%.*s/../../schemas/profiles/%s.ini",
		 slash ? (int)(slash - file) : 1, slash ? file : ".", name);
	f = fopen(path, "rb");
	if (f)
		fclose(f);
	else
		snprintf(path, sizeof(path), "%s/%s.ini", RECON_PROFILE_DIR, name);
	profile_free(fx.p);
	fx.p = profile_load(path, fx.err, sizeof(fx.err));
	if (fx.p == NULL)
		fail_msg("%s refused: %s", path, fx.err);
}

static void use_profile_text(const char *text)
{
	const char *path = put_text("profile.ini", text);

	profile_free(fx.p);
	fx.p = profile_load(path, fx.err, sizeof(fx.err));
	if (fx.p == NULL)
		fail_msg("profile refused: %s", fx.err);
}

/* Ingest PATH with the current profile; stderr is kept in fx.captured. */
static int ingest(const char *path)
{
	struct ingest_options o = { NULL, -1, 0, 0 };
	char cap[160];
	int saved, fd, status;
	FILE *f;
	long size;

	snprintf(cap, sizeof(cap), "%s/stderr.txt", fx.dir);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
	status = ingest_file(fx.s, fx.p, fx.rk, path, &o, &fx.res);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);

	free(fx.captured);
	f = fopen(cap, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	fx.captured = calloc(1, (size_t)size + 1);
	assert_non_null(fx.captured);
	if (size > 0)
		assert_int_equal(fread(fx.captured, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	unlink(cap);
	return status;
}

static void told(const char *text)
{
	if (strstr(fx.captured, text) == NULL)
		fail_msg("stderr does not say \"%s\"; it says:\n%s", text, fx.captured);
}

/* The first row of SQL, on a connection of its own (read-only): *DB and the
 * stepped statement, both for query_done. */
static sqlite3_stmt *query_row(const char *sql, sqlite3 **db)
{
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_open_v2(fx.db, db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(*db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(*db));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	return st;
}

static void query_done(sqlite3 *db, sqlite3_stmt *st)
{
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static int64_t query_int(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = query_row(sql, &db);
	int64_t v = sqlite3_column_int64(st, 0);

	query_done(db, st);
	return v;
}

/* The first column of the first row of SQL, as text, into BUF. */
static void query_text(const char *sql, char *buf, size_t size)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = query_row(sql, &db);
	const unsigned char *t = sqlite3_column_text(st, 0);

	snprintf(buf, size, "%s", t ? (const char *)t : "");
	query_done(db, st);
}


/* How often TEXT is on stderr. */
static int told_times(const char *text)
{
	const char *p = fx.captured;
	int n = 0;

	while ((p = strstr(p, text)) != NULL) {
		n++;
		p += strlen(text);
	}
	return n;
}

/* Whether the store's own connection checks foreign keys: a load turns them
 * off for its transaction only. */
static int foreign_keys_on(void)
{
	sqlite3_stmt *st = NULL;
	int v;

	assert_int_equal(sqlite3_prepare_v2(store_handle(fx.s), "PRAGMA foreign_keys", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void expect_counts(int64_t read, int64_t inserted, int64_t duplicate, int64_t conflict,
			  int64_t rejected, int64_t skipped)
{
	const struct store_counts *c = &fx.res.counts;

	assert_int_equal(c->read, read);
	assert_int_equal(c->inserted, inserted);
	assert_int_equal(c->duplicate, duplicate);
	assert_int_equal(c->conflict, conflict);
	assert_int_equal(c->rejected, rejected);
	assert_int_equal(c->skipped, skipped);
}

/* Nothing at all in the database: no file, row, event, quarantine, conflict or skip. */
static void expect_empty_database(void)
{
	assert_int_equal(query_int("SELECT (SELECT count(*) FROM files) + (SELECT count(*) FROM statement_rows)"
				   " + (SELECT count(*) FROM ledger_events) + (SELECT count(*) FROM quarantine)"
				   " + (SELECT count(*) FROM conflicts) + (SELECT count(*) FROM file_skips)"), 0);
}

#define PSP_HEADER "txn_id,booked_at,type,merchant_order_id,amount,currency,channel,fee\n"

/* A psp_v1 file of N rows; rows whose 0-based index is listed in BAD have amount "abc". */
static char *psp_rows(size_t n, const size_t *bad, size_t nbad, const char *txn_prefix)
{
	size_t size = 64 + n * 96, pos, i, j;
	char *text = malloc(size);

	assert_non_null(text);
	if (fx.scratch[0] == NULL)
		fx.scratch[0] = text;
	else {
		assert_null(fx.scratch[1]);
		fx.scratch[1] = text;
	}
	pos = (size_t)snprintf(text, size, PSP_HEADER);
	for (i = 0; i < n; i++) {
		const char *amount = "12.34";
		for (j = 0; j < nbad; j++)
			if (bad[j] == i)
				amount = "abc";
		pos += (size_t)snprintf(text + pos, size - pos,
					"%s%04zu,2026-11-20T10:%02zu:%02zuZ,%s,ORD-%04zu,%s,USD,stripe,0.30\n",
					txn_prefix, i, (i / 60) % 60, i % 60, i % 7 ? "CHARGE" : "REFUND", i, amount);
	}
	return text;
}

/* ---- clean files and re-ingest ------------------------------------------------------------ */

static void test_ingest_clean_file(void **state)
{
	(void)state;
	use_shipped("psp_v1");
	assert_int_equal(ingest(put_text("a.csv", PSP_HEADER
					 "T1,2026-11-20T10:15:09Z,CHARGE,ORD-1,12.34,USD,stripe,0.30\n"
					 "T2,2026-11-20T10:16:00Z,REFUND,ORD-1,2.00,usd,stripe,\n"
					 "T3,2026-11-20T18:15:09+08:00,CHARGE,ORD-2,1000,JPY,paypay,0\n")), 0);
	expect_counts(3, 3, 0, 0, 0, 0);
	assert_false(fx.res.already);
	assert_true(fx.res.file_id > 0);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows"), 3);
	assert_int_equal(query_int("SELECT rows_read * 10 + rows_inserted FROM files"), 33);
	assert_int_equal(query_int("SELECT amount_minor FROM statement_rows WHERE txn_id = 'T3'"), 1000);
	assert_int_equal(query_int("SELECT booked_at_us FROM statement_rows WHERE txn_id = 'T3'"),
			 INT64_C(1795169709000000));
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows WHERE currency = 'USD'"), 2);
	assert_int_equal(query_int("SELECT fee_minor IS NULL FROM statement_rows WHERE txn_id = 'T2'"), 1);
	/* Plain keys: none stored (made again from the row when needed). */
	assert_int_equal(query_int("SELECT count(route_key) FROM statement_rows"), 0);
	assert_int_equal(foreign_keys_on(), 1);
}

static void test_ingest_same_bytes_again_is_a_no_op(void **state)
{
	const char *text = PSP_HEADER "T1,2026-11-20T10:15:09Z,CHARGE,ORD-1,12.34,USD,stripe,0.30\n";
	const char *a, *b;
	int64_t first;

	(void)state;
	use_shipped("psp_v1");
	a = put_text("a.csv", text);
	b = put_text("copy-of-a.csv", text);
	assert_int_equal(ingest(a), 0);
	first = fx.res.file_id;
	assert_int_equal(ingest(a), 0);
	assert_true(fx.res.already);
	assert_int_equal(fx.res.file_id, first);
	expect_counts(0, 0, 0, 0, 0, 0);
	/* The same bytes under another name are the same file. */
	assert_int_equal(ingest(b), 0);
	assert_true(fx.res.already);
	assert_int_equal(fx.res.file_id, first);
	assert_int_equal(query_int("SELECT count(*) FROM files"), 1);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows"), 1);
}

static void test_ingest_header_only_file_is_valid_and_empty(void **state)
{
	(void)state;
	use_shipped("psp_v1");
	assert_int_equal(ingest(put_text("a.csv", PSP_HEADER)), 0);
	expect_counts(0, 0, 0, 0, 0, 0);
	assert_int_equal(query_int("SELECT count(*) FROM files"), 1);
}

static void test_ingest_overlapping_file_dedupes_by_txn_id_and_keeps_first_on_conflict(void **state)
{
	(void)state;
	use_shipped("psp_v1");
	assert_int_equal(ingest(put_text("a.csv", PSP_HEADER
					 "T1,2026-11-20T10:15:09Z,CHARGE,ORD-1,12.34,USD,stripe,0.30\n"
					 "T2,2026-11-20T10:16:00Z,CHARGE,ORD-2,5.00,USD,stripe,\n")), 0);
	assert_int_equal(ingest(put_text("b.csv", PSP_HEADER
					 "T2,2026-11-20T10:16:00Z,CHARGE,ORD-2,5.00,USD,stripe,\n"
					 "T1,2026-11-20T10:15:09Z,CHARGE,ORD-1,99.99,USD,stripe,0.30\n"
					 "T3,2026-11-20T10:17:00Z,CHARGE,ORD-3,1.00,USD,stripe,\n")), 0);
	expect_counts(3, 1, 1, 1, 0, 0);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows"), 3);
	assert_int_equal(query_int("SELECT amount_minor FROM statement_rows WHERE txn_id = 'T1'"), 1234);
	assert_int_equal(query_int("SELECT count(*) FROM conflicts WHERE ident = 'T1' AND line = 3"), 1);
	assert_int_equal(query_int("SELECT kept_row_id = (SELECT row_id FROM statement_rows WHERE txn_id = 'T1')"
				   " FROM conflicts"), 1);
	told("id seen again with different content; first version kept");
}

/* After a row that is not new, the next row's identity is looked up before
 * any insert (engine/store.c): runs of duplicates, a new row among them, a
 * repeat of a line of the same file and a conflict are all still told apart,
 * and new rows still get consecutive row ids. */
static void test_ingest_runs_of_duplicates_then_new_rows(void **state)
{
	(void)state;
	use_shipped("psp_v1");
	assert_int_equal(ingest(put_text("a.csv", PSP_HEADER
					 "T1,2026-11-20T10:15:09Z,CHARGE,ORD-1,12.34,USD,stripe,0.30\n"
					 "T2,2026-11-20T10:16:00Z,CHARGE,ORD-2,5.00,USD,stripe,\n"
					 "T3,2026-11-20T10:17:00Z,CHARGE,ORD-3,7.00,USD,stripe,\n")), 0);
	assert_int_equal(ingest(put_text("b.csv", PSP_HEADER
					 "T1,2026-11-20T10:15:09Z,CHARGE,ORD-1,12.34,USD,stripe,0.30\n"
					 "T2,2026-11-20T10:16:00Z,CHARGE,ORD-2,5.00,USD,stripe,\n"
					 "T4,2026-11-20T10:18:00Z,CHARGE,ORD-4,8.00,USD,stripe,\n"
					 "T4,2026-11-20T10:18:00Z,CHARGE,ORD-4,8.00,USD,stripe,\n"
					 "T3,2026-11-20T10:17:00Z,CHARGE,ORD-3,7.01,USD,stripe,\n"
					 "T5,2026-11-20T10:19:00Z,CHARGE,ORD-5,9.00,USD,stripe,\n")), 0);
	expect_counts(6, 2, 3, 1, 0, 0);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows"), 5);
	assert_int_equal(query_int("SELECT row_id FROM statement_rows WHERE txn_id = 'T4'"), 4);
	assert_int_equal(query_int("SELECT row_id FROM statement_rows WHERE txn_id = 'T5'"), 5);
	assert_int_equal(query_int("SELECT line FROM statement_rows WHERE txn_id = 'T4'"), 4);
	assert_int_equal(query_int("SELECT amount_minor FROM statement_rows WHERE txn_id = 'T3'"), 700);
	assert_int_equal(query_int("SELECT count(*) FROM conflicts"), 1);
	assert_int_equal(query_int("SELECT line * 10 + kept_row_id FROM conflicts WHERE ident = 'T3'"), 63);
}

/* ---- bulk loads: identity indexes built after the rows ------------------------------------ */

/* Every index of the row tables, by name, with its SQL. */
#define ROW_INDEXES "SELECT group_concat(name || ': ' || sql, char(10)) FROM (SELECT name, sql" \
		    " FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ('statement_rows', 'ledger_events')" \
		    " ORDER BY name)"

/* A first file into an empty table stores its rows, then builds its identity
 * indexes (store_identity_defer): the same rows, ids and indexes as row by
 * row, and later files are told duplicates and conflicts by those indexes. */
static void test_ingest_bulk_load_builds_identity_indexes_after_rows(void **state)
{
	char before[2048], after[2048];

	(void)state;
	store_set_defer_min(fx.s, 0);
	log_set_level(LOG_INFO);
	query_text(ROW_INDEXES, before, sizeof(before));
	assert_non_null(strstr(before, "ledger_events_id: CREATE UNIQUE INDEX"));
	use_shipped("psp_v1");
	assert_int_equal(ingest(put_text("a.csv", PSP_HEADER
					 "T1,2026-11-20T10:15:09Z,CHARGE,ORD-1,12.34,USD,stripe,0.30\n"
					 "T2,2026-11-20T10:16:00Z,CHARGE,ORD-2,5.00,USD,stripe,\n"
					 "T3,2026-11-20T10:17:00Z,CHARGE,ORD-3,7.00,USD,stripe,\n")), 0);
	expect_counts(3, 3, 0, 0, 0, 0);
	assert_int_equal(told_times("loading it again"), 0);
	query_text(ROW_INDEXES, after, sizeof(after));
	assert_string_equal(after, before);
	assert_int_equal(query_int("SELECT group_concat(row_id || txn_id, ',') = '1T1,2T2,3T3' FROM"
				   " (SELECT row_id, txn_id FROM statement_rows ORDER BY row_id)"), 1);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows WHERE row_id = line - 1"), 3);
	assert_int_equal(foreign_keys_on(), 1);
	/* The table has rows now: the next file checks each row as it comes. */
	assert_int_equal(ingest(put_text("b.csv", PSP_HEADER
					 "T2,2026-11-20T10:16:00Z,CHARGE,ORD-2,5.00,USD,stripe,\n"
					 "T3,2026-11-20T10:17:00Z,CHARGE,ORD-3,7.01,USD,stripe,\n"
					 "T4,2026-11-20T10:18:00Z,CHARGE,ORD-4,8.00,USD,stripe,\n")), 0);
	expect_counts(3, 1, 1, 1, 0, 0);
	assert_int_equal(query_int("SELECT row_id FROM statement_rows WHERE txn_id = 'T4'"), 4);
	assert_int_equal(query_int("SELECT kept_row_id * 10 + line FROM conflicts WHERE ident = 'T3'"), 33);
	/* The ledger table was empty still: its first file is a bulk load too. */
	use_shipped("ledger_v1");
	assert_int_equal(ingest(put_text("ledger.csv", "event_id,order_id,event,amount,currency,channel,event_time\n"
					 "E1,ORD-1,CREATED,12.34,USD,stripe,2026-11-20T10:00:00Z\n"
					 "E2,ORD-1,PAID,12.34,USD,stripe,2026-11-20T10:15:09Z\n")), 0);
	expect_counts(2, 2, 0, 0, 0, 0);
	query_text(ROW_INDEXES, after, sizeof(after));
	assert_string_equal(after, before);
}

/* Ids that repeat within a bulk load's file are found when its identity
 * index is built: the file is rolled back and loaded again row by row, so
 * the duplicate and the conflict are told apart, counted and logged once,
 * and the rows keep consecutive ids. */
static void test_ingest_bulk_load_with_repeated_ids_loads_again(void **state)
{
	(void)state;
	store_set_defer_min(fx.s, 0);
	log_set_level(LOG_INFO);
	use_shipped("psp_v1");
	assert_int_equal(ingest(put_text("a.csv", PSP_HEADER
					 "T1,2026-11-20T10:15:09Z,CHARGE,ORD-1,12.34,USD,stripe,0.30\n"
					 "T2,2026-11-20T10:16:00Z,CHARGE,ORD-2,5.00,USD,stripe,\n"
					 "T1,2026-11-20T10:15:09Z,CHARGE,ORD-1,12.34,USD,stripe,0.30\n"
					 "T2,2026-11-20T10:16:00Z,CHARGE,ORD-2,9.99,USD,stripe,\n"
					 "T3,2026-11-20T10:17:00Z,CHARGE,ORD-3,7.00,USD,stripe,\n")), 0);
	expect_counts(5, 3, 1, 1, 0, 0);
	assert_int_equal(told_times("an id repeats within the file; loading it again row by row"), 1);
	assert_int_equal(told_times("id seen again with different content"), 1);
	assert_int_equal(told_times("file ingested"), 1);
	assert_int_equal(query_int("SELECT count(*) FROM files"), 1);
	assert_int_equal(query_int("SELECT rows_read * 1000 + rows_inserted * 100 + rows_duplicate * 10"
				   " + rows_conflict FROM files"), 5311);
	assert_int_equal(query_int("SELECT group_concat(row_id, '') FROM (SELECT row_id FROM statement_rows"
				   " ORDER BY row_id)"), 123);
	assert_int_equal(query_int("SELECT row_id * 10 + line FROM statement_rows WHERE txn_id = 'T3'"), 36);
	assert_int_equal(query_int("SELECT amount_minor FROM statement_rows WHERE txn_id = 'T2'"), 500);
	assert_int_equal(query_int("SELECT line * 10 + kept_row_id FROM conflicts WHERE ident = 'T2'"), 52);
	assert_int_equal(foreign_keys_on(), 1);
	/* The same for the ledger, and rows without an id: identical ones stay
	 * two (their ordinals differ), so they need no second load. */
	use_shipped("ledger_v1");
	assert_int_equal(ingest(put_text("ledger.csv", "event_id,order_id,event,amount,currency,channel,event_time\n"
					 "E1,ORD-1,CREATED,12.34,USD,stripe,2026-11-20T10:00:00Z\n"
					 "E1,ORD-1,CREATED,12.34,USD,stripe,2026-11-20T10:00:00Z\n"
					 "E2,ORD-1,PAID,12.34,USD,stripe,2026-11-20T10:15:09Z\n")), 0);
	expect_counts(3, 2, 1, 0, 0, 0);
	assert_int_equal(told_times("loading it again row by row"), 1);
	assert_int_equal(query_int("SELECT group_concat(event_row_id || event_id, ',') = '1E1,2E2' FROM"
				   " (SELECT event_row_id, event_id FROM ledger_events ORDER BY event_row_id)"), 1);
}

/* A file below the bulk size, or into a table with rows, is loaded row by
 * row from the start: its repeats never cost a second load. */
static void test_ingest_small_file_is_not_a_bulk_load(void **state)
{
	(void)state;
	log_set_level(LOG_INFO);
	use_shipped("psp_v1");
	assert_int_equal(ingest(put_text("a.csv", PSP_HEADER
					 "T1,2026-11-20T10:15:09Z,CHARGE,ORD-1,12.34,USD,stripe,0.30\n"
					 "T1,2026-11-20T10:15:09Z,CHARGE,ORD-1,12.34,USD,stripe,0.30\n")), 0);
	expect_counts(2, 1, 1, 0, 0, 0);
	assert_int_equal(told_times("loading it again"), 0);
	store_set_defer_min(fx.s, 0);
	assert_int_equal(ingest(put_text("b.csv", PSP_HEADER
					 "T2,2026-11-20T10:16:00Z,CHARGE,ORD-2,5.00,USD,stripe,\n"
					 "T2,2026-11-20T10:16:00Z,CHARGE,ORD-2,5.00,USD,stripe,\n")), 0);
	expect_counts(2, 1, 1, 0, 0, 0);
	assert_int_equal(told_times("loading it again"), 0);
}

/* A database error while storing a row names the file and the row's line,
 * and leaves nothing of the file.  A trigger stands in for a full disk. */
static void test_ingest_database_error_names_the_line(void **state)
{
	sqlite3 *db = NULL;
	const char *path;

	(void)state;
	assert_int_equal(sqlite3_open(fx.db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TRIGGER refuse BEFORE INSERT ON statement_rows"
				      " WHEN NEW.txn_id = 'T2' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	use_shipped("psp_v1");
	path = put_text("a.csv", PSP_HEADER
			"T1,2026-11-20T10:15:09Z,CHARGE,ORD-1,12.34,USD,stripe,0.30\n"
			"T2,2026-11-20T10:16:00Z,CHARGE,ORD-2,5.00,USD,stripe,\n");
	assert_int_equal(ingest(path), EX_SOFTWARE);
	told("msg=\"database error\"");
	told(path);
	told("line=3 error=\"refused by the test");
	expect_empty_database();
	assert_int_equal(foreign_keys_on(), 1);
}

/* ---- rejects and the refusal share -------------------------------------------------------------- */

static void test_ingest_one_bad_row_in_200_is_quarantined(void **state)
{
	static const size_t bad[] = { 57 };
	char *text;

	(void)state;
	use_shipped("psp_v1");
	text = psp_rows(200, bad, 1, "T");
	assert_int_equal(ingest(put_text("a.csv", text)), 0);
	expect_counts(200, 199, 0, 0, 1, 0);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows"), 199);
	assert_int_equal(query_int("SELECT line FROM quarantine"), 59);
	assert_int_equal(query_int("SELECT field = 'amount' AND reason = 'amount is not a decimal number'"
				   " AND CAST(raw AS TEXT) LIKE 'T0057,%,abc,USD,stripe,0.30' FROM quarantine"), 1);
	assert_int_equal(query_int("SELECT rows_rejected FROM files"), 1);
}

static void test_ingest_two_bad_rows_in_200_is_exactly_the_share(void **state)
{
	static const size_t bad[] = { 3, 150 };
	char *text;

	(void)state;
	use_shipped("psp_v1");
	text = psp_rows(200, bad, 2, "T");
	assert_int_equal(ingest(put_text("a.csv", text)), 0);
	expect_counts(200, 198, 0, 0, 2, 0);
}

static void test_ingest_three_bad_rows_in_200_refuses_file(void **state)
{
	static const size_t bad[] = { 9, 10, 120 };
	const char *path;
	char *text;

	(void)state;
	use_shipped("psp_v1");
	text = psp_rows(200, bad, 3, "T");
	path = put_text("bad.csv", text);
	assert_int_equal(ingest(path), EX_DATAERR);
	assert_int_equal(EX_DATAERR, 65);
	expect_empty_database();
	told("file refused: too many rejected rows");
	told(path);
	told("line 11 field amount: amount is not a decimal number");
	told("line 12 field amount");
	told("line 122 field amount");
	assert_int_equal(foreign_keys_on(), 1);
	/* Refused bytes are not remembered: a second try is refused again, not "already". */
	assert_int_equal(ingest(path), EX_DATAERR);
	assert_false(fx.res.already);
	expect_empty_database();
}

static void test_ingest_refused_file_leaves_earlier_files_alone(void **state)
{
	static const size_t bad[] = { 1, 2, 3 };
	char *text;

	(void)state;
	use_shipped("psp_v1");
	assert_int_equal(ingest(put_text("good.csv", PSP_HEADER
					 "G1,2026-11-20T10:15:09Z,CHARGE,ORD-1,12.34,USD,stripe,0.30\n")), 0);
	text = psp_rows(100, bad, 3, "B");
	assert_int_equal(ingest(put_text("bad.csv", text)), EX_DATAERR);
	assert_int_equal(query_int("SELECT count(*) FROM files"), 1);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows"), 1);
	assert_int_equal(query_int("SELECT count(*) FROM quarantine"), 0);
}

/*
 * An unquoted value with a stray quote (a 27" monitor in a description) rejects
 * that row only: the rows after it are read, none is lost without a trace.
 */
static void test_ingest_stray_quote_rejects_one_row_only(void **state)
{
	char *text, *at;

	(void)state;
	use_shipped("psp_v1");
	text = psp_rows(200, NULL, 0, "T");
	at = strstr(text, "ORD-0005,");
	assert_non_null(at);
	memcpy(at, "ORD\"0005", 8);
	assert_int_equal(ingest(put_text("a.csv", text)), 0);
	expect_counts(200, 199, 0, 0, 1, 0);
	assert_int_equal(query_int("SELECT line FROM quarantine"), 7);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows"), 199);
}

static void test_ingest_conflicts_do_not_count_toward_the_share(void **state)
{
	char *first, *second;
	size_t i;

	(void)state;
	use_shipped("psp_v1");
	first = psp_rows(200, NULL, 0, "T");
	assert_int_equal(ingest(put_text("a.csv", first)), 0);
	/* The same ids again, five with another amount: conflicts, not rejects. */
	second = psp_rows(200, NULL, 0, "T");
	for (i = 0; i < 5; i++) {
		char needle[32], *at;
		snprintf(needle, sizeof(needle), "ORD-%04zu,12.34", i * 10);
		at = strstr(second, needle);
		assert_non_null(at);
		memcpy(at + 9, "43.21", 5);
	}
	assert_int_equal(ingest(put_text("b.csv", second)), 0);
	expect_counts(200, 0, 195, 5, 0, 0);
}

/* ---- structural errors -------------------------------------------------------------------------- */

static void test_ingest_unterminated_quote_leaves_nothing(void **state)
{
	const char *path;

	(void)state;
	use_shipped("psp_v1");
	path = put_text("a.csv", PSP_HEADER
			"T1,2026-11-20T10:15:09Z,CHARGE,ORD-1,12.34,USD,stripe,0.30\n"
			"T2,2026-11-20T10:16:00Z,CHARGE,\"ORD-2,5.00,USD,stripe,\n"
			"T3,2026-11-20T10:17:00Z,CHARGE,ORD-3,5.00,USD,stripe,\n");
	assert_int_equal(ingest(path), EX_DATAERR);
	expect_empty_database();
	told("file refused");
	told(path);
	told("line=3");
	told("unterminated quoted field at end of file (record starts on line 3)");
}

static void test_ingest_missing_column_leaves_nothing(void **state)
{
	(void)state;
	use_shipped("psp_v1");
	assert_int_equal(ingest(put_text("a.csv", "txn_id,booked_at,type,amount,currency,channel,fee\n"
					 "T1,2026-11-20T10:15:09Z,CHARGE,12.34,USD,stripe,0.30\n")), EX_DATAERR);
	expect_empty_database();
	told("required column 'merchant_order_id' (profile psp_v1) is missing from the header");
}

static void test_ingest_undecodable_text_leaves_nothing(void **state)
{
	(void)state;
	use_shipped("psp_v1");
	assert_int_equal(ingest(put_text("a.csv", PSP_HEADER
					 "T1,2026-11-20T10:15:09Z,CHARGE,ORD-1,12.34,USD,stripe,0.30\n"
					 "T2,2026-11-20T10:16:00Z,CHARGE,ORD-\xe4,5.00,USD,stripe,\n")), EX_DATAERR);
	expect_empty_database();
	told("line=3");
	told("column=36");
}

static void test_ingest_empty_file_is_refused(void **state)
{
	(void)state;
	use_shipped("psp_v1");
	assert_int_equal(ingest(put_file("empty.csv", "", 0)), EX_DATAERR);
	expect_empty_database();
	told("empty file (0 bytes)");
}

static void test_ingest_missing_file_is_no_input(void **state)
{
	char path[160];

	(void)state;
	use_shipped("psp_v1");
	snprintf(path, sizeof(path), "%s/none.csv", fx.dir);
	assert_int_equal(ingest(path), EX_NOINPUT);
	expect_empty_database();
}

/* ---- files without ids --------------------------------------------------------------------------- */

#define IDLESS_PROFILE "[file]\nkind = statement\n[order_ref]\ncolumn = ref\n" \
	"[type]\ncolumn = type\nmap.CHARGE = CHARGE\nmap.REFUND = REFUND\nmap.MEMO = skip\n" \
	"[amount]\ncolumn = amount\n[currency]\ncolumn = currency\n[channel]\nvalue = bank\n" \
	"[booked_at]\ncolumn = date\nformat = %Y-%m-%d\ntimezone = UTC\n"
#define IDLESS_HEADER "date,ref,type,amount,currency\n"

static void test_ingest_identical_rows_without_id_stay_two_and_overlap_collapses(void **state)
{
	(void)state;
	use_profile_text(IDLESS_PROFILE);
	assert_int_equal(ingest(put_text("day-1.csv", IDLESS_HEADER
					 "2025-12-05,ORD-1,CHARGE,10.00,EUR\n"
					 "2025-12-05,ORD-1,CHARGE,10.00,EUR\n"
					 "2025-12-05,ORD-2,CHARGE,5.00,EUR\n")), 0);
	expect_counts(3, 3, 0, 0, 0, 0);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows WHERE order_ref = 'ORD-1'"), 2);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows WHERE txn_id IS NULL"), 3);
	/* A second download of the same day, overlapping, in another order, one row more. */
	assert_int_equal(ingest(put_text("day-1-again.csv", IDLESS_HEADER
					 "2025-12-05,ORD-2,CHARGE,5.00,EUR\n"
					 "2025-12-05,ORD-1,CHARGE,10.00,EUR\n"
					 "2025-12-05,ORD-3,REFUND,1.00,EUR\n"
					 "2025-12-05,ORD-1,CHARGE,10.00,EUR\n")), 0);
	expect_counts(4, 1, 3, 0, 0, 0);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows WHERE order_ref = 'ORD-1'"), 2);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows"), 4);
	/* A third identical charge in one file is a third charge. */
	assert_int_equal(ingest(put_text("day-1-third.csv", IDLESS_HEADER
					 "2025-12-05,ORD-1,CHARGE,10.00,EUR\n"
					 "2025-12-05,ORD-1,CHARGE,10.00,EUR\n"
					 "2025-12-05,ORD-1,CHARGE,10.00,EUR\n")), 0);
	expect_counts(3, 1, 2, 0, 0, 0);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows WHERE order_ref = 'ORD-1'"), 3);
}

static void test_ingest_skips_are_counted_per_reason(void **state)
{
	(void)state;
	use_profile_text(IDLESS_PROFILE);
	assert_int_equal(ingest(put_text("a.csv", IDLESS_HEADER
					 "2025-12-05,ORD-1,CHARGE,10.00,EUR\n"
					 "2025-12-05,ORD-1,MEMO,0,EUR\n"
					 "2025-12-05,ORD-2,MEMO,0,EUR\n")), 0);
	expect_counts(3, 1, 0, 0, 0, 2);
	assert_int_equal(query_int("SELECT rows FROM file_skips WHERE reason = 'type MEMO'"), 2);
	assert_int_equal(query_int("SELECT rows_skipped FROM files"), 2);
}

/* ---- a bank export: eu_bank ---------------------------------------------------------------- */

static void test_ingest_eu_bank_export(void **state)
{
	/* ISO-8859-1, a preamble, a footer, Soll/Haben columns, the order number in free text. */
	static const char latin1[] =
		"Ums\xe4tze Girokonto;;;;;\n"
		"Zeitraum: 01.12.2025 - 05.12.2025;;;;;\n"
		";;;;;\n"
		"Buchungstag;Wert;Verwendungszweck;Soll;Haben;W\xe4hrung\n"
		"05.12.2025;05.12.2025;SEPA Gutschrift ORD-1001 Danke;;1.234,50;EUR\n"
		"05.12.2025;05.12.2025;R\xfc" "ckzahlung ORD-1002;-45,90;;EUR\n"
		"04.12.2025;04.12.2025;Kontof\xfchrungsgeb\xfchr;-5,00;;EUR\n"
		"Kontostand;05.12.2025;;;10.000,00;EUR\n";

	(void)state;
	use_shipped("eu_bank");
	assert_int_equal(ingest(put_file("umsaetze.csv", latin1, sizeof(latin1) - 1)), 0);
	expect_counts(3, 2, 0, 0, 0, 1);
	assert_int_equal(query_int("SELECT amount_minor FROM statement_rows WHERE order_ref = 'ORD-1001'"
				   " AND type = 'CHARGE' AND currency = 'EUR' AND channel = 'bank'"), 123450);
	assert_int_equal(query_int("SELECT amount_minor FROM statement_rows WHERE order_ref = 'ORD-1002'"
				   " AND type = 'REFUND'"), 4590);
	/* 05.12.2025 is local midnight in Europe/Berlin: 2025-12-04T23:00:00Z. */
	assert_int_equal(query_int("SELECT booked_at_us FROM statement_rows WHERE order_ref = 'ORD-1001'"),
			 INT64_C(1764889200000000));
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows WHERE txn_id IS NULL"), 2);
	assert_int_equal(query_int("SELECT rows FROM file_skips WHERE reason = 'order_ref not found'"), 1);
}

/* ---- ledger ----------------------------------------------------------------------------------------- */

static void test_ingest_ledger_events_dedupe_by_event_id(void **state)
{
	(void)state;
	use_shipped("ledger_v1");
	assert_int_equal(ingest(put_text("ledger.csv", "event_id,order_id,event,amount,currency,channel,event_time\n"
					 "E1,ORD-1,CREATED,12.34,USD,stripe,2026-11-20T10:00:00Z\n"
					 "E2,ORD-1,PAID,12.34,USD,stripe,2026-11-20T10:15:09Z\n"
					 "E3,ORD-1,REFUNDED,2.00,USD,stripe,2026-11-21T10:00:00+08:00\n")), 0);
	expect_counts(3, 3, 0, 0, 0, 0);
	assert_int_equal(query_int("SELECT count(*) FROM ledger_events WHERE route_key IS NULL"), 3);
	assert_int_equal(query_int("SELECT count(*) FROM files WHERE kind = 'ledger'"), 1);
	assert_int_equal(ingest(put_text("ledger-2.csv", "event_id,order_id,event,amount,currency,channel,event_time\n"
					 "E2,ORD-1,PAID,12.34,USD,stripe,2026-11-20T10:15:09Z\n"
					 "E3,ORD-1,REFUNDED,3.00,USD,stripe,2026-11-21T10:00:00+08:00\n")), 0);
	expect_counts(2, 0, 1, 1, 0, 0);
	assert_int_equal(query_int("SELECT amount_minor FROM ledger_events WHERE event_id = 'E3'"), 200);
}

/* Plain route keys are not stored: anyone can make them from the row
 * (schemas/migrations/0010_plain_keys.sql); the e2e case routekey_vector
 * checks those recon makes against openssl, and HMAC ones stored. */
static void test_ingest_stores_no_plain_key(void **state)
{
	(void)state;
	use_shipped("psp_v1");
	assert_int_equal(ingest(put_text("a.csv", PSP_HEADER
					 "T1,2026-11-20T10:15:09Z,CHARGE,ORD-1001,12.34,USD,stripe,\n")), 0);
	assert_int_equal(query_int("SELECT count(*) FROM statement_rows WHERE route_key IS NULL"), 1);
	/* Plain order keys are not stored: anyone can make them from the order
	 * ref (schemas/migrations/0010_plain_keys.sql). */
	use_shipped("ledger_v1");
	assert_int_equal(ingest(put_text("l.csv", "event_id,order_id,event,amount,currency,channel,event_time\n"
					 "E1,ORD-1001,CREATED,12.34,USD,stripe,2026-11-20T10:00:00Z\n")), 0);
	assert_int_equal(query_int("SELECT count(*) FROM ledger_events WHERE order_key IS NULL"), 1);
}

static void test_ingest_key_mode_is_recorded_and_enforced(void **state)
{
	unsigned char other[32];

	(void)state;
	memset(other, 0x42, sizeof(other));
	assert_int_equal(ingest_check_key_mode(fx.s, NULL), 0);
	assert_int_equal(ingest_check_key_mode(fx.s, NULL), 0);
	{
		int saved = dup(STDERR_FILENO), devnull = open("/dev/null", O_WRONLY);
		int rc;

		assert_true(saved >= 0 && devnull >= 0);
		fflush(stderr);
		dup2(devnull, STDERR_FILENO);
		close(devnull);
		rc = ingest_check_key_mode(fx.s, other);
		fflush(stderr);
		dup2(saved, STDERR_FILENO);
		close(saved);
		assert_int_equal(rc, -1);
	}
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* "K/N" with 0 <= K < N <= 1024, nothing else. */
static void test_ingest_parse_shard(void **state)
{
	uint32_t k = 99, n = 99;
	static const char *const bad[] = { "", "1", "4/4", "0/0", "-1/4", "1/-4", "1/4x", " 1/4", "1/1025",
					   "a/4", "1/", "/4", "99999999999999999999/4" };
	size_t i;

	(void)state;
	assert_int_equal(ingest_parse_shard("0/1", &k, &n), 0);
	assert_int_equal(k, 0);
	assert_int_equal(n, 1);
	assert_int_equal(ingest_parse_shard("3/4", &k, &n), 0);
	assert_int_equal(k, 3);
	assert_int_equal(n, 4);
	assert_int_equal(ingest_parse_shard("1023/1024", &k, &n), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ingest_parse_shard(bad[i], &k, &n) != -1)
			fail_msg("'%s' accepted", bad[i]);
}

/* The first eight bytes of the order key, big-endian, modulo N. */
static void test_ingest_shard_of_order_key(void **state)
{
	unsigned char key[ROUTEKEY_LEN];

	(void)state;
	memset(key, 0, sizeof(key));
	key[7] = 7;
	assert_int_equal(ingest_shard_of(key, 4), 3);
	key[0] = 1; /* 2^56 + 7 */
	assert_int_equal(ingest_shard_of(key, 5), (uint32_t)((UINT64_C(1) << 56 | 7) % 5));
	key[8] = 0xff; /* beyond the first eight bytes: no effect */
	assert_int_equal(ingest_shard_of(key, 5), (uint32_t)((UINT64_C(1) << 56 | 7) % 5));
	assert_int_equal(ingest_shard_of(key, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ingest_clean_file),
		T(test_ingest_same_bytes_again_is_a_no_op),
		T(test_ingest_header_only_file_is_valid_and_empty),
		T(test_ingest_overlapping_file_dedupes_by_txn_id_and_keeps_first_on_conflict),
		T(test_ingest_runs_of_duplicates_then_new_rows),
		T(test_ingest_bulk_load_builds_identity_indexes_after_rows),
		T(test_ingest_bulk_load_with_repeated_ids_loads_again),
		T(test_ingest_small_file_is_not_a_bulk_load),
		T(test_ingest_database_error_names_the_line),
		T(test_ingest_one_bad_row_in_200_is_quarantined),
		T(test_ingest_two_bad_rows_in_200_is_exactly_the_share),
		T(test_ingest_three_bad_rows_in_200_refuses_file),
		T(test_ingest_refused_file_leaves_earlier_files_alone),
		T(test_ingest_stray_quote_rejects_one_row_only),
		T(test_ingest_conflicts_do_not_count_toward_the_share),
		T(test_ingest_unterminated_quote_leaves_nothing),
		T(test_ingest_missing_column_leaves_nothing),
		T(test_ingest_undecodable_text_leaves_nothing),
		T(test_ingest_empty_file_is_refused),
		T(test_ingest_missing_file_is_no_input),
		T(test_ingest_identical_rows_without_id_stay_two_and_overlap_collapses),
		T(test_ingest_skips_are_counted_per_reason),
		T(test_ingest_eu_bank_export),
		T(test_ingest_ledger_events_dedupe_by_event_id),
		T(test_ingest_stores_no_plain_key),
		T(test_ingest_key_mode_is_recorded_and_enforced),
		cmocka_unit_test(test_ingest_parse_shard),
		cmocka_unit_test(test_ingest_shard_of_order_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
