/*
 * ingest.h - one source file into the store: read -> normalise -> key -> store.
 *
 * Each file is one transaction: either all its good rows, its quarantined rows
 * and its file record are committed, or (refused file, structural error, I/O
 * error) nothing of it is kept.  A file whose bytes were ingested before is a
 * no-op that says so.
 */
#ifndef RECON_INGEST_H
#define RECON_INGEST_H

#include <stdint.h>

#include "profile.h"
#include "routekey.h"
#include "store.h"

struct ingest_options {
	const char *channel;     /* overrides the profile's channel, or NULL */
	long reject_share_ppm;   /* -1: the profile's (default 1%) */
	uint32_t shard_k, shard_n; /* keep only orders of shard K of N (N 0: all) */
};

struct ingest_result {
	struct store_counts counts;
	int already;             /* the same bytes were ingested before */
	int64_t file_id;
};

/*
 * Ingest PATH with profile P into S, keys from RK.  Returns a sysexits status:
 * 0 (ingested, or already ingested), EX_DATAERR (file refused: structural error or
 * too many rejects), EX_NOINPUT (cannot open), EX_IOERR, EX_SOFTWARE (database
 * error).  Every failure is logged with the file, line and column or field.
 */
int ingest_file(struct store *s, struct profile *p, struct routekey *rk, const char *path,
		const struct ingest_options *opts, struct ingest_result *res);

/*
 * One reading of PATH into the N databases of SH, the shards of one ingest
 * (SH[k].opts.shard_k = k, shard_n = N), each stored by a thread of its own
 * as ingest_file would store it with that shard's options: the same rows,
 * counts, logs and transactions, so that a failure in one shard leaves the
 * others committed and a rerun completes it (a shard holding the file
 * already skips it).  RES has N entries.  Returns the first failure's status.
 * The process must have called store_library_threads.
 */
struct ingest_shard {
	struct store *s;
	struct routekey *rk;     /* one per shard: a routekey is not shared between threads */
	struct ingest_options opts;
};
int ingest_file_shards(const struct ingest_shard *sh, size_t n, struct profile *p, const char *path,
		       struct ingest_result *res);

/*
 * Record in S how route keys are made (SHA-256, or HMAC with a key whose digest is
 * KEY_SHA256) the first time, and refuse (-1, message logged) a database whose
 * keys were made another way.  KEY_SHA256 is NULL for plain SHA-256.
 */
int ingest_check_key_mode(struct store *s, const unsigned char *key_sha256);

/*
 * Shards (SPEC section 8): an order belongs to shard K of N when the first eight
 * bytes of its order key, read as a big-endian number, are K modulo N, so that
 * every row of an order, and every route key made from it, is in one shard.
 * ingest_parse_shard reads "K/N" (0 <= K < N <= 1024); returns 0 or -1.
 * ingest_check_shard records the database's shard the first time ("K/N", or
 * "all" for N 0) and refuses (-1, logged) a database holding another one.
 */
int ingest_parse_shard(const char *text, uint32_t *k, uint32_t *n);
int ingest_check_shard(struct store *s, uint32_t k, uint32_t n);
uint32_t ingest_shard_of(const unsigned char order_key[ROUTEKEY_LEN], uint32_t n);

#endif
