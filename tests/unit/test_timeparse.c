/*
 * test_timeparse.c - unit tests for engine/timeparse.c.
 *
 * Expected instants were computed independently with GNU date, e.g.
 * `date -u -d 2026-11-20T10:15:09Z +%s` = 1795169709.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "timeparse.h"

#define US(s) ((int64_t)(s) * INT64_C(1000000))

/* 2026-11-20T10:15:09Z */
#define T_2026_11_20_101509 INT64_C(1795169709)

static const char ISO[] = "iso8601";

/* Parse TEXT with FORMAT, asserting success. */
static struct time_parts parse_ok(const char *text, const char *format)
{
	struct time_parts p;
	const char *why;

	memset(&p, 0x5a, sizeof p);
	why = timeparse_parse(text, strlen(text), format, &p);
	if (why != NULL)
		fail_msg("\"%s\" with \"%s\": %s", text, format, why);
	return p;
}

/* Parse TEXT with FORMAT, asserting failure, and return the reason. */
static const char *parse_fails(const char *text, const char *format)
{
	struct time_parts p;
	const char *why;

	memset(&p, 0x5a, sizeof p);
	why = timeparse_parse(text, strlen(text), format, &p);
	if (why == NULL)
		fail_msg("\"%s\" with \"%s\" was accepted", text, format);
	return why;
}

/* The UTC instant a parsed ISO-8601 text with an offset stands for. */
static int64_t iso_instant(const char *text)
{
	struct time_parts p = parse_ok(text, ISO);

	assert_true(p.has_offset);
	return p.local_us - US(p.offset_seconds);
}

/* Resolve the local reading TEXT ("%Y-%m-%d %H:%M:%S") in ZONE, asserting success. */
static int64_t local_ok(const char *text, const char *zone)
{
	struct time_parts p = parse_ok(text, "%Y-%m-%d %H:%M:%S");
	int64_t utc = 0;
	const char *why = timeparse_local_to_utc(p.local_us, zone, &utc);

	if (why != NULL)
		fail_msg("\"%s\" in %s: %s", text, zone, why);
	return utc;
}

/* ---- ISO 8601 ---------------------------------------------------------------- */

static void test_timeparse_iso8601_utc_gives_exact_microseconds(void **state)
{
	struct time_parts p = parse_ok("2026-11-20T10:15:09Z", ISO);

	(void)state;
	assert_int_equal(p.local_us, INT64_C(1795169709000000));
	assert_true(p.has_offset);
	assert_int_equal(p.offset_seconds, 0);
	assert_true(p.has_time);
}

static void test_timeparse_accepts_lowercase_z(void **state)
{
	(void)state;
	assert_int_equal(iso_instant("2026-11-20T10:15:09z"), US(T_2026_11_20_101509));
}

static void test_timeparse_applies_positive_offset(void **state)
{
	struct time_parts p = parse_ok("2026-11-20T18:15:09+08:00", ISO);

	(void)state;
	assert_int_equal(p.offset_seconds, 8 * 3600);
	assert_int_equal(iso_instant("2026-11-20T18:15:09+08:00"), US(T_2026_11_20_101509));
}

static void test_timeparse_applies_negative_half_hour_offset(void **state)
{
	struct time_parts p = parse_ok("2026-11-20T06:45:09-03:30", ISO);

	(void)state;
	assert_int_equal(p.offset_seconds, -(3 * 3600 + 30 * 60));
	assert_int_equal(iso_instant("2026-11-20T06:45:09-03:30"), US(T_2026_11_20_101509));
}

static void test_timeparse_accepts_offset_without_colon(void **state)
{
	(void)state;
	assert_int_equal(iso_instant("2026-11-20T18:15:09+0800"), US(T_2026_11_20_101509));
}

static void test_timeparse_accepts_hours_only_offset(void **state)
{
	(void)state;
	assert_int_equal(iso_instant("2026-11-20T18:15:09+08"), US(T_2026_11_20_101509));
}

static void test_timeparse_rejects_offset_out_of_range(void **state)
{
	(void)state;
	assert_string_equal(parse_fails("2026-11-20T10:15:09+15:00", ISO),
			    "UTC offset out of range");
	assert_string_equal(parse_fails("2026-11-20T10:15:09+14:30", ISO),
			    "UTC offset out of range");
	assert_string_equal(parse_fails("2026-11-20T10:15:09+01:60", ISO),
			    "UTC offset out of range");
	assert_int_equal(iso_instant("2026-11-20T10:15:09-14:00"),
			 US(T_2026_11_20_101509 + 14 * 3600));
}

static void test_timeparse_rejects_malformed_offset(void **state)
{
	(void)state;
	parse_fails("2026-11-20T10:15:09+1", ISO);
	parse_fails("2026-11-20T10:15:09+01:", ISO);
	parse_fails("2026-11-20T10:15:09+01:0", ISO);
	parse_fails("2026-11-20T10:15:09+010", ISO);
	parse_fails("2026-11-20T10:15:09 +01:00", ISO);
	parse_fails("2026-11-20T10:15:09UTC", ISO);
}

static void test_timeparse_reads_half_second_fraction(void **state)
{
	(void)state;
	assert_int_equal(iso_instant("2026-11-20T10:15:09.5Z"), US(T_2026_11_20_101509) + 500000);
}

static void test_timeparse_truncates_nine_digit_comma_fraction(void **state)
{
	(void)state;
	assert_int_equal(iso_instant("2026-11-20T10:15:09,123456789Z"),
			 US(T_2026_11_20_101509) + 123456);
	assert_int_equal(iso_instant("2026-11-20T10:15:09.999999999Z"),
			 US(T_2026_11_20_101509) + 999999);
}

static void test_timeparse_rejects_fraction_over_nine_digits(void **state)
{
	(void)state;
	assert_string_equal(parse_fails("2026-11-20T10:15:09.1234567890Z", ISO),
			    "fraction of a second has more than 9 digits");
}

static void test_timeparse_rejects_fraction_mark_without_digits(void **state)
{
	(void)state;
	parse_fails("2026-11-20T10:15:09.Z", ISO);
	parse_fails("2026-11-20T10:15:09.", ISO);
}

static void test_timeparse_accepts_space_instead_of_t(void **state)
{
	(void)state;
	assert_int_equal(iso_instant("2026-11-20 10:15:09Z"), US(T_2026_11_20_101509));
}

static void test_timeparse_rejects_two_spaces_instead_of_t(void **state)
{
	(void)state;
	parse_fails("2026-11-20  10:15:09Z", ISO);
}

static void test_timeparse_missing_offset_leaves_has_offset_zero(void **state)
{
	struct time_parts p = parse_ok("2026-11-20T10:15:09", ISO);

	(void)state;
	assert_false(p.has_offset);
	assert_int_equal(p.offset_seconds, 0);
	assert_int_equal(p.local_us, US(T_2026_11_20_101509));
	assert_true(p.has_time);
}

/* ---- impossible dates and times ---------------------------------------------- */

static void test_timeparse_rejects_february_30(void **state)
{
	(void)state;
	assert_string_equal(parse_fails("2026-02-30", "%Y-%m-%d"), "impossible date");
}

static void test_timeparse_rejects_month_13(void **state)
{
	(void)state;
	assert_string_equal(parse_fails("2026-13-01", "%Y-%m-%d"), "impossible date");
}

static void test_timeparse_rejects_month_00(void **state)
{
	(void)state;
	assert_string_equal(parse_fails("2026-00-10", "%Y-%m-%d"), "impossible date");
}

static void test_timeparse_rejects_day_00_and_april_31(void **state)
{
	(void)state;
	assert_string_equal(parse_fails("2026-01-00", "%Y-%m-%d"), "impossible date");
	assert_string_equal(parse_fails("2026-04-31", "%Y-%m-%d"), "impossible date");
}

static void test_timeparse_rejects_february_29_in_common_year(void **state)
{
	(void)state;
	assert_string_equal(parse_fails("2023-02-29", "%Y-%m-%d"), "impossible date");
	assert_string_equal(parse_fails("2026-02-29", "%Y-%m-%d"), "impossible date");
	assert_string_equal(parse_fails("1900-02-29", "%Y-%m-%d"), "impossible date");
}

static void test_timeparse_accepts_february_29_in_leap_year(void **state)
{
	struct time_parts p = parse_ok("2024-02-29", "%Y-%m-%d");

	(void)state;
	assert_int_equal(p.local_us, US(1709164800));
	parse_ok("2000-02-29", "%Y-%m-%d");
}

static void test_timeparse_rejects_hour_24(void **state)
{
	(void)state;
	assert_string_equal(parse_fails("2026-11-20T24:00:00Z", ISO), "hour 24 is not accepted");
}

static void test_timeparse_rejects_leap_second(void **state)
{
	(void)state;
	assert_string_equal(parse_fails("2026-12-31T23:59:60Z", ISO),
			    "leap second is not accepted");
}

static void test_timeparse_rejects_impossible_time_of_day(void **state)
{
	(void)state;
	assert_string_equal(parse_fails("2026-11-20T25:00:00Z", ISO), "impossible time of day");
	assert_string_equal(parse_fails("2026-11-20T10:60:00Z", ISO), "impossible time of day");
	assert_string_equal(parse_fails("2026-11-20T10:00:61Z", ISO), "impossible time of day");
}

/* ---- other formats ------------------------------------------------------------ */

static void test_timeparse_reads_european_dotted_date(void **state)
{
	struct time_parts p = parse_ok("05.12.2025", "%d.%m.%Y");

	(void)state;
	assert_int_equal(p.local_us, US(1764892800));
	assert_false(p.has_time);
	assert_false(p.has_offset);
}

static void test_timeparse_two_digit_year_is_in_2000s(void **state)
{
	struct time_parts p = parse_ok("05.12.25", "%d.%m.%y");

	(void)state;
	assert_int_equal(p.local_us, US(1764892800));
}

static void test_timeparse_unpadded_month_and_day(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1/1/2018", "%-m/%-d/%Y").local_us, US(1514764800));
	assert_int_equal(parse_ok("10/01/2019", "%-m/%-d/%Y").local_us, US(1569888000));
}

static void test_timeparse_unpadded_hour(void **state)
{
	struct time_parts p = parse_ok("11/20/2026 2:00", "%-m/%-d/%Y %-H:%M");

	(void)state;
	assert_int_equal(p.local_us, US(1795140000));
	assert_true(p.has_time);
}

static void test_timeparse_slashed_date_with_time(void **state)
{
	struct time_parts p = parse_ok("2026/11/20 10:15:09", "%Y/%m/%d %H:%M:%S");

	(void)state;
	assert_int_equal(p.local_us, US(T_2026_11_20_101509));
	assert_true(p.has_time);
	assert_false(p.has_offset);
}

static void test_timeparse_compact_date_is_local_midnight(void **state)
{
	struct time_parts p = parse_ok("20261120", "%Y%m%d");

	(void)state;
	assert_int_equal(p.local_us, US(T_2026_11_20_101509 - (10 * 3600 + 15 * 60 + 9)));
	assert_false(p.has_time);
}

static void test_timeparse_literal_percent(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("%20261120", "%%%Y%m%d").local_us,
			 parse_ok("20261120", "%Y%m%d").local_us);
}

static void test_timeparse_rejects_trailing_garbage(void **state)
{
	(void)state;
	parse_fails("2026-11-20T10:15:09Zx", ISO);
	parse_fails("2026-11-20 ", "%Y-%m-%d");
	parse_fails("202611201", "%Y%m%d");
	parse_fails("05.12.2025.", "%d.%m.%Y");
}

static void test_timeparse_rejects_short_digits(void **state)
{
	(void)state;
	assert_string_equal(parse_fails("2026-1-20", "%Y-%m-%d"), "does not match the date format");
	parse_fails("26-11-20", "%Y-%m-%d");
	parse_fails("2026-11-2", "%Y-%m-%d");
	parse_fails("2026-11-20T1:15:09Z", ISO);
	parse_fails("5.12.25", "%d.%m.%y");
	parse_fails("05.12.2025", "%d.%m.%y");
}

static void test_timeparse_rejects_full_width_digits(void **state)
{
	(void)state;
	/* "２０２６-11-20" with U+FF10.. FULLWIDTH DIGITs */
	parse_fails("\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x96-11-20", "%Y-%m-%d");
	parse_fails("2026-11-\xef\xbc\x92\xef\xbc\x90", "%Y-%m-%d");
}

static void test_timeparse_rejects_signs_and_spaces_in_numbers(void **state)
{
	(void)state;
	parse_fails("+2026-11-20", "%Y-%m-%d");
	parse_fails("2026-+1-20", "%Y-%m-%d");
	parse_fails("2026--1-20", "%Y-%m-%d");
	parse_fails("2026- 1-20", "%Y-%m-%d");
	parse_fails(" 2026-11-20", "%Y-%m-%d");
}

static void test_timeparse_rejects_empty_text(void **state)
{
	struct time_parts p;

	(void)state;
	assert_non_null(timeparse_parse("", 0, ISO, &p));
	assert_non_null(timeparse_parse(NULL, 0, ISO, &p));
}

static void test_timeparse_reads_only_len_bytes(void **state)
{
	struct time_parts p;
	const char *text = "2026-11-20T10:15:09Zgarbage";

	(void)state;
	assert_null(timeparse_parse(text, 20, ISO, &p));
	assert_int_equal(p.local_us, US(T_2026_11_20_101509));
}

static void test_timeparse_parse_refuses_invalid_format(void **state)
{
	struct time_parts p;

	(void)state;
	assert_non_null(timeparse_parse("2026-11-20", 10, "%Y-%m-%Q", &p));
	assert_non_null(timeparse_parse("10:15", 5, "%H:%M", &p));
	assert_non_null(timeparse_parse("2026", 4, NULL, &p));
}

static void test_timeparse_failure_leaves_output_untouched(void **state)
{
	struct time_parts p, before;

	(void)state;
	memset(&p, 0x5a, sizeof p);
	before = p;
	assert_non_null(timeparse_parse("2026-02-30", 10, "%Y-%m-%d", &p));
	assert_memory_equal(&p, &before, sizeof p);
}

/* ---- days_from_civil ---------------------------------------------------------- */

static void test_timeparse_days_from_civil_matches_known_days(void **state)
{
	(void)state;
	assert_int_equal(timeparse_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(timeparse_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(timeparse_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(timeparse_days_from_civil(1, 1, 1), -719162);
	assert_int_equal(timeparse_days_from_civil(2026, 11, 20) * 86400,
			 T_2026_11_20_101509 - (10 * 3600 + 15 * 60 + 9));
}

/* ---- time zones --------------------------------------------------------------- */

static void test_timeparse_berlin_fall_back_resolves_to_earlier_instant(void **state)
{
	(void)state;
	/* 2026-10-25T00:30:00Z = 1792888200; the later reading would be 01:30Z */
	assert_int_equal(local_ok("2026-10-25 02:30:00", "Europe/Berlin"), US(1792888200));
}

static void test_timeparse_berlin_spring_forward_gap_is_rejected(void **state)
{
	struct time_parts p = parse_ok("2026-03-29 02:30:00", "%Y-%m-%d %H:%M:%S");
	int64_t utc = 42;

	(void)state;
	assert_string_equal(timeparse_local_to_utc(p.local_us, "Europe/Berlin", &utc),
			    "local time does not exist in the time zone");
	assert_int_equal(utc, 42);
}

static void test_timeparse_berlin_summer_is_utc_plus_2(void **state)
{
	(void)state;
	assert_int_equal(local_ok("2026-07-01 12:00:00", "Europe/Berlin"), US(1782900000));
}

static void test_timeparse_berlin_winter_midnight_is_previous_utc_day(void **state)
{
	(void)state;
	assert_int_equal(local_ok("2026-01-15 00:00:00", "Europe/Berlin"), US(1768431600));
}

static void test_timeparse_berlin_around_transitions(void **state)
{
	(void)state;
	/* 01:59:59 CET just before the gap, 03:00:00 CEST just after it */
	assert_int_equal(local_ok("2026-03-29 01:59:59", "Europe/Berlin"),
			 US(1774745999));
	assert_int_equal(local_ok("2026-03-29 03:00:00", "Europe/Berlin"),
			 US(1774746000));
	/* 03:00:00 CET after the repeated hour */
	assert_int_equal(local_ok("2026-10-25 03:00:00", "Europe/Berlin"), US(1792893600));
}

static void test_timeparse_shanghai_is_utc_plus_8(void **state)
{
	(void)state;
	assert_int_equal(local_ok("2026-11-20 10:00:00", "Asia/Shanghai"), US(1795140000));
}

static void test_timeparse_los_angeles_ambiguous_hour_takes_earlier(void **state)
{
	(void)state;
	/* 01:30 PDT = 08:30Z comes before 01:30 PST = 09:30Z */
	assert_int_equal(local_ok("2026-11-01 01:30:00", "America/Los_Angeles"),
			 US(1793521800));
}

static void test_timeparse_zone_keeps_microseconds(void **state)
{
	struct time_parts p = parse_ok("2026-01-15T00:00:00.000001", ISO);
	int64_t utc = 0;

	(void)state;
	assert_null(timeparse_local_to_utc(p.local_us, "Europe/Berlin", &utc));
	assert_int_equal(utc, US(1768431600) + 1);
	p = parse_ok("1969-12-31T23:59:59.5", ISO);
	assert_null(timeparse_local_to_utc(p.local_us, "Asia/Shanghai", &utc));
	assert_int_equal(utc, -US(8 * 3600) - 500000);
}

static void test_timeparse_switching_zones_back_and_forth(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_int_equal(local_ok("2026-11-20 10:00:00", "Asia/Shanghai"),
				 US(1795140000));
		assert_int_equal(local_ok("2026-07-01 12:00:00", "Europe/Berlin"),
				 US(1782900000));
		assert_int_equal(local_ok("2026-11-20 02:00:00", "UTC"), US(1795140000));
		assert_int_equal(local_ok("2026-11-20 02:00:00", "Etc/UTC"), US(1795140000));
	}
}

static void test_timeparse_external_tz_change_is_noticed(void **state)
{
	(void)state;
	assert_int_equal(local_ok("2026-07-01 12:00:00", "Europe/Berlin"), US(1782900000));
	setenv("TZ", "Asia/Shanghai", 1);
	assert_int_equal(local_ok("2026-07-01 12:00:00", "Europe/Berlin"), US(1782900000));
}

static void test_timeparse_utc_zone_is_identity(void **state)
{
	int64_t utc = 0;

	(void)state;
	assert_null(timeparse_local_to_utc(US(T_2026_11_20_101509), "UTC", &utc));
	assert_int_equal(utc, US(T_2026_11_20_101509));
	assert_null(timeparse_local_to_utc(-1, "Etc/UTC", &utc));
	assert_int_equal(utc, -1);
}

static void test_timeparse_unknown_zone_is_rejected(void **state)
{
	int64_t utc = 42;

	(void)state;
	assert_string_equal(timeparse_local_to_utc(0, "Mars/Olympus", &utc), "unknown time zone");
	assert_string_equal(timeparse_local_to_utc(0, "", &utc), "unknown time zone");
	assert_string_equal(timeparse_local_to_utc(0, NULL, &utc), "unknown time zone");
	assert_string_equal(timeparse_local_to_utc(0, "../etc/passwd", &utc),
			    "unknown time zone");
	assert_int_equal(utc, 42);
	/* a good zone still works after a refused one */
	assert_int_equal(local_ok("2026-07-01 12:00:00", "Europe/Berlin"), US(1782900000));
}

static void test_timeparse_zone_exists_for_real_zones(void **state)
{
	(void)state;
	assert_true(timeparse_zone_exists("Europe/Berlin"));
	assert_true(timeparse_zone_exists("UTC"));
	assert_true(timeparse_zone_exists("Etc/UTC"));
	assert_true(timeparse_zone_exists("America/Los_Angeles"));
}

static void test_timeparse_zone_exists_refuses_bad_names(void **state)
{
	(void)state;
	assert_false(timeparse_zone_exists("Mars/Olympus"));
	assert_false(timeparse_zone_exists(""));
	assert_false(timeparse_zone_exists(NULL));
	assert_false(timeparse_zone_exists("../etc/passwd"));
	assert_false(timeparse_zone_exists("/etc/passwd"));
	assert_false(timeparse_zone_exists("Europe"));          /* a directory */
	assert_false(timeparse_zone_exists("zone1970.tab"));    /* not a TZif file */
}

static void test_timeparse_zone_exists_honours_tzdir(void **state)
{
	(void)state;
	assert_int_equal(setenv("TZDIR", "/nonexistent-tzdir", 1), 0);
	assert_false(timeparse_zone_exists("Europe/Berlin"));
	assert_int_equal(setenv("TZDIR", "/usr/share/zoneinfo", 1), 0);
	assert_true(timeparse_zone_exists("Europe/Berlin"));
	assert_int_equal(unsetenv("TZDIR"), 0);
}

/* ---- fixed offsets ------------------------------------------------------------ */

static void offset_is(const char *text, int expected)
{
	int off = 12345;
	const char *why = timeparse_parse_offset(text, strlen(text), &off);

	if (why != NULL)
		fail_msg("offset \"%s\": %s", text, why);
	assert_int_equal(off, expected);
}

static void test_timeparse_parse_offset_accepts_documented_forms(void **state)
{
	(void)state;
	offset_is("+01:00", 3600);
	offset_is("-03:30", -(3 * 3600 + 30 * 60));
	offset_is("+0100", 3600);
	offset_is("+01", 3600);
	offset_is("Z", 0);
	offset_is("UTC", 0);
	offset_is("+14:00", 14 * 3600);
	offset_is("-14:00", -14 * 3600);
}

static void test_timeparse_parse_offset_rejects_others(void **state)
{
	static const char *const bad[] = { "", "utc", "UTC+1", "GMT", "+1", "+01:", "+01:0",
					   "+010", "01:00", "+01:00 ", " +01:00", "+15:00",
					   "+01:60", "CET", "+\xef\xbc\x90\xef\xbc\x91" };
	size_t i;
	int off = 12345;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (timeparse_parse_offset(bad[i], strlen(bad[i]), &off) == NULL)
			fail_msg("offset \"%s\" was accepted", bad[i]);
	}
	assert_int_equal(off, 12345);
	assert_string_equal(timeparse_parse_offset("+14:01", 6, &off), "UTC offset out of range");
}

/* ---- formatting --------------------------------------------------------------- */

static void format_is(int64_t us, const char *expected)
{
	char buf[32];
	int n = timeparse_format_utc(us, buf, sizeof buf);

	assert_string_equal(buf, expected);
	assert_int_equal(n, (int)strlen(expected));
}

static void test_timeparse_format_utc_epoch(void **state)
{
	(void)state;
	format_is(0, "1970-01-01T00:00:00Z");
}

static void test_timeparse_format_utc_whole_second(void **state)
{
	(void)state;
	format_is(US(T_2026_11_20_101509), "2026-11-20T10:15:09Z");
}

static void test_timeparse_format_utc_fraction(void **state)
{
	(void)state;
	format_is(US(T_2026_11_20_101509) + 250000, "2026-11-20T10:15:09.250000Z");
	format_is(1, "1970-01-01T00:00:00.000001Z");
}

static void test_timeparse_format_utc_before_1970(void **state)
{
	(void)state;
	format_is(-1, "1969-12-31T23:59:59.999999Z");
	format_is(-US(1), "1969-12-31T23:59:59Z");
	format_is(-US(86400), "1969-12-31T00:00:00Z");
	format_is(-US(86400) - 500000, "1969-12-30T23:59:59.500000Z");
	format_is(US(INT64_C(-62135596800)), "0001-01-01T00:00:00Z");
}

static void test_timeparse_format_utc_extreme_instants(void **state)
{
	char buf[32];

	(void)state;
	assert_true(timeparse_format_utc(INT64_MIN, buf, sizeof buf) > 0);
	assert_true(timeparse_format_utc(INT64_MAX, buf, sizeof buf) > 0);
	format_is(INT64_MAX, "+294247-01-10T04:00:54.775807Z");
}

static void test_timeparse_format_utc_refuses_small_buffer(void **state)
{
	char buf[31];

	(void)state;
	assert_int_equal(timeparse_format_utc(0, buf, sizeof buf), -1);
}

static void test_timeparse_format_round_trips_parse(void **state)
{
	static const char *const texts[] = { "2026-11-20T10:15:09Z", "2024-02-29T23:59:59.000001Z",
					     "1969-07-20T20:17:40.5Z", "0001-01-01T00:00:00Z",
					     "9999-12-31T23:59:59.999999Z" };
	char buf[32];
	size_t i;
	struct time_parts p;

	(void)state;
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		p = parse_ok(texts[i], ISO);
		assert_true(timeparse_format_utc(p.local_us, buf, sizeof buf) > 0);
		if (strcmp(texts[i], "1969-07-20T20:17:40.5Z") == 0)
			assert_string_equal(buf, "1969-07-20T20:17:40.500000Z");
		else
			assert_string_equal(buf, texts[i]);
	}
}

/* ---- check_format ------------------------------------------------------------- */

static void test_timeparse_check_format_accepts_usable_formats(void **state)
{
	(void)state;
	assert_null(timeparse_check_format("iso8601"));
	assert_null(timeparse_check_format("%d.%m.%Y"));
	assert_null(timeparse_check_format("%-m/%-d/%y %-H:%M"));
	assert_null(timeparse_check_format("%Y%m%d"));
	assert_null(timeparse_check_format("%Y-%m-%dT%H:%M:%S%f%z"));
	assert_null(timeparse_check_format("%%%Y%m%d"));
}

static void test_timeparse_check_format_rejects_unknown_token(void **state)
{
	(void)state;
	assert_non_null(timeparse_check_format("%Q"));
	assert_non_null(timeparse_check_format("%Y-%m-%d %Q"));
	assert_non_null(timeparse_check_format("%Y-%-Y-%d"));
	assert_non_null(timeparse_check_format("%Y-%m-%e"));
}

static void test_timeparse_check_format_rejects_lone_percent(void **state)
{
	(void)state;
	assert_non_null(timeparse_check_format("%"));
	assert_non_null(timeparse_check_format("%Y-%m-%d%"));
	assert_non_null(timeparse_check_format("%Y-%m-%d%-"));
}

static void test_timeparse_check_format_requires_a_date(void **state)
{
	(void)state;
	assert_non_null(timeparse_check_format("%H:%M"));
	assert_non_null(timeparse_check_format("%m-%d"));
	assert_non_null(timeparse_check_format("%Y-%d"));
	assert_non_null(timeparse_check_format("%Y-%m"));
	assert_non_null(timeparse_check_format(""));
	assert_non_null(timeparse_check_format(NULL));
	assert_non_null(timeparse_check_format("ISO8601"));
}

static void test_timeparse_check_format_rejects_repeated_or_orphan_fields(void **state)
{
	(void)state;
	assert_non_null(timeparse_check_format("%Y-%m-%d %Y"));
	assert_non_null(timeparse_check_format("%Y %y-%m-%d"));
	assert_non_null(timeparse_check_format("%Y-%m-%d %M:%S"));
	assert_non_null(timeparse_check_format("%Y-%m-%d %H%f"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeparse_iso8601_utc_gives_exact_microseconds),
		cmocka_unit_test(test_timeparse_accepts_lowercase_z),
		cmocka_unit_test(test_timeparse_applies_positive_offset),
		cmocka_unit_test(test_timeparse_applies_negative_half_hour_offset),
		cmocka_unit_test(test_timeparse_accepts_offset_without_colon),
		cmocka_unit_test(test_timeparse_accepts_hours_only_offset),
		cmocka_unit_test(test_timeparse_rejects_offset_out_of_range),
		cmocka_unit_test(test_timeparse_rejects_malformed_offset),
		cmocka_unit_test(test_timeparse_reads_half_second_fraction),
		cmocka_unit_test(test_timeparse_truncates_nine_digit_comma_fraction),
		cmocka_unit_test(test_timeparse_rejects_fraction_over_nine_digits),
		cmocka_unit_test(test_timeparse_rejects_fraction_mark_without_digits),
		cmocka_unit_test(test_timeparse_accepts_space_instead_of_t),
		cmocka_unit_test(test_timeparse_rejects_two_spaces_instead_of_t),
		cmocka_unit_test(test_timeparse_missing_offset_leaves_has_offset_zero),
		cmocka_unit_test(test_timeparse_rejects_february_30),
		cmocka_unit_test(test_timeparse_rejects_month_13),
		cmocka_unit_test(test_timeparse_rejects_month_00),
		cmocka_unit_test(test_timeparse_rejects_day_00_and_april_31),
		cmocka_unit_test(test_timeparse_rejects_february_29_in_common_year),
		cmocka_unit_test(test_timeparse_accepts_february_29_in_leap_year),
		cmocka_unit_test(test_timeparse_rejects_hour_24),
		cmocka_unit_test(test_timeparse_rejects_leap_second),
		cmocka_unit_test(test_timeparse_rejects_impossible_time_of_day),
		cmocka_unit_test(test_timeparse_reads_european_dotted_date),
		cmocka_unit_test(test_timeparse_two_digit_year_is_in_2000s),
		cmocka_unit_test(test_timeparse_unpadded_month_and_day),
		cmocka_unit_test(test_timeparse_unpadded_hour),
		cmocka_unit_test(test_timeparse_slashed_date_with_time),
		cmocka_unit_test(test_timeparse_compact_date_is_local_midnight),
		cmocka_unit_test(test_timeparse_literal_percent),
		cmocka_unit_test(test_timeparse_rejects_trailing_garbage),
		cmocka_unit_test(test_timeparse_rejects_short_digits),
		cmocka_unit_test(test_timeparse_rejects_full_width_digits),
		cmocka_unit_test(test_timeparse_rejects_signs_and_spaces_in_numbers),
		cmocka_unit_test(test_timeparse_rejects_empty_text),
		cmocka_unit_test(test_timeparse_reads_only_len_bytes),
		cmocka_unit_test(test_timeparse_parse_refuses_invalid_format),
		cmocka_unit_test(test_timeparse_failure_leaves_output_untouched),
		cmocka_unit_test(test_timeparse_days_from_civil_matches_known_days),
		cmocka_unit_test(test_timeparse_berlin_fall_back_resolves_to_earlier_instant),
		cmocka_unit_test(test_timeparse_berlin_spring_forward_gap_is_rejected),
		cmocka_unit_test(test_timeparse_berlin_summer_is_utc_plus_2),
		cmocka_unit_test(test_timeparse_berlin_winter_midnight_is_previous_utc_day),
		cmocka_unit_test(test_timeparse_berlin_around_transitions),
		cmocka_unit_test(test_timeparse_shanghai_is_utc_plus_8),
		cmocka_unit_test(test_timeparse_los_angeles_ambiguous_hour_takes_earlier),
		cmocka_unit_test(test_timeparse_zone_keeps_microseconds),
		cmocka_unit_test(test_timeparse_switching_zones_back_and_forth),
		cmocka_unit_test(test_timeparse_external_tz_change_is_noticed),
		cmocka_unit_test(test_timeparse_utc_zone_is_identity),
		cmocka_unit_test(test_timeparse_unknown_zone_is_rejected),
		cmocka_unit_test(test_timeparse_zone_exists_for_real_zones),
		cmocka_unit_test(test_timeparse_zone_exists_refuses_bad_names),
		cmocka_unit_test(test_timeparse_zone_exists_honours_tzdir),
		cmocka_unit_test(test_timeparse_parse_offset_accepts_documented_forms),
		cmocka_unit_test(test_timeparse_parse_offset_rejects_others),
		cmocka_unit_test(test_timeparse_format_utc_epoch),
		cmocka_unit_test(test_timeparse_format_utc_whole_second),
		cmocka_unit_test(test_timeparse_format_utc_fraction),
		cmocka_unit_test(test_timeparse_format_utc_before_1970),
		cmocka_unit_test(test_timeparse_format_utc_extreme_instants),
		cmocka_unit_test(test_timeparse_format_utc_refuses_small_buffer),
		cmocka_unit_test(test_timeparse_format_round_trips_parse),
		cmocka_unit_test(test_timeparse_check_format_accepts_usable_formats),
		cmocka_unit_test(test_timeparse_check_format_rejects_unknown_token),
		cmocka_unit_test(test_timeparse_check_format_rejects_lone_percent),
		cmocka_unit_test(test_timeparse_check_format_requires_a_date),
		cmocka_unit_test(test_timeparse_check_format_rejects_repeated_or_orphan_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
