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
	long limit;          /* records printed; 0 = all */
	long shown;
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

static int on_row(void *ctx, const struct reader_record *rec, enum normalize_result result,
		  const struct canon_record *r, const char *reason, const char *field)
{
	struct check_ctx *x = ctx;

	if (result == NORMALIZE_OK && (x->limit == 0 || x->shown < x->limit)) {
		print_record(x, r);
		x->shown++;
	} else if (result == NORMALIZE_REJECT) {
		char line[24], raw[READER_RAW_MAX + 1];
		const char *cells[4];

		snprintf(line, sizeof(line), "%ld", rec->line);
		memcpy(raw, rec->raw, rec->raw_len);
		raw[rec->raw_len] = '\0';
		cells[0] = line;
		cells[1] = field ? field : "";
		cells[2] = reason;
		cells[3] = raw;
		put_row(x->rejects, cells, 4);
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: recon check-profile [--limit N] [--channel NAME] [--max-reject-share S]\n"
		"                           PROFILE FILE\n\n"
		"Parse FILE with PROFILE and print, on standard output: the first N canonical\n"
		"records (default 20; 0 = all) as CSV, then every rejected row with its line,\n"
		"field and reason, then the rows skipped on purpose per reason, then totals.\n"
		"No database is touched.  Exit status 65 when the file would be refused (by\n"
		"the profile's reject share, or S as recon ingest --max-reject-share takes it).\n");
}

int cmd_check_profile(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "limit", required_argument, NULL, 'l' },
		{ "channel", required_argument, NULL, 'c' },
		{ "max-reject-share", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_ctx x;
	struct normalize_file_result nr;
	const char *channel = NULL, *path;
	long share = -1;
	char err[600];
	char *end;
	int c, status;
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
		case 's':
			share = profile_parse_share(optarg);
			if (share < 0) {
				fprintf(stderr, "recon check-profile: --max-reject-share takes a share such as 1%% or 0.5%%,"
						" not '%s'\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return EX_USAGE;
	}
	path = argv[optind + 1];
	x.p = profile_load(argv[optind], err, sizeof(err));
	if (x.p == NULL) {
		log_event(LOG_ERROR, "cannot load profile", "error", err, LOG_END);
		return EX_USAGE;
	}
	x.rejects = tmpfile();
	if (x.rejects == NULL) {
		log_event(LOG_ERROR, "cannot create a temporary file", LOG_END);
		status = EX_OSERR;
		goto out;
	}
	if (x.p->kind == PROFILE_LEDGER)
		printf("line,event_id,order_ref,event,amount,currency,event_time,channel\n");
	else
		printf("line,txn_id,order_ref,type,amount,currency,booked_at,channel,fee\n");
	status = normalize_file(x.p, path, channel, on_row, &x, &nr);
	if (status)
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
	for (i = 0; i < nr.skips.n; i++) {
		cmd_csv_field(nr.skips.r[i].reason, stdout);
		printf(",%lld\n", (long long)nr.skips.r[i].rows);
	}
	printf("\nrecords=%lld accepted=%lld rejected=%lld skipped=%lld\n", (long long)nr.records,
	       (long long)(nr.records - nr.rejected - nr.skipped), (long long)nr.rejected, (long long)nr.skipped);
	if (share < 0)
		share = x.p->reject_share_ppm;
	if (nr.rejected > 0 && nr.rejected * 1000000 > share * (nr.records - nr.skipped)) {
		log_event(LOG_ERROR, "file would be refused: too many rejected rows", "file", path,
			  "profile", x.p->name, LOG_END);
		status = EX_DATAERR;
	}
out:
	if (x.rejects)
		fclose(x.rejects);
	profile_free(x.p);
	return status;
}
