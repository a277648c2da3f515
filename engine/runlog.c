/*
 * runlog.c - the writer lock and the runs table (see runlog.h).
 *
 * Owns the lock file descriptor while a writer lives.  Every change to the runs
 * table is its own short transaction, so that a RUNNING row is visible to
 * readers while the run works.
 */
#include "runlog.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "banned.h"

int runlog_lock(const char *db_path, int *fd, char *err, size_t errlen)
{
	char path[4096];
	int d;

	if (snprintf(path, sizeof(path), "%s.lock", db_path) >= (int)sizeof(path)) {
		snprintf(err, errlen, "database path too long");
		return -1;
	}
	if (fs_make_parent_dirs(db_path) != 0) {
		snprintf(err, errlen, "%s: cannot create the database's folder: %s", db_path, strerror(errno));
		return -1;
	}
	d = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (d < 0) {
		snprintf(err, errlen, "%s: cannot open lock file: %s", path, strerror(errno));
		return -1;
	}
	if (flock(d, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		close(d);
		if (e == EWOULDBLOCK)
			return 1;
		snprintf(err, errlen, "%s: cannot lock: %s", path, strerror(e));
		return -1;
	}
	*fd = d;
	return 0;
}

void runlog_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing drops the flock */
}

/* The id and pid of the run another process is doing, read without the lock. */
static void running_run(const char *db_path, char *run, size_t runlen, char *pid, size_t pidlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(run, runlen, "unknown");
	snprintf(pid, pidlen, "unknown");
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT run_id, pid FROM runs WHERE status = 'RUNNING' ORDER BY run_id DESC LIMIT 1",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		snprintf(run, runlen, "%lld", (long long)sqlite3_column_int64(st, 0));
		snprintf(pid, pidlen, "%lld", (long long)sqlite3_column_int64(st, 1));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

int runlog_lock_or_explain(const char *db_path, int *fd)
{
	char err[512], run[24], pid[24];
	int rc = runlog_lock(db_path, fd, err, sizeof(err));

	if (rc == 0)
		return 0;
	if (rc < 0) {
		log_event(LOG_ERROR, "cannot lock the database", "error", err, LOG_END);
		return EX_CANTCREAT;
	}
	running_run(db_path, run, sizeof(run), pid, sizeof(pid));
	log_event(LOG_ERROR, "another run holds the database; try again later", "db", db_path,
		  "running_run", run, "pid", pid, LOG_END);
	return EX_TEMPFAIL;
}

/* store_exec, with a failure logged. */
static int exec_small(struct store *s, const char *sql, int64_t a, int64_t b, const char *t, const char *u)
{
	if (store_exec(s, sql, a, b, t, u) == 0)
		return 0;
	log_event(LOG_ERROR, "database error", "error", store_errmsg(s), LOG_END);
	return -1;
}

int runlog_abort_stale(struct store *s)
{
	char now[32];
	int n;

	store_now_iso(now, sizeof(now));
	if (store_begin(s) ||
	    exec_small(s, "UPDATE runs SET status = 'ABORTED', finished_at = ?3 WHERE status = 'RUNNING'",
		       0, 0, now, NULL)) {
		store_rollback(s);
		return -1;
	}
	n = sqlite3_changes(store_handle(s));
	if (store_commit(s))
		return -1;
	if (n > 0) {
		char count[24];
		snprintf(count, sizeof(count), "%d", n);
		log_event(LOG_WARN, "runs left RUNNING by a dead process marked ABORTED", "runs", count, LOG_END);
	}
	return n;
}

int runlog_start(struct store *s, const struct runlog_params *p, int64_t *run_id)
{
	sqlite3 *db = store_handle(s);
	sqlite3_stmt *st = NULL;
	char now[32];
	int ok;

	store_now_iso(now, sizeof(now));
	if (store_begin(s))
		return -1;
	ok = sqlite3_prepare_v2(db,
				"INSERT INTO runs (job, business_date, as_of_us, grace_us, window_us, status,"
				" started_at, pid, params) VALUES (?1, ?2, ?3, ?4, ?5, 'RUNNING', ?6, ?7, ?8)",
				-1, &st, NULL) == SQLITE_OK;
	if (ok) {
		sqlite3_bind_text(st, 1, p->job, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, p->business_date, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, p->as_of_us);
		sqlite3_bind_int64(st, 4, p->grace_us);
		sqlite3_bind_int64(st, 5, p->window_us);
		sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, (int64_t)getpid());
		sqlite3_bind_text(st, 8, p->params_json, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	sqlite3_finalize(st);
	if (!ok) {
		log_event(LOG_ERROR, "cannot record the run", "error", sqlite3_errmsg(db), LOG_END);
		store_rollback(s);
		return -1;
	}
	*run_id = sqlite3_last_insert_rowid(db);
	return store_commit(s);
}

int runlog_add_file(struct store *s, int64_t run_id, int64_t file_id)
{
	return exec_small(s, "INSERT OR IGNORE INTO run_files (run_id, file_id) VALUES (?1, ?2)", run_id, file_id,
			  NULL, NULL);
}

int runlog_add_unclaimed_files(struct store *s, int64_t run_id, int64_t as_of_us)
{
	return exec_small(s, "INSERT OR IGNORE INTO run_files (run_id, file_id) SELECT ?1, file_id FROM files"
			     " WHERE file_id NOT IN (SELECT rf.file_id FROM run_files AS rf JOIN runs AS r"
			     " ON r.run_id = rf.run_id WHERE r.as_of_us <> ?2 AND r.status = 'OK')",
			  run_id, as_of_us, NULL, NULL);
}

int runlog_next_no(struct store *s, int64_t *run_no)
{
	return store_query_int(s, "SELECT coalesce(max(run_no), 0) + 1 FROM runs", 0, 0, run_no);
}

int runlog_times(struct store *s, int64_t run_id, int64_t ingest_ms, int64_t report_ms)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)report_ms);
	return exec_small(s, "UPDATE runs SET ingest_ms = ?2, report_ms = CAST(?3 AS INTEGER) WHERE run_id = ?1",
			  run_id, ingest_ms, buf, NULL);
}

int runlog_finish(struct store *s, int64_t run_id, int ok, const char *error, int64_t *run_no)
{
	char now[32];

	store_now_iso(now, sizeof(now));
	if (store_begin(s))
		return -1;
	if (ok) {
		if (runlog_next_no(s, run_no) ||
		    exec_small(s, "UPDATE runs SET status = 'OK', run_no = ?2, finished_at = ?3 WHERE run_id = ?1",
			       run_id, *run_no, now, NULL))
			goto fail;
	} else if (exec_small(s, "UPDATE runs SET status = 'FAILED', finished_at = ?3, error = ?4 WHERE run_id = ?1",
			      run_id, 0, now, error ? error : "failed")) {
		goto fail;
	}
	return store_commit(s);
fail:
	store_rollback(s);
	return -1;
}
