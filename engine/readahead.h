/*
 * readahead.h - read and normalise a file on a second thread, ahead of the writer.
 *
 * The same contract as normalize_file (normalize.h), with the reading, parsing
 * and normalising done on a thread of its own: FN is still called on the
 * calling thread, for every record in file order, and a refusal is logged
 * after FN's last call, so that the writer's work and its messages are the
 * same as with normalize_file.  Records cross in batches copied into reused
 * buffers: a few hundred KiB whatever the file's size (about 10 MiB with
 * several consumers, below).
 */
#ifndef RECON_READAHEAD_H
#define RECON_READAHEAD_H

#include "normalize.h"

/*
 * Read PATH with profile P, calling FN(CTX, ...) for each record as
 * normalize_file does.  *PROGRESS, if not NULL, is set before each call to
 * the file bytes read so far (for the progress display; RES->stats is written
 * by the other thread until the file is done).  RES is filled when the call
 * returns.  Returns 0, FN's status, or the status normalize_file would return.
 */
int readahead_file(struct profile *p, const char *path, const char *channel, normalize_row_fn fn,
		   void *ctx, struct normalize_file_result *res, unsigned long long *progress);

/*
 * The same reading for N consumers, each on a thread of its own (the shards
 * of an ingest in one process): every consumer gets every record, in file
 * order, from one reading of the file.
 *
 * readahead_start starts the reading thread; NULL if it cannot (no memory or
 * thread).  Each consumer calls readahead_consume once, from its own thread;
 * it returns FN's first failure (after which FN is not called again for that
 * consumer, while the others go on) or 0 once every record was delivered.
 * readahead_leave takes a consumer away before it took anything (its thread
 * could not start).  readahead_result, after readahead_consume, waits for the reading to end and
 * gives its outcome: 0, or the status normalize_file would return (nothing
 * logged).  readahead_finish, once every consumer returned, joins the reading
 * thread, fills RES, logs why the reading failed unless CONSUMED (a consumer's
 * failure) is nonzero, frees RA and returns the reading status.
 */
struct readahead;
struct readahead *readahead_start(struct profile *p, const char *path, const char *channel, size_t n);
int readahead_consume(struct readahead *ra, normalize_row_fn fn, void *ctx,
		      unsigned long long *progress);
void readahead_leave(struct readahead *ra);
int readahead_result(struct readahead *ra, struct normalize_file_result *res);
int readahead_finish(struct readahead *ra, struct normalize_file_result *res, int consumed);

#endif
