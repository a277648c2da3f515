/*
 * money.c - decimal text to int64 minor units and back, exactly.
 *
 * Owns the grammar of an amount in recon: what money_parse accepts, the reason
 * it gives for everything it rejects, and the canonical text money_format
 * writes.  There is no floating point, no allocation and no locale here: digits
 * are accumulated one by one into an unsigned magnitude that is checked against
 * INT64_MAX before every step, so overflow is refused, never wrapped.
 *
 * Range: an accepted amount lies in [-INT64_MAX, INT64_MAX] minor units.  The
 * magnitude of INT64_MIN is refused as an overflow, so every value this module
 * returns can be negated (or have its absolute value taken) without undefined
 * behaviour.  money_format still prints INT64_MIN correctly.
 *
 * Reasons are static strings written for the person who owns the data file;
 * each kind of failure has its own.
 */
#include "money.h"

#include "currency.h"

#include <string.h>
#include "banned.h"

/* Largest exponent handled: 10^18 still fits in int64. */
#define MONEY_MAX_EXPONENT 18

/* The unsigned magnitude being built, and what went wrong that is not syntax. */
struct money_acc {
	uint64_t mag;
	int overflow;  /* the magnitude would exceed INT64_MAX */
	int inexact;   /* a non-zero digit beyond the currency's exponent */
};

/* Append decimal digit D to ACC's magnitude, or note the overflow. */
static void money_push_digit(struct money_acc *acc, unsigned d)
{
	const uint64_t limit = (uint64_t)INT64_MAX;

	if (acc->overflow)
		return;
	if (acc->mag > (limit - d) / 10)
		acc->overflow = 1;
	else
		acc->mag = acc->mag * 10 + d;
}

static int money_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* ASCII white space only: what a stray space or tab around a field looks like. */
static int money_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Check FMT and EXPONENT themselves.  Returns NULL if usable, else the reason:
 * the decimal mark must be '.' or ',', the thousands separator 0, '.', ',', ' '
 * or '\'' and different from the decimal mark; the exponent 0..18.
 */
static const char *money_check_format(const struct money_format *fmt, int exponent)
{
	const char *why = NULL;
	char dec = fmt->decimal_mark;
	char sep = fmt->thousands_sep;

	if (dec != '.' && dec != ',')
		why = "column's amount format has an invalid decimal mark";
	else if (sep != 0 && sep != '.' && sep != ',' && sep != ' ' && sep != '\'')
		why = "column's amount format has an invalid thousands separator";
	else if (sep == dec)
		why = "column's amount format uses the same character for decimals and thousands";
	else if (exponent < 0 || exponent > MONEY_MAX_EXPONENT)
		why = "currency exponent out of range";
	return why;
}

/*
 * The reason for byte C turning up where only a digit may stand.  The integer
 * scanner consumes the decimal mark and a declared separator itself, so here
 * those two can only be met after the decimal mark.
 */
static const char *money_explain_byte(unsigned char c, const struct money_format *fmt)
{
	const char *why;

	if (c >= 0x80)
		why = "amount contains a non-ASCII character (e.g. a full-width digit)";
	else if (c == (unsigned char)fmt->decimal_mark)
		why = "two decimal marks in amount";
	else if (fmt->thousands_sep != 0 && c == (unsigned char)fmt->thousands_sep)
		why = "thousands separator after the decimal mark";
	else if (c == '+' || c == '-')
		why = "sign is not at the start of the amount";
	else if (c == ' ')
		why = "amount has a space inside it";
	else if (c == '.' || c == ',' || c == '\'')
		why = "amount uses a grouping character the column does not declare";
	else
		why = "amount is not a decimal number";
	return why;
}

/*
 * Scan the integer part of TEXT[*POS..LEN) into ACC, stopping at the decimal
 * mark or the end; *POS is left there.  Without a declared separator the part is
 * plain digits.  With one it is either plain digits or 1-3 digits followed by
 * groups of exactly 3 digits, each group preceded by the separator.  At least
 * one digit is required.  Returns NULL or the reason.
 */
static const char *money_scan_integer(const char *text, size_t len, size_t *pos,
				      const struct money_format *fmt, struct money_acc *acc)
{
	const char *why = NULL;
	size_t i = *pos;
	size_t total = 0;   /* integer digits seen */
	size_t group = 0;   /* digits since the last separator (or the start) */
	int grouped = 0;    /* a separator has been seen */

	while (why == NULL && i < len && text[i] != fmt->decimal_mark) {
		unsigned char c = (unsigned char)text[i];

		if (money_is_digit(c)) {
			money_push_digit(acc, (unsigned)(c - '0'));
			total++;
			group++;
		} else if (fmt->thousands_sep != 0 && c == (unsigned char)fmt->thousands_sep) {
			if (group == 0 || group > 3 || (grouped && group != 3))
				why = "misplaced thousands separator";
			grouped = 1;
			group = 0;
		} else {
			why = money_explain_byte(c, fmt);
		}
		i++;
	}
	if (why == NULL && total == 0)
		why = "amount has no digits before the decimal mark";
	else if (why == NULL && grouped && group != 3)
		why = "misplaced thousands separator";
	*pos = i;
	return why;
}

/*
 * Scan the fraction TEXT[*POS..LEN) (just after the decimal mark) into ACC:
 * one or more digits, of which the first SCALE are kept and the rest must be
 * '0' (else ACC->inexact is set).  *NDIGITS gets the number of digits kept.
 * Returns NULL or the reason.
 */
static const char *money_scan_fraction(const char *text, size_t len, size_t pos, size_t scale,
				       const struct money_format *fmt, struct money_acc *acc,
				       size_t *ndigits)
{
	const char *why = NULL;
	size_t n = 0;

	while (why == NULL && pos < len) {
		unsigned char c = (unsigned char)text[pos];

		if (!money_is_digit(c))
			why = money_explain_byte(c, fmt);
		else if (n < scale)
			money_push_digit(acc, (unsigned)(c - '0'));
		else if (c != '0')
			acc->inexact = 1;
		n++;
		pos++;
	}
	if (why == NULL && n == 0)
		why = "amount has no digits after the decimal mark";
	*ndigits = n < scale ? n : scale;
	return why;
}

/*
 * Parse LEN bytes at TEXT as an amount with EXPONENT fraction digits (money.h).
 * With FMT->implied_decimals the text is already a count of minor units: the
 * same sign and grouping rules apply, a decimal mark is refused and EXPONENT
 * is not applied.  Returns NULL and sets *OUT, or returns a static reason and
 * leaves *OUT untouched.  A NULL FMT or OUT, a NULL TEXT with LEN > 0, an
 * invalid FMT or an EXPONENT outside 0..18 are refused with a reason too.
 */
const char *money_parse(const char *text, size_t len, const struct money_format *fmt,
			int exponent, int64_t *out)
{
	struct money_acc acc = { 0, 0, 0 };
	const char *why = NULL;
	size_t scale = 0;   /* fraction digits the result must carry */
	size_t kept = 0;    /* fraction digits taken from the text */
	size_t i = 0;
	int negative = 0;

	if (fmt == NULL || out == NULL || (text == NULL && len != 0)) {
		why = "amount parser called without text, format or result";
		goto reject;
	}
	why = money_check_format(fmt, exponent);
	if (why != NULL)
		goto reject;
	if (!fmt->implied_decimals)
		scale = (size_t)exponent;
	if (len == 0) {
		why = "empty amount";
		goto reject;
	}
	if (money_is_space((unsigned char)text[0]) || money_is_space((unsigned char)text[len - 1])) {
		why = "amount has leading or trailing spaces";
		goto reject;
	}
	if (text[0] == '+' || text[0] == '-') {
		negative = text[0] == '-';
		i = 1;
		if (i == len) {
			why = "amount has a sign but no digits";
			goto reject;
		}
		if (text[i] == '+' || text[i] == '-') {
			why = "two signs in amount";
			goto reject;
		}
	}
	why = money_scan_integer(text, len, &i, fmt, &acc);
	if (why != NULL)
		goto reject;
	if (i < len && fmt->implied_decimals) {
		why = "amount in minor units must not have a decimal mark";
		goto reject;
	}
	if (i < len) {
		why = money_scan_fraction(text, len, i + 1, scale, fmt, &acc, &kept);
		if (why != NULL)
			goto reject;
	}
	for (; kept < scale; kept++)
		money_push_digit(&acc, 0);
	if (acc.inexact) {
		why = "more fraction digits than the currency allows";
		goto reject;
	}
	if (acc.overflow) {
		why = "amount overflows 64-bit minor units";
		goto reject;
	}
	*out = negative ? -(int64_t)acc.mag : (int64_t)acc.mag;
	return NULL;

reject:
	return why;
}

/*
 * Write MINOR with EXPONENT fraction digits into BUF as "-12.34", "1000" or
 * "0.005" (money.h): '.' as the decimal mark, no grouping, a '-' only for
 * negative values, at least one integer digit.  Returns the length written (NUL
 * not counted).  Returns -1, writing "" when SIZE > 0, if BUF is NULL, EXPONENT
 * is outside 0..18 or SIZE is too small; 32 bytes always suffice.
 */
int money_format(int64_t minor, int exponent, char *buf, size_t size)
{
	char tmp[32];          /* the text backwards: at most 1 + 19 + 1 + 18 bytes */
	size_t n = 0;
	size_t k;
	uint64_t mag;
	size_t digits;

	if (buf == NULL || exponent < 0 || exponent > MONEY_MAX_EXPONENT)
		goto fail;
	/* -(minor + 1) cannot overflow, even for INT64_MIN: its magnitude is 2^63. */
	mag = minor < 0 ? (uint64_t)(-(minor + 1)) + 1 : (uint64_t)minor;
	for (digits = 0; mag != 0 || digits <= (size_t)exponent; digits++) {
		if (digits == (size_t)exponent && exponent > 0)
			tmp[n++] = '.';
		tmp[n++] = (char)('0' + (int)(mag % 10));
		mag /= 10;
	}
	if (minor < 0)
		tmp[n++] = '-';
	if (size < n + 1)
		goto fail;
	for (k = 0; k < n; k++)
		buf[k] = tmp[n - 1 - k];
	buf[n] = '\0';
	return (int)n;

fail:
	if (buf != NULL && size > 0)
		buf[0] = '\0';
	return -1;
}

int money_format_currency(int64_t minor, const char *currency, char *buf, size_t size)
{
	int exp = currency_exponent(currency, strlen(currency), NULL);

	return exp < 0 ? -1 : money_format(minor, exp, buf, size);
}
