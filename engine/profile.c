/*
 * profile.c - load and validate a source profile (see profile.h).
 *
 * Owns the profile structure and every string and compiled regex in it.  The INI
 * syntax is read by libinih through ini_parse_stream, with a line reader of our
 * own so that every message names the profile line; the meaning of each key is
 * checked here against static const tables.
 */
#include "profile.h"

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <ini.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "currency.h"
#include "inifile.h"
#include "timeparse.h"
#include "banned.h"

#ifndef RECON_PROFILE_DIR
#define RECON_PROFILE_DIR "schemas/profiles"
#endif


static const char *const type_names[] = {
	"CHARGE", "REFUND", "CREATED", "PAID", "REFUNDED", "CANCELLED", "skip",
};

const char *profile_type_name(enum record_type t)
{
	if (t < 0 || (size_t)t >= sizeof(type_names) / sizeof(type_names[0]))
		return "NONE";
	return type_names[t];
}

/* Field sections by name; both kinds' names, checked against the kind at the end. */
struct section_name {
	const char *name;
	int field;
	int kind; /* -1 both */
};

/* Sorted by name (bsearch). */
static const struct section_name section_names[] = {
	{ "amount", F_AMOUNT, -1 },
	{ "booked_at", F_TIME, PROFILE_STATEMENT },
	{ "channel", F_CHANNEL, -1 },
	{ "currency", F_CURRENCY, -1 },
	{ "event", F_TYPE, PROFILE_LEDGER },
	{ "event_id", F_ID, PROFILE_LEDGER },
	{ "event_time", F_TIME, PROFILE_LEDGER },
	{ "fee", F_FEE, PROFILE_STATEMENT },
	{ "order_ref", F_ORDER_REF, -1 },
	{ "txn_id", F_ID, PROFILE_STATEMENT },
	{ "type", F_TYPE, PROFILE_STATEMENT },
};

/* Keys allowed in field sections, with the fields they apply to. */
#define M(f) (1u << (f))
#define ALL_FIELDS (M(F_ID) | M(F_ORDER_REF) | M(F_TYPE) | M(F_AMOUNT) | M(F_CURRENCY) | \
		    M(F_TIME) | M(F_CHANNEL) | M(F_FEE))
struct key_rule {
	const char *key;
	unsigned fields;
};

/* Sorted by key (bsearch); prefixes "map." and "zone." are matched separately. */
static const struct key_rule field_keys[] = {
	{ "column", ALL_FIELDS },
	{ "column.CHARGE", M(F_ID) | M(F_AMOUNT) | M(F_FEE) },
	{ "column.REFUND", M(F_ID) | M(F_AMOUNT) | M(F_FEE) },
	{ "credit_column", M(F_AMOUNT) },
	{ "debit_column", M(F_AMOUNT) },
	{ "decimal_mark", M(F_AMOUNT) | M(F_FEE) },
	{ "default", M(F_TYPE) },
	{ "format", M(F_TIME) },
	{ "from", M(F_TYPE) },
	{ "implied_decimals", M(F_AMOUNT) | M(F_FEE) },
	{ "no_match", M(F_ORDER_REF) },
	{ "offset", M(F_TIME) },
	{ "regex", M(F_ORDER_REF) },
	{ "required", M(F_ID) },
	{ "sign", M(F_AMOUNT) | M(F_FEE) },
	{ "thousands_separator", M(F_AMOUNT) | M(F_FEE) },
	{ "time_column", M(F_TIME) },
	{ "time_format", M(F_TIME) },
	{ "timezone", M(F_TIME) },
	{ "value", M(F_TYPE) | M(F_CURRENCY) | M(F_CHANNEL) },
	{ "zone_column", M(F_TIME) },
};

static const char *const file_keys[] = {
	"decimal_mark", "delimiter", "encoding", "footer_prefix", "header",
	"header_regex", "header_starts_with", "kind", "max_line_bytes",
	"max_reject_share", "preamble_lines", "quote", "skip_prefix",
	"strip_leading", "strip_trailing", "thousands_separator", "timezone",
};

static const char *const filter_keys[] = {
	"column", "keep", "keep_regex", "skip", "skip_regex",
};

/* The field-section keys, for the test of order and uniqueness. */
const char *const *profile_known_keys(size_t *count)
{
	static const char *all[sizeof(field_keys) / sizeof(field_keys[0])];
	size_t i;

	for (i = 0; i < sizeof(field_keys) / sizeof(field_keys[0]); i++)
		all[i] = field_keys[i].key;
	*count = i;
	return all;
}

static int cmp_section(const void *key, const void *elem)
{
	return strcmp(key, ((const struct section_name *)elem)->name);
}

static int cmp_key_rule(const void *key, const void *elem)
{
	return strcmp(key, ((const struct key_rule *)elem)->key);
}

static int cmp_str(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Parsing state handed to the libinih callbacks. */
struct loader {
	struct profile *p;
	struct inifile ini;    /* the file's bytes and the line libinih is handling */
	char *err;
	size_t errlen;
	int failed;
	int kind_set;
	int section_field[F_COUNT]; /* which section name defined each field */
	int seen_file_key[COUNT(file_keys)];
	int has_decimal_default, has_thousands_default;
	struct money_format money_default;
	char *file_timezone;
};

__attribute__((format(printf, 2, 3)))
static void fail(struct loader *ld, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (ld->failed)
		return;
	ld->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	inifile_message(ld->err, ld->errlen, ld->p->path, ld->ini.line, msg);
}

static int known_section(const struct loader *ld, const char *name);

static void fail_section(struct loader *ld, const char *section)
{
	if (!ld->kind_set)
		fail(ld, "unknown section [%s] (expected [file] with 'kind' first)", section);
	else
		fail(ld, ld->p->kind == PROFILE_STATEMENT
			 ? "unknown section [%s] for a statement profile (expected file, txn_id, order_ref, type, amount, currency, booked_at, channel, fee or filter.NAME)"
			 : "unknown section [%s] for a ledger profile (expected file, event_id, order_ref, event, amount, currency, event_time, channel or filter.NAME)",
		     section);
}

/* inifile's report of a "[name]" line, or of a line too long (NAME NULL). */
static void on_ini_line(void *owner, const char *name)
{
	struct loader *ld = owner;

	if (name == NULL)
		fail(ld, "line longer than 198 characters; continue a list on the next line, indented");
	else if (!known_section(ld, name))
		fail_section(ld, name);
}

static char *dup_str(struct loader *ld, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		fail(ld, "out of memory");
	return d;
}

/* Decode \t, \s (space), \\ in character lists and prefixes. */
static char *dup_unescaped(struct loader *ld, const char *s)
{
	char *d = dup_str(ld, s);
	char *o = d;

	if (d == NULL)
		return NULL;
	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			if (*s == 't')
				*o++ = '\t';
			else if (*s == 's')
				*o++ = ' ';
			else if (*s == '\\')
				*o++ = '\\';
			else {
				fail(ld, "unknown escape \\%c (use \\t, \\s or \\\\)", *s);
				*o++ = *s;
			}
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return d;
}

static int parse_bool(struct loader *ld, const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0) {
		*out = 0;
		return 0;
	}
	fail(ld, "expected yes or no, not '%s'", v);
	return -1;
}

static int parse_uint(struct loader *ld, const char *v, unsigned long max, unsigned long *out)
{
	unsigned long n = 0;
	const char *s = v;

	if (*s == '\0')
		goto bad;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			goto bad;
		n = n * 10 + (unsigned long)(*s - '0');
		if (n > max)
			goto bad;
	}
	*out = n;
	return 0;
bad:
	fail(ld, "expected a whole number, not '%s'", v);
	return -1;
}

/* "1%", "0.5%", "0.01" (a fraction), in parts per million, exactly. */
long profile_parse_share(const char *v)
{
	long whole = 0, frac = 0, scale, ppm;
	int frac_digits = 0, percent;
	const char *s = v;
	size_t len = strlen(v);

	percent = len > 0 && v[len - 1] == '%';
	if (len == 0 || *s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		whole = whole * 10 + (*s++ - '0');
		if (whole > 100)
			return -1;
	}
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			if (frac_digits >= 6)
				return -1;
			frac = frac * 10 + (*s++ - '0');
			frac_digits++;
		}
		if (frac_digits == 0)
			return -1;
	}
	if (percent ? strcmp(s, "%") != 0 : *s != '\0')
		return -1;
	/* value = whole.frac (percent or fraction) -> ppm */
	scale = percent ? 10000 : 1000000;
	while (frac_digits < 6) {
		frac *= 10;
		frac_digits++;
	}
	ppm = whole * scale + frac * scale / 1000000;
	return ppm > 1000000 ? -1 : ppm;
}

static int parse_share(struct loader *ld, const char *v, long *ppm)
{
	*ppm = profile_parse_share(v);
	if (*ppm >= 0)
		return 0;
	fail(ld, "expected a share such as 1%% or 0.5%%, not '%s'", v);
	return -1;
}

static int parse_delim(struct loader *ld, const char *v, unsigned char *out)
{
	static const struct { const char *name; unsigned char c; } names[] = {
		{ "comma", ',' }, { "pipe", '|' }, { "semicolon", ';' }, { "tab", '\t' },
	};
	size_t i;

	for (i = 0; i < COUNT(names); i++)
		if (strcmp(v, names[i].name) == 0) {
			*out = names[i].c;
			return 0;
		}
	if (strlen(v) == 1 && v[0] != '"' && (unsigned char)v[0] >= ' ' && (unsigned char)v[0] < 0x7f) {
		*out = (unsigned char)v[0];
		return 0;
	}
	fail(ld, "delimiter must be comma, semicolon, tab, pipe or one ASCII character, not '%s'", v);
	return -1;
}

static int parse_mark(struct loader *ld, const char *v, int thousands, char *out)
{
	static const struct { const char *name; char c; } names[] = {
		{ "apostrophe", '\'' }, { "comma", ',' }, { "dot", '.' }, { "none", 0 }, { "space", ' ' },
	};
	size_t i;

	for (i = 0; i < COUNT(names); i++) {
		if (strcmp(v, names[i].name) == 0 ||
		    (names[i].c && v[0] == names[i].c && v[1] == '\0')) {
			if (!thousands && names[i].c != '.' && names[i].c != ',')
				break;
			*out = names[i].c;
			return 0;
		}
	}
	fail(ld, thousands ? "thousands_separator must be none, dot, comma, space or apostrophe, not '%s'"
			   : "decimal_mark must be dot or comma, not '%s'", v);
	return -1;
}

/* "Name", "Name@2" (second column of that name), "@3" (third column). */
static int parse_colref(struct loader *ld, const char *v, struct colref *c)
{
	const char *at = strrchr(v, '@');
	unsigned long n = 0;

	memset(c, 0, sizeof(*c));
	c->index = -1;
	c->occurrence = 1;
	if (at != NULL && at[1] != '\0' && strspn(at + 1, "0123456789") == strlen(at + 1)) {
		if (parse_uint(ld, at + 1, 10000, &n) || n == 0) {
			fail(ld, "column number after @ must be 1 or more in '%s'", v);
			return -1;
		}
		if (at == v) {
			c->position = (int)n;
			return 0;
		}
		c->occurrence = (int)n;
		c->occurrence_given = 1;
		c->name = strndup(v, (size_t)(at - v));
	} else {
		c->name = strdup(v);
	}
	if (c->name == NULL) {
		fail(ld, "out of memory");
		return -1;
	}
	if (c->name[0] == '\0') {
		fail(ld, "empty column name");
		return -1;
	}
	return 0;
}

static int add_col(struct loader *ld, struct colset *set, const char *v)
{
	if (set->n >= PROFILE_MAX_COLS) {
		fail(ld, "too many columns composed into one value (at most 8)");
		return -1;
	}
	return parse_colref(ld, v, &set->col[set->n++]);
}

static int compile_regex(struct loader *ld, regex_t *re, const char *v)
{
	int rc = regcomp(re, v, REG_EXTENDED);

	if (rc != 0) {
		char msg[120];
		regerror(rc, re, msg, sizeof(msg));
		regfree(re);
		fail(ld, "malformed regular expression '%s': %s", v, msg);
		return -1;
	}
	return 0;
}

static enum record_type parse_outcome(struct loader *ld, const char *v)
{
	static const struct { const char *name; enum record_type t; int kind; } names[] = {
		{ "CANCELLED", TYPE_CANCELLED, PROFILE_LEDGER },
		{ "CHARGE", TYPE_CHARGE, PROFILE_STATEMENT },
		{ "CREATED", TYPE_CREATED, PROFILE_LEDGER },
		{ "PAID", TYPE_PAID, PROFILE_LEDGER },
		{ "REFUND", TYPE_REFUND, PROFILE_STATEMENT },
		{ "REFUNDED", TYPE_REFUNDED, PROFILE_LEDGER },
		{ "skip", TYPE_SKIP, -1 },
	};
	size_t i;

	for (i = 0; i < COUNT(names); i++)
		if (strcmp(v, names[i].name) == 0) {
			if (names[i].kind >= 0 && (int)ld->p->kind != names[i].kind)
				break;
			return names[i].t;
		}
	fail(ld, ld->p->kind == PROFILE_STATEMENT
		 ? "'%s' is not a statement type (CHARGE, REFUND or skip)"
		 : "'%s' is not a ledger event (CREATED, PAID, REFUNDED, CANCELLED or skip)", v);
	return TYPE_NONE;
}

static int set_once(struct loader *ld, char **slot, const char *v, const char *key)
{
	if (*slot != NULL) {
		fail(ld, "key '%s' given twice", key);
		return -1;
	}
	*slot = dup_str(ld, v);
	return *slot ? 0 : -1;
}

static int handle_file_key(struct loader *ld, const char *name, const char *v)
{
	struct profile *p = ld->p;
	const char *const *k = bsearch(name, file_keys, COUNT(file_keys), sizeof(file_keys[0]), cmp_str);
	unsigned long n;
	size_t idx;

	if (k == NULL) {
		fail(ld, "unknown key '%s' in section [file]", name);
		return 0;
	}
	idx = (size_t)(k - file_keys);
	if (strcmp(name, "skip_prefix") == 0) {
		if (p->n_skip_prefixes >= PROFILE_MAX_LIST)
			fail(ld, "too many skip_prefix lines");
		else
			p->skip_prefixes[p->n_skip_prefixes++] = dup_unescaped(ld, v);
		return !ld->failed;
	}
	if (strcmp(name, "footer_prefix") == 0) {
		if (p->n_footer_prefixes >= PROFILE_MAX_LIST)
			fail(ld, "too many footer_prefix lines");
		else
			p->footer_prefixes[p->n_footer_prefixes++] = dup_unescaped(ld, v);
		return !ld->failed;
	}
	if (ld->seen_file_key[idx]) {
		fail(ld, "key '%s' given twice in [file]", name);
		return 0;
	}
	ld->seen_file_key[idx] = 1;
	if (strcmp(name, "kind") == 0) {
		if (strcmp(v, "statement") == 0)
			p->kind = PROFILE_STATEMENT;
		else if (strcmp(v, "ledger") == 0)
			p->kind = PROFILE_LEDGER;
		else
			fail(ld, "kind must be statement or ledger, not '%s'", v);
		ld->kind_set = 1;
	} else if (strcmp(name, "encoding") == 0) {
		iconv_t cd = iconv_open("UTF-8", v);

		if (cd == (iconv_t)-1)
			fail(ld, "encoding '%s' is not known to iconv (try UTF-8, GBK, GB18030, ISO-8859-1 or WINDOWS-1252)", v);
		else
			iconv_close(cd);
		p->encoding = dup_str(ld, v);
	} else if (strcmp(name, "delimiter") == 0) {
		parse_delim(ld, v, &p->delimiter);
	} else if (strcmp(name, "quote") == 0) {
		if (strcmp(v, "double") == 0 || strcmp(v, "\"") == 0)
			p->quote = '"';
		else if (strcmp(v, "single") == 0 || strcmp(v, "'") == 0)
			p->quote = '\'';
		else if (strcmp(v, "none") == 0)
			p->quote = 0;
		else
			fail(ld, "quote must be double, single or none, not '%s'", v);
	} else if (strcmp(name, "header") == 0) {
		parse_bool(ld, v, &p->has_header);
	} else if (strcmp(name, "preamble_lines") == 0) {
		if (parse_uint(ld, v, 10000, &n) == 0)
			p->preamble_lines = (unsigned)n;
	} else if (strcmp(name, "header_starts_with") == 0) {
		p->header_prefix = dup_unescaped(ld, v);
	} else if (strcmp(name, "header_regex") == 0) {
		if (compile_regex(ld, &p->header_regex, v) == 0)
			p->has_header_regex = 1;
	} else if (strcmp(name, "strip_leading") == 0) {
		p->strip_leading = dup_unescaped(ld, v);
	} else if (strcmp(name, "strip_trailing") == 0) {
		p->strip_trailing = dup_unescaped(ld, v);
	} else if (strcmp(name, "decimal_mark") == 0) {
		ld->has_decimal_default = parse_mark(ld, v, 0, &ld->money_default.decimal_mark) == 0;
	} else if (strcmp(name, "thousands_separator") == 0) {
		ld->has_thousands_default = parse_mark(ld, v, 1, &ld->money_default.thousands_sep) == 0;
	} else if (strcmp(name, "timezone") == 0) {
		if (!timeparse_zone_exists(v))
			fail(ld, "unknown time zone '%s' (use an IANA name such as Europe/Berlin)", v);
		else
			ld->file_timezone = dup_str(ld, v);
	} else if (strcmp(name, "max_reject_share") == 0) {
		parse_share(ld, v, &p->reject_share_ppm);
	} else if (strcmp(name, "max_line_bytes") == 0) {
		if (parse_uint(ld, v, 64ul * 1024 * 1024, &n) == 0) {
			if (n < 1024)
				fail(ld, "max_line_bytes must be at least 1024");
			p->max_record = n;
		}
	}
	return !ld->failed;
}

static int handle_field_key(struct loader *ld, struct field_spec *f, int field,
			    const char *name, const char *v)
{
	const struct key_rule *rule;

	if (strncmp(name, "map.", 4) == 0 && field == F_TYPE) {
		enum record_type t = parse_outcome(ld, v);

		if (t == TYPE_NONE)
			return 0;
		if (f->n_map >= PROFILE_MAX_LIST) {
			fail(ld, "too many map entries (at most 64)");
			return 0;
		}
		f->map[f->n_map].value = dup_unescaped(ld, name + 4);
		f->map[f->n_map].type = t;
		f->n_map++;
		return !ld->failed;
	}
	if (strncmp(name, "zone.", 5) == 0 && field == F_TIME) {
		int off;

		if (timeparse_parse_offset(v, strlen(v), &off) != NULL) {
			fail(ld, "zone offset must look like +01:00, not '%s'", v);
			return 0;
		}
		if (f->n_zones >= PROFILE_MAX_LIST) {
			fail(ld, "too many zone entries (at most 64)");
			return 0;
		}
		f->zones[f->n_zones].abbrev = dup_str(ld, name + 5);
		f->zones[f->n_zones].offset_seconds = off;
		f->n_zones++;
		return !ld->failed;
	}
	rule = bsearch(name, field_keys, COUNT(field_keys), sizeof(field_keys[0]), cmp_key_rule);
	if (rule == NULL || !(rule->fields & M(field))) {
		fail(ld, "key '%s' is not allowed in this section", name);
		return 0;
	}
	if (strcmp(name, "column") == 0) {
		if (f->cols.n > 0 && field != F_ID) {
			fail(ld, "key 'column' given twice (only id fields compose several columns)");
			return 0;
		}
		add_col(ld, &f->cols, v);
	} else if (strcmp(name, "column.CHARGE") == 0) {
		add_col(ld, &f->per_type[0], v);
	} else if (strcmp(name, "column.REFUND") == 0) {
		add_col(ld, &f->per_type[1], v);
	} else if (strcmp(name, "value") == 0) {
		set_once(ld, &f->constant, v, name);
	} else if (strcmp(name, "from") == 0) {
		if (strcmp(v, "sign") == 0)
			f->from_sign = 1;
		else if (strcmp(v, "debit_credit") == 0)
			f->from_debit_credit = 1;
		else
			fail(ld, "from must be sign or debit_credit, not '%s'", v);
	} else if (strcmp(name, "default") == 0) {
		if (strcmp(v, "skip") == 0)
			f->default_skip = 1;
		else if (strcmp(v, "reject") != 0)
			fail(ld, "default must be skip or reject, not '%s'", v);
	} else if (strcmp(name, "debit_column") == 0) {
		parse_colref(ld, v, &f->debit);
	} else if (strcmp(name, "credit_column") == 0) {
		parse_colref(ld, v, &f->credit);
	} else if (strcmp(name, "sign") == 0) {
		if (strcmp(v, "signed") == 0)
			f->sign_signed = 1;
		else if (strcmp(v, "any") == 0 && field == F_FEE)
			f->sign_any = 1;
		else if (strcmp(v, "positive") == 0)
			f->sign_any = 0;
		else
			fail(ld, "sign must be positive or signed (fee: also any), not '%s'", v);
	} else if (strcmp(name, "decimal_mark") == 0) {
		parse_mark(ld, v, 0, &f->money.decimal_mark);
	} else if (strcmp(name, "thousands_separator") == 0) {
		char c = 0;
		if (parse_mark(ld, v, 1, &c) == 0)
			f->money.thousands_sep = c ? c : '\x7f'; /* '\x7f' marks an explicit none */
	} else if (strcmp(name, "implied_decimals") == 0) {
		parse_bool(ld, v, &f->money.implied_decimals);
	} else if (strcmp(name, "regex") == 0) {
		if (f->has_regex)
			fail(ld, "key 'regex' given twice");
		else if (compile_regex(ld, &f->regex, v) == 0)
			f->has_regex = 1;
	} else if (strcmp(name, "no_match") == 0) {
		if (strcmp(v, "skip") == 0)
			f->no_match_skip = 1;
		else if (strcmp(v, "reject") != 0)
			fail(ld, "no_match must be skip or reject, not '%s'", v);
	} else if (strcmp(name, "format") == 0 || strcmp(name, "time_format") == 0) {
		char with_date[256];
		const char *why;

		/* A time format is checked as the time part of a date-and-time format. */
		snprintf(with_date, sizeof(with_date), "%s%s", name[0] == 't' ? "%Y-%m-%d " : "", v);
		why = timeparse_check_format(with_date);

		if (why != NULL)
			fail(ld, "date format '%s': %s", v, why);
		else
			set_once(ld, name[0] == 'f' ? &f->format : &f->time_format, v, name);
	} else if (strcmp(name, "time_column") == 0) {
		parse_colref(ld, v, &f->time_col);
	} else if (strcmp(name, "zone_column") == 0) {
		parse_colref(ld, v, &f->zone_col);
	} else if (strcmp(name, "timezone") == 0) {
		if (!timeparse_zone_exists(v))
			fail(ld, "unknown time zone '%s' (use an IANA name such as Europe/Berlin)", v);
		else
			set_once(ld, &f->timezone, v, name);
	} else if (strcmp(name, "offset") == 0) {
		if (strcmp(v, "required") == 0)
			f->offset_required = 1;
		else if (strcmp(v, "optional") != 0)
			fail(ld, "offset must be required or optional, not '%s'", v);
	} else if (strcmp(name, "required") == 0) {
		parse_bool(ld, v, &f->required);
	}
	return !ld->failed;
}

static struct filter_spec *filter_for(struct loader *ld, const char *name)
{
	struct profile *p = ld->p;
	size_t i;

	for (i = 0; i < p->n_filters; i++)
		if (strcmp(p->filters[i].name, name) == 0)
			return &p->filters[i];
	if (p->n_filters >= PROFILE_MAX_LIST) {
		fail(ld, "too many filters (at most 64)");
		return NULL;
	}
	p->filters[p->n_filters].name = dup_str(ld, name);
	p->filters[p->n_filters].line = ld->ini.line;
	p->filters[p->n_filters].col.index = -1;
	return &p->filters[p->n_filters++];
}

static int handle_filter_key(struct loader *ld, struct filter_spec *f, const char *name, const char *v)
{
	if (bsearch(name, filter_keys, COUNT(filter_keys), sizeof(filter_keys[0]), cmp_str) == NULL) {
		fail(ld, "unknown key '%s' in a filter section", name);
		return 0;
	}
	if (strcmp(name, "column") == 0) {
		if (f->col.name || f->col.position)
			fail(ld, "key 'column' given twice");
		else
			parse_colref(ld, v, &f->col);
		return !ld->failed;
	}
	if (f->n_values > 0 || f->has_regex) {
		int keep = strncmp(name, "keep", 4) == 0;
		if (keep != f->keep || f->has_regex || strstr(name, "regex")) {
			fail(ld, "a filter takes either skip or keep values, or one regex");
			return 0;
		}
	}
	f->keep = strncmp(name, "keep", 4) == 0;
	if (strstr(name, "regex")) {
		if (compile_regex(ld, &f->regex, v) == 0)
			f->has_regex = 1;
	} else if (f->n_values >= PROFILE_MAX_LIST) {
		fail(ld, "too many filter values (at most 64)");
	} else {
		f->values[f->n_values++] = dup_unescaped(ld, v);
	}
	return !ld->failed;
}

static int known_section(const struct loader *ld, const char *name)
{
	const struct section_name *sec;

	if (strcmp(name, "file") == 0 || (strncmp(name, "filter.", 7) == 0 && name[7] != '\0'))
		return 1;
	sec = bsearch(name, section_names, COUNT(section_names), sizeof(section_names[0]), cmp_section);
	return sec != NULL && (!ld->kind_set || sec->kind < 0 || sec->kind == (int)ld->p->kind);
}

static int on_ini_entry(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	const struct section_name *sec;

	if (ld->failed)
		return 0;
	if (strcmp(section, "file") == 0)
		return handle_file_key(ld, name, value);
	if (!ld->kind_set) {
		fail(ld, "section [file] with 'kind' must come first");
		return 0;
	}
	if (strncmp(section, "filter.", 7) == 0 && section[7] != '\0') {
		struct filter_spec *f = filter_for(ld, section + 7);
		return f ? handle_filter_key(ld, f, name, value) : 0;
	}
	sec = bsearch(section, section_names, COUNT(section_names), sizeof(section_names[0]), cmp_section);
	if (sec == NULL || (sec->kind >= 0 && sec->kind != (int)ld->p->kind)) {
		fail_section(ld, section);
		return 0;
	}
	if (!ld->p->field[sec->field].present) {
		ld->p->field[sec->field].present = 1;
		ld->p->field[sec->field].line = ld->ini.line;
	}
	return handle_field_key(ld, &ld->p->field[sec->field], sec->field, name, value);
}

const char *profile_field_name(const struct profile *p, int f)
{
	static const char *const stmt[F_COUNT] = {
		"txn_id", "order_ref", "type", "amount", "currency", "booked_at", "channel", "fee",
	};
	static const char *const ledger[F_COUNT] = {
		"event_id", "order_ref", "event", "amount", "currency", "event_time", "channel", "fee",
	};

	if (f < 0 || f >= F_COUNT)
		return "?";
	return p->kind == PROFILE_LEDGER ? ledger[f] : stmt[f];
}

static int has_source(const struct field_spec *f)
{
	return f->cols.n > 0 || f->constant != NULL || f->per_type[0].n > 0 || f->per_type[1].n > 0 ||
	       f->debit.name || f->debit.position || f->from_sign || f->from_debit_credit;
}

/* Checks that need the whole profile. */
static void validate(struct loader *ld)
{
	struct profile *p = ld->p;
	static const int required[] = { F_ORDER_REF, F_TYPE, F_AMOUNT, F_CURRENCY, F_TIME, F_CHANNEL };
	size_t i;

	ld->ini.line = 0;
	if (!ld->kind_set) {
		fail(ld, "section [file] needs 'kind = statement' or 'kind = ledger'");
		return;
	}
	for (i = 0; i < COUNT(required); i++) {
		const struct field_spec *f = &p->field[required[i]];
		if (!f->present || !has_source(f)) {
			ld->ini.line = f->line;
			fail(ld, "field [%s] needs a source (column, value or from)", profile_field_name(p, required[i]));
			return;
		}
	}
	{
		struct field_spec *t = &p->field[F_TYPE];
		struct field_spec *a = &p->field[F_AMOUNT];
		int debit_credit = a->debit.name || a->debit.position || a->credit.name || a->credit.position;
		int amount_cols = a->cols.n > 0 || a->per_type[0].n > 0 || a->per_type[1].n > 0;

		ld->ini.line = t->line;
		if (t->from_debit_credit != debit_credit) {
			ld->ini.line = a->line;
			fail(ld, "debit_column and credit_column go together with [type] from = debit_credit");
			return;
		}
		if (debit_credit && (!(a->debit.name || a->debit.position) || !(a->credit.name || a->credit.position))) {
			ld->ini.line = a->line;
			fail(ld, "debit_credit needs both debit_column and credit_column");
			return;
		}
		if (debit_credit && amount_cols) {
			ld->ini.line = a->line;
			fail(ld, "give either column or debit_column/credit_column for the amount");
			return;
		}
		if (!debit_credit && !amount_cols) {
			ld->ini.line = a->line;
			fail(ld, "field [amount] needs a column");
			return;
		}
		if (t->from_sign && !a->sign_signed) {
			fail(ld, "[type] from = sign needs [amount] sign = signed");
			return;
		}
		if ((t->from_sign || t->from_debit_credit) && p->kind == PROFILE_LEDGER) {
			fail(ld, "a ledger event comes from a column or a value");
			return;
		}
		if ((t->from_sign || t->from_debit_credit || t->constant) && (t->cols.n > 0 || t->n_map > 0)) {
			fail(ld, "[type] takes a column with map entries, or from, or a value, not several");
			return;
		}
		if (t->cols.n > 0 && t->n_map == 0) {
			fail(ld, "[type] with a column needs map.VALUE = TYPE entries");
			return;
		}
		if (t->constant) {
			enum record_type ct = parse_outcome(ld, t->constant);
			if (ct == TYPE_SKIP)
				fail(ld, "[type] value cannot be skip");
			if (ct == TYPE_NONE || ct == TYPE_SKIP)
				return;
		}
		if (a->cols.n > 0 && (a->per_type[0].n > 0 || a->per_type[1].n > 0)) {
			ld->ini.line = a->line;
			fail(ld, "give either column or column.CHARGE/column.REFUND for the amount");
			return;
		}
		if (a->cols.n == 0 && !debit_credit && (a->per_type[0].n == 0 || a->per_type[1].n == 0)) {
			ld->ini.line = a->line;
			fail(ld, "[amount] needs both column.CHARGE and column.REFUND");
			return;
		}
	}
	{
		struct field_spec *id = &p->field[F_ID];
		if (id->present && id->cols.n > 0 && (id->per_type[0].n > 0 || id->per_type[1].n > 0)) {
			ld->ini.line = id->line;
			fail(ld, "give either column or column.CHARGE/column.REFUND for the id");
			return;
		}
	}
	{
		struct field_spec *c = &p->field[F_CURRENCY];
		if (c->constant && currency_exponent(c->constant, strlen(c->constant), NULL) < 0) {
			ld->ini.line = c->line;
			fail(ld, "unknown currency '%s'", c->constant);
			return;
		}
	}
	{
		struct field_spec *t = &p->field[F_TIME];

		ld->ini.line = t->line;
		if (t->cols.n == 0) {
			fail(ld, "[%s] needs a column", profile_field_name(p, F_TIME));
			return;
		}
		if ((t->time_col.name || t->time_col.position) && t->time_format == NULL) {
			fail(ld, "time_column needs a time_format such as %%H:%%M:%%S");
			return;
		}
		if ((t->zone_col.name || t->zone_col.position) && t->n_zones == 0) {
			fail(ld, "zone_column needs zone.ABBREV = +hh:mm entries");
			return;
		}
		if (t->timezone == NULL && ld->file_timezone)
			t->timezone = dup_str(ld, ld->file_timezone);
	}
	for (i = 0; i < F_COUNT; i++) {
		struct field_spec *f = &p->field[i];
		if (!f->money.decimal_mark)
			f->money.decimal_mark = ld->has_decimal_default ? ld->money_default.decimal_mark : '.';
		if (f->money.thousands_sep == '\x7f')
			f->money.thousands_sep = 0;
		else if (!f->money.thousands_sep && ld->has_thousands_default)
			f->money.thousands_sep = ld->money_default.thousands_sep;
		if (f->money.thousands_sep && f->money.thousands_sep == f->money.decimal_mark) {
			ld->ini.line = f->line;
			if (f->present && (i == F_AMOUNT || i == F_FEE))
				fail(ld, "thousands separator and decimal mark are the same in [%s]",
				     profile_field_name(p, (int)i));
			else
				fail(ld, "thousands_separator and decimal_mark are the same in [file]");
			return;
		}
	}
	if (p->field[F_FEE].present && p->field[F_FEE].cols.n == 0 && p->field[F_FEE].per_type[0].n == 0 &&
	    p->field[F_FEE].per_type[1].n == 0) {
		ld->ini.line = p->field[F_FEE].line;
		fail(ld, "[fee] needs a column");
		return;
	}
	for (i = 0; i < p->n_filters; i++) {
		struct filter_spec *f = &p->filters[i];
		ld->ini.line = f->line;
		if (!f->col.name && !f->col.position) {
			fail(ld, "filter '%s' needs a column", f->name);
			return;
		}
		if (f->n_values == 0 && !f->has_regex) {
			fail(ld, "filter '%s' needs skip, keep, skip_regex or keep_regex", f->name);
			return;
		}
	}
	if (!p->has_header) {
		ld->ini.line = 0;
		if (p->header_prefix || p->has_header_regex)
			fail(ld, "header_starts_with and header_regex need header = yes");
	}
}

static char *find_profile(const char *name, char *err, size_t errlen)
{
	const char *dirs[3];
	char path[4096];
	size_t i, nd = 0;
	size_t len = strlen(name);

	if (strchr(name, '/') || (len > 4 && strcmp(name + len - 4, ".ini") == 0))
		return strdup(name);
	if (getenv("RECON_PROFILE_DIR"))
		dirs[nd++] = getenv("RECON_PROFILE_DIR");
	dirs[nd++] = RECON_PROFILE_DIR;
	for (i = 0; i < nd; i++) {
		FILE *f;
		snprintf(path, sizeof(path), "%s/%s.ini", dirs[i], name);
		f = fopen(path, "rb");
		if (f) {
			fclose(f);
			return strdup(path);
		}
	}
	snprintf(err, errlen, "profile '%s' not found (looked in %s%s%s)", name, dirs[0],
		 nd > 1 ? " and " : "", nd > 1 ? dirs[1] : "");
	return NULL;
}

static char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	size_t len;

	b = b ? b + 1 : path;
	len = strlen(b);
	if (len > 4 && strcmp(b + len - 4, ".ini") == 0)
		len -= 4;
	return strndup(b, len);
}

struct profile *profile_load(const char *name, char *err, size_t errlen)
{
	struct profile *p = NULL;
	struct loader ld;
	char *text = NULL;
	size_t len = 0;
	int rc;
	unsigned int mdlen = 0;
	size_t i;

	memset(&ld, 0, sizeof(ld));
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->delimiter = ',';
	p->quote = '"';
	p->has_header = 1;
	p->reject_share_ppm = 10000;
	for (i = 0; i < F_COUNT; i++) {
		p->field[i].time_col.index = p->field[i].zone_col.index = -1;
		p->field[i].debit.index = p->field[i].credit.index = -1;
		p->field[i].required = 0;
	}
	p->field[F_FEE].sign_any = 1; /* fees keep their sign unless the profile says positive */
	p->path = find_profile(name, err, errlen);
	if (p->path == NULL)
		goto fail;
	p->name = base_name(p->path);
	if (p->name == NULL || inifile_read(p->path, &text, &len, err, errlen))
		goto fail;
	if (!EVP_Digest(text, len, p->sha256, &mdlen, EVP_sha256(), NULL)) {
		snprintf(err, errlen, "%s: cannot hash profile", p->path);
		goto fail;
	}
	ld.p = p;
	ld.ini.text = text;
	ld.ini.size = len;
	ld.ini.on_line = on_ini_line;
	ld.ini.owner = &ld;
	ld.err = err;
	ld.errlen = errlen;
	rc = ini_parse_stream(inifile_reader, &ld.ini, on_ini_entry, &ld);
	if (!ld.failed && rc > 0) {
		ld.ini.line = rc;
		fail(&ld, "syntax error (expected [section] or key = value)");
	}
	if (!ld.failed)
		validate(&ld);
	free(ld.file_timezone);
	free(text);
	if (ld.failed)
		goto fail_quiet;
	return p;
fail:
	free(text);
fail_quiet:
	profile_free(p);
	return NULL;
}

static void free_colset(struct colset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->col[i].name);
}

void profile_free(struct profile *p)
{
	size_t i, j;

	if (p == NULL)
		return;
	free(p->name);
	free(p->path);
	free(p->encoding);
	free(p->header_prefix);
	if (p->has_header_regex)
		regfree(&p->header_regex);
	for (i = 0; i < p->n_skip_prefixes; i++)
		free(p->skip_prefixes[i]);
	for (i = 0; i < p->n_footer_prefixes; i++)
		free(p->footer_prefixes[i]);
	free(p->strip_leading);
	free(p->strip_trailing);
	for (i = 0; i < F_COUNT; i++) {
		struct field_spec *f = &p->field[i];
		free_colset(&f->cols);
		free_colset(&f->per_type[0]);
		free_colset(&f->per_type[1]);
		free(f->constant);
		for (j = 0; j < f->n_map; j++)
			free(f->map[j].value);
		free(f->debit.name);
		free(f->credit.name);
		if (f->has_regex)
			regfree(&f->regex);
		free(f->format);
		free(f->time_col.name);
		free(f->time_format);
		free(f->zone_col.name);
		for (j = 0; j < f->n_zones; j++)
			free(f->zones[j].abbrev);
		free(f->timezone);
	}
	for (i = 0; i < p->n_filters; i++) {
		struct filter_spec *f = &p->filters[i];
		free(f->name);
		free(f->col.name);
		for (j = 0; j < f->n_values; j++)
			free(f->values[j]);
		if (f->has_regex)
			regfree(&f->regex);
	}
	free(p);
}

/* Resolve one reference; returns 0 or -1 with a message. */
static int resolve_col(const struct profile *p, struct colref *c, char *const *names,
		       const size_t *lens, size_t n, char *err, size_t errlen)
{
	size_t i;
	int seen = 0, total = 0;

	if (c->name == NULL && c->position == 0)
		return 0;
	if (c->position) {
		if ((size_t)c->position > n) {
			snprintf(err, errlen, "profile %s refers to column @%d but the file has %zu columns",
				 p->name, c->position, n);
			return -1;
		}
		c->index = c->position - 1;
		return 0;
	}
	if (!p->has_header) {
		snprintf(err, errlen, "profile %s names column '%s' but declares no header", p->name, c->name);
		return -1;
	}
	c->index = -1;
	for (i = 0; i < n; i++) {
		if (strlen(c->name) == lens[i] && memcmp(c->name, names[i], lens[i]) == 0) {
			total++;
			if (++seen == c->occurrence && c->index < 0)
				c->index = (int)i;
		}
	}
	if (c->index < 0) {
		if (total == 0)
			snprintf(err, errlen, "required column '%s' (profile %s) is missing from the header", c->name, p->name);
		else
			snprintf(err, errlen, "column '%s@%d' (profile %s): the header has only %d column(s) of that name",
				 c->name, c->occurrence, p->name, total);
		return -1;
	}
	if (total > 1 && !c->occurrence_given) {
		/* Named twice and referenced without saying which: ambiguous. */
		snprintf(err, errlen, "column '%s' is named %d times in the header; write '%s@1' or '%s@2' in profile %s",
			 c->name, total, c->name, c->name, p->name);
		return -1;
	}
	return 0;
}

int profile_resolve(struct profile *p, char *const *names, const size_t *lens, size_t n,
		    char *err, size_t errlen)
{
	size_t i, j;

	for (i = 0; i < F_COUNT; i++) {
		struct field_spec *f = &p->field[i];
		struct colref *single[] = { &f->debit, &f->credit, &f->time_col, &f->zone_col };
		for (j = 0; j < f->cols.n; j++)
			if (resolve_col(p, &f->cols.col[j], names, lens, n, err, errlen))
				return -1;
		for (j = 0; j < f->per_type[0].n; j++)
			if (resolve_col(p, &f->per_type[0].col[j], names, lens, n, err, errlen))
				return -1;
		for (j = 0; j < f->per_type[1].n; j++)
			if (resolve_col(p, &f->per_type[1].col[j], names, lens, n, err, errlen))
				return -1;
		for (j = 0; j < sizeof(single) / sizeof(single[0]); j++)
			if (resolve_col(p, single[j], names, lens, n, err, errlen))
				return -1;
	}
	for (i = 0; i < p->n_filters; i++)
		if (resolve_col(p, &p->filters[i].col, names, lens, n, err, errlen))
			return -1;
	return 0;
}
