/*
 * report.c - write a run's reports from the database (see report.h).
 *
 * Owns the temporary files until each is renamed into place.  Rows come from the
 * run tables in a fixed ORDER BY; amounts are printed exactly with the currency's
 * digits, instants as ISO-8601 UTC.  CSV fields are quoted by libcsv where needed,
 * lines end in CRLF (RFC 4180).
 */
#include "report.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "fsutil.h"
#include "fault.h"
#include "log.h"
#include "match.h"
#include "money.h"
#include "timeparse.h"
#include "banned.h"

#define CELLS_MAX 16

/* One report file being written: a temporary name until it is complete. */
struct out {
	FILE *f;
	char tmp[PATH_MAX];
	char path[PATH_MAX];
};

static int out_open(struct out *o, const char *dir, const char *name)
{
	int fd;

	if (snprintf(o->path, sizeof(o->path), "%s/%s", dir, name) >= (int)sizeof(o->path) ||
	    snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.XXXXXX", dir, name) >= (int)sizeof(o->tmp)) {
		log_event(LOG_ERROR, "output path too long", "dir", dir, LOG_END);
		return EX_CANTCREAT;
	}
	fd = mkstemp(o->tmp);
	if (fd >= 0) {
		/* mkstemp makes the file private; reports get the usual mode (umask). */
		mode_t mask = umask(0);

		umask(mask);
		if (fchmod(fd, 0666 & ~mask) != 0) {
			close(fd);
			unlink(o->tmp);
			fd = -1;
		}
	}
	if (fd < 0 || (o->f = fdopen(fd, "w")) == NULL) {
		log_event(LOG_ERROR, "cannot create report file", "file", o->tmp, "error", strerror(errno), LOG_END);
		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		return EX_CANTCREAT;
	}
	return 0;
}

static void out_abort(struct out *o)
{
	if (o->f) {
		fclose(o->f);
		o->f = NULL;
		unlink(o->tmp);
		o->tmp[0] = '\0';
	}
}

/* Flush, fsync and close the temporary file (still under its temporary name). */
static int out_finish(struct out *o)
{
	FILE *f = o->f;
	int failed = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
	int e = errno;

	o->f = NULL;
	if (fclose(f) != 0 && !failed) {
		failed = 1;
		e = errno;
	}
	if (failed) {
		log_event(LOG_ERROR, "cannot write report file", "file", o->path, "error", strerror(e), LOG_END);
		unlink(o->tmp);
		o->tmp[0] = '\0';
		return EX_IOERR;
	}
	return 0;
}

static int is_plain_number(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

const char *report_neutralise(const char *s, char *buf, size_t size)
{
	if (strchr("=+-@\t\r", *s) == NULL || *s == '\0' || is_plain_number(s))
		return s;
	snprintf(buf, size, "'%s", s);
	return buf;
}

/* One CSV row: neutralised, quoted where needed, CRLF.  Returns 0, or -1 when
 * memory for a long cell cannot be had (the report then fails: never a cut cell). */
static int put_row(FILE *f, const char *const *cells, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *cell = cells[i] ? cells[i] : "";
		size_t len = strlen(cell) + 2;
		char small[256], *buf = len <= sizeof(small) ? small : malloc(len);
		const char *v = buf ? report_neutralise(cell, buf, len) : NULL;

		if (v == NULL)
			return -1;
		if (i)
			fputc(',', f);
		if (strpbrk(v, ",\"\r\n") != NULL)
			csv_fwrite(f, v, strlen(v));
		else
			fputs(v, f);
		if (buf != small)
			free(buf);
	}
	fputs("\r\n", f);
	return 0;
}

static void put_header(FILE *f, const char *header)
{
	fputs(header, f);
	fputs("\r\n", f);
}

/* Column I as text ("" for NULL). */
static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

static void fmt_money(char *buf, size_t size, sqlite3_stmt *st, int amount_col, const char *currency)
{
	if (sqlite3_column_type(st, amount_col) == SQLITE_NULL ||
	    money_format_currency(sqlite3_column_int64(st, amount_col), currency, buf, size) < 0)
		buf[0] = '\0';
}

static void fmt_time(char *buf, size_t size, sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL || timeparse_format_utc(sqlite3_column_int64(st, i), buf, size) < 0)
		buf[0] = '\0';
}

static int prepare(sqlite3 *db, const char *sql, int64_t run, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		log_event(LOG_ERROR, "cannot read the run", "error", sqlite3_errmsg(db), "sql", sql, LOG_END);
		return EX_SOFTWARE;
	}
	sqlite3_bind_int64(*st, 1, run);
	return 0;
}

/* RC is the last sqlite3_step result; SQLITE_ROW means a row could not be written. */
static int finish_query(sqlite3 *db, sqlite3_stmt *st, int rc)
{
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW) {
		log_event(LOG_ERROR, "out of memory writing a report row", LOG_END);
		return EX_OSERR;
	}
	if (rc != SQLITE_DONE) {
		log_event(LOG_ERROR, "cannot read the run", "error", sqlite3_errmsg(db), LOG_END);
		return EX_SOFTWARE;
	}
	return 0;
}

static int write_double_charges(sqlite3 *db, int64_t run, FILE *f)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(db,
			 "SELECT case_id, order_ref, channel, currency, key_amount_minor, actual, amount_minor,"
			 " txn_ids, first_booked_us, last_booked_us, lower(hex(route_key)), action"
			 " FROM run_cases WHERE run_id = ?1 AND category = 'DOUBLE_CHARGE' AND status = 'open'"
			 " ORDER BY order_ref, currency, case_id", run, &st);

	if (rc)
		return rc;
	put_header(f, "case_id,order_ref,channel,currency,order_amount,charge_count,excess_amount,"
		      "txn_ids,first_booked_at,last_booked_at,route_key,action");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char amount[32], excess[32], first[40], last[40];
		const char *cells[12];

		fmt_money(amount, sizeof(amount), st, 4, col(st, 3));
		fmt_money(excess, sizeof(excess), st, 6, col(st, 3));
		fmt_time(first, sizeof(first), st, 8);
		fmt_time(last, sizeof(last), st, 9);
		cells[0] = col(st, 0);
		cells[1] = col(st, 1);
		cells[2] = col(st, 2);
		cells[3] = col(st, 3);
		cells[4] = amount;
		cells[5] = col(st, 5);
		cells[6] = excess;
		cells[7] = col(st, 7);
		cells[8] = first;
		cells[9] = last;
		cells[10] = col(st, 10);
		cells[11] = col(st, 11);
		if (put_row(f, cells, 12))
			break;
	}
	return finish_query(db, st, rc);
}

static int write_compensation(sqlite3 *db, int64_t run, int64_t run_no, FILE *f)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(db,
			 "SELECT c.case_id, c.category, c.action, c.order_ref, c.channel, c.currency, c.amount_minor,"
			 " c.txn_ids, c.ledger_event_ids, c.detail,"
			 " coalesce((SELECT r.run_no FROM case_first_seen AS x JOIN runs AS r ON r.run_id = x.run_id"
			 "  WHERE x.order_ref = c.order_ref AND x.case_id = c.case_id AND r.status = 'OK'), ?2),"
			 " c.status"
			 " FROM run_cases AS c WHERE c.run_id = ?1"
			 " ORDER BY c.status, c.category, c.order_ref, c.currency, c.case_id", run, &st);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 2, run_no);
	put_header(f, "case_id,category,action,order_ref,channel,currency,amount,txn_ids,"
		      "ledger_event_ids,detail,first_seen_run,status");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char amount[32];
		const char *cells[12];
		int i;

		fmt_money(amount, sizeof(amount), st, 6, col(st, 5));
		for (i = 0; i < 12; i++)
			cells[i] = col(st, i);
		cells[6] = amount;
		if (put_row(f, cells, 12))
			break;
	}
	return finish_query(db, st, rc);
}

static int write_anomalies(sqlite3 *db, int64_t run, FILE *f)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(db,
			 "SELECT case_id, order_ref, event_id, event, reason, channel, currency, amount_minor,"
			 " event_time_us FROM run_anomalies WHERE run_id = ?1"
			 " ORDER BY order_ref, event_time_us, event_row_id", run, &st);

	if (rc)
		return rc;
	put_header(f, "case_id,order_ref,event_id,event,reason,channel,currency,amount,event_time");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char amount[32], when[40];
		const char *cells[9];
		int i;

		fmt_money(amount, sizeof(amount), st, 7, col(st, 6));
		fmt_time(when, sizeof(when), st, 8);
		for (i = 0; i < 7; i++)
			cells[i] = col(st, i);
		cells[7] = amount;
		cells[8] = when;
		if (put_row(f, cells, 9))
			break;
	}
	return finish_query(db, st, rc);
}

static int write_rejects(sqlite3 *db, int64_t run, FILE *f)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(db,
			 "SELECT f.path, q.line, CASE WHEN q.field IS NULL THEN q.reason"
			 " ELSE q.field || ': ' || q.reason END, CAST(q.raw AS TEXT)"
			 " FROM run_files AS rf JOIN files AS f ON f.file_id = rf.file_id"
			 " JOIN quarantine AS q ON q.file_id = rf.file_id WHERE rf.run_id = ?1"
			 " ORDER BY f.file_id, q.line, q.quarantine_id", run, &st);

	if (rc)
		return rc;
	put_header(f, "file,line,reason,raw");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cells[4] = { col(st, 0), col(st, 1), col(st, 2), col(st, 3) };
		if (put_row(f, cells, 4))
			break;
	}
	return finish_query(db, st, rc);
}

static int write_summary_json(sqlite3 *db, int64_t run, int64_t run_no, const char *as_of, FILE *f)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(db,
		"SELECT json_object("
		" 'run', ?3, 'job', r.job, 'business_date', r.business_date, 'as_of', ?2,"
		" 'status', r.status, 'grace_seconds', r.grace_us / 1000000, 'window_seconds', r.window_us / 1000000,"
		" 'inputs', (SELECT json_group_array(json_object('path', path, 'sha256', sha, 'kind', kind,"
		"   'profile', profile, 'rows', rows_read, 'inserted', rows_inserted, 'duplicate', rows_duplicate,"
		"   'conflict', rows_conflict, 'rejected', rows_rejected, 'skipped', rows_skipped))"
		"   FROM (SELECT f.*, lower(hex(f.sha256)) AS sha FROM run_files AS rf JOIN files AS f"
		"         ON f.file_id = rf.file_id WHERE rf.run_id = r.run_id ORDER BY f.file_id)),"
		" 'cases', (SELECT json_group_array(json_object('category', category, 'currency', currency,"
		"   'cases', cases, 'amount', recon_money(amount_minor, currency)))"
		"   FROM (SELECT * FROM run_summary WHERE run_id = r.run_id"
		"         AND category NOT IN ('MATCHED', 'PENDING') ORDER BY category, currency)),"
		" 'matched', (SELECT json_group_array(json_object('currency', currency, 'keys', cases,"
		"   'amount', recon_money(amount_minor, currency)))"
		"   FROM (SELECT * FROM run_summary WHERE run_id = r.run_id AND category = 'MATCHED' ORDER BY currency)),"
		" 'pending', (SELECT json_group_array(json_object('currency', currency, 'keys', cases,"
		"   'amount', recon_money(amount_minor, currency)))"
		"   FROM (SELECT * FROM run_summary WHERE run_id = r.run_id AND category = 'PENDING' ORDER BY currency)),"
		" 'open_cases', coalesce(r.open_cases, 0),"
		" 'resolved_cases', coalesce(r.resolved_cases, 0),"
		" 'match_rate_percent', (SELECT CASE WHEN t = 0 THEN '100.0000'"
		"   ELSE printf('%d.%04d', m * 1000000 / t / 10000, m * 1000000 / t % 10000) END"
		"   FROM (SELECT coalesce(sum(CASE WHEN category = 'MATCHED' THEN cases END), 0) AS m,"
		"                coalesce(sum(CASE WHEN category <> 'LEDGER_ANOMALY' THEN cases END), 0) AS t"
		"         FROM run_summary WHERE run_id = r.run_id)),"
		" 'durations_ms', json_object('match', r.match_ms))"
		" FROM runs AS r WHERE r.run_id = ?1", run, &st);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 2, as_of, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, run_no);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		fputs(col(st, 0), f);
		fputc('\n', f);
		rc = sqlite3_step(st);
	}
	return finish_query(db, st, rc);
}

static int write_summary_txt(sqlite3 *db, int64_t run, int64_t run_no, const char *as_of, FILE *f)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(db,
			 "SELECT category, currency, cases, amount_minor FROM run_summary WHERE run_id = ?1"
			 " ORDER BY category = 'MATCHED', category = 'PENDING', category, currency", run, &st);

	if (rc)
		return rc;
	fprintf(f, "recon run %lld, as of %s\n\n", (long long)run_no, as_of);
	fprintf(f, "%-22s %-8s %8s %22s\n", "category", "currency", "count", "amount");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char amount[32];

		fmt_money(amount, sizeof(amount), st, 3, col(st, 1));
		fprintf(f, "%-22s %-8s %8lld %22s\n", col(st, 0), col(st, 1),
			(long long)sqlite3_column_int64(st, 2), amount);
	}
	if ((rc = finish_query(db, st, rc)) != 0)
		return rc;
	rc = prepare(db,
		     "SELECT coalesce(open_cases, 0), coalesce(resolved_cases, 0),"
		     " (SELECT count(*) FROM run_cases WHERE run_id = ?1 AND category = 'DOUBLE_CHARGE'"
		     "  AND status = 'open') FROM runs WHERE run_id = ?1", run, &st);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		fprintf(f, "\nopen cases: %lld (double charges: %lld); resolved by this run: %lld\n"
			   "MATCHED and PENDING count route keys; see compensation.csv for every case.\n",
			(long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 2),
			(long long)sqlite3_column_int64(st, 1));
		rc = sqlite3_step(st);
	}
	return finish_query(db, st, rc);
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void put_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static int write_metrics(sqlite3 *db, int64_t run, FILE *f)
{
	static const char *const names[] = { "recon_rows_ingested", "recon_rows_rejected",
					     "recon_rows_duplicate", "recon_rows_skipped" };
	static const char *const help[] = {
		"Rows of the run's input files stored as new rows.",
		"Rows of the run's input files quarantined as unreadable.",
		"Rows of the run's input files already known (overlapping downloads).",
		"Rows of the run's input files skipped on purpose by the profile.",
	};
	sqlite3_stmt *st = NULL;
	size_t n, i;
	const struct match_action *acts = match_actions(&n);
	int rc;

	/* One metric family at a time, each a gauge by file kind and profile. */
	for (i = 0; i < 4; i++) {
		rc = prepare(db,
			     "SELECT f.kind, f.profile, sum(f.rows_inserted), sum(f.rows_rejected),"
			     " sum(f.rows_duplicate), sum(f.rows_skipped)"
			     " FROM run_files AS rf JOIN files AS f ON f.file_id = rf.file_id WHERE rf.run_id = ?1"
			     " GROUP BY f.kind, f.profile ORDER BY f.kind, f.profile", run, &st);
		if (rc)
			return rc;
		fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", names[i], help[i], names[i]);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			fprintf(f, "%s{kind=\"", names[i]);
			put_label(f, col(st, 0));
			fputs("\",profile=\"", f);
			put_label(f, col(st, 1));
			fprintf(f, "\"} %lld\n", (long long)sqlite3_column_int64(st, (int)i + 2));
		}
		if ((rc = finish_query(db, st, rc)) != 0)
			return rc;
	}
	rc = prepare(db, "SELECT category, count(*) FROM run_cases WHERE run_id = ?1 AND status = 'open'"
			 " GROUP BY category", run, &st);
	if (rc)
		return rc;
	fprintf(f, "# HELP recon_cases Open cases found by the run, by category.\n# TYPE recon_cases gauge\n");
	{
		int64_t counts[32] = { 0 };

		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			for (i = 0; i < n && i < 32; i++)
				if (strcmp(acts[i].category, col(st, 0)) == 0)
					counts[i] = sqlite3_column_int64(st, 1);
		}
		if ((rc = finish_query(db, st, rc)) != 0)
			return rc;
		for (i = 0; i < n && i < 32; i++)
			fprintf(f, "recon_cases{category=\"%s\"} %lld\n", acts[i].category, (long long)counts[i]);
	}
	rc = prepare(db, "SELECT coalesce(match_ms, 0), coalesce(CAST(strftime('%s', finished_at) AS INTEGER), 0)"
			 " FROM runs WHERE run_id = ?1", run, &st);
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		long long ms = sqlite3_column_int64(st, 0);

		fprintf(f, "# HELP recon_run_duration_seconds Time the run took to match.\n"
			   "# TYPE recon_run_duration_seconds gauge\nrecon_run_duration_seconds %lld.%03lld\n",
			ms / 1000, ms % 1000);
		fprintf(f, "# HELP recon_last_success_timestamp_seconds When the run finished successfully.\n"
			   "# TYPE recon_last_success_timestamp_seconds gauge\n"
			   "recon_last_success_timestamp_seconds %lld\n", (long long)sqlite3_column_int64(st, 1));
		rc = sqlite3_step(st);
	}
	return finish_query(db, st, rc);
}

/* The successful run numbered RUN_NO, or the latest one: its run_id, number and
 * as-of.  Returns 0 if there is none, -1 on a database error. */
static int64_t pick_run(sqlite3 *db, int64_t run_no, int64_t *no, int64_t *as_of_us)
{
	sqlite3_stmt *st = NULL;
	int64_t found = 0;

	if (sqlite3_prepare_v2(db, run_no ? "SELECT run_id, run_no, as_of_us FROM runs WHERE run_no = ?1"
					  : "SELECT run_id, run_no, as_of_us FROM runs WHERE run_no IS NOT NULL"
					    " ORDER BY run_no DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (run_no)
		sqlite3_bind_int64(st, 1, run_no);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = sqlite3_column_int64(st, 0);
		*no = sqlite3_column_int64(st, 1);
		*as_of_us = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return found;
}

int report_write(struct store *s, int64_t run_no, const char *out_dir)
{
	sqlite3 *db = store_handle(s);
	int64_t as_of_us = 0, no = 0, run = pick_run(db, run_no, &no, &as_of_us);

	if (run <= 0) {
		char id[24];
		snprintf(id, sizeof(id), "%lld", (long long)run_no);
		log_event(LOG_ERROR, run < 0 ? "cannot read the runs" :
			  run_no ? "no successful run with this number" : "no successful run yet; run recon match first",
			  "run", run_no ? id : NULL, LOG_END);
		return run < 0 ? EX_SOFTWARE : EX_DATAERR;
	}
	return report_write_run(s, run, no, out_dir);
}

int report_write_run(struct store *s, int64_t run, int64_t run_no, const char *out_dir)
{
	static const struct {
		const char *name;
		int kind;
	} files[] = {
		{ "double_charges.csv", 0 }, { "compensation.csv", 1 }, { "ledger_anomalies.csv", 2 },
		{ "rejects.csv", 3 },        { "summary.json", 4 },     { "summary.txt", 5 },
		{ "metrics.prom", 6 },
	};
	sqlite3 *db = store_handle(s);
	char as_of[40];
	int64_t as_of_us = 0;
	size_t i;
	int rc = 0, dfd;
	enum { NFILES = 7 };
	struct out outs[NFILES];

	_Static_assert(sizeof(files) / sizeof(files[0]) == NFILES, "one temporary file per report");
	sqlite3_stmt *st = NULL;

	if (match_register_functions(db, NULL)) {
		log_event(LOG_ERROR, "cannot register SQL functions", "error", sqlite3_errmsg(db), LOG_END);
		return EX_SOFTWARE;
	}
	if (sqlite3_prepare_v2(db, "SELECT as_of_us FROM runs WHERE run_id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, run);
		if (sqlite3_step(st) == SQLITE_ROW)
			as_of_us = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	timeparse_format_utc(as_of_us, as_of, sizeof(as_of));
	if (fs_make_dirs(out_dir) != 0) {
		log_event(LOG_ERROR, "cannot create output directory", "dir", out_dir, "error", strerror(errno), LOG_END);
		return EX_CANTCREAT;
	}
	/* Read the whole run from one snapshot, even while another process writes. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		log_event(LOG_ERROR, "cannot read the database", "error", sqlite3_errmsg(db), LOG_END);
		return EX_SOFTWARE;
	}
	/* Temporary files left by a run killed while it wrote reports. */
	for (i = 0; i < NFILES; i++) {
		char pattern[PATH_MAX];
		glob_t g;
		size_t k;

		if (snprintf(pattern, sizeof(pattern), "%s/.%s.??????", out_dir, files[i].name) >= (int)sizeof(pattern))
			continue;
		if (glob(pattern, GLOB_NOSORT, NULL, &g) == 0)
			for (k = 0; k < g.gl_pathc; k++)
				unlink(g.gl_pathv[k]);
		globfree(&g);
	}
	/* Every file is written complete under a temporary name first; only when
	 * all are written are they renamed into place, so that a failure leaves
	 * the previous reports as they were, not a mix of old and new. */
	memset(outs, 0, sizeof(outs));
	for (i = 0; i < NFILES && rc == 0; i++) {
		struct out *o = &outs[i];

		rc = out_open(o, out_dir, files[i].name);
		if (rc)
			break;
		switch (files[i].kind) {
		case 0: rc = write_double_charges(db, run, o->f); break;
		case 1: rc = write_compensation(db, run, run_no, o->f); break;
		case 2: rc = write_anomalies(db, run, o->f); break;
		case 3: rc = write_rejects(db, run, o->f); break;
		case 4: rc = write_summary_json(db, run, run_no, as_of, o->f); break;
		case 5: rc = write_summary_txt(db, run, run_no, as_of, o->f); break;
		default: rc = write_metrics(db, run, o->f); break;
		}
		if (rc)
			out_abort(o);
		else
			rc = out_finish(o);
		fault_point("report-file");
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	for (i = 0; i < NFILES && rc == 0; i++) {
		fault_point("report-rename");
		if (rename(outs[i].tmp, outs[i].path) != 0) {
			log_event(LOG_ERROR, "cannot write report file", "file", outs[i].path, "error",
				  strerror(errno), LOG_END);
			rc = EX_IOERR;
		}
	}
	for (i = 0; i < NFILES; i++)
		if (rc && outs[i].tmp[0] != '\0')
			unlink(outs[i].tmp); /* a no-op for those already renamed */
	if (rc)
		return rc;
	dfd = open(out_dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || fsync(dfd) != 0) {
		log_event(LOG_ERROR, "cannot sync output directory", "dir", out_dir, "error", strerror(errno), LOG_END);
		if (dfd >= 0)
			close(dfd);
		return EX_IOERR;
	}
	close(dfd);
	return 0;
}
