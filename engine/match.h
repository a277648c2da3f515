/*
 * match.h - fold the ledger, match it against the statements, record the cases.
 *
 * One match is one run: it sees the ledger events and statement rows whose time
 * is at or before as_of, folds each order's events through the state machine of
 * SPEC section 2 (illegal events become LEDGER_ANOMALY cases and expect nothing),
 * classifies every route key by expected (E) and actual (A) transactions in SQL
 * (schemas/match.sql), and stores the run's cases, anomalies and summary in the
 * database, all in one transaction.  Reports are written from those tables.
 */
#ifndef RECON_MATCH_H
#define RECON_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "routekey.h"
#include "store.h"

#define MATCH_GRACE_DEFAULT_US (30LL * 60 * 1000000)       /* 30 minutes */
#define MATCH_WINDOW_DEFAULT_US (48LL * 3600 * 1000000)    /* 48 hours */

struct match_options {
	int64_t as_of_us;
	int64_t grace_us;
	int64_t window_us;
	const char *job;           /* NULL for a bare match */
	const char *business_date; /* NULL unless a job gives one */
	int64_t run_id;            /* the RUNNING run (runlog.h) the match belongs to; it is
				    * left RUNNING: the caller finishes it */
	int full;                  /* match every order, even when a previous run could be
				    * built on (incremental match, the default) */
};

struct match_result {
	int64_t run_id;
	int64_t open_cases;
	int64_t resolved_cases;
};

/*
 * Run a match for the run opts->run_id.  Returns 0 with RES filled in, or a
 * sysexits status with the error logged.  On failure nothing of the match is kept.
 */
int match_run(struct store *s, struct routekey *rk, const struct match_options *opts,
	      struct match_result *res);

/*
 * The ledger state machine of SPEC section 2, one event at a time, for one order.
 * Start from a zeroed order_fold.  Returns NULL when the event is legal (it then
 * changes the state; *EXPECTS is 1 for a PAID or REFUNDED event, which expects a
 * CHARGE or REFUND transaction), or the anomaly reason when it is illegal (the
 * state is unchanged and nothing is expected).
 */
enum order_state { ST_NONE, ST_CREATED, ST_PAID, ST_REFUNDED, ST_CANCELLED };
struct order_fold {
	enum order_state state;
	int64_t paid_amount, refunded;
	char paid_currency[4];
};
const char *match_apply_event(struct order_fold *o, const char *event, int64_t amount,
			      const char *currency, int *expects);
const char *match_state_name(enum order_state st);

/* Register recon_money() on DB, and recon_case_id() when RK is not NULL (report
 * and show use them too).  Returns 0 or -1. */
struct sqlite3;
int match_register_functions(struct sqlite3 *db, struct routekey *rk);

/* Category -> action, as a sorted static table (for tests: order and uniqueness). */
struct match_action {
	const char *category;
	const char *action;
};
const struct match_action *match_actions(size_t *count);
const char *match_action_for(const char *category);

#endif
