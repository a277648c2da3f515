/*
 * test_money.c - pins money_parse and money_format (engine/money.h).
 *
 * Every accepted amount is checked for its exact minor-unit value; every
 * rejected one for its exact reason and for leaving the result untouched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <inttypes.h>
#include <string.h>
#include <cmocka.h>

#include "money.h"

/* Exponents of the currencies used below (ISO 4217). */
#define USD 2
#define EUR 2
#define CNY 2
#define JPY 0
#define KWD 3

/* Something parse must not overwrite when it rejects. */
#define UNTOUCHED INT64_C(0x5eed5eed)

static const struct money_format dot = { '.', 0, 0 };
static const struct money_format comma = { ',', 0, 0 };
static const struct money_format dot_grouped_comma = { '.', ',', 0 };   /* 1,234.56 */
static const struct money_format comma_grouped_dot = { ',', '.', 0 };   /* 1.234,56 */
static const struct money_format comma_grouped_space = { ',', ' ', 0 }; /* 1 234,56 */
static const struct money_format dot_grouped_apos = { '.', '\'', 0 };   /* 1'234.56 */
static const struct money_format implied = { '.', 0, 1 };
static const struct money_format implied_grouped = { ',', '.', 1 };

static const char *R_EMPTY = "empty amount";
static const char *R_NOT_NUMBER = "amount is not a decimal number";
static const char *R_TWO_SIGNS = "two signs in amount";
static const char *R_SIGN_ONLY = "amount has a sign but no digits";
static const char *R_SIGN_LATE = "sign is not at the start of the amount";
static const char *R_EDGE_SPACE = "amount has leading or trailing spaces";
static const char *R_INNER_SPACE = "amount has a space inside it";
static const char *R_NON_ASCII = "amount contains a non-ASCII character (e.g. a full-width digit)";
static const char *R_NO_INT = "amount has no digits before the decimal mark";
static const char *R_NO_FRAC = "amount has no digits after the decimal mark";
static const char *R_TWO_MARKS = "two decimal marks in amount";
static const char *R_SEP_IN_FRAC = "thousands separator after the decimal mark";
static const char *R_MISPLACED = "misplaced thousands separator";
static const char *R_UNDECLARED = "amount uses a grouping character the column does not declare";
static const char *R_EXTRA = "more fraction digits than the currency allows";
static const char *R_OVERFLOW = "amount overflows 64-bit minor units";
static const char *R_IMPLIED_MARK = "amount in minor units must not have a decimal mark";

static void check_parses(const char *text, const struct money_format *fmt, int exponent,
			 int64_t want)
{
	int64_t got = UNTOUCHED;
	const char *why = money_parse(text, strlen(text), fmt, exponent, &got);

	if (why != NULL)
		fail_msg("\"%s\" (exponent %d) rejected: %s", text, exponent, why);
	if (got != want)
		fail_msg("\"%s\" (exponent %d) = %" PRId64 ", want %" PRId64,
			 text, exponent, got, want);
}

static void check_rejects(const char *text, const struct money_format *fmt, int exponent,
			  const char *reason)
{
	int64_t got = UNTOUCHED;
	const char *why = money_parse(text, strlen(text), fmt, exponent, &got);

	if (why == NULL)
		fail_msg("\"%s\" (exponent %d) accepted as %" PRId64 ", want \"%s\"",
			 text, exponent, got, reason);
	if (strcmp(why, reason) != 0)
		fail_msg("\"%s\" (exponent %d) rejected with \"%s\", want \"%s\"",
			 text, exponent, why, reason);
	if (got != UNTOUCHED)
		fail_msg("\"%s\" rejected but *out was overwritten", text);
}

static void check_formats(int64_t minor, int exponent, const char *want)
{
	char buf[32];
	int n = money_format(minor, exponent, buf, sizeof buf);

	if (n < 0)
		fail_msg("money_format(%" PRId64 ", %d) failed", minor, exponent);
	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));
}

static void test_money_parses_cents(void **state)
{
	(void)state;
	check_parses("12.34", &dot, USD, 1234);
	check_parses("0.01", &dot, USD, 1);
	check_parses("0", &dot, USD, 0);
	check_parses("0.00", &dot, USD, 0);
}

static void test_money_accepts_plus_sign(void **state)
{
	(void)state;
	check_parses("+5", &dot, USD, 500);
	check_parses("+0.5", &dot, USD, 50);
}

static void test_money_returns_minus_sign_as_negative(void **state)
{
	(void)state;
	check_parses("-12.34", &dot, USD, -1234);
	check_parses("-0.01", &dot, USD, -1);
	check_parses("-0", &dot, USD, 0);
	check_parses("-1.234,56", &comma_grouped_dot, EUR, -123456);
}

static void test_money_pads_short_fraction(void **state)
{
	(void)state;
	check_parses("45,9", &comma, EUR, 4590);
	check_parses("45.9", &dot, USD, 4590);
	check_parses("1.5", &dot, KWD, 1500);
}

static void test_money_scales_integer_without_fraction(void **state)
{
	(void)state;
	check_parses("180", &dot, USD, 18000);
	check_parses("180", &comma, EUR, 18000);
	check_parses("007", &dot, USD, 700);
}

static void test_money_accepts_dot_grouping_with_comma_decimal(void **state)
{
	(void)state;
	check_parses("1.234,56", &comma_grouped_dot, EUR, 123456);
	check_parses("1.234.567,89", &comma_grouped_dot, EUR, 123456789);
	check_parses("123.456", &comma_grouped_dot, EUR, 12345600);
	check_parses("1234,56", &comma_grouped_dot, EUR, 123456);   /* plain digits too */
}

static void test_money_accepts_comma_grouping_with_dot_decimal(void **state)
{
	(void)state;
	check_parses("1,234.56", &dot_grouped_comma, USD, 123456);
	check_parses("12,345,678", &dot_grouped_comma, USD, 1234567800);
	check_parses("999", &dot_grouped_comma, USD, 99900);
}

static void test_money_accepts_space_and_apostrophe_grouping(void **state)
{
	(void)state;
	check_parses("1 234 567,89", &comma_grouped_space, EUR, 123456789);
	check_parses("1'234.50", &dot_grouped_apos, USD, 123450);
}

static void test_money_accepts_trailing_zero_digits(void **state)
{
	(void)state;
	check_parses("0.77000", &dot, CNY, 77);
	check_parses("1000.0", &dot, JPY, 1000);
	check_parses("1000.000", &dot, JPY, 1000);
	check_parses("1.2340", &dot, KWD, 1234);
}

static void test_money_rejects_extra_digits(void **state)
{
	(void)state;
	check_rejects("12.345", &dot, USD, R_EXTRA);
	check_rejects("0.001", &dot, USD, R_EXTRA);
	check_rejects("0.77001", &dot, CNY, R_EXTRA);
	check_rejects("1000.5", &dot, JPY, R_EXTRA);
	check_rejects("1.2345", &dot, KWD, R_EXTRA);
}

static void test_money_handles_zero_exponent_currency(void **state)
{
	(void)state;
	check_parses("1000", &dot, JPY, 1000);
	check_parses("1,000", &dot_grouped_comma, JPY, 1000);
	check_parses("-7", &dot, JPY, -7);
}

static void test_money_handles_three_digit_currency(void **state)
{
	(void)state;
	check_parses("1.234", &dot, KWD, 1234);
	check_parses("1", &dot, KWD, 1000);
	check_parses("0.007", &dot, KWD, 7);
}

static void test_money_rejects_misplaced_grouping(void **state)
{
	(void)state;
	check_rejects("1,2,3", &dot_grouped_comma, USD, R_MISPLACED);
	check_rejects("1.23,4", &comma_grouped_dot, EUR, R_MISPLACED);
	check_rejects("12.3456", &comma_grouped_dot, EUR, R_MISPLACED);
	check_rejects("1234,567", &dot_grouped_comma, USD, R_MISPLACED);
	check_rejects("1,23", &dot_grouped_comma, USD, R_MISPLACED);
	check_rejects("1,234,", &dot_grouped_comma, USD, R_MISPLACED);
	check_rejects("1,234,.5", &dot_grouped_comma, USD, R_MISPLACED);
	check_rejects("1,,234", &dot_grouped_comma, USD, R_MISPLACED);
	check_rejects(",123", &dot_grouped_comma, USD, R_MISPLACED);
	check_rejects("-,123", &dot_grouped_comma, USD, R_MISPLACED);
	check_rejects("1 23", &comma_grouped_space, EUR, R_MISPLACED);
}

static void test_money_rejects_undeclared_grouping(void **state)
{
	(void)state;
	check_rejects("1,2,3", &dot, USD, R_UNDECLARED);
	check_rejects("1,234.56", &dot, USD, R_UNDECLARED);
	check_rejects("1.234,56", &comma, EUR, R_UNDECLARED);
	check_rejects("1'234.56", &dot, USD, R_UNDECLARED);
	/* A separator is declared, but not this one. */
	check_rejects("1.234,56", &comma_grouped_space, EUR, R_UNDECLARED);
}

static void test_money_rejects_separator_in_fraction(void **state)
{
	(void)state;
	check_rejects("1.234,567.8", &comma_grouped_dot, KWD, R_SEP_IN_FRAC);
	check_rejects("0.123,4", &dot_grouped_comma, KWD, R_SEP_IN_FRAC);
}

static void test_money_rejects_two_decimal_marks(void **state)
{
	(void)state;
	check_rejects("1.2.3", &dot, USD, R_TWO_MARKS);
	check_rejects("1,2,3", &comma, EUR, R_TWO_MARKS);
}

static void test_money_rejects_two_signs(void **state)
{
	(void)state;
	check_rejects("--5", &dot, USD, R_TWO_SIGNS);
	check_rejects("+-5", &dot, USD, R_TWO_SIGNS);
	check_rejects("-+5", &dot, USD, R_TWO_SIGNS);
	check_rejects("++5", &dot, USD, R_TWO_SIGNS);
}

static void test_money_rejects_sign_after_digits(void **state)
{
	(void)state;
	check_rejects("5-", &dot, USD, R_SIGN_LATE);
	check_rejects("1-2", &dot, USD, R_SIGN_LATE);
	check_rejects("1.5+", &dot, USD, R_SIGN_LATE);
}

static void test_money_rejects_exponent_hex_nan_inf(void **state)
{
	(void)state;
	check_rejects("1e5", &dot, USD, R_NOT_NUMBER);
	check_rejects("1E5", &dot, USD, R_NOT_NUMBER);
	check_rejects("1.5e2", &dot, USD, R_NOT_NUMBER);
	check_rejects("0x10", &dot, USD, R_NOT_NUMBER);
	check_rejects("NaN", &dot, USD, R_NOT_NUMBER);
	check_rejects("nan", &dot, USD, R_NOT_NUMBER);
	check_rejects("inf", &dot, USD, R_NOT_NUMBER);
	check_rejects("-Infinity", &dot, USD, R_NOT_NUMBER);
	check_rejects("$5", &dot, USD, R_NOT_NUMBER);
	check_rejects("5USD", &dot, USD, R_NOT_NUMBER);
	check_rejects("(5)", &dot, USD, R_NOT_NUMBER);
}

static void test_money_rejects_full_width_digits(void **state)
{
	(void)state;
	check_rejects("\xef\xbc\x91\xef\xbc\x92", &dot, USD, R_NON_ASCII);   /* "１２" */
	check_rejects("1\xef\xbc\x92", &dot, USD, R_NON_ASCII);             /* "1２" */
	check_rejects("12\xc2\xa0" "000", &dot, USD, R_NON_ASCII);          /* NBSP */
	check_rejects("\xd9\xa1", &dot, USD, R_NON_ASCII);                  /* Arabic-Indic 1 */
}

static void test_money_rejects_spaces(void **state)
{
	(void)state;
	check_rejects(" 12", &dot, USD, R_EDGE_SPACE);
	check_rejects("12 ", &dot, USD, R_EDGE_SPACE);
	check_rejects("12\t", &dot, USD, R_EDGE_SPACE);
	check_rejects(" ", &dot, USD, R_EDGE_SPACE);
	check_rejects(" 12", &comma_grouped_space, EUR, R_EDGE_SPACE);
	check_rejects("1 234", &dot, USD, R_INNER_SPACE);
	check_rejects("- 5", &dot, USD, R_INNER_SPACE);
}

static void test_money_rejects_empty_sign_only_and_lone_mark(void **state)
{
	(void)state;
	check_rejects("", &dot, USD, R_EMPTY);
	check_rejects("-", &dot, USD, R_SIGN_ONLY);
	check_rejects("+", &dot, USD, R_SIGN_ONLY);
	check_rejects(".", &dot, USD, R_NO_INT);
	check_rejects(",", &comma, EUR, R_NO_INT);
}

static void test_money_rejects_missing_integer_or_fraction_digits(void **state)
{
	(void)state;
	check_rejects(".5", &dot, USD, R_NO_INT);
	check_rejects("-.5", &dot, USD, R_NO_INT);
	check_rejects("5.", &dot, USD, R_NO_FRAC);
	check_rejects("-5.", &dot, USD, R_NO_FRAC);
	check_rejects("1.234,", &comma_grouped_dot, EUR, R_NO_FRAC);
}

static void test_money_rejects_overflow(void **state)
{
	(void)state;
	check_rejects("12345678901234567890", &dot, USD, R_OVERFLOW);
	check_rejects("12345678901234567890", &dot, JPY, R_OVERFLOW);
	check_rejects("99999999999999999999999999999999999999", &dot, JPY, R_OVERFLOW);
	check_rejects("-12345678901234567890", &dot, USD, R_OVERFLOW);
	/* Fits as an integer, overflows once scaled to minor units. */
	check_rejects("922337203685477581", &dot, USD, R_OVERFLOW);
}

static void test_money_accepts_int64_max_in_cents(void **state)
{
	(void)state;
	check_parses("92233720368547758.07", &dot, USD, INT64_MAX);
	check_parses("92233720368547758.0700", &dot, USD, INT64_MAX);
	check_parses("92,233,720,368,547,758.07", &dot_grouped_comma, USD, INT64_MAX);
	check_parses("9223372036854775807", &dot, JPY, INT64_MAX);
	check_parses("-92233720368547758.07", &dot, USD, -INT64_MAX);
	check_parses("0000000000000000000000000000012.34", &dot, USD, 1234);
}

static void test_money_rejects_one_past_int64_max(void **state)
{
	(void)state;
	check_rejects("92233720368547758.08", &dot, USD, R_OVERFLOW);
	check_rejects("9223372036854775808", &dot, JPY, R_OVERFLOW);
	check_rejects("92233720368547758.1", &dot, USD, R_OVERFLOW);
}

/* Documented choice: INT64_MIN's magnitude is refused so results can be negated. */
static void test_money_rejects_int64_min_magnitude(void **state)
{
	(void)state;
	check_rejects("-92233720368547758.08", &dot, USD, R_OVERFLOW);
	check_rejects("-9223372036854775808", &dot, JPY, R_OVERFLOW);
}

static void test_money_reports_syntax_before_overflow(void **state)
{
	(void)state;
	check_rejects("99999999999999999999x", &dot, USD, R_NOT_NUMBER);
	check_rejects("99999999999999999999.123", &dot, USD, R_EXTRA);
}

static void test_money_implied_decimals_takes_minor_units(void **state)
{
	(void)state;
	check_parses("1234", &implied, USD, 1234);
	check_parses("-5", &implied, USD, -5);
	check_parses("+5", &implied, JPY, 5);
	check_parses("1234", &implied, KWD, 1234);
	check_parses("9223372036854775807", &implied, USD, INT64_MAX);
	check_parses("1.234.567", &implied_grouped, EUR, 1234567);
}

static void test_money_implied_decimals_rejects_decimal_mark(void **state)
{
	(void)state;
	check_rejects("12.3", &implied, USD, R_IMPLIED_MARK);
	check_rejects("12.", &implied, USD, R_IMPLIED_MARK);
	check_rejects("1.234,5", &implied_grouped, EUR, R_IMPLIED_MARK);
	check_rejects("9223372036854775808", &implied, USD, R_OVERFLOW);
	check_rejects("--5", &implied, USD, R_TWO_SIGNS);
}

static void test_money_reads_only_len_bytes(void **state)
{
	int64_t got = 0;

	(void)state;
	assert_null(money_parse("12.345", 4, &dot, USD, &got));     /* "12.3" */
	assert_true(got == 1230);
	assert_null(money_parse("7xyz", 1, &dot, USD, &got));
	assert_true(got == 700);
	/* An embedded NUL is a byte like any other, not an end. */
	assert_string_equal(money_parse("1\0" "2", 3, &dot, USD, &got), R_NOT_NUMBER);
	assert_true(got == 700);
}

static void test_money_rejects_bad_format_and_arguments(void **state)
{
	const struct money_format same = { '.', '.', 0 };
	const struct money_format bad_mark = { ';', 0, 0 };
	const struct money_format bad_sep = { '.', '_', 0 };
	int64_t got = UNTOUCHED;

	(void)state;
	assert_non_null(money_parse("1", 1, &same, USD, &got));
	assert_non_null(money_parse("1", 1, &bad_mark, USD, &got));
	assert_non_null(money_parse("1", 1, &bad_sep, USD, &got));
	assert_non_null(money_parse("1", 1, &dot, -1, &got));
	assert_non_null(money_parse("1", 1, &dot, 19, &got));
	assert_non_null(money_parse("1", 1, NULL, USD, &got));
	assert_non_null(money_parse(NULL, 1, &dot, USD, &got));
	assert_non_null(money_parse("1", 1, &dot, USD, NULL));
	assert_true(got == UNTOUCHED);
	assert_string_equal(money_parse(NULL, 0, &dot, USD, &got), R_EMPTY);
}

/* Each kind of failure has its own reason, so a report can say what is wrong. */
static void test_money_reasons_are_distinct(void **state)
{
	const char *reasons[] = {
		R_EMPTY, R_NOT_NUMBER, R_TWO_SIGNS, R_SIGN_ONLY, R_SIGN_LATE, R_EDGE_SPACE,
		R_INNER_SPACE, R_NON_ASCII, R_NO_INT, R_NO_FRAC, R_TWO_MARKS, R_SEP_IN_FRAC,
		R_MISPLACED, R_UNDECLARED, R_EXTRA, R_OVERFLOW, R_IMPLIED_MARK,
	};
	size_t n = sizeof reasons / sizeof reasons[0];
	size_t i, j;

	(void)state;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			assert_string_not_equal(reasons[i], reasons[j]);
}

static void test_money_format_writes_exact_decimals(void **state)
{
	(void)state;
	check_formats(0, 2, "0.00");
	check_formats(5, 2, "0.05");
	check_formats(-5, 2, "-0.05");
	check_formats(1234, 2, "12.34");
	check_formats(-1234, 2, "-12.34");
	check_formats(1234, 0, "1234");
	check_formats(0, 0, "0");
	check_formats(-7, 0, "-7");
	check_formats(7, 3, "0.007");
	check_formats(-7, 3, "-0.007");
	check_formats(1000, 3, "1.000");
	check_formats(5, 4, "0.0005");
	check_formats(100, 2, "1.00");
}

static void test_money_format_handles_int64_extremes(void **state)
{
	(void)state;
	check_formats(INT64_MAX, 2, "92233720368547758.07");
	check_formats(INT64_MIN, 2, "-92233720368547758.08");
	check_formats(INT64_MAX, 0, "9223372036854775807");
	check_formats(INT64_MIN, 0, "-9223372036854775808");
	check_formats(INT64_MIN, 18, "-9.223372036854775808");
	check_formats(1, 18, "0.000000000000000001");
	check_formats(-1, 18, "-0.000000000000000001");
}

/* The currency's ISO 4217 digits; an unknown code is refused, not guessed. */
static void test_money_format_currency_uses_its_exponent(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(money_format_currency(-1234, "USD", buf, sizeof(buf)), 6);
	assert_string_equal(buf, "-12.34");
	assert_int_equal(money_format_currency(1234, "JPY", buf, sizeof(buf)), 4);
	assert_string_equal(buf, "1234");
	assert_int_equal(money_format_currency(5, "KWD", buf, sizeof(buf)), 5);
	assert_string_equal(buf, "0.005");
	assert_int_equal(money_format_currency(5, "XXX", buf, sizeof(buf)), -1);
	assert_int_equal(money_format_currency(123456, "USD", buf, 4), -1);
}

static void test_money_format_rejects_small_buffer(void **state)
{
	char buf[8];

	(void)state;
	memset(buf, 'x', sizeof buf);
	assert_int_equal(money_format(1234, 2, buf, 5), -1);     /* "12.34" needs 6 */
	assert_string_equal(buf, "");
	assert_int_equal(money_format(1234, 2, buf, 6), 5);
	assert_string_equal(buf, "12.34");
	assert_int_equal(money_format(-1234, 2, buf, 6), -1);
	assert_int_equal(money_format(0, 0, buf, 1), -1);
	assert_int_equal(money_format(0, 0, buf, 2), 1);
	assert_string_equal(buf, "0");
	memset(buf, 'x', sizeof buf);
	assert_int_equal(money_format(1, 2, buf, 0), -1);
	assert_true(buf[0] == 'x');                               /* size 0: nothing written */
	assert_int_equal(money_format(1, 2, NULL, 32), -1);
	assert_int_equal(money_format(1, -1, buf, sizeof buf), -1);
	assert_int_equal(money_format(1, 19, buf, sizeof buf), -1);
}

/* Whatever money_format writes, money_parse reads back to the same value. */
static void test_money_format_round_trips_through_parse(void **state)
{
	static const int64_t values[] = {
		0, 1, -1, 9, 10, 99, 100, 101, 1234, -1234, 100000, 999999999,
		INT64_C(123456789012345), INT64_MAX, -INT64_MAX, INT64_MAX - 1,
	};
	int exponent;
	size_t i;

	(void)state;
	for (exponent = 0; exponent <= 4; exponent++) {
		for (i = 0; i < sizeof values / sizeof values[0]; i++) {
			char buf[32];
			int n = money_format(values[i], exponent, buf, sizeof buf);
			int64_t back = 0;
			const char *why;

			assert_true(n > 0);
			why = money_parse(buf, (size_t)n, &dot, exponent, &back);
			if (why != NULL)
				fail_msg("\"%s\" (exponent %d) rejected: %s", buf, exponent, why);
			if (back != values[i])
				fail_msg("%" PRId64 " -> \"%s\" -> %" PRId64, values[i], buf, back);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_money_parses_cents),
		cmocka_unit_test(test_money_accepts_plus_sign),
		cmocka_unit_test(test_money_returns_minus_sign_as_negative),
		cmocka_unit_test(test_money_pads_short_fraction),
		cmocka_unit_test(test_money_scales_integer_without_fraction),
		cmocka_unit_test(test_money_accepts_dot_grouping_with_comma_decimal),
		cmocka_unit_test(test_money_accepts_comma_grouping_with_dot_decimal),
		cmocka_unit_test(test_money_accepts_space_and_apostrophe_grouping),
		cmocka_unit_test(test_money_accepts_trailing_zero_digits),
		cmocka_unit_test(test_money_rejects_extra_digits),
		cmocka_unit_test(test_money_handles_zero_exponent_currency),
		cmocka_unit_test(test_money_handles_three_digit_currency),
		cmocka_unit_test(test_money_rejects_misplaced_grouping),
		cmocka_unit_test(test_money_rejects_undeclared_grouping),
		cmocka_unit_test(test_money_rejects_separator_in_fraction),
		cmocka_unit_test(test_money_rejects_two_decimal_marks),
		cmocka_unit_test(test_money_rejects_two_signs),
		cmocka_unit_test(test_money_rejects_sign_after_digits),
		cmocka_unit_test(test_money_rejects_exponent_hex_nan_inf),
		cmocka_unit_test(test_money_rejects_full_width_digits),
		cmocka_unit_test(test_money_rejects_spaces),
		cmocka_unit_test(test_money_rejects_empty_sign_only_and_lone_mark),
		cmocka_unit_test(test_money_rejects_missing_integer_or_fraction_digits),
		cmocka_unit_test(test_money_rejects_overflow),
		cmocka_unit_test(test_money_accepts_int64_max_in_cents),
		cmocka_unit_test(test_money_rejects_one_past_int64_max),
		cmocka_unit_test(test_money_rejects_int64_min_magnitude),
		cmocka_unit_test(test_money_reports_syntax_before_overflow),
		cmocka_unit_test(test_money_implied_decimals_takes_minor_units),
		cmocka_unit_test(test_money_implied_decimals_rejects_decimal_mark),
		cmocka_unit_test(test_money_reads_only_len_bytes),
		cmocka_unit_test(test_money_rejects_bad_format_and_arguments),
		cmocka_unit_test(test_money_reasons_are_distinct),
		cmocka_unit_test(test_money_format_writes_exact_decimals),
		cmocka_unit_test(test_money_format_handles_int64_extremes),
		cmocka_unit_test(test_money_format_rejects_small_buffer),
		cmocka_unit_test(test_money_format_currency_uses_its_exponent),
		cmocka_unit_test(test_money_format_round_trips_through_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
