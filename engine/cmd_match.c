/*
 * cmd_match.c - recon match: fold the ledger, match it against the statements and
 * record the run's cases; recon report: write a run's reports.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "log.h"
#include "match.h"
#include "report.h"
#include "routekey.h"
#include "runlog.h"
#include "store.h"
#include "timeparse.h"
#include "banned.h"

int cmd_parse_instant(const char *text, int64_t *us)
{
	struct time_parts tp;

	if (timeparse_parse(text, strlen(text), "iso8601", &tp) != NULL || !tp.has_offset)
		return -1;
	*us = tp.local_us - (int64_t)tp.offset_seconds * 1000000;
	return 0;
}

static void match_usage(FILE *f)
{
	fprintf(f,
		"usage: recon match --db PATH --as-of TIMESTAMP [--grace DURATION] [--window DURATION]\n"
		"                   [--full-match]\n\n"
		"Match everything in the database visible at TIMESTAMP (ISO-8601 with an offset,\n"
		"e.g. 2026-11-21T00:00:00Z): fold the ledger, count expected and actual\n"
		"transactions per route key, and record the run's cases.  Rows dated after\n"
		"TIMESTAMP are invisible, so a rerun of a past date is reproducible.\n\n"
		"  --grace DURATION    a charge becomes CHARGED_NOT_RECORDED only when booked\n"
		"                      before as-of minus this (default 30m)\n"
		"  --window DURATION   a payment or refund is overdue only when recorded before\n"
		"                      as-of minus this (default 48h); DURATION is N followed\n"
		"                      by s, m, h or d\n"
		"  --full-match        match every order; by default a run builds on the latest\n"
		"                      matched run, when it succeeded and has the same windows\n"
		"                      and an as-of not after this one, and matches only the\n"
		"                      orders with new rows, open cases or pending keys (the\n"
		"                      results are the same)\n");
}

int cmd_match(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "as-of", required_argument, NULL, 'a' },
		{ "grace", required_argument, NULL, 'g' },
		{ "window", required_argument, NULL, 'w' },
		{ "full-match", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct match_options opts;
	struct match_result res;
	struct runlog_params rp;
	int64_t run_no = 0;
	struct store *s = NULL;
	struct routekey *rk = NULL;
	const char *db = NULL, *as_of = NULL;
	char err[600];
	int c, status, lock = -1;

	memset(&opts, 0, sizeof(opts));
	opts.grace_us = MATCH_GRACE_DEFAULT_US;
	opts.window_us = MATCH_WINDOW_DEFAULT_US;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'a': as_of = optarg; break;
		case 'F': opts.full = 1; break;
		case 'g':
		case 'w':
			if (timeparse_parse_duration(optarg, c == 'g' ? &opts.grace_us : &opts.window_us)) {
				fprintf(stderr, "recon match: --%s takes a duration such as 30m or 48h, not '%s'\n",
					c == 'g' ? "grace" : "window", optarg);
				return EX_USAGE;
			}
			break;
		case 'h': match_usage(stdout); return 0;
		default: match_usage(stderr); return EX_USAGE;
		}
	}
	if (db == NULL || as_of == NULL || optind != argc) {
		fprintf(stderr, "recon match: --db and --as-of are required\n");
		match_usage(stderr);
		return EX_USAGE;
	}
	if (cmd_parse_instant(as_of, &opts.as_of_us)) {
		fprintf(stderr, "recon match: --as-of takes an ISO-8601 time with an offset, such as"
				" 2026-11-21T00:00:00Z, not '%s'\n", as_of);
		return EX_USAGE;
	}
	rk = routekey_new(NULL, 0);
	if (rk == NULL) {
		log_event(LOG_ERROR, "cannot set up SHA-256 (OpenSSL)", LOG_END);
		return EX_SOFTWARE;
	}
	status = runlog_lock_or_explain(db, &lock);
	if (status) {
		routekey_free(rk);
		return status;
	}
	if (store_open(db, &s, err, sizeof(err))) {
		log_event(LOG_ERROR, "cannot open database", "error", err, LOG_END);
		routekey_free(rk);
		runlog_unlock(lock);
		return EX_CANTCREAT;
	}
	rp.job = NULL;
	rp.business_date = NULL;
	rp.as_of_us = opts.as_of_us;
	rp.grace_us = opts.grace_us;
	rp.window_us = opts.window_us;
	rp.params_json = NULL;
	status = runlog_abort_stale(s) < 0 || runlog_start(s, &rp, &opts.run_id) ||
			 runlog_add_unclaimed_files(s, opts.run_id, opts.as_of_us)
		 ? EX_SOFTWARE : match_run(s, rk, &opts, &res);
	if (status == 0 && runlog_finish(s, opts.run_id, 1, NULL, &run_no))
		status = EX_SOFTWARE;
	if (status && opts.run_id) {
		char why[32];

		snprintf(why, sizeof(why), "exit status %d", status);
		runlog_finish(s, opts.run_id, 0, why, NULL);
	}
	if (status == 0) {
		char run[24], open[24], resolved[24];

		snprintf(run, sizeof(run), "%lld", (long long)run_no);
		snprintf(open, sizeof(open), "%lld", (long long)res.open_cases);
		snprintf(resolved, sizeof(resolved), "%lld", (long long)res.resolved_cases);
		log_event(LOG_INFO, "matched", "run", run, "as_of", as_of, "open_cases", open,
			  "resolved_cases", resolved, LOG_END);
		printf("run %s: %s open cases, %s resolved\n", run, open, resolved);
	}
	store_close(s);
	runlog_unlock(lock);
	routekey_free(rk);
	return status;
}

static void report_usage(FILE *f)
{
	fprintf(f,
		"usage: recon report --db PATH --out DIR [--run ID]\n\n"
		"Write the reports of run number ID (default: the latest successful run) into DIR:\n"
		"double_charges.csv, compensation.csv, ledger_anomalies.csv, rejects.csv,\n"
		"summary.json, summary.txt and metrics.prom, each replaced atomically.\n");
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "run", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct store *s = NULL;
	const char *db = NULL, *out = NULL;
	long long run = 0;
	char err[600], *end;
	int c, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'o': out = optarg; break;
		case 'r':
			run = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || run <= 0) {
				fprintf(stderr, "recon report: --run takes a run number, not '%s'\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'h': report_usage(stdout); return 0;
		default: report_usage(stderr); return EX_USAGE;
		}
	}
	if (db == NULL || out == NULL || optind != argc) {
		fprintf(stderr, "recon report: --db and --out are required\n");
		report_usage(stderr);
		return EX_USAGE;
	}
	if (store_open(db, &s, err, sizeof(err))) {
		log_event(LOG_ERROR, "cannot open database", "error", err, LOG_END);
		return EX_CANTCREAT;
	}
	status = report_write(s, (int64_t)run, out);
	store_close(s);
	return status;
}
