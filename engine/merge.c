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
 * Conflicts, as one database would record them.  A shard records the
 * conflicts among its own orders' rows; those are copied.  A txn_id or
 * event_id re-sent with another order reference can also land in a second
 * shard, and then both shards keep a version and match it.  The merge cannot
 * undo that (the shard has matched the newcomer), so it reports it as one
 * database would: every version but the first (by the file's place in shard
 * 0's list, then the line) becomes a conflict row, moved in its file's counts
 * from inserted to conflict, and an error line names its order and the first
 * one's, which is where the merged reports can differ from a single run's.
 * Such a row's raw text is not stored anywhere, so its raw column says what
 * happened instead, and kept_row_id is the row id in the shard of the first.
 *
 * Ids are found by joining each pair of shards over both identity indexes,
 * covering: about (N - 1) / 2 index lookups per stored row.  Every version of
 * a found id is then read from every shard and ranked once, so an id kept by
 * three shards gives two conflicts, not three.
 */
static const char *const id_kinds[2][3] = {
	/* kind, table, row id; the identity is (channel, txn_id) or event_id */
	{ "statement", "statement_rows", "row_id" },
	{ "ledger", "ledger_events", "event_row_id" },
};

static int merge_conflicts(sqlite3 *db, struct sql *b, const char *const *paths, size_t n)
{
	sqlite3_stmt *st = NULL;
	size_t i, j;
	int k, rc;

	add(b, "CREATE TEMP TABLE IF NOT EXISTS m_ids (k INTEGER, channel TEXT, ident TEXT);"
	       "CREATE TEMP TABLE IF NOT EXISTS m_ver (k INTEGER, channel TEXT, ident TEXT, shard INTEGER,"
	       " file_id INTEGER, path TEXT, line INTEGER, order_ref TEXT, row INTEGER);"
	       "DELETE FROM temp.m_ids; DELETE FROM temp.m_ver;");
	if (exec(db, b, "cannot merge the shards' conflicts"))
		return -1;
	for (k = 0; k < 2; k++)
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++) {
				if (k == 0)
					add(b, "INSERT INTO temp.m_ids SELECT 0, a.channel, a.txn_id"
					       " FROM s%zu.statement_rows AS a JOIN s%zu.statement_rows AS x"
					       " ON x.channel = a.channel AND x.txn_id = a.txn_id"
					       " WHERE a.txn_id IS NOT NULL;", i, j);
				else
					add(b, "INSERT INTO temp.m_ids SELECT 1, NULL, a.event_id"
					       " FROM s%zu.ledger_events AS a JOIN s%zu.ledger_events AS x"
					       " ON x.event_id = a.event_id WHERE a.event_id IS NOT NULL;", i, j);
				/* A statement per pair: the text stays one pair long. */
				if (exec(db, b, "cannot merge the shards' conflicts"))
					return -1;
			}
	/* Every version of those ids in every shard.  A file shard 0 never saw
	 * has no merged file_id: its version is logged but cannot be recorded. */
	for (k = 0; k < 2; k++)
		for (i = 0; i < n; i++)
			add(b, "INSERT INTO temp.m_ver SELECT m.k, m.channel, m.ident, %zu, mf.file_id, f.path, a.line,"
			       " a.order_ref, a.%s FROM (SELECT DISTINCT k, channel, ident FROM temp.m_ids WHERE k = %d)"
			       " AS m JOIN s%zu.%s AS a ON %s JOIN s%zu.files AS f ON f.file_id = a.file_id"
			       " LEFT JOIN main.files AS mf ON mf.sha256 = f.sha256;",
			    i, id_kinds[k][2], k, i, id_kinds[k][1],
			    k ? "a.event_id = m.ident" : "a.channel = m.channel AND a.txn_id = m.ident", i);
	if (exec(db, b, "cannot merge the shards' conflicts"))
		return -1;
	add(b, "CREATE TEMP TABLE IF NOT EXISTS m_later (k INTEGER, ident TEXT, shard INTEGER, file_id INTEGER,"
	       " path TEXT, line INTEGER, order_ref TEXT, first_shard INTEGER, first_ref TEXT, first_row INTEGER);"
	       "DELETE FROM temp.m_later;"
	       /* every version but the first of its id */
	       "INSERT INTO temp.m_later SELECT k, ident, shard, file_id, path, line, order_ref, f_shard, f_ref,"
	       " f_row FROM (SELECT *, row_number() OVER w AS nth, first_value(shard) OVER w AS f_shard,"
	       " first_value(order_ref) OVER w AS f_ref, first_value(row) OVER w AS f_row FROM temp.m_ver"
	       " WINDOW w AS (PARTITION BY k, channel, ident ORDER BY file_id IS NULL, file_id, line, shard))"
	       " WHERE nth > 1;"
	       "UPDATE files SET rows_inserted = rows_inserted - c.n, rows_conflict = rows_conflict + c.n"
	       " FROM (SELECT file_id, count(*) AS n FROM temp.m_later WHERE file_id IS NOT NULL"
	       " GROUP BY file_id) AS c WHERE files.file_id = c.file_id;"
	       "INSERT INTO conflicts (file_id, line, kind, ident, kept_row_id, raw) SELECT * FROM (");
	each_shard(b, n, "mf.file_id, c.line, c.kind, c.ident, c.kept_row_id, c.raw",
		   "conflicts AS c JOIN @files AS f ON f.file_id = c.file_id"
		   " JOIN main.files AS mf ON mf.sha256 = f.sha256");
	add(b, " UNION ALL SELECT file_id, line, CASE k WHEN 1 THEN 'ledger' ELSE 'statement' END, ident, first_row,"
	       " CAST('kept by two shards: order_ref ' || first_ref || ' (first) and ' || order_ref AS BLOB)"
	       " FROM temp.m_later WHERE file_id IS NOT NULL) ORDER BY 1, 2, 3, 4;");
	if (exec(db, b, "cannot merge the shards' conflicts"))
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT k, ident, order_ref, shard, first_ref, first_shard, path, line"
				   " FROM temp.m_later ORDER BY file_id IS NULL, file_id, line, shard",
			       -1, &st, NULL) != SQLITE_OK)
		goto db_fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		static const int text_col[3] = { 1, 2, 4 };  /* ident, order_ref, first_ref */
		char line[24];
		const char *text[3];
		int c;

		for (c = 0; c < 3; c++)
			if ((text[c] = (const char *)sqlite3_column_text(st, text_col[c])) == NULL)
				goto db_fail;
		snprintf(line, sizeof(line), "%lld", (long long)sqlite3_column_int64(st, 7));
		log_event(LOG_ERROR,
			  "id kept by two shards; one database would keep the first and report the other as a"
			  " conflict, so the reports can differ from a single run's for these two orders",
			  "kind", id_kinds[sqlite3_column_int(st, 0) ? 1 : 0][0], "id", text[0],
			  "first_order", text[2], "first_shard", paths[sqlite3_column_int64(st, 5)],
			  "later_order", text[1], "later_shard", paths[sqlite3_column_int64(st, 3)],
			  "file", (const char *)sqlite3_column_text(st, 6), "line", line, LOG_END);
	}
	if (rc != SQLITE_DONE)
		goto db_fail;
	sqlite3_finalize(st);
	return 0;
db_fail:
	log_event(LOG_ERROR, "cannot merge the shards' conflicts", "error", sqlite3_errmsg(db), LOG_END);
	sqlite3_finalize(st);
	return -1;
}

int merge_shards(struct store *merged, const char *const *paths, size_t n)
{
	sqlite3 *db = store_handle(merged);
	struct sql b = { NULL, 0, 0, 0 };
	char mode[64] = "";
	int status = EX_SOFTWARE;
	sqlite3_stmt *st = NULL;

	/* Every shard is attached at once: SQLite's limit on attached databases
	 * (10 in Debian's build, SQLITE_MAX_ATTACHED) bounds N. */
	if (n == 0 || n > MAX_SHARDS || (int)n > sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, -1)) {
		char most[16];

		snprintf(most, sizeof(most), "%d", sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, -1));
		log_event(LOG_ERROR, "give 1 to as many shard databases as SQLite attaches at once;"
			  " run fewer shards", "most", most, LOG_END);
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
	if (merge_conflicts(db, &b, paths, n))
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
