/*
 * classify.c - the category of every route key of one order (see classify.h).
 *
 * The rules are SPEC section 4 in its order: A = E matches; a CHARGE key with
 * more transactions than expected is a double charge, one with fewer waits for
 * the mismatch pass ("short"); an unexpected charge is an orphan, a charge after
 * cancel, a currency, channel or amount mismatch (tried in that order) or a
 * charge not recorded once past the grace period; refunds are compared the same
 * way.  A short CHARGE key of an order whose charge went to another key is
 * explained by that mismatch case, not a missing charge as well.
 */
#include "classify.h"

#include <string.h>

#include "banned.h"

static const char SHORT[] = "SHORT";

static int mul(int64_t n, int64_t amount, int64_t *out)
{
	return __builtin_mul_overflow(n, amount, out) ? -1 : 0;
}

/* The case's amount (or, for MATCHED and PENDING, what the summary counts). */
static int amount_of(const struct corder *o, struct ckey *k)
{
	const char *c = k->category;
	int64_t v;

	if (strcmp(c, "DOUBLE_CHARGE") == 0 || strcmp(c, "DUPLICATE_REFUND") == 0)
		return mul(k->a - k->e, k->amount_minor, &k->case_amount);
	if (strcmp(c, "RECORDED_NOT_CHARGED") == 0)
		return mul(k->e - k->a, k->amount_minor, &k->case_amount);
	if (strcmp(c, "REFUND_NOT_SETTLED") == 0)
		return mul(k->overdue - k->a, k->amount_minor, &k->case_amount);
	if (strcmp(c, "MATCHED") == 0)
		return mul(k->e, k->amount_minor, &k->case_amount);
	if (strcmp(c, "PENDING") == 0)
		return mul(k->a > k->e ? k->a - k->e : k->e - k->a, k->amount_minor, &k->case_amount);
	if (strcmp(c, "EXPLAINED") == 0) {
		k->case_amount = 0;
		return 0;
	}
	if (mul(k->a, k->amount_minor, &v))
		return -1;
	if (strcmp(c, "CHANNEL_MISMATCH") == 0 || strcmp(c, "AMOUNT_MISMATCH") == 0)
		return __builtin_sub_overflow(v, o->paid_amount, &k->case_amount) ? -1 : 0;
	k->case_amount = v;
	return 0;
}

static const char *first_pass(const struct corder *o, const struct ckey *k, const struct cwindow *w)
{
	if (k->a == k->e)
		return "MATCHED";
	if (!k->refund) {
		if (k->e >= 1)
			return k->a > k->e ? "DOUBLE_CHARGE" : SHORT;
		if (!o->known)
			return "ORPHAN_CHARGE";
		if (strcmp(o->state, "CANCELLED") == 0)
			return "CHARGED_AFTER_CANCEL";
		if (o->paid && strcmp(k->currency, o->paid_currency) != 0)
			return "CURRENCY_MISMATCH";
		if (o->paid && strcmp(k->channel, o->paid_channel) != 0)
			return "CHANNEL_MISMATCH";
		if (o->paid)
			return "AMOUNT_MISMATCH";
		/* Windows are strict: booked strictly before as_of minus the grace. */
		return k->first_us < w->as_of_us - w->grace_us ? "CHARGED_NOT_RECORDED" : "PENDING";
	}
	/* Settlements answer the oldest refunds first: the unsettled ones past the
	 * window are the overdue events beyond those settled. */
	if (k->a < k->e)
		return k->overdue > k->a ? "REFUND_NOT_SETTLED" : "PENDING";
	return k->e == 0 ? "REFUND_NOT_RECORDED" : "DUPLICATE_REFUND";
}

int classify_order(const struct corder *o, struct ckey *keys, size_t n, const struct cwindow *w)
{
	int mismatched = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *c = first_pass(o, &keys[i], w);

		keys[i].category = c;
		if (strcmp(c, "CURRENCY_MISMATCH") == 0 || strcmp(c, "CHANNEL_MISMATCH") == 0 ||
		    strcmp(c, "AMOUNT_MISMATCH") == 0)
			mismatched = 1;
	}
	for (i = 0; i < n; i++) {
		struct ckey *k = &keys[i];

		if (k->category == SHORT) {
			if (mismatched)
				k->category = "EXPLAINED";
			else if (k->first_event_us < w->as_of_us - w->window_us)
				k->category = "RECORDED_NOT_CHARGED";
			else
				k->category = "PENDING";
		}
		if (amount_of(o, k))
			return -1;
	}
	return 0;
}

int classify_is_case(const char *category)
{
	return strcmp(category, "MATCHED") != 0 && strcmp(category, "PENDING") != 0 &&
	       strcmp(category, "EXPLAINED") != 0;
}
