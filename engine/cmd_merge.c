/*
 * cmd_merge.c - recon merge: combine the shard databases of a job.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "log.h"
#include "merge.h"
#include "report.h"
#include "runlog.h"
#include "store.h"
#include "banned.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: recon merge --db MERGED [--out DIR] SHARD_DB...\n\n"
		"Combine the databases of every shard of a job (each ingested or run with\n"
		"--shard K/N) into MERGED: the run history of the run numbers all shards\n"
		"have, with each run's cases, anomalies and summary.  MERGED is rebuilt on\n"
		"every merge; 'recon report --db MERGED' then writes the reports a single\n"
		"database would have given.\n\n"
		"  --out DIR   also write the latest run's reports into DIR\n");
}

int cmd_merge(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *out = NULL;
	struct store *s = NULL;
	char err[600];
	int c, i, status, lock = -1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (db == NULL || optind >= argc) {
		fprintf(stderr, "recon merge: --db and at least one SHARD_DB are required\n");
		usage(stderr);
		return EX_USAGE;
	}
	for (i = optind; i < argc; i++)
		if (strcmp(argv[i], db) == 0) {
			fprintf(stderr, "recon merge: the merged database must not be one of the shards\n");
			return EX_USAGE;
		}
	status = runlog_lock_or_explain(db, &lock);
	if (status)
		return status;
	if (store_open(db, &s, err, sizeof(err))) {
		log_event(LOG_ERROR, "cannot open database", "error", err, LOG_END);
		runlog_unlock(lock);
		return EX_CANTCREAT;
	}
	status = merge_shards(s, (const char *const *)argv + optind, (size_t)(argc - optind));
	if (status == 0) {
		char shards[24];
		snprintf(shards, sizeof(shards), "%d", argc - optind);
		log_event(LOG_INFO, "merged", "db", db, "shards", shards, LOG_END);
		if (out)
			status = report_write(s, 0, out);
	}
	store_close(s);
	runlog_unlock(lock);
	return status;
}
