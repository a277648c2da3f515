/*
 * test_job.c - job files, path expansion, and the writer lock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "job.h"
#include "runlog.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_job_XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *write_job(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_job_loads_with_defaults(void **state)
{
	char err[512];
	struct job *j;

	(void)state;
	j = job_load(write_job("nightly.ini", "[job]\ndatabase = r.db\noutput = out/{date}\n"
					       "[source.psp]\nprofile = psp_v1\nfiles = in/{date}/*.csv\n"),
		     err, sizeof(err));
	assert_non_null(j);
	assert_string_equal(j->name, "nightly");
	assert_string_equal(j->timezone, "UTC");
	assert_int_equal(j->grace_us, 30LL * 60 * 1000000);
	assert_int_equal(j->window_us, 48LL * 3600 * 1000000);
	assert_int_equal(j->reject_share_ppm, -1);
	assert_int_equal(j->n_sources, 1);
	assert_int_equal(j->sources[0].required, 1);
	job_free(j);
}

static void test_job_expands_date_relative_to_its_folder(void **state)
{
	char err[512], want[256];
	struct job *j;
	char *p;

	(void)state;
	j = job_load(write_job("a.ini", "[job]\ndatabase = /abs/r.db\noutput = out/{date}\n"
					"[source.s]\nprofile = psp_v1\nfiles = in/{yyyymmdd}-{date}.csv\n"),
		     err, sizeof(err));
	assert_non_null(j);
	p = job_expand(j, j->sources[0].files, "2026-11-20");
	snprintf(want, sizeof(want), "%s/in/20261120-2026-11-20.csv", dir);
	assert_string_equal(p, want);
	free(p);
	p = job_expand(j, j->database, "2026-11-20");
	assert_string_equal(p, "/abs/r.db");
	free(p);
	job_free(j);
}

static void test_job_refuses_unknown_key_with_its_line(void **state)
{
	char err[512], want[512];
	const char *path;

	(void)state;
	path = write_job("b.ini", "[job]\ndatabase = r.db\noutput = o\ncolour = red\n");
	assert_null(job_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:4: unknown key 'colour' in [job] (expected name, database, output,"
		 " timezone, grace, window, key_file, max_reject_share or fail_on_cases)", path);
	assert_string_equal(err, want);
}

static void test_job_refuses_bad_values(void **state)
{
	char err[512], want[512];
	const char *path;

	(void)state;
	path = write_job("c.ini", "[job]\ndatabase = r.db\noutput = o\ngrace = 30 minutes\n");
	assert_null(job_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:4: grace takes a duration such as 30m or 48h, not '30 minutes'", path);
	assert_string_equal(err, want);
	path = write_job("d.ini", "[job]\ndatabase = r.db\noutput = o\ntimezone = Mars/Olympus\n");
	assert_null(job_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:4: unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Berlin)",
		 path);
	assert_string_equal(err, want);
	path = write_job("e.ini", "[job]\noutput = o\n[source.s]\nprofile = p\nfiles = f\n");
	assert_null(job_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: [job] needs 'database'", path);
	assert_string_equal(err, want);
	path = write_job("f.ini", "[job]\ndatabase = r.db\noutput = o\n[source.s]\nprofile = p\n");
	assert_null(job_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:4: [source.s] needs 'profile' and 'files'", path);
	assert_string_equal(err, want);
	path = write_job("g.ini", "[job]\ndatabase = r.db\noutput = o\n[export]\n");
	assert_null(job_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:4: unknown section [export] (expected [job] or [source.NAME])", path);
	assert_string_equal(err, want);
}

static void test_runlog_lock_is_exclusive(void **state)
{
	char err[256], db[128];
	int a = -1, b = -1;

	(void)state;
	snprintf(db, sizeof(db), "%s/sub/t.db", dir);
	assert_int_equal(runlog_lock(db, &a, err, sizeof(err)), 0);
	assert_int_equal(runlog_lock(db, &b, err, sizeof(err)), 1);
	runlog_unlock(a);
	assert_int_equal(runlog_lock(db, &b, err, sizeof(err)), 0);
	runlog_unlock(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_loads_with_defaults),
		cmocka_unit_test(test_job_expands_date_relative_to_its_folder),
		cmocka_unit_test(test_job_refuses_unknown_key_with_its_line),
		cmocka_unit_test(test_job_refuses_bad_values),
		cmocka_unit_test(test_runlog_lock_is_exclusive),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
