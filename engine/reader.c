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
#include <strings.h>
#include "banned.h"

#define IN_CHUNK (64 * 1024)
#define OUT_CHUNK (4 * IN_CHUNK)
#define NO_QUOTE 0xff /* never occurs in UTF-8, so "no quoting" for libcsv */

/*
 * Where a record stands with respect to quoting, tracked byte by byte by
 * quote_scan: needed only to pass over the rest of a record given up before its
 * end (too long, NUL byte), whose bytes libcsv cannot be asked to skip without
 * buffering them.  It follows RFC 4180 as libcsv's strict mode does: a quote opens
 * a quoted field only at the start of a field; inside one, a doubled quote is
 * data and a single quote closes it.
 */
struct qstate {
	int quoted;        /* inside a quoted field */
	int pending;       /* a quote seen inside it: closes it unless doubled */
	int field_start;   /* at the start of a field */
};

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

	struct qstate lq;      /* quote state over a long line, including its discarded part */
	struct qstate carry;   /* quote state at the start of the next line while skipping */
	int skipping;          /* the rest of an abandoned record is being passed over */
	size_t line_bytes;     /* bytes of the current line, including any not kept */
	int utf8;              /* the file is declared UTF-8: validated, not converted */
	unsigned char u8_need, u8_lo, u8_hi; /* UTF-8 validation state across chunks */
	unsigned char u8_have; /* bytes of the current character already passed on */
	size_t src_line_bytes; /* iconv: bytes of the file's current line consumed so far */

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

static void quote_scan(const struct reader *r, struct qstate *q, const char *s, size_t len)
{
	unsigned char quote = r->o->quote, delim = r->o->delimiter;
	size_t i;

	if (!quote)
		return;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (q->quoted) {
			if (q->pending) {
				q->pending = 0;
				if (c != quote) {
					q->quoted = 0;
					q->field_start = c == delim;
				}
			} else if (c == quote) {
				q->pending = 1;
			}
		} else if (q->field_start && c == quote) {
			q->quoted = 1;
			q->field_start = 0;
		} else {
			q->field_start = c == delim;
		}
	}
}

/* The end of a line: returns 1 if it also ends the record (no quoted field open). */
static int quote_newline(struct qstate *q)
{
	if (q->quoted && !q->pending)
		return 0;
	q->quoted = q->pending = 0;
	q->field_start = 1;
	return 1;
}

/* The quote state at the start of the current line. */
static struct qstate line_start_state(const struct reader *r)
{
	struct qstate q = { 0, 0, 1 };

	if (r->skipping)
		return r->carry;
	if (r->in_record) {
		q.quoted = 1; /* a multi-line record continues inside a quoted field */
		q.field_start = 0;
	}
	return q;
}

/* The quote state at the end of the current line (the whole line, kept or not). */
static struct qstate line_end_state(const struct reader *r)
{
	struct qstate q;

	if (r->line_too_long)
		return r->lq;
	q = line_start_state(r);
	quote_scan(r, &q, r->line, r->line_len);
	return q;
}

/*
 * Give up the current record with REASON: deliver it as an error record, and if
 * its text so far leaves a quoted field open, pass over the following lines until
 * that field closes, so that nothing inside it is ever read as a row of its own.
 */
static void abandon(struct reader *r, const char *reason)
{
	struct qstate q = line_end_state(r);

	r->rec_error = reason;
	if (r->in_record)
		csv_reset(r);
	r->in_record = 0;
	if (!quote_newline(&q)) {
		r->skipping = 1;
		r->carry = q;
	}
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
		/* libcsv stopped inside the line; the next line starts a new record. */
		r->rec_error = csv_error(&r->csv) == CSV_EPARSE
			? "malformed quoting (a quote inside an unquoted field, or text after a closing quote)"
			: "record could not be parsed";
		csv_reset(r);
		deliver(r, 0);
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

/* No line looked like the header: say what was looked for, and how far. */
static void header_not_found(struct reader *r)
{
	char msg[256];

	if (r->o->header_prefix)
		snprintf(msg, sizeof(msg), "header line not found: no line starts with '%.120s' in the first %d lines",
			 r->o->header_prefix, READER_HEADER_SEARCH_LINES);
	else
		snprintf(msg, sizeof(msg), "header line not found: no line matches the profile's header_regex"
			 " in the first %d lines", READER_HEADER_SEARCH_LINES);
	set_error(r, r->line_no, 0, msg);
	r->rc = READER_EDATA;
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
		struct qstate q = line_end_state(r);

		if (quote_newline(&q))
			r->skipping = 0;
		else
			r->carry = q;
		goto skip;
	}
	if (r->in_record) {
		r->rec_bytes += len + 1;
		raw_append(r, s, len, 1);
		if (r->line_too_long || r->rec_bytes > r->max_record || has_nul) {
			abandon(r, has_nul ? "NUL byte in record" : "record longer than the line size limit");
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
		if (r->line_no > (long)o->preamble_lines + READER_HEADER_SEARCH_LINES) {
			header_not_found(r);
			return;
		}
		if (!match)
			goto skip;
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
		abandon(r, has_nul ? "NUL byte in record" : "record longer than the line size limit");
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

		r->line_bytes += seg;
		if (!r->line_too_long) {
			if (r->line_len + seg > r->max_record) {
				size_t keep = r->max_record - r->line_len;
				memcpy(r->line + r->line_len, p, keep);
				r->line_len += keep;
				/* From here on the line is not kept: follow its quoting only. */
				r->lq = line_start_state(r);
				quote_scan(r, &r->lq, r->line, r->line_len);
				quote_scan(r, &r->lq, p + keep, seg - keep);
				r->line_too_long = 1;
			} else {
				memcpy(r->line + r->line_len, p, seg);
				r->line_len += seg;
			}
		} else {
			quote_scan(r, &r->lq, p, seg);
		}
		if (nl == NULL)
			return;
		r->line[r->line_len] = '\0';
		handle_line(r);
		r->line_len = 0;
		r->line_bytes = 0;
		r->line_too_long = 0;
		p += seg + 1;
		n -= seg + 1;
	}
}

static void decode_error(struct reader *r, const char *what)
{
	char msg[200];
	const char *enc = r->o->encoding ? r->o->encoding : "UTF-8";

	snprintf(msg, sizeof(msg), "%s (the profile declares %s)", what, enc);
	/* The column of the first byte of the character that is broken, counted in
	 * the file's bytes. */
	set_error(r, r->line_no + 1,
		  r->utf8 ? (long)r->line_bytes + 1 - (long)r->u8_have : (long)r->src_line_bytes + 1, msg);
	r->rc = READER_EDATA;
}

/*
 * Validate UTF-8 per Unicode Table 3-7 (well-formed byte sequences), carrying a
 * sequence across chunks.  Written here because glibc's UTF-8 to UTF-8 iconv lets
 * through code points above U+10FFFF and 5- and 6-byte forms, and because a file
 * declared UTF-8 then needs no copy at all.  Returns N if every byte is fine, else
 * the index of the first byte that cannot continue or start a character.
 */
static size_t utf8_check(struct reader *r, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (r->u8_need) {
			if (c < r->u8_lo || c > r->u8_hi)
				return i;
			r->u8_need--;
			r->u8_have = r->u8_need ? (unsigned char)(r->u8_have + 1) : 0;
			r->u8_lo = 0x80;
			r->u8_hi = 0xBF;
			continue;
		}
		if (c < 0x80)
			continue;
		r->u8_lo = 0x80;
		r->u8_hi = 0xBF;
		if (c >= 0xC2 && c <= 0xDF) {
			r->u8_need = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			r->u8_need = 2;
			if (c == 0xE0)
				r->u8_lo = 0xA0;
			else if (c == 0xED)
				r->u8_hi = 0x9F; /* no UTF-16 surrogates */
		} else if (c >= 0xF0 && c <= 0xF4) {
			r->u8_need = 3;
			if (c == 0xF0)
				r->u8_lo = 0x90;
			else if (c == 0xF4)
				r->u8_hi = 0x8F; /* nothing above U+10FFFF */
		} else {
			return i; /* not a lead byte: the broken character starts here */
		}
		r->u8_have = 1;
	}
	return n;
}

/* Read a file declared UTF-8: validate and pass the bytes on as they are. */
static void read_utf8(struct reader *r)
{
	for (;;) {
		size_t got = fread(r->in, 1, IN_CHUNK, r->file);
		size_t ok;

		if (got == 0) {
			if (ferror(r->file)) {
				set_error(r, r->line_no + 1, 0, strerror(errno));
				r->rc = READER_EIO;
			} else if (r->u8_need) {
				decode_error(r, "text ends inside a multi-byte character");
			}
			return;
		}
		if (r->stats)
			r->stats->bytes += got;
		ok = utf8_check(r, (const unsigned char *)r->in, got);
		take_text(r, r->in, ok);
		if (r->rc || r->done)
			return;
		if (ok < got) {
			decode_error(r, "text is not valid in the declared encoding");
			return;
		}
	}
}

static void read_all(struct reader *r)
{
	size_t carry = 0;

	if (r->utf8) {
		read_utf8(r);
		if (r->rc || r->done)
			return;
		goto finish;
	}
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
			char *outp = r->out, *before = inp;
			size_t out_left = OUT_CHUNK;
			size_t rc = iconv(r->cd, &inp, &in_left, &outp, &out_left);
			int e = errno;
			const char *nl;

			/* Bytes of the file's current line so far, for the column of a bad byte
			 * (the converted text's own count would differ for multi-byte text). */
			for (nl = inp; nl > before && nl[-1] != '\n'; nl--)
				;
			r->src_line_bytes = nl > before ? (size_t)(inp - nl) : r->src_line_bytes + (size_t)(inp - before);
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
finish:
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
	if (r->rc == 0 && (r->in_record || r->skipping)) {
		char msg[120];

		snprintf(msg, sizeof(msg), "unterminated quoted field at end of file (record starts on line %ld)",
			 r->rec_line);
		set_error(r, r->rec_line, 0, msg);
		r->rc = READER_EDATA;
	}
	if (r->rc == 0 && r->o->has_header && !r->header_found &&
	    (r->o->header_prefix || r->o->header_regex))
		header_not_found(r);
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
	r.utf8 = strcasecmp(enc, "UTF-8") == 0 || strcasecmp(enc, "UTF8") == 0;
	if (!r.utf8)
		r.cd = iconv_open("UTF-8", enc);
	if (!r.utf8 && r.cd == (iconv_t)-1) {
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
