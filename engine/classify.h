/*
 * classify.h - the category of every route key of one order (SPEC section 4).
 *
 * Pure: the caller has folded the order's visible ledger events (E, overdue
 * count and first event time per key, and the order's state) and counted its
 * visible statement transactions (A, first and last booking per key).  Every
 * route key of an order, and its mismatch fallback, depends on that order
 * alone, which is what lets matching stream the database one order at a time.
 */
#ifndef RECON_CLASSIFY_H
#define RECON_CLASSIFY_H
#include <stddef.h>
#include <stdint.h>

struct ckey {
	int refund;                /* 0: CHARGE key, 1: REFUND key */
	const char *channel;
	char currency[4];
	int64_t amount_minor;      /* one transaction's amount, as in the key */
	int64_t e;                 /* transactions the ledger expects */
	int64_t overdue;           /* of those, recorded strictly before as_of - window */
	int64_t first_event_us;    /* earliest expecting event (when e > 0) */
	int64_t a;                 /* distinct statement transactions */
	int64_t first_us, last_us; /* earliest and latest booking (when a > 0) */
	/* out */
	const char *category;      /* a case category, or MATCHED, PENDING, EXPLAINED */
	int64_t case_amount;       /* signed minor units (SPEC section 4, README) */
};

struct corder {
	int known;                 /* the ledger has visible events for the order */
	const char *state;         /* NONE, CREATED, PAID, REFUNDED, CANCELLED */
	int paid;                  /* reached PAID (PAID or REFUNDED now) */
	const char *paid_channel;
	const char *paid_currency;
	int64_t paid_amount;
};

struct cwindow {
	int64_t as_of_us, grace_us, window_us;
};

/* Set category and case_amount on each of the N keys of order O.  Returns 0, or
 * -1 when an amount overflows 64-bit minor units (nothing is then reliable). */
int classify_order(const struct corder *o, struct ckey *keys, size_t n, const struct cwindow *w);

/* 1 for the categories that are cases (not MATCHED, PENDING or EXPLAINED). */
int classify_is_case(const char *category);

#endif
