/*
 * reader.c - decode, split into lines, find the header, parse records (see reader.h).
 *
 * Owns, per call of reader_run: the open file, an iconv descriptor, fixed input and
 * output buffers, one line buffer and one field buffer bounded by max_record, and a
 * libcsv parser.  Nothing is allocated per record.
 *
 * Lines are handed to libcsv one at a time so that preamble, comment, blank and
 * footer lines can be recognised at record boundaries, and so that a record can be
 * bounded: a quoted field may span lines, and then the record continues.
 */
#include "reader.h"

#include <csv.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

#define IN_CHUNK (64 * 1024)
#define OUT_CHUNK (4 * IN_CHUNK)
#define NO_QUOTE 0xff /* never occurs in UTF-8, so "no quoting" for libcsv */

struct reader {
	const struct reader_options *o;
	reader_fn fn;
	void *ctx;
	struct reader_error *err;
	struct reader_stats *stats;
	size_t max_record;

	FILE *file;
	iconv_t cd;
	char *in;
	char *out;

	char *line;            /* current physical line, NUL-terminated */
	size_t line_len;
	int line_too_long;
	long line_no;

	struct csv_parser csv;
	int csv_ready;
	unsigned char csv_opts;
	int in_record;         /* a quoted field continues on the next line */
	int record_done;
	long rec_line;
	size_t rec_bytes;
	const char *rec_error;

	char *fbuf;            /* field bytes, each NUL-terminated */
	size_t fbuf_len, fbuf_cap;
	size_t nfields;
	size_t foff[READER_MAX_FIELDS];
	size_t flen[READER_MAX_FIELDS];
	char *fptr[READER_MAX_FIELDS];
	int too_many_fields;

	char raw[READER_RAW_MAX];
	size_t raw_len;

	size_t discarded_quotes; /* quote characters in the part of a long line not kept */
	int skipping;          /* the rest of an abandoned record is being passed over */

	int header_found;
	char *header_line;     /* the header's text, to spot it repeated */
	size_t header_len;
	int done;              /* footer seen */
	int rc;                /* non-zero: stop */
};

static void set_error(struct reader *r, long line, long column, const char *msg)
{
	r->err->line = line;
	r->err->column = column;
	snprintf(r->err->message, sizeof(r->err->message), "%s", msg);
}

static int never_space(unsigned char c)
{
	(void)c;
	return 0;
}

static void on_field(void *data, size_t len, void *ctx)
{
	struct reader *r = ctx;
	size_t need;

	if (r->nfields >= READER_MAX_FIELDS) {
		r->too_many_fields = 1;
		return;
	}
	need = r->fbuf_len + len + 1;
	if (need > r->fbuf_cap) {
		/* Bounded: the record itself is at most max_record bytes. */
		size_t cap = r->fbuf_cap * 2;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(r->fbuf, cap);
		if (p == NULL) {
			r->rc = READER_ENOMEM;
			return;
		}
		r->fbuf = p;
		r->fbuf_cap = cap;
	}
	if (len)
		memcpy(r->fbuf + r->fbuf_len, data, len);
	r->fbuf[r->fbuf_len + len] = '\0';
	r->foff[r->nfields] = r->fbuf_len;
	r->flen[r->nfields] = len;
	r->nfields++;
	r->fbuf_len += len + 1;
}

static void on_record_end(int c, void *ctx)
{
	struct reader *r = ctx;

	(void)c;
	r->record_done = 1;
}

/* Forget a half-parsed record: libcsv has no reset call, but csv_fini without
 * callbacks (and without the strict-fini check) returns it to its start state. */
static void csv_reset(struct reader *r)
{
	csv_set_opts(&r->csv, (unsigned char)(r->csv_opts & ~CSV_STRICT_FINI));
	csv_fini(&r->csv, NULL, NULL, NULL);
	csv_set_opts(&r->csv, r->csv_opts);
	r->in_record = 0;
}

static void raw_append(struct reader *r, const char *s, size_t len, int newline_first)
{
	size_t room;

	if (newline_first && r->raw_len < sizeof(r->raw))
		r->raw[r->raw_len++] = '\n';
	room = sizeof(r->raw) - r->raw_len;
	if (len > room)
		len = room;
	memcpy(r->raw + r->raw_len, s, len);
	r->raw_len += len;
}

static void deliver(struct reader *r, int is_header)
{
	struct reader_record rec;
	size_t i;

	if (r->rec_error && r->o->has_header && !r->header_found) {
		char msg[200];

		snprintf(msg, sizeof(msg), "the header line cannot be read: %s", r->rec_error);
		set_error(r, r->rec_line, 0, msg);
		r->rc = READER_EDATA;
		return;
	}
	memset(&rec, 0, sizeof(rec));
	rec.line = r->rec_line;
	rec.raw = r->raw;
	rec.raw_len = r->raw_len;
	rec.error = r->rec_error;
	if (rec.error == NULL && r->too_many_fields)
		rec.error = "too many fields in record";
	if (rec.error == NULL) {
		for (i = 0; i < r->nfields; i++) {
			r->fptr[i] = r->fbuf + r->foff[i];
		}
		rec.nfields = r->nfields;
		rec.field = r->fptr;
		rec.len = r->flen;
		rec.is_header = is_header;
	}
	r->rc = r->fn(r->ctx, &rec);
}

/* Quote characters in S: their parity says whether a quoted field is still open. */
static size_t count_quotes(const struct reader *r, const char *s, size_t len)
{
	size_t n = 0, i;

	if (!r->o->quote)
		return 0;
	for (i = 0; i < len; i++)
		n += (unsigned char)s[i] == r->o->quote;
	return n;
}

/*
 * Give up the current record with REASON: deliver it as an error record, and if
 * its text so far leaves a quoted field open (INSIDE: the line began inside one),
 * pass over the following lines until the field closes, so that nothing inside
 * it is ever read as a row of its own.
 */
static void abandon(struct reader *r, const char *reason, int inside)
{
	size_t quotes = count_quotes(r, r->line, r->line_len) + r->discarded_quotes;

	r->rec_error = reason;
	if (r->in_record || r->csv.pstate != 0)
		csv_reset(r);
	r->in_record = 0;
	r->skipping = ((size_t)inside + quotes) % 2 == 1;
	deliver(r, 0);
}

static void start_record(struct reader *r)
{
	r->rec_line = r->line_no;
	r->rec_bytes = 0;
	r->rec_error = NULL;
	r->nfields = 0;
	r->fbuf_len = 0;
	r->too_many_fields = 0;
	r->record_done = 0;
	r->raw_len = 0;
}

/* Feed the current line (plus its newline) to libcsv. */
static void feed_line(struct reader *r)
{
	size_t n;

	r->line[r->line_len] = '\n';
	n = csv_parse(&r->csv, r->line, r->line_len + 1, on_field, on_record_end, r);
	r->line[r->line_len] = '\0';
	if (r->rc)
		return;
	if (n != r->line_len + 1) {
		int inside = r->in_record;

		abandon(r, csv_error(&r->csv) == CSV_EPARSE
			? "malformed quoting (a quote inside an unquoted field, or text after a closing quote)"
			: "record could not be parsed", inside);
		return;
	}
	if (r->record_done) {
		r->in_record = 0;
		deliver(r, r->o->has_header && !r->header_found);
		if (r->o->has_header && !r->header_found && r->rc == 0) {
			r->header_found = 1;
			r->header_line = malloc(r->line_len + 1);
			if (r->header_line == NULL) {
				r->rc = READER_ENOMEM;
				return;
			}
			memcpy(r->header_line, r->line, r->line_len + 1);
			r->header_len = r->line_len;
		}
	} else {
		r->in_record = 1;
	}
}

static int starts_with_any(const char *line, size_t len, const char *const *prefixes, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		size_t plen = strlen(prefixes[i]);
		if (plen <= len && memcmp(line, prefixes[i], plen) == 0)
			return 1;
	}
	return 0;
}

static int is_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

static void handle_line(struct reader *r)
{
	const struct reader_options *o = r->o;
	char *s = r->line;
	size_t len = r->line_len;
	int has_nul;

	r->line_no++;
	if (r->stats)
		r->stats->lines++;
	if (len > 0 && s[len - 1] == '\r')
		s[--len] = '\0';
	if (r->line_no == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		memmove(s, s + 3, len - 3);
		len -= 3;
		s[len] = '\0';
	}
	r->line_len = len;
	has_nul = memchr(s, '\0', len) != NULL;

	if (r->skipping) {
		/* Inside the quoted field of an abandoned record: wait for it to close. */
		if ((count_quotes(r, s, len) + r->discarded_quotes) % 2 == 1)
			r->skipping = 0;
		goto skip;
	}
	if (r->in_record) {
		r->rec_bytes += len + 1;
		raw_append(r, s, len, 1);
		if (r->line_too_long || r->rec_bytes > r->max_record || has_nul) {
			abandon(r, has_nul ? "NUL byte in record" : "record longer than the line size limit", 1);
			return;
		}
		feed_line(r);
		return;
	}

	if (r->line_no <= (long)o->preamble_lines)
		goto skip;
	if (o->has_header && !r->header_found && (o->header_prefix || o->header_regex)) {
		int match = 0;

		if (!has_nul && !r->line_too_long) {
			if (o->header_prefix)
				match = strncmp(s, o->header_prefix, strlen(o->header_prefix)) == 0;
			else
				match = regexec(o->header_regex, s, 0, NULL, 0) == 0;
		}
		if (!match) {
			if (r->line_no > (long)o->preamble_lines + READER_HEADER_SEARCH_LINES) {
				set_error(r, r->line_no, 0, "header line not found in the first lines of the file");
				r->rc = READER_EDATA;
				return;
			}
			goto skip;
		}
	}
	if (!r->line_too_long && is_blank(s, len))
		goto skip;
	if (starts_with_any(s, len, o->footer_prefixes, o->n_footer_prefixes)) {
		r->done = 1;
		goto skip;
	}
	if (starts_with_any(s, len, o->skip_prefixes, o->n_skip_prefixes))
		goto skip;

	start_record(r);
	raw_append(r, s, len, 0);
	if (r->line_too_long || has_nul) {
		abandon(r, has_nul ? "NUL byte in record" : "record longer than the line size limit", 0);
		return;
	}
	if (r->header_found && len == r->header_len && memcmp(s, r->header_line, len) == 0) {
		r->rec_error = "header line repeated";
		deliver(r, 0);
		return;
	}
	r->rec_bytes = len + 1;
	feed_line(r);
	return;
skip:
	if (r->stats)
		r->stats->skipped_lines++;
}

/* Append decoded bytes to lines, handling each complete line. */
static void take_text(struct reader *r, const char *p, size_t n)
{
	while (n > 0 && r->rc == 0 && !r->done) {
		const char *nl = memchr(p, '\n', n);
		size_t seg = nl ? (size_t)(nl - p) : n;

		if (!r->line_too_long) {
			if (r->line_len + seg > r->max_record) {
				size_t keep = r->max_record - r->line_len;
				memcpy(r->line + r->line_len, p, keep);
				r->line_len += keep;
				r->line_too_long = 1;
				r->discarded_quotes += count_quotes(r, p + keep, seg - keep);
			} else {
				memcpy(r->line + r->line_len, p, seg);
				r->line_len += seg;
			}
		} else {
			r->discarded_quotes += count_quotes(r, p, seg);
		}
		if (nl == NULL)
			return;
		r->line[r->line_len] = '\0';
		handle_line(r);
		r->line_len = 0;
		r->line_too_long = 0;
		r->discarded_quotes = 0;
		p += seg + 1;
		n -= seg + 1;
	}
}

static void decode_error(struct reader *r, const char *what)
{
	char msg[200];
	const char *enc = r->o->encoding ? r->o->encoding : "UTF-8";

	snprintf(msg, sizeof(msg), "%s (the profile declares %s)", what, enc);
	set_error(r, r->line_no + 1, (long)r->line_len + 1, msg);
	r->rc = READER_EDATA;
}

static void read_all(struct reader *r)
{
	size_t carry = 0;

	for (;;) {
		size_t got = fread(r->in + carry, 1, IN_CHUNK - carry, r->file);
		size_t in_left = carry + got;
		char *inp = r->in;
		int eof;

		if (got == 0 && ferror(r->file)) {
			set_error(r, r->line_no + 1, 0, strerror(errno));
			r->rc = READER_EIO;
			return;
		}
		eof = got == 0;
		if (r->stats)
			r->stats->bytes += got;
		while (in_left > 0 && r->rc == 0 && !r->done) {
			char *outp = r->out;
			size_t out_left = OUT_CHUNK;
			size_t rc = iconv(r->cd, &inp, &in_left, &outp, &out_left);
			int e = errno;

			take_text(r, r->out, OUT_CHUNK - out_left);
			if (rc != (size_t)-1 || r->rc || r->done)
				continue;
			if (e == E2BIG)
				continue;
			if (e == EINVAL && !eof)
				break; /* incomplete sequence: carry it to the next chunk */
			/* The position of the bad byte is where decoding stopped. */
			decode_error(r, e == EINVAL ? "text ends inside a multi-byte character"
						    : "text is not valid in the declared encoding");
			return;
		}
		if (r->rc || r->done)
			return;
		if (eof)
			break;
		memmove(r->in, inp, in_left);
		carry = in_left;
	}
	if (r->line_no == 0 && r->line_len == 0 && !r->line_too_long) {
		set_error(r, 0, 0, "empty file (0 bytes)");
		r->rc = READER_EDATA;
		return;
	}
	/* A last line without a newline. */
	if (r->line_len > 0 || r->line_too_long) {
		r->line[r->line_len] = '\0';
		handle_line(r);
	}
	if (r->rc == 0 && r->in_record) {
		char msg[120];

		snprintf(msg, sizeof(msg), "unterminated quoted field at end of file (record starts on line %ld)",
			 r->rec_line);
		set_error(r, r->rec_line, 0, msg);
		r->rc = READER_EDATA;
	}
	if (r->rc == 0 && r->o->has_header && !r->header_found &&
	    (r->o->header_prefix || r->o->header_regex)) {
		set_error(r, r->line_no, 0, "header line not found");
		r->rc = READER_EDATA;
	}
}

int reader_run(const struct reader_options *opts, reader_fn fn, void *ctx,
	       struct reader_error *err, struct reader_stats *stats)
{
	struct reader r;
	const char *enc = opts->encoding ? opts->encoding : "UTF-8";

	memset(&r, 0, sizeof(r));
	memset(err, 0, sizeof(*err));
	if (stats)
		memset(stats, 0, sizeof(*stats));
	r.o = opts;
	r.fn = fn;
	r.ctx = ctx;
	r.err = err;
	r.stats = stats;
	r.cd = (iconv_t)-1;
	r.max_record = opts->max_record ? opts->max_record : READER_MAX_RECORD_DEFAULT;

	r.file = fopen(opts->path, "rb");
	if (r.file == NULL) {
		set_error(&r, 0, 0, strerror(errno));
		return READER_EIO;
	}
	r.cd = iconv_open("UTF-8", enc);
	if (r.cd == (iconv_t)-1) {
		set_error(&r, 0, 0, "encoding not supported by iconv");
		r.rc = READER_EDATA;
		goto cleanup;
	}
	r.in = malloc(IN_CHUNK);
	r.out = malloc(OUT_CHUNK);
	r.line = malloc(r.max_record + 2);
	r.fbuf_cap = 4096;
	r.fbuf = malloc(r.fbuf_cap);
	if (!r.in || !r.out || !r.line || !r.fbuf) {
		r.rc = READER_ENOMEM;
		goto cleanup;
	}
	r.csv_opts = CSV_STRICT | CSV_STRICT_FINI;
	if (csv_init(&r.csv, r.csv_opts) != 0) {
		r.rc = READER_ENOMEM;
		goto cleanup;
	}
	r.csv_ready = 1;
	csv_set_delim(&r.csv, opts->delimiter);
	csv_set_quote(&r.csv, opts->quote ? opts->quote : NO_QUOTE);
	csv_set_space_func(&r.csv, never_space);
	/* libcsv grows its field buffer by blk_size bytes (128 by default): a long
	 * field would be copied many times over. */
	csv_set_blk_size(&r.csv, 64 * 1024);
	read_all(&r);
cleanup:
	if (r.rc == READER_ENOMEM && err->message[0] == '\0')
		set_error(&r, r.line_no, 0, "out of memory");
	if (r.csv_ready)
		csv_free(&r.csv);
	if (r.cd != (iconv_t)-1)
		iconv_close(r.cd);
	if (r.file)
		fclose(r.file);
	free(r.in);
	free(r.out);
	free(r.line);
	free(r.fbuf);
	free(r.header_line);
	return r.rc;
}
