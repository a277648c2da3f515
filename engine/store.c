/*
 * store.c - SQLite storage (see store.h).
 *
 * Owns the connection and every prepared statement.  The schema is the embedded
 * schemas/recon.sql plus the forward migrations in schemas/migrations/.
 */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "embedded_sql.h"
#include "banned.h"

/* The page cache to read rows in order (match, reports), and a new
 * connection's: 16 MiB (see store_cache_load). */
#define CACHE_SCAN "PRAGMA cache_size = -16384"

#define MAX_PARAMS 16

/* Forward migrations: version reached -> SQL (schemas/migrations/README.md). */
static const struct migration {
	int version;
	const char *sql;
} migrations[] = {
	{ 2, sql_migration_0002_order_clustered_rows },
	{ 3, sql_migration_0003_case_spans },
	{ 4, sql_migration_0004_time_local_uid },
	{ 5, sql_migration_0005_late_rows },
	{ 6, sql_migration_0006_late_row_ids },
	{ 7, sql_migration_0007_cases_by_order },
	{ 8, sql_migration_0008_anomaly_spans },
	{ 9, sql_migration_0009_no_row_index },
	{ 10, sql_migration_0010_plain_keys },
};

enum stmt_id {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_FILE_FIND,
	Q_FILE_INSERT,
	Q_FILE_FINISH,
	Q_STMT_INSERT,
	Q_STMT_FIND_ID,
	Q_STMT_FIND_UID,
	Q_EVENT_INSERT,
	Q_EVENT_FIND_ID,
	Q_EVENT_FIND_UID,
	Q_STMT_FRONTIER,
	Q_EVENT_FRONTIER,
	Q_QUARANTINE,
	Q_CONFLICT,
	Q_SKIP,
	Q_ORD_NEXT,
	Q_ORD_RESET,
	Q_SETTING_GET,
	Q_SETTING_SET,
	Q_STMT_EMPTY,
	Q_EVENT_EMPTY,
	Q_INDEX_SQL,
	Q_COUNT
};

struct stmt_def {
	const char *sql;
	const char *params[MAX_PARAMS]; /* named parameters, in the order C binds them */
};

static const struct stmt_def stmt_defs[Q_COUNT] = {
	[Q_BEGIN] = { "BEGIN IMMEDIATE", { NULL } },
	[Q_COMMIT] = { "COMMIT", { NULL } },
	[Q_ROLLBACK] = { "ROLLBACK", { NULL } },
	[Q_FILE_FIND] = { "SELECT file_id FROM files WHERE sha256 = :sha", { ":sha" } },
	[Q_FILE_INSERT] = {
		"INSERT INTO files (sha256, path, kind, profile, profile_sha256, channel, bytes, ingested_at)"
		" VALUES (:sha, :path, :kind, :profile, :psha, :channel, :bytes, :at)",
		{ ":sha", ":path", ":kind", ":profile", ":psha", ":channel", ":bytes", ":at" } },
	[Q_FILE_FINISH] = {
		"UPDATE files SET rows_read = :read, rows_inserted = :ins, rows_duplicate = :dup,"
		" rows_conflict = :conf, rows_rejected = :rej, rows_skipped = :skip WHERE file_id = :id",
		{ ":read", ":ins", ":dup", ":conf", ":rej", ":skip", ":id" } },
	/* ON CONFLICT DO NOTHING applies to the identity indexes only: a CHECK
	 * failure of a row inserted is still an error, never a silently dropped
	 * row.  A row whose identity is looked up first and found (insert_row)
	 * is not stored, and its CHECKs are not evaluated: it is counted as a
	 * duplicate or a conflict by the stored row's fields, and the
	 * normaliser has refused every value the CHECKs refuse. */
	[Q_STMT_INSERT] = {
		"INSERT INTO statement_rows (order_ref, booked_at_us, row_id, file_id, line, txn_id, uid,"
		" type, amount_minor, currency, channel, route_key, fee_minor, late)"
		" VALUES (:ref, :time, :row, :file, :line, :id, :uid, :type, :amount, :cur, :chan, :route,"
		" :fee, :late) ON CONFLICT DO NOTHING",
		{ ":ref", ":time", ":row", ":file", ":line", ":id", ":uid", ":type", ":amount", ":cur",
		  ":chan", ":route", ":fee", ":late" } },
	[Q_STMT_FIND_ID] = {
		"SELECT row_id, order_ref, type, amount_minor, currency, booked_at_us, channel, fee_minor"
		" FROM statement_rows WHERE channel = :chan AND txn_id = :id",
		{ ":chan", ":id" } },
	[Q_STMT_FIND_UID] = {
		"SELECT row_id, order_ref, type, amount_minor, currency, booked_at_us, channel, fee_minor"
		" FROM statement_rows WHERE booked_at_us = :time AND uid = :uid",
		{ ":time", ":uid" } },
	[Q_EVENT_INSERT] = {
		"INSERT INTO ledger_events (order_ref, event_time_us, event_row_id, file_id, line, event_id,"
		" uid, event, amount_minor, currency, channel, route_key, order_key, late)"
		" VALUES (:ref, :time, :row, :file, :line, :id, :uid, :type, :amount, :cur, :chan, :route,"
		" :order, :late) ON CONFLICT DO NOTHING",
		{ ":ref", ":time", ":row", ":file", ":line", ":id", ":uid", ":type", ":amount", ":cur",
		  ":chan", ":route", ":order", ":late" } },
	[Q_EVENT_FIND_ID] = {
		"SELECT event_row_id, order_ref, event, amount_minor, currency, event_time_us, channel, NULL"
		" FROM ledger_events WHERE event_id = :id",
		{ ":id" } },
	[Q_EVENT_FIND_UID] = {
		"SELECT event_row_id, order_ref, event, amount_minor, currency, event_time_us, channel, NULL"
		" FROM ledger_events WHERE event_time_us = :time AND uid = :uid",
		{ ":time", ":uid" } },
	/* The greatest order_ref of the main segment (schemas/migrations/0005_late_rows.sql). */
	[Q_STMT_FRONTIER] = { "SELECT max(order_ref) FROM statement_rows WHERE late = 0", { NULL } },
	[Q_EVENT_FRONTIER] = { "SELECT max(order_ref) FROM ledger_events WHERE late = 0", { NULL } },
	[Q_QUARANTINE] = {
		"INSERT INTO quarantine (file_id, line, field, reason, raw) VALUES (:file, :line, :field, :reason, :raw)",
		{ ":file", ":line", ":field", ":reason", ":raw" } },
	[Q_CONFLICT] = {
		"INSERT INTO conflicts (file_id, line, kind, ident, kept_row_id, raw)"
		" VALUES (:file, :line, :kind, :ident, :kept, :raw)",
		{ ":file", ":line", ":kind", ":ident", ":kept", ":raw" } },
	[Q_SKIP] = {
		"INSERT INTO file_skips (file_id, reason, rows) VALUES (:file, :reason, :rows)"
		" ON CONFLICT (file_id, reason) DO UPDATE SET rows = rows + excluded.rows",
		{ ":file", ":reason", ":rows" } },
	[Q_ORD_NEXT] = {
		"INSERT INTO temp.ordinals (content, n) VALUES (:content, 0)"
		" ON CONFLICT (content) DO UPDATE SET n = n + 1 RETURNING n",
		{ ":content" } },
	[Q_ORD_RESET] = { "DELETE FROM temp.ordinals", { NULL } },
	[Q_SETTING_GET] = { "SELECT value FROM settings WHERE name = :name", { ":name" } },
	[Q_SETTING_SET] = {
		"INSERT INTO settings (name, value) VALUES (:name, :value)"
		" ON CONFLICT (name) DO UPDATE SET value = excluded.value",
		{ ":name", ":value" } },
	[Q_STMT_EMPTY] = { "SELECT NOT EXISTS (SELECT 1 FROM statement_rows)", { NULL } },
	[Q_EVENT_EMPTY] = { "SELECT NOT EXISTS (SELECT 1 FROM ledger_events)", { NULL } },
	[Q_INDEX_SQL] = { "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = :name", { ":name" } },
};

/* The identity indexes of each table ([0] statement rows, [1] ledger events;
 * schemas/migrations/0010_plain_keys.sql), which store_identity_defer drops
 * for a bulk load and store_identity_build makes again from their own SQL. */
#define IDENTITY_INDEXES 2
static const char *const identity_index[2][IDENTITY_INDEXES] = {
	{ "statement_rows_txn", "statement_rows_uid" },
	{ "ledger_events_id", "ledger_events_uid" },
};
static const char *const identity_drop[2] = {
	"DROP INDEX statement_rows_txn; DROP INDEX statement_rows_uid",
	"DROP INDEX ledger_events_id; DROP INDEX ledger_events_uid",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[Q_COUNT];
	int pidx[Q_COUNT][MAX_PARAMS];
	int in_txn;
	int ids_loaded;            /* next_id and frontier are those of the open transaction */
	int64_t next_id[2];        /* next row id: [0] statement rows, [1] ledger events */
	struct frontier {          /* per table, see insert_row */
		struct ref {
			char *p;
			size_t len, cap;
			int set;
		} cur, next, max;  /* late before cur; max of the main segment when next was taken; now */
		int64_t rows;      /* rows stored since next was taken */
	} frontier[2];
	int64_t late_lag;          /* STORE_LATE_LAG, or what a test set */
	int probe_first[2];        /* the last row of that table was not new (insert_row) */
	int64_t defer_min;         /* STORE_DEFER_MIN, or what a test set */
	int load_share;            /* store_cache_load's SHARE */
	char *identity_sql[IDENTITY_INDEXES]; /* dropped for this transaction's load */
	char err[512];
};

static const char *const id_setting[2] = { "next_row_id.statement", "next_row_id.ledger" };

static int fail_db(struct store *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "%s: %s", what, sqlite3_errmsg(s->db));
	return -1;
}

static int fail_stmt(struct store *s, enum stmt_id q)
{
	snprintf(s->err, sizeof(s->err), "%s (SQL: %.160s)", sqlite3_errmsg(s->db), stmt_defs[q].sql);
	return -1;
}

const char *store_errmsg(const struct store *s)
{
	return s->err;
}

static int prepare_all(struct store *s)
{
	int q, i;

	for (q = 0; q < Q_COUNT; q++) {
		if (sqlite3_prepare_v3(s->db, stmt_defs[q].sql, -1, SQLITE_PREPARE_PERSISTENT,
				       &s->stmt[q], NULL) != SQLITE_OK)
			return fail_stmt(s, (enum stmt_id)q);
		for (i = 0; i < MAX_PARAMS && stmt_defs[q].params[i]; i++) {
			s->pidx[q][i] = sqlite3_bind_parameter_index(s->stmt[q], stmt_defs[q].params[i]);
			if (s->pidx[q][i] == 0) {
				snprintf(s->err, sizeof(s->err), "internal: parameter %s not in SQL: %.120s",
					 stmt_defs[q].params[i], stmt_defs[q].sql);
				return -1;
			}
		}
		if (i != sqlite3_bind_parameter_count(s->stmt[q])) {
			snprintf(s->err, sizeof(s->err), "internal: unbound parameters in SQL: %.120s",
				 stmt_defs[q].sql);
			return -1;
		}
	}
	return 0;
}

/* Bind helpers: slot I of statement Q.  They return the SQLite result code. */
static int bind_int(struct store *s, enum stmt_id q, int i, int64_t v)
{
	return sqlite3_bind_int64(s->stmt[q], s->pidx[q][i], v);
}

static int bind_text(struct store *s, enum stmt_id q, int i, const char *v)
{
	if (v == NULL || *v == '\0')
		return sqlite3_bind_null(s->stmt[q], s->pidx[q][i]);
	return sqlite3_bind_text(s->stmt[q], s->pidx[q][i], v, -1, SQLITE_STATIC);
}

static int bind_blob(struct store *s, enum stmt_id q, int i, const void *v, size_t len)
{
	if (v == NULL)
		return sqlite3_bind_null(s->stmt[q], s->pidx[q][i]);
	return sqlite3_bind_blob64(s->stmt[q], s->pidx[q][i], v, len, SQLITE_STATIC);
}

/* Step a statement that returns no row (or ignore rows); reset it. */
static int exec_stmt(struct store *s, enum stmt_id q)
{
	int rc = sqlite3_step(s->stmt[q]);

	sqlite3_reset(s->stmt[q]);
	sqlite3_clear_bindings(s->stmt[q]);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return fail_stmt(s, q);
	return 0;
}

/* A database holding tables but not our application_id is someone else's. */
static int check_foreign(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT (SELECT application_id FROM pragma_application_id),"
			       " (SELECT count(*) FROM sqlite_schema)", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		fail_db(s, "cannot read the database header");
		goto out;
	}
	if (sqlite3_column_int(st, 1) > 0 && sqlite3_column_int(st, 0) != STORE_APPLICATION_ID) {
		snprintf(s->err, sizeof(s->err), "not a recon database (application_id %d)",
			 sqlite3_column_int(st, 0));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int migrate(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int version = -1, app = -1, tables = -1;
	size_t i;

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail_db(s, "cannot lock the database to check its schema");
	if (sqlite3_prepare_v2(s->db,
			       "SELECT (SELECT user_version FROM pragma_user_version),"
			       " (SELECT application_id FROM pragma_application_id),"
			       " (SELECT count(*) FROM sqlite_schema)", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		fail_db(s, "cannot read the schema version");
		goto fail;
	}
	version = sqlite3_column_int(st, 0);
	app = sqlite3_column_int(st, 1);
	tables = sqlite3_column_int(st, 2);
	sqlite3_finalize(st);
	st = NULL;
	if (tables > 0 && app != STORE_APPLICATION_ID) {
		snprintf(s->err, sizeof(s->err), "not a recon database (application_id %d)", app);
		goto fail;
	}
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(s->err, sizeof(s->err),
			 "database schema version %d is newer than this recon understands (%d)",
			 version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version == 0 && sqlite3_exec(s->db, sql_recon, NULL, NULL, NULL) != SQLITE_OK) {
		fail_db(s, "cannot create the schema");
		goto fail;
	}
	for (i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
		if (migrations[i].sql == NULL || migrations[i].version <= version)
			continue;
		if (sqlite3_exec(s->db, migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK) {
			fail_db(s, "cannot apply a schema migration");
			goto fail;
		}
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return fail_db(s, "cannot commit the schema");
	return 0;
fail:
	sqlite3_finalize(st);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * Outside recon ingest --shards, only the main thread calls SQLite (the
 * readahead thread only reads the input file), so SQLite's own locks protect
 * nothing.  Without them a 1,000,000-order ledger ingested in 10.99 s
 * against 11.41 s (medians of 3, alternated).  --shards writes each shard's
 * connection from a thread of its own (one thread at a time per connection,
 * handed over by pthread_create and pthread_join), so it calls
 * store_library_threads first.
 */
int store_library_init(char *err, size_t errlen)
{
	int rc = sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);

	/* recon reads no memory statistics, and keeping them was 3% of a
	 * ledger load's instructions. */
	if (rc == SQLITE_OK)
		rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot configure SQLite for one thread: %s", sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

int store_library_threads(char *err, size_t errlen)
{
	int rc = sqlite3_config(SQLITE_CONFIG_MULTITHREAD);

	/* Memory statistics would take one lock around every allocation of
	 * every thread; recon reads none. */
	if (rc == SQLITE_OK)
		rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot configure SQLite for several threads: %s", sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

int store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));
	/* page_size applies to a new database only: SQLite fixes it when it
	 * creates the file and WAL mode keeps it, so an existing database keeps
	 * its own.  A 16 KiB page holds over a hundred ledger rows, so the B-trees
	 * are shallower and split less often: on the bench data, 1,000,000
	 * orders took 19.8 to 21.4 s to ingest and match (4 runs) against 24.3
	 * and 24.8 s with the default 4 KiB, and a 5,000,000-order ledger 80.9 s
	 * against 90.0 s, in the same memory (the cache is sized in KiB).  It
	 * must come before journal_mode, whose change creates the file. */
	static const char setup[] =
		"PRAGMA page_size = 16384;"
		"PRAGMA journal_mode = WAL;"
		"PRAGMA synchronous = NORMAL;"
		CACHE_SCAN ";"
		"PRAGMA foreign_keys = ON;"
		"PRAGMA temp_store = FILE;"
		"CREATE TEMP TABLE IF NOT EXISTS ordinals (content BLOB PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;";

	*out = NULL;
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->late_lag = STORE_LATE_LAG;
	s->defer_min = STORE_DEFER_MIN;
	/* A test hook, as RECON_FAULT: the e2e tests load their small files as
	 * bulk loads with RECON_DEFER_MIN=0 and compare with row by row. */
	if (getenv("RECON_DEFER_MIN") != NULL) {
		char *end;
		long long v = strtoll(getenv("RECON_DEFER_MIN"), &end, 10);

		if (*end == '\0' && v >= 0)
			s->defer_min = v;
	}
	s->load_share = 1;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open database: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
	/* Refuse a foreign database before any PRAGMA changes it (WAL mode). */
	if (check_foreign(s)) {
		snprintf(err, errlen, "%s: %s", path, s->err);
		goto fail;
	}
	if (sqlite3_exec(s->db, setup, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot set up database: %s", path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (migrate(s) || prepare_all(s)) {
		snprintf(err, errlen, "%s: %s", path, s->err);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	store_close(s);
	return -1;
}

void store_close(struct store *s)
{
	int q;

	if (s == NULL)
		return;
	for (q = 0; q < Q_COUNT; q++)
		sqlite3_finalize(s->stmt[q]);
	for (q = 0; q < 2; q++) {
		free(s->frontier[q].cur.p);
		free(s->frontier[q].next.p);
		free(s->frontier[q].max.p);
	}
	for (q = 0; q < IDENTITY_INDEXES; q++)
		free(s->identity_sql[q]);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		fprintf(stderr, "level=error msg=\"cannot close database\" error=\"%s\"\n", sqlite3_errmsg(s->db));
	free(s);
}

/*
 * Loading rows writes across the tables and their indexes, and a row for an
 * order of earlier in the file (a refund, a cancellation, up to hours later)
 * lands on a page written long before: the larger the cache, the fewer of
 * those pages are evicted, written to the WAL and read back.  But every page
 * the cache fills costs a page fault, and rows of orders of earlier nights
 * are on pages read once: there a large cache only costs.  Measured (runs
 * alternated, medians):
 *   1,000,000-order ledger (147 MB), 4 runs: 10.36 s with 64 MiB, 10.96 s
 *     with 16 MiB; its statements (49 and 32 MB): 5.97 s against 6.46 s,
 *     and 5.67 s against 5.93 s with 32 MiB for the second file;
 *   a night's ledger (15 MB) on 30 days of history, 4 runs: 1.60 s with
 *     64 MiB, 1.48 s with 32 MiB, 1.44 s with 16 MiB (16,809 pages read;
 *     filling 64 MiB is 16,384 page faults);
 *   a match reads in order: 2.43 s with 64 MiB against 2.25 s with 16 MiB.
 * So a load gets the smallest of 16, 32 and 64 MiB that is at least twice
 * its file's size, and reading in order 16 MiB.  Each is bounded whatever
 * the input.  (A PRAGMA takes no bound parameter: its text is made here from
 * integers only.)
 */
static int set_cache(struct store *s, const char *pragma)
{
	if (sqlite3_exec(s->db, pragma, NULL, NULL, NULL) != SQLITE_OK)
		return fail_db(s, "cannot size the page cache");
	return 0;
}

/*
 * A load checks no foreign keys.  Every row it stores references the files
 * row its own transaction inserted just before (store_file_insert's id), and
 * the check was a lookup in files and its bookkeeping on every row: with it,
 * a 1,000,000-order ledger took 6.50 to 6.59 s to load and its statements
 * 3.88 to 5.13 s; without it (and without SQLite's memory statistics) 6.07
 * to 6.29 s and 3.62 to 3.84 s (4 runs each, alternated).  Everything else
 * (runs, cases, merges, migrations) checks them: store_open turns them on,
 * store_load_done turns them on again after the load's commit or rollback,
 * and so does store_cache_scan.  SQLite ignores the pragma inside a
 * transaction, so these come before store_begin or after the commit.
 */
static int set_foreign_keys(struct store *s, int on)
{
	if (sqlite3_exec(s->db, on ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF", NULL, NULL,
			 NULL) != SQLITE_OK)
		return fail_db(s, "cannot set foreign key checks");
	return 0;
}

int store_cache_load(struct store *s, int64_t file_bytes, int share)
{
	int kib = file_bytes <= 8LL << 20 ? 16384 : file_bytes <= 16LL << 20 ? 32768 : 65536;
	char sql[48];

	/* Databases loaded at once (the shards of one ingest) share the budget,
	 * so that the process stays as small as one database's load. */
	s->load_share = share > 1 ? share : 1;
	if (share > 1)
		kib = kib / share < 2048 ? 2048 : kib / share;
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", kib);
	return set_cache(s, sql) || set_foreign_keys(s, 0) ? -1 : 0;
}

int store_load_done(struct store *s)
{
	return set_foreign_keys(s, 1);
}

int store_cache_scan(struct store *s)
{
	return set_cache(s, CACHE_SCAN) || set_foreign_keys(s, 1) ? -1 : 0;
}

void store_set_late_lag(struct store *s, int64_t rows)
{
	s->late_lag = rows;
}

void store_set_defer_min(struct store *s, int64_t bytes)
{
	s->defer_min = bytes;
}

/* Forget the identity indexes' SQL: they are back (built, or rolled back). */
static void identity_forget(struct store *s)
{
	int i;

	for (i = 0; i < IDENTITY_INDEXES; i++) {
		free(s->identity_sql[i]);
		s->identity_sql[i] = NULL;
	}
}

/*
 * A bulk load into an empty table builds its identity indexes after the rows,
 * in one sort, instead of a B-tree insert per row.  The ids of one file come
 * nearly in time order, but a refund's or cancellation's lands hours of ids
 * back, and at 5,000,000 orders those pages have left the cache.  The table is
 * empty, so a row can repeat only a row of its own file, and then building the
 * unique index fails: the caller rolls the file back and loads it again with
 * the indexes in place, which tells duplicates from conflicts row by row as
 * always.  The indexes are made again from their own SQL in sqlite_schema, so
 * that they stay what the migrations made.
 */
/* A copy of the SQL that made index NAME into *OUT.  Returns 0 or -1. */
static int index_sql(struct store *s, const char *name, char **out)
{
	sqlite3_stmt *st = s->stmt[Q_INDEX_SQL];
	const unsigned char *sql;
	int rc;

	if (bind_text(s, Q_INDEX_SQL, 0, name))
		return fail_stmt(s, Q_INDEX_SQL);
	rc = sqlite3_step(st);
	sql = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	*out = sql ? strdup((const char *)sql) : NULL;
	sqlite3_reset(st);
	if (*out != NULL)
		return 0;
	if (rc == SQLITE_DONE)
		snprintf(s->err, sizeof(s->err), "internal: identity index %s not in the schema", name);
	else if (rc == SQLITE_ROW) /* the text or its copy not allocated */
		snprintf(s->err, sizeof(s->err), "out of memory");
	else
		return fail_stmt(s, Q_INDEX_SQL);
	return -1;
}

int store_identity_defer(struct store *s, int ledger, int64_t file_bytes)
{
	enum stmt_id q = ledger ? Q_EVENT_EMPTY : Q_STMT_EMPTY;
	int rc, empty, i;

	if (file_bytes < s->defer_min)
		return 0;
	rc = sqlite3_step(s->stmt[q]);
	empty = rc == SQLITE_ROW && sqlite3_column_int(s->stmt[q], 0) == 1;
	sqlite3_reset(s->stmt[q]);
	if (rc != SQLITE_ROW)
		return fail_stmt(s, q);
	if (!empty)
		return 0;
	for (i = 0; i < IDENTITY_INDEXES; i++)
		if (index_sql(s, identity_index[ledger][i], &s->identity_sql[i])) {
			identity_forget(s);
			return -1;
		}
	if (sqlite3_exec(s->db, identity_drop[ledger], NULL, NULL, NULL) != SQLITE_OK) {
		identity_forget(s);
		return fail_db(s, "cannot drop the identity indexes for the load");
	}
	return 1;
}

int store_identity_build(struct store *s)
{
	char sql[48];
	int i, kib = 16384 / s->load_share;

	if (s->identity_sql[0] == NULL)
		return 0;
	/* The sort holds as much as the page cache.  The load's dirty pages go
	 * to the log now rather than at the commit, and the cache shrinks to the
	 * scan's size (shared by the databases loaded at once) and gives the
	 * rest back, so that the sort fits in the memory the load had. */
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", kib < 2048 ? 2048 : kib);
	if (sqlite3_db_cacheflush(s->db) != SQLITE_OK)
		return fail_db(s, "cannot write the load's pages before building its identity indexes");
	if (set_cache(s, sql))
		return -1;
	if (sqlite3_db_release_memory(s->db) != SQLITE_OK)
		return fail_db(s, "cannot release the load's page cache");
	for (i = 0; i < IDENTITY_INDEXES; i++) {
		if (sqlite3_exec(s->db, s->identity_sql[i], NULL, NULL, NULL) == SQLITE_OK)
			continue;
		if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE) {
			snprintf(s->err, sizeof(s->err), "two rows of the file share an identity");
			return 1;
		}
		return fail_db(s, "cannot build the identity index after the load");
	}
	identity_forget(s);
	return 0;
}

int store_begin(struct store *s)
{
	if (exec_stmt(s, Q_BEGIN))
		return -1;
	s->in_txn = 1;
	s->ids_loaded = 0;
	return 0;
}

int store_commit(struct store *s)
{
	if (s->identity_sql[0] != NULL) {
		snprintf(s->err, sizeof(s->err), "internal: commit before the identity indexes are built");
		return -1;
	}
	if (exec_stmt(s, Q_COMMIT))
		return -1;
	s->in_txn = 0;
	return 0;
}

int store_rollback(struct store *s)
{
	identity_forget(s);  /* the rollback puts the indexes back */
	if (!s->in_txn || sqlite3_get_autocommit(s->db))
		return 0;
	s->in_txn = 0;
	return exec_stmt(s, Q_ROLLBACK);
}

int store_file_find(struct store *s, const unsigned char sha256[STORE_KEY_LEN], int64_t *file_id)
{
	int rc;

	if (bind_blob(s, Q_FILE_FIND, 0, sha256, STORE_KEY_LEN) != SQLITE_OK)
		return fail_stmt(s, Q_FILE_FIND);
	rc = sqlite3_step(s->stmt[Q_FILE_FIND]);
	if (rc == SQLITE_ROW)
		*file_id = sqlite3_column_int64(s->stmt[Q_FILE_FIND], 0);
	sqlite3_reset(s->stmt[Q_FILE_FIND]);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return fail_stmt(s, Q_FILE_FIND);
}

int store_file_insert(struct store *s, const struct store_file *f, int64_t *file_id)
{
	char now[32];
	enum stmt_id q = Q_FILE_INSERT;

	store_now_iso(now, sizeof(now));
	if (bind_blob(s, q, 0, f->sha256, STORE_KEY_LEN) || bind_text(s, q, 1, f->path) ||
	    bind_text(s, q, 2, f->kind) || bind_text(s, q, 3, f->profile) ||
	    bind_blob(s, q, 4, f->profile_sha256, STORE_KEY_LEN) || bind_text(s, q, 5, f->channel) ||
	    bind_int(s, q, 6, f->bytes) || bind_text(s, q, 7, now))
		return fail_stmt(s, q);
	if (exec_stmt(s, q))
		return -1;
	*file_id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int ids_save(struct store *s);

int store_file_finish(struct store *s, int64_t file_id, const struct store_counts *c)
{
	enum stmt_id q = Q_FILE_FINISH;

	if (bind_int(s, q, 0, c->read) || bind_int(s, q, 1, c->inserted) ||
	    bind_int(s, q, 2, c->duplicate) || bind_int(s, q, 3, c->conflict) ||
	    bind_int(s, q, 4, c->rejected) || bind_int(s, q, 5, c->skipped) ||
	    bind_int(s, q, 6, file_id))
		return fail_stmt(s, q);
	if (exec_stmt(s, q))
		return -1;
	return ids_save(s);
}

static int ref_set(struct store *s, struct ref *r, const char *v, size_t len)
{
	if (len + 1 > r->cap) {
		size_t cap = len + 1 > 64 ? len + 1 : 64;
		char *p = realloc(r->p, cap);

		if (p == NULL) {
			snprintf(s->err, sizeof(s->err), "out of memory");
			return -1;
		}
		r->p = p;
		r->cap = cap;
	}
	memcpy(r->p, v, len);
	r->p[len] = '\0';
	r->len = len;
	r->set = 1;
	return 0;
}

/* The frontier of table I (0 statement rows, 1 ledger events) at the start of
 * this transaction: the greatest order_ref of its main segment. */
static int frontier_load(struct store *s, int i)
{
	enum stmt_id q = i ? Q_EVENT_FRONTIER : Q_STMT_FRONTIER;
	sqlite3_stmt *st = s->stmt[q];
	struct frontier *f = &s->frontier[i];
	int rc = sqlite3_step(st);

	f->cur.set = f->next.set = f->max.set = 0;
	f->rows = 0;
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);

		if (ref_set(s, &f->cur, v, len) || ref_set(s, &f->next, v, len) || ref_set(s, &f->max, v, len)) {
			sqlite3_reset(st);
			return -1;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return fail_stmt(s, q);
	return 0;
}

/*
 * A row for an order before the frontier of its table goes to the late
 * segment: before the greatest order_ref of the main segment when the
 * transaction began, or, once s->late_lag rows have been stored, as it was
 * s->late_lag to twice that many rows before.  So a refund hours after its
 * order, within one file, is late too: its order's page has long left the
 * cache, and the main segment takes only rows at its end, on pages still in
 * the cache.  Compared in SQLite's BINARY order, which for text without NUL
 * bytes is strcmp's.
 */
static int frontier_late(const struct store *s, int i, const char *ref)
{
	const struct frontier *f = &s->frontier[i];

	return f->cur.set && strcmp(ref, f->cur.p) < 0;
}

/* A row for REF was stored in table I, in the late segment if LATE. */
static int frontier_stored(struct store *s, int i, const char *ref, int late)
{
	struct frontier *f = &s->frontier[i];

	if (!late && (!f->max.set || strcmp(ref, f->max.p) > 0) && ref_set(s, &f->max, ref, strlen(ref)))
		return -1;
	if (++f->rows >= s->late_lag && f->max.set) {
		if (f->next.set && ref_set(s, &f->cur, f->next.p, f->next.len))
			return -1;
		if (ref_set(s, &f->next, f->max.p, f->max.len))
			return -1;
		f->rows = 0;
	}
	return 0;
}

/* The row-id counters and the frontiers, read once per transaction (the
 * counters live in settings so that ids keep the ingest order without an index
 * on them). */
static int ids_load(struct store *s)
{
	int i;

	for (i = 0; i < 2 && !s->ids_loaded; i++) {
		char buf[32], *end;
		int rc = store_setting_get(s, id_setting[i], buf, sizeof(buf));

		if (rc < 0 || frontier_load(s, i))
			return -1;
		s->next_id[i] = 1;
		if (rc == 1) {
			long long v = strtoll(buf, &end, 10);
			if (*end != '\0' || v < 1) {
				snprintf(s->err, sizeof(s->err), "setting %s is not a row id: '%s'", id_setting[i], buf);
				return -1;
			}
			s->next_id[i] = v;
		}
	}
	s->ids_loaded = 1;
	return 0;
}

int store_next_row_ids(struct store *s, int64_t next[2])
{
	if (!s->ids_loaded && ids_load(s))
		return -1;
	next[0] = s->next_id[0];
	next[1] = s->next_id[1];
	return 0;
}

static int ids_save(struct store *s)
{
	int i;

	for (i = 0; i < 2 && s->ids_loaded; i++) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%lld", (long long)s->next_id[i]);
		if (store_setting_set(s, id_setting[i], buf))
			return -1;
	}
	return 0;
}

static int same_text(sqlite3_stmt *st, int col, const char *v)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t != NULL && strcmp((const char *)t, v) == 0;
}

/* Look up the row already stored under R's identity (its id, or without one
 * its time and uid) and tell a duplicate from a conflict by comparing its
 * canonical fields with R's.  Returns 1 when found (*OUTCOME, *KEPT set), 0
 * when none is stored, -1 on error. */
static int find_kept(struct store *s, int ledger, const struct store_row *r, int has_id,
		     enum store_outcome *outcome, int64_t *kept)
{
	enum stmt_id find;
	sqlite3_stmt *st;
	int rc;

	if (ledger)
		find = has_id ? Q_EVENT_FIND_ID : Q_EVENT_FIND_UID;
	else
		find = has_id ? Q_STMT_FIND_ID : Q_STMT_FIND_UID;
	if (has_id)
		rc = ledger ? bind_text(s, find, 0, r->id)
			    : bind_text(s, find, 0, r->channel) || bind_text(s, find, 1, r->id);
	else
		rc = bind_int(s, find, 0, r->time_us) || bind_blob(s, find, 1, r->uid, STORE_KEY_LEN);
	if (rc)
		return fail_stmt(s, find);
	st = s->stmt[find];
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return fail_stmt(s, find);
	}
	{
		int fee_same = ledger || (r->has_fee ? sqlite3_column_type(st, 7) == SQLITE_INTEGER &&
							       sqlite3_column_int64(st, 7) == r->fee_minor
						     : sqlite3_column_type(st, 7) == SQLITE_NULL);

		*kept = sqlite3_column_int64(st, 0);
		*outcome = same_text(st, 1, r->order_ref) && same_text(st, 2, r->type) &&
					   sqlite3_column_int64(st, 3) == r->amount_minor &&
					   same_text(st, 4, r->currency) &&
					   sqlite3_column_int64(st, 5) == r->time_us &&
					   same_text(st, 6, r->channel) && fee_same
				   ? STORE_DUPLICATE
				   : STORE_CONFLICT;
	}
	sqlite3_reset(st);
	return 1;
}

/*
 * Shared by statements and events: insert, or tell duplicate from conflict.
 * A row is inserted first (most are new), and only a refused insert looks up
 * the kept row.  But duplicates come in runs (a download that overlaps the
 * one before, a night's file that repeats the evening before), and there the
 * refused insert was two B-tree descents for nothing: after a row that was
 * not new, the next row's identity is looked up first, until one is new.
 * The 1,000,000-order bench's second statement file repeats 105,681 rows of
 * the first: it loaded in 1.59-1.62 s before, 1.47-1.51 s now (4 runs each,
 * alternated).  A row that is new after a run of duplicates pays one lookup
 * that finds nothing.
 */
static int insert_row(struct store *s, int ledger, int64_t file_id, const struct store_row *r,
		      enum store_outcome *outcome, int64_t *kept)
{
	enum stmt_id ins = ledger ? Q_EVENT_INSERT : Q_STMT_INSERT;
	int has_id = r->id != NULL && r->id[0] != '\0';
	int i = 0, late;
	int rc;

	if (!s->ids_loaded && ids_load(s))
		return -1;
	if (s->probe_first[ledger]) {
		rc = find_kept(s, ledger, r, has_id, outcome, kept);
		if (rc)
			return rc < 0 ? -1 : 0;
		s->probe_first[ledger] = 0;
	}
	late = frontier_late(s, ledger, r->order_ref);
	if (bind_text(s, ins, i++, r->order_ref) || bind_int(s, ins, i++, r->time_us) ||
	    bind_int(s, ins, i++, s->next_id[ledger]) || bind_int(s, ins, i++, file_id) ||
	    bind_int(s, ins, i++, r->line) || bind_text(s, ins, i++, has_id ? r->id : NULL))
		return fail_stmt(s, ins);
	/* A row keeps its uid only when it has no id (the id is its identity). */
	rc = has_id ? sqlite3_bind_null(s->stmt[ins], s->pidx[ins][i])
			       : bind_blob(s, ins, i, r->uid, STORE_KEY_LEN);
	i++;
	if (rc || bind_text(s, ins, i++, r->type) || bind_int(s, ins, i++, r->amount_minor) ||
	    bind_text(s, ins, i++, r->currency) || bind_text(s, ins, i++, r->channel) ||
	    bind_blob(s, ins, i++, r->route_key, STORE_KEY_LEN))
		return fail_stmt(s, ins);
	rc = ledger ? bind_blob(s, ins, i, r->order_key, STORE_KEY_LEN)
	     : r->has_fee ? bind_int(s, ins, i, r->fee_minor)
			  : sqlite3_bind_null(s->stmt[ins], s->pidx[ins][i]);
	i++;
	if (rc || bind_int(s, ins, i, late))
		return fail_stmt(s, ins);
	if (exec_stmt(s, ins))
		return -1;
	if (sqlite3_changes(s->db) == 1) {
		s->next_id[ledger]++;
		*outcome = STORE_INSERTED;
		return frontier_stored(s, ledger, r->order_ref, late);
	}
	rc = find_kept(s, ledger, r, has_id, outcome, kept);
	if (rc == 0) {
		snprintf(s->err, sizeof(s->err), "line %ld: row neither stored nor found by its identity",
			 r->line);
		return -1;
	}
	if (rc < 0)
		return -1;
	s->probe_first[ledger] = 1;
	return 0;
}

int store_insert_statement(struct store *s, int64_t file_id, const struct store_row *r,
			   enum store_outcome *outcome, int64_t *kept)
{
	return insert_row(s, 0, file_id, r, outcome, kept);
}

int store_insert_event(struct store *s, int64_t file_id, const struct store_row *r,
		       enum store_outcome *outcome, int64_t *kept)
{
	return insert_row(s, 1, file_id, r, outcome, kept);
}

int store_quarantine(struct store *s, int64_t file_id, long line, const char *field,
		     const char *reason, const char *raw, size_t raw_len)
{
	enum stmt_id q = Q_QUARANTINE;

	if (bind_int(s, q, 0, file_id) || bind_int(s, q, 1, line) || bind_text(s, q, 2, field) ||
	    bind_text(s, q, 3, reason) || bind_blob(s, q, 4, raw ? raw : "", raw_len))
		return fail_stmt(s, q);
	return exec_stmt(s, q);
}

int store_conflict(struct store *s, int64_t file_id, long line, const char *kind,
		   const char *ident, int64_t kept, const char *raw, size_t raw_len)
{
	enum stmt_id q = Q_CONFLICT;

	if (bind_int(s, q, 0, file_id) || bind_int(s, q, 1, line) || bind_text(s, q, 2, kind) ||
	    bind_text(s, q, 3, ident) || bind_int(s, q, 4, kept) ||
	    bind_blob(s, q, 5, raw ? raw : "", raw_len))
		return fail_stmt(s, q);
	return exec_stmt(s, q);
}

int store_skip_add(struct store *s, int64_t file_id, const char *reason, int64_t rows)
{
	enum stmt_id q = Q_SKIP;

	if (bind_int(s, q, 0, file_id) || bind_text(s, q, 1, reason) || bind_int(s, q, 2, rows))
		return fail_stmt(s, q);
	return exec_stmt(s, q);
}

int store_ordinal_next(struct store *s, const unsigned char content[STORE_KEY_LEN], int64_t *ordinal)
{
	int rc;

	if (bind_blob(s, Q_ORD_NEXT, 0, content, STORE_KEY_LEN))
		return fail_stmt(s, Q_ORD_NEXT);
	rc = sqlite3_step(s->stmt[Q_ORD_NEXT]);
	if (rc == SQLITE_ROW)
		*ordinal = sqlite3_column_int64(s->stmt[Q_ORD_NEXT], 0);
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(s->stmt[Q_ORD_NEXT]);
	sqlite3_reset(s->stmt[Q_ORD_NEXT]);
	if (rc != SQLITE_DONE)
		return fail_stmt(s, Q_ORD_NEXT);
	return 0;
}

int store_ordinal_reset(struct store *s)
{
	return exec_stmt(s, Q_ORD_RESET);
}

int store_setting_get(struct store *s, const char *name, char *buf, size_t size)
{
	int rc;

	if (bind_text(s, Q_SETTING_GET, 0, name))
		return fail_stmt(s, Q_SETTING_GET);
	rc = sqlite3_step(s->stmt[Q_SETTING_GET]);
	if (rc == SQLITE_ROW)
		snprintf(buf, size, "%s", (const char *)sqlite3_column_text(s->stmt[Q_SETTING_GET], 0));
	sqlite3_reset(s->stmt[Q_SETTING_GET]);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return fail_stmt(s, Q_SETTING_GET);
}

int store_setting_set(struct store *s, const char *name, const char *value)
{
	if (bind_text(s, Q_SETTING_SET, 0, name) || bind_text(s, Q_SETTING_SET, 1, value))
		return fail_stmt(s, Q_SETTING_SET);
	return exec_stmt(s, Q_SETTING_SET);
}

struct sqlite3 *store_handle(struct store *s)
{
	return s->db;
}

int store_exec_script(struct store *s, const char *sql, const char *const *names,
		      const int64_t *values, size_t n)
{
	const char *tail = sql;

	while (tail && *tail) {
		sqlite3_stmt *st = NULL;
		const char *start = tail;
		int i, count, rc;

		if (sqlite3_prepare_v2(s->db, start, -1, &st, &tail) != SQLITE_OK) {
			snprintf(s->err, sizeof(s->err), "%s (SQL: %.160s)", sqlite3_errmsg(s->db), start);
			return -1;
		}
		if (st == NULL)
			continue; /* only comments or white space were left */
		count = sqlite3_bind_parameter_count(st);
		for (i = 1; i <= count; i++) {
			const char *name = sqlite3_bind_parameter_name(st, i);
			size_t j;

			for (j = 0; name && j < n; j++)
				if (strcmp(name, names[j]) == 0)
					break;
			if (name == NULL || j == n) {
				snprintf(s->err, sizeof(s->err), "internal: parameter %s not bound in SQL: %.120s",
					 name ? name : "?", start);
				sqlite3_finalize(st);
				return -1;
			}
			if (sqlite3_bind_int64(st, i, values[j]) != SQLITE_OK) {
				snprintf(s->err, sizeof(s->err), "%s (SQL: %.160s)", sqlite3_errmsg(s->db), start);
				sqlite3_finalize(st);
				return -1;
			}
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE) {
			snprintf(s->err, sizeof(s->err), "%s (SQL: %.160s)", sqlite3_errmsg(s->db), start);
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_finalize(st);
	}
	return 0;
}

void store_now_iso(char *buf, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "unknown");
}

/* Prepare SQL and bind A, B, T, U to ?1 .. ?4 as far as the SQL uses them. */
static sqlite3_stmt *prepare_small(struct store *s, const char *sql, int64_t a, int64_t b,
				   const char *t, const char *u)
{
	sqlite3_stmt *st = NULL;
	int n;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(s->err, sizeof(s->err), "%s (SQL: %.160s)", sqlite3_errmsg(s->db), sql);
		return NULL;
	}
	n = sqlite3_bind_parameter_count(st);
	if ((n >= 1 && sqlite3_bind_int64(st, 1, a) != SQLITE_OK) ||
	    (n >= 2 && sqlite3_bind_int64(st, 2, b) != SQLITE_OK) ||
	    (n >= 3 && sqlite3_bind_text(st, 3, t, -1, SQLITE_STATIC) != SQLITE_OK) ||
	    (n >= 4 && sqlite3_bind_text(st, 4, u, -1, SQLITE_STATIC) != SQLITE_OK)) {
		snprintf(s->err, sizeof(s->err), "%s (SQL: %.160s)", sqlite3_errmsg(s->db), sql);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int store_exec(struct store *s, const char *sql, int64_t a, int64_t b, const char *t, const char *u)
{
	sqlite3_stmt *st = prepare_small(s, sql, a, b, t, u);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		snprintf(s->err, sizeof(s->err), "%s (SQL: %.160s)", sqlite3_errmsg(s->db), sql);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int store_query_int(struct store *s, const char *sql, int64_t a, int64_t b, int64_t *out)
{
	sqlite3_stmt *st = prepare_small(s, sql, a, b, NULL, NULL);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		snprintf(s->err, sizeof(s->err), "%s (SQL: %.160s)",
			 rc == SQLITE_DONE ? "no row" : sqlite3_errmsg(s->db), sql);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}
