/*
 * currency.h - the ISO 4217 table: alphabetic code -> minor-unit exponent.
 *
 * The table (currency.c) is a sorted static const array looked up with bsearch.
 * It holds every active ISO 4217 currency that has a defined minor unit; codes
 * without one (XXX, XTS, precious metals, fund codes without minor unit) are absent,
 * so they are rejected as unknown.
 */
#ifndef RECON_CURRENCY_H
#define RECON_CURRENCY_H

#include <stddef.h>

/*
 * Look up a three-letter code, case-insensitively (ASCII letters only: full-width
 * or other look-alike letters never match).  Returns the exponent (0..4) and, if
 * CANON is not NULL, writes the upper-case code and a NUL into CANON[4].
 * Returns -1 for anything that is not a known code of exactly 3 letters.
 */
int currency_exponent(const char *code, size_t len, char canon[4]);

/* For tests: the table and its length, so that order and uniqueness can be checked. */
struct currency_entry {
	char code[4];
	int exponent;
};
const struct currency_entry *currency_table(size_t *count);

#endif
