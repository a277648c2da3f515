/*
 * test_classify.c - every category of SPEC section 4 for one order's keys,
 * its amount to the minor unit, the fallback order and the strict windows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "classify.h"

#define AS_OF INT64_C(1795219200000000) /* 2026-11-21T00:00:00Z */
#define GRACE INT64_C(1800000000)       /* 30 min */
#define WINDOW INT64_C(172800000000)    /* 48 h */

static const struct cwindow w = { AS_OF, GRACE, WINDOW };

static struct ckey key(int refund, const char *channel, const char *currency, int64_t amount, int64_t e,
		       int64_t a)
{
	struct ckey k;

	memset(&k, 0, sizeof(k));
	k.refund = refund;
	k.channel = channel;
	strcpy(k.currency, currency);
	k.amount_minor = amount;
	k.e = e;
	k.a = a;
	k.first_event_us = AS_OF - 3 * WINDOW;
	k.first_us = AS_OF - 3 * WINDOW;
	k.last_us = AS_OF - 3 * WINDOW;
	return k;
}

static struct corder paid(const char *channel, const char *currency, int64_t amount)
{
	struct corder o = { 1, "PAID", 1, channel, currency, amount };
	return o;
}

static struct corder unpaid(const char *state)
{
	struct corder o = { 1, state, 0, NULL, NULL, 0 };
	return o;
}

static void expect(const struct ckey *k, const char *category, int64_t amount)
{
	assert_string_equal(k->category, category);
	assert_int_equal(k->case_amount, amount);
}

static void test_classify_matched_and_double_charge(void **state)
{
	struct corder o = paid("stripe", "USD", 500);
	struct ckey k[2] = { key(0, "stripe", "USD", 500, 1, 1), key(0, "stripe", "USD", 500, 1, 3) };

	(void)state;
	assert_int_equal(classify_order(&o, k, 2, &w), 0);
	expect(&k[0], "MATCHED", 500);
	expect(&k[1], "DOUBLE_CHARGE", 1000);
	assert_false(classify_is_case("MATCHED"));
	assert_true(classify_is_case("DOUBLE_CHARGE"));
}

static void test_classify_unexpected_charges(void **state)
{
	struct corder unknown = { 0, "NONE", 0, NULL, NULL, 0 };
	struct corder cancelled = unpaid("CANCELLED");
	struct ckey k = key(0, "stripe", "USD", 700, 0, 2);

	(void)state;
	assert_int_equal(classify_order(&unknown, &k, 1, &w), 0);
	expect(&k, "ORPHAN_CHARGE", 1400);
	assert_int_equal(classify_order(&cancelled, &k, 1, &w), 0);
	expect(&k, "CHARGED_AFTER_CANCEL", 1400);
}

/* Currency, then channel, then amount; the expected key is then explained. */
static void test_classify_mismatch_fallback_order(void **state)
{
	struct corder o = paid("stripe", "USD", 1000);
	struct ckey k[4] = {
		key(0, "stripe", "USD", 1000, 1, 0), /* the expected key, short */
		key(0, "stripe", "EUR", 1000, 0, 1),
		key(0, "paypal", "USD", 1200, 0, 1),
		key(0, "stripe", "USD", 900, 0, 2),
	};

	(void)state;
	assert_int_equal(classify_order(&o, k, 4, &w), 0);
	expect(&k[0], "EXPLAINED", 0);
	expect(&k[1], "CURRENCY_MISMATCH", 1000);
	expect(&k[2], "CHANNEL_MISMATCH", 200);
	expect(&k[3], "AMOUNT_MISMATCH", 800);
	assert_false(classify_is_case("EXPLAINED"));
}

/* Booked exactly at as_of - grace still waits; a microsecond earlier is a case. */
static void test_classify_grace_is_strict(void **state)
{
	struct corder o = unpaid("CREATED");
	struct ckey k = key(0, "stripe", "USD", 300, 0, 1);

	(void)state;
	k.first_us = AS_OF - GRACE;
	assert_int_equal(classify_order(&o, &k, 1, &w), 0);
	expect(&k, "PENDING", 300);
	k.first_us = AS_OF - GRACE - 1;
	assert_int_equal(classify_order(&o, &k, 1, &w), 0);
	expect(&k, "CHARGED_NOT_RECORDED", 300);
}

static void test_classify_settlement_window_is_strict(void **state)
{
	struct corder o = paid("stripe", "USD", 300);
	struct ckey k = key(0, "stripe", "USD", 300, 2, 0);

	(void)state;
	k.first_event_us = AS_OF - WINDOW;
	assert_int_equal(classify_order(&o, &k, 1, &w), 0);
	expect(&k, "PENDING", 600);
	k.first_event_us = AS_OF - WINDOW - 1;
	assert_int_equal(classify_order(&o, &k, 1, &w), 0);
	expect(&k, "RECORDED_NOT_CHARGED", 600);
}

static void test_classify_refunds(void **state)
{
	struct corder o = paid("stripe", "USD", 1000);
	struct ckey k[4] = {
		key(1, "stripe", "USD", 200, 3, 1), /* two overdue beyond the one settled */
		key(1, "stripe", "USD", 250, 2, 1), /* the overdue one is settled */
		key(1, "stripe", "USD", 300, 0, 1),
		key(1, "stripe", "USD", 350, 1, 3),
	};

	(void)state;
	k[0].overdue = 3;
	k[1].overdue = 1;
	assert_int_equal(classify_order(&o, k, 4, &w), 0);
	expect(&k[0], "REFUND_NOT_SETTLED", 400);
	expect(&k[1], "PENDING", 250);
	expect(&k[2], "REFUND_NOT_RECORDED", 300);
	expect(&k[3], "DUPLICATE_REFUND", 700);
}

static void test_classify_refuses_overflowing_amounts(void **state)
{
	struct corder o = paid("stripe", "USD", 1);
	struct ckey k = key(0, "stripe", "USD", INT64_MAX / 2 + 1, 1, 3);

	(void)state;
	assert_int_equal(classify_order(&o, &k, 1, &w), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_matched_and_double_charge),
		cmocka_unit_test(test_classify_unexpected_charges),
		cmocka_unit_test(test_classify_mismatch_fallback_order),
		cmocka_unit_test(test_classify_grace_is_strict),
		cmocka_unit_test(test_classify_settlement_window_is_strict),
		cmocka_unit_test(test_classify_refunds),
		cmocka_unit_test(test_classify_refuses_overflowing_amounts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
