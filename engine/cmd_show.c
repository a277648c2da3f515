/*
 * cmd_show.c - recon show: everything recon knows of one order, for the person on
 * the phone with a customer: its ledger events with the state they lead to, its
 * statement rows, their keys, and its cases in the latest run.
 */
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "log.h"
#include "match.h"
#include "money.h"
#include "routekey.h"
#include "store.h"
#include "timeparse.h"
#include "banned.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: recon show --db PATH ORDER_REF\n\n"
		"Print every ledger event (with the state it leads to, or why it is an\n"
		"anomaly), every statement row, their route keys, and the order's cases in\n"
		"the latest successful run.\n");
}

static const char *text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

static void money(sqlite3_stmt *st, int amount_col, int currency_col, char *buf, size_t size)
{
	if (money_format_currency(sqlite3_column_int64(st, amount_col), text(st, currency_col), buf, size) < 0)
		snprintf(buf, size, "?");
}

static void when(sqlite3_stmt *st, int i, char *buf, size_t size)
{
	if (timeparse_format_utc(sqlite3_column_int64(st, i), buf, size) < 0)
		snprintf(buf, size, "?");
}

/*
 * A key as 64 hex digits into OUT: the one stored in column I, or, with plain
 * keys (none stored: schemas/migrations/0010_plain_keys.sql), the one RK
 * (plain SHA-256) makes of the row: with KIND NULL the order key of REF, else
 * the route key of KIND, REF and the channel, currency and amount in columns
 * 4, 3 and 2.  Returns 0, or -1 if OpenSSL fails.
 */
static int key_hex(sqlite3_stmt *st, int i, struct routekey *rk, const char *kind, const char *ref,
		   char out[2 * ROUTEKEY_LEN + 1])
{
	unsigned char key[ROUTEKEY_LEN];

	if (sqlite3_column_type(st, i) != SQLITE_NULL) {
		snprintf(out, 2 * ROUTEKEY_LEN + 1, "%s", text(st, i));
		return 0;
	}
	if (kind ? routekey_route_plain(rk, kind, text(st, 4), ref, text(st, 3), sqlite3_column_int64(st, 2), key)
		 : routekey_order_plain(rk, ref, key))
		return -1;
	routekey_hex(key, out);
	return 0;
}

static int show(sqlite3 *db, struct routekey *rk, const char *ref)
{
	sqlite3_stmt *st = NULL;
	struct order_fold o;
	int rc, rows = 0;
	int64_t run = 0, as_of = 0;

	memset(&o, 0, sizeof(o));
	printf("order %s\n", ref);
	if (sqlite3_prepare_v2(db,
			       "SELECT e.event_time_us, e.event, e.amount_minor, e.currency, e.channel,"
			       " coalesce(e.event_id, '-'), nullif(lower(hex(e.route_key)), ''), f.path, e.line,"
			       " nullif(lower(hex(e.order_key)), '')"
			       " FROM ledger_events AS e JOIN files AS f ON f.file_id = e.file_id"
			       " WHERE e.late IN (0, 1) AND e.order_ref = ?1 ORDER BY e.event_time_us, e.event_row_id",
			       -1, &st, NULL) != SQLITE_OK)
		goto db;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	printf("\nledger events, in event order:\n");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char t[40], amount[32], hex[2 * ROUTEKEY_LEN + 1];
		int expects;
		const char *why;

		if (rows++ == 0) {
			if (key_hex(st, 9, rk, NULL, ref, hex))
				goto key;
			printf("  order key %s\n", hex);
		}
		when(st, 0, t, sizeof(t));
		money(st, 2, 3, amount, sizeof(amount));
		why = match_apply_event(&o, text(st, 1), sqlite3_column_int64(st, 2), text(st, 3), &expects);
		printf("  %s  %-9s %14s %s  %-10s %-14s -> %s%s%s\n", t, text(st, 1), amount, text(st, 3),
		       text(st, 4), text(st, 5), why ? "ANOMALY " : match_state_name(o.state), why ? why : "",
		       expects ? (strcmp(text(st, 1), "PAID") == 0 ? ", expects a CHARGE" : ", expects a REFUND") : "");
		if (expects && key_hex(st, 6, rk, strcmp(text(st, 1), "PAID") == 0 ? "CHARGE" : "REFUND", ref, hex))
			goto key;
		printf("      from %s line %lld%s%s\n", text(st, 7), (long long)sqlite3_column_int64(st, 8),
		       expects ? ", route key " : "", expects ? hex : "");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto db;
	if (rows == 0)
		printf("  none (the order is unknown to the ledger)\n");
	else
		printf("  state: %s\n", match_state_name(o.state));

	rows = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT s.booked_at_us, s.type, s.amount_minor, s.currency, s.channel,"
			       " coalesce(s.txn_id, '-'), nullif(lower(hex(s.route_key)), ''), f.path, s.line, s.fee_minor"
			       " FROM statement_rows AS s JOIN files AS f ON f.file_id = s.file_id"
			       " WHERE s.late IN (0, 1) AND s.order_ref = ?1 ORDER BY s.booked_at_us, s.row_id",
			       -1, &st, NULL) != SQLITE_OK)
		goto db;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	printf("\nstatement rows, in booking order:\n");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char t[40], amount[32], hex[2 * ROUTEKEY_LEN + 1];

		rows++;
		when(st, 0, t, sizeof(t));
		money(st, 2, 3, amount, sizeof(amount));
		if (key_hex(st, 6, rk, text(st, 1), ref, hex))
			goto key;
		printf("  %s  %-9s %14s %s  %-10s %s\n", t, text(st, 1), amount, text(st, 3), text(st, 4),
		       text(st, 5));
		printf("      from %s line %lld, route key %s\n", text(st, 7), (long long)sqlite3_column_int64(st, 8),
		       hex);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto db;
	if (rows == 0)
		printf("  none\n");

	if (sqlite3_prepare_v2(db, "SELECT run_id, as_of_us FROM runs WHERE status = 'OK' ORDER BY run_id DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		goto db;
	if (sqlite3_step(st) == SQLITE_ROW) {
		run = sqlite3_column_int64(st, 0);
		as_of = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (run == 0) {
		printf("\ncases: no run yet (recon match)\n");
		return 0;
	}
	{
		char t[40];
		timeparse_format_utc(as_of, t, sizeof(t));
		printf("\ncases in run %lld (as of %s):\n", (long long)run, t);
	}
	rows = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT case_id, category, action, status, amount_minor, currency, detail, txn_ids,"
			       " ledger_event_ids FROM run_cases WHERE run_id = ?1 AND order_ref = ?2"
			       " ORDER BY status, category, case_id", -1, &st, NULL) != SQLITE_OK)
		goto db;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char amount[32];

		rows++;
		money(st, 4, 5, amount, sizeof(amount));
		printf("  %s %s: %s %s %s, %s\n", text(st, 0), text(st, 3), text(st, 1), amount, text(st, 5),
		       text(st, 2));
		printf("      %s", text(st, 6));
		if (*text(st, 7))
			printf("; transactions %s", text(st, 7));
		if (*text(st, 8))
			printf("; ledger events %s", text(st, 8));
		printf("\n");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto db;
	if (rows == 0)
		printf("  none\n");
	return 0;
db:
	log_event(LOG_ERROR, "cannot read the database", "error", sqlite3_errmsg(db), LOG_END);
	return EX_SOFTWARE;
key:
	sqlite3_finalize(st);
	log_event(LOG_ERROR, "cannot make a key (OpenSSL)", "order", ref, LOG_END);
	return EX_SOFTWARE;
}

int cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct store *s = NULL;
	struct routekey *rk;
	const char *db = NULL;
	char err[600];
	int c, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (db == NULL || argc - optind != 1) {
		usage(stderr);
		return EX_USAGE;
	}
	if (store_open(db, &s, err, sizeof(err))) {
		log_event(LOG_ERROR, "cannot open database", "error", err, LOG_END);
		return EX_CANTCREAT;
	}
	/* Plain SHA-256, for the keys a plain database does not store. */
	rk = routekey_new(NULL, 0);
	if (rk == NULL) {
		log_event(LOG_ERROR, "cannot set up SHA-256 (OpenSSL)", LOG_END);
		store_close(s);
		return EX_SOFTWARE;
	}
	status = show(store_handle(s), rk, argv[optind]);
	routekey_free(rk);
	store_close(s);
	return status;
}
