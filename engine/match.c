/*
 * match.c - ledger fold, matching and cases (see match.h).
 *
 * Owns, per run: the SQL functions it registers (recon_case_id, recon_money),
 * the merge of the ledger and the statements one order at a time (memory holds
 * one order, never the ledger), and the run's transaction.  The per-key rules
 * are classify.c; what spans orders and runs (anomaly cases, cases resolved
 * since the previous run, the summary) is schemas/match.sql.
 */
#include "match.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>

#include "classify.h"
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

	(void)argc;
	if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER || cur == NULL) {
		sqlite3_result_error(ctx, "recon_money: amount is not an integer", -1);
		return;
	}
	if (money_format_currency(sqlite3_value_int64(argv[0]), cur, buf, sizeof(buf)) < 0) {
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

/*
 * The merge.  Both tables are clustered by (order_ref, time, row id), so two
 * cursors read them in order side by side, and each order is matched as soon as
 * both have passed it: its events folded, its statement transactions counted
 * per route key, every key classified (classify.c), its cases and anomalies
 * written.  Memory holds one order, in buffers reused from order to order.
 */
struct mev {                   /* a visible ledger event of the current order */
	int64_t time_us, row_id, amount;
	size_t id, event, channel; /* offsets into the order's text buffer */
	char currency[4];
	int has_route;
	int has_uid, has_order_key; /* stored; else made by write_anomaly, the one reader */
	unsigned char route[ROUTEKEY_LEN], uid[ROUTEKEY_LEN], order_key[ROUTEKEY_LEN];
	int key;                   /* index into keys, or -1 */
};

struct mrow {                  /* a visible statement row of the current order */
	int64_t time_us, row_id, amount;
	size_t txn, channel;       /* txn: the id, or "row:ROW_ID" */
	char currency[4];
	int refund, has_route;     /* has_route: a route key is stored (HMAC keys only) */
	unsigned char route[ROUTEKEY_LEN];
	int key;
};

struct mkey {                  /* a route key of the current order; its counts are ck[i] */
	unsigned char route[ROUTEKEY_LEN];
	int has_route;             /* route is set: stored on a row, or made by write_case */
	size_t channel;
};

struct tally {                 /* MATCHED and PENDING keys per category and currency */
	const char *category;
	char currency[4];
	int64_t keys, amount;
};

/* Which rows a pass sees: this run's (time at or before its as_of), or the base
 * run's (also ingested before it: row id below its counters). */
enum view { VIEW_RUN, VIEW_BASE };

#define MAX_ARMS 4

struct fold {
	sqlite3 *db;
	struct routekey *rk;
	int64_t run_id;
	struct cwindow w;
	int64_t base_run;          /* incremental: the run built on, else 0 */
	int64_t base_as_of;
	int64_t base_next[2];      /* its next row ids: [0] statement rows, [1] events */
	int base_frontier;         /* it recorded an order_frontier (see dirty_sql) */
	struct arms {              /* statements merged into one stream (see fold_events_sql) */
		sqlite3_stmt *st[MAX_ARMS];
		int n;
		int state[MAX_ARMS]; /* 0: a row, 1: done, -1: failed; unstepped before the first */
		const unsigned char *ref[MAX_ARMS]; /* each row's order_ref, valid until the next step */
		size_t len[MAX_ARMS];
		int started;
		int cur;             /* the arm whose row is the stream's, -1 when all are done */
	} events, rows;
	sqlite3_stmt *cases, *anomaly, *summary, *watch;
	int64_t anomalies;
	/* the current order, reused */
	char *text;
	size_t text_len, text_cap;
	struct mev *ev;
	size_t n_ev, cap_ev;
	struct mrow *row;
	size_t n_row, cap_row;
	struct mkey *key;
	struct ckey *ck;
	size_t n_key, cap_key, cap_ck;
	size_t *pick;              /* scratch: a key's rows, in txn_ids order */
	size_t cap_pick;
	struct jbuf {
		char *p;
		size_t cap;
	} join[2];                 /* a case's txn_ids and ledger_event_ids */
	struct tally tally[256];
	size_t n_tally;
	const char *fail;          /* why the match failed, when not SQLite */
};

/* Every row of the orders matched, visible or not: a row later than as_of puts
 * its order on the watch list.  Full match: all orders.  Incremental: the
 * orders in temp.t_dirty, and every order at or after the base run's frontier
 * (see dirty_sql), with all its rows.  Rows are in two segments, main and late
 * (schemas/migrations/0005_late_rows.sql), so each is read by several
 * statements ("arms"), each in (order_ref, time, row id) order, which the fold
 * merges (struct arms): SQLite's own merge of a compound SELECT cost a quarter
 * of a microsecond per row more.  The dirty orders are looked up in the late
 * segment only up to its greatest order_ref (it holds no later one), not each
 * new order of the night; the order_ref is the dirty table's, in whose order
 * the scan runs, and the unary + keeps SQLite from turning that bound into a
 * range scan of the late segment per dirty order.  ?1 is the base run. */
#define EVENT_COLS(REF) \
	"SELECT " REF ", e.event_time_us, e.event_row_id, e.event, e.amount_minor, e.currency," \
	" e.channel, coalesce(e.event_id, 'row:' || e.event_row_id), e.route_key, e.uid, e.order_key"
#define EVENT_ORDER(REF) " ORDER BY " REF ", e.event_time_us, e.event_row_id"
#define ROW_COLS(REF) \
	"SELECT " REF ", s.booked_at_us, s.row_id, s.type, s.amount_minor, s.currency, s.channel," \
	" coalesce(s.txn_id, 'row:' || s.row_id), s.route_key"
#define ROW_ORDER(REF) " ORDER BY " REF ", s.booked_at_us, s.row_id"
#define BASE_FRONTIER_OF(RUN) "(SELECT order_frontier FROM runs WHERE run_id = " RUN ")"
#define BASE_FRONTIER BASE_FRONTIER_OF("?1")

static const char *const fold_events_sql[] = {
	EVENT_COLS("e.order_ref") " FROM ledger_events AS e WHERE e.late = 0" EVENT_ORDER("e.order_ref"),
	EVENT_COLS("e.order_ref") " FROM ledger_events AS e WHERE e.late = 1" EVENT_ORDER("e.order_ref"),
};

static const char *const fold_rows_sql[] = {
	ROW_COLS("s.order_ref") " FROM statement_rows AS s WHERE s.late = 0" ROW_ORDER("s.order_ref"),
	ROW_COLS("s.order_ref") " FROM statement_rows AS s WHERE s.late = 1" ROW_ORDER("s.order_ref"),
};

static const char *const dirty_events_sql[] = {
	EVENT_COLS("d.order_ref") " FROM temp.t_dirty AS d CROSS JOIN ledger_events AS e"
	" ON e.late = 0 AND e.order_ref = d.order_ref" EVENT_ORDER("d.order_ref"),
	EVENT_COLS("d.order_ref") " FROM temp.t_dirty AS d CROSS JOIN ledger_events AS e"
	" ON e.late = 1 AND e.order_ref = +d.order_ref"
	" WHERE d.order_ref <= (SELECT max(order_ref) FROM ledger_events WHERE late = 1)"
	EVENT_ORDER("d.order_ref"),
	EVENT_COLS("e.order_ref") " FROM ledger_events AS e WHERE e.late = 0 AND e.order_ref >= " BASE_FRONTIER
	EVENT_ORDER("e.order_ref"),
	EVENT_COLS("e.order_ref") " FROM ledger_events AS e WHERE e.late = 1 AND e.order_ref >= " BASE_FRONTIER
	EVENT_ORDER("e.order_ref"),
};

static const char *const dirty_rows_sql[] = {
	ROW_COLS("d.order_ref") " FROM temp.t_dirty AS d CROSS JOIN statement_rows AS s"
	" ON s.late = 0 AND s.order_ref = d.order_ref" ROW_ORDER("d.order_ref"),
	ROW_COLS("d.order_ref") " FROM temp.t_dirty AS d CROSS JOIN statement_rows AS s"
	" ON s.late = 1 AND s.order_ref = +d.order_ref"
	" WHERE d.order_ref <= (SELECT max(order_ref) FROM statement_rows WHERE late = 1)"
	ROW_ORDER("d.order_ref"),
	ROW_COLS("s.order_ref") " FROM statement_rows AS s WHERE s.late = 0 AND s.order_ref >= " BASE_FRONTIER
	ROW_ORDER("s.order_ref"),
	ROW_COLS("s.order_ref") " FROM statement_rows AS s WHERE s.late = 1 AND s.order_ref >= " BASE_FRONTIER
	ROW_ORDER("s.order_ref"),
};

/* The base: the latest matched run, if it succeeded, has the same windows, an
 * as_of not after this one's, and recorded counters.  Only the latest: its
 * cases are the live spans (schemas/migrations/0003_case_spans.sql), and a run
 * built on an older one would leave spans covering runs that did not derive
 * them.  Otherwise the run matches in full. */
static const char base_sql[] =
	"SELECT run_id, as_of_us, next_statement_row_id, next_event_row_id, order_frontier IS NOT NULL FROM runs"
	" WHERE run_id = (SELECT max(run_id) FROM runs WHERE match_mode IS NOT NULL)"
	" AND status = 'OK' AND as_of_us <= ?1 AND grace_us = ?2 AND window_us = ?3"
	" AND next_statement_row_id IS NOT NULL AND next_event_row_id IS NOT NULL";

/* Orders that may have changed since the base: those with new rows, and those
 * the base run watched (see match_view).  A run records its frontier, the
 * lesser of the greatest order_refs of the tables' main segments (of those
 * tables that have a row).  A row
 * stored in a main segment since has an order_ref at least the greatest of
 * that segment when its file began (engine/store.c), so at least the base's
 * frontier.  Orders at or after the frontier, most of a night's, are matched
 * again in full by range scans (dirty_events_sql); t_dirty holds the others:
 * those with rows since the base in a late segment, found by the late-row
 * indexes (schemas/migrations/0006_late_row_ids.sql), and the watched ones.
 * (INDEXED BY: on the order_ref bound, SQLite would rather scan the whole
 * late segment by its key.)  A table that had no row at the base (its next
 * row id was the first, 1) records no greatest order_ref in the frontier and
 * holds only rows stored since: it is read whole.  A base without a frontier
 * (no row at all, or recorded by schema versions 5 to 8, before 6 or when a
 * table had no row) puts every order with rows since it in t_dirty: a scan of
 * both tables, as there is no index by row id (schema version 9). */
static const char dirty_sql[] =
	"INSERT OR IGNORE INTO temp.t_dirty SELECT order_ref FROM statement_rows INDEXED BY statement_rows_late_row"
	" WHERE late = 1 AND row_id >= :stmt AND order_ref < " BASE_FRONTIER_OF(":base") ";"
	"INSERT OR IGNORE INTO temp.t_dirty SELECT order_ref FROM ledger_events INDEXED BY ledger_events_late_row"
	" WHERE late = 1 AND event_row_id >= :event AND order_ref < " BASE_FRONTIER_OF(":base") ";"
	"INSERT OR IGNORE INTO temp.t_dirty SELECT order_ref FROM statement_rows"
	" WHERE :stmt = 1 AND order_ref < " BASE_FRONTIER_OF(":base") ";"
	"INSERT OR IGNORE INTO temp.t_dirty SELECT order_ref FROM ledger_events"
	" WHERE :event = 1 AND order_ref < " BASE_FRONTIER_OF(":base") ";"
	"INSERT OR IGNORE INTO temp.t_dirty SELECT order_ref FROM run_watch WHERE run_id = :base"
	" AND order_ref < " BASE_FRONTIER_OF(":base") ";";

static const char dirty_all_sql[] =
	"INSERT OR IGNORE INTO temp.t_dirty SELECT order_ref FROM statement_rows WHERE row_id >= :stmt;"
	"INSERT OR IGNORE INTO temp.t_dirty SELECT order_ref FROM ledger_events WHERE event_row_id >= :event;"
	"INSERT OR IGNORE INTO temp.t_dirty SELECT order_ref FROM run_watch WHERE run_id = :base;";

/* Every other order is as the base run left it: its cases and its ledger
 * anomalies stay live (schemas/migrations/0008_anomaly_spans.sql; anomaly
 * cases are made from the anomalies by match.sql).  The live cases and
 * anomalies of the orders matched again (those in t_dirty and those at or
 * after the base's frontier; every order for a full match) are closed before
 * the fold writes their new versions, each set by its own statement: "full
 * match OR in t_dirty" would read every live case (113,557 on the bench's
 * day 31) instead of those of t_dirty. */
#define CLOSE_LIVE_SPANS(TABLE) \
	"UPDATE " TABLE " SET to_run = :run WHERE to_run = " STORE_LIVE_SPAN " AND :base = 0;" \
	"UPDATE " TABLE " SET to_run = :run WHERE to_run = " STORE_LIVE_SPAN \
	" AND order_ref IN (SELECT order_ref FROM temp.t_dirty);" \
	"UPDATE " TABLE " SET to_run = :run WHERE to_run = " STORE_LIVE_SPAN \
	" AND order_ref >= " BASE_FRONTIER_OF(":base") ";"
static const char carry_sql[] = CLOSE_LIVE_SPANS("case_spans") CLOSE_LIVE_SPANS("anomaly_spans");

static const char fold_watch_sql[] = "INSERT INTO run_watch (run_id, order_ref) VALUES (?1, ?2)";

static const char fold_case_sql[] =
	"INSERT INTO case_spans (from_run, case_id, to_run, category, action, status, order_ref, channel,"
	" currency, key_amount_minor, amount_minor, expected, actual, first_booked_us, last_booked_us,"
	" route_key, txn_ids, ledger_event_ids, detail)"
	" VALUES (?1, ?2, " STORE_LIVE_SPAN ", ?3, ?4, 'open', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
	" ?15, ?16, ?17)";

static const char fold_anomaly_sql[] =
	"INSERT INTO anomaly_spans (from_run, case_id, to_run, order_ref, event_id, event, reason, channel,"
	" currency, amount_minor, event_time_us, event_row_id)"
	" VALUES (?1, ?2, " STORE_LIVE_SPAN ", ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

static const char fold_summary_sql[] =
	"INSERT INTO run_summary (run_id, category, currency, cases, amount_minor)"
	" VALUES (?1, ?2, ?3, ?4, ?5)";

static const char fold_setup_sql[] =
	"DROP TABLE IF EXISTS temp.t_actions;"
	"CREATE TEMP TABLE t_actions (category TEXT PRIMARY KEY, action TEXT NOT NULL);";

/* Grow *P (of *CAP elements of SIZE bytes) to hold N.  Returns 0 or -1. */
static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t want = *cap ? *cap : 16;
	void *q;

	if (n <= *cap)
		return 0;
	while (want < n)
		want *= 2;
	q = realloc(*p, want * size);
	if (q == NULL)
		return -1;
	*p = q;
	*cap = want;
	return 0;
}

/* Append LEN bytes of S and a NUL to the order's text; *OFF is where. */
static int put_text(struct fold *f, const void *s, size_t len, size_t *off)
{
	if (grow((void **)&f->text, &f->text_cap, f->text_len + len + 1, 1))
		return -1;
	memcpy(f->text + f->text_len, s, len);
	f->text[f->text_len + len] = '\0';
	*off = f->text_len;
	f->text_len += len + 1;
	return 0;
}

static int put_col(struct fold *f, sqlite3_stmt *st, int col, size_t *off)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	if (t == NULL)
		return -1;
	return put_text(f, t, (size_t)sqlite3_column_bytes(st, col), off);
}

static int get_blob(sqlite3_stmt *st, int col, unsigned char out[ROUTEKEY_LEN])
{
	if (sqlite3_column_bytes(st, col) != ROUTEKEY_LEN)
		return -1;
	memcpy(out, sqlite3_column_blob(st, col), ROUTEKEY_LEN);
	return 0;
}

/* A currency code (3 letters by the tables' CHECK), copied without printf:
 * it is read for every row a match reads. */
static void get_currency(sqlite3_stmt *st, int col, char out[4])
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	size_t n = t ? strnlen(t, 3) : 0;

	if (n)
		memcpy(out, t, n);
	out[n] = '\0';
}

/*
 * The key of these values, made on first sight.  Returns its index or -1.
 * Within one order a route key digests (kind, channel, currency, amount)
 * (schemas/routekey.md), so keys are told apart by those values: most rows
 * store no route key (schemas/migrations/0010_plain_keys.sql), and
 * write_case makes one for the few keys that become cases.  ROUTE is the key
 * a row stored (HMAC keys), or NULL.
 */
static int key_for(struct fold *f, const unsigned char *route, int refund, size_t channel,
		   const char *currency, int64_t amount)
{
	size_t i;
	struct ckey *c;

	for (i = 0; i < f->n_key; i++) {
		c = &f->ck[i];
		if (c->refund == refund && c->amount_minor == amount && strcmp(c->currency, currency) == 0 &&
		    strcmp(f->text + f->key[i].channel, f->text + channel) == 0) {
			if (route && !f->key[i].has_route) {
				memcpy(f->key[i].route, route, ROUTEKEY_LEN);
				f->key[i].has_route = 1;
			}
			return (int)i;
		}
	}
	if (grow((void **)&f->key, &f->cap_key, f->n_key + 1, sizeof(*f->key)) ||
	    grow((void **)&f->ck, &f->cap_ck, f->n_key + 1, sizeof(*f->ck)))
		return -1;
	f->key[f->n_key].has_route = route != NULL;
	if (route)
		memcpy(f->key[f->n_key].route, route, ROUTEKEY_LEN);
	f->key[f->n_key].channel = channel;
	c = &f->ck[f->n_key];
	memset(c, 0, sizeof(*c));
	c->refund = refund;
	memcpy(c->currency, currency, 4);
	c->amount_minor = amount;
	return (int)f->n_key++;
}

static int read_event(struct fold *f, sqlite3_stmt *st)
{
	struct mev *e;

	if (grow((void **)&f->ev, &f->cap_ev, f->n_ev + 1, sizeof(*f->ev)))
		return -1;
	e = &f->ev[f->n_ev];
	e->time_us = sqlite3_column_int64(st, 1);
	e->row_id = sqlite3_column_int64(st, 2);
	e->amount = sqlite3_column_int64(st, 4);
	get_currency(st, 5, e->currency);
	e->has_route = sqlite3_column_type(st, 8) != SQLITE_NULL;
	e->has_uid = sqlite3_column_type(st, 9) != SQLITE_NULL;
	e->has_order_key = sqlite3_column_type(st, 10) != SQLITE_NULL;
	e->key = -1;
	if (put_col(f, st, 3, &e->event) || put_col(f, st, 6, &e->channel) || put_col(f, st, 7, &e->id) ||
	    (e->has_route && get_blob(st, 8, e->route)) || (e->has_uid && get_blob(st, 9, e->uid)) ||
	    (e->has_order_key && get_blob(st, 10, e->order_key)))
		return -1;
	f->n_ev++;
	return 0;
}

static int read_row(struct fold *f, sqlite3_stmt *st)
{
	struct mrow *r;
	const unsigned char *type = sqlite3_column_text(st, 3);

	if (grow((void **)&f->row, &f->cap_row, f->n_row + 1, sizeof(*f->row)))
		return -1;
	r = &f->row[f->n_row];
	r->time_us = sqlite3_column_int64(st, 1);
	r->row_id = sqlite3_column_int64(st, 2);
	r->amount = sqlite3_column_int64(st, 4);
	get_currency(st, 5, r->currency);
	r->refund = type != NULL && strcmp((const char *)type, "REFUND") == 0;
	r->has_route = sqlite3_column_type(st, 8) != SQLITE_NULL;
	if (put_col(f, st, 6, &r->channel) || put_col(f, st, 7, &r->txn) ||
	    (r->has_route && get_blob(st, 8, r->route)))
		return -1;
	f->n_row++;
	return 0;
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

/* Prepare the N statements of SQL as the arms of A; ?1, if used, is BIND. */
static int arms_prepare(sqlite3 *db, struct arms *a, const char *const *sql, int n, int64_t bind)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < n; i++) {
		if (sqlite3_prepare_v2(db, sql[i], -1, &a->st[i], NULL) != SQLITE_OK)
			return -1;
		a->n++;
		if (sqlite3_bind_parameter_count(a->st[i]) > 0 &&
		    sqlite3_bind_int64(a->st[i], 1, bind) != SQLITE_OK)
			return -1;
	}
	return 0;
}

static void arms_finalize(struct arms *a)
{
	int i;

	for (i = 0; i < a->n; i++)
		sqlite3_finalize(a->st[i]);
	a->n = 0;
}

static void arms_reset(struct arms *a)
{
	int i;

	for (i = 0; i < a->n; i++)
		sqlite3_reset(a->st[i]);
	a->started = 0;
}

/* Order refs compare as SQLite's BINARY collation does: bytes, then length. */
static int ref_cmp(const unsigned char *a, size_t x, const unsigned char *b, size_t y)
{
	int c = memcmp(a, b, x < y ? x : y);

	return c != 0 ? c : x < y ? -1 : x > y ? 1 : 0;
}

/* The order_ref of A's row (arm CUR's). */
#define ARMS_REF(a) ((a)->ref[(a)->cur]), ((a)->len[(a)->cur])

/* Arms I and J's rows compare by order_ref, then time, then row id: columns 0,
 * 1 and 2 of every arm. */
static int arms_cmp(const struct arms *a, int i, int j)
{
	int c = ref_cmp(a->ref[i], a->len[i], a->ref[j], a->len[j]);
	int k;

	if (c != 0)
		return c;
	for (k = 1; k <= 2; k++) {
		int64_t p = sqlite3_column_int64(a->st[i], k), q = sqlite3_column_int64(a->st[j], k);

		if (p != q)
			return p < q ? -1 : 1;
	}
	return 0;
}

/*
 * Step the stream of A: the first call steps every arm, the next ones the arm
 * whose row was the stream's; then the stream's row is the smallest of the
 * arms' rows, at A->st[A->cur].  Returns 0 (a row), 1 (done) or -1 (an error).
 */
static int arms_step(struct arms *a)
{
	int i;

	for (i = 0; i < a->n; i++) {
		if (a->started && i != a->cur)
			continue;
		a->state[i] = step_done(a->st[i]);
		if (a->state[i] < 0)
			return -1;
		if (a->state[i] == 0) {
			a->ref[i] = sqlite3_column_text(a->st[i], 0);
			a->len[i] = (size_t)sqlite3_column_bytes(a->st[i], 0);
			if (a->ref[i] == NULL)
				return -1;
		}
	}
	a->started = 1;
	a->cur = -1;
	for (i = 0; i < a->n; i++)
		if (a->state[i] == 0 && (a->cur < 0 || arms_cmp(a, i, a->cur) < 0))
			a->cur = i;
	return a->cur < 0 ? 1 : 0;
}

static int write_anomaly(struct fold *f, const char *ref, const struct mev *e, const char *reason)
{
	sqlite3_stmt *st = f->anomaly;
	unsigned char key[2 * ROUTEKEY_LEN], digest[ROUTEKEY_LEN];
	const char *fields[2] = { "LEDGER_ANOMALY", (const char *)key };
	size_t lens[2] = { 14, sizeof(key) };
	char hex[2 * ROUTEKEY_LEN + 1];
	const char *id = f->text + e->id;
	size_t id_len = strlen(id);

	/* The case is the event: its order key and its row identity.  Neither is
	 * stored for most events, and only anomalies need them, so they are made
	 * here: the order key with plain keys (schemas/migrations/0010_plain_keys.sql),
	 * and the uid of an event with an id, the plain digest of the id. */
	if (e->has_order_key)
		memcpy(key, e->order_key, ROUTEKEY_LEN);
	else if (routekey_order_plain(f->rk, ref, key))
		return -1;
	if (e->has_uid)
		memcpy(key + ROUTEKEY_LEN, e->uid, ROUTEKEY_LEN);
	else if (routekey_digest(f->rk, "ledger-uid-v1", &id, &id_len, 1, key + ROUTEKEY_LEN))
		return -1;
	if (routekey_digest(f->rk, "recon-case-v1", fields, lens, 2, digest))
		return -1;
	routekey_hex(digest, hex);
	sqlite3_bind_int64(st, 1, f->run_id);
	sqlite3_bind_text(st, 2, hex, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ref, -1, SQLITE_STATIC);
	/* An event without an id is shown as "row:N" in lists but stored as NULL. */
	if (strncmp(id, "row:", 4) == 0)
		sqlite3_bind_null(st, 4);
	else
		sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, f->text + e->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, f->text + e->channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, e->currency, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, e->amount);
	sqlite3_bind_int64(st, 10, e->time_us);
	sqlite3_bind_int64(st, 11, e->row_id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	f->anomalies++;
	return 0;
}

/* Rows of one key in txn_ids order: by booking time, then by id text. */
static const struct fold *sort_fold;

static int cmp_pick(const void *a, const void *b)
{
	const struct mrow *x = &sort_fold->row[*(const size_t *)a];
	const struct mrow *y = &sort_fold->row[*(const size_t *)b];

	if (x->time_us != y->time_us)
		return x->time_us < y->time_us ? -1 : 1;
	return strcmp(sort_fold->text + x->txn, sort_fold->text + y->txn);
}

/* The key's ids, ';'-joined, into join buffer WHICH (not the order's text, whose
 * pointers must stay valid): ledger event ids in event order, or statement
 * txn ids by booking time then id; ONLY replaces the list when not NULL. */
static int join_ids(struct fold *f, int key, int events, const char *only, int which)
{
	size_t i, n = 0, len = 0, count = events ? f->n_ev : f->n_row;
	struct jbuf *j = &f->join[which];

	if (only != NULL)
		count = 0;
	if (grow((void **)&f->pick, &f->cap_pick, count + 1, sizeof(*f->pick)))
		return -1;
	for (i = 0; i < count; i++)
		if (events ? f->ev[i].key == key : f->row[i].key == key)
			f->pick[n++] = i;
	if (!events && n > 1) {
		sort_fold = f;
		qsort(f->pick, n, sizeof(*f->pick), cmp_pick);
	}
	if (grow((void **)&j->p, &j->cap, 1, 1))
		return -1;
	j->p[0] = '\0';
	if (only != NULL) {
		size_t l = strlen(only);

		if (grow((void **)&j->p, &j->cap, l + 1, 1))
			return -1;
		memcpy(j->p, only, l + 1);
		return 0;
	}
	for (i = 0; i < n; i++) {
		const char *t = f->text + (events ? f->ev[f->pick[i]].id : f->row[f->pick[i]].txn);
		size_t l = strlen(t);

		if (grow((void **)&j->p, &j->cap, len + l + 2, 1))
			return -1;
		if (i)
			j->p[len++] = ';';
		memcpy(j->p + len, t, l + 1);
		len += l;
	}
	return 0;
}

static int write_case(struct fold *f, const char *ref, int ki, const struct corder *o,
		      const char *paid_event, const char *cancel_event)
{
	sqlite3_stmt *st = f->cases;
	struct mkey *k = &f->key[ki];
	const struct ckey *c = &f->ck[ki];
	const char *cat = c->category, *action = match_action_for(cat);
	const char *fields[2] = { cat, (const char *)k->route };
	size_t lens[2] = { strlen(cat), ROUTEKEY_LEN };
	unsigned char digest[ROUTEKEY_LEN];
	char hex[2 * ROUTEKEY_LEN + 1], detail[512], m1[40], m2[40];
	int64_t total;
	const char *only = NULL;
	long long a = (long long)c->a, e = (long long)c->e;

	/* No row of the key stored its route key: plain keys, made again here. */
	if (!k->has_route) {
		if (routekey_route_plain(f->rk, c->refund ? "REFUND" : "CHARGE", f->text + k->channel, ref,
					 c->currency, c->amount_minor, k->route))
			return -1;
		k->has_route = 1;
	}
	if (action == NULL || routekey_digest(f->rk, "recon-case-v1", fields, lens, 2, digest))
		return -1;
	routekey_hex(digest, hex);
	if (strcmp(cat, "CURRENCY_MISMATCH") == 0 || strcmp(cat, "CHANNEL_MISMATCH") == 0 ||
	    strcmp(cat, "AMOUNT_MISMATCH") == 0)
		only = paid_event ? paid_event : "";
	else if (strcmp(cat, "CHARGED_AFTER_CANCEL") == 0)
		only = cancel_event ? cancel_event : "";
	if (join_ids(f, ki, 0, NULL, 0) || join_ids(f, ki, 1, only, 1))
		return -1;
	if (money_format_currency(c->amount_minor, c->currency, m1, sizeof(m1)) < 0)
		return -1;
	if (strcmp(cat, "DOUBLE_CHARGE") == 0)
		snprintf(detail, sizeof(detail), "%lld charges for %lld expected of %s", a, e, m1);
	else if (strcmp(cat, "ORPHAN_CHARGE") == 0)
		snprintf(detail, sizeof(detail), "order unknown to the ledger");
	else if (strcmp(cat, "CHARGED_AFTER_CANCEL") == 0)
		snprintf(detail, sizeof(detail), "order cancelled in the ledger");
	else if (strcmp(cat, "CHARGED_NOT_RECORDED") == 0) {
		char state[16];
		size_t i;

		snprintf(state, sizeof(state), "%s", strcmp(o->state, "NONE") == 0 ? "not created" : o->state);
		for (i = 0; state[i]; i++)
			if (state[i] >= 'A' && state[i] <= 'Z')
				state[i] = (char)(state[i] - 'A' + 'a');
		snprintf(detail, sizeof(detail), "order %s in the ledger, charged", state);
	} else if (strcmp(cat, "RECORDED_NOT_CHARGED") == 0)
		snprintf(detail, sizeof(detail), "%lld of %lld expected charges missing", e - a, e);
	else if (strcmp(cat, "REFUND_NOT_SETTLED") == 0)
		snprintf(detail, sizeof(detail), "%lld of %lld recorded refunds not settled",
			 (long long)c->overdue - a, e);
	else if (strcmp(cat, "REFUND_NOT_RECORDED") == 0)
		snprintf(detail, sizeof(detail), "refund not in the ledger");
	else if (strcmp(cat, "DUPLICATE_REFUND") == 0)
		snprintf(detail, sizeof(detail), "%lld refunds for %lld recorded of %s", a, e, m1);
	else {
		if (__builtin_mul_overflow(c->a, c->amount_minor, &total) ||
		    money_format_currency(total, c->currency, m1, sizeof(m1)) < 0 ||
		    money_format_currency(o->paid_amount, o->paid_currency, m2, sizeof(m2)) < 0)
			return -1;
		snprintf(detail, sizeof(detail), "charged %s %s on %s; ledger paid %s %s on %s", m1,
			 c->currency, c->channel, m2, o->paid_currency, o->paid_channel);
	}
	sqlite3_bind_int64(st, 1, f->run_id);
	sqlite3_bind_text(st, 2, hex, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cat, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c->currency, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, c->amount_minor);
	sqlite3_bind_int64(st, 9, c->case_amount);
	sqlite3_bind_int64(st, 10, c->e);
	sqlite3_bind_int64(st, 11, c->a);
	if (c->a > 0) {
		sqlite3_bind_int64(st, 12, c->first_us);
		sqlite3_bind_int64(st, 13, c->last_us);
	} else {
		sqlite3_bind_null(st, 12);
		sqlite3_bind_null(st, 13);
	}
	sqlite3_bind_blob(st, 14, k->route, ROUTEKEY_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, f->join[0].p, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, f->join[1].p, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 17, detail, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

/* Add (SIGN 1) or take away (SIGN -1) KEYS keys of AMOUNT to a summary line. */
static int tally_add(struct fold *f, const char *category, const char *currency, int64_t keys,
		     int64_t amount, int sign)
{
	size_t i;

	for (i = 0; i < f->n_tally; i++)
		if (strcmp(f->tally[i].category, category) == 0 && strcmp(f->tally[i].currency, currency) == 0)
			break;
	if (i == f->n_tally) {
		if (i == sizeof(f->tally) / sizeof(f->tally[0])) {
			f->fail = "too many currencies for the summary";
			return -1;
		}
		memset(&f->tally[i], 0, sizeof(f->tally[i]));
		f->tally[i].category = strcmp(category, "MATCHED") == 0 ? "MATCHED" : "PENDING";
		snprintf(f->tally[i].currency, sizeof(f->tally[i].currency), "%s", currency);
		f->n_tally++;
	}
	f->tally[i].keys += sign * keys;
	if (sign < 0 ? __builtin_sub_overflow(f->tally[i].amount, amount, &f->tally[i].amount)
		     : __builtin_add_overflow(f->tally[i].amount, amount, &f->tally[i].amount)) {
		f->fail = "a summary amount overflows 64-bit minor units";
		return -1;
	}
	return 0;
}

static int visible(const struct fold *f, enum view v, int64_t time_us, int64_t row_id, int ledger)
{
	if (v == VIEW_RUN)
		return time_us <= f->w.as_of_us;
	return time_us <= f->base_as_of && row_id < f->base_next[ledger];
}

/*
 * Fold, count and classify the order whose rows are in f, as view V sees them.
 * This run's view records the order's anomalies and cases and adds its MATCHED
 * and PENDING keys to the summary (and says in *WATCH whether the order must be
 * matched again by the next run); the base run's view takes away what the base
 * run counted for it, so that an incremental summary equals a full one.
 */
static int match_view(struct fold *f, const char *ref, enum view v, int *watch)
{
	struct order_fold o;
	struct corder co;
	struct cwindow w = f->w;
	size_t i, paid_channel = 0, paid_event = 0, cancel_event = 0;
	int have_paid_event = 0, have_cancel_event = 0;
	int64_t overdue_before;

	if (v == VIEW_BASE)
		w.as_of_us = f->base_as_of;
	overdue_before = w.as_of_us - w.window_us;
	memset(&o, 0, sizeof(o));
	f->n_key = 0;
	co.known = 0;
	for (i = 0; i < f->n_ev; i++) {
		struct mev *e = &f->ev[i];
		const char *event = f->text + e->event;
		enum order_state before = o.state;
		int expects;
		const char *reason;

		e->key = -1;
		if (!visible(f, v, e->time_us, e->row_id, 1)) {
			*watch = 1;
			continue;
		}
		co.known = 1;
		reason = match_apply_event(&o, event, e->amount, e->currency, &expects);
		if (reason == NULL && strcmp(event, "PAID") == 0) {
			paid_channel = e->channel;
			paid_event = e->id;
			have_paid_event = 1;
		} else if (reason == NULL && o.state == ST_CANCELLED && before != ST_CANCELLED) {
			cancel_event = e->id;
			have_cancel_event = 1;
		}
		if (expects) {
			int k = key_for(f, e->has_route ? e->route : NULL, strcmp(event, "PAID") != 0, e->channel,
					e->currency, e->amount);

			if (k < 0)
				return -1;
			e->key = k;
			if (f->ck[k].e == 0 || e->time_us < f->ck[k].first_event_us)
				f->ck[k].first_event_us = e->time_us;
			f->ck[k].e++;
			/* Past the settlement window: strictly before as-of minus the window. */
			f->ck[k].overdue += e->time_us < overdue_before;
		}
		if (reason && v == VIEW_RUN && write_anomaly(f, ref, e, reason))
			return -1;
	}
	for (i = 0; i < f->n_row; i++) {
		struct mrow *r = &f->row[i];
		struct ckey *c;
		int k;

		r->key = -1;
		if (!visible(f, v, r->time_us, r->row_id, 0)) {
			*watch = 1;
			continue;
		}
		k = key_for(f, r->has_route ? r->route : NULL, r->refund, r->channel, r->currency, r->amount);
		if (k < 0)
			return -1;
		r->key = k;
		c = &f->ck[k];
		if (c->a == 0 || r->time_us < c->first_us)
			c->first_us = r->time_us;
		if (c->a == 0 || r->time_us > c->last_us)
			c->last_us = r->time_us;
		c->a++;
	}
	for (i = 0; i < f->n_key; i++)
		f->ck[i].channel = f->text + f->key[i].channel;
	co.state = match_state_name(o.state);
	co.paid = o.state == ST_PAID || o.state == ST_REFUNDED;
	co.paid_channel = co.paid ? f->text + paid_channel : NULL;
	co.paid_currency = co.paid ? o.paid_currency : NULL;
	co.paid_amount = co.paid ? o.paid_amount : 0;
	if (classify_order(&co, f->ck, f->n_key, &w)) {
		f->fail = "a case amount overflows 64-bit minor units";
		return -1;
	}
	for (i = 0; i < f->n_key; i++) {
		const struct ckey *c = &f->ck[i];

		if (!classify_is_case(c->category)) {
			if (strcmp(c->category, "EXPLAINED") == 0)
				continue;
			if (strcmp(c->category, "PENDING") == 0)
				*watch = 1;  /* its window may pass */
			if (tally_add(f, c->category, c->currency, 1, c->case_amount, v == VIEW_RUN ? 1 : -1))
				return -1;
			continue;
		}
		/* Its amount grows as more of its refunds pass the window. */
		if (strcmp(c->category, "REFUND_NOT_SETTLED") == 0 && c->overdue < c->e)
			*watch = 1;
		if (v == VIEW_RUN &&
		    write_case(f, ref, (int)i, &co, have_paid_event ? f->text + paid_event : NULL,
			       have_cancel_event ? f->text + cancel_event : NULL))
			return -1;
	}
	return 0;
}

static int match_order(struct fold *f, const char *ref)
{
	int watch = 0, base_watch = 0;

	if (f->base_run && match_view(f, ref, VIEW_BASE, &base_watch))
		return -1;
	if (match_view(f, ref, VIEW_RUN, &watch))
		return -1;
	if (watch) {
		sqlite3_bind_int64(f->watch, 1, f->run_id);
		sqlite3_bind_text(f->watch, 2, ref, -1, SQLITE_STATIC);
		if (sqlite3_step(f->watch) != SQLITE_DONE) {
			sqlite3_reset(f->watch);
			return -1;
		}
		sqlite3_reset(f->watch);
	}
	return 0;
}

static int fold_all(struct fold *f)
{
	struct arms *l = &f->events, *r = &f->rows;
	char *ref = NULL;
	size_t ref_cap = 0;
	int ld, rd, status = -1;

	ld = arms_step(l);
	rd = arms_step(r);
	while (ld == 0 || rd == 0) {
		/* The next order: the smaller of the two streams' order_refs. */
		const struct arms *from = rd != 0 || (ld == 0 && ref_cmp(ARMS_REF(l), ARMS_REF(r)) <= 0) ? l : r;
		size_t len = from->len[from->cur];

		if (grow((void **)&ref, &ref_cap, len + 1, 1))
			goto out;
		memcpy(ref, from->ref[from->cur], len);
		ref[len] = '\0';
		f->text_len = 0;
		f->n_ev = 0;
		f->n_row = 0;
		while (ld == 0 && ref_cmp(ARMS_REF(l), (const unsigned char *)ref, len) == 0) {
			if (read_event(f, l->st[l->cur]))
				goto out;
			ld = arms_step(l);
		}
		while (rd == 0 && ref_cmp(ARMS_REF(r), (const unsigned char *)ref, len) == 0) {
			if (read_row(f, r->st[r->cur]))
				goto out;
			rd = arms_step(r);
		}
		if (match_order(f, ref))
			goto out;
	}
	status = ld < 0 || rd < 0 ? -1 : 0;
out:
	arms_reset(l);
	arms_reset(r);
	free(ref);
	return status;
}

static int write_tallies(struct fold *f)
{
	size_t i;

	for (i = 0; i < f->n_tally; i++) {
		sqlite3_stmt *st = f->summary;

		if (f->tally[i].keys == 0)
			continue;

		sqlite3_bind_int64(st, 1, f->run_id);
		sqlite3_bind_text(st, 2, f->tally[i].category, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, f->tally[i].currency, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, f->tally[i].keys);
		sqlite3_bind_int64(st, 5, f->tally[i].amount);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_reset(st);
			return -1;
		}
		sqlite3_reset(st);
	}
	return 0;
}

static void fold_free(struct fold *f)
{
	arms_finalize(&f->events);
	arms_finalize(&f->rows);
	sqlite3_finalize(f->cases);
	sqlite3_finalize(f->anomaly);
	sqlite3_finalize(f->summary);
	sqlite3_finalize(f->watch);
	free(f->text);
	free(f->ev);
	free(f->row);
	free(f->key);
	free(f->ck);
	free(f->pick);
	free(f->join[0].p);
	free(f->join[1].p);
	free(f);
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

static int carry_over(struct fold *f, struct store *s)
{
	static const char *const names[] = { ":run", ":base" };
	int64_t values[2];

	values[0] = f->run_id;
	values[1] = f->base_run;
	return store_exec_script(s, carry_sql, names, values, 2);
}

/* The run to build on, if any: f->base_* set, or left 0 for a full match. */
static int find_base(struct fold *f, const struct match_options *opts)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (opts->full)
		return 0;
	if (sqlite3_prepare_v2(f->db, base_sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, opts->as_of_us);
	sqlite3_bind_int64(st, 2, opts->grace_us);
	sqlite3_bind_int64(st, 3, opts->window_us);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		f->base_run = sqlite3_column_int64(st, 0);
		f->base_as_of = sqlite3_column_int64(st, 1);
		f->base_next[0] = sqlite3_column_int64(st, 2);
		f->base_next[1] = sqlite3_column_int64(st, 3);
		f->base_frontier = sqlite3_column_int(st, 4);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Start the summary from the base run's MATCHED and PENDING lines. */
static int load_base_tallies(struct fold *f)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(f->db, "SELECT category, currency, cases, amount_minor FROM run_summary"
				      " WHERE run_id = ?1 AND category IN ('MATCHED', 'PENDING')",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, f->base_run);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (tally_add(f, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
			      sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3), 1))
			break;
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int prepare_cursors(struct fold *f, struct store *s)
{
	static const char *const run_names[] = { ":run", ":stmt", ":event", ":base" };
	int64_t next[2], run_values[4];

	/* What this run covers, recorded for the next one. */
	if (store_next_row_ids(s, next))
		return -1;
	run_values[0] = f->run_id;
	run_values[1] = next[0];
	run_values[2] = next[1];
	run_values[3] = f->base_run;
	if (store_exec_script(s, "UPDATE runs SET next_statement_row_id = :stmt, next_event_row_id = :event,"
				 " match_mode = CASE WHEN :base > 0 THEN 'incremental' ELSE 'full' END,"
				 " base_run_id = nullif(:base, 0),"
				 " order_frontier = (SELECT min(m) FROM"
				 " (SELECT max(order_ref) AS m FROM statement_rows WHERE late = 0"
				 " UNION ALL SELECT max(order_ref) FROM ledger_events WHERE late = 0))"
				 " WHERE run_id = :run;",
			      run_names, run_values, 4))
		return -1;
	/* Empty for a full match: match.sql reads it only when :base is not 0. */
	if (store_exec_script(s, "DROP TABLE IF EXISTS temp.t_dirty;"
				 "CREATE TEMP TABLE t_dirty (order_ref TEXT PRIMARY KEY) WITHOUT ROWID;",
			      NULL, NULL, 0))
		return -1;
	if (f->base_run) {
		static const char *const names[] = { ":stmt", ":event", ":base" };
		int64_t values[3];

		values[0] = f->base_next[0];
		values[1] = f->base_next[1];
		values[2] = f->base_run;
		if (store_exec_script(s, f->base_frontier ? dirty_sql : dirty_all_sql, names, values, 3) ||
		    load_base_tallies(f))
			return -1;
		return arms_prepare(f->db, &f->events, dirty_events_sql, COUNT(dirty_events_sql), f->base_run) ||
		       arms_prepare(f->db, &f->rows, dirty_rows_sql, COUNT(dirty_rows_sql), f->base_run);
	}
	return arms_prepare(f->db, &f->events, fold_events_sql, COUNT(fold_events_sql), 0) ||
	       arms_prepare(f->db, &f->rows, fold_rows_sql, COUNT(fold_rows_sql), 0);
}

/* The run's open and resolved cases, and how many have an amount that is not
 * an integer, in one pass over them. */
static int count_cases(struct fold *f, struct match_result *res, int64_t *bad)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* Open: the live spans.  The amounts carried over were checked by the run
	 * that wrote them. */
	if (sqlite3_prepare_v2(f->db, "SELECT (SELECT count(*) FROM case_spans WHERE to_run = " STORE_LIVE_SPAN "),"
				      " coalesce(sum(status = 'resolved'), 0),"
				      " coalesce(sum(typeof(amount_minor) <> 'integer'), 0)"
				      " FROM case_spans WHERE to_run IN (" STORE_LIVE_SPAN ", ?1 + 1) AND from_run = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, f->run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		res->open_cases = sqlite3_column_int64(st, 0);
		res->resolved_cases = sqlite3_column_int64(st, 1);
		*bad = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int match_run(struct store *s, struct routekey *rk, const struct match_options *opts,
	      struct match_result *res)
{
	sqlite3 *db = store_handle(s);
	struct fold *f = NULL;
	const char *what = "cannot start the run";
	int64_t t0 = now_ms(), bad = 0;
	int status = EX_SOFTWARE;
	static const char *const names[] = { ":run", ":as_of", ":grace", ":window", ":base" };
	static const char *const done_names[] = { ":run", ":ms", ":open", ":resolved" };
	int64_t values[5];

	memset(res, 0, sizeof(*res));
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return EX_OSERR;
	f->db = db;
	f->rk = rk;
	f->w.as_of_us = opts->as_of_us;
	f->w.grace_us = opts->grace_us;
	f->w.window_us = opts->window_us;
	if (match_register_functions(db, rk) || store_cache_scan(s) || store_begin(s))
		goto fail;
	f->run_id = opts->run_id;
	what = "cannot fold the ledger";
	if (sqlite3_exec(db, fold_setup_sql, NULL, NULL, NULL) != SQLITE_OK || fill_actions(db) ||
	    find_base(f, opts) || prepare_cursors(f, s) ||
	    sqlite3_prepare_v2(db, fold_watch_sql, -1, &f->watch, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, fold_case_sql, -1, &f->cases, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, fold_anomaly_sql, -1, &f->anomaly, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, fold_summary_sql, -1, &f->summary, NULL) != SQLITE_OK ||
	    carry_over(f, s) || fold_all(f) || write_tallies(f)) {
		if (f->fail)
			what = f->fail;
		goto fail;
	}
	fault_point("match-folded");
	what = "cannot classify";
	values[0] = f->run_id;
	values[1] = opts->as_of_us;
	values[2] = opts->grace_us;
	values[3] = opts->window_us;
	values[4] = f->base_run;
	if (store_exec_script(s, sql_match, names, values, 5)) {
		log_event(LOG_ERROR, "matching failed", "error", store_errmsg(s), LOG_END);
		what = NULL;
		goto fail;
	}
	if (count_cases(f, res, &bad))
		goto fail;
	/* SQLite turns an overflowing integer product into a float: refuse it. */
	if (bad) {
		what = "a case amount overflows 64-bit minor units";
		goto fail;
	}
	what = "cannot finish the run";
	values[1] = now_ms() - t0;
	values[2] = res->open_cases;
	values[3] = res->resolved_cases;
	if (store_exec_script(s, "UPDATE runs SET match_ms = :ms, open_cases = :open, resolved_cases = :resolved"
				 " WHERE run_id = :run;", done_names, values, 4))
		goto fail;
	fault_point("match-commit");
	if (store_commit(s))
		goto fail;
	fault_point("match-committed");
	res->run_id = f->run_id;
	status = 0;
	goto out;
fail:
	if (what && f->fail)
		log_event(LOG_ERROR, what, LOG_END);
	else if (what)
		log_event(LOG_ERROR, what, "error", sqlite3_errmsg(db), LOG_END);
	if (store_rollback(s))
		log_event(LOG_ERROR, "rollback failed", "error", store_errmsg(s), LOG_END);
out:
	fold_free(f);
	return status;
}
