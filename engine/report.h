/*
 * report.h - the run's reports, written from the database only.
 *
 * double_charges.csv, compensation.csv, ledger_anomalies.csv, rejects.csv,
 * summary.json, summary.txt and metrics.prom, each written atomically (temporary
 * file, fsync, rename, fsync of the directory), UTF-8, RFC 4180 CSV with a header
 * row and rows in a deterministic order.  Cells a spreadsheet would run as a
 * formula are neutralised (see report.c and the README).
 */
#ifndef RECON_REPORT_H
#define RECON_REPORT_H

#include <stdint.h>

#include "store.h"

/*
 * Write the reports of the successful run numbered RUN_NO (0: the latest) into
 * OUT_DIR, created if missing.  Returns 0 or a sysexits status (EX_CANTCREAT when
 * the directory or a file cannot be created, EX_IOERR when a write fails,
 * EX_DATAERR when there is no such run), with the error logged; a failed report
 * leaves no partial file.
 */
int report_write(struct store *s, int64_t run_no, const char *out_dir);

/* The same for the run RUN_ID (a job's run, still RUNNING) that will be numbered
 * RUN_NO when it succeeds. */
int report_write_run(struct store *s, int64_t run_id, int64_t run_no, const char *out_dir);

/*
 * Neutralise a cell for spreadsheets: a value starting with '=', '+', '-', '@',
 * a tab or a carriage return, other than a plain decimal number, gets a leading
 * apostrophe.  Writes into BUF (SIZE bytes) and returns BUF, or returns S itself
 * when it needs nothing.
 */
const char *report_neutralise(const char *s, char *buf, size_t size);

#endif
