/*
 * timeparse.c - date/time text plus a time zone -> UTC instant (see timeparse.h).
 *
 * This module owns:
 *   - the small strptime-like format language of timeparse.h ("%Y-%m-%d",
 *     "iso8601", ...), its validation and strict parsing.  strptime(3) is not
 *     used: it accepts out-of-range fields, has no fractional seconds and does not
 *     take 'Z' as an offset (timeparse.h);
 *   - the civil calendar arithmetic, done with Howard Hinnant's days_from_civil /
 *     civil_from_days in int64 (no timegm/mktime, no floating point);
 *   - the process's TZ environment variable.  Local readings are resolved with the
 *     system tz database through glibc: the zone is selected with setenv("TZ") and
 *     tzset() and the offsets read back with localtime_r().tm_gmtoff.  The selected
 *     zone name is cached so that setenv/tzset only run when the zone changes (this
 *     is called once per CSV row).  Nothing is restored afterwards, so no other
 *     module may rely on TZ or on localtime(); and, like TZ itself, this part is not
 *     thread-safe.
 *
 * Parsing never allocates.  Every failure is reported as a static reason string
 * worded for a finance user, and leaves the caller's outputs untouched.
 */
#include "timeparse.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "banned.h"

#define US_PER_SEC		INT64_C(1000000)
#define SEC_PER_DAY		INT64_C(86400)
#define MAX_OFFSET_SECONDS	(14 * 3600)
#define ZONE_NAME_MAX		256
#define DEFAULT_TZDIR		"/usr/share/zoneinfo"
#define ISO8601_NAME		"iso8601"
#define ISO8601_FORMAT		"%Y-%m-%dT%H:%M:%S%f%z"

/* Reasons about the text. */
static const char R_EMPTY[] = "no date given";
static const char R_MISMATCH[] = "does not match the date format";
static const char R_TRAILING[] = "does not match the date format (extra characters at the end)";
static const char R_FRACTION[] = "fraction of a second has more than 9 digits";
static const char R_DATE[] = "impossible date";
static const char R_HOUR24[] = "hour 24 is not accepted";
static const char R_LEAP[] = "leap second is not accepted";
static const char R_TIME[] = "impossible time of day";
static const char R_BAD_OFFSET[] = "malformed UTC offset";
static const char R_OFFSET_RANGE[] = "UTC offset out of range";
/* Reasons about the zone. */
static const char R_GAP[] = "local time does not exist in the time zone";
static const char R_ZONE[] = "unknown time zone";
static const char R_ZONE_SET[] = "could not select the time zone";
static const char R_RANGE[] = "date out of range";
/* Reasons about the format. */
static const char R_FMT_NONE[] = "no date format given";
static const char R_FMT_LONE[] = "date format ends with a lone %";
static const char R_FMT_TOKEN[] =
	"unknown token in the date format (known: %Y %y %m %-m %d %-d %H %-H %M %S %f %z %%)";
static const char R_FMT_TWICE[] = "date format gives the same field twice";
static const char R_FMT_YEAR[] = "date format has no year (%Y or %y)";
static const char R_FMT_MONTH[] = "date format has no month (%m or %-m)";
static const char R_FMT_DAY[] = "date format has no day (%d or %-d)";
static const char R_FMT_MINUTE[] = "date format has minutes (%M) without hours (%H)";
static const char R_FMT_SECOND[] = "date format has seconds (%S) without minutes (%M)";
static const char R_FMT_FRACTION[] = "date format has a fraction (%f) without seconds (%S)";

/* ---- calendar arithmetic ------------------------------------------------ */

/* Split A into floor(A / B) and the remainder in [0, B), for B > 0. */
static void floor_divmod(int64_t a, int64_t b, int64_t *quot, int64_t *rem)
{
	int64_t q = a / b;
	int64_t r = a % b;

	if (r < 0) {
		r += b;
		q--;
	}
	*quot = q;
	*rem = r;
}

/* Howard Hinnant's days_from_civil, proleptic Gregorian, 1970-01-01 = 0. */
int64_t timeparse_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t mm = (int64_t)m;
	int64_t era, yoe, doy, doe;

	y -= mm <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;                                    /* [0, 399] */
	doy = (153 * (mm > 2 ? mm - 3 : mm + 9) + 2) / 5 + (int64_t)d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

/* Howard Hinnant's civil_from_days, the inverse of the above. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;                                 /* [0, 146096] */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);          /* [0, 365] */
	mp = (5 * doy + 2) / 153;                               /* [0, 11] */
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int is_leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && is_leap_year(y))
		return 29;
	return days[m - 1];
}

/* ---- the format language ------------------------------------------------- */

enum token {
	TOK_END,
	TOK_LITERAL,
	TOK_YEAR4,
	TOK_YEAR2,
	TOK_MONTH,
	TOK_MONTH_VAR,
	TOK_DAY,
	TOK_DAY_VAR,
	TOK_HOUR,
	TOK_HOUR_VAR,
	TOK_MINUTE,
	TOK_SECOND,
	TOK_FRACTION,
	TOK_OFFSET
};

/* Which field a token fills, so that a format can be checked for completeness. */
enum field_bit {
	F_YEAR = 1u << 0,
	F_MONTH = 1u << 1,
	F_DAY = 1u << 2,
	F_HOUR = 1u << 3,
	F_MINUTE = 1u << 4,
	F_SECOND = 1u << 5,
	F_FRACTION = 1u << 6,
	F_OFFSET = 1u << 7
};

static unsigned field_of(enum token tok)
{
	switch (tok) {
	case TOK_YEAR4:
	case TOK_YEAR2:
		return F_YEAR;
	case TOK_MONTH:
	case TOK_MONTH_VAR:
		return F_MONTH;
	case TOK_DAY:
	case TOK_DAY_VAR:
		return F_DAY;
	case TOK_HOUR:
	case TOK_HOUR_VAR:
		return F_HOUR;
	case TOK_MINUTE:
		return F_MINUTE;
	case TOK_SECOND:
		return F_SECOND;
	case TOK_FRACTION:
		return F_FRACTION;
	case TOK_OFFSET:
		return F_OFFSET;
	case TOK_END:
	case TOK_LITERAL:
		break;
	}
	return 0;
}

/* The format text that FORMAT stands for ("iso8601" is an alias). */
static const char *resolve_format(const char *format)
{
	if (format != NULL && strcmp(format, ISO8601_NAME) == 0)
		return ISO8601_FORMAT;
	return format;
}

/*
 * Read the token at *FMT into *TOK (and *LITERAL for TOK_LITERAL) and advance
 * past it.  Returns NULL, or the reason the format is unusable.
 */
static const char *next_token(const char **fmt, enum token *tok, char *literal)
{
	const char *f = *fmt;
	const char *why = NULL;
	enum token t = TOK_LITERAL;

	if (*f == '\0') {
		*tok = TOK_END;
		return NULL;
	}
	if (*f != '%') {
		*literal = *f;
		*fmt = f + 1;
		*tok = TOK_LITERAL;
		return NULL;
	}
	f++;
	switch (*f) {
	case '\0': why = R_FMT_LONE; goto fail;
	case '%': *literal = '%'; t = TOK_LITERAL; break;
	case 'Y': t = TOK_YEAR4; break;
	case 'y': t = TOK_YEAR2; break;
	case 'm': t = TOK_MONTH; break;
	case 'd': t = TOK_DAY; break;
	case 'H': t = TOK_HOUR; break;
	case 'M': t = TOK_MINUTE; break;
	case 'S': t = TOK_SECOND; break;
	case 'f': t = TOK_FRACTION; break;
	case 'z': t = TOK_OFFSET; break;
	case '-':
		f++;
		switch (*f) {
		case 'm': t = TOK_MONTH_VAR; break;
		case 'd': t = TOK_DAY_VAR; break;
		case 'H': t = TOK_HOUR_VAR; break;
		default: why = R_FMT_TOKEN; goto fail;
		}
		break;
	default: why = R_FMT_TOKEN; goto fail;
	}
	*fmt = f + 1;
	*tok = t;
	return NULL;
fail:
	return why;
}

/*
 * Validate the (already resolved) format F and report in *SEEN which fields it
 * fills.
 */
static const char *scan_format(const char *f, unsigned *seen)
{
	const char *why = NULL;
	unsigned bits = 0, bit;
	enum token tok;
	char lit;

	if (f == NULL || *f == '\0') {
		why = R_FMT_NONE;
		goto fail;
	}
	for (;;) {
		if ((why = next_token(&f, &tok, &lit)) != NULL)
			goto fail;
		if (tok == TOK_END)
			break;
		bit = field_of(tok);
		if (bit & bits) {
			why = R_FMT_TWICE;
			goto fail;
		}
		bits |= bit;
	}
	if (!(bits & F_YEAR))
		why = R_FMT_YEAR;
	else if (!(bits & F_MONTH))
		why = R_FMT_MONTH;
	else if (!(bits & F_DAY))
		why = R_FMT_DAY;
	else if ((bits & F_MINUTE) && !(bits & F_HOUR))
		why = R_FMT_MINUTE;
	else if ((bits & F_SECOND) && !(bits & F_MINUTE))
		why = R_FMT_SECOND;
	else if ((bits & F_FRACTION) && !(bits & F_SECOND))
		why = R_FMT_FRACTION;
	if (why != NULL)
		goto fail;
	*seen = bits;
	return NULL;
fail:
	return why;
}

const char *timeparse_check_format(const char *format)
{
	unsigned seen;

	return scan_format(resolve_format(format), &seen);
}

/* ---- scanning the text ---------------------------------------------------- */

/* What the text said, field by field, before validation. */
struct fields {
	int64_t year;
	int month;
	int day;
	int hour;
	int minute;
	int second;
	int64_t frac_us;
	int has_offset;
	int offset_seconds;
};

/* ASCII digits only: never isdigit(), which depends on the locale. */
static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int two_digits_at(const char *s, size_t len, size_t p)
{
	return p + 2 <= len && is_digit(s[p]) && is_digit(s[p + 1]);
}

static int two_digit_value(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Read MIN to MAX ASCII digits at *POS into *VALUE (MAX <= 4). */
static const char *take_number(const char *s, size_t len, size_t *pos, int min, int max,
			       int *value)
{
	const char *why = NULL;
	size_t p = *pos;
	int n = 0, v = 0;

	while (n < max && p < len && is_digit(s[p])) {
		v = v * 10 + (s[p] - '0');
		p++;
		n++;
	}
	if (n < min) {
		why = R_MISMATCH;
		goto fail;
	}
	*pos = p;
	*value = v;
	return NULL;
fail:
	return why;
}

/*
 * An optional fraction at *POS: '.' or ',' then 1-9 digits, kept to the
 * microsecond (further digits are dropped, not rounded).  A mark that is not
 * followed by a digit is not a fraction and is left for the rest of the format.
 */
static const char *take_fraction(const char *s, size_t len, size_t *pos, int64_t *frac_us)
{
	const char *why = NULL;
	size_t p = *pos;
	int64_t v = 0;
	int n = 0, scale;

	if (p + 1 >= len || (s[p] != '.' && s[p] != ',') || !is_digit(s[p + 1]))
		return NULL;
	p++;
	while (p < len && is_digit(s[p])) {
		if (++n > 9) {
			why = R_FRACTION;
			goto fail;
		}
		if (n <= 6)
			v = v * 10 + (s[p] - '0');
		p++;
	}
	for (scale = n; scale < 6; scale++)
		v *= 10;
	*pos = p;
	*frac_us = v;
	return NULL;
fail:
	return why;
}

/*
 * An offset at *POS, which must be 'Z', 'z', '+' or '-': "Z", "+hh:mm", "+hhmm"
 * or "+hh", within -14:00..+14:00 and with minutes 00-59.
 */
static const char *take_offset(const char *s, size_t len, size_t *pos, int *seconds)
{
	const char *why = NULL;
	size_t p = *pos;
	int sign, hh, mm = 0;

	if (s[p] == 'Z' || s[p] == 'z') {
		*pos = p + 1;
		*seconds = 0;
		return NULL;
	}
	sign = s[p] == '-' ? -1 : 1;
	p++;
	if (!two_digits_at(s, len, p)) {
		why = R_BAD_OFFSET;
		goto fail;
	}
	hh = two_digit_value(s + p);
	p += 2;
	if (p < len && s[p] == ':') {
		if (!two_digits_at(s, len, p + 1)) {
			why = R_BAD_OFFSET;
			goto fail;
		}
		mm = two_digit_value(s + p + 1);
		p += 3;
	} else if (two_digits_at(s, len, p)) {
		mm = two_digit_value(s + p);
		p += 2;
	}
	if (mm > 59 || hh * 3600 + mm * 60 > MAX_OFFSET_SECONDS) {
		why = R_OFFSET_RANGE;
		goto fail;
	}
	*pos = p;
	*seconds = sign * (hh * 3600 + mm * 60);
	return NULL;
fail:
	return why;
}

/* Match one token of the format against the text at *POS. */
static const char *match_token(enum token tok, char lit, const char *s, size_t len,
			      size_t *pos, struct fields *fl)
{
	const char *why = NULL;
	int v = 0;

	switch (tok) {
	case TOK_LITERAL:
		if (*pos >= len || (s[*pos] != lit && !(lit == 'T' && s[*pos] == ' ')))
			why = R_MISMATCH;
		else
			(*pos)++;
		break;
	case TOK_YEAR4:
		if ((why = take_number(s, len, pos, 4, 4, &v)) == NULL)
			fl->year = v;
		break;
	case TOK_YEAR2:
		if ((why = take_number(s, len, pos, 2, 2, &v)) == NULL)
			fl->year = 2000 + v;
		break;
	case TOK_MONTH:
		why = take_number(s, len, pos, 2, 2, &fl->month);
		break;
	case TOK_MONTH_VAR:
		why = take_number(s, len, pos, 1, 2, &fl->month);
		break;
	case TOK_DAY:
		why = take_number(s, len, pos, 2, 2, &fl->day);
		break;
	case TOK_DAY_VAR:
		why = take_number(s, len, pos, 1, 2, &fl->day);
		break;
	case TOK_HOUR:
		why = take_number(s, len, pos, 2, 2, &fl->hour);
		break;
	case TOK_HOUR_VAR:
		why = take_number(s, len, pos, 1, 2, &fl->hour);
		break;
	case TOK_MINUTE:
		why = take_number(s, len, pos, 2, 2, &fl->minute);
		break;
	case TOK_SECOND:
		why = take_number(s, len, pos, 2, 2, &fl->second);
		break;
	case TOK_FRACTION:
		why = take_fraction(s, len, pos, &fl->frac_us);
		break;
	case TOK_OFFSET:
		if (*pos < len && (s[*pos] == 'Z' || s[*pos] == 'z' || s[*pos] == '+' ||
				   s[*pos] == '-')) {
			why = take_offset(s, len, pos, &fl->offset_seconds);
			fl->has_offset = why == NULL;
		}
		break;
	case TOK_END:
		break;
	}
	return why;
}

/* Reject impossible dates and times instead of normalising them. */
static const char *check_fields(const struct fields *fl)
{
	const char *why = NULL;

	if (fl->month < 1 || fl->month > 12 || fl->day < 1 ||
	    fl->day > days_in_month(fl->year, fl->month))
		why = R_DATE;
	else if (fl->hour == 24)
		why = R_HOUR24;
	else if (fl->hour > 24 || fl->minute > 59)
		why = R_TIME;
	else if (fl->second == 60)
		why = R_LEAP;
	else if (fl->second > 60)
		why = R_TIME;
	return why;
}

const char *timeparse_parse(const char *text, size_t len, const char *format,
			    struct time_parts *out)
{
	const char *f = resolve_format(format);
	const char *why = NULL;
	struct fields fl = { 0 };
	size_t pos = 0;
	unsigned seen = 0;
	enum token tok;
	char lit = 0;
	int64_t days, secs;

	if ((why = scan_format(f, &seen)) != NULL)
		goto fail;
	if (text == NULL || len == 0) {
		why = R_EMPTY;
		goto fail;
	}
	for (;;) {
		if ((why = next_token(&f, &tok, &lit)) != NULL)
			goto fail;
		if (tok == TOK_END)
			break;
		if ((why = match_token(tok, lit, text, len, &pos, &fl)) != NULL)
			goto fail;
	}
	if (pos != len) {
		why = R_TRAILING;
		goto fail;
	}
	if ((why = check_fields(&fl)) != NULL)
		goto fail;
	days = timeparse_days_from_civil(fl.year, (unsigned)fl.month, (unsigned)fl.day);
	secs = days * SEC_PER_DAY + fl.hour * 3600 + fl.minute * 60 + fl.second;
	out->local_us = secs * US_PER_SEC + fl.frac_us;
	out->has_offset = fl.has_offset;
	out->offset_seconds = fl.has_offset ? fl.offset_seconds : 0;
	out->has_time = (seen & (F_HOUR | F_MINUTE | F_SECOND)) != 0;
	return NULL;
fail:
	return why;
}

const char *timeparse_parse_offset(const char *text, size_t len, int *offset_seconds)
{
	const char *why = NULL;
	size_t pos = 0;
	int off = 0;

	if (text == NULL || len == 0) {
		why = R_BAD_OFFSET;
		goto fail;
	}
	if (len == 3 && memcmp(text, "UTC", 3) == 0) {
		*offset_seconds = 0;
		return NULL;
	}
	if (text[0] != 'Z' && text[0] != 'z' && text[0] != '+' && text[0] != '-') {
		why = R_BAD_OFFSET;
		goto fail;
	}
	if ((why = take_offset(text, len, &pos, &off)) != NULL)
		goto fail;
	if (pos != len) {
		why = R_BAD_OFFSET;
		goto fail;
	}
	*offset_seconds = off;
	return NULL;
fail:
	return why;
}

/* ---- time zones ----------------------------------------------------------- */

/* The zone TZ was last set to by this module; "" before the first time. */
static char zone_selected[ZONE_NAME_MAX];

/* Zones that are plain UTC: resolved without the tz database. */
static int is_utc_zone(const char *zone)
{
	return strcmp(zone, "UTC") == 0 || strcmp(zone, "Etc/UTC") == 0;
}

int timeparse_zone_exists(const char *zone)
{
	char path[PATH_MAX];
	char magic[4];
	const char *dir;
	struct stat st;
	int fd = -1, ok = 0, n;

	if (zone == NULL || zone[0] == '\0' || zone[0] == '/' || strstr(zone, "..") != NULL)
		goto out;
	if (is_utc_zone(zone)) {
		ok = 1;
		goto out;
	}
	/* The same directory glibc reads the zone from. */
	dir = getenv("TZDIR");
	if (dir == NULL || dir[0] == '\0')
		dir = DEFAULT_TZDIR;
	n = snprintf(path, sizeof path, "%s/%s", dir, zone);
	if (n < 0 || (size_t)n >= sizeof path)
		goto out;
	/* O_NONBLOCK: a FIFO planted in the directory must not hang the job. */
	fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	if (read(fd, magic, sizeof magic) != (ssize_t)sizeof magic)
		goto out;
	ok = memcmp(magic, "TZif", sizeof magic) == 0;
out:
	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * Make ZONE the zone localtime_r() works in.  setenv/tzset only run when the zone
 * differs from the one selected last time (or TZ was changed behind our back); an
 * unknown zone is refused before TZ is touched, since glibc would quietly use UTC.
 */
static const char *select_zone(const char *zone)
{
	const char *why = NULL;
	const char *env = getenv("TZ");
	size_t n;

	if (zone_selected[0] != '\0' && strcmp(zone_selected, zone) == 0 && env != NULL &&
	    strcmp(env, zone) == 0)
		return NULL;
	n = strlen(zone);
	if (n >= sizeof zone_selected || !timeparse_zone_exists(zone)) {
		why = R_ZONE;
		goto fail;
	}
	if (setenv("TZ", zone, 1) != 0) {
		why = R_ZONE_SET;
		goto fail;
	}
	tzset();
	memcpy(zone_selected, zone, n + 1);
	return NULL;
fail:
	return why;
}

/* The UTC offset (seconds east) in effect at instant T in the selected zone. */
static int offset_at(int64_t t, int64_t *offset)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if ((int64_t)tt != t || localtime_r(&tt, &tm) == NULL)
		return -1;
	*offset = (int64_t)tm.tm_gmtoff;
	return 0;
}

const char *timeparse_local_to_utc(int64_t local_us, const char *zone, int64_t *utc_us)
{
	const char *why = NULL;
	int64_t local_s, rem_us, cand[2], off, best = 0;
	int i, nvalid = 0;

	if (zone == NULL || zone[0] == '\0') {
		why = R_ZONE;
		goto fail;
	}
	if (is_utc_zone(zone)) {
		*utc_us = local_us;
		return NULL;
	}
	if ((why = select_zone(zone)) != NULL)
		goto fail;
	floor_divmod(local_us, US_PER_SEC, &local_s, &rem_us);
	/* The offsets around the reading; a transition lies between them if any. */
	if (offset_at(local_s - SEC_PER_DAY, &cand[0]) != 0 ||
	    offset_at(local_s + SEC_PER_DAY, &cand[1]) != 0) {
		why = R_RANGE;
		goto fail;
	}
	for (i = 0; i < 2; i++) {
		int64_t t = local_s - cand[i];

		if (i == 1 && cand[1] == cand[0])
			break;
		if (offset_at(t, &off) != 0) {
			why = R_RANGE;
			goto fail;
		}
		/* Valid if that offset really is in effect then; keep the earlier. */
		if (off == cand[i] && (nvalid++ == 0 || t < best))
			best = t;
	}
	if (nvalid == 0) {
		why = R_GAP;
		goto fail;
	}
	if (best > INT64_MAX / US_PER_SEC - 1 || best < INT64_MIN / US_PER_SEC + 1) {
		why = R_RANGE;
		goto fail;
	}
	*utc_us = best * US_PER_SEC + rem_us;
	return NULL;
fail:
	return why;
}

const char *timeparse_utc_to_local_date(int64_t utc_us, const char *zone, char date[11])
{
	int64_t secs, rem, off = 0, y;
	unsigned m, d;
	const char *why;

	if (zone == NULL || zone[0] == '\0')
		return R_ZONE;
	floor_divmod(utc_us, US_PER_SEC, &secs, &rem);
	if (!is_utc_zone(zone)) {
		if ((why = select_zone(zone)) != NULL)
			return why;
		if (offset_at(secs, &off) != 0)
			return R_RANGE;
	}
	floor_divmod(secs + off, SEC_PER_DAY, &secs, &rem);
	civil_from_days(secs, &y, &m, &d);
	if (y < 0 || y > 9999)
		return R_RANGE;
	snprintf(date, 11, "%04d-%02u-%02u", (int)y, m, d);
	return NULL;
}

const char *timeparse_parse_duration(const char *text, int64_t *us)
{
	int64_t n = 0, unit;
	const char *s = text;

	if (*s < '0' || *s > '9')
		return "expected a duration such as 30m or 48h";
	while (*s >= '0' && *s <= '9') {
		n = n * 10 + (*s++ - '0');
		if (n > 1000000000)
			return "expected a duration such as 30m or 48h";
	}
	switch (*s) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	default: return "expected a duration such as 30m or 48h";
	}
	if (s[1] != '\0')
		return "expected a duration such as 30m or 48h";
	*us = n * unit * 1000000;
	return NULL;
}


/* ---- output --------------------------------------------------------------- */

int timeparse_format_utc(int64_t us, char *buf, size_t size)
{
	int64_t secs, frac, days, sod, y;
	unsigned m, d;
	int hh, mi, ss, n;

	if (buf == NULL || size < 32)
		return -1;
	floor_divmod(us, US_PER_SEC, &secs, &frac);
	floor_divmod(secs, SEC_PER_DAY, &days, &sod);
	civil_from_days(days, &y, &m, &d);
	hh = (int)(sod / 3600);
	mi = (int)(sod / 60 % 60);
	ss = (int)(sod % 60);
	/* Years outside 0000-9999 take a sign, as ISO 8601 expanded years do. */
	if (y >= 0 && y <= 9999)
		n = snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
			     hh, mi, ss);
	else
		n = snprintf(buf, size, "%+05lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
			     hh, mi, ss);
	if (frac != 0)
		n += snprintf(buf + n, size - (size_t)n, ".%06lld", (long long)frac);
	buf[n++] = 'Z';
	buf[n] = '\0';
	return n;
}
