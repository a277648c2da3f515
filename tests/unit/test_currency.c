/*
 * test_currency.c - pins the ISO 4217 table and its lookup (engine/currency.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "currency.h"

static int lookup(const char *code)
{
	return currency_exponent(code, strlen(code), NULL);
}

/* bsearch needs strict byte order; a duplicate or a misplaced entry fails here. */
static void test_currency_table_is_sorted_without_duplicates(void **state)
{
	size_t count = 0;
	const struct currency_entry *table = currency_table(&count);
	size_t i;

	(void)state;
	assert_non_null(table);
	assert_true(count > 150);
	for (i = 1; i < count; i++) {
		if (memcmp(table[i - 1].code, table[i].code, sizeof table[i].code) >= 0)
			fail_msg("table out of order or duplicated at %zu: %s then %s",
				 i, table[i - 1].code, table[i].code);
	}
}

static void test_currency_table_entries_are_well_formed(void **state)
{
	size_t count = 0;
	const struct currency_entry *table = currency_table(&count);
	size_t i, k;

	(void)state;
	for (i = 0; i < count; i++) {
		for (k = 0; k < 3; k++) {
			if (table[i].code[k] < 'A' || table[i].code[k] > 'Z')
				fail_msg("entry %zu: code is not 3 upper-case letters", i);
		}
		if (table[i].code[3] != '\0')
			fail_msg("entry %zu (%.3s): code not NUL-terminated", i, table[i].code);
		if (table[i].exponent < 0 || table[i].exponent > 4)
			fail_msg("%s: exponent %d outside 0..4", table[i].code, table[i].exponent);
	}
}

/* Every entry of the table can be found again, lower-cased too. */
static void test_currency_finds_every_table_entry(void **state)
{
	size_t count = 0;
	const struct currency_entry *table = currency_table(&count);
	size_t i;

	(void)state;
	for (i = 0; i < count; i++) {
		char lower[4];
		char canon[4] = "???";
		size_t k;

		for (k = 0; k < 3; k++)
			lower[k] = (char)(table[i].code[k] - 'A' + 'a');
		lower[3] = '\0';
		assert_int_equal(currency_exponent(table[i].code, 3, NULL), table[i].exponent);
		assert_int_equal(currency_exponent(lower, 3, canon), table[i].exponent);
		assert_string_equal(canon, table[i].code);
	}
}

static void test_currency_lookup_ignores_ascii_case(void **state)
{
	(void)state;
	assert_int_equal(lookup("usd"), 2);
	assert_int_equal(lookup("USD"), 2);
	assert_int_equal(lookup("Usd"), 2);
	assert_int_equal(lookup("uSd"), 2);
}

static void test_currency_writes_upper_case_canon(void **state)
{
	char canon[4] = "???";

	(void)state;
	assert_int_equal(currency_exponent("eUr", 3, canon), 2);
	assert_string_equal(canon, "EUR");
	assert_int_equal(currency_exponent("kwd", 3, canon), 3);
	assert_string_equal(canon, "KWD");
	/* Unknown code: canon is left as it was. */
	memcpy(canon, "---", 4);
	assert_int_equal(currency_exponent("xxx", 3, canon), -1);
	assert_string_equal(canon, "---");
}

static void test_currency_knows_zero_digit_currencies(void **state)
{
	static const char *const zero[] = {
		"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "XPF", "KMF",
		"PYG", "RWF", "DJF", "GNF", "VUV", "BIF", "UYI",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof zero / sizeof zero[0]; i++) {
		if (lookup(zero[i]) != 0)
			fail_msg("%s: exponent %d, want 0", zero[i], lookup(zero[i]));
	}
}

static void test_currency_knows_two_three_and_four_digit_currencies(void **state)
{
	static const char *const two[] = { "USD", "EUR", "CNY", "GBP", "CHF", "INR", "BRL" };
	static const char *const three[] = { "KWD", "BHD", "JOD", "OMR", "TND", "LYD", "IQD" };
	static const char *const four[] = { "CLF", "UYW" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof two / sizeof two[0]; i++)
		assert_int_equal(lookup(two[i]), 2);
	for (i = 0; i < sizeof three / sizeof three[0]; i++)
		assert_int_equal(lookup(three[i]), 3);
	for (i = 0; i < sizeof four / sizeof four[0]; i++)
		assert_int_equal(lookup(four[i]), 4);
	assert_int_equal(lookup("JPY"), 0);
}

/* Codes whose ISO minor unit is "N.A.", and withdrawn codes, are unknown. */
static void test_currency_rejects_codes_without_minor_unit(void **state)
{
	static const char *const absent[] = {
		"XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XDR", "XBA", "XBB", "XBC",
		"XBD", "XSU", "XUA", "HRK", "SLL", "ZWL",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof absent / sizeof absent[0]; i++) {
		if (lookup(absent[i]) != -1)
			fail_msg("%s should be unknown", absent[i]);
	}
}

static void test_currency_rejects_unknown_and_wrong_length(void **state)
{
	(void)state;
	assert_int_equal(lookup("ABC"), -1);
	assert_int_equal(lookup("US"), -1);
	assert_int_equal(lookup("USDD"), -1);
	assert_int_equal(lookup(""), -1);
	assert_int_equal(lookup("US "), -1);
	assert_int_equal(lookup(" US"), -1);
	assert_int_equal(lookup("U5D"), -1);
	assert_int_equal(currency_exponent("USD", 2, NULL), -1);
	assert_int_equal(currency_exponent("US\0", 3, NULL), -1);
	assert_int_equal(currency_exponent(NULL, 3, NULL), -1);
	/* Only the first LEN bytes count. */
	assert_int_equal(currency_exponent("USDX", 3, NULL), 2);
}

static void test_currency_rejects_look_alike_letters(void **state)
{
	(void)state;
	/* "UЅD" with U+0405 CYRILLIC CAPITAL LETTER DZE: 4 bytes in UTF-8. */
	assert_int_equal(lookup("U\xd0\x85" "D"), -1);
	/* The same bytes cut to length 3 must not fold to a letter either. */
	assert_int_equal(currency_exponent("U\xd0\x85" "D", 3, NULL), -1);
	/* Full-width "ＵＳＤ". */
	assert_int_equal(lookup("\xef\xbc\xb5\xef\xbc\xb3\xef\xbc\xa4"), -1);
	/* Latin-1 0xD5 and 0xF5 (Õ, õ), which a locale case table may fold. */
	assert_int_equal(currency_exponent("\xd5SD", 3, NULL), -1);
	assert_int_equal(currency_exponent("\xf5sd", 3, NULL), -1);
	/* Bytes just outside the letter ranges: '@' '[' '`' '{'. */
	assert_int_equal(lookup("@SD"), -1);
	assert_int_equal(lookup("[SD"), -1);
	assert_int_equal(lookup("`SD"), -1);
	assert_int_equal(lookup("{SD"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_currency_table_is_sorted_without_duplicates),
		cmocka_unit_test(test_currency_table_entries_are_well_formed),
		cmocka_unit_test(test_currency_finds_every_table_entry),
		cmocka_unit_test(test_currency_lookup_ignores_ascii_case),
		cmocka_unit_test(test_currency_writes_upper_case_canon),
		cmocka_unit_test(test_currency_knows_zero_digit_currencies),
		cmocka_unit_test(test_currency_knows_two_three_and_four_digit_currencies),
		cmocka_unit_test(test_currency_rejects_codes_without_minor_unit),
		cmocka_unit_test(test_currency_rejects_unknown_and_wrong_length),
		cmocka_unit_test(test_currency_rejects_look_alike_letters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
