/*
 * cmd.h - the subcommands: one function per command, one file per command.
 *
 * Each takes the arguments after the command name (argv[0] is the command) and
 * returns a sysexits(3) status.  main.c dispatches through a sorted table.
 */
#ifndef RECON_CMD_H
#define RECON_CMD_H

#include <stdint.h>
#include <stdio.h>

int cmd_check_profile(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_runs(int argc, char **argv);

/* "2026-11-21T00:00:00Z" (an offset is required) -> microseconds.  0 or -1. */
int cmd_parse_instant(const char *text, int64_t *us);


/* Write CSV field S to F, quoted (by libcsv) only when it must be. Returns 0 or EOF. */
int cmd_csv_field(const char *s, FILE *f);

#endif
