/*
 * reader.h - bytes of one CSV file -> records of fields.
 *
 * Decodes the file to UTF-8 through iconv (refusing undecodable text), strips a
 * BOM, skips preamble, comment and blank lines, finds the header, stops at a footer
 * marker, and splits records with libcsv.  Memory is bounded: a record longer
 * than max_record bytes is returned as an error record and its rest skipped.
 * The reader knows nothing of profiles' meaning or of the database.
 */
#ifndef RECON_READER_H
#define RECON_READER_H

#include <regex.h>
#include <stddef.h>

#define READER_MAX_RECORD_DEFAULT (1024 * 1024) /* bytes of one record */
#define READER_MAX_FIELDS 512
#define READER_RAW_MAX 1024          /* bytes of raw text kept per record */
#define READER_HEADER_SEARCH_LINES 200 /* lines searched for a header by text */

struct reader_options {
	const char *path;            /* file to read */
	const char *encoding;        /* iconv name of the file's text; NULL = UTF-8 */
	unsigned char delimiter;
	unsigned char quote;         /* 0: no quoting */
	int has_header;
	unsigned preamble_lines;     /* physical lines skipped before anything else */
	const char *header_prefix;   /* header = first line starting with this text */
	const regex_t *header_regex; /* or the first line matching this */
	const char *const *skip_prefixes;   /* lines starting with one are skipped */
	size_t n_skip_prefixes;
	const char *const *footer_prefixes; /* a line starting with one ends the data */
	size_t n_footer_prefixes;
	size_t max_record;           /* 0: READER_MAX_RECORD_DEFAULT */
};

struct reader_record {
	size_t nfields;
	char **field;      /* NUL-terminated UTF-8; may contain no NUL bytes */
	size_t *len;
	long line;         /* physical line where the record starts (1-based) */
	const char *raw;   /* the record's text, at most READER_RAW_MAX bytes */
	size_t raw_len;
	const char *error; /* non-NULL: the record as a whole is bad; fields invalid */
	int is_header;
};

/* Called for each record, header included.  Return 0 to go on; anything else
 * stops the reader, which then returns that value. */
typedef int (*reader_fn)(void *ctx, const struct reader_record *rec);

struct reader_stats {
	long lines;          /* physical lines read */
	long skipped_lines;  /* preamble, comment, blank and footer lines */
	unsigned long long bytes;
};

/* Structural errors: the whole file is refused. */
struct reader_error {
	long line;
	long column;       /* 0 if unknown */
	char message[256];
};

enum {
	READER_OK = 0,
	READER_EIO = -1,     /* cannot open or read: message in err */
	READER_EDATA = -2,   /* undecodable text, unterminated quote, no header: err */
	READER_ENOMEM = -3,
};

/*
 * Read the file of OPTS, calling FN for every record.  Returns READER_OK, one of the
 * errors above with ERR filled in, or FN's non-zero return value.  STATS may be NULL.
 */
int reader_run(const struct reader_options *opts, reader_fn fn, void *ctx,
	       struct reader_error *err, struct reader_stats *stats);

#endif
