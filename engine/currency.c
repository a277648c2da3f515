/*
 * currency.c - the ISO 4217 table: alphabetic code -> minor-unit exponent.
 *
 * Owns the one table of currencies that recon knows.  It is ISO 4217 list one
 * (published 2024-06-25) restricted to the entries with a numeric minor unit,
 * plus XCG (Caribbean guilder, in circulation since 2025-03-31; ANG is kept
 * while the two circulate side by side).  Left out on purpose, so that they are
 * rejected as unknown: XXX and XTS (no currency / testing), the precious metals
 * XAU XAG XPT XPD, XDR, the bond-market units XBA-XBD, XSU and XUA (minor unit
 * "N.A."), and withdrawn codes such as HRK, SLL and ZWL.
 *
 * The array is sorted by code, byte-wise ascending, with no duplicates: lookups
 * use bsearch, and tests/unit/test_currency.c checks the order.  Lookup is
 * case-insensitive for ASCII letters only; the case fold is written out here so
 * that no locale can make a look-alike byte match.
 */
#include "currency.h"

#include <stdlib.h>
#include <string.h>
#include "banned.h"

/* Keep sorted: bsearch relies on it and the unit test enforces it. */
static const struct currency_entry currency_iso4217[] = {
	{"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2},
	{"ARS", 2}, {"AUD", 2}, {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2},
	{"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2},
	{"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2},
	{"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2},
	{"CHW", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2},
	{"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0},
	{"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2},
	{"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2},
	{"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2},
	{"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2},
	{"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0},
	{"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0},
	{"KWD", 3}, {"KYD", 2}, {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2},
	{"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2},
	{"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2},
	{"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2},
	{"NAD", 2}, {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2},
	{"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2},
	{"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2},
	{"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2},
	{"SGD", 2}, {"SHP", 2}, {"SLE", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2},
	{"STN", 2}, {"SVC", 2}, {"SYP", 2}, {"SZL", 2}, {"THB", 2}, {"TJS", 2},
	{"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2}, {"TWD", 2},
	{"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0},
	{"UYU", 2}, {"UYW", 4}, {"UZS", 2}, {"VED", 2}, {"VES", 2}, {"VND", 0},
	{"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2}, {"XCG", 2}, {"XOF", 0},
	{"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
};

#define CURRENCY_COUNT (sizeof currency_iso4217 / sizeof currency_iso4217[0])

/* bsearch comparator: KEY is a 3-byte upper-case code, ELEM a table entry. */
static int currency_compare_code(const void *key, const void *elem)
{
	const struct currency_entry *entry = elem;

	return memcmp(key, entry->code, 3);
}

/*
 * Upper-case the 3 bytes at CODE into UPPER (not NUL-terminated).  Returns 0 if
 * every byte is an ASCII letter, -1 otherwise (digits, punctuation and any byte
 * >= 0x80, so UTF-8 look-alikes and full-width letters never fold to a code).
 */
static int currency_fold_code(const char *code, char upper[3])
{
	int rc = 0;
	size_t i;

	for (i = 0; i < 3; i++) {
		unsigned char c = (unsigned char)code[i];

		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		if (c < 'A' || c > 'Z')
			rc = -1;
		upper[i] = (char)c;
	}
	return rc;
}

/*
 * Look up LEN bytes at CODE (see currency.h).  Returns the exponent (0..4) and,
 * when CANON is not NULL, stores the upper-case code plus NUL in CANON[4].  On
 * failure returns -1 and leaves CANON untouched.
 */
int currency_exponent(const char *code, size_t len, char canon[4])
{
	const struct currency_entry *found = NULL;
	char upper[3];

	if (code != NULL && len == 3 && currency_fold_code(code, upper) == 0)
		found = bsearch(upper, currency_iso4217, CURRENCY_COUNT,
				sizeof currency_iso4217[0], currency_compare_code);
	if (found == NULL)
		return -1;
	if (canon != NULL) {
		memcpy(canon, found->code, 3);
		canon[3] = '\0';
	}
	return found->exponent;
}

/* The table itself, for tests; *COUNT (if COUNT is not NULL) gets its length. */
const struct currency_entry *currency_table(size_t *count)
{
	if (count != NULL)
		*count = CURRENCY_COUNT;
	return currency_iso4217;
}
