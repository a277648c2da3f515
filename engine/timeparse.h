/*
 * timeparse.h - date/time text plus a time zone -> UTC instant.
 *
 * Instants are int64 microseconds since 1970-01-01T00:00:00Z ("us").  Parsing is
 * strict: impossible dates, 24:00:00 and leap seconds are rejected, never
 * normalised.  Formats are small strptime-like patterns, written here rather than
 * with strptime(3) because strptime accepts out-of-range fields, has no
 * fractional seconds and does not accept 'Z' as an offset.
 */
#ifndef RECON_TIMEPARSE_H
#define RECON_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Format tokens:
 *   %Y  4-digit year            %y  2-digit year (20yy)
 *   %m  2-digit month           %-m month, 1 or 2 digits
 *   %d  2-digit day             %-d day, 1 or 2 digits
 *   %H  2-digit hour (00-23)    %-H hour, 1 or 2 digits
 *   %M  2-digit minute          %S  2-digit second (00-59)
 *   %f  optional fraction: '.' or ',' followed by 1-9 digits, or nothing
 *   %z  optional UTC offset: 'Z', '+hh:mm', '+hhmm', '+hh' (or '-'), or nothing
 *   %%  a literal '%'
 * Any other character must match itself, except that 'T' in the format also
 * matches a single space.  The whole text must be consumed.
 * The name "iso8601" stands for "%Y-%m-%dT%H:%M:%S%f%z".
 * A format with no hour/minute/second tokens is date-only: local midnight.
 */

/* What the text said, before any zone is applied. */
struct time_parts {
	int64_t local_us;   /* the wall-clock reading as if it were UTC */
	int has_offset;     /* the text carried an explicit offset (or Z) */
	int offset_seconds; /* that offset, east of UTC positive */
	int has_time;       /* the format had a time of day */
};

/*
 * Parse LEN bytes at TEXT with FORMAT (TEXT need not be NUL-terminated).
 * Returns NULL on success, or a static reason ("impossible date", "hour 24 is
 * not accepted", "leap second is not accepted", "UTC offset out of range",
 * "does not match the date format", ...) on failure, leaving *OUT untouched;
 * the reason may refer to FORMAT only by the stable wording "does not match
 * the date format".  An unusable FORMAT gives timeparse_check_format's reason.
 * Never allocates.
 */
const char *timeparse_parse(const char *text, size_t len, const char *format,
			    struct time_parts *out);

/*
 * Validate FORMAT itself (for profile loading).  Returns NULL if usable, else a
 * static reason ("unknown token in the date format ...", "date format has no
 * year (%Y or %y)", ...).  Unusable: unknown tokens, a trailing lone '%', no
 * year, month or day, a field given twice, %M without %H, %S without %M, %f
 * without %S.
 */
const char *timeparse_check_format(const char *format);

/*
 * Convert a local wall-clock reading (LOCAL_US, as in time_parts) in the IANA zone
 * ZONE (e.g. "Europe/Berlin"; "UTC" allowed) to a UTC instant.  A reading that falls
 * in a spring-forward gap does not exist and is rejected; a reading repeated at the
 * end of summer time resolves to the EARLIER instant (the first occurrence).
 * Returns NULL on success, else a static reason ("local time does not exist in the
 * time zone", "unknown time zone").
 * Selects ZONE by setting the TZ environment variable (only when the zone changes)
 * and leaves it set: not thread-safe, and no other code may rely on TZ.
 */
const char *timeparse_local_to_utc(int64_t local_us, const char *zone, int64_t *utc_us);

/*
 * Non-zero if ZONE names a time zone this machine's tz database knows: a TZif file
 * under $TZDIR (default /usr/share/zoneinfo); "UTC" and "Etc/UTC" always.  Names
 * that are empty, absolute or contain ".." are refused.
 */
int timeparse_zone_exists(const char *zone);

/*
 * Parse a fixed UTC offset as used in zone-abbreviation maps: "+01:00", "-03:30",
 * "+0100", "Z", "UTC".  Returns NULL and stores seconds east of UTC, or a reason.
 */
const char *timeparse_parse_offset(const char *text, size_t len, int *offset_seconds);

/*
 * Write US as ISO-8601 UTC into BUF: "2026-11-20T10:15:09Z", or with six
 * fraction digits ("2026-11-20T10:15:09.250000Z") when US is not a whole second.
 * Returns the length, or -1 if SIZE < 32.
 */
int timeparse_format_utc(int64_t us, char *buf, size_t size);

/*
 * The calendar date ("YYYY-MM-DD") in ZONE at the UTC instant UTC_US.  Returns
 * NULL, or a static reason ("unknown time zone").
 */
const char *timeparse_utc_to_local_date(int64_t utc_us, const char *zone, char date[11]);

/* "30m", "48h", "90s", "2d" -> microseconds.  NULL, or a static reason. */
const char *timeparse_parse_duration(const char *text, int64_t *us);

/* Days since 1970-01-01 of a proleptic Gregorian date (no validation). */
int64_t timeparse_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
