/*
 * cmd_run.c - recon run: a job's whole night (ingest every source file of the
 * business date, match, report) as one recorded run; recon runs: the history.
 *
 * Safe to rerun: files already ingested are skipped, and a run killed at any
 * instant leaves the database consistent (each file, the match and the run's
 * outcome are transactions) and no partial report (each file is renamed into
 * place complete); the next run marks the dead one ABORTED and redoes the work.
 */
#include <getopt.h>
#include <glob.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cmd.h"
#include "ingest.h"
#include "job.h"
#include "fault.h"
#include "log.h"
#include "match.h"
#include "profile.h"
#include "report.h"
#include "routekey.h"
#include "runlog.h"
#include "store.h"
#include "timeparse.h"
#include "banned.h"

#define EXIT_NEW_CASES 3

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: recon run JOB [--date YYYY-MM-DD] [--as-of TIMESTAMP] [--db PATH] [--out DIR]\n"
		"                 [--fail-on-cases] [--full-match] [--shard K/N]\n\n"
		"Run the job file JOB for one business date: ingest every source file of that\n"
		"date (already ingested files are skipped), match as of the end of the date in\n"
		"the job's time zone, and write the reports to the job's output directory.\n"
		"One run at a time per database: a second one exits at once with status 75.\n\n"
		"  --date D          the business date (default: yesterday in the job's zone)\n"
		"  --as-of TS        match as of TS instead of the end of the date\n"
		"  --db PATH         use this database instead of the job's\n"
		"  --out DIR         write the reports here instead of the job's output\n"
		"  --fail-on-cases   exit 3 when the run finds cases no earlier run found\n"
		"  --full-match      match every order, not only those that may have changed\n"
		"                    since the previous run (the reports are the same)\n"
		"  --shard K/N       only the orders of shard K of N, into this shard's own\n"
		"                    database (--db); recon merge combines the shards\n");
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "YYYY-MM-DD" of a valid date, and the UTC instant its next day starts in ZONE. */
static int date_end(const char *date, const char *zone, int64_t *end_us)
{
	struct time_parts tp;

	if (strlen(date) != 10 || timeparse_parse(date, 10, "%Y-%m-%d", &tp) != NULL)
		return -1;
	return timeparse_local_to_utc(tp.local_us + 86400LL * 1000000, zone, end_us) ? -1 : 0;
}

/* The run's parameters as JSON, built by SQLite. */
static char *params_json(struct store *s, const struct job *j, const char *date, const char *as_of,
			 const char *db, const char *out)
{
	sqlite3_stmt *st = NULL;
	char *json = NULL;

	if (sqlite3_prepare_v2(store_handle(s),
			       "SELECT json_object('job_file', ?1, 'job', ?2, 'date', ?3, 'as_of', ?4,"
			       " 'database', ?5, 'output', ?6, 'timezone', ?7)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, j->path, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, j->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, date, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, as_of, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, db, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, out, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, j->timezone, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			json = strdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return json;
}

/* Ingest every file of every source for DATE into run RUN.  Returns a sysexits status. */
static int ingest_sources(struct store *s, struct routekey *rk, const struct job *j, const char *date,
			  int64_t run, const uint32_t shard[2])
{
	size_t i, k;
	int status = 0;

	for (i = 0; i < j->n_sources; i++) {
		const struct job_source *src = &j->sources[i];
		char err[600];
		char *pattern = job_expand(j, src->files, date);
		char *profile_path = NULL;
		struct profile *p = NULL;
		glob_t g;
		int rc;

		memset(&g, 0, sizeof(g));
		if (pattern == NULL)
			return EX_OSERR;
		/* A profile given as a path is relative to the job file, like every path. */
		if (strchr(src->profile, '/') || strstr(src->profile, ".ini"))
			profile_path = job_expand(j, src->profile, date);
		p = profile_load(profile_path ? profile_path : src->profile, err, sizeof(err));
		free(profile_path);
		if (p == NULL) {
			log_event(LOG_ERROR, "cannot load profile", "source", src->name, "error", err, LOG_END);
			free(pattern);
			return EX_USAGE;
		}
		rc = glob(pattern, 0, NULL, &g);
		if (rc == GLOB_NOMATCH && src->required) {
			log_event(LOG_ERROR, "no input file for a required source", "source", src->name,
				  "pattern", pattern, LOG_END);
			if (!status)
				status = EX_NOINPUT;
		} else if (rc != 0 && rc != GLOB_NOMATCH) {
			log_event(LOG_ERROR, "cannot list input files", "source", src->name, "pattern", pattern, LOG_END);
			if (!status)
				status = EX_IOERR;
		}
		for (k = 0; rc == 0 && k < g.gl_pathc; k++) {
			struct ingest_options io = { src->channel, j->reject_share_ppm, shard[0], shard[1] };
			struct ingest_result res;
			int st = ingest_file(s, p, rk, g.gl_pathv[k], &io, &res);

			if (st == 0 && runlog_add_file(s, run, res.file_id))
				st = EX_SOFTWARE;
			if (st && !status)
				status = st;
		}
		globfree(&g);
		profile_free(p);
		free(pattern);
	}
	return status;
}

/* Open cases of RUN that no earlier successful run reported (RUN_NO is RUN's
 * number once it succeeds). */
static int count_new_cases(struct store *s, int64_t run, int64_t run_no, int64_t *n)
{
	return store_query_int(s,
			       "SELECT count(*) FROM run_cases AS c WHERE c.run_id = ?1 AND c.status = 'open'"
			       " AND NOT EXISTS (SELECT 1 FROM case_first_seen AS x JOIN runs AS r ON r.run_id = x.run_id"
			       "  WHERE x.order_ref = c.order_ref AND x.case_id = c.case_id AND r.status = 'OK'"
			       "  AND r.run_no < ?2)",
			       run, run_no, n);
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "date", required_argument, NULL, 'D' },
		{ "as-of", required_argument, NULL, 'a' },
		{ "db", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "fail-on-cases", no_argument, NULL, 'f' },
		{ "full-match", no_argument, NULL, 'F' },
		{ "shard", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *date_arg = NULL, *as_of_arg = NULL, *db_arg = NULL, *out_arg = NULL;
	struct job *j = NULL;
	struct store *s = NULL;
	struct routekey *rk = NULL;
	struct match_options mo;
	struct match_result mr;
	struct runlog_params rp;
	unsigned char key[ROUTEKEY_KEY_MAX], key_sha[ROUTEKEY_LEN];
	size_t key_len = 0;
	char err[600], date[11], as_of[40], *db = NULL, *out = NULL, *params = NULL;
	int64_t run = 0, run_no = 0, t0, ingest_ms = 0, report_ms = 0, new_cases = 0;
	int c, status = 0, lock = -1, fail_on_cases = 0, full_match = 0;
	uint32_t shard[2] = { 0, 0 };

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'D': date_arg = optarg; break;
		case 'a': as_of_arg = optarg; break;
		case 'd': db_arg = optarg; break;
		case 'o': out_arg = optarg; break;
		case 'f': fail_on_cases = 1; break;
		case 'F': full_match = 1; break;
		case 'S':
			if (ingest_parse_shard(optarg, &shard[0], &shard[1])) {
				fprintf(stderr, "recon run: --shard takes K/N with 0 <= K < N <= 1024, not '%s'\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'h': run_usage(stdout); return 0;
		default: run_usage(stderr); return EX_USAGE;
		}
	}
	if (argc - optind != 1) {
		run_usage(stderr);
		return EX_USAGE;
	}
	j = job_load(argv[optind], err, sizeof(err));
	if (j == NULL) {
		log_event(LOG_ERROR, "cannot load job", "error", err, LOG_END);
		return EX_USAGE;
	}
	fail_on_cases |= j->fail_on_cases;
	memset(&mo, 0, sizeof(mo));
	mo.grace_us = j->grace_us;
	mo.window_us = j->window_us;
	if (date_arg) {
		snprintf(date, sizeof(date), "%s", date_arg);
	} else {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		if (timeparse_utc_to_local_date(((int64_t)now.tv_sec - 86400) * 1000000, j->timezone, date)) {
			status = EX_SOFTWARE;
			goto out;
		}
	}
	if (date_end(date, j->timezone, &mo.as_of_us)) {
		fprintf(stderr, "recon run: --date takes a date such as 2026-11-20, not '%s'\n", date);
		status = EX_USAGE;
		goto out;
	}
	if (as_of_arg && cmd_parse_instant(as_of_arg, &mo.as_of_us)) {
		fprintf(stderr, "recon run: --as-of takes an ISO-8601 time with an offset, such as"
				" 2026-11-21T00:00:00Z, not '%s'\n", as_of_arg);
		status = EX_USAGE;
		goto out;
	}
	timeparse_format_utc(mo.as_of_us, as_of, sizeof(as_of));
	db = db_arg ? strdup(db_arg) : job_expand(j, j->database, date);
	out = out_arg ? strdup(out_arg) : job_expand(j, j->output, date);
	if (db == NULL || out == NULL) {
		status = EX_OSERR;
		goto out;
	}
	if (j->key_file) {
		char *kf = job_expand(j, j->key_file, date);
		int bad = kf == NULL || routekey_read_key_file(kf, key, &key_len, key_sha, err, sizeof(err));

		free(kf);
		if (bad) {
			log_event(LOG_ERROR, "cannot load key file", "error", err, LOG_END);
			status = EX_NOINPUT;
			goto out;
		}
	}
	rk = routekey_new(key_len ? key : NULL, key_len);
	if (rk == NULL) {
		status = EX_SOFTWARE;
		goto out;
	}
	status = runlog_lock_or_explain(db, &lock);
	if (status)
		goto out;
	if (store_open(db, &s, err, sizeof(err))) {
		log_event(LOG_ERROR, "cannot open database", "error", err, LOG_END);
		status = EX_CANTCREAT;
		goto out;
	}
	if (runlog_abort_stale(s) < 0 || ingest_check_key_mode(s, key_len ? key_sha : NULL) ||
	    ingest_check_shard(s, shard[0], shard[1])) {
		status = EX_SOFTWARE;
		goto out;
	}
	params = params_json(s, j, date, as_of, db, out);
	rp.job = j->name;
	rp.business_date = date;
	rp.as_of_us = mo.as_of_us;
	rp.grace_us = mo.grace_us;
	rp.window_us = mo.window_us;
	rp.params_json = params;
	if (runlog_start(s, &rp, &run)) {
		status = EX_SOFTWARE;
		goto out;
	}
	log_event(LOG_INFO, "run started", "job", j->name, "date", date, "as_of", as_of, "db", db, LOG_END);

	t0 = now_ms();
	status = ingest_sources(s, rk, j, date, run, shard);
	ingest_ms = now_ms() - t0;
	if (status)
		goto failed;
	mo.job = j->name;
	mo.business_date = date;
	mo.run_id = run;
	mo.full = full_match;
	status = match_run(s, rk, &mo, &mr);
	if (status)
		goto failed;
	t0 = now_ms();
	if (runlog_next_no(s, &run_no)) {
		status = EX_SOFTWARE;
		goto failed;
	}
	status = report_write_run(s, run, run_no, out);
	report_ms = now_ms() - t0;
	if (status)
		goto failed;
	fault_point("run-finish");
	if (runlog_times(s, run, ingest_ms, report_ms) || count_new_cases(s, run, run_no, &new_cases) ||
	    runlog_finish(s, run, 1, NULL, &run_no)) {
		status = EX_SOFTWARE;
		goto failed;
	}
	printf("run %lld (job %s, date %s, as of %s): %lld open cases (%lld new), %lld resolved; reports in %s\n",
	       (long long)run_no, j->name, date, as_of, (long long)mr.open_cases, (long long)new_cases,
	       (long long)mr.resolved_cases, out);
	if (fail_on_cases && new_cases > 0)
		status = EXIT_NEW_CASES;
	goto out;
failed:
	{
		char why[64];

		snprintf(why, sizeof(why), "exit status %d", status);
		runlog_times(s, run, ingest_ms, report_ms);
		runlog_finish(s, run, 0, why, NULL);
		log_event(LOG_ERROR, "run failed", "job", j->name, "date", date, "status", why, LOG_END);
	}
out:
	store_close(s);
	runlog_unlock(lock);
	routekey_free(rk);
	OPENSSL_cleanse(key, sizeof(key));
	free(params);
	free(db);
	free(out);
	job_free(j);
	return status;
}

static void runs_usage(FILE *f)
{
	fprintf(f, "usage: recon runs --db PATH [--limit N]\n\n"
		   "List the runs, newest first: number (successful runs only), attempt id, job,\n"
		   "business date, as-of, status, input files and rows, cases and durations.\n");
}

int cmd_runs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL;
	long limit = 20;
	struct store *s = NULL;
	sqlite3_stmt *st = NULL;
	char err[600], *end;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'l':
			limit = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || limit < 1) {
				fprintf(stderr, "recon runs: --limit takes a positive number, not '%s'\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'h': runs_usage(stdout); return 0;
		default: runs_usage(stderr); return EX_USAGE;
		}
	}
	if (db == NULL || optind != argc) {
		runs_usage(stderr);
		return EX_USAGE;
	}
	if (store_open(db, &s, err, sizeof(err))) {
		log_event(LOG_ERROR, "cannot open database", "error", err, LOG_END);
		return EX_CANTCREAT;
	}
	if (sqlite3_prepare_v2(store_handle(s),
			       "SELECT coalesce(CAST(r.run_no AS TEXT), '-'), r.run_id, coalesce(r.job, '-'),"
			       " coalesce(r.business_date, '-'),"
			       " strftime('%Y-%m-%dT%H:%M:%SZ', r.as_of_us / 1000000, 'unixepoch'), r.status,"
			       " (SELECT count(*) FROM run_files AS f WHERE f.run_id = r.run_id),"
			       " (SELECT coalesce(sum(x.rows_read), 0) FROM run_files AS f JOIN files AS x"
			       "  ON x.file_id = f.file_id WHERE f.run_id = r.run_id),"
			       " coalesce(r.open_cases, 0), coalesce(r.resolved_cases, 0),"
			       " coalesce(r.ingest_ms, 0), coalesce(r.match_ms, 0), coalesce(r.report_ms, 0),"
			       " r.started_at, coalesce(r.error, '')"
			       " FROM runs AS r ORDER BY r.run_id DESC LIMIT ?1", -1, &st, NULL) != SQLITE_OK) {
		log_event(LOG_ERROR, "cannot read the runs", "error", sqlite3_errmsg(store_handle(s)), LOG_END);
		store_close(s);
		return EX_SOFTWARE;
	}
	sqlite3_bind_int64(st, 1, limit);
	printf("%-4s %-7s %-12s %-10s %-20s %-8s %5s %9s %6s %8s %9s %9s %9s %s\n", "run", "attempt", "job",
	       "date", "as_of", "status", "files", "rows", "cases", "resolved", "ingest_ms", "match_ms",
	       "report_ms", "started");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		printf("%-4s %-7lld %-12s %-10s %-20s %-8s %5lld %9lld %6lld %8lld %9lld %9lld %9lld %s%s%s\n",
		       sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1),
		       sqlite3_column_text(st, 2), sqlite3_column_text(st, 3), sqlite3_column_text(st, 4),
		       sqlite3_column_text(st, 5), (long long)sqlite3_column_int64(st, 6),
		       (long long)sqlite3_column_int64(st, 7), (long long)sqlite3_column_int64(st, 8),
		       (long long)sqlite3_column_int64(st, 9), (long long)sqlite3_column_int64(st, 10),
		       (long long)sqlite3_column_int64(st, 11), (long long)sqlite3_column_int64(st, 12),
		       sqlite3_column_text(st, 13), *sqlite3_column_text(st, 14) ? " " : "",
		       sqlite3_column_text(st, 14));
	}
	sqlite3_finalize(st);
	store_close(s);
	return rc == SQLITE_DONE ? 0 : EX_SOFTWARE;
}
