/*
 * match.c - ledger fold, matching and cases (see match.h).
 *
 * Owns, per run: the SQL functions it registers (recon_case_id, recon_money),
 * the temporary tables of the fold (t_expect, t_order, t_actions) and the run's
 * transaction.  The fold streams the ledger one order at a time in event order,
 * so that memory holds one order, never the ledger; the set work (grouping,
 * joining, classifying) is schemas/match.sql.
 */
#include "match.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>

#include "currency.h"
#include "embedded_sql.h"
#include "fault.h"
#include "log.h"
#include "money.h"
#include "banned.h"

/* Sorted by category (bsearch); a unit test checks order and uniqueness. */
static const struct match_action actions[] = {
	{ "AMOUNT_MISMATCH", "MANUAL_REVIEW" },
	{ "CHANNEL_MISMATCH", "MANUAL_REVIEW" },
	{ "CHARGED_AFTER_CANCEL", "REFUND" },
	{ "CHARGED_NOT_RECORDED", "MARK_PAID" },
	{ "CURRENCY_MISMATCH", "MANUAL_REVIEW" },
	{ "DOUBLE_CHARGE", "REFUND_EXCESS" },
	{ "DUPLICATE_REFUND", "RECOVER_EXCESS" },
	{ "LEDGER_ANOMALY", "FIX_LEDGER" },
	{ "ORPHAN_CHARGE", "REFUND" },
	{ "RECORDED_NOT_CHARGED", "INVESTIGATE" },
	{ "REFUND_NOT_RECORDED", "RECORD_REFUND" },
	{ "REFUND_NOT_SETTLED", "RETRY_REFUND" },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const struct match_action *match_actions(size_t *count)
{
	*count = COUNT(actions);
	return actions;
}

static int cmp_action(const void *key, const void *elem)
{
	return strcmp(key, ((const struct match_action *)elem)->category);
}

const char *match_action_for(const char *category)
{
	const struct match_action *a = bsearch(category, actions, COUNT(actions), sizeof(actions[0]), cmp_action);

	return a ? a->action : NULL;
}

/* ---- SQL functions ------------------------------------------------------------ */

/* recon_case_id(category, key): 32 hex digits of SHA-256 over the netstrings
 * "recon-case-v1", category, key bytes.  Stable across runs and machines. */
static void sql_case_id(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct routekey *rk = sqlite3_user_data(ctx);
	const char *fields[2];
	size_t lens[2];
	unsigned char digest[ROUTEKEY_LEN];
	char hex[2 * ROUTEKEY_LEN + 1];

	(void)argc;
	fields[0] = (const char *)sqlite3_value_text(argv[0]);
	lens[0] = (size_t)sqlite3_value_bytes(argv[0]);
	fields[1] = sqlite3_value_blob(argv[1]);
	lens[1] = (size_t)sqlite3_value_bytes(argv[1]);
	if (fields[0] == NULL || fields[1] == NULL ||
	    routekey_digest(rk, "recon-case-v1", fields, lens, 2, digest)) {
		sqlite3_result_error(ctx, "recon_case_id: cannot hash", -1);
		return;
	}
	routekey_hex(digest, hex);
	sqlite3_result_text(ctx, hex, 32, SQLITE_TRANSIENT);
}

/* recon_money(amount_minor, currency): the exact decimal ("-12.34"). */
static void sql_money(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *cur = (const char *)sqlite3_value_text(argv[1]);
	char buf[32];
	int exp;

	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER || cur == NULL) {
		sqlite3_result_error(ctx, "recon_money: amount is not an integer", -1);
		return;
	}
	exp = currency_exponent(cur, strlen(cur), NULL);
	if (exp < 0 || money_format(sqlite3_value_int64(argv[0]), exp, buf, sizeof(buf)) < 0) {
		sqlite3_result_error(ctx, "recon_money: unknown currency", -1);
		return;
	}
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

int match_register_functions(sqlite3 *db, struct routekey *rk)
{
	if (rk && sqlite3_create_function(db, "recon_case_id", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, rk,
					  sql_case_id, NULL, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_create_function(db, "recon_money", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				    sql_money, NULL, NULL) != SQLITE_OK)
		return -1;
	return 0;
}

/* ---- the ledger fold ------------------------------------------------------------ */

static const char *const state_names[] = { "NONE", "CREATED", "PAID", "REFUNDED", "CANCELLED" };

const char *match_state_name(enum order_state st)
{
	return state_names[st];
}

const char *match_apply_event(struct order_fold *o, const char *event, int64_t amount,
			      const char *currency, int *expects)
{
	*expects = 0;
	if (strcmp(event, "CREATED") == 0) {
		if (o->state != ST_NONE)
			return "CREATED_TWICE";
		o->state = ST_CREATED;
	} else if (strcmp(event, "PAID") == 0) {
		if (o->state == ST_CANCELLED)
			return "PAID_AFTER_CANCEL";
		if (o->state != ST_NONE && o->state != ST_CREATED)
			return "SECOND_PAID";
		/* A missing CREATED before PAID is tolerated. */
		o->state = ST_PAID;
		o->paid_amount = amount;
		o->refunded = 0;
		snprintf(o->paid_currency, sizeof(o->paid_currency), "%s", currency);
		*expects = 1;
	} else if (strcmp(event, "REFUNDED") == 0) {
		if (o->state != ST_PAID && o->state != ST_REFUNDED)
			return "REFUND_BEFORE_PAYMENT";
		if (strcmp(currency, o->paid_currency) != 0)
			return "REFUND_CURRENCY_DIFFERS";
		if (amount > o->paid_amount - o->refunded)
			return "REFUND_EXCEEDS_PAID";
		o->state = ST_REFUNDED;
		o->refunded += amount;
		*expects = 1;
	} else if (strcmp(event, "CANCELLED") == 0) {
		if (o->state == ST_PAID || o->state == ST_REFUNDED)
			return "CANCEL_AFTER_PAID";
		if (o->state == ST_CANCELLED)
			return "CANCELLED_TWICE";
		if (o->state == ST_NONE)
			return "CANCEL_WITHOUT_CREATED";
		o->state = ST_CANCELLED;
	}
	return NULL;
}

struct fold {
	sqlite3 *db;
	struct routekey *rk;
	int64_t run_id;
	sqlite3_stmt *events, *expect, *order, *anomaly;
	int64_t anomalies;
	int64_t overdue_before;   /* as_of - settlement window */
	/* the order being folded (reset from 'o' on for each order) */
	int have_order;
	char ref[256];
	unsigned char order_key[ROUTEKEY_LEN];
	struct order_fold o;
	char paid_channel[128];
	char paid_event[256];
	char cancel_event[256];
};

static const char fold_events_sql[] =
	"SELECT event_row_id, order_ref, event, amount_minor, currency, channel, event_time_us,"
	" coalesce(event_id, 'row:' || event_row_id), route_key, order_key, uid"
	" FROM ledger_events WHERE event_time_us <= ?1"
	" ORDER BY order_ref, event_time_us, event_row_id";

static const char fold_expect_sql[] =
	"INSERT INTO temp.t_expect (route_key, kind, channel, order_ref, currency, amount_minor, e,"
	" overdue, first_event_us, event_ids) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?9, ?7, ?8)"
	" ON CONFLICT (route_key) DO UPDATE SET e = e + 1, overdue = overdue + excluded.overdue,"
	" first_event_us = min(first_event_us, excluded.first_event_us),"
	" event_ids = event_ids || ';' || excluded.event_ids";

static const char fold_order_sql[] =
	"INSERT INTO temp.t_order (order_ref, state, paid_channel, paid_currency, paid_amount,"
	" paid_event_id, cancel_event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

static const char fold_anomaly_sql[] =
	"INSERT INTO run_anomalies (run_id, case_id, order_ref, event_id, event, reason, channel,"
	" currency, amount_minor, event_time_us, event_row_id)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

static const char fold_setup_sql[] =
	"DROP TABLE IF EXISTS temp.t_expect;"
	"DROP TABLE IF EXISTS temp.t_order;"
	"DROP TABLE IF EXISTS temp.t_actions;"
	"DROP TABLE IF EXISTS temp.t_actual;"
	"DROP TABLE IF EXISTS temp.t_keys;"
	"DROP TABLE IF EXISTS temp.t_class;"
	"DROP TABLE IF EXISTS temp.t_mismatched;"
	"CREATE TEMP TABLE t_expect (route_key BLOB PRIMARY KEY, kind TEXT NOT NULL, channel TEXT NOT NULL,"
	" order_ref TEXT NOT NULL, currency TEXT NOT NULL, amount_minor INTEGER NOT NULL,"
	" e INTEGER NOT NULL, overdue INTEGER NOT NULL, first_event_us INTEGER NOT NULL,"
	" event_ids TEXT NOT NULL);"
	"CREATE TEMP TABLE t_order (order_ref TEXT PRIMARY KEY, state TEXT NOT NULL, paid_channel TEXT,"
	" paid_currency TEXT, paid_amount INTEGER, paid_event_id TEXT, cancel_event_id TEXT);"
	"CREATE TEMP TABLE t_actions (category TEXT PRIMARY KEY, action TEXT NOT NULL);";

static int fold_flush(struct fold *f)
{
	sqlite3_stmt *st = f->order;
	int paid = f->o.state == ST_PAID || f->o.state == ST_REFUNDED;

	if (!f->have_order)
		return 0;
	sqlite3_bind_text(st, 1, f->ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, state_names[f->o.state], -1, SQLITE_STATIC);
	if (paid) {
		sqlite3_bind_text(st, 3, f->paid_channel, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, f->o.paid_currency, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, f->o.paid_amount);
		sqlite3_bind_text(st, 6, f->paid_event, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(st, 3);
		sqlite3_bind_null(st, 4);
		sqlite3_bind_null(st, 5);
		sqlite3_bind_null(st, 6);
	}
	if (f->o.state == ST_CANCELLED)
		sqlite3_bind_text(st, 7, f->cancel_event, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 7);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

static void copy(char *dst, size_t size, const unsigned char *src)
{
	snprintf(dst, size, "%s", src ? (const char *)src : "");
}

/* One event of the current order through the state machine (SPEC section 2). */
static int fold_event(struct fold *f, sqlite3_stmt *ev)
{
	const char *event = (const char *)sqlite3_column_text(ev, 2);
	int64_t amount = sqlite3_column_int64(ev, 3);
	const char *currency = (const char *)sqlite3_column_text(ev, 4);
	const char *channel = (const char *)sqlite3_column_text(ev, 5);
	int64_t when = sqlite3_column_int64(ev, 6);
	const char *event_id = (const char *)sqlite3_column_text(ev, 7);
	enum order_state before = f->o.state;
	int expects;
	const char *reason = match_apply_event(&f->o, event, amount, currency, &expects);

	if (reason == NULL && strcmp(event, "PAID") == 0) {
		copy(f->paid_channel, sizeof(f->paid_channel), (const unsigned char *)channel);
		copy(f->paid_event, sizeof(f->paid_event), (const unsigned char *)event_id);
	} else if (reason == NULL && f->o.state == ST_CANCELLED && before != ST_CANCELLED) {
		copy(f->cancel_event, sizeof(f->cancel_event), (const unsigned char *)event_id);
	}

	if (expects) {
		sqlite3_stmt *st = f->expect;
		const void *key = sqlite3_column_blob(ev, 8);

		if (key == NULL || sqlite3_column_bytes(ev, 8) != ROUTEKEY_LEN)
			return -1;
		sqlite3_bind_blob(st, 1, key, ROUTEKEY_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, strcmp(event, "PAID") == 0 ? "CHARGE" : "REFUND", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, channel, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, f->ref, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, currency, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 6, amount);
		sqlite3_bind_int64(st, 7, when);
		sqlite3_bind_text(st, 8, event_id, -1, SQLITE_TRANSIENT);
		/* Past the settlement window: strictly before as-of minus the window. */
		sqlite3_bind_int(st, 9, when < f->overdue_before);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_reset(st);
			return -1;
		}
		sqlite3_reset(st);
	}
	if (reason) {
		sqlite3_stmt *st = f->anomaly;
		unsigned char key[2 * ROUTEKEY_LEN], digest[ROUTEKEY_LEN];
		const char *fields[2] = { "LEDGER_ANOMALY", (const char *)key };
		size_t lens[2] = { 14, sizeof(key) };
		char hex[2 * ROUTEKEY_LEN + 1];

		/* The case is the event: its order key and its row identity. */
		if (sqlite3_column_bytes(ev, 10) != ROUTEKEY_LEN)
			return -1;
		memcpy(key, f->order_key, ROUTEKEY_LEN);
		memcpy(key + ROUTEKEY_LEN, sqlite3_column_blob(ev, 10), ROUTEKEY_LEN);
		if (routekey_digest(f->rk, "recon-case-v1", fields, lens, 2, digest))
			return -1;
		routekey_hex(digest, hex);
		sqlite3_bind_int64(st, 1, f->run_id);
		sqlite3_bind_text(st, 2, hex, 32, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, f->ref, -1, SQLITE_STATIC);
		sqlite3_bind_value(st, 4, sqlite3_column_value(ev, 7));
		sqlite3_bind_text(st, 5, event, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 6, reason, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, channel, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 8, currency, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 9, amount);
		sqlite3_bind_int64(st, 10, when);
		sqlite3_bind_int64(st, 11, sqlite3_column_int64(ev, 0));
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_reset(st);
			return -1;
		}
		sqlite3_reset(st);
		f->anomalies++;
	}
	return 0;
}

static int fold_ledger(struct fold *f, int64_t as_of)
{
	sqlite3_stmt *ev = f->events;
	int rc;

	sqlite3_bind_int64(ev, 1, as_of);
	while ((rc = sqlite3_step(ev)) == SQLITE_ROW) {
		const char *ref = (const char *)sqlite3_column_text(ev, 1);

		if (!f->have_order || strcmp(ref, f->ref) != 0) {
			if (fold_flush(f))
				goto fail;
			memset(&f->o, 0, sizeof(*f) - offsetof(struct fold, o));
			copy(f->ref, sizeof(f->ref), (const unsigned char *)ref);
			if (sqlite3_column_bytes(ev, 9) != ROUTEKEY_LEN)
				goto fail;
			memcpy(f->order_key, sqlite3_column_blob(ev, 9), ROUTEKEY_LEN);
			f->have_order = 1;
		}
		if (fold_event(f, ev))
			goto fail;
	}
	if (rc != SQLITE_DONE || fold_flush(f))
		goto fail;
	sqlite3_reset(ev);
	return 0;
fail:
	sqlite3_reset(ev);
	return -1;
}

/* ---- the run ------------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fill_actions(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	size_t i;

	if (sqlite3_prepare_v2(db, "INSERT INTO temp.t_actions (category, action) VALUES (?1, ?2)", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	for (i = 0; i < COUNT(actions); i++) {
		sqlite3_bind_text(st, 1, actions[i].category, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, actions[i].action, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return 0;
}

int match_run(struct store *s, struct routekey *rk, const struct match_options *opts,
	      struct match_result *res)
{
	sqlite3 *db = store_handle(s);
	struct fold *f = NULL;
	const char *what = "cannot start the run";
	int64_t t0 = now_ms(), bad = 0;
	int status = EX_SOFTWARE;
	static const char *const names[] = { ":run", ":as_of", ":grace", ":window" };
	int64_t values[4];

	memset(res, 0, sizeof(*res));
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return EX_OSERR;
	f->db = db;
	f->rk = rk;
	f->overdue_before = opts->as_of_us - opts->window_us;
	if (match_register_functions(db, rk) || store_begin(s))
		goto fail;
	f->run_id = opts->run_id;
	what = "cannot fold the ledger";
	if (sqlite3_exec(db, fold_setup_sql, NULL, NULL, NULL) != SQLITE_OK || fill_actions(db) ||
	    sqlite3_prepare_v2(db, fold_events_sql, -1, &f->events, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, fold_expect_sql, -1, &f->expect, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, fold_order_sql, -1, &f->order, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, fold_anomaly_sql, -1, &f->anomaly, NULL) != SQLITE_OK ||
	    fold_ledger(f, opts->as_of_us))
		goto fail;
	fault_point("match-folded");
	what = "cannot classify";
	values[0] = f->run_id;
	values[1] = opts->as_of_us;
	values[2] = opts->grace_us;
	values[3] = opts->window_us;
	if (store_exec_script(s, sql_match, names, values, 4)) {
		log_event(LOG_ERROR, "matching failed", "error", store_errmsg(s), LOG_END);
		what = NULL;
		goto fail;
	}
	/* SQLite turns an overflowing integer product into a float: refuse it. */
	if (store_query_int(s, "SELECT count(*) FROM run_cases WHERE run_id = ?1"
			       " AND typeof(amount_minor) <> 'integer'", f->run_id, 0, &bad) || bad) {
		what = "a case amount overflows 64-bit minor units";
		goto fail;
	}
	if (store_query_int(s, "SELECT count(*) FROM run_cases WHERE run_id = ?1 AND status = 'open'",
			    f->run_id, 0, &res->open_cases) ||
	    store_query_int(s, "SELECT count(*) FROM run_cases WHERE run_id = ?1 AND status = 'resolved'",
			    f->run_id, 0, &res->resolved_cases))
		goto fail;
	what = "cannot finish the run";
	if (store_exec(s, "UPDATE runs SET match_ms = ?2 WHERE run_id = ?1", f->run_id, now_ms() - t0, NULL, NULL))
		goto fail;
	fault_point("match-commit");
	if (store_commit(s))
		goto fail;
	fault_point("match-committed");
	res->run_id = f->run_id;
	status = 0;
	goto out;
fail:
	if (what)
		log_event(LOG_ERROR, what, "error", sqlite3_errmsg(db), LOG_END);
	if (store_rollback(s))
		log_event(LOG_ERROR, "rollback failed", "error", store_errmsg(s), LOG_END);
out:
	sqlite3_finalize(f->events);
	sqlite3_finalize(f->expect);
	sqlite3_finalize(f->order);
	sqlite3_finalize(f->anomaly);
	free(f);
	return status;
}
