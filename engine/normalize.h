/*
 * normalize.h - fields of one record -> one canonical statement or ledger record.
 *
 * Applies a profile to the records the reader yields: strips values, applies row
 * filters, maps types, parses money (money.h), times (timeparse.h) and the order
 * reference, composes ids.  Each record comes out as OK, SKIP (on purpose, with a
 * reason that is counted) or REJECT (with a reason and the field at fault).
 * Knows nothing of the database.
 */
#ifndef RECON_NORMALIZE_H
#define RECON_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "reader.h"

#define NORMALIZE_MAX_ID 200        /* bytes of a txn/event id */
#define NORMALIZE_MAX_ORDER_REF 200 /* bytes of an order reference */
#define NORMALIZE_MAX_CHANNEL 64

/* Pointers are valid until the next call on the same normalizer or record. */
struct canon_record {
	enum record_type type;
	const char *id;          /* "" when the format has none */
	const char *order_ref;
	int64_t amount_minor;    /* > 0 (0 allowed for CREATED/CANCELLED) */
	char currency[4];
	int exponent;
	int64_t time_us;         /* UTC */
	const char *channel;
	int has_fee;
	int64_t fee_minor;       /* signed as written */
	long line;
};

enum normalize_result { NORMALIZE_OK, NORMALIZE_SKIP, NORMALIZE_REJECT };

struct normalizer;

/*
 * A normalizer for profile P (borrowed, must outlive it).  CHANNEL, if not NULL,
 * replaces the profile's channel for every record.  NULL on allocation failure.
 */
struct normalizer *normalize_new(struct profile *p, const char *channel);
void normalize_free(struct normalizer *n);

/*
 * Take the header record (or, for a profile without header, the first record's
 * field count).  Resolves the profile's columns; returns 0, or -1 with a message
 * naming the missing or doubled column in ERR.
 */
int normalize_header(struct normalizer *n, const struct reader_record *rec, char *err, size_t errlen);

/*
 * Normalise one data record.  On SKIP and REJECT, *REASON is a message (valid until
 * the next call) and *FIELD the canonical field name at fault or NULL.  May modify
 * the record's field text in place (stripping).
 */
enum normalize_result normalize_record(struct normalizer *n, const struct reader_record *rec,
				       struct canon_record *out, const char **reason,
				       const char **field);

/* Reader options for reading a file with profile P (pointers into P). */
void normalize_reader_options(const struct profile *p, const char *path, struct reader_options *ro);

/*
 * Rows skipped on purpose, counted per reason.  At most NORMALIZE_SKIP_REASONS
 * distinct reasons are kept; once the table is full, further reasons are counted
 * together as "other".
 */
#define NORMALIZE_SKIP_REASONS 64
struct skip_tally {
	size_t n;
	struct {
		char reason[96];
		int64_t rows;
	} r[NORMALIZE_SKIP_REASONS];
};
void normalize_tally_skip(struct skip_tally *t, const char *reason);

/* Why normalize_file stopped a file (not FN's status), as it logs it. */
enum normalize_refused { REFUSED_NONE, REFUSED_HEADER, REFUSED_READER, REFUSED_NO_HEADER };
struct normalize_refusal {
	enum normalize_refused kind;
	const char *msg;   /* the log message, e.g. "file refused" */
	long line, column; /* 0 when unknown */
	char error[512];
};

/*
 * Read a whole file with profile P: the reader, the header check and
 * normalize_record for every data record, calling FN for each with its outcome
 * (R is valid only for NORMALIZE_OK; REASON and FIELD for SKIP and REJECT).  FN
 * returns 0 to go on, or a sysexits status that stops the file.  Skips are
 * tallied in RES.  Returns 0, FN's status, or a sysexits status with the error
 * logged naming the file, line and column: EX_DATAERR (structure, encoding,
 * header), EX_NOINPUT (cannot open), EX_IOERR, EX_OSERR.
 */
struct normalize_file_result {
	struct reader_stats stats; /* bytes and lines read, updated as the file is read */
	int64_t records;   /* data records read */
	int64_t rejected;
	int64_t skipped;
	struct skip_tally skips;
	struct normalize_refusal refusal; /* why the file stopped, for normalize_log_refusal */
};
typedef int (*normalize_row_fn)(void *ctx, const struct reader_record *rec, enum normalize_result res,
				const struct canon_record *r, const char *reason, const char *field);
int normalize_file(struct profile *p, const char *path, const char *channel, normalize_row_fn fn,
		   void *ctx, struct normalize_file_result *res);

/*
 * normalize_file without the logging: a failure that is not FN's is described
 * in RES->refusal instead, and normalize_log_refusal logs it as normalize_file
 * would have.  For a caller that must log it later, after FN's own messages
 * (readahead.c runs the reading on another thread).
 */
int normalize_file_quiet(struct profile *p, const char *path, const char *channel, normalize_row_fn fn,
			 void *ctx, struct normalize_file_result *res);
void normalize_log_refusal(const struct profile *p, const char *path, const struct normalize_file_result *res);

#endif
