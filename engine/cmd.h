/*
 * cmd.h - the subcommands: one function per command, one file per command.
 *
 * Each takes the arguments after the command name (argv[0] is the command) and
 * returns a sysexits(3) status.  main.c dispatches through a sorted table.
 */
#ifndef RECON_CMD_H
#define RECON_CMD_H

#include <stdio.h>

int cmd_check_profile(int argc, char **argv);
int cmd_ingest(int argc, char **argv);

/* Write CSV field S to F, quoted (by libcsv) only when it must be. Returns 0 or EOF. */
int cmd_csv_field(const char *s, FILE *f);

#endif
