/*
 * merge.c - combine shard databases (see merge.h).
 *
 * The shards are attached as s0, s1, ... and every statement is a UNION ALL
 * over them.  Only those schema names, which recon makes itself, are written
 * into the SQL text; the shard paths are bound (ATTACH ?1).
 */
#include "merge.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "log.h"
#include "banned.h"

#define MAX_SHARDS 1024

struct sql {
	char *p;
	size_t len, cap;
	int bad;
};

static void add(struct sql *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct sql *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->bad = 1;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t want = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
			char *q = realloc(b->p, want);

			if (q == NULL) {
				b->bad = 1;
				return;
			}
			b->p = q;
			b->cap = want;
		}
	}
}

/* SELECT_LIST FROM sI.TABLE_AND_REST, for every shard, joined by UNION ALL;
 * "@" in the rest stands for "sI." too. */
static void each_shard(struct sql *b, size_t n, const char *select_list, const char *from)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *p = from, *at;

		add(b, "%sSELECT %s FROM s%zu.", i ? " UNION ALL " : "", select_list, i);
		/* Every further table of the shard is written "@name". */
		while ((at = strchr(p, '@')) != NULL) {
			add(b, "%.*ss%zu.", (int)(at - p), p, i);
			p = at + 1;
		}
		add(b, "%s", p);
	}
}

static int exec(sqlite3 *db, struct sql *b, const char *what)
{
	int rc;

	if (b->bad) {
		log_event(LOG_ERROR, "out of memory", LOG_END);
		return -1;
	}
	rc = sqlite3_exec(db, b->p, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		log_event(LOG_ERROR, what, "error", sqlite3_errmsg(db), LOG_END);
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
	return rc == SQLITE_OK ? 0 : -1;
}

/* PRAGMA sI.NAME of an attached schema, or 0 when it cannot be read. */
static int shard_pragma(sqlite3 *db, size_t i, const char *name)
{
	char sql[64];
	sqlite3_stmt *st = NULL;
	int v = 0;

	snprintf(sql, sizeof(sql), "PRAGMA s%zu.%s", i, name);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The shard setting of attached schema sI: K into *K, N into *N. */
static int shard_of(sqlite3 *db, size_t i, const char *path, unsigned *k, unsigned *n, char *mode, size_t size)
{
	char sql[160];
	sqlite3_stmt *st = NULL;
	int rc, ok = 0, version;

	if (shard_pragma(db, i, "application_id") != STORE_APPLICATION_ID) {
		log_event(LOG_ERROR, "not a recon database", "shard", path, LOG_END);
		return -1;
	}
	/* A shard is attached, not opened, so nothing upgrades its schema here;
	 * its own next run (or any recon command on it) does. */
	version = shard_pragma(db, i, "user_version");
	if (version != STORE_SCHEMA_VERSION) {
		char have[16], want[16];

		snprintf(have, sizeof(have), "%d", version);
		snprintf(want, sizeof(want), "%d", STORE_SCHEMA_VERSION);
		log_event(LOG_ERROR, version < STORE_SCHEMA_VERSION
				     ? "the shard's schema is older than this recon's: upgrade it by running"
				       " any recon command on it once (recon runs --db SHARD), then merge"
				     : "the shard's schema is newer than this recon understands",
			  "shard", path, "schema_version", have, "expected", want, LOG_END);
		return -1;
	}
	snprintf(sql, sizeof(sql),
		 "SELECT (SELECT value FROM s%zu.settings WHERE name = 'shard'),"
		 " (SELECT value FROM s%zu.settings WHERE name = 'routekey')", i, i);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_event(LOG_ERROR, "cannot read the shard's settings (not a recon database at this version?)",
			  "shard", path, "error", sqlite3_errmsg(db), LOG_END);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL &&
	    sscanf((const char *)sqlite3_column_text(st, 0), "%u/%u", k, n) == 2 && *k < *n) {
		snprintf(mode, size, "%s",
			 sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
		ok = 1;
	}
	sqlite3_finalize(st);
	if (!ok) {
		log_event(LOG_ERROR, "not a shard database: ingest it with --shard K/N", "shard", path, LOG_END);
		return -1;
	}
	return 0;
}

static int attach_all(sqlite3 *db, const char *const *paths, size_t n, char *mode, size_t size)
{
	unsigned char *seen = calloc(n, 1);
	size_t i;
	int rc = -1;

	if (seen == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		char sql[64], m[64];
		sqlite3_stmt *st = NULL;
		unsigned k = 0, total = 0;

		snprintf(sql, sizeof(sql), "ATTACH DATABASE ?1 AS s%zu", i);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_bind_text(st, 1, paths[i], -1, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE) {
			log_event(LOG_ERROR, "cannot open shard database", "shard", paths[i], "error",
				  sqlite3_errmsg(db), LOG_END);
			sqlite3_finalize(st);
			goto out;
		}
		sqlite3_finalize(st);
		if (shard_of(db, i, paths[i], &k, &total, m, sizeof(m)))
			goto out;
		if (total != n) {
			char want[24], have[24];
			snprintf(want, sizeof(want), "%zu", n);
			snprintf(have, sizeof(have), "%u", total);
			log_event(LOG_ERROR, "give every shard of the job, each once", "shard", paths[i],
				  "shards_given", want, "shards_in_job", have, LOG_END);
			goto out;
		}
		if (seen[k]) {
			log_event(LOG_ERROR, "shard given twice", "shard", paths[i], LOG_END);
			goto out;
		}
		seen[k] = 1;
		if (i == 0)
			snprintf(mode, size, "%s", m);
		else if (strcmp(mode, m) != 0) {
			log_event(LOG_ERROR, "shards keyed differently; use the same key file for all", "shard",
				  paths[i], LOG_END);
			goto out;
		}
	}
	rc = 0;
out:
	free(seen);
	return rc;
}

/*
 * Ids kept by two shards.  One database keeps the first version of a txn_id or
 * event_id and records a later one with other content as a conflict; shards
 * decide by order, so a re-sent id with another order reference can land in a
 * second shard, and both are kept and matched there.  The merge cannot undo
 * that (the shard has matched the newcomer), so it reports it as a single
 * database would: a conflict row, the file's counts moved from inserted to
 * conflict, and an error line per id naming both orders, which is where the
 * merged reports can differ from a single run's.  The later version by ingest
 * order (the file's place in shard 0's list, then the line) is the newcomer.
 *
 * Each pair of shards is one join over both identity indexes, covering, so the
 * cost is about (N - 1) / 2 index lookups per stored row.
 */
static const char *const id_kinds[2][2] = {
	{ "statement", "statement_rows" },  /* identity: channel, txn_id */
	{ "ledger", "ledger_events" },      /* identity: event_id */
};

static int cross_shard_ids(sqlite3 *db, struct sql *b, const char *const *paths, size_t n)
{
	sqlite3_stmt *st = NULL;
	size_t i, j, k;
	int rc = -1;

	add(b, "CREATE TEMP TABLE IF NOT EXISTS m_ids (kind TEXT, i INTEGER, j INTEGER, channel TEXT, ident TEXT);"
	       "CREATE TEMP TABLE IF NOT EXISTS m_clash (kind TEXT, ident TEXT, i INTEGER, i_file INTEGER,"
	       " i_line INTEGER, i_ref TEXT, i_row INTEGER, j INTEGER, j_file INTEGER, j_line INTEGER,"
	       " j_ref TEXT, j_row INTEGER);"
	       "DELETE FROM temp.m_ids; DELETE FROM temp.m_clash;");
	if (exec(db, b, "cannot check the shards' ids"))
		return -1;
	for (k = 0; k < 2; k++)
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++) {
				if (k == 0)
					add(b, "INSERT INTO temp.m_ids SELECT 'statement', %zu, %zu, a.channel, a.txn_id"
					       " FROM s%zu.statement_rows AS a JOIN s%zu.statement_rows AS x"
					       " ON x.channel = a.channel AND x.txn_id = a.txn_id"
					       " WHERE a.txn_id IS NOT NULL", i, j, i, j);
				else
					add(b, "INSERT INTO temp.m_ids SELECT 'ledger', %zu, %zu, NULL, a.event_id"
					       " FROM s%zu.ledger_events AS a JOIN s%zu.ledger_events AS x"
					       " ON x.event_id = a.event_id WHERE a.event_id IS NOT NULL", i, j, i, j);
				if (exec(db, b, "cannot check the shards' ids"))
					return -1;
			}
	/* The rare hits, with their files as the merged database numbers them. */
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT kind, i, j FROM temp.m_ids ORDER BY 1, 2, 3", -1, &st, NULL) !=
	    SQLITE_OK)
		goto db_fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int led = strcmp((const char *)sqlite3_column_text(st, 0), "ledger") == 0;
		const char *row = led ? "event_row_id" : "row_id";

		i = (size_t)sqlite3_column_int64(st, 1);
		j = (size_t)sqlite3_column_int64(st, 2);
		add(b, "INSERT INTO temp.m_clash SELECT m.kind, m.ident, m.i, fa.file_id, a.line, a.order_ref, a.%s,"
		       " m.j, fx.file_id, x.line, x.order_ref, x.%s FROM temp.m_ids AS m"
		       " JOIN s%zu.%s AS a ON %s JOIN s%zu.%s AS x ON %s"
		       " JOIN main.files AS fa ON fa.sha256 = (SELECT sha256 FROM s%zu.files WHERE file_id = a.file_id)"
		       " JOIN main.files AS fx ON fx.sha256 = (SELECT sha256 FROM s%zu.files WHERE file_id = x.file_id)"
		       " WHERE m.kind = '%s' AND m.i = %zu AND m.j = %zu",
		    row, row, i, id_kinds[led][1],
		    led ? "a.event_id = m.ident" : "a.channel = m.channel AND a.txn_id = m.ident",
		    j, id_kinds[led][1],
		    led ? "x.event_id = m.ident" : "x.channel = m.channel AND x.txn_id = m.ident",
		    i, j, id_kinds[led][0], i, j);
		if (exec(db, b, "cannot check the shards' ids")) {
			rc = -1;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		goto db_fail;
	sqlite3_finalize(st);
	st = NULL;
	/* Order each pair: first (kept) and later (the conflict), then record. */
	add(b, "CREATE TEMP TABLE IF NOT EXISTS m_later AS SELECT * FROM temp.m_clash WHERE 0;"
	       "DELETE FROM temp.m_later;"
	       "INSERT INTO temp.m_later SELECT kind, ident, i, i_file, i_line, i_ref, i_row,"
	       " j, j_file, j_line, j_ref, j_row FROM temp.m_clash WHERE (i_file, i_line) < (j_file, j_line)"
	       " UNION ALL SELECT kind, ident, j, j_file, j_line, j_ref, j_row,"
	       " i, i_file, i_line, i_ref, i_row FROM temp.m_clash WHERE (i_file, i_line) > (j_file, j_line);"
	       "INSERT INTO conflicts (file_id, line, kind, ident, kept_row_id, raw)"
	       " SELECT j_file, j_line, kind, ident, i_row, CAST('kept twice, by two shards: order_ref ' || i_ref"
	       " || ' (first) and ' || j_ref AS BLOB) FROM temp.m_later ORDER BY j_file, j_line;"
	       "UPDATE files SET rows_inserted = rows_inserted - c.n, rows_conflict = rows_conflict + c.n"
	       " FROM (SELECT j_file, count(*) AS n FROM temp.m_later GROUP BY j_file) AS c"
	       " WHERE files.file_id = c.j_file;");
	if (exec(db, b, "cannot record the shards' shared ids"))
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT m.kind, m.ident, m.i, m.i_ref, m.j, m.j_ref, f.path, m.j_line"
				   " FROM temp.m_later AS m JOIN main.files AS f ON f.file_id = m.j_file"
				   " ORDER BY m.j_file, m.j_line", -1, &st, NULL) != SQLITE_OK)
		goto db_fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char line[24];

		snprintf(line, sizeof(line), "%lld", (long long)sqlite3_column_int64(st, 7));
		log_event(LOG_ERROR,
			  "id kept by two shards; one database would keep the first and report the other as a"
			  " conflict, so the reports can differ from a single run's for these two orders",
			  "kind", (const char *)sqlite3_column_text(st, 0), "id", (const char *)sqlite3_column_text(st, 1),
			  "first_order", (const char *)sqlite3_column_text(st, 3),
			  "first_shard", paths[sqlite3_column_int64(st, 2)],
			  "later_order", (const char *)sqlite3_column_text(st, 5),
			  "later_shard", paths[sqlite3_column_int64(st, 4)],
			  "file", (const char *)sqlite3_column_text(st, 6), "line", line, LOG_END);
	}
	if (rc != SQLITE_DONE)
		goto db_fail;
	rc = 0;
	goto out;
db_fail:
	log_event(LOG_ERROR, "cannot check the shards' ids", "error", sqlite3_errmsg(db), LOG_END);
	rc = -1;
out:
	sqlite3_finalize(st);
	return rc;
}

int merge_shards(struct store *merged, const char *const *paths, size_t n)
{
	sqlite3 *db = store_handle(merged);
	struct sql b = { NULL, 0, 0, 0 };
	char mode[64] = "";
	int status = EX_SOFTWARE;
	sqlite3_stmt *st = NULL;

	if (n == 0 || n > MAX_SHARDS) {
		log_event(LOG_ERROR, "give 1 to 1024 shard databases", LOG_END);
		return EX_USAGE;
	}
	if (attach_all(db, paths, n, mode, sizeof(mode))) {
		status = EX_DATAERR;
		goto out;
	}
	if (store_begin(merged)) {
		log_event(LOG_ERROR, "cannot write the merged database", "error", store_errmsg(merged), LOG_END);
		goto out;
	}
	/* Run numbers every shard has; refuse shards whose runs disagree. */
	add(&b, "CREATE TEMP TABLE IF NOT EXISTS m_runs (run_no INTEGER PRIMARY KEY);"
		"DELETE FROM temp.m_runs;"
		"INSERT INTO temp.m_runs SELECT run_no FROM (");
	each_shard(&b, n, "run_no, as_of_us, grace_us, window_us", "runs WHERE status = 'OK'");
	add(&b, ") GROUP BY run_no HAVING count(*) = %zu;", n);
	if (exec(db, &b, "cannot read the shards' runs"))
		goto fail;
	add(&b, "SELECT count(*) FROM (SELECT run_no FROM (");
	each_shard(&b, n, "run_no, as_of_us, grace_us, window_us", "runs WHERE status = 'OK'");
	add(&b, ") WHERE run_no IN (SELECT run_no FROM temp.m_runs) GROUP BY run_no"
		" HAVING count(DISTINCT as_of_us) > 1 OR count(DISTINCT grace_us) > 1"
		" OR count(DISTINCT window_us) > 1)");
	if (b.bad || sqlite3_prepare_v2(db, b.p, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		log_event(LOG_ERROR, "cannot read the shards' runs", "error", sqlite3_errmsg(db), LOG_END);
		goto fail;
	}
	if (sqlite3_column_int64(st, 0) > 0) {
		log_event(LOG_ERROR, "the shards' runs of one number have different as-of times or windows;"
			  " run every shard for the same dates", LOG_END);
		status = EX_DATAERR;
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	b.len = 0;

	/* Rebuild: derived data only. */
	add(&b, "DELETE FROM case_first_seen; DELETE FROM run_summary; DELETE FROM anomaly_spans;"
		"DELETE FROM case_spans;"
		"DELETE FROM run_files; DELETE FROM run_watch; DELETE FROM runs;"
		"DELETE FROM quarantine; DELETE FROM conflicts; DELETE FROM file_skips; DELETE FROM files;");
	/* Files and rejects as shard 0 saw them, with the rows each shard kept summed. */
	add(&b, "CREATE TEMP TABLE IF NOT EXISTS m_files (sha256 BLOB PRIMARY KEY, ins INTEGER, dup INTEGER,"
		" conf INTEGER);"
		"DELETE FROM temp.m_files;"
		"INSERT INTO temp.m_files SELECT sha256, sum(rows_inserted), sum(rows_duplicate),"
		" sum(rows_conflict) FROM (");
	each_shard(&b, n, "sha256, rows_inserted, rows_duplicate, rows_conflict", "files");
	add(&b, ") GROUP BY sha256;"
		"INSERT INTO files SELECT f.file_id, f.sha256, f.path, f.kind, f.profile, f.profile_sha256,"
		" f.channel, f.bytes, f.rows_read, m.ins, m.dup, m.conf, f.rows_rejected, f.rows_skipped,"
		" f.ingested_at FROM s0.files AS f JOIN temp.m_files AS m ON m.sha256 = f.sha256;"
		"INSERT INTO file_skips SELECT * FROM s0.file_skips;"
		"INSERT INTO quarantine SELECT * FROM s0.quarantine;");
	/* Runs by number, timings the slowest shard's.  Every merged run is a full
	 * match of its own: its cases are one-run spans below, the latest run's
	 * open ones live. */
	add(&b, "INSERT INTO runs (run_id, run_no, job, business_date, as_of_us, grace_us, window_us, status,"
		" started_at, finished_at, params, ingest_ms, match_ms, report_ms, match_mode, open_cases,"
		" resolved_cases)"
		" SELECT r.run_no, r.run_no, r.job, r.business_date, r.as_of_us, r.grace_us, r.window_us, 'OK',"
		" r.started_at, r.finished_at, r.params, t.i, t.m, t.r, 'full', t.o, t.v"
		" FROM s0.runs AS r JOIN (SELECT run_no, max(ingest_ms) AS i, max(match_ms) AS m,"
		" max(report_ms) AS r, sum(coalesce(open_cases, 0)) AS o, sum(coalesce(resolved_cases, 0)) AS v"
		" FROM (");
	each_shard(&b, n, "run_no, ingest_ms, match_ms, report_ms, open_cases, resolved_cases",
		   "runs WHERE status = 'OK'");
	add(&b, ") GROUP BY run_no) AS t ON t.run_no = r.run_no"
		" WHERE r.run_no IN (SELECT run_no FROM temp.m_runs);"
		"INSERT INTO run_files SELECT r.run_no, rf.file_id FROM s0.run_files AS rf"
		" JOIN s0.runs AS r ON r.run_id = rf.run_id WHERE r.run_no IN (SELECT run_no FROM temp.m_runs);");
	/* Cases and anomalies: each order is in one shard. */
	add(&b, "INSERT INTO case_spans (from_run, case_id, to_run, category, action, status, order_ref, channel,"
		" currency, key_amount_minor, amount_minor, expected, actual, first_booked_us, last_booked_us,"
		" route_key, txn_ids, ledger_event_ids, detail) ");
	each_shard(&b, n,
		   "r.run_no, c.case_id, CASE WHEN c.status = 'open' AND r.run_no = (SELECT max(run_no)"
		   " FROM temp.m_runs) THEN " STORE_LIVE_SPAN " ELSE r.run_no + 1 END,"
		   " c.category, c.action, c.status, c.order_ref, c.channel, c.currency,"
		   " c.key_amount_minor, c.amount_minor, c.expected, c.actual, c.first_booked_us,"
		   " c.last_booked_us, c.route_key, c.txn_ids, c.ledger_event_ids, c.detail",
		   "run_cases AS c JOIN @runs AS r ON r.run_id = c.run_id"
		   " WHERE r.run_no IN (SELECT run_no FROM temp.m_runs)");
	add(&b, ";INSERT INTO anomaly_spans (from_run, case_id, to_run, order_ref, event_id, event, reason,"
		" channel, currency, amount_minor, event_time_us, event_row_id) ");
	each_shard(&b, n,
		   "r.run_no, a.case_id, CASE WHEN r.run_no = (SELECT max(run_no) FROM temp.m_runs) THEN "
		   STORE_LIVE_SPAN " ELSE r.run_no + 1 END, a.order_ref, a.event_id, a.event, a.reason,"
		   " a.channel, a.currency, a.amount_minor, a.event_time_us, a.event_row_id",
		   "run_anomalies AS a JOIN @runs AS r ON r.run_id = a.run_id"
		   " WHERE r.run_no IN (SELECT run_no FROM temp.m_runs)");
	add(&b, ";INSERT INTO run_summary (run_id, category, currency, cases, amount_minor)"
		" SELECT run_no, category, currency, sum(cases), sum(amount_minor) FROM (");
	each_shard(&b, n, "r.run_no, x.category, x.currency, x.cases, x.amount_minor",
		   "run_summary AS x JOIN @runs AS r ON r.run_id = x.run_id"
		   " WHERE r.run_no IN (SELECT run_no FROM temp.m_runs)");
	add(&b, ") GROUP BY run_no, category, currency;"
		"INSERT INTO case_first_seen (order_ref, case_id, run_id) SELECT order_ref, case_id, min(run_id)"
		" FROM run_cases WHERE status = 'open' GROUP BY order_ref, case_id;");
	if (exec(db, &b, "cannot merge the shards"))
		goto fail;
	if (cross_shard_ids(db, &b, paths, n))
		goto fail;
	if (store_setting_set(merged, "routekey", mode) || store_setting_set(merged, "shard", "merged") ||
	    store_commit(merged)) {
		log_event(LOG_ERROR, "cannot write the merged database", "error", store_errmsg(merged), LOG_END);
		goto fail;
	}
	status = 0;
	goto out;
fail:
	sqlite3_finalize(st);
	st = NULL;
	if (status == EX_SOFTWARE || status == EX_DATAERR)
		store_rollback(merged);
out:
	free(b.p);
	return status;
}
