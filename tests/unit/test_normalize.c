/*
 * test_normalize.c - pins engine/normalize.h: fields of one record -> one canonical
 * record, or a counted skip, or a reject with its reason and field.
 *
 * Each test loads a profile (the shipped psp_v1 / ledger_v1, or a small one written
 * to /tmp), hands normalize_header a fake header record and normalize_record fake
 * data records whose field text the test owns (the normaliser strips in place).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "normalize.h"
#include "profile.h"
#include "reader.h"

#define US(seconds) ((int64_t)(seconds) * INT64_C(1000000))
#define T_2026_11_20_101509 INT64_C(1795169709) /* 2026-11-20T10:15:09Z */
#define T_2026_11_20_021509 INT64_C(1795140909) /* 2026-11-20T02:15:09Z */
#define T_2026_10_25_003000 INT64_C(1792888200) /* 2026-10-25T00:30:00Z */
#define T_2026_10_25_013000 INT64_C(1792891800) /* 2026-10-25T01:30:00Z */
#define T_2025_12_05_134510 INT64_C(1764942310) /* 2025-12-05T13:45:10Z */
#define T_2025_12_04_230000 INT64_C(1764889200) /* 2025-12-04T23:00:00Z */

/* ---- fixture: the profile, the normaliser and fake records -------------------------- */

struct fake_record {
	struct reader_record rec;
	char *field[READER_MAX_FIELDS]; /* handed to the normaliser, which may move them */
	size_t len[READER_MAX_FIELDS];
	char *owned[READER_MAX_FIELDS];  /* what the test allocated and frees */
};

static struct {
	char *path;
	struct profile *p;
	struct normalizer *n;
	struct fake_record header, row;
	/* The last normalize_record outcome. */
	enum normalize_result res;
	struct canon_record out;
	const char *reason, *field;
	char err[1024];
} fx;

static void free_fake(struct fake_record *r)
{
	size_t i;

	for (i = 0; i < r->rec.nfields; i++)
		free(r->owned[i]);
	memset(r, 0, sizeof(*r));
}

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free_fake(&fx.header);
	free_fake(&fx.row);
	normalize_free(fx.n);
	profile_free(fx.p);
	if (fx.path) {
		unlink(fx.path);
		free(fx.path);
	}
	memset(&fx, 0, sizeof(fx));
	return 0;
}

static void fake(struct fake_record *r, long line, const char *const *fields, size_t n)
{
	size_t i;

	free_fake(r);
	assert_true(n <= READER_MAX_FIELDS);
	for (i = 0; i < n; i++) {
		r->owned[i] = strdup(fields[i]);
		assert_non_null(r->owned[i]);
		r->field[i] = r->owned[i];
		r->len[i] = strlen(fields[i]);
	}
	r->rec.nfields = n;
	r->rec.field = r->field;
	r->rec.len = r->len;
	r->rec.line = line;
	r->rec.raw = "raw";
	r->rec.raw_len = 3;
}

/* The normaliser for the loaded profile, CHANNEL overriding (or NULL). */
static void start(const char *channel)
{
	assert_non_null(fx.p);
	normalize_free(fx.n);
	fx.n = normalize_new(fx.p, channel);
	assert_non_null(fx.n);
}

static void use_profile_text(const char *text, const char *channel)
{
	int fd;
	size_t len = strlen(text), done = 0;

	fx.path = strdup("/tmp/test_normalize_XXXXXX.ini");
	assert_non_null(fx.path);
	fd = mkstemps(fx.path, 4);
	assert_true(fd >= 0);
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);
		assert_true(w > 0);
		done += (size_t)w;
	}
	assert_int_equal(close(fd), 0);
	fx.p = profile_load(fx.path, fx.err, sizeof(fx.err));
	if (fx.p == NULL)
		fail_msg("profile refused: %s", fx.err);
	start(channel);
}

static void use_shipped(const char *name, const char *channel)
{
	char path[4096];
	const char *file = __FILE__;
	const char *slash = strrchr(file, '/');
	FILE *f;

	snprintf(path, sizeof(path), "%.*s/../../schemas/profiles/%s.ini",
		 slash ? (int)(slash - file) : 1, slash ? file : ".", name);
	f = fopen(path, "rb");
	if (f)
		fclose(f);
	else
		snprintf(path, sizeof(path), "%s/%s.ini", RECON_PROFILE_DIR, name);
	fx.p = profile_load(path, fx.err, sizeof(fx.err));
	if (fx.p == NULL)
		fail_msg("%s refused: %s", path, fx.err);
	start(channel);
}

static void header_arr(const char *const *names, size_t n)
{
	fake(&fx.header, 1, names, n);
	fx.header.rec.is_header = 1;
	fx.err[0] = '\0';
	if (normalize_header(fx.n, &fx.header.rec, fx.err, sizeof(fx.err)) != 0)
		fail_msg("normalize_header: %s", fx.err);
}

static enum normalize_result norm_arr(long line, const char *const *fields, size_t n)
{
	fake(&fx.row, line, fields, n);
	fx.reason = fx.field = NULL;
	fx.res = normalize_record(fx.n, &fx.row.rec, &fx.out, &fx.reason, &fx.field);
	return fx.res;
}

#define ARR(...) ((const char *const[]){ __VA_ARGS__ })
#define NARGS(...) (sizeof(ARR(__VA_ARGS__)) / sizeof(const char *))
#define HEADER(...) header_arr(ARR(__VA_ARGS__), NARGS(__VA_ARGS__))
#define NORM(line, ...) norm_arr(line, ARR(__VA_ARGS__), NARGS(__VA_ARGS__))

static void expect_ok(void)
{
	if (fx.res != NORMALIZE_OK)
		fail_msg("expected OK, got %s: %s (field %s)", fx.res == NORMALIZE_SKIP ? "SKIP" : "REJECT",
			 fx.reason ? fx.reason : "(none)", fx.field ? fx.field : "(none)");
}

/* A reject of FIELD (NULL: the record as a whole) for exactly REASON. */
static void expect_reject(const char *field, const char *reason)
{
	if (fx.res != NORMALIZE_REJECT)
		fail_msg("expected REJECT (%s), got %s", reason, fx.res == NORMALIZE_OK ? "OK" : "SKIP");
	assert_non_null(fx.reason);
	assert_string_equal(fx.reason, reason);
	if (field == NULL)
		assert_null(fx.field);
	else {
		assert_non_null(fx.field);
		assert_string_equal(fx.field, field);
	}
}

static void expect_skip(const char *reason)
{
	if (fx.res != NORMALIZE_SKIP)
		fail_msg("expected SKIP (%s), got %s: %s", reason, fx.res == NORMALIZE_OK ? "OK" : "REJECT",
			 fx.reason ? fx.reason : "");
	assert_string_equal(fx.reason, reason);
}

/* ---- psp_v1 --------------------------------------------------------------------------- */

static void psp(const char *channel)
{
	use_shipped("psp_v1", channel);
	HEADER("txn_id", "booked_at", "type", "merchant_order_id", "amount", "currency", "channel", "fee");
}

static void test_normalize_psp_v1_good_row(void **state)
{
	(void)state;
	psp(NULL);
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1001", "12.34", "usd", "stripe", "0.30");
	expect_ok();
	assert_int_equal(fx.out.type, TYPE_CHARGE);
	assert_int_equal(fx.out.amount_minor, 1234);
	assert_string_equal(fx.out.currency, "USD");
	assert_int_equal(fx.out.exponent, 2);
	assert_int_equal(fx.out.time_us, US(T_2026_11_20_101509));
	assert_string_equal(fx.out.id, "T-1");
	assert_string_equal(fx.out.order_ref, "ORD-1001");
	assert_string_equal(fx.out.channel, "stripe");
	assert_true(fx.out.has_fee);
	assert_int_equal(fx.out.fee_minor, 30);
	assert_int_equal(fx.out.line, 2);
}

static void test_normalize_psp_v1_refund_and_currency_exponents(void **state)
{
	(void)state;
	psp(NULL);
	NORM(3, "T-2", "2026-11-20T18:15:09+08:00", "REFUND", "ORD-1", "500", "JPY", "paypay", "");
	expect_ok();
	assert_int_equal(fx.out.type, TYPE_REFUND);
	assert_int_equal(fx.out.amount_minor, 500);
	assert_int_equal(fx.out.exponent, 0);
	assert_int_equal(fx.out.time_us, US(T_2026_11_20_101509));
	assert_false(fx.out.has_fee);
	NORM(4, "T-3", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.5", "kwd", "knet", "");
	expect_ok();
	assert_int_equal(fx.out.amount_minor, 1500);
	assert_string_equal(fx.out.currency, "KWD");
	assert_int_equal(fx.out.exponent, 3);
}

static void test_normalize_psp_v1_negative_amount_rejected(void **state)
{
	(void)state;
	psp(NULL);
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "REFUND", "ORD-1", "-5.00", "USD", "stripe", "");
	expect_reject("amount", "negative amount in a column the profile declares positive");
}

static void test_normalize_psp_v1_time_without_offset_rejected(void **state)
{
	(void)state;
	psp(NULL);
	NORM(2, "T-1", "2026-11-20T10:15:09", "CHARGE", "ORD-1", "5.00", "USD", "stripe", "");
	expect_reject("booked_at", "time has no UTC offset (the profile requires one)");
}

static void test_normalize_psp_v1_bad_values_name_their_field(void **state)
{
	(void)state;
	psp(NULL);
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1e5", "USD", "stripe", "");
	expect_reject("amount", "amount is not a decimal number");
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "", "USD", "stripe", "");
	expect_reject("amount", "missing amount");
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "0.00", "USD", "stripe", "");
	expect_reject("amount", "amount is zero");
	NORM(2, "T-1", "2026-11-31T10:15:09Z", "CHARGE", "ORD-1", "1.00", "USD", "stripe", "");
	expect_reject("booked_at", "impossible date");
	NORM(2, "T-1", "", "CHARGE", "ORD-1", "1.00", "USD", "stripe", "");
	expect_reject("booked_at", "missing date");
	NORM(2, "", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "USD", "stripe", "");
	expect_reject("txn_id", "missing transaction id");
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "USD", "", "");
	expect_reject("channel", "missing channel");
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGEBACK", "ORD-1", "1.00", "USD", "stripe", "");
	expect_reject("type", "value 'CHARGEBACK' is not mapped to a type");
}

static void test_normalize_psp_v1_fee_with_extra_zero_digits(void **state)
{
	(void)state;
	psp(NULL);
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "10.00", "CNY", "alipay", "0.77000");
	expect_ok();
	assert_true(fx.out.has_fee);
	assert_int_equal(fx.out.fee_minor, 77);
	NORM(3, "T-2", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "10.00", "CNY", "alipay", "0.77001");
	expect_reject("fee", "more fraction digits than the currency allows");
	NORM(4, "T-3", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "10.00000", "CNY", "alipay", "-0.30");
	expect_ok();
	assert_int_equal(fx.out.amount_minor, 1000);
	assert_int_equal(fx.out.fee_minor, -30); /* fees keep their sign as written */
}

static void test_normalize_unknown_currency_rejected(void **state)
{
	(void)state;
	psp(NULL);
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "ABC", "stripe", "");
	expect_reject("currency", "unknown currency 'ABC'");
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "XXX", "stripe", "");
	expect_reject("currency", "unknown currency 'XXX'");
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "US", "stripe", "");
	expect_reject("currency", "unknown currency 'US'");
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "", "stripe", "");
	expect_reject("currency", "missing currency");
}

static void test_normalize_missing_order_ref_rejected(void **state)
{
	(void)state;
	psp(NULL);
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "", "1.00", "USD", "stripe", "");
	expect_reject("order_ref", "missing order reference");
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "  ", "1.00", "USD", "stripe", "");
	expect_reject("order_ref", "missing order reference");
}

static void test_normalize_order_ref_with_control_character_rejected(void **state)
{
	(void)state;
	psp(NULL);
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD\x01" "1", "1.00", "USD", "stripe", "");
	expect_reject("order_ref", "control character in order reference");
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD\n1", "1.00", "USD", "stripe", "");
	expect_reject("order_ref", "control character in order reference");
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD\x7f", "1.00", "USD", "stripe", "");
	expect_reject("order_ref", "control character in order reference");
}

static void test_normalize_over_long_id_and_order_ref_rejected(void **state)
{
	char big[NORMALIZE_MAX_ID + 2];

	(void)state;
	psp(NULL);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0'; /* 201 bytes */
	NORM(2, big, "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "USD", "stripe", "");
	expect_reject("txn_id", "id longer than 200 bytes");
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", big, "1.00", "USD", "stripe", "");
	expect_reject("order_ref", "order reference longer than 200 bytes");
	big[sizeof(big) - 2] = '\0'; /* 200 bytes: fine */
	NORM(2, big, "2026-11-20T10:15:09Z", "CHARGE", big, "1.00", "USD", "stripe", "");
	expect_ok();
}

static void test_normalize_wrong_field_count_rejected(void **state)
{
	(void)state;
	psp(NULL);
	NORM(5, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "USD", "stripe");
	expect_reject(NULL, "wrong field count: 7 fields, the header has 8");
	NORM(6, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "USD", "stripe", "", "x");
	expect_reject(NULL, "wrong field count: 9 fields, the header has 8");
}

static void test_normalize_trailing_empty_field_tolerated(void **state)
{
	(void)state;
	psp(NULL);
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "USD", "stripe", "0.01", "");
	expect_ok();
	assert_int_equal(fx.out.fee_minor, 1);
}

static void test_normalize_header_with_trailing_delimiter(void **state)
{
	(void)state;
	use_shipped("psp_v1", NULL);
	HEADER("txn_id", "booked_at", "type", "merchant_order_id", "amount", "currency", "channel", "fee", "");
	/* Rows written with and without the trailing delimiter are both whole. */
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "USD", "stripe", "", "");
	expect_ok();
	NORM(3, "T-2", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "USD", "stripe", "");
	expect_ok();
}

static void test_normalize_header_names_are_stripped(void **state)
{
	(void)state;
	use_shipped("psp_v1", NULL);
	HEADER(" txn_id", "booked_at ", "\ttype", "merchant_order_id", "amount", "currency", "channel", "fee");
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "USD", "stripe", "");
	expect_ok();
}

static void test_normalize_header_missing_column_refused(void **state)
{
	char want[512];

	(void)state;
	use_shipped("psp_v1", NULL);
	fake(&fx.header, 1, ARR("txn_id", "booked_at", "type", "amount", "currency", "channel", "fee"), 7);
	assert_int_equal(normalize_header(fx.n, &fx.header.rec, fx.err, sizeof(fx.err)), -1);
	snprintf(want, sizeof(want), "required column 'merchant_order_id' (profile psp_v1) is missing from the header");
	assert_string_equal(fx.err, want);
}

static void test_normalize_channel_override(void **state)
{
	(void)state;
	psp("adyen");
	NORM(2, "T-1", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "USD", "stripe", "");
	expect_ok();
	assert_string_equal(fx.out.channel, "adyen");
	/* Even where the file's channel column is empty. */
	NORM(3, "T-2", "2026-11-20T10:15:09Z", "CHARGE", "ORD-1", "1.00", "USD", "", "");
	expect_ok();
	assert_string_equal(fx.out.channel, "adyen");
}

static void test_normalize_reader_error_record_rejected_as_a_whole(void **state)
{
	(void)state;
	psp(NULL);
	fake(&fx.row, 7, NULL, 0);
	fx.row.rec.error = "NUL byte in record";
	fx.res = normalize_record(fx.n, &fx.row.rec, &fx.out, &fx.reason, &fx.field);
	expect_reject(NULL, "NUL byte in record");
	assert_int_equal(fx.out.line, 7);
}

/* ---- amount sign and type ---------------------------------------------------------------- */

#define P_COMMON_HEAD "[file]\nkind = statement\n[order_ref]\ncolumn = ref\n[currency]\nvalue = EUR\n" \
	"[channel]\nvalue = bank\n[booked_at]\ncolumn = date\nformat = %Y-%m-%d\ntimezone = UTC\n"

static void test_normalize_type_from_sign(void **state)
{
	(void)state;
	use_profile_text(P_COMMON_HEAD "[type]\nfrom = sign\n[amount]\ncolumn = amount\nsign = signed\n", NULL);
	HEADER("date", "ref", "amount");
	NORM(2, "2025-12-05", "ORD-1", "-5.00");
	expect_ok();
	assert_int_equal(fx.out.type, TYPE_REFUND);
	assert_int_equal(fx.out.amount_minor, 500);
	assert_string_equal(fx.out.currency, "EUR");
	assert_string_equal(fx.out.id, "");
	NORM(3, "2025-12-05", "ORD-1", "+5.00");
	expect_ok();
	assert_int_equal(fx.out.type, TYPE_CHARGE);
	assert_int_equal(fx.out.amount_minor, 500);
	NORM(4, "2025-12-05", "ORD-1", "0.00");
	expect_reject("amount", "amount is zero");
}

static void test_normalize_signed_amount_contradicting_type_rejected(void **state)
{
	(void)state;
	use_profile_text(P_COMMON_HEAD "[type]\ncolumn = kind\nmap.C = CHARGE\nmap.R = REFUND\n"
			 "[amount]\ncolumn = amount\nsign = signed\n", NULL);
	HEADER("date", "ref", "kind", "amount");
	NORM(2, "2025-12-05", "ORD-1", "C", "-5.00");
	expect_reject("amount", "amount sign contradicts the type");
	NORM(3, "2025-12-05", "ORD-1", "R", "5.00");
	expect_reject("amount", "amount sign contradicts the type");
	NORM(4, "2025-12-05", "ORD-1", "R", "-5.00");
	expect_ok();
	assert_int_equal(fx.out.type, TYPE_REFUND);
	assert_int_equal(fx.out.amount_minor, 500);
	NORM(5, "2025-12-05", "ORD-1", "C", "5.00");
	expect_ok();
	assert_int_equal(fx.out.type, TYPE_CHARGE);
}

#define P_DEBIT_CREDIT P_COMMON_HEAD "[type]\nfrom = debit_credit\n" \
	"[amount]\ndebit_column = Soll\ncredit_column = Haben\ndecimal_mark = comma\nthousands_separator = dot\n"

static void test_normalize_debit_credit_profile_loads(void **state)
{
	(void)state;
	use_profile_text(P_DEBIT_CREDIT, NULL);
	assert_true(fx.p->field[F_TYPE].from_debit_credit);
	assert_string_equal(fx.p->field[F_AMOUNT].debit.name, "Soll");
	assert_string_equal(fx.p->field[F_AMOUNT].credit.name, "Haben");
}

static void test_normalize_debit_credit_gives_type(void **state)
{
	(void)state;
	use_profile_text(P_DEBIT_CREDIT, NULL);
	HEADER("date", "ref", "Soll", "Haben");
	NORM(2, "2025-12-05", "ORD-1", "", "1.234,50");
	expect_ok();
	assert_int_equal(fx.out.type, TYPE_CHARGE);
	assert_int_equal(fx.out.amount_minor, 123450);
	NORM(3, "2025-12-05", "ORD-1", "45,9", "");
	expect_ok();
	assert_int_equal(fx.out.type, TYPE_REFUND);
	assert_int_equal(fx.out.amount_minor, 4590);
	/* A debit written negative is the same refund. */
	NORM(4, "2025-12-05", "ORD-1", "-45,90", "");
	expect_ok();
	assert_int_equal(fx.out.type, TYPE_REFUND);
	assert_int_equal(fx.out.amount_minor, 4590);
}

static void test_normalize_debit_credit_both_or_neither_rejected(void **state)
{
	(void)state;
	use_profile_text(P_DEBIT_CREDIT, NULL);
	HEADER("date", "ref", "Soll", "Haben");
	NORM(2, "2025-12-05", "ORD-1", "1,00", "2,00");
	expect_reject("amount", "both debit and credit amounts are given");
	NORM(3, "2025-12-05", "ORD-1", "", "");
	expect_reject("amount", "missing amount (debit and credit both empty)");
	NORM(4, "2025-12-05", "ORD-1", "", "-2,00");
	expect_reject("amount", "negative amount in the credit column");
	NORM(5, "2025-12-05", "ORD-1", "1.00", "");
	expect_reject("amount", "misplaced thousands separator");
}

static void test_normalize_amount_column_per_type(void **state)
{
	(void)state;
	use_profile_text(P_COMMON_HEAD "[type]\ncolumn = kind\nmap.sale = CHARGE\nmap.refund = REFUND\n"
			 "[amount]\ncolumn.CHARGE = Gross\ncolumn.REFUND = Refunded\n", NULL);
	HEADER("date", "ref", "kind", "Gross", "Refunded");
	NORM(2, "2025-12-05", "ORD-1", "sale", "10.00", "99.00");
	expect_ok();
	assert_int_equal(fx.out.type, TYPE_CHARGE);
	assert_int_equal(fx.out.amount_minor, 1000);
	NORM(3, "2025-12-05", "ORD-1", "refund", "99.00", "2.50");
	expect_ok();
	assert_int_equal(fx.out.type, TYPE_REFUND);
	assert_int_equal(fx.out.amount_minor, 250);
	NORM(4, "2025-12-05", "ORD-1", "refund", "99.00", "");
	expect_reject("amount", "missing amount");
}

/* ---- ids ----------------------------------------------------------------------------------- */

static void test_normalize_id_column_per_type(void **state)
{
	(void)state;
	use_profile_text(P_COMMON_HEAD "[type]\ncolumn = kind\nmap.sale = CHARGE\nmap.refund = REFUND\n"
			 "[amount]\ncolumn = amount\n[txn_id]\ncolumn.CHARGE = psp_ref\ncolumn.REFUND = refund_ref\n"
			 "required = yes\n", NULL);
	HEADER("date", "ref", "kind", "amount", "psp_ref", "refund_ref");
	NORM(2, "2025-12-05", "ORD-1", "sale", "1.00", "P1", "");
	expect_ok();
	assert_string_equal(fx.out.id, "P1");
	/* The refund repeats the payment's reference; its own id is the refund's. */
	NORM(3, "2025-12-05", "ORD-1", "refund", "1.00", "P1", "R9");
	expect_ok();
	assert_string_equal(fx.out.id, "R9");
	NORM(4, "2025-12-05", "ORD-1", "refund", "1.00", "P1", "");
	expect_reject("txn_id", "missing transaction id");
}

static void test_normalize_composite_id_joins_non_empty_parts(void **state)
{
	(void)state;
	use_profile_text(P_COMMON_HEAD "[type]\nvalue = CHARGE\n[amount]\ncolumn = amount\n"
			 "[txn_id]\ncolumn = psp_ref\ncolumn = kind\ncolumn = seq\n", NULL);
	HEADER("date", "ref", "amount", "psp_ref", "kind", "seq");
	NORM(2, "2025-12-05", "ORD-1", "1.00", "P1", "refund", "2");
	expect_ok();
	assert_string_equal(fx.out.id, "P1|refund|2");
	NORM(3, "2025-12-05", "ORD-1", "1.00", "P1", "", " 3 ");
	expect_ok();
	assert_string_equal(fx.out.id, "P1|3");
	/* Not required: all parts empty means no id (content identity). */
	NORM(4, "2025-12-05", "ORD-1", "1.00", "", "", "");
	expect_ok();
	assert_string_equal(fx.out.id, "");
}

/* ---- value maps and filters ------------------------------------------------------------------ */

static void test_normalize_value_map_skip_and_default_skip(void **state)
{
	(void)state;
	use_profile_text(P_COMMON_HEAD "[type]\ncolumn = kind\nmap.Payment = CHARGE\nmap.Refund = REFUND\n"
			 "map.Payout = skip\ndefault = skip\n[amount]\ncolumn = amount\n", NULL);
	HEADER("date", "ref", "kind", "amount");
	NORM(2, "2025-12-05", "ORD-1", "Payout", "1.00");
	expect_skip("type Payout");
	NORM(3, "2025-12-05", "ORD-1", "Fee", "1.00");
	expect_skip("type Fee");
	NORM(4, "2025-12-05", "ORD-1", "Refund", "1.00");
	expect_ok();
	assert_int_equal(fx.out.type, TYPE_REFUND);
}

static void test_normalize_unmapped_value_rejected(void **state)
{
	(void)state;
	use_profile_text(P_COMMON_HEAD "[type]\ncolumn = kind\nmap.Payment = CHARGE\nmap.Payout = skip\n"
			 "[amount]\ncolumn = amount\n", NULL);
	HEADER("date", "ref", "kind", "amount");
	NORM(2, "2025-12-05", "ORD-1", "payment", "1.00"); /* values are case-sensitive */
	expect_reject("type", "value 'payment' is not mapped to a type");
	NORM(3, "2025-12-05", "ORD-1", "Payout", "1.00");
	expect_skip("type Payout");
}

static void test_normalize_filters_skip_with_their_name(void **state)
{
	(void)state;
	use_profile_text(P_COMMON_HEAD "[type]\nvalue = CHARGE\n[amount]\ncolumn = amount\n"
			 "[filter.not_settled]\ncolumn = status\nkeep = SUCCESS\nkeep = SETTLED\n"
			 "[filter.memo]\ncolumn = kind\nskip = memo\nskip = note\n"
			 "[filter.payout]\ncolumn = text\nskip_regex = ^Payout [0-9]+$\n"
			 "[filter.foreign]\ncolumn = text\nkeep_regex = ORD-\n", NULL);
	HEADER("date", "ref", "amount", "status", "kind", "text");
	NORM(2, "2025-12-05", "ORD-1", "1.00", "SUCCESS", "sale", "ORD-1");
	expect_ok();
	NORM(3, "2025-12-05", "ORD-1", "1.00", "PENDING", "sale", "ORD-1");
	expect_skip("not_settled");
	NORM(4, "2025-12-05", "ORD-1", "1.00", "SETTLED", "note", "ORD-1");
	expect_skip("memo");
	NORM(5, "2025-12-05", "ORD-1", "1.00", "SETTLED", "sale", "Payout 77");
	expect_skip("payout");
	NORM(6, "2025-12-05", "ORD-1", "1.00", "SETTLED", "sale", "something else");
	expect_skip("foreign");
	/* Filters come before any parsing: a skipped row is never a reject. */
	NORM(7, "2025-12-05", "ORD-1", "junk", "PENDING", "sale", "ORD-1");
	expect_skip("not_settled");
}

/* ---- order references -------------------------------------------------------------------------- */

static void test_normalize_order_ref_by_regex_capture(void **state)
{
	(void)state;
	use_profile_text("[file]\nkind = statement\n[order_ref]\ncolumn = text\nregex = Order (ORD-[0-9]+)\n"
			 "no_match = skip\n[currency]\nvalue = EUR\n[channel]\nvalue = bank\n"
			 "[booked_at]\ncolumn = date\nformat = %Y-%m-%d\ntimezone = UTC\n"
			 "[type]\nvalue = CHARGE\n[amount]\ncolumn = amount\n", NULL);
	HEADER("date", "text", "amount");
	NORM(2, "2025-12-05", "SEPA Order ORD-123 thank you", "1.00");
	expect_ok();
	assert_string_equal(fx.out.order_ref, "ORD-123");
	NORM(3, "2025-12-05", "Salary December", "1.00");
	expect_skip("order_ref not found");
}

static void test_normalize_order_ref_regex_without_group_and_no_match_reject(void **state)
{
	(void)state;
	use_profile_text("[file]\nkind = statement\n[order_ref]\ncolumn = text\nregex = ORD-[0-9]+\n"
			 "no_match = reject\n[currency]\nvalue = EUR\n[channel]\nvalue = bank\n"
			 "[booked_at]\ncolumn = date\nformat = %Y-%m-%d\ntimezone = UTC\n"
			 "[type]\nvalue = CHARGE\n[amount]\ncolumn = amount\n", NULL);
	HEADER("date", "text", "amount");
	NORM(2, "2025-12-05", "ref ORD-77/x", "1.00");
	expect_ok();
	assert_string_equal(fx.out.order_ref, "ORD-77");
	NORM(3, "2025-12-05", "no reference", "1.00");
	expect_reject("order_ref", "order reference not found by the profile's regex");
}

/* ---- currency ---------------------------------------------------------------------------------- */

static void test_normalize_currency_constant(void **state)
{
	(void)state;
	use_profile_text(P_COMMON_HEAD "[type]\nvalue = REFUND\n[amount]\ncolumn = amount\n", NULL);
	HEADER("date", "ref", "amount");
	NORM(2, "2025-12-05", "ORD-1", "45,9");
	expect_reject("amount", "amount uses a grouping character the column does not declare");
	NORM(2, "2025-12-05", "ORD-1", "45.9");
	expect_ok();
	assert_string_equal(fx.out.currency, "EUR");
	assert_int_equal(fx.out.exponent, 2);
	assert_int_equal(fx.out.amount_minor, 4590);
	assert_int_equal(fx.out.type, TYPE_REFUND);
}

/* ---- times --------------------------------------------------------------------------------------- */

static void test_normalize_zone_column_settles_the_repeated_hour(void **state)
{
	(void)state;
	use_profile_text("[file]\nkind = statement\n[order_ref]\ncolumn = ref\n[currency]\nvalue = EUR\n"
			 "[channel]\nvalue = psp\n[type]\nvalue = CHARGE\n[amount]\ncolumn = amount\n"
			 "[booked_at]\ncolumn = when\nformat = %Y-%m-%d %H:%M:%S\nzone_column = tz\n"
			 "zone.CET = +01:00\nzone.CEST = +02:00\n", NULL);
	HEADER("when", "tz", "ref", "amount");
	NORM(2, "2026-10-25 02:30:00", "CEST", "ORD-1", "1.00");
	expect_ok();
	assert_int_equal(fx.out.time_us, US(T_2026_10_25_003000));
	NORM(3, "2026-10-25 02:30:00", "CET", "ORD-1", "1.00");
	expect_ok();
	assert_int_equal(fx.out.time_us, US(T_2026_10_25_013000));
	NORM(4, "2026-10-25 02:30:00", "PST", "ORD-1", "1.00");
	expect_reject("booked_at", "unknown time zone abbreviation 'PST'");
}

static void test_normalize_date_and_time_in_two_columns(void **state)
{
	(void)state;
	use_profile_text("[file]\nkind = statement\n[order_ref]\ncolumn = ref\n[currency]\nvalue = EUR\n"
			 "[channel]\nvalue = psp\n[type]\nvalue = CHARGE\n[amount]\ncolumn = amount\n"
			 "[booked_at]\ncolumn = Datum\nformat = %d.%m.%Y\ntimezone = UTC\n"
			 "time_column = Uhrzeit\ntime_format = %H:%M:%S\n", NULL);
	assert_string_equal(fx.p->field[F_TIME].time_format, "%H:%M:%S");
	HEADER("Datum", "Uhrzeit", "ref", "amount");
	NORM(2, "05.12.2025", "13:45:10", "ORD-1", "1.00");
	expect_ok();
	assert_int_equal(fx.out.time_us, US(T_2025_12_05_134510));
	NORM(3, "05.12.2025", "24:00:00", "ORD-1", "1.00");
	expect_reject("booked_at", "hour 24 is not accepted");
	NORM(4, "05.12.2025", "", "ORD-1", "1.00");
	expect_reject("booked_at", "does not match the date format");
}

static void test_normalize_date_only_is_local_midnight(void **state)
{
	(void)state;
	use_profile_text("[file]\nkind = statement\ntimezone = Europe/Berlin\n[order_ref]\ncolumn = ref\n"
			 "[currency]\nvalue = EUR\n[channel]\nvalue = bank\n[type]\nvalue = CHARGE\n"
			 "[amount]\ncolumn = amount\n[booked_at]\ncolumn = Buchungstag\nformat = %d.%m.%Y\n", NULL);
	HEADER("Buchungstag", "ref", "amount");
	NORM(2, "05.12.2025", "ORD-1", "1.00");
	expect_ok();
	assert_int_equal(fx.out.time_us, US(T_2025_12_04_230000));
}

static void test_normalize_offset_required_rejects_local_time(void **state)
{
	(void)state;
	use_profile_text("[file]\nkind = statement\n[order_ref]\ncolumn = ref\n[currency]\nvalue = EUR\n"
			 "[channel]\nvalue = psp\n[type]\nvalue = CHARGE\n[amount]\ncolumn = amount\n"
			 "[booked_at]\ncolumn = t\nformat = iso8601\noffset = required\ntimezone = Asia/Shanghai\n", NULL);
	HEADER("t", "ref", "amount");
	NORM(2, "2026-11-20T10:15:09", "ORD-1", "1.00");
	expect_reject("booked_at", "time has no UTC offset (the profile requires one)");
	NORM(3, "2026-11-20T10:15:09Z", "ORD-1", "1.00");
	expect_ok();
	assert_int_equal(fx.out.time_us, US(T_2026_11_20_101509));
}

static void test_normalize_time_zone_applies_without_offset(void **state)
{
	(void)state;
	use_profile_text("[file]\nkind = statement\n[order_ref]\ncolumn = ref\n[currency]\nvalue = CNY\n"
			 "[channel]\nvalue = wechat\n[type]\nvalue = CHARGE\n[amount]\ncolumn = amount\n"
			 "[booked_at]\ncolumn = t\nformat = %Y-%m-%d %H:%M:%S\ntimezone = Asia/Shanghai\n", NULL);
	HEADER("t", "ref", "amount");
	NORM(2, "2026-11-20 10:15:09", "ORD-1", "1.00");
	expect_ok();
	assert_int_equal(fx.out.time_us, US(T_2026_11_20_021509));
}

static void test_normalize_no_offset_and_no_zone_rejected(void **state)
{
	(void)state;
	use_profile_text("[file]\nkind = statement\n[order_ref]\ncolumn = ref\n[currency]\nvalue = EUR\n"
			 "[channel]\nvalue = psp\n[type]\nvalue = CHARGE\n[amount]\ncolumn = amount\n"
			 "[booked_at]\ncolumn = t\n", NULL);
	HEADER("t", "ref", "amount");
	NORM(2, "2026-11-20T10:15:09", "ORD-1", "1.00");
	expect_reject("booked_at", "time has no UTC offset and the profile declares no time zone");
}

/* ---- stripping --------------------------------------------------------------------------------------- */

static void test_normalize_strips_backtick_and_trailing_tab(void **state)
{
	(void)state;
	use_profile_text("[file]\nkind = statement\nstrip_leading = `\nstrip_trailing = \\t\n"
			 "[txn_id]\ncolumn = id\n[order_ref]\ncolumn = ref\n[currency]\ncolumn = cur\n"
			 "[channel]\nvalue = wechat\n[type]\ncolumn = kind\nmap.CHARGE = CHARGE\n"
			 "[amount]\ncolumn = amount\n[booked_at]\ncolumn = t\nformat = %Y-%m-%d %H:%M:%S\n"
			 "timezone = Asia/Shanghai\n", NULL);
	HEADER("t", "id", "ref", "kind", "amount", "cur");
	NORM(2, "`2026-11-20 10:15:09", "`4200001234\t", "`ORD-1\t\t", "`CHARGE", "`12.50\t", "CNY\t");
	expect_ok();
	assert_string_equal(fx.out.id, "4200001234");
	assert_string_equal(fx.out.order_ref, "ORD-1");
	assert_int_equal(fx.out.amount_minor, 1250);
	assert_int_equal(fx.out.time_us, US(T_2026_11_20_021509));
	/* Only at the ends: a backtick inside a value is kept. */
	NORM(3, "2026-11-20 10:15:09", "a`b", "ORD`2", "CHARGE", "1.00", "CNY");
	expect_ok();
	assert_string_equal(fx.out.id, "a`b");
	assert_string_equal(fx.out.order_ref, "ORD`2");
}

/*
 * A column that a filter reads and a field reads again: stripping must give the
 * field the same value it gave the filter (Alipay pads every value with tabs).
 */
static void test_normalize_column_read_by_filter_and_field_strips_alike(void **state)
{
	(void)state;
	use_profile_text("[file]\nkind = statement\nstrip_trailing = \\t\n"
			 "[order_ref]\ncolumn = ref\n[currency]\nvalue = CNY\n[channel]\nvalue = alipay\n"
			 "[type]\nvalue = CHARGE\n[amount]\ncolumn = amount\n"
			 "[booked_at]\ncolumn = t\nformat = %Y-%m-%d %H:%M:%S\ntimezone = Asia/Shanghai\n"
			 "[filter.day]\ncolumn = t\nkeep_regex = ^2026-11-20\n"
			 "[filter.zero]\ncolumn = amount\nskip = 0.00\n", NULL);
	HEADER("t", "ref", "amount");
	NORM(2, "2026-11-20 10:15:09\t", "ORD-1\t", "12.50\t");
	expect_ok();
	assert_int_equal(fx.out.time_us, US(T_2026_11_20_021509));
	assert_int_equal(fx.out.amount_minor, 1250);
	NORM(3, "2026-11-20 10:15:09 ", "ORD-1", "12.50 ");
	expect_ok();
	assert_int_equal(fx.out.amount_minor, 1250);
}

/* The same for a composite id whose first part is also the order reference. */
static void test_normalize_composite_id_part_read_twice(void **state)
{
	(void)state;
	use_profile_text(P_COMMON_HEAD "[type]\nvalue = CHARGE\n[amount]\ncolumn = amount\n"
			 "[txn_id]\ncolumn = ref\ncolumn = seq\n", NULL);
	HEADER("date", "ref", "amount", "seq");
	NORM(2, "2025-12-05", "ORD-1 ", "1.00", "7");
	expect_ok();
	assert_string_equal(fx.out.order_ref, "ORD-1");
	assert_string_equal(fx.out.id, "ORD-1|7");
}

/* A fee column given for charges only: refunds have no fee (not column 1's text). */
static void test_normalize_fee_column_for_charges_only(void **state)
{
	(void)state;
	use_profile_text(P_COMMON_HEAD "[type]\ncolumn = kind\nmap.sale = CHARGE\nmap.refund = REFUND\n"
			 "[amount]\ncolumn = amount\n[fee]\ncolumn.CHARGE = fee\n", NULL);
	HEADER("date", "ref", "kind", "amount", "fee");
	NORM(2, "2025-12-05", "ORD-1", "sale", "10.00", "0.30");
	expect_ok();
	assert_true(fx.out.has_fee);
	assert_int_equal(fx.out.fee_minor, 30);
	NORM(3, "2025-12-05", "ORD-1", "refund", "10.00", "0.30");
	expect_ok();
	assert_false(fx.out.has_fee);
}

/* ---- ledger ------------------------------------------------------------------------------------------ */

static void test_normalize_ledger_events(void **state)
{
	(void)state;
	use_shipped("ledger_v1", NULL);
	HEADER("event_id", "order_id", "event", "amount", "currency", "channel", "event_time");
	NORM(2, "E1", "ORD-1", "CREATED", "0", "USD", "stripe", "2026-11-20T10:15:09Z");
	expect_ok();
	assert_int_equal(fx.out.type, TYPE_CREATED);
	assert_int_equal(fx.out.amount_minor, 0);
	assert_string_equal(fx.out.id, "E1");
	NORM(3, "E2", "ORD-1", "PAID", "12.34", "USD", "stripe", "2026-11-20T18:15:09+08:00");
	expect_ok();
	assert_int_equal(fx.out.type, TYPE_PAID);
	assert_int_equal(fx.out.amount_minor, 1234);
	assert_int_equal(fx.out.time_us, US(T_2026_11_20_101509));
	NORM(4, "E3", "ORD-1", "PAID", "0.00", "USD", "stripe", "2026-11-20T10:15:09Z");
	expect_reject("amount", "amount is zero");
	NORM(5, "E4", "ORD-1", "SHIPPED", "1.00", "USD", "stripe", "2026-11-20T10:15:09Z");
	expect_reject("event", "value 'SHIPPED' is not mapped to an event");
	NORM(6, "E5", "ORD-1", "PAID", "1.00", "USD", "stripe", "2026-11-20T10:15:09");
	expect_reject("event_time", "time has no UTC offset (the profile requires one)");
	NORM(7, "", "ORD-1", "PAID", "1.00", "USD", "stripe", "2026-11-20T10:15:09Z");
	expect_reject("event_id", "missing event id");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_normalize_psp_v1_good_row),
		T(test_normalize_psp_v1_refund_and_currency_exponents),
		T(test_normalize_psp_v1_negative_amount_rejected),
		T(test_normalize_psp_v1_time_without_offset_rejected),
		T(test_normalize_psp_v1_bad_values_name_their_field),
		T(test_normalize_psp_v1_fee_with_extra_zero_digits),
		T(test_normalize_unknown_currency_rejected),
		T(test_normalize_missing_order_ref_rejected),
		T(test_normalize_order_ref_with_control_character_rejected),
		T(test_normalize_over_long_id_and_order_ref_rejected),
		T(test_normalize_wrong_field_count_rejected),
		T(test_normalize_trailing_empty_field_tolerated),
		T(test_normalize_header_with_trailing_delimiter),
		T(test_normalize_header_names_are_stripped),
		T(test_normalize_header_missing_column_refused),
		T(test_normalize_channel_override),
		T(test_normalize_reader_error_record_rejected_as_a_whole),
		T(test_normalize_type_from_sign),
		T(test_normalize_signed_amount_contradicting_type_rejected),
		T(test_normalize_debit_credit_profile_loads),
		T(test_normalize_debit_credit_gives_type),
		T(test_normalize_debit_credit_both_or_neither_rejected),
		T(test_normalize_amount_column_per_type),
		T(test_normalize_id_column_per_type),
		T(test_normalize_composite_id_joins_non_empty_parts),
		T(test_normalize_value_map_skip_and_default_skip),
		T(test_normalize_unmapped_value_rejected),
		T(test_normalize_filters_skip_with_their_name),
		T(test_normalize_order_ref_by_regex_capture),
		T(test_normalize_order_ref_regex_without_group_and_no_match_reject),
		T(test_normalize_currency_constant),
		T(test_normalize_zone_column_settles_the_repeated_hour),
		T(test_normalize_date_and_time_in_two_columns),
		T(test_normalize_date_only_is_local_midnight),
		T(test_normalize_offset_required_rejects_local_time),
		T(test_normalize_time_zone_applies_without_offset),
		T(test_normalize_no_offset_and_no_zone_rejected),
		T(test_normalize_strips_backtick_and_trailing_tab),
		T(test_normalize_column_read_by_filter_and_field_strips_alike),
		T(test_normalize_composite_id_part_read_twice),
		T(test_normalize_fee_column_for_charges_only),
		T(test_normalize_ledger_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
