/*
 * normalize.c - profile-driven mapping of fields to canonical records (see normalize.h).
 *
 * Owns a small scratch area for composed values (ids, date+time, messages); the
 * field text itself is stripped in place in the reader's buffer, so nothing is
 * allocated per record.
 */
#include "normalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "currency.h"
#include "log.h"
#include "money.h"
#include "timeparse.h"
#include "banned.h"

#define SCRATCH 1024

struct normalizer {
	struct profile *p;
	const char *channel;
	size_t expected_fields;
	char *combined_format;        /* date format + ' ' + time format */
	char id[NORMALIZE_MAX_ID + 1];
	char order_ref[NORMALIZE_MAX_ORDER_REF + 1];
	char datetime[SCRATCH];
	char reason[SCRATCH];
};

struct normalizer *normalize_new(struct profile *p, const char *channel)
{
	struct normalizer *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->p = p;
	n->channel = channel;
	return n;
}

void normalize_free(struct normalizer *n)
{
	if (n == NULL)
		return;
	free(n->combined_format);
	free(n);
}

static int in_set(const char *set, char c)
{
	return set != NULL && c != '\0' && strchr(set, c) != NULL;
}

/* Strip surrounding spaces and tabs, then the profile's characters, then spaces
 * and tabs again, in place.  Returns the stripped, NUL-terminated value. */
static char *strip(const struct profile *p, char *s, size_t len, size_t *out_len)
{
	char *end = s + len;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (pass == 0) {
			while (s < end && in_set(p->strip_leading, *s))
				s++;
			while (end > s && in_set(p->strip_trailing, end[-1]))
				end--;
		}
	}
	*end = '\0';
	*out_len = (size_t)(end - s);
	return s;
}

/* The stripped value of column C in REC ("" if the reference is unset). */
static const char *get(struct normalizer *n, const struct reader_record *rec,
		       const struct colref *c, size_t *len)
{
	char *v;

	if (c->index < 0 || (size_t)c->index >= rec->nfields) {
		*len = 0;
		return "";
	}
	/* Store the stripped value back, so that a second read of the column (a
	 * filter and a field on the same column) sees the same text and length. */
	v = strip(n->p, rec->field[c->index], rec->len[c->index], len);
	rec->field[c->index] = v;
	rec->len[c->index] = *len;
	return v;
}

int normalize_header(struct normalizer *n, const struct reader_record *rec, char *err, size_t errlen)
{
	struct profile *p = n->p;
	const struct field_spec *t = &p->field[F_TIME];
	size_t i;
	size_t lens[READER_MAX_FIELDS];

	n->expected_fields = rec->nfields;
	if (p->has_header) {
		/* A trailing delimiter gives an empty last name: not a column. */
		if (n->expected_fields > 0 && rec->len[n->expected_fields - 1] == 0)
			n->expected_fields--;
		for (i = 0; i < rec->nfields; i++) {
			char *s = strip(p, rec->field[i], rec->len[i], &lens[i]);
			memmove(rec->field[i], s, lens[i] + 1);
		}
	} else {
		for (i = 0; i < rec->nfields; i++)
			lens[i] = rec->len[i];
	}
	if (profile_resolve(p, rec->field, lens, n->expected_fields, err, errlen))
		return -1;
	if (t->time_format) {
		const char *df = t->format ? t->format : "iso8601";
		size_t len = strlen(df) + strlen(t->time_format) + 2;

		free(n->combined_format);
		n->combined_format = malloc(len);
		if (n->combined_format == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		snprintf(n->combined_format, len, "%s %s", df, t->time_format);
	}
	return 0;
}

/* BEFORE + VALUE (shortened to 76 bytes) + AFTER, into the scratch area. */
static const char *say(struct normalizer *n, const char *before, const char *value, const char *after)
{
	char shown[80];
	size_t len = strlen(value);

	if (len >= sizeof(shown)) {
		memcpy(shown, value, sizeof(shown) - 4);
		memcpy(shown + sizeof(shown) - 4, "...", 4);
	} else {
		memcpy(shown, value, len + 1);
	}
	snprintf(n->reason, sizeof(n->reason), "%s%s%s", before, shown, after);
	return n->reason;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* Join the non-empty values of SET with '|' into n->id.  Returns 0, -1 if too long. */
static int compose(struct normalizer *n, const struct reader_record *rec, const struct colset *set)
{
	size_t pos = 0, i;

	n->id[0] = '\0';
	for (i = 0; i < set->n; i++) {
		size_t len;
		const char *v = get(n, rec, &set->col[i], &len);

		if (len == 0)
			continue;
		if (pos + len + (pos ? 1 : 0) > NORMALIZE_MAX_ID)
			return -1;
		if (pos)
			n->id[pos++] = '|';
		memcpy(n->id + pos, v, len);
		pos += len;
	}
	n->id[pos] = '\0';
	return 0;
}

/* Row filters: returns the name of the first filter that skips the row, or NULL. */
static const char *filtered(struct normalizer *n, const struct reader_record *rec)
{
	size_t i, j;

	for (i = 0; i < n->p->n_filters; i++) {
		const struct filter_spec *f = &n->p->filters[i];
		size_t len;
		const char *v = get(n, rec, &f->col, &len);
		int listed = 0;

		if (f->has_regex) {
			listed = regexec(&f->regex, v, 0, NULL, 0) == 0;
		} else {
			for (j = 0; j < f->n_values && !listed; j++)
				listed = strcmp(v, f->values[j]) == 0;
		}
		if (listed != f->keep)
			return f->name;
	}
	return NULL;
}

enum normalize_result normalize_record(struct normalizer *n, const struct reader_record *rec,
				       struct canon_record *out, const char **reason,
				       const char **field)
{
	const struct profile *p = n->p;
	const struct field_spec *fs;
	const char *v;
	const char *why;
	size_t len;
	int64_t amount = 0;
	int have_amount_sign = 0;
	int f = -1;
	struct time_parts tp;

	memset(out, 0, sizeof(*out));
	out->line = rec->line;
	out->type = TYPE_NONE;
	*field = NULL;
	if (rec->error) {
		*reason = rec->error;
		return NORMALIZE_REJECT;
	}
	if (rec->nfields != n->expected_fields &&
	    !(rec->nfields == n->expected_fields + 1 && rec->len[rec->nfields - 1] == 0)) {
		snprintf(n->reason, sizeof(n->reason), "wrong field count: %zu fields, the header has %zu",
			 rec->nfields, n->expected_fields);
		*reason = n->reason;
		return NORMALIZE_REJECT;
	}
	why = filtered(n, rec);
	if (why) {
		*reason = why;
		return NORMALIZE_SKIP;
	}

	/* type / event */
	f = F_TYPE;
	fs = &p->field[F_TYPE];
	if (fs->constant) {
		size_t i;
		for (i = 0; i <= TYPE_CANCELLED; i++)
			if (strcmp(fs->constant, profile_type_name((enum record_type)i)) == 0)
				out->type = (enum record_type)i;
	} else if (fs->n_map > 0) {
		size_t i;

		v = get(n, rec, &fs->cols.col[0], &len);
		for (i = 0; i < fs->n_map; i++)
			if (strcmp(v, fs->map[i].value) == 0)
				break;
		if (i == fs->n_map) {
			if (fs->default_skip) {
				*reason = say(n, p->kind == PROFILE_LEDGER ? "event " : "type ", v, "");
				return NORMALIZE_SKIP;
			}
			*reason = say(n, "value '", v, p->kind == PROFILE_LEDGER ? "' is not mapped to an event"
									: "' is not mapped to a type");
			goto reject;
		}
		if (fs->map[i].type == TYPE_SKIP) {
			*reason = say(n, p->kind == PROFILE_LEDGER ? "event " : "type ", v, "");
			return NORMALIZE_SKIP;
		}
		out->type = fs->map[i].type;
	}

	/* channel */
	f = F_CHANNEL;
	fs = &p->field[F_CHANNEL];
	if (n->channel)
		v = n->channel;
	else if (fs->constant)
		v = fs->constant;
	else
		v = get(n, rec, &fs->cols.col[0], &len);
	if (*v == '\0') {
		*reason = "missing channel";
		goto reject;
	}
	if (strlen(v) > NORMALIZE_MAX_CHANNEL || has_control(v)) {
		*reason = "channel longer than 64 bytes or with control characters";
		goto reject;
	}
	out->channel = v;

	/* currency */
	f = F_CURRENCY;
	fs = &p->field[F_CURRENCY];
	if (fs->constant)
		v = fs->constant;
	else
		v = get(n, rec, &fs->cols.col[0], &len);
	out->exponent = currency_exponent(v, strlen(v), out->currency);
	if (out->exponent < 0) {
		*reason = *v ? say(n, "unknown currency '", v, "'") : "missing currency";
		goto reject;
	}

	/* amount, and the type when it comes from the sign or debit/credit columns */
	f = F_AMOUNT;
	fs = &p->field[F_AMOUNT];
	if (p->field[F_TYPE].from_debit_credit) {
		size_t dlen, clen;
		const char *d = get(n, rec, &fs->debit, &dlen);
		const char *c = get(n, rec, &fs->credit, &clen);
		int64_t dv = 0, cv = 0;

		if (dlen && (why = money_parse(d, dlen, &fs->money, out->exponent, &dv)) != NULL) {
			*reason = why;
			goto reject;
		}
		if (clen && (why = money_parse(c, clen, &fs->money, out->exponent, &cv)) != NULL) {
			*reason = why;
			goto reject;
		}
		if (cv != 0 && dv != 0) {
			*reason = "both debit and credit amounts are given";
			goto reject;
		}
		if (cv < 0) {
			*reason = "negative amount in the credit column";
			goto reject;
		}
		if (cv == 0 && dv == 0) {
			*reason = dlen || clen ? "amount is zero" : "missing amount (debit and credit both empty)";
			goto reject;
		}
		/* Money in is a charge; money out (written either sign) a refund. */
		out->type = cv ? TYPE_CHARGE : TYPE_REFUND;
		amount = cv ? cv : (dv < 0 ? -dv : dv);
	} else {
		const struct colref *c = &fs->cols.col[0];

		if (fs->cols.n == 0) {
			if (out->type != TYPE_CHARGE && out->type != TYPE_REFUND) {
				*reason = "no amount column for this type";
				goto reject;
			}
			c = &fs->per_type[out->type == TYPE_REFUND].col[0];
		}
		v = get(n, rec, c, &len);
		if (len == 0) {
			*reason = "missing amount";
			goto reject;
		}
		why = money_parse(v, len, &fs->money, out->exponent, &amount);
		if (why) {
			*reason = why;
			goto reject;
		}
		if (amount < 0) {
			if (!fs->sign_signed) {
				*reason = "negative amount in a column the profile declares positive";
				goto reject;
			}
			have_amount_sign = -1;
			amount = -amount;
		} else if (amount > 0) {
			have_amount_sign = 1;
		}
		if (p->field[F_TYPE].from_sign) {
			out->type = have_amount_sign < 0 ? TYPE_REFUND : TYPE_CHARGE;
		} else if (fs->sign_signed && have_amount_sign != 0) {
			int refundish = out->type == TYPE_REFUND || out->type == TYPE_REFUNDED;
			if ((have_amount_sign < 0) != refundish) {
				*reason = "amount sign contradicts the type";
				goto reject;
			}
		}
	}
	if (amount == 0 && (p->kind == PROFILE_STATEMENT || out->type == TYPE_PAID ||
			    out->type == TYPE_REFUNDED)) {
		*reason = "amount is zero";
		goto reject;
	}
	out->amount_minor = amount;

	/* time */
	f = F_TIME;
	fs = &p->field[F_TIME];
	v = get(n, rec, &fs->cols.col[0], &len);
	if (len == 0) {
		*reason = "missing date";
		goto reject;
	}
	if (fs->time_format) {
		size_t tlen;
		const char *t = get(n, rec, &fs->time_col, &tlen);
		if (len + tlen + 2 > sizeof(n->datetime)) {
			*reason = "date and time too long";
			goto reject;
		}
		snprintf(n->datetime, sizeof(n->datetime), "%s %s", v, t);
		why = timeparse_parse(n->datetime, len + 1 + tlen, n->combined_format, &tp);
	} else {
		why = timeparse_parse(v, len, fs->format ? fs->format : "iso8601", &tp);
	}
	if (why) {
		*reason = say(n, "", why, "");
		goto reject;
	}
	if (tp.has_offset) {
		out->time_us = tp.local_us - (int64_t)tp.offset_seconds * 1000000;
	} else if (fs->zone_col.index >= 0) {
		size_t zlen, i;
		const char *z = get(n, rec, &fs->zone_col, &zlen);

		for (i = 0; i < fs->n_zones; i++)
			if (strcmp(z, fs->zones[i].abbrev) == 0)
				break;
		if (i == fs->n_zones) {
			*reason = say(n, "unknown time zone abbreviation '", z, "'");
			goto reject;
		}
		out->time_us = tp.local_us - (int64_t)fs->zones[i].offset_seconds * 1000000;
	} else if (fs->offset_required) {
		*reason = "time has no UTC offset (the profile requires one)";
		goto reject;
	} else if (fs->timezone) {
		why = timeparse_local_to_utc(tp.local_us, fs->timezone, &out->time_us);
		if (why) {
			*reason = why;
			goto reject;
		}
	} else {
		*reason = "time has no UTC offset and the profile declares no time zone";
		goto reject;
	}

	/* order reference */
	f = F_ORDER_REF;
	fs = &p->field[F_ORDER_REF];
	v = get(n, rec, &fs->cols.col[0], &len);
	if (fs->has_regex) {
		regmatch_t m[2];

		if (regexec(&fs->regex, v, 2, m, 0) != 0) {
			if (fs->no_match_skip) {
				*reason = "order_ref not found";
				return NORMALIZE_SKIP;
			}
			*reason = "order reference not found by the profile's regex";
			goto reject;
		}
		if (m[1].rm_so < 0)
			m[1] = m[0];
		len = (size_t)(m[1].rm_eo - m[1].rm_so);
		if (len > NORMALIZE_MAX_ORDER_REF) {
			*reason = "order reference longer than 200 bytes";
			goto reject;
		}
		memcpy(n->order_ref, v + m[1].rm_so, len);
		n->order_ref[len] = '\0';
		v = n->order_ref;
	}
	if (len == 0) {
		*reason = "missing order reference";
		goto reject;
	}
	if (len > NORMALIZE_MAX_ORDER_REF) {
		*reason = "order reference longer than 200 bytes";
		goto reject;
	}
	if (has_control(v)) {
		*reason = "control character in order reference";
		goto reject;
	}
	out->order_ref = v;

	/* id */
	f = F_ID;
	fs = &p->field[F_ID];
	out->id = "";
	if (fs->present) {
		const struct colset *set = &fs->cols;

		if (fs->constant) {
			*reason = "an id cannot be a constant";
			goto reject;
		}
		if (set->n == 0)
			set = &fs->per_type[out->type == TYPE_REFUND];
		if (compose(n, rec, set)) {
			*reason = "id longer than 200 bytes";
			goto reject;
		}
		if (n->id[0] == '\0' && fs->required) {
			*reason = p->kind == PROFILE_LEDGER ? "missing event id" : "missing transaction id";
			goto reject;
		}
		if (has_control(n->id)) {
			*reason = "control character in id";
			goto reject;
		}
		out->id = n->id;
	}

	/* fee */
	f = F_FEE;
	fs = &p->field[F_FEE];
	if (fs->present) {
		const struct colset *set = fs->cols.n ? &fs->cols : &fs->per_type[out->type == TYPE_REFUND];

		/* A fee given for one type only (column.CHARGE) is absent on the other. */
		if (set->n > 0)
			v = get(n, rec, &set->col[0], &len);
		else
			len = 0;
		if (len > 0) {
			why = money_parse(v, len, &fs->money, out->exponent, &out->fee_minor);
			if (why) {
				*reason = why;
				goto reject;
			}
			if (out->fee_minor < 0 && !fs->sign_any) {
				*reason = "negative fee in a column the profile declares positive";
				goto reject;
			}
			out->has_fee = 1;
		}
	}
	return NORMALIZE_OK;
reject:
	*field = profile_field_name(p, f);
	return NORMALIZE_REJECT;
}

void normalize_reader_options(const struct profile *p, const char *path, struct reader_options *ro)
{
	memset(ro, 0, sizeof(*ro));
	ro->path = path;
	ro->encoding = p->encoding;
	ro->delimiter = p->delimiter;
	ro->quote = p->quote;
	ro->has_header = p->has_header;
	ro->preamble_lines = p->preamble_lines;
	ro->header_prefix = p->header_prefix;
	ro->header_regex = p->has_header_regex ? &p->header_regex : NULL;
	ro->skip_prefixes = (const char *const *)p->skip_prefixes;
	ro->n_skip_prefixes = p->n_skip_prefixes;
	ro->footer_prefixes = (const char *const *)p->footer_prefixes;
	ro->n_footer_prefixes = p->n_footer_prefixes;
	ro->max_record = p->max_record;
}

void normalize_tally_skip(struct skip_tally *t, const char *reason)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->r[i].reason, reason) == 0)
			break;
	if (i == t->n) {
		if (t->n == NORMALIZE_SKIP_REASONS - 1 || (t->n == NORMALIZE_SKIP_REASONS &&
							   strcmp(t->r[t->n - 1].reason, "other") == 0)) {
			/* The last slot counts every reason beyond the others. */
			i = NORMALIZE_SKIP_REASONS - 1;
			if (t->n < NORMALIZE_SKIP_REASONS) {
				snprintf(t->r[i].reason, sizeof(t->r[i].reason), "other");
				t->r[i].rows = 0;
				t->n = NORMALIZE_SKIP_REASONS;
			}
		} else {
			snprintf(t->r[i].reason, sizeof(t->r[i].reason), "%s", reason);
			t->r[i].rows = 0;
			t->n++;
		}
	}
	t->r[i].rows++;
}

struct file_ctx {
	struct profile *p;
	struct normalizer *norm;
	const char *path;
	normalize_row_fn fn;
	void *ctx;
	struct normalize_file_result *res;
	int header_done;
	int status;
};

static int on_file_record(void *ctx, const struct reader_record *rec)
{
	struct file_ctx *x = ctx;
	struct canon_record r;
	const char *reason = NULL, *field = NULL;
	enum normalize_result outcome;

	if (rec->is_header || (!x->p->has_header && !x->header_done)) {
		char err[512];

		if (normalize_header(x->norm, rec, err, sizeof(err))) {
			struct normalize_refusal *f = &x->res->refusal;

			f->kind = REFUSED_HEADER;
			f->msg = "file refused: header does not fit the profile";
			f->line = rec->line;
			snprintf(f->error, sizeof(f->error), "%s", err);
			x->status = EX_DATAERR;
			return 1;
		}
		x->header_done = 1;
		if (rec->is_header)
			return 0;
	}
	x->res->records++;
	outcome = normalize_record(x->norm, rec, &r, &reason, &field);
	if (outcome == NORMALIZE_SKIP) {
		x->res->skipped++;
		normalize_tally_skip(&x->res->skips, reason);
	} else if (outcome == NORMALIZE_REJECT) {
		x->res->rejected++;
	}
	x->status = x->fn(x->ctx, rec, outcome, &r, reason, field);
	return x->status != 0;
}

int normalize_file_quiet(struct profile *p, const char *path, const char *channel, normalize_row_fn fn,
			 void *ctx, struct normalize_file_result *res)
{
	struct file_ctx x;
	struct reader_options ro;
	struct reader_error err;
	int rc;

	memset(&x, 0, sizeof(x));
	memset(res, 0, sizeof(*res));
	x.p = p;
	x.path = path;
	x.fn = fn;
	x.ctx = ctx;
	x.res = res;
	x.norm = normalize_new(p, channel);
	if (x.norm == NULL)
		return EX_OSERR;
	normalize_reader_options(p, path, &ro);
	rc = reader_run(&ro, on_file_record, &x, &err, &res->stats);
	normalize_free(x.norm);
	if (rc < 0) {
		res->refusal.kind = REFUSED_READER;
		res->refusal.msg = rc == READER_EIO ? "cannot read input file" : "file refused";
		res->refusal.line = err.line;
		res->refusal.column = err.column;
		snprintf(res->refusal.error, sizeof(res->refusal.error), "%s", err.message);
		if (rc == READER_EIO)
			return err.line == 0 ? EX_NOINPUT : EX_IOERR;
		return rc == READER_ENOMEM ? EX_OSERR : EX_DATAERR;
	}
	if (x.status)
		return x.status;
	if (p->has_header && !x.header_done) {
		res->refusal.kind = REFUSED_NO_HEADER;
		res->refusal.msg = "file refused: no header line";
		return EX_DATAERR;
	}
	return 0;
}

void normalize_log_refusal(const struct profile *p, const char *path, const struct normalize_file_result *res)
{
	const struct normalize_refusal *f = &res->refusal;
	char line[24], col[24];

	switch (f->kind) {
	case REFUSED_NONE:
		break;
	case REFUSED_HEADER:
		snprintf(line, sizeof(line), "%ld", f->line);
		log_event(LOG_ERROR, f->msg, "file", path, "line", line, "profile", p->name, "error", f->error,
			  LOG_END);
		break;
	case REFUSED_READER:
		snprintf(line, sizeof(line), "%ld", f->line);
		snprintf(col, sizeof(col), "%ld", f->column);
		log_event(LOG_ERROR, f->msg, "file", path, "profile", p->name, "line", f->line ? line : NULL,
			  "column", f->column ? col : NULL, "error", f->error, LOG_END);
		break;
	case REFUSED_NO_HEADER:
		log_event(LOG_ERROR, f->msg, "file", path, LOG_END);
		break;
	}
}

int normalize_file(struct profile *p, const char *path, const char *channel, normalize_row_fn fn,
		   void *ctx, struct normalize_file_result *res)
{
	int status = normalize_file_quiet(p, path, channel, fn, ctx, res);

	normalize_log_refusal(p, path, res);
	return status;
}
