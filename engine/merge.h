/*
 * merge.h - combine the databases of the N shards of a job into one database
 * holding their run history, from which 'recon report' writes the reports a
 * single unsharded database would give (SPEC section 8).
 *
 * Every order, with all its rows, keys and cases, lives in exactly one shard, so
 * a run's cases are the union of the shards' cases for that run number, and its
 * summary the sum of theirs.  Files, rejects and skips are the same in every
 * shard's view and are taken from shard 0 (the one that keeps the rejects), with
 * the per-shard row counts summed.  The merged database is derived data: every
 * merge rebuilds it, and it holds no statement rows or ledger events.
 *
 * The shards' conflicts are copied.  An id that several shards keep (a txn_id
 * or event_id re-sent with another order reference: one database's conflict)
 * is recorded as a conflict of each later file and line, and logged as an
 * error naming both orders.
 */
#ifndef RECON_MERGE_H
#define RECON_MERGE_H
#include <stddef.h>
#include "store.h"

/*
 * Rebuild the run history of MERGED from the N shard databases at PATHS (shards
 * 0..N-1 of N, in any order).  Only run numbers present in every shard are
 * merged; a shard missing, given twice, or whose runs disagree on as-of or
 * windows is refused.  Ids kept by several shards are logged, not refused.
 * Returns 0 or a sysexits status, with the reason logged.
 */
int merge_shards(struct store *merged, const char *const *paths, size_t n);

#endif
