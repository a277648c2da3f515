/*
 * test_match.c - the category -> action table, and the report cell rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "match.h"
#include "report.h"

static void test_match_actions_are_sorted_and_unique(void **state)
{
	size_t n, i;
	const struct match_action *a = match_actions(&n);

	(void)state;
	assert_int_equal(n, 12);
	for (i = 1; i < n; i++)
		if (strcmp(a[i - 1].category, a[i].category) >= 0)
			fail_msg("action table out of order or duplicated at %s", a[i].category);
}

static void test_match_action_for_each_category(void **state)
{
	(void)state;
	assert_string_equal(match_action_for("DOUBLE_CHARGE"), "REFUND_EXCESS");
	assert_string_equal(match_action_for("ORPHAN_CHARGE"), "REFUND");
	assert_string_equal(match_action_for("CHARGED_AFTER_CANCEL"), "REFUND");
	assert_string_equal(match_action_for("CHARGED_NOT_RECORDED"), "MARK_PAID");
	assert_string_equal(match_action_for("AMOUNT_MISMATCH"), "MANUAL_REVIEW");
	assert_string_equal(match_action_for("CURRENCY_MISMATCH"), "MANUAL_REVIEW");
	assert_string_equal(match_action_for("CHANNEL_MISMATCH"), "MANUAL_REVIEW");
	assert_string_equal(match_action_for("RECORDED_NOT_CHARGED"), "INVESTIGATE");
	assert_string_equal(match_action_for("REFUND_NOT_SETTLED"), "RETRY_REFUND");
	assert_string_equal(match_action_for("REFUND_NOT_RECORDED"), "RECORD_REFUND");
	assert_string_equal(match_action_for("DUPLICATE_REFUND"), "RECOVER_EXCESS");
	assert_string_equal(match_action_for("LEDGER_ANOMALY"), "FIX_LEDGER");
	assert_null(match_action_for("MATCHED"));
	assert_null(match_action_for(""));
}

static void test_report_neutralises_formula_cells(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(report_neutralise("=SUM(A1:A9)", buf, sizeof(buf)), "'=SUM(A1:A9)");
	assert_string_equal(report_neutralise("+1+1", buf, sizeof(buf)), "'+1+1");
	assert_string_equal(report_neutralise("-2+3", buf, sizeof(buf)), "'-2+3");
	assert_string_equal(report_neutralise("@cmd", buf, sizeof(buf)), "'@cmd");
	assert_string_equal(report_neutralise("\tx", buf, sizeof(buf)), "'\tx");
	assert_string_equal(report_neutralise("\rx", buf, sizeof(buf)), "'\rx");
}

static void test_report_keeps_plain_numbers_and_text(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(report_neutralise("-12.34", buf, sizeof(buf)), "-12.34");
	assert_string_equal(report_neutralise("+5", buf, sizeof(buf)), "+5");
	assert_string_equal(report_neutralise("-0.005", buf, sizeof(buf)), "-0.005");
	assert_string_equal(report_neutralise("ORD-1", buf, sizeof(buf)), "ORD-1");
	assert_string_equal(report_neutralise("", buf, sizeof(buf)), "");
	assert_string_equal(report_neutralise("-", buf, sizeof(buf)), "'-");
	assert_string_equal(report_neutralise("-12.", buf, sizeof(buf)), "'-12.");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_actions_are_sorted_and_unique),
		cmocka_unit_test(test_match_action_for_each_category),
		cmocka_unit_test(test_report_neutralises_formula_cells),
		cmocka_unit_test(test_report_keeps_plain_numbers_and_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
