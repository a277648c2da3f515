/*
 * runlog.h - one writer per database, and the record of every run.
 *
 * Writers (ingest, match, run) hold an exclusive lock on DB.lock beside the
 * database for their whole life; the kernel drops it when the process dies, so a
 * run left RUNNING in the runs table can then be marked ABORTED by the next
 * writer.  Readers (report, show, runs, the sqlite3 shell) take no lock: WAL mode
 * lets them read the last committed state while a run writes.
 */
#ifndef RECON_RUNLOG_H
#define RECON_RUNLOG_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * Take the writer lock of the database at DB_PATH without waiting.  Returns 0
 * and the lock's descriptor in *FD; 1 when another process holds it; -1 with a
 * message in ERR when the lock file cannot be used.
 */
int runlog_lock(const char *db_path, int *fd, char *err, size_t errlen);
void runlog_unlock(int fd);

/*
 * Take the lock or explain why not, for a writing command: logs the refusal
 * (naming the database and the RUNNING run) and returns the sysexits status to
 * exit with (EX_TEMPFAIL when another run holds it), or 0 with *FD set.
 */
int runlog_lock_or_explain(const char *db_path, int *fd);

/* Mark every run still RUNNING as ABORTED (call with the lock held).  Returns the
 * number marked, or -1. */
int runlog_abort_stale(struct store *s);

struct runlog_params {
	const char *job;
	const char *business_date;
	int64_t as_of_us, grace_us, window_us;
	const char *params_json;   /* the parameters, as JSON text */
};

/* Record a new RUNNING run.  Returns 0 and *RUN_ID, or -1. */
int runlog_start(struct store *s, const struct runlog_params *p, int64_t *run_id);
/* The run covers FILE_ID (idempotent).  Returns 0 or -1. */
int runlog_add_file(struct store *s, int64_t run_id, int64_t file_id);
/*
 * A bare 'recon match' covers every file not covered by a successful run at
 * another as-of (earlier or later days), so that a rerun at the same as-of
 * covers the same files, plus any that arrived late.  Returns 0 or -1.
 */
int runlog_add_unclaimed_files(struct store *s, int64_t run_id, int64_t as_of_us);

/* The number the next successful run will get.  Returns 0 or -1. */
int runlog_next_no(struct store *s, int64_t *run_no);
/* Record the ingest and report durations. */
int runlog_times(struct store *s, int64_t run_id, int64_t ingest_ms, int64_t report_ms);
/*
 * Finish the run: OK (taking the next run number into *RUN_NO) or FAILED with
 * ERROR.  Returns 0 or -1.
 */
int runlog_finish(struct store *s, int64_t run_id, int ok, const char *error, int64_t *run_no);

#endif
