/*
 * test_profile.c - pins engine/profile.h: loading, validating and resolving profiles.
 *
 * Every profile here is written to a temporary file and loaded by path.  Every
 * refusal is checked for its exact message, "FILE:LINE: what", because that
 * message is all a user adding a bank's profile gets.  The shipped profiles are
 * loaded from the checkout this test was compiled from.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <cmocka.h>

#include "profile.h"
#include "timeparse.h"

/* ---- fixture ------------------------------------------------------------------- */

static struct {
	char *path;          /* the temporary profile, removed at teardown */
	struct profile *p;   /* freed at teardown */
	char err[1024];
} fx;

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	return 0;
}

static void forget(void)
{
	profile_free(fx.p);
	fx.p = NULL;
	if (fx.path) {
		unlink(fx.path);
		free(fx.path);
		fx.path = NULL;
	}
}

static int teardown(void **state)
{
	(void)state;
	forget();
	return 0;
}

static const char *write_profile(const char *text)
{
	int fd;
	size_t len = strlen(text), done = 0;

	forget();
	fx.path = strdup("/tmp/test_profile_XXXXXX.ini");
	assert_non_null(fx.path);
	fd = mkstemps(fx.path, 4);
	assert_true(fd >= 0);
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);
		assert_true(w > 0);
		done += (size_t)w;
	}
	assert_int_equal(close(fd), 0);
	return fx.path;
}

/* 1-based line of the first line of TEXT that contains NEEDLE. */
static int line_of(const char *text, const char *needle)
{
	const char *at = strstr(text, needle);
	int line = 1;

	assert_non_null(at);
	for (; text < at; text++)
		if (*text == '\n')
			line++;
	return line;
}

static struct profile *load_ok(const char *text)
{
	write_profile(text);
	fx.err[0] = '\0';
	fx.p = profile_load(fx.path, fx.err, sizeof(fx.err));
	if (fx.p == NULL)
		fail_msg("profile refused: %s", fx.err);
	return fx.p;
}

/* TEXT is refused with exactly "PATH:LINE: MSG" ("PATH: MSG" for line 0: a
 * message about the profile as a whole). */
static void load_fails(const char *text, int line, const char *msg)
{
	char want[1024];

	write_profile(text);
	fx.err[0] = '\0';
	fx.p = profile_load(fx.path, fx.err, sizeof(fx.err));
	if (fx.p != NULL)
		fail_msg("profile accepted, expected: %s", msg);
	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: %s", fx.path, line, msg);
	else
		snprintf(want, sizeof(want), "%s: %s", fx.path, msg);
	assert_string_equal(fx.err, want);
}

/* A valid statement profile, section by section. */
#define S_FILE "[file]\nkind = statement\n"
#define S_ID "[txn_id]\ncolumn = txn_id\n"
#define S_REF "[order_ref]\ncolumn = ref\n"
#define S_TYPE "[type]\ncolumn = type\nmap.CHARGE = CHARGE\nmap.REFUND = REFUND\n"
#define S_AMOUNT "[amount]\ncolumn = amount\n"
#define S_CUR "[currency]\ncolumn = currency\n"
#define S_CHAN "[channel]\nvalue = psp\n"
#define S_TIME "[booked_at]\ncolumn = time\nformat = iso8601\n"
#define S_REST S_ID S_REF S_TYPE S_AMOUNT S_CUR S_CHAN S_TIME
#define S_ALL S_FILE S_REST

#define UNKNOWN_SECTION_STMT(name) \
	"unknown section [" name "] for a statement profile (expected file, txn_id, order_ref," \
	" type, amount, currency, booked_at, channel, fee or filter.NAME)"

/* ---- the shipped profiles ----------------------------------------------------------- */

/* schemas/profiles/NAME.ini of the checkout this file belongs to. */
static void shipped_path(const char *name, char *buf, size_t size)
{
	const char *file = __FILE__;
	const char *slash = strrchr(file, '/');
	FILE *f;

	snprintf(buf, size, "%.*s/../../schemas/profiles/%s.ini",
		 slash ? (int)(slash - file) : 1, slash ? file : ".", name);
	f = fopen(buf, "rb");
	if (f) {
		fclose(f);
		return;
	}
	/* __FILE__ is relative to the build directory: use the directory the build
	 * recorded (the same checkout). */
	snprintf(buf, size, "%s/%s.ini", RECON_PROFILE_DIR, name);
}

static struct profile *load_shipped(const char *name)
{
	char path[4096];

	shipped_path(name, path, sizeof(path));
	fx.p = profile_load(path, fx.err, sizeof(fx.err));
	if (fx.p == NULL)
		fail_msg("%s refused: %s", path, fx.err);
	assert_string_equal(fx.p->name, name);
	return fx.p;
}

static void test_profile_psp_v1_loads(void **state)
{
	struct profile *p = load_shipped("psp_v1");

	(void)state;
	assert_int_equal(p->kind, PROFILE_STATEMENT);
	assert_int_equal(p->delimiter, ',');
	assert_int_equal(p->quote, '"');
	assert_true(p->has_header);
	assert_int_equal(p->reject_share_ppm, 10000);
	assert_true(p->field[F_ID].required);
	assert_string_equal(p->field[F_ID].cols.col[0].name, "txn_id");
	assert_string_equal(p->field[F_ORDER_REF].cols.col[0].name, "merchant_order_id");
	assert_int_equal(p->field[F_TYPE].n_map, 2);
	assert_true(p->field[F_TIME].offset_required);
	assert_false(p->field[F_AMOUNT].sign_signed);
	assert_true(p->field[F_FEE].present);
}

static void test_profile_ledger_v1_loads(void **state)
{
	struct profile *p = load_shipped("ledger_v1");

	(void)state;
	assert_int_equal(p->kind, PROFILE_LEDGER);
	assert_int_equal(p->field[F_TYPE].n_map, 4);
	assert_true(p->field[F_TIME].offset_required);
	assert_true(p->field[F_ID].required);
	assert_string_equal(profile_field_name(p, F_ID), "event_id");
	assert_string_equal(profile_field_name(p, F_TYPE), "event");
	assert_string_equal(profile_field_name(p, F_TIME), "event_time");
}

static void test_profile_eu_bank_loads(void **state)
{
	struct profile *p = load_shipped("eu_bank");

	(void)state;
	assert_int_equal(p->kind, PROFILE_STATEMENT);
	assert_string_equal(p->encoding, "ISO-8859-1");
	assert_int_equal(p->delimiter, ';');
	assert_string_equal(p->header_prefix, "Buchungstag;");
	assert_int_equal(p->n_footer_prefixes, 1);
	assert_string_equal(p->footer_prefixes[0], "Kontostand;");
	assert_true(p->field[F_TYPE].from_debit_credit);
	assert_string_equal(p->field[F_AMOUNT].debit.name, "Soll");
	assert_string_equal(p->field[F_AMOUNT].credit.name, "Haben");
	assert_int_equal(p->field[F_AMOUNT].money.decimal_mark, ',');
	assert_int_equal(p->field[F_AMOUNT].money.thousands_sep, '.');
	assert_string_equal(p->field[F_TIME].timezone, "Europe/Berlin");
	assert_true(p->field[F_ORDER_REF].has_regex);
	assert_true(p->field[F_ORDER_REF].no_match_skip);
	assert_string_equal(p->field[F_CURRENCY].cols.col[0].name, "W\xc3\xa4hrung");
	assert_false(p->field[F_ID].present);
}

static void test_profile_shipped_profile_loads_by_name(void **state)
{
	(void)state;
	unsetenv("RECON_PROFILE_DIR");
	fx.p = profile_load("psp_v1", fx.err, sizeof(fx.err));
	if (fx.p == NULL)
		fail_msg("psp_v1 by name: %s", fx.err);
	assert_string_equal(fx.p->name, "psp_v1");
}

static void test_profile_unknown_name_says_where_it_looked(void **state)
{
	char want[1024];

	(void)state;
	unsetenv("RECON_PROFILE_DIR");
	assert_null(profile_load("no_such_profile", fx.err, sizeof(fx.err)));
	snprintf(want, sizeof(want), "profile 'no_such_profile' not found (looked in %s)", RECON_PROFILE_DIR);
	assert_string_equal(fx.err, want);
}

static void test_profile_records_name_and_sha256_of_its_bytes(void **state)
{
	unsigned char want[32];
	unsigned int len = 0;
	char name[256];
	const char *slash;

	(void)state;
	load_ok(S_ALL);
	assert_true(EVP_Digest(S_ALL, strlen(S_ALL), want, &len, EVP_sha256(), NULL));
	assert_memory_equal(fx.p->sha256, want, 32);
	slash = strrchr(fx.path, '/');
	snprintf(name, sizeof(name), "%.*s", (int)strlen(slash + 1) - 4, slash + 1);
	assert_string_equal(fx.p->name, name);
	assert_string_equal(fx.p->path, fx.path);
}

/* ---- refusals, each with its file and line ------------------------------------------ */

static void test_profile_refuses_unknown_key_in_file_section(void **state)
{
	const char *text = S_FILE "colour = red\n" S_REST;

	(void)state;
	load_fails(text, 3, "unknown key 'colour' in section [file]");
}

static void test_profile_refuses_unknown_section(void **state)
{
	const char *text = S_FILE "[nonsense]\nx = 1\n" S_REST;

	(void)state;
	load_fails(text, line_of(text, "[nonsense]"), UNKNOWN_SECTION_STMT("nonsense"));
}

static void test_profile_refuses_unknown_section_even_when_empty(void **state)
{
	const char *text = S_FILE S_REST "[fees]\n";

	(void)state;
	write_profile(text);
	fx.p = profile_load(fx.path, fx.err, sizeof(fx.err));
	if (fx.p != NULL)
		fail_msg("a profile with the unknown (empty) section [fees] was accepted");
	assert_non_null(strstr(fx.err, "unknown section [fees]"));
}

static void test_profile_refuses_ledger_section_in_statement_profile(void **state)
{
	const char *text = S_ALL "[event]\ncolumn = e\n";

	(void)state;
	load_fails(text, line_of(text, "[event]"), UNKNOWN_SECTION_STMT("event"));
}

static void test_profile_refuses_key_not_allowed_in_section(void **state)
{
	const char *text = S_ALL "[currency]\nregex = [A-Z]+\n";

	(void)state;
	load_fails(text, line_of(text, "regex ="), "key 'regex' is not allowed in this section");
}

static void test_profile_refuses_key_of_another_field(void **state)
{
	const char *text = S_FILE S_ID S_REF S_TYPE "[amount]\ncolumn = amount\nformat = %d.%m.%Y\n"
		S_CUR S_CHAN S_TIME;

	(void)state;
	load_fails(text, line_of(text, "format = %d"), "key 'format' is not allowed in this section");
}

static void test_profile_refuses_malformed_regex(void **state)
{
	const char *text = S_ALL "[order_ref]\nregex = (ORD-[0-9\n";
	regex_t re;
	char why[120], msg[512];
	int rc;

	(void)state;
	rc = regcomp(&re, "(ORD-[0-9", REG_EXTENDED);
	assert_int_not_equal(rc, 0);
	regerror(rc, &re, why, sizeof(why));
	snprintf(msg, sizeof(msg), "malformed regular expression '(ORD-[0-9': %s", why);
	load_fails(text, line_of(text, "regex ="), msg);
}

static void test_profile_refuses_malformed_header_regex(void **state)
{
	const char *text = "[file]\nkind = statement\nheader_regex = a{2\n" S_REST;
	regex_t re;
	char why[120], msg[512];
	int rc;

	(void)state;
	rc = regcomp(&re, "a{2", REG_EXTENDED);
	assert_int_not_equal(rc, 0);
	regerror(rc, &re, why, sizeof(why));
	snprintf(msg, sizeof(msg), "malformed regular expression 'a{2': %s", why);
	load_fails(text, 3, msg);
}

static void test_profile_refuses_unknown_time_zone(void **state)
{
	const char *text = S_ALL "[booked_at]\ntimezone = Mars/Olympus\n";
	const char *text2 = "[file]\nkind = statement\ntimezone = Europe/Berln\n" S_REST;

	(void)state;
	load_fails(text, line_of(text, "timezone ="),
		   "unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Berlin)");
	load_fails(text2, 3, "unknown time zone 'Europe/Berln' (use an IANA name such as Europe/Berlin)");
}

static void test_profile_refuses_bad_date_format(void **state)
{
	const char *text = S_FILE S_REST "[booked_at]\nformat = %Y-%q-%d\n";
	const char *why = timeparse_check_format("%Y-%q-%d");
	char msg[512];

	(void)state;
	assert_non_null(why);
	snprintf(msg, sizeof(msg), "date format '%%Y-%%q-%%d': %s", why);
	load_fails(text, line_of(text, "%q"), msg);
	text = S_FILE S_ID S_REF S_TYPE S_AMOUNT S_CUR S_CHAN "[booked_at]\ncolumn = t\nformat = %m/%d\n";
	load_fails(text, line_of(text, "%m/%d"), "date format '%m/%d': date format has no year (%Y or %y)");
}

static void test_profile_refuses_file_section_not_first(void **state)
{
	(void)state;
	load_fails(S_ID S_FILE S_REF S_TYPE S_AMOUNT S_CUR S_CHAN S_TIME, 2,
		   "section [file] with 'kind' must come first");
	/* [file] first but without its kind yet. */
	load_fails("[file]\ndelimiter = comma\n" S_REST "[file]\nkind = statement\n", 4,
		   "section [file] with 'kind' must come first");
}

static void test_profile_refuses_missing_kind(void **state)
{
	(void)state;
	load_fails("[file]\ndelimiter = comma\n", 0,
		   "section [file] needs 'kind = statement' or 'kind = ledger'");
}

static void test_profile_refuses_missing_required_field(void **state)
{
	(void)state;
	/* No [currency] section at all: there is no line to name. */
	load_fails(S_FILE S_ID S_REF S_TYPE S_AMOUNT S_CHAN S_TIME, 0,
		   "field [currency] needs a source (column, value or from)");
}

static void test_profile_refuses_required_field_without_source(void **state)
{
	const char *text = S_FILE S_ID S_REF "[type]\ndefault = skip\n" S_AMOUNT S_CUR S_CHAN S_TIME;

	(void)state;
	load_fails(text, line_of(text, "default = skip"), "field [type] needs a source (column, value or from)");
}

static void test_profile_refuses_column_twice_in_amount(void **state)
{
	const char *text = S_ALL "[amount]\ncolumn = gross\n";

	(void)state;
	load_fails(text, line_of(text, "column = gross"),
		   "key 'column' given twice (only id fields compose several columns)");
}

static void test_profile_refuses_from_sign_without_signed_amount(void **state)
{
	const char *text = S_FILE S_ID S_REF "[type]\nfrom = sign\n" S_AMOUNT S_CUR S_CHAN S_TIME;

	(void)state;
	load_fails(text, line_of(text, "from = sign"), "[type] from = sign needs [amount] sign = signed");
}

static void test_profile_refuses_debit_credit_without_from(void **state)
{
	const char *text = S_FILE S_ID S_REF S_TYPE "[amount]\ndebit_column = Soll\ncredit_column = Haben\n"
		S_CUR S_CHAN S_TIME;

	(void)state;
	load_fails(text, line_of(text, "debit_column"),
		   "debit_column and credit_column go together with [type] from = debit_credit");
}

static void test_profile_refuses_line_longer_than_198_characters(void **state)
{
	char text[2048], comment[256];

	(void)state;
	/* A 198-character line is fine... */
	memset(comment, 'x', sizeof(comment));
	comment[0] = ';';
	comment[198] = '\0';
	snprintf(text, sizeof(text), "%s%s\n%s", S_FILE, comment, S_REST);
	load_ok(text);
	/* ... 199 characters are not. */
	comment[198] = 'x';
	comment[199] = '\0';
	snprintf(text, sizeof(text), "%s%s\n%s", S_FILE, comment, S_REST);
	load_fails(text, 3, "line longer than 198 characters; continue a list on the next line, indented");
}

static void test_profile_refuses_bad_delimiter_name(void **state)
{
	(void)state;
	load_fails("[file]\nkind = statement\ndelimiter = colon\n" S_REST, 3,
		   "delimiter must be comma, semicolon, tab, pipe or one ASCII character, not 'colon'");
}

static void test_profile_delimiter_names(void **state)
{
	static const struct { const char *v; unsigned char c; } cases[] = {
		{ "comma", ',' }, { "semicolon", ';' }, { "tab", '\t' }, { "pipe", '|' }, { "|", '|' },
	};
	char text[2048];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[file]\nkind = statement\ndelimiter = %s\n%s", cases[i].v, S_REST);
		load_ok(text);
		assert_int_equal(fx.p->delimiter, cases[i].c);
	}
}

static void test_profile_refuses_duplicate_file_key(void **state)
{
	(void)state;
	load_fails("[file]\nkind = statement\ndelimiter = comma\ndelimiter = tab\n" S_REST, 4,
		   "key 'delimiter' given twice in [file]");
}

/* ---- max_reject_share ------------------------------------------------------------- */

static long share_ppm(const char *v)
{
	char text[2048];

	snprintf(text, sizeof(text), "[file]\nkind = statement\nmax_reject_share = %s\n%s", v, S_REST);
	load_ok(text);
	return fx.p->reject_share_ppm;
}

static void test_profile_reject_share_in_parts_per_million(void **state)
{
	(void)state;
	assert_int_equal(share_ppm("1%"), 10000);
	assert_int_equal(share_ppm("0.5%"), 5000);
	assert_int_equal(share_ppm("0.01"), 10000);
	assert_int_equal(share_ppm("0%"), 0);
	assert_int_equal(share_ppm("100%"), 1000000);
	assert_int_equal(share_ppm("0.0001%"), 1);
	assert_int_equal(share_ppm("2.25%"), 22500);
	assert_int_equal(share_ppm("1"), 1000000);
	load_ok(S_ALL);
	assert_int_equal(fx.p->reject_share_ppm, 10000); /* the default: 1% */
}

static void test_profile_reject_share_refuses_out_of_range_and_junk(void **state)
{
	static const char *const bad[] = { "150%", "101%", "1.5", "-1%", "1 %", "%", "1.%", "abc", "0.5%%" };
	char text[2048], msg[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[file]\nkind = statement\nmax_reject_share = %s\n%s", bad[i], S_REST);
		snprintf(msg, sizeof(msg), "expected a share such as 1%% or 0.5%%, not '%s'", bad[i]);
		load_fails(text, 3, msg);
	}
}

/* ---- column references ---------------------------------------------------------------- */

static void test_profile_colref_by_name_occurrence_and_position(void **state)
{
	const struct colset *ids;

	(void)state;
	load_ok(S_FILE "[txn_id]\ncolumn = Name\ncolumn = Name@2\ncolumn = @3\ncolumn = E-Mail@web\n"
		S_REF S_TYPE S_AMOUNT S_CUR S_CHAN S_TIME);
	ids = &fx.p->field[F_ID].cols;
	assert_int_equal(ids->n, 4);
	assert_string_equal(ids->col[0].name, "Name");
	assert_int_equal(ids->col[0].occurrence, 1);
	assert_int_equal(ids->col[0].position, 0);
	assert_string_equal(ids->col[1].name, "Name");
	assert_int_equal(ids->col[1].occurrence, 2);
	assert_int_equal(ids->col[1].position, 0);
	assert_null(ids->col[2].name);
	assert_int_equal(ids->col[2].position, 3);
	assert_string_equal(ids->col[3].name, "E-Mail@web"); /* not a number after @ */
	assert_int_equal(ids->col[3].occurrence, 1);
}

static void test_profile_colref_names_may_hold_brackets_and_non_ascii(void **state)
{
	(void)state;
	load_ok(S_FILE S_ID S_REF S_TYPE "[amount]\ncolumn = Betrag [EUR] (\xe2\x82\xac)\n" S_CUR S_CHAN S_TIME);
	assert_string_equal(fx.p->field[F_AMOUNT].cols.col[0].name, "Betrag [EUR] (\xe2\x82\xac)");
}

static void test_profile_colref_refuses_position_zero(void **state)
{
	const char *text = S_FILE S_ID "[order_ref]\ncolumn = @0\n" S_TYPE S_AMOUNT S_CUR S_CHAN S_TIME;

	(void)state;
	load_fails(text, line_of(text, "@0"), "column number after @ must be 1 or more in '@0'");
}

/* ---- profile_resolve ------------------------------------------------------------------ */

static int resolve(const char *const *names, size_t n)
{
	size_t lens[32];
	size_t i;

	assert_true(n <= 32);
	for (i = 0; i < n; i++)
		lens[i] = strlen(names[i]);
	fx.err[0] = '\0';
	return profile_resolve(fx.p, (char *const *)names, lens, n, fx.err, sizeof(fx.err));
}

static void test_profile_resolve_finds_every_column(void **state)
{
	static const char *const header[] = { "time", "txn_id", "amount", "ref", "type", "currency" };

	(void)state;
	load_ok(S_ALL);
	assert_int_equal(resolve(header, 6), 0);
	assert_int_equal(fx.p->field[F_ID].cols.col[0].index, 1);
	assert_int_equal(fx.p->field[F_ORDER_REF].cols.col[0].index, 3);
	assert_int_equal(fx.p->field[F_TYPE].cols.col[0].index, 4);
	assert_int_equal(fx.p->field[F_AMOUNT].cols.col[0].index, 2);
	assert_int_equal(fx.p->field[F_CURRENCY].cols.col[0].index, 5);
	assert_int_equal(fx.p->field[F_TIME].cols.col[0].index, 0);
}

static void test_profile_resolve_refuses_missing_column(void **state)
{
	static const char *const header[] = { "txn_id", "amount", "type", "currency", "time" };
	char want[512];

	(void)state;
	load_ok(S_ALL);
	assert_int_equal(resolve(header, 5), -1);
	snprintf(want, sizeof(want), "required column 'ref' (profile %s) is missing from the header", fx.p->name);
	assert_string_equal(fx.err, want);
}

static void test_profile_resolve_refuses_column_named_twice_without_occurrence(void **state)
{
	static const char *const header[] = { "txn_id", "ref", "type", "amount", "currency", "time", "amount" };
	char want[512];

	(void)state;
	load_ok(S_ALL);
	assert_int_equal(resolve(header, 7), -1);
	snprintf(want, sizeof(want),
		 "column 'amount' is named 2 times in the header; write 'amount@1' or 'amount@2' in profile %s",
		 fx.p->name);
	assert_string_equal(fx.err, want);
}

static void test_profile_resolve_takes_the_named_occurrence(void **state)
{
	static const char *const header[] = { "txn_id", "ref", "type", "Betrag", "currency", "time", "Betrag" };

	(void)state;
	load_ok(S_FILE S_ID S_REF S_TYPE "[amount]\ncolumn = Betrag@2\n" S_CUR S_CHAN S_TIME
		"[fee]\ncolumn = Betrag@1\n");
	assert_int_equal(resolve(header, 7), 0);
	assert_int_equal(fx.p->field[F_AMOUNT].cols.col[0].index, 6);
	/* "Name@1" is what the message above tells the user to write. */
	assert_int_equal(fx.p->field[F_FEE].cols.col[0].index, 3);
}

static void test_profile_resolve_refuses_occurrence_beyond_count(void **state)
{
	static const char *const header[] = { "txn_id", "ref", "type", "Betrag", "currency", "time", "Betrag" };
	char want[512];

	(void)state;
	load_ok(S_FILE S_ID S_REF S_TYPE "[amount]\ncolumn = Betrag@3\n" S_CUR S_CHAN S_TIME);
	assert_int_equal(resolve(header, 7), -1);
	snprintf(want, sizeof(want),
		 "column 'Betrag@3' (profile %s): the header has only 2 column(s) of that name", fx.p->name);
	assert_string_equal(fx.err, want);
}

static void test_profile_resolve_refuses_position_beyond_field_count(void **state)
{
	static const char *const header[] = { "a", "b", "c", "d", "e", "f", "g", "h" };
	char want[512];

	(void)state;
	load_ok("[file]\nkind = statement\nheader = no\n"
		"[txn_id]\ncolumn = @1\n[order_ref]\ncolumn = @9\n[type]\ncolumn = @3\nmap.C = CHARGE\n"
		"[amount]\ncolumn = @4\n[currency]\ncolumn = @5\n[channel]\nvalue = psp\n"
		"[booked_at]\ncolumn = @6\n");
	assert_int_equal(resolve(header, 8), -1);
	snprintf(want, sizeof(want), "profile %s refers to column @9 but the file has 8 columns", fx.p->name);
	assert_string_equal(fx.err, want);
}

static void test_profile_resolve_refuses_names_without_header(void **state)
{
	static const char *const header[] = { "txn_id", "ref", "type", "amount", "currency", "time" };
	char want[512];

	(void)state;
	load_ok("[file]\nkind = statement\nheader = no\n" S_REST);
	assert_int_equal(resolve(header, 6), -1);
	snprintf(want, sizeof(want), "profile %s names column 'txn_id' but declares no header", fx.p->name);
	assert_string_equal(fx.err, want);
}

/* ---- the key tables --------------------------------------------------------------------- */

static void test_profile_known_keys_are_sorted_without_duplicates(void **state)
{
	size_t n = 0, i;
	const char *const *keys = profile_known_keys(&n);

	(void)state;
	assert_non_null(keys);
	assert_true(n > 0);
	for (i = 0; i < n; i++)
		assert_non_null(keys[i]);
	for (i = 1; i < n; i++)
		if (strcmp(keys[i - 1], keys[i]) >= 0)
			fail_msg("profile keys out of order or duplicated: '%s' then '%s'", keys[i - 1], keys[i]);
}

/* Every documented key is found (bsearch over a misordered table would miss some). */
static void test_profile_every_file_and_filter_key_is_known(void **state)
{
	(void)state;
	load_ok("[file]\nkind = statement\nencoding = UTF-8\ndelimiter = comma\nquote = double\n"
		"header = yes\npreamble_lines = 0\nheader_starts_with = txn\nskip_prefix = #\n"
		"footer_prefix = Total\nstrip_leading = `\nstrip_trailing = \\t\ndecimal_mark = dot\n"
		"thousands_separator = none\ntimezone = UTC\nmax_reject_share = 1%\n"
		"max_line_bytes = 4096\n"
		S_REST
		"[filter.pending]\ncolumn = status\nskip = PENDING\nskip = HELD\n"
		"[filter.kept]\ncolumn = status\nkeep_regex = ^OK\n"
		"[filter.memo]\ncolumn = memo\nskip_regex = ^x\n"
		"[filter.only]\ncolumn = @2\nkeep = A\n");
	assert_string_equal(fx.p->strip_leading, "`");
	assert_string_equal(fx.p->strip_trailing, "\t");
	assert_int_equal(fx.p->max_record, 4096);
	assert_int_equal(fx.p->n_filters, 4);
	assert_string_equal(fx.p->filters[0].name, "pending");
	assert_int_equal(fx.p->filters[0].n_values, 2);
	assert_false(fx.p->filters[0].keep);
	assert_true(fx.p->filters[1].keep);
	assert_true(fx.p->filters[1].has_regex);
	assert_string_equal(fx.p->field[F_TIME].timezone, "UTC");
}

static void test_profile_every_section_is_known(void **state)
{
	(void)state;
	load_ok(S_ALL "[fee]\ncolumn = fee\n");
	load_ok("[file]\nkind = ledger\n[event_id]\ncolumn = id\n[order_ref]\ncolumn = o\n"
		"[event]\ncolumn = e\nmap.P = PAID\nmap.X = skip\n[amount]\ncolumn = a\n"
		"[currency]\nvalue = EUR\n[channel]\ncolumn = c\n[event_time]\ncolumn = t\n");
	assert_int_equal(fx.p->kind, PROFILE_LEDGER);
}

static void test_profile_filter_refuses_unknown_key(void **state)
{
	const char *text = S_ALL "[filter.x]\ncolumn = s\nmatch = y\n";

	(void)state;
	load_fails(text, line_of(text, "match = y"), "unknown key 'match' in a filter section");
}

static void test_profile_refuses_unknown_currency_constant(void **state)
{
	const char *text = S_FILE S_ID S_REF S_TYPE S_AMOUNT "[currency]\nvalue = XXX\n" S_CHAN S_TIME;

	(void)state;
	load_fails(text, line_of(text, "value = XXX"), "unknown currency 'XXX'");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_profile_psp_v1_loads),
		T(test_profile_ledger_v1_loads),
		T(test_profile_eu_bank_loads),
		T(test_profile_shipped_profile_loads_by_name),
		T(test_profile_unknown_name_says_where_it_looked),
		T(test_profile_records_name_and_sha256_of_its_bytes),
		T(test_profile_refuses_unknown_key_in_file_section),
		T(test_profile_refuses_unknown_section),
		T(test_profile_refuses_unknown_section_even_when_empty),
		T(test_profile_refuses_ledger_section_in_statement_profile),
		T(test_profile_refuses_key_not_allowed_in_section),
		T(test_profile_refuses_key_of_another_field),
		T(test_profile_refuses_malformed_regex),
		T(test_profile_refuses_malformed_header_regex),
		T(test_profile_refuses_unknown_time_zone),
		T(test_profile_refuses_bad_date_format),
		T(test_profile_refuses_file_section_not_first),
		T(test_profile_refuses_missing_kind),
		T(test_profile_refuses_missing_required_field),
		T(test_profile_refuses_required_field_without_source),
		T(test_profile_refuses_column_twice_in_amount),
		T(test_profile_refuses_from_sign_without_signed_amount),
		T(test_profile_refuses_debit_credit_without_from),
		T(test_profile_refuses_line_longer_than_198_characters),
		T(test_profile_refuses_bad_delimiter_name),
		T(test_profile_delimiter_names),
		T(test_profile_refuses_duplicate_file_key),
		T(test_profile_reject_share_in_parts_per_million),
		T(test_profile_reject_share_refuses_out_of_range_and_junk),
		T(test_profile_colref_by_name_occurrence_and_position),
		T(test_profile_colref_names_may_hold_brackets_and_non_ascii),
		T(test_profile_colref_refuses_position_zero),
		T(test_profile_resolve_finds_every_column),
		T(test_profile_resolve_refuses_missing_column),
		T(test_profile_resolve_refuses_column_named_twice_without_occurrence),
		T(test_profile_resolve_takes_the_named_occurrence),
		T(test_profile_resolve_refuses_occurrence_beyond_count),
		T(test_profile_resolve_refuses_position_beyond_field_count),
		T(test_profile_resolve_refuses_names_without_header),
		T(test_profile_known_keys_are_sorted_without_duplicates),
		T(test_profile_every_file_and_filter_key_is_known),
		T(test_profile_every_section_is_known),
		T(test_profile_filter_refuses_unknown_key),
		T(test_profile_refuses_unknown_currency_constant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
