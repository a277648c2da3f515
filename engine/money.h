/*
 * money.h - decimal text to int64 minor units, exactly.
 *
 * Money is never a floating-point number in recon.  An amount is parsed from its
 * decimal text straight into an integer count of the currency's minor units, using
 * the currency's ISO 4217 exponent (currency.h), and printed back the same way.
 */
#ifndef RECON_MONEY_H
#define RECON_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* How the amount text of one column is written. */
struct money_format {
	char decimal_mark;   /* '.' or ',' */
	char thousands_sep;  /* 0 for none, else '.', ',', ' ' or '\'' */
	int implied_decimals; /* non-zero: the text is already in minor units ("1234" = 12.34) */
};

/*
 * Parse LEN bytes at TEXT as an amount with EXPONENT fraction digits.
 *
 * Accepts: one optional leading sign ('+' or '-'); at least one integer digit;
 * thousands separators only if FMT declares one, and then only between correctly
 * sized groups of three digits; a decimal mark followed by one or more digits.
 * Fewer fraction digits than EXPONENT are padded ("45,9" EUR = 4590); more are
 * accepted only when every extra digit is '0' ("0.77000" CNY = 77).
 * Rejects anything else: empty text, spaces, two signs, exponents, hex, NaN,
 * full-width digits, an undeclared grouping character, overflow of int64.
 *
 * On success stores the signed value in *OUT and returns NULL.  On failure
 * returns a static, human-readable reason (e.g. "more fraction digits than the
 * currency allows") and leaves *OUT untouched.  Never allocates.
 */
const char *money_parse(const char *text, size_t len, const struct money_format *fmt,
			int exponent, int64_t *out);

/*
 * Write MINOR as an exact decimal with EXPONENT fraction digits into BUF
 * ("-12.34", "1000", "0.005"); '.' as the decimal mark, no grouping.
 * Returns the length written, or -1 if SIZE is too small (32 bytes always suffice).
 */
int money_format(int64_t minor, int exponent, char *buf, size_t size);

/* The same with the ISO 4217 digits of CURRENCY ("USD", "JPY").  Returns the
 * length written, or -1 for an unknown currency or a too small BUF. */
int money_format_currency(int64_t minor, const char *currency, char *buf, size_t size);

#endif
