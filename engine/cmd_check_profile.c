/*
 * cmd_check_profile.c - recon check-profile: parse a file with a profile and print
 * the canonical records it yields, every reject with its reason, and the skip
 * counts, without touching any database.
 */
#include <csv.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "log.h"
#include "money.h"
#include "normalize.h"
#include "profile.h"
#include "reader.h"
#include "timeparse.h"
#include "banned.h"

struct check_ctx {
	struct profile *p;
	struct normalizer *norm;
	const char *path;
	long limit;          /* records printed; 0 = all */
	long shown;
	long records, rejected, skipped;
	int header_done;
	int status;
	struct skip_tally skips;
	FILE *rejects;       /* rejects are collected here and printed after the records */
};

int cmd_csv_field(const char *s, FILE *f)
{
	size_t len = strlen(s);

	if (strpbrk(s, ",\"\r\n") == NULL && (len == 0 || (s[0] != ' ' && s[len - 1] != ' ')))
		return fputs(s, f) < 0 ? EOF : 0;
	return csv_fwrite(f, s, len);
}

static void put_row(FILE *f, const char *const *cells, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		cmd_csv_field(cells[i], f);
	}
	fputc('\n', f);
}

static void print_record(struct check_ctx *x, const struct canon_record *r)
{
	char line[24], amount[32], when[40], fee[32];
	const char *cells[9];

	snprintf(line, sizeof(line), "%ld", r->line);
	money_format(r->amount_minor, r->exponent, amount, sizeof(amount));
	timeparse_format_utc(r->time_us, when, sizeof(when));
	fee[0] = '\0';
	if (r->has_fee)
		money_format(r->fee_minor, r->exponent, fee, sizeof(fee));
	cells[0] = line;
	cells[1] = r->id;
	cells[2] = r->order_ref;
	cells[3] = profile_type_name(r->type);
	cells[4] = amount;
	cells[5] = r->currency;
	cells[6] = when;
	cells[7] = r->channel;
	cells[8] = fee;
	put_row(stdout, cells, x->p->kind == PROFILE_LEDGER ? 8 : 9);
}

static int on_record(void *ctx, const struct reader_record *rec)
{
	struct check_ctx *x = ctx;
	struct canon_record r;
	const char *reason, *field;

	if (rec->is_header || (!x->p->has_header && !x->header_done)) {
		char err[512];

		if (normalize_header(x->norm, rec, err, sizeof(err))) {
			char line[24];
			snprintf(line, sizeof(line), "%ld", rec->line);
			log_event(LOG_ERROR, "file refused: header does not fit the profile", "file", x->path,
				  "line", line, "profile", x->p->name, "error", err, LOG_END);
			x->status = EX_DATAERR;
			return 1;
		}
		x->header_done = 1;
		if (rec->is_header)
			return 0;
	}
	x->records++;
	switch (normalize_record(x->norm, rec, &r, &reason, &field)) {
	case NORMALIZE_OK:
		if (x->limit == 0 || x->shown < x->limit) {
			print_record(x, &r);
			x->shown++;
		}
		break;
	case NORMALIZE_SKIP:
		x->skipped++;
		normalize_tally_skip(&x->skips, reason);
		break;
	case NORMALIZE_REJECT: {
		char line[24], raw[READER_RAW_MAX + 1];
		const char *cells[4];

		x->rejected++;
		snprintf(line, sizeof(line), "%ld", rec->line);
		memcpy(raw, rec->raw, rec->raw_len);
		raw[rec->raw_len] = '\0';
		cells[0] = line;
		cells[1] = field ? field : "";
		cells[2] = reason;
		cells[3] = raw;
		put_row(x->rejects, cells, 4);
		break;
	}
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: recon check-profile [--limit N] [--channel NAME] PROFILE FILE\n\n"
		"Parse FILE with PROFILE and print, on standard output: the first N canonical\n"
		"records (default 20; 0 = all) as CSV, then every rejected row with its line,\n"
		"field and reason, then the rows skipped on purpose per reason, then totals.\n"
		"No database is touched.  Exit status 65 when the file would be refused.\n");
}

int cmd_check_profile(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "limit", required_argument, NULL, 'l' },
		{ "channel", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_ctx x;
	struct reader_options ro;
	struct reader_error rerr;
	const char *channel = NULL;
	char err[600];
	char *end;
	int c, rc;
	size_t i;

	memset(&x, 0, sizeof(x));
	x.limit = 20;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			x.limit = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || x.limit < 0) {
				fprintf(stderr, "recon check-profile: --limit takes a whole number, not '%s'\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'c': channel = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return EX_USAGE;
	}
	x.path = argv[optind + 1];
	x.p = profile_load(argv[optind], err, sizeof(err));
	if (x.p == NULL) {
		log_event(LOG_ERROR, "cannot load profile", "error", err, LOG_END);
		return EX_USAGE;
	}
	x.norm = normalize_new(x.p, channel);
	x.rejects = tmpfile();
	if (x.norm == NULL || x.rejects == NULL) {
		log_event(LOG_ERROR, "cannot allocate working memory or a temporary file", LOG_END);
		x.status = EX_OSERR;
		goto out;
	}
	if (x.p->kind == PROFILE_LEDGER)
		printf("line,event_id,order_ref,event,amount,currency,event_time,channel\n");
	else
		printf("line,txn_id,order_ref,type,amount,currency,booked_at,channel,fee\n");
	normalize_reader_options(x.p, x.path, &ro);
	rc = reader_run(&ro, on_record, &x, &rerr, NULL);
	if (rc < 0) {
		char line[24], col[24];
		snprintf(line, sizeof(line), "%ld", rerr.line);
		snprintf(col, sizeof(col), "%ld", rerr.column);
		log_event(LOG_ERROR, rc == READER_EIO ? "cannot read input file" : "file refused",
			  "file", x.path, "line", rerr.line ? line : NULL, "column", rerr.column ? col : NULL,
			  "error", rerr.message, LOG_END);
		x.status = rc == READER_EIO ? EX_NOINPUT : EX_DATAERR;
		goto out;
	}
	if (x.status)
		goto out;
	printf("\nrejected rows\nline,field,reason,raw\n");
	rewind(x.rejects);
	{
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), x.rejects)) > 0)
			fwrite(buf, 1, n, stdout);
	}
	printf("\nskipped rows\nreason,rows\n");
	for (i = 0; i < x.skips.n; i++) {
		cmd_csv_field(x.skips.r[i].reason, stdout);
		printf(",%lld\n", (long long)x.skips.r[i].rows);
	}
	printf("\nrecords=%ld accepted=%ld rejected=%ld skipped=%ld\n", x.records,
	       x.records - x.rejected - x.skipped, x.rejected, x.skipped);
	{
		long considered = x.records - x.skipped;
		if (x.rejected > 0 && x.rejected * 1000000 > x.p->reject_share_ppm * considered) {
			log_event(LOG_ERROR, "file would be refused: too many rejected rows", "file", x.path,
				  "profile", x.p->name, LOG_END);
			x.status = EX_DATAERR;
		}
	}
	if (x.p->has_header && !x.header_done) {
		log_event(LOG_ERROR, "file refused: no header line", "file", x.path, LOG_END);
		x.status = EX_DATAERR;
	}
out:
	if (x.rejects)
		fclose(x.rejects);
	normalize_free(x.norm);
	profile_free(x.p);
	return x.status;
}
