/*
 * test_reader.c - pins engine/reader.h: CSV bytes of one file -> records.
 *
 * Each test writes a small file to /tmp (mkstemp), runs reader_run with a
 * callback that copies every record it is given, and checks the records, the
 * status and the structural error.  Temporary files and copies are released by
 * the per-test teardown, so a failing assertion leaks nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <iconv.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "reader.h"

/* ---- fixture: temporary files and copied records ------------------------------ */

struct rec_copy {
	size_t nfields;
	char **field;
	size_t *len;
	long line;
	char *error; /* NULL: a good record */
	int is_header;
	char *raw;
	size_t raw_len;
};

#define MAX_TEMP 4

static struct {
	char *paths[MAX_TEMP];
	size_t npaths;
	struct rec_copy *recs;
	size_t n, cap;
	/* Behaviour of the callback. */
	size_t stop_after;   /* return stop_rc after this many records (0: never) */
	int stop_rc;
	int count_only;      /* count and check, do not copy */
	size_t counted;
	long last_line;
	int count_bad;       /* records of the long file that were not as expected */
	char *scratch[2];    /* test buffers, freed at teardown */
} fx;

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	return 0;
}

static void free_records(void)
{
	size_t i, j;

	for (i = 0; i < fx.n; i++) {
		for (j = 0; j < fx.recs[i].nfields; j++)
			free(fx.recs[i].field[j]);
		free(fx.recs[i].field);
		free(fx.recs[i].len);
		free(fx.recs[i].error);
		free(fx.recs[i].raw);
	}
	free(fx.recs);
	fx.recs = NULL;
	fx.n = fx.cap = 0;
}

static int teardown(void **state)
{
	size_t i;

	(void)state;
	free_records();
	for (i = 0; i < fx.npaths; i++) {
		unlink(fx.paths[i]);
		free(fx.paths[i]);
	}
	fx.npaths = 0;
	for (i = 0; i < 2; i++) {
		free(fx.scratch[i]);
		fx.scratch[i] = NULL;
	}
	return 0;
}

/* A buffer of SIZE bytes that lives until the end of the test. */
static char *scratch(size_t size)
{
	size_t i;

	for (i = 0; i < 2 && fx.scratch[i]; i++)
		;
	assert_true(i < 2);
	fx.scratch[i] = malloc(size);
	assert_non_null(fx.scratch[i]);
	return fx.scratch[i];
}

static char *dup_bytes(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	assert_non_null(d);
	if (len)
		memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* A temporary file holding LEN bytes of DATA; removed at teardown. */
static const char *temp_file(const char *data, size_t len)
{
	char *path = strdup("/tmp/test_reader_XXXXXX");
	int fd;
	size_t done = 0;

	assert_non_null(path);
	assert_true(fx.npaths < MAX_TEMP);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fx.paths[fx.npaths++] = path;
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);
		assert_true(w > 0);
		done += (size_t)w;
	}
	assert_int_equal(close(fd), 0);
	return path;
}

static const char *temp_text(const char *text)
{
	return temp_file(text, strlen(text));
}

static int collect(void *ctx, const struct reader_record *rec)
{
	struct rec_copy *c;
	size_t i;

	(void)ctx;
	if (fx.count_only) {
		char want[32];

		fx.counted++;
		fx.last_line = rec->line;
		/* Line L of the long file (after the header) is "L-1,ORD-L-1,100". */
		snprintf(want, sizeof(want), "%ld", rec->line - 1);
		if (rec->error || rec->nfields != 3 ||
		    (!rec->is_header && strcmp(rec->field[0], want) != 0))
			fx.count_bad++;
		return 0;
	}
	if (fx.n == fx.cap) {
		size_t cap = fx.cap ? fx.cap * 2 : 16;
		struct rec_copy *p = realloc(fx.recs, cap * sizeof(*p));

		assert_non_null(p);
		fx.recs = p;
		fx.cap = cap;
	}
	c = &fx.recs[fx.n++];
	memset(c, 0, sizeof(*c));
	c->line = rec->line;
	c->is_header = rec->is_header;
	c->raw = dup_bytes(rec->raw, rec->raw_len);
	c->raw_len = rec->raw_len;
	if (rec->error) {
		c->error = strdup(rec->error);
		assert_non_null(c->error);
	} else {
		c->field = calloc(rec->nfields + 1, sizeof(char *));
		c->len = calloc(rec->nfields + 1, sizeof(size_t));
		assert_non_null(c->field);
		assert_non_null(c->len);
		for (i = 0; i < rec->nfields; i++) {
			/* The contract: NUL-terminated, len bytes, no NUL inside. */
			assert_int_equal(strlen(rec->field[i]), rec->len[i]);
			c->field[i] = dup_bytes(rec->field[i], rec->len[i]);
			c->len[i] = rec->len[i];
			c->nfields++;
		}
	}
	if (fx.stop_after && fx.n == fx.stop_after)
		return fx.stop_rc;
	return 0;
}

static struct reader_options opts_for(const char *path)
{
	struct reader_options o;

	memset(&o, 0, sizeof(o));
	o.path = path;
	o.delimiter = ',';
	o.quote = '"';
	o.has_header = 1;
	return o;
}

static int run(const struct reader_options *o, struct reader_error *err)
{
	struct reader_stats st;

	return reader_run(o, collect, NULL, err, &st);
}

/* Read TEXT with the default options (comma, double quote, header); expect OK. */
static void read_ok(const char *text)
{
	struct reader_options o = opts_for(temp_text(text));
	struct reader_error err;
	int rc = run(&o, &err);

	if (rc != READER_OK)
		fail_msg("reader_run: %d, line %ld column %ld: %s", rc, err.line, err.column, err.message);
}

/* Record I is good, on LINE, with the N fields given. */
static void check_fields(size_t i, long line, size_t n, ...)
{
	va_list ap;
	size_t j;

	assert_true(i < fx.n);
	if (fx.recs[i].error)
		fail_msg("record %zu is an error record: %s", i, fx.recs[i].error);
	assert_int_equal(fx.recs[i].line, line);
	assert_int_equal(fx.recs[i].nfields, n);
	va_start(ap, n);
	for (j = 0; j < n; j++) {
		const char *want = va_arg(ap, const char *);
		assert_string_equal(fx.recs[i].field[j], want);
	}
	va_end(ap);
}

static void check_error(size_t i, long line, const char *error)
{
	assert_true(i < fx.n);
	assert_non_null(fx.recs[i].error);
	assert_string_equal(fx.recs[i].error, error);
	assert_int_equal(fx.recs[i].line, line);
}

static const char *R_TOO_LONG = "record longer than the line size limit";
static const char *R_NUL = "NUL byte in record";
static const char *R_MALFORMED =
	"malformed quoting (a quote inside an unquoted field, or text after a closing quote)";
static const char *R_REPEATED = "header line repeated";

/* ---- lines and records --------------------------------------------------------- */

static void test_reader_strips_utf8_bom(void **state)
{
	(void)state;
	read_ok("\xEF\xBB\xBFtxn_id,amount\nT1,1.00\n");
	assert_int_equal(fx.n, 2);
	check_fields(0, 1, 2, "txn_id", "amount");
	assert_true(fx.recs[0].is_header);
	assert_int_equal(fx.recs[0].len[0], 6);
	check_fields(1, 2, 2, "T1", "1.00");
	assert_false(fx.recs[1].is_header);
}

static void test_reader_bom_only_on_first_line_is_stripped(void **state)
{
	(void)state;
	/* A BOM later in the file is data, not a marker. */
	read_ok("a,b\n\xEF\xBB\xBFx,y\n");
	assert_int_equal(fx.n, 2);
	check_fields(1, 2, 2, "\xEF\xBB\xBFx", "y");
}

static void test_reader_accepts_crlf_line_ends(void **state)
{
	(void)state;
	read_ok("a,b\r\n1,2\r\n\"q\",3\r\n");
	assert_int_equal(fx.n, 3);
	check_fields(0, 1, 2, "a", "b");
	check_fields(1, 2, 2, "1", "2");
	check_fields(2, 3, 2, "q", "3");
	assert_int_equal(fx.recs[1].raw_len, 3); /* raw text without the CR */
}

static void test_reader_last_line_without_newline_is_read(void **state)
{
	(void)state;
	read_ok("a,b\n1,2");
	assert_int_equal(fx.n, 2);
	check_fields(1, 2, 2, "1", "2");
}

static void test_reader_quoted_field_holds_delimiter(void **state)
{
	(void)state;
	read_ok("a,b,c\n\"x,y\",\"\",z\n");
	assert_int_equal(fx.n, 2);
	check_fields(1, 2, 3, "x,y", "", "z");
}

static void test_reader_quoted_field_holds_doubled_quotes(void **state)
{
	(void)state;
	read_ok("a,b\n\"say \"\"hi\"\"\",\"\"\"\"\n");
	assert_int_equal(fx.n, 2);
	check_fields(1, 2, 2, "say \"hi\"", "\"");
}

static void test_reader_quoted_newline_keeps_record_on_first_line(void **state)
{
	(void)state;
	read_ok("a,b\n"
		"\"line one\nline two\n\nline four\",x\n"
		"after,y\n");
	assert_int_equal(fx.n, 3);
	check_fields(1, 2, 2, "line one\nline two\n\nline four", "x");
	assert_string_equal(fx.recs[1].raw, "\"line one\nline two\n\nline four\",x");
	/* The next record's line counts the physical lines of the one before. */
	check_fields(2, 6, 2, "after", "y");
}

static void test_reader_quoted_newline_line_that_looks_like_a_comment_is_data(void **state)
{
	struct reader_options o;
	struct reader_error err;
	static const char *const skip[] = { "#" };
	static const char *const footer[] = { "Total" };

	(void)state;
	o = opts_for(temp_text("a,b\n\"x\n#not a comment\nTotal: not a footer\",1\n2,3\n"));
	o.skip_prefixes = skip;
	o.n_skip_prefixes = 1;
	o.footer_prefixes = footer;
	o.n_footer_prefixes = 1;
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 3);
	check_fields(1, 2, 2, "x\n#not a comment\nTotal: not a footer", "1");
	check_fields(2, 5, 2, "2", "3");
}

static void test_reader_skips_blank_and_whitespace_lines(void **state)
{
	struct reader_options o;
	struct reader_error err;
	struct reader_stats st;
	static const char text[] = "\n  \na,b\n\n1,2\n   \n\t \t\n3,4\n\n\n";

	(void)state;
	o = opts_for(temp_text(text));
	assert_int_equal(reader_run(&o, collect, NULL, &err, &st), READER_OK);
	assert_int_equal(fx.n, 3);
	check_fields(0, 3, 2, "a", "b");
	assert_true(fx.recs[0].is_header);
	check_fields(1, 5, 2, "1", "2");
	check_fields(2, 8, 2, "3", "4");
	assert_int_equal(st.lines, 10);
	assert_int_equal(st.skipped_lines, 7);
	assert_int_equal(st.bytes, sizeof(text) - 1);
}

static void test_reader_crlf_blank_lines_are_skipped(void **state)
{
	(void)state;
	read_ok("a,b\r\n\r\n1,2\r\n \r\n");
	assert_int_equal(fx.n, 2);
	check_fields(1, 3, 2, "1", "2");
}

static void test_reader_trailing_delimiter_gives_empty_last_field(void **state)
{
	(void)state;
	read_ok("a,b,\n1,2,\n3,,\n");
	assert_int_equal(fx.n, 3);
	check_fields(0, 1, 3, "a", "b", "");
	check_fields(1, 2, 3, "1", "2", "");
	check_fields(2, 3, 3, "3", "", "");
}

static void test_reader_fields_keep_surrounding_spaces(void **state)
{
	(void)state;
	/* Stripping is the profile's business, not the reader's. */
	read_ok("a,b\n 1 ,\t2\n");
	check_fields(1, 2, 2, " 1 ", "\t2");
}

static void test_reader_without_header_marks_no_record_as_header(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("1,2\n3,4\n1,2\n"));
	o.has_header = 0;
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 3);
	assert_false(fx.recs[0].is_header);
	check_fields(0, 1, 2, "1", "2");
	/* Without a header nothing is a "repeated header". */
	check_fields(2, 3, 2, "1", "2");
}

static void test_reader_header_only_file_is_valid(void **state)
{
	(void)state;
	read_ok("a,b\n");
	assert_int_equal(fx.n, 1);
	assert_true(fx.recs[0].is_header);
}

static void test_reader_tab_delimiter(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a\tb\tc\n1,5\t\"x\ty\"\t\n"));
	o.delimiter = '\t';
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 2);
	check_fields(0, 1, 3, "a", "b", "c");
	check_fields(1, 2, 3, "1,5", "x\ty", "");
}

static void test_reader_semicolon_delimiter(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a;b\n1,50;2\n"));
	o.delimiter = ';';
	assert_int_equal(run(&o, &err), READER_OK);
	check_fields(1, 2, 2, "1,50", "2");
}

static void test_reader_no_quote_mode_treats_quotes_as_data(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a,b\n\"x,y\"\nsay \"hi\",\"\n"));
	o.quote = 0;
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 3);
	check_fields(1, 2, 2, "\"x", "y\"");
	/* An unbalanced quote neither spans lines nor is an error. */
	check_fields(2, 3, 2, "say \"hi\"", "\"");
}

static void test_reader_single_quote_character(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a,b\n'x,y',\"z\"\"\n"));
	o.quote = '\'';
	assert_int_equal(run(&o, &err), READER_OK);
	check_fields(1, 2, 2, "x,y", "\"z\"\"");
}

/* ---- preamble, header, comments, footer ---------------------------------------- */

static void test_reader_skips_preamble_lines(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	/* Preamble lines are skipped unparsed: an open quote there is harmless. */
	o = opts_for(temp_text("Account \"Giro\nFrom 2025-12-01\n\na,b\n1,2\n"));
	o.preamble_lines = 3;
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 2);
	check_fields(0, 4, 2, "a", "b");
	assert_true(fx.recs[0].is_header);
	check_fields(1, 5, 2, "1", "2");
}

static void check_header_prefix_after(unsigned preamble)
{
	char text[4096];
	size_t pos = 0, i;
	struct reader_options o;
	struct reader_error err;

	for (i = 0; i < preamble; i++)
		pos += (size_t)snprintf(text + pos, sizeof(text) - pos, "Kontoinhaber \"%zu;Saldo\n", i);
	snprintf(text + pos, sizeof(text) - pos, "Buchungstag;Betrag\n01.12.2025;1,00\n");
	free_records();
	o = opts_for(temp_text(text));
	o.delimiter = ';';
	o.header_prefix = "Buchungstag;";
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 2);
	check_fields(0, (long)preamble + 1, 2, "Buchungstag", "Betrag");
	assert_true(fx.recs[0].is_header);
	check_fields(1, (long)preamble + 2, 2, "01.12.2025", "1,00");
	assert_false(fx.recs[1].is_header);
	unlink(fx.paths[--fx.npaths]);
	free(fx.paths[fx.npaths]);
}

static void test_reader_finds_header_by_prefix_after_varying_preamble(void **state)
{
	(void)state;
	check_header_prefix_after(0);
	check_header_prefix_after(2);
	check_header_prefix_after(7);
}

static void test_reader_finds_header_by_regex_after_varying_preamble(void **state)
{
	regex_t re;
	unsigned lengths[] = { 0, 1, 5 };
	size_t k;

	(void)state;
	assert_int_equal(regcomp(&re, "^\"?Date\"?,.*Amount", REG_EXTENDED | REG_NOSUB), 0);
	for (k = 0; k < 3; k++) {
		char text[1024];
		size_t pos = 0, i;
		struct reader_options o;
		struct reader_error err;

		for (i = 0; i < lengths[k]; i++)
			pos += (size_t)snprintf(text + pos, sizeof(text) - pos, "Report line %zu, Amount\n", i);
		snprintf(text + pos, sizeof(text) - pos, "\"Date\",Ref,Amount\n2025-12-01,R1,5\n");
		free_records();
		o = opts_for(temp_text(text));
		o.header_regex = &re;
		assert_int_equal(run(&o, &err), READER_OK);
		assert_int_equal(fx.n, 2);
		check_fields(0, (long)lengths[k] + 1, 3, "Date", "Ref", "Amount");
		assert_true(fx.recs[0].is_header);
		check_fields(1, (long)lengths[k] + 2, 3, "2025-12-01", "R1", "5");
		unlink(fx.paths[--fx.npaths]);
		free(fx.paths[fx.npaths]);
	}
	regfree(&re);
}

static void test_reader_header_prefix_matches_after_bom(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("\xEF\xBB\xBF" "Buchungstag;Betrag\n01.12.2025;1,00\n"));
	o.delimiter = ';';
	o.header_prefix = "Buchungstag;";
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 2);
	check_fields(0, 1, 2, "Buchungstag", "Betrag");
}

static void test_reader_header_prefix_after_fixed_preamble(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	/* A preamble line that matches the prefix is still preamble. */
	o = opts_for(temp_text("H,old\nnote\nH,new\n1,2\n"));
	o.preamble_lines = 1;
	o.header_prefix = "H,";
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 2);
	check_fields(0, 3, 2, "H", "new");
}

/* A file of N_JUNK junk lines, then the header line, then one data line. */
static const char *junk_then_header(size_t n_junk)
{
	size_t size = n_junk * 8 + 64, pos = 0, i;
	char *text = scratch(size);
	const char *path;

	assert_non_null(text);
	for (i = 0; i < n_junk; i++)
		pos += (size_t)snprintf(text + pos, size - pos, "junk%03zu\n", i);
	snprintf(text + pos, size - pos, "HDR,x\n1,2\n");
	path = temp_text(text);
	return path;
}

static void test_reader_header_found_on_the_last_searched_line(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(junk_then_header(READER_HEADER_SEARCH_LINES - 1));
	o.header_prefix = "HDR,";
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 2);
	check_fields(0, READER_HEADER_SEARCH_LINES, 2, "HDR", "x");
}

static void test_reader_header_beyond_search_lines_refuses_file(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(junk_then_header(READER_HEADER_SEARCH_LINES));
	o.header_prefix = "HDR,";
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_string_equal(err.message, "header line not found: no line starts with 'HDR,' in the first 200 lines");
	assert_int_equal(err.line, READER_HEADER_SEARCH_LINES + 1);
	assert_int_equal(fx.n, 0);
}

static void test_reader_header_search_starts_after_preamble(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(junk_then_header(READER_HEADER_SEARCH_LINES + 9));
	o.preamble_lines = 10;
	o.header_prefix = "HDR,";
	assert_int_equal(run(&o, &err), READER_OK);
	check_fields(0, READER_HEADER_SEARCH_LINES + 10, 2, "HDR", "x");
}

static void test_reader_header_missing_from_short_file_refuses_file(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("junk\nmore junk\n1,2\n"));
	o.header_prefix = "HDR,";
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_string_equal(err.message, "header line not found: no line starts with 'HDR,' in the first 200 lines");
	assert_int_equal(err.line, 3);
	assert_int_equal(fx.n, 0);
}

static void test_reader_skip_prefixes_anywhere(void **state)
{
	struct reader_options o;
	struct reader_error err;
	struct reader_stats st;
	static const char *const skip[] = { "#", "-- " };

	(void)state;
	o = opts_for(temp_text("# exported by PSP\na,b\n# page 2\n1,2\n-- note\n3,4\n#\n--x,5\n"));
	o.skip_prefixes = skip;
	o.n_skip_prefixes = 2;
	assert_int_equal(reader_run(&o, collect, NULL, &err, &st), READER_OK);
	assert_int_equal(fx.n, 4);
	check_fields(0, 2, 2, "a", "b");
	assert_true(fx.recs[0].is_header);
	check_fields(1, 4, 2, "1", "2");
	check_fields(2, 6, 2, "3", "4");
	check_fields(3, 8, 2, "--x", "5"); /* "-- " needs its space */
	assert_int_equal(st.skipped_lines, 4);
}

static void test_reader_footer_stops_reading(void **state)
{
	struct reader_options o;
	struct reader_error err;
	static const char *const footer[] = { "Kontostand;", "#Summary" };

	(void)state;
	/* After the footer: more rows, a malformed line and an open quote, none read. */
	o = opts_for(temp_text("a;b\n1;2\nKontostand;99\n3;4\nx\"y;1\n\"open\n"));
	o.delimiter = ';';
	o.footer_prefixes = footer;
	o.n_footer_prefixes = 2;
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 2);
	check_fields(1, 2, 2, "1", "2");
}

static void test_reader_second_footer_prefix_also_stops(void **state)
{
	struct reader_options o;
	struct reader_error err;
	static const char *const footer[] = { "Kontostand;", "#Summary" };

	(void)state;
	o = opts_for(temp_text("a,b\n1,2\n#Summary,3 rows\n3,4\n"));
	o.footer_prefixes = footer;
	o.n_footer_prefixes = 2;
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 2);
}

/* A header line that cannot be read leaves no header: the file is refused at it. */
static void test_reader_unreadable_header_refuses_file(void **state)
{
	static const char text[] = "a,\0b\n1,2\n";
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_file(text, sizeof(text) - 1));
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_int_equal(err.line, 1);
	assert_string_equal(err.message, "the header line cannot be read: NUL byte in record");
	assert_int_equal(fx.n, 0);
}

static void test_reader_repeated_header_is_an_error_record(void **state)
{
	(void)state;
	read_ok("a,b\n1,2\na,b\n3,4\n");
	assert_int_equal(fx.n, 4);
	check_fields(1, 2, 2, "1", "2");
	check_error(2, 3, R_REPEATED);
	assert_string_equal(fx.recs[2].raw, "a,b");
	check_fields(3, 4, 2, "3", "4");
}

/* ---- bad records: the row is rejected, reading goes on ------------------------- */

static void test_reader_record_over_max_is_an_error_record(void **state)
{
	struct reader_options o;
	struct reader_error err;
	size_t size = 10000 + 64, pos;
	char *text = scratch(size);

	(void)state;
	assert_non_null(text);
	pos = (size_t)snprintf(text, size, "a,b\n1,");
	memset(text + pos, 'x', 10000);
	pos += 10000;
	pos += (size_t)snprintf(text + pos, size - pos, "\n2,3\n");
	o = opts_for(temp_file(text, pos));
	o.max_record = 2048;
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 3);
	check_error(1, 2, R_TOO_LONG);
	/* Raw text is kept, bounded. */
	assert_int_equal(fx.recs[1].raw_len, READER_RAW_MAX);
	assert_memory_equal(fx.recs[1].raw, "1,xxxx", 6);
	check_fields(2, 3, 2, "2", "3");
}

static void test_reader_quoted_field_over_max_is_an_error_record(void **state)
{
	struct reader_options o;
	struct reader_error err;
	size_t size = 10000 + 64, pos;
	char *text = scratch(size);

	(void)state;
	assert_non_null(text);
	pos = (size_t)snprintf(text, size, "a,b\n1,\"");
	memset(text + pos, 'x', 10000);
	pos += 10000;
	pos += (size_t)snprintf(text + pos, size - pos, "\"\n2,3\n");
	o = opts_for(temp_file(text, pos));
	o.max_record = 2048;
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 3);
	check_error(1, 2, R_TOO_LONG);
	check_fields(2, 3, 2, "2", "3");
}

static void test_reader_record_of_exactly_max_bytes_is_read(void **state)
{
	struct reader_options o;
	struct reader_error err;
	char text[2200];
	size_t pos;

	(void)state;
	pos = (size_t)snprintf(text, sizeof(text), "a,b\n1,");
	memset(text + pos, 'y', 2046); /* "1," + 2046 = 2048 bytes of line */
	pos += 2046;
	text[pos++] = '\n';
	o = opts_for(temp_file(text, pos));
	o.max_record = 2048;
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 2);
	assert_null(fx.recs[1].error);
	assert_int_equal(fx.recs[1].len[1], 2046);
}

/*
 * A quoted record that spans lines and grows over the limit is one bad row: the
 * header promises "its rest skipped".  The lines after the limit that still
 * belong to the quoted field must not come out as records of their own.
 */
static void test_reader_multiline_record_over_max_is_skipped_whole(void **state)
{
	struct reader_options o;
	struct reader_error err;
	size_t size = 8000, pos, i;
	char *text = scratch(size);

	(void)state;
	assert_non_null(text);
	pos = (size_t)snprintf(text, size, "a,b\n\"start");
	for (i = 0; i < 6; i++) {
		text[pos++] = '\n';
		memset(text + pos, 'z', 500);
		pos += 500;
	}
	/* Still inside the quotes: a line that looks like a good row, then the end. */
	pos += (size_t)snprintf(text + pos, size - pos, "\n7,8\nend\",9\n2,3\n");
	o = opts_for(temp_file(text, pos));
	o.max_record = 2048;
	assert_int_equal(run(&o, &err), READER_OK);
	check_error(1, 2, R_TOO_LONG);
	if (fx.n != 3)
		fail_msg("expected the header, one error record and row \"2,3\"; got %zu records,"
			 " record 2 on line %ld: %.20s", fx.n, fx.recs[2].line,
			 fx.recs[2].error ? fx.recs[2].error : fx.recs[2].field[0]);
	check_fields(2, 11, 2, "2", "3");
}

/*
 * The same at end of file: a quote left open for more than max_record bytes up to
 * the end is still an unterminated quote, and the file is refused.
 */
static void test_reader_unterminated_quote_longer_than_max_refuses_file(void **state)
{
	struct reader_options o;
	struct reader_error err;
	size_t size = 8000, pos, i;
	char *text = scratch(size);

	(void)state;
	pos = (size_t)snprintf(text, size, "a,b\n1,\"open\n");
	for (i = 0; i < 100; i++)
		pos += (size_t)snprintf(text + pos, size - pos, "%zu,looks like a row but is inside quotes\n", i);
	o = opts_for(temp_file(text, pos));
	o.max_record = 2048;
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_string_equal(err.message,
			    "unterminated quoted field at end of file (record starts on line 2)");
}

static void test_reader_nul_byte_is_an_error_record(void **state)
{
	static const char text[] = "a,b\n1,x\0y\n3,4\n";
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_file(text, sizeof(text) - 1));
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 3);
	check_error(1, 2, R_NUL);
	check_fields(2, 3, 2, "3", "4");
}

static void test_reader_nul_byte_in_quoted_continuation_is_an_error_record(void **state)
{
	static const char text[] = "a,b\n\"p\nq\0\",1\n3,4\n";
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_file(text, sizeof(text) - 1));
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 3);
	check_error(1, 2, R_NUL);
	check_fields(2, 4, 2, "3", "4");
}

/* A stray quote inside an unquoted field opens nothing: the next row is a row. */
static void test_reader_quote_inside_unquoted_field_is_an_error_record(void **state)
{
	(void)state;
	read_ok("a,b\n1,a\"b\n3,4\n5,6\n");
	assert_int_equal(fx.n, 4);
	check_error(1, 2, R_MALFORMED);
	assert_string_equal(fx.recs[1].raw, "1,a\"b");
	check_fields(2, 3, 2, "3", "4");
	check_fields(3, 4, 2, "5", "6");
}

static void test_reader_text_after_closing_quote_is_an_error_record(void **state)
{
	(void)state;
	read_ok("a,b\n2,\"ab\"c\n3,4\n");
	assert_int_equal(fx.n, 3);
	check_error(1, 2, R_MALFORMED);
	check_fields(2, 3, 2, "3", "4");
}

static void test_reader_two_malformed_rows_in_a_row(void **state)
{
	(void)state;
	read_ok("a,b\n1,a\"b\n2,\"ab\"c\n3,4\n");
	assert_int_equal(fx.n, 4);
	check_error(1, 2, R_MALFORMED);
	check_error(2, 3, R_MALFORMED);
	check_fields(3, 4, 2, "3", "4");
}

static void test_reader_malformed_quoting_on_a_continuation_line_names_the_first_line(void **state)
{
	(void)state;
	read_ok("a,b\n\"one\ntwo\"x,1\n3,4\n");
	assert_int_equal(fx.n, 3);
	check_error(1, 2, R_MALFORMED);
	check_fields(2, 4, 2, "3", "4");
}

static void test_reader_too_many_fields_is_an_error_record(void **state)
{
	size_t size = 2 * (READER_MAX_FIELDS + 1) + 16, pos, i;
	char *text = scratch(size);
	struct reader_options o;
	struct reader_error err;

	(void)state;
	assert_non_null(text);
	pos = (size_t)snprintf(text, size, "a\n");
	for (i = 0; i <= READER_MAX_FIELDS; i++)
		text[pos++] = i < READER_MAX_FIELDS ? ',' : '\n';
	pos += (size_t)snprintf(text + pos, size - pos, "z\n");
	o = opts_for(temp_file(text, pos));
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 3);
	check_error(1, 2, "too many fields in record");
	check_fields(2, 3, 1, "z");
}

/* ---- structural errors: the whole file is refused ------------------------------- */

static void test_reader_unterminated_quote_at_eof_refuses_file(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a,b\n1,2\n3,\"open\nstill open\n"));
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_string_equal(err.message,
			    "unterminated quoted field at end of file (record starts on line 3)");
	assert_int_equal(err.line, 3);
}

static void test_reader_unterminated_quote_on_last_line_without_newline(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a,b\n\"x"));
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_string_equal(err.message,
			    "unterminated quoted field at end of file (record starts on line 2)");
}

static void test_reader_empty_file_is_refused(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_file("", 0));
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_string_equal(err.message, "empty file (0 bytes)");
	assert_int_equal(fx.n, 0);
}

static void test_reader_missing_file_is_an_io_error(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for("/tmp/test_reader_no_such_dir/none.csv");
	assert_int_equal(run(&o, &err), READER_EIO);
	assert_string_equal(err.message, strerror(ENOENT));
	assert_int_equal(fx.n, 0);
}

static void test_reader_unknown_encoding_is_refused(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a\n1\n"));
	o.encoding = "NO-SUCH-CHARSET-9";
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_string_equal(err.message, "encoding not supported by iconv");
}

static void test_reader_invalid_utf8_names_line_and_column(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a,b\n1,2\nxy,K\xe4se\n"));
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_int_equal(err.line, 3);
	assert_int_equal(err.column, 5);
	assert_string_equal(err.message,
			    "text is not valid in the declared encoding (the profile declares UTF-8)");
}

static void test_reader_invalid_utf8_on_first_line_and_column(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	/* UTF-16 LE with its BOM, and gzip's magic, are not UTF-8. */
	o = opts_for(temp_file("\xff\xfe" "a\0,\0", 6));
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_int_equal(err.line, 1);
	assert_int_equal(err.column, 1);
	free_records();
	o = opts_for(temp_file("\x1f\x8b\x08\x00", 4));
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_int_equal(err.line, 1);
	assert_int_equal(err.column, 2);
}

static void test_reader_invalid_utf8_after_a_long_line_names_its_column(void **state)
{
	struct reader_options o;
	struct reader_error err;
	char text[1600];
	size_t pos;

	(void)state;
	pos = (size_t)snprintf(text, sizeof(text), "a,b\n1,");
	memset(text + pos, 'x', 1498); /* columns 1..1500 of line 2 are ASCII */
	pos += 1498;
	text[pos++] = '\xff';          /* column 1501 */
	text[pos++] = '\n';
	o = opts_for(temp_file(text, pos));
	o.max_record = 1024;
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 1501);
}

static void test_reader_truncated_utf8_at_eof_is_refused(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a,b\n1,\xc3"));
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_string_equal(err.message,
			    "text ends inside a multi-byte character (the profile declares UTF-8)");
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 3);
}

static void test_reader_rejects_surrogates_and_overlong_utf8(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a\n\xed\xa0\x80\n"));  /* U+D800 */
	assert_int_equal(run(&o, &err), READER_EDATA);
	free_records();
	o = opts_for(temp_text("a\n\xc0\xaf\n"));      /* overlong '/' */
	assert_int_equal(run(&o, &err), READER_EDATA);
}

/* UTF-8 ends at U+10FFFF (RFC 3629); longer and larger forms are not UTF-8. */
static void test_reader_rejects_code_points_beyond_unicode(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a\nx\xf4\x90\x80\x80\n"));       /* U+110000 */
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 2);
	free_records();
	o = opts_for(temp_text("a\n\xf8\x88\x80\x80\x80\n"));   /* 5-byte form */
	assert_int_equal(run(&o, &err), READER_EDATA);
}

static void test_reader_converts_iso_8859_1(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("W\xe4hrung;Verwendungszweck\nEUR;K\xe4se \xdc" "berweisung\n"));
	o.delimiter = ';';
	o.encoding = "ISO-8859-1";
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 2);
	check_fields(0, 1, 2, "W\xc3\xa4hrung", "Verwendungszweck");
	check_fields(1, 2, 2, "EUR", "K\xc3\xa4se \xc3\x9c" "berweisung");
}

static void test_reader_converts_windows_1252_euro_sign(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("Betrag [\x80]\n5\n"));
	o.encoding = "WINDOWS-1252";
	assert_int_equal(run(&o, &err), READER_OK);
	check_fields(0, 1, 1, "Betrag [\xe2\x82\xac]");
}

/* "交易" is BD BB D2 D7 in GBK (and in GB18030). */
static void test_reader_converts_known_gbk_bytes(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("\xbd\xbb\xd2\xd7,x\n\xbd\xbb\xd2\xd7,1\n"));
	o.encoding = "GBK";
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.n, 2);
	check_fields(0, 1, 2, "\xe4\xba\xa4\xe6\x98\x93", "x");
	check_fields(1, 2, 2, "\xe4\xba\xa4\xe6\x98\x93", "1");
}

/* A WeChat-style bill, made GBK by iconv from its UTF-8 text. */
static void test_reader_converts_gbk_made_by_iconv(void **state)
{
	static const char utf8[] =
		"\xe4\xba\xa4\xe6\x98\x93\xe6\x97\xb6\xe9\x97\xb4,\xe9\x87\x91\xe9\xa2\x9d(\xe5\x85\x83)\n"
		"2025-12-01 10:00:00,12.50\n";
	char gbk[256];
	char *in = (char *)utf8, *out = gbk;
	size_t in_left = sizeof(utf8) - 1, out_left = sizeof(gbk);
	iconv_t cd = iconv_open("GBK", "UTF-8");
	struct reader_options o;
	struct reader_error err;
	const char *encodings[] = { "GBK", "GB18030" };
	size_t k;

	(void)state;
	assert_true(cd != (iconv_t)-1);
	assert_int_not_equal(iconv(cd, &in, &in_left, &out, &out_left), (size_t)-1);
	iconv_close(cd);
	assert_int_equal(in_left, 0);
	for (k = 0; k < 2; k++) {
		free_records();
		o = opts_for(temp_file(gbk, sizeof(gbk) - out_left));
		o.encoding = encodings[k];
		assert_int_equal(run(&o, &err), READER_OK);
		assert_int_equal(fx.n, 2);
		check_fields(0, 1, 2, "\xe4\xba\xa4\xe6\x98\x93\xe6\x97\xb6\xe9\x97\xb4",
			     "\xe9\x87\x91\xe9\xa2\x9d(\xe5\x85\x83)");
		check_fields(1, 2, 2, "2025-12-01 10:00:00", "12.50");
	}
}

static void test_reader_invalid_gbk_is_refused(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a\n\xbd\xbb\xff\xff\n"));
	o.encoding = "GBK";
	assert_int_equal(run(&o, &err), READER_EDATA);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.message,
			    "text is not valid in the declared encoding (the profile declares GBK)");
}

/* ---- the callback ---------------------------------------------------------------- */

static void test_reader_callback_nonzero_stops_and_is_returned(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a,b\n1,2\n3,4\n5,6\n\"open\n"));
	fx.stop_after = 2;
	fx.stop_rc = 42;
	assert_int_equal(run(&o, &err), 42);
	assert_int_equal(fx.n, 2);
	check_fields(1, 2, 2, "1", "2");
}

static void test_reader_callback_can_stop_at_the_header(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a,b\n1,2\n"));
	fx.stop_after = 1;
	fx.stop_rc = 7;
	assert_int_equal(run(&o, &err), 7);
	assert_int_equal(fx.n, 1);
}

static void test_reader_callback_stop_on_error_record(void **state)
{
	struct reader_options o;
	struct reader_error err;

	(void)state;
	o = opts_for(temp_text("a,b\n1,a\"b\n3,4\n"));
	fx.stop_after = 2;
	fx.stop_rc = 3;
	assert_int_equal(run(&o, &err), 3);
	assert_int_equal(fx.n, 2);
}

/* ---- size ------------------------------------------------------------------------ */

static void test_reader_long_file_delivers_every_record(void **state)
{
	const long rows = 100000;
	char path[] = "/tmp/test_reader_long_XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	long i;
	struct reader_options o;
	struct reader_error err;

	(void)state;
	assert_true(fd >= 0);
	fx.paths[fx.npaths++] = strdup(path);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("n,order,amount\n", f);
	for (i = 0; i < rows; i++)
		fprintf(f, "%ld,ORD-%ld,100\n", i + 1, i + 1);
	assert_int_equal(fclose(f), 0);
	o = opts_for(path);
	fx.count_only = 1;
	assert_int_equal(run(&o, &err), READER_OK);
	assert_int_equal(fx.counted, rows + 1);
	assert_int_equal(fx.count_bad, 0);
	assert_int_equal(fx.last_line, rows + 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reader_strips_utf8_bom),
		T(test_reader_bom_only_on_first_line_is_stripped),
		T(test_reader_accepts_crlf_line_ends),
		T(test_reader_last_line_without_newline_is_read),
		T(test_reader_quoted_field_holds_delimiter),
		T(test_reader_quoted_field_holds_doubled_quotes),
		T(test_reader_quoted_newline_keeps_record_on_first_line),
		T(test_reader_quoted_newline_line_that_looks_like_a_comment_is_data),
		T(test_reader_skips_blank_and_whitespace_lines),
		T(test_reader_crlf_blank_lines_are_skipped),
		T(test_reader_trailing_delimiter_gives_empty_last_field),
		T(test_reader_fields_keep_surrounding_spaces),
		T(test_reader_without_header_marks_no_record_as_header),
		T(test_reader_header_only_file_is_valid),
		T(test_reader_tab_delimiter),
		T(test_reader_semicolon_delimiter),
		T(test_reader_no_quote_mode_treats_quotes_as_data),
		T(test_reader_single_quote_character),
		T(test_reader_skips_preamble_lines),
		T(test_reader_finds_header_by_prefix_after_varying_preamble),
		T(test_reader_finds_header_by_regex_after_varying_preamble),
		T(test_reader_header_prefix_matches_after_bom),
		T(test_reader_header_prefix_after_fixed_preamble),
		T(test_reader_header_found_on_the_last_searched_line),
		T(test_reader_header_beyond_search_lines_refuses_file),
		T(test_reader_header_search_starts_after_preamble),
		T(test_reader_header_missing_from_short_file_refuses_file),
		T(test_reader_skip_prefixes_anywhere),
		T(test_reader_footer_stops_reading),
		T(test_reader_second_footer_prefix_also_stops),
		T(test_reader_unreadable_header_refuses_file),
		T(test_reader_repeated_header_is_an_error_record),
		T(test_reader_record_over_max_is_an_error_record),
		T(test_reader_quoted_field_over_max_is_an_error_record),
		T(test_reader_record_of_exactly_max_bytes_is_read),
		T(test_reader_multiline_record_over_max_is_skipped_whole),
		T(test_reader_unterminated_quote_longer_than_max_refuses_file),
		T(test_reader_nul_byte_is_an_error_record),
		T(test_reader_nul_byte_in_quoted_continuation_is_an_error_record),
		T(test_reader_quote_inside_unquoted_field_is_an_error_record),
		T(test_reader_text_after_closing_quote_is_an_error_record),
		T(test_reader_two_malformed_rows_in_a_row),
		T(test_reader_malformed_quoting_on_a_continuation_line_names_the_first_line),
		T(test_reader_too_many_fields_is_an_error_record),
		T(test_reader_unterminated_quote_at_eof_refuses_file),
		T(test_reader_unterminated_quote_on_last_line_without_newline),
		T(test_reader_empty_file_is_refused),
		T(test_reader_missing_file_is_an_io_error),
		T(test_reader_unknown_encoding_is_refused),
		T(test_reader_invalid_utf8_names_line_and_column),
		T(test_reader_invalid_utf8_on_first_line_and_column),
		T(test_reader_invalid_utf8_after_a_long_line_names_its_column),
		T(test_reader_truncated_utf8_at_eof_is_refused),
		T(test_reader_rejects_surrogates_and_overlong_utf8),
		T(test_reader_rejects_code_points_beyond_unicode),
		T(test_reader_converts_iso_8859_1),
		T(test_reader_converts_windows_1252_euro_sign),
		T(test_reader_converts_known_gbk_bytes),
		T(test_reader_converts_gbk_made_by_iconv),
		T(test_reader_invalid_gbk_is_refused),
		T(test_reader_callback_nonzero_stops_and_is_returned),
		T(test_reader_callback_can_stop_at_the_header),
		T(test_reader_callback_stop_on_error_record),
		T(test_reader_long_file_delivers_every_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
