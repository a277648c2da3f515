/*
 * readahead.h - read and normalise a file on a second thread, ahead of the writer.
 *
 * The same contract as normalize_file (normalize.h), with the reading, parsing
 * and normalising done on a thread of its own: FN is still called on the
 * calling thread, for every record in file order, and a refusal is logged
 * after FN's last call, so that the writer's work and its messages are the
 * same as with normalize_file.  Records cross in batches copied into reused
 * buffers: a few hundred KiB whatever the file's size.
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

#endif
