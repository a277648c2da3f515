/*
 * profile.h - a source profile: how one file layout maps to canonical records.
 *
 * Profiles are INI files (schemas/profiles/NAME.ini, read with libinih) validated as
 * they load: an unknown section or key, a malformed regular expression, an unknown
 * time zone or date format is an error naming the profile file and line.  The
 * language is documented, by example, in schemas/profiles/README.md.
 */
#ifndef RECON_PROFILE_H
#define RECON_PROFILE_H

#include <regex.h>
#include <stddef.h>

#include "money.h"

enum profile_kind { PROFILE_STATEMENT, PROFILE_LEDGER };

/* Canonical record types: statement CHARGE/REFUND, ledger events. */
enum record_type {
	TYPE_NONE = -1,
	TYPE_CHARGE = 0,
	TYPE_REFUND = 1,
	TYPE_CREATED = 2,
	TYPE_PAID = 3,
	TYPE_REFUNDED = 4,
	TYPE_CANCELLED = 5,
	TYPE_SKIP = 6, /* a map outcome: skip the row on purpose */
};
const char *profile_type_name(enum record_type t);

#define PROFILE_MAX_COLS 8    /* columns composed into one value */
#define PROFILE_MAX_LIST 64   /* entries of a value map, filter list, prefix list */

/* A reference to one column: by header name (and occurrence), or by position. */
struct colref {
	char *name;       /* NULL when by position */
	int occurrence;   /* 1 = first column of that name */
	int occurrence_given; /* written as Name@N: a doubled name is then not ambiguous */
	int position;     /* 1-based, 0 when by name */
	int index;        /* resolved 0-based index, -1 until the header is read */
};

/* A set of columns whose non-empty values are joined with '|' (composite ids). */
struct colset {
	size_t n;
	struct colref col[PROFILE_MAX_COLS];
};

struct map_entry {
	char *value;
	enum record_type type;
};

struct zone_entry {
	char *abbrev;
	int offset_seconds;
};

/* One canonical field's source. */
struct field_spec {
	int present;            /* the section was given */
	struct colset cols;     /* the column(s) */
	struct colset per_type[2]; /* column(s) for CHARGE rows and REFUND rows */
	char *constant;         /* value = ... */
	/* type / event */
	int from_sign, from_debit_credit;
	struct map_entry map[PROFILE_MAX_LIST];
	size_t n_map;
	int default_skip;       /* unmapped values skip instead of reject */
	/* amounts */
	struct colref debit, credit;
	int sign_signed;        /* sign = signed */
	int sign_any;           /* fee: any sign is kept */
	struct money_format money;
	/* order reference */
	regex_t regex;
	int has_regex;
	int no_match_skip;
	/* times */
	char *format;
	struct colref time_col;
	char *time_format;
	struct colref zone_col;
	struct zone_entry zones[PROFILE_MAX_LIST];
	size_t n_zones;
	char *timezone;          /* IANA zone for values without an offset */
	int offset_required;
	int required;            /* id fields: an empty value rejects the row */
	int line;                /* profile line of the section, for messages */
};

struct filter_spec {
	char *name;              /* the skip reason counted */
	struct colref col;
	char *values[PROFILE_MAX_LIST];
	size_t n_values;
	int keep;                /* keep = listed values are kept, others skipped */
	regex_t regex;
	int has_regex;
	int line;
};

enum {
	F_ID,        /* txn_id / event_id */
	F_ORDER_REF,
	F_TYPE,      /* type / event */
	F_AMOUNT,
	F_CURRENCY,
	F_TIME,      /* booked_at / event_time */
	F_CHANNEL,
	F_FEE,
	F_COUNT
};

struct profile {
	char *name;              /* "psp_v1" */
	char *path;              /* the file it was loaded from */
	unsigned char sha256[32];/* of the profile file's bytes */
	enum profile_kind kind;
	char *encoding;
	unsigned char delimiter, quote;
	int has_header;
	unsigned preamble_lines;
	char *header_prefix;
	regex_t header_regex;
	int has_header_regex;
	char *skip_prefixes[PROFILE_MAX_LIST];
	size_t n_skip_prefixes;
	char *footer_prefixes[PROFILE_MAX_LIST];
	size_t n_footer_prefixes;
	char *strip_leading, *strip_trailing;
	long reject_share_ppm;   /* parts per million; default 10000 (1%) */
	size_t max_record;
	struct field_spec field[F_COUNT];
	struct filter_spec filters[PROFILE_MAX_LIST];
	size_t n_filters;
};

/*
 * Find a profile: NAME is a path (contains '/' or ends in ".ini") or the name of a
 * shipped profile, looked up in $RECON_PROFILE_DIR, then in the profiles directory
 * the binary was built with.  On success returns a new profile (free with
 * profile_free); on failure returns NULL and writes a one-line message naming
 * the file and line into ERR.
 */
struct profile *profile_load(const char *name, char *err, size_t errlen);
void profile_free(struct profile *p);

/* Canonical name of field F for this profile's kind ("txn_id" / "event_id", ...). */
const char *profile_field_name(const struct profile *p, int f);

/*
 * Resolve every column reference against a header of N names (already stripped).
 * Returns 0, or -1 with a message naming the missing or doubled column in ERR.
 */
int profile_resolve(struct profile *p, char *const *names, const size_t *lens, size_t n,
		    char *err, size_t errlen);

/* "1%", "0.5%" or a fraction such as "0.01", in parts per million, exactly (no
 * floating point); -1 when malformed or above 100%. */
long profile_parse_share(const char *text);

/* For tests: the sorted static tables of known keys, to check order and uniqueness. */
const char *const *profile_known_keys(size_t *count);

#endif
