/*
 * store.h - the SQLite database: open, migrate, transactions, bulk inserts.
 *
 * A thin wrapper in the manner of Fossil's db.c: every statement is prepared once
 * and kept, its SQL text kept for error messages, its named parameters resolved at
 * prepare time (an unknown name is a bug that fails at once).  WAL mode, a bounded
 * page cache, writers start with BEGIN IMMEDIATE.  Knows nothing of CSV or profiles.
 */
#ifndef RECON_STORE_H
#define RECON_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_KEY_LEN 32
#define STORE_APPLICATION_ID 1919247726 /* "recn": PRAGMA application_id of a recon database */
#define STORE_SCHEMA_VERSION 10
/* case_spans.to_run of a span still open in the latest matched run, as SQL
 * text (schemas/migrations/0003_case_spans.sql). */
#define STORE_LIVE_SPAN "9223372036854775807"
/* Rows stored in a table before the frontier for late rows moves on (see
 * insert_row in store.c). */
#define STORE_LATE_LAG 30000
/* Files from this size into an empty table load before their identity
 * indexes are built (store_identity_defer). */
#define STORE_DEFER_MIN (16LL << 20)

struct store;

/* Once per process, before any other store call: SQLite without its locks.
 * store_library_threads, after it and still before any other store call,
 * puts back the locks that let each thread use a connection of its own (the
 * shards of one ingest). */
int store_library_init(char *err, size_t errlen);
int store_library_threads(char *err, size_t errlen);
/*
 * Open (creating if needed) the database at PATH and bring its schema to the
 * current version.  Returns 0 and *OUT, or -1 with a message in ERR.
 */
int store_open(const char *path, struct store **out, char *err, size_t errlen);
void store_close(struct store *s);

/*
 * The connection, for the modules that run their own SQL against the documented
 * tables (match, report, show).  They prepare statements and bind values like
 * the store does; the store keeps ownership.
 */
struct sqlite3 *store_handle(struct store *s);

/*
 * Run every statement of SQL in order (a script such as schemas/match.sql),
 * binding each named parameter from NAMES/VALUES (N pairs, integers).  A parameter
 * not in the list is an error.  Returns 0 or -1 (message in store_errmsg).
 */
int store_exec_script(struct store *s, const char *sql, const char *const *names,
		      const int64_t *values, size_t n);

/*
 * Run one short statement: bind integers A and B and texts T and U to ?1 .. ?4
 * (those up to the highest the SQL uses) and step it once.  Returns 0, or -1
 * with the message in store_errmsg.
 */
int store_exec(struct store *s, const char *sql, int64_t a, int64_t b, const char *t, const char *u);

/* The first column of the first row of SQL with A and B bound to ?1 and ?2 (if
 * used) into *OUT.  Returns 0, or -1 (no row, or an error in store_errmsg). */
int store_query_int(struct store *s, const char *sql, int64_t a, int64_t b, int64_t *out);

/* The wall clock as ISO-8601 UTC ("2026-11-20T10:15:09Z") into BUF. */
void store_now_iso(char *buf, size_t size);

/* The last error, with the SQL that failed. */
const char *store_errmsg(const struct store *s);

/* The page cache for what comes next: loading a file of FILE_BYTES (16, 32
 * or 64 MiB, the smallest at least twice the file's size, divided by SHARE,
 * the databases loaded at once, but at least 2 MiB), or reading rows in
 * order (match, reports: 16 MiB, as store_open leaves it).  A load checks no
 * foreign keys, reading in order does (engine/store.c).  Call before
 * store_begin. */
int store_cache_load(struct store *s, int64_t file_bytes, int share);
int store_cache_scan(struct store *s);
/* After a load's commit or rollback: check foreign keys again. */
int store_load_done(struct store *s);

/* How many rows a file stores before its frontier for late rows moves on:
 * STORE_LATE_LAG unless a test asks for fewer. */
void store_set_late_lag(struct store *s, int64_t rows);

/*
 * Within a load's transaction, for a file of FILE_BYTES into the ledger
 * (LEDGER) or the statement rows: if the table holds no row and the file is at
 * least STORE_DEFER_MIN bytes (or what store_set_defer_min set), drop the
 * table's identity indexes until store_identity_build.  Returns 1 if dropped,
 * 0 if not, -1 on error.  store_identity_build makes them again (a no-op if
 * none were dropped); it returns 0, 1 if two rows of the file share an
 * identity (roll back and load the file again without deferring: only then
 * are duplicates told from conflicts), or -1 on error.  store_commit refuses
 * while they are dropped; store_rollback puts them back.
 */
int store_identity_defer(struct store *s, int ledger, int64_t file_bytes);
int store_identity_build(struct store *s);
void store_set_defer_min(struct store *s, int64_t bytes);

int store_begin(struct store *s);    /* BEGIN IMMEDIATE */
int store_commit(struct store *s);
int store_rollback(struct store *s); /* safe to call when no transaction is open */

struct store_file {
	const unsigned char *sha256;
	const char *path;
	const char *kind;          /* "statement" or "ledger" */
	const char *profile;
	const unsigned char *profile_sha256;
	const char *channel;       /* NULL unless overridden */
	int64_t bytes;
};

struct store_counts {
	int64_t read, inserted, duplicate, conflict, rejected, skipped;
};

/* 1 and *FILE_ID if a file with these bytes was ingested, 0 if not, -1 on error. */
int store_file_find(struct store *s, const unsigned char sha256[STORE_KEY_LEN], int64_t *file_id);
int store_file_insert(struct store *s, const struct store_file *f, int64_t *file_id);
int store_file_finish(struct store *s, int64_t file_id, const struct store_counts *c);

/* One canonical row, as the store takes it. */
struct store_row {
	const unsigned char *uid;       /* identity digest of a row without an id */
	const unsigned char *route_key; /* NULL for events that expect nothing */
	const unsigned char *order_key; /* events only; NULL: plain keys, not stored */
	const char *id;            /* NULL or "" when none */
	const char *order_ref;
	const char *type;          /* CHARGE/REFUND or the ledger event */
	int64_t amount_minor;
	const char *currency;
	int64_t time_us;
	const char *channel;
	int has_fee;
	int64_t fee_minor;
	long line;
};

enum store_outcome { STORE_INSERTED, STORE_DUPLICATE, STORE_CONFLICT };

/*
 * Insert a statement row / ledger event unless its identity is known: (channel,
 * txn_id) or event_id, or UID for a row without an id.  *OUTCOME says whether it
 * was inserted, was a duplicate (same canonical fields) or a conflict (same
 * identity, other fields; then *KEPT is the row id of the version kept).
 * A row whose order_ref sorts before the greatest order_ref of the table's main
 * segment when the transaction began goes to the late segment
 * (schemas/migrations/0005_late_rows.sql).  Returns 0 or -1.
 */
int store_insert_statement(struct store *s, int64_t file_id, const struct store_row *r,
			   enum store_outcome *outcome, int64_t *kept);
int store_insert_event(struct store *s, int64_t file_id, const struct store_row *r,
		       enum store_outcome *outcome, int64_t *kept);

int store_quarantine(struct store *s, int64_t file_id, long line, const char *field,
		     const char *reason, const char *raw, size_t raw_len);
int store_conflict(struct store *s, int64_t file_id, long line, const char *kind,
		   const char *ident, int64_t kept, const char *raw, size_t raw_len);
int store_skip_add(struct store *s, int64_t file_id, const char *reason, int64_t rows);

/*
 * A database-wide setting: store_setting_get returns 1 and copies the value into
 * BUF (truncated to SIZE), 0 if unset, -1 on error.
 */
int store_setting_get(struct store *s, const char *name, char *buf, size_t size);
int store_setting_set(struct store *s, const char *name, const char *value);

/*
 * The row ids the next statement row ([0]) and ledger event ([1]) will get: all
 * rows stored so far have lower ones.  Read inside a transaction.  0 or -1.
 */
int store_next_row_ids(struct store *s, int64_t next[2]);

/*
 * Ordinals of identical id-less rows within one file: returns in *ORDINAL how many
 * rows with this content digest were seen before in the current file (0, 1, ...).
 * store_ordinal_reset starts a new file.  Kept in a temporary table so that memory
 * does not grow with the file.  Return 0 or -1.
 */
int store_ordinal_next(struct store *s, const unsigned char content[STORE_KEY_LEN], int64_t *ordinal);
int store_ordinal_reset(struct store *s);

#endif
