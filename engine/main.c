/*
 * main.c - recon's entry point: global options, the subcommand table, exit status.
 *
 * Exit statuses follow sysexits(3); the table is in README.md and in --help.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "log.h"
#include "store.h"
#include "banned.h"

#ifndef RECON_VERSION
#define RECON_VERSION "0.1.0"
#endif

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* Sorted by name: looked up with bsearch; a unit test checks the order. */
static const struct command commands[] = {
	{ "check-profile", cmd_check_profile, "parse a file with a profile and show what it yields" },
	{ "ingest", cmd_ingest, "read statement or ledger files into the database" },
	{ "match", cmd_match, "match ledger and statements as of a time; record the cases" },
	{ "merge", cmd_merge, "combine the databases of a job's shards into one run history" },
	{ "report", cmd_report, "write a run's reports (CSV, JSON, text, Prometheus)" },
	{ "run", cmd_run, "run a job for a business date: ingest, match, report" },
	{ "runs", cmd_runs, "list the runs: numbers, status, inputs, cases, timings" },
	{ "show", cmd_show, "everything recon knows of one order: events, rows, keys, cases" },
};

static int cmp_command(const void *key, const void *elem)
{
	return strcmp(key, ((const struct command *)elem)->name);
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: recon [-v | -q] COMMAND [ARGS]\n"
		   "       recon --version | --help\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'recon COMMAND --help' describes a command.\n\n"
		   "options:\n"
		   "  -v, --verbose   log info and debug events too\n"
		   "  -q, --quiet     log errors only\n\n"
		   "exit status:\n"
		   "  0   success\n"
		   "  64  usage error (bad command line)\n"
		   "  65  data error: a file was refused (structure, encoding, too many rejects)\n"
		   "  66  an input file does not exist\n"
		   "  70  internal error (database, library)\n"
		   "  71  system error (out of memory)\n"
		   "  73  cannot create an output file\n"
		   "  74  input/output error\n"
		   "  75  temporary failure: another run holds the database; try again later\n"
		   "  3   recon run --fail-on-cases: the run found new cases\n");
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	char err[200];
	int i;

	log_init();
	if (store_library_init(err, sizeof(err))) {
		fprintf(stderr, "recon: internal: %s\n", err);
		return EX_SOFTWARE;
	}
	for (i = 1; (size_t)i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i - 1].name, commands[i].name) >= 0) {
			fprintf(stderr, "recon: internal: command table out of order at '%s'\n", commands[i].name);
			return EX_SOFTWARE;
		}
	}
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("recon %s\n", RECON_VERSION);
			return fflush(stdout) == 0 ? 0 : EX_IOERR;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return fflush(stdout) == 0 ? 0 : EX_IOERR;
		} else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
			log_set_level(LOG_DEBUG);
		} else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
			log_set_level(LOG_ERROR);
		} else {
			fprintf(stderr, "recon: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	cmd = bsearch(argv[i], commands, sizeof(commands) / sizeof(commands[0]), sizeof(commands[0]),
		      cmp_command);
	if (cmd == NULL) {
		fprintf(stderr, "recon: unknown command '%s'\n", argv[i]);
		usage(stderr);
		return EX_USAGE;
	}
	{
		int status = cmd->fn(argc - i, argv + i);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			log_event(LOG_ERROR, "cannot write to standard output", LOG_END);
			return status ? status : EX_IOERR;
		}
		return status;
	}
}
