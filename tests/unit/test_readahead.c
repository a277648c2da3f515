/*
 * test_readahead.c - pins engine/readahead.h: reading on a second thread hands
 * the writer exactly what normalize_file does, in the same order, stops when
 * the writer says so, and reports a refusal after the records before it; and
 * with several consumers on threads of their own (the shards of one ingest),
 * each gets all of it, one consumer's failure stops only that consumer, and a
 * refusal is logged once.
 *
 * Each test writes a statement file (the shipped psp_v1 profile) of a few
 * thousand records, more than the batches the threads pass between them, with
 * rejects spread through it, and records every callback as a line of text:
 * line, outcome, reason, field and the canonical fields.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "normalize.h"
#include "profile.h"
#include "readahead.h"

/* More than the ring holds (4 batches of 512 for one consumer, 64 for
 * several), twice over. */
#define ROWS 80000

/* What the callbacks saw. */
struct seen {
	char *text;
	size_t len, cap;
	long calls;
	long stop_at;                  /* return EX_SOFTWARE on this call (1-based); 0: never */
	long slow_every;               /* sleep 50 ms every this many calls; 0: never */
	unsigned long long *progress;  /* readahead's progress, checked on every call */
	unsigned long long last_progress;
	int progress_went_back;
};

static struct {
	char dir[64];
	char csv[128];
	char cap[128];
	struct profile *p;
	char err[1024];
} fx;

static int setup(void **state)
{
	char path[4096];
	const char *file = __FILE__;
	const char *slash = strrchr(file, '/');
	FILE *f;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/test_readahead_XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	snprintf(fx.csv, sizeof(fx.csv), "%s/statement.csv", fx.dir);
	snprintf(fx.cap, sizeof(fx.cap), "%s/stderr.txt", fx.dir);
	snprintf(path, sizeof(path), "%.*s/../../schemas/profiles/psp_v1.ini",
		 slash ? (int)(slash - file) : 1, slash ? file : ".");
	f = fopen(path, "rb");
	if (f)
		fclose(f);
	else
		snprintf(path, sizeof(path), "%s/psp_v1.ini", RECON_PROFILE_DIR);
	fx.p = profile_load(path, fx.err, sizeof(fx.err));
	log_set_level(LOG_WARN);
	return fx.p ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	profile_free(fx.p);
	unlink(fx.csv);
	unlink(fx.cap);
	rmdir(fx.dir);
	return 0;
}

/* ROWS records; every 97th has a bad amount, every 211th an unknown type.  With
 * BAD_LINE > 0, that line holds a byte that is not UTF-8 (the file is refused). */
static void write_statement(long bad_line)
{
	FILE *f = fopen(fx.csv, "wb");
	long i;

	assert_non_null(f);
	fputs("txn_id,booked_at,type,merchant_order_id,amount,currency,channel,fee\n", f);
	for (i = 1; i <= ROWS; i++) {
		long line = i + 1;

		if (line == bad_line)
			fprintf(f, "T%06ld,2026-11-20T10:00:00Z,CHARGE,ORD-\xff%ld,1.00,EUR,stripe,\n", i, i);
		else if (i % 97 == 0)
			fprintf(f, "T%06ld,2026-11-20T10:00:00Z,CHARGE,ORD-%ld,12.345,EUR,stripe,0.10\n", i, i);
		else if (i % 211 == 0)
			fprintf(f, "T%06ld,2026-11-20T10:00:00Z,PAYOUT,ORD-%ld,5.00,EUR,stripe,\n", i, i);
		else
			fprintf(f, "T%06ld,2026-11-20T10:%02ld:%02ldZ,%s,ORD-%ld,%ld.%02ld,%s,%s,%s\n", i, i / 60 % 60,
				i % 60, i % 7 ? "CHARGE" : "REFUND", i / 2, i % 900 + 1, i % 100,
				i % 3 ? "EUR" : "USD", i % 5 ? "stripe" : "adyen", i % 4 ? "0.25" : "");
	}
	assert_int_equal(fclose(f), 0);
}

static void add(struct seen *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = s->cap - s->len;

		va_start(ap, fmt);
		n = vsnprintf(s->text ? s->text + s->len : NULL, room, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < room) {
			s->len += (size_t)n;
			return;
		}
		s->cap = s->cap ? s->cap * 2 : 4096;
		while (s->cap - s->len <= (size_t)n)
			s->cap *= 2;
		s->text = realloc(s->text, s->cap);
		assert_non_null(s->text);
	}
}

static int on_row(void *ctx, const struct reader_record *rec, enum normalize_result res,
		  const struct canon_record *r, const char *reason, const char *field)
{
	struct seen *s = ctx;

	s->calls++;
	if (s->slow_every && s->calls % s->slow_every == 0) {
		struct timespec ts = { 0, 50000000 };

		nanosleep(&ts, NULL);
	}
	if (s->progress) {
		if (*s->progress < s->last_progress)
			s->progress_went_back = 1;
		s->last_progress = *s->progress;
	}
	add(s, "%ld %d [%.*s] %s %s", rec->line, (int)res, (int)rec->raw_len, rec->raw,
	    reason ? reason : "-", field ? field : "-");
	if (res == NORMALIZE_OK)
		add(s, " %d %s %s %" PRId64 " %s %d %" PRId64 " %s %d %" PRId64 " %ld", (int)r->type, r->id,
		    r->order_ref, r->amount_minor, r->currency, r->exponent, r->time_us, r->channel, r->has_fee,
		    r->fee_minor, r->line);
	add(s, "\n");
	return s->calls == s->stop_at ? EX_SOFTWARE : 0;
}

/* Run normalize_file (THREADED 0) or readahead_file, stderr into *ERR_TEXT. */
static int run(int threaded, struct seen *s, struct normalize_file_result *res, char **err_text)
{
	int saved, fd, status;
	FILE *f;
	long size;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	fd = open(fx.cap, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
	if (threaded)
		status = readahead_file(fx.p, fx.csv, NULL, on_row, s, res, s->progress);
	else
		status = normalize_file(fx.p, fx.csv, NULL, on_row, s, res);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fopen(fx.cap, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	rewind(f);
	*err_text = calloc(1, (size_t)size + 1);
	assert_non_null(*err_text);
	assert_int_equal(fread(*err_text, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	return status;
}

static void free_seen(struct seen *s)
{
	free(s->text);
}

static void test_readahead_delivers_what_normalize_file_does(void **state)
{
	struct seen a = { 0 }, b = { 0 };
	struct normalize_file_result ra, rb;
	unsigned long long progress = 0;
	char *ea, *eb;

	(void)state;
	write_statement(0);
	b.progress = &progress;
	assert_int_equal(run(0, &a, &ra, &ea), 0);
	assert_int_equal(run(1, &b, &rb, &eb), 0);
	assert_int_equal(a.calls, ROWS);
	assert_int_equal(b.calls, ROWS);
	assert_string_equal(b.text, a.text);
	assert_string_equal(eb, ea);
	assert_int_equal(rb.records, ROWS);
	assert_int_equal(rb.rejected, ROWS / 97 + ROWS / 211 - ROWS / (97 * 211));
	assert_int_equal(rb.rejected, ra.rejected);
	assert_int_equal(rb.stats.bytes, ra.stats.bytes);
	assert_int_equal(rb.stats.lines, ROWS + 1);
	assert_false(b.progress_went_back);
	assert_true(b.last_progress > 0);
	assert_true(b.last_progress <= rb.stats.bytes);
	free(ea);
	free(eb);
	free_seen(&a);
	free_seen(&b);
}

static void test_readahead_stops_at_the_callbacks_status(void **state)
{
	struct seen a = { 0 }, b = { 0 };
	struct normalize_file_result ra, rb;
	char *ea, *eb;

	(void)state;
	write_statement(0);
	a.stop_at = b.stop_at = 1500;
	assert_int_equal(run(0, &a, &ra, &ea), EX_SOFTWARE);
	assert_int_equal(run(1, &b, &rb, &eb), EX_SOFTWARE);
	assert_int_equal(a.calls, 1500);
	assert_int_equal(b.calls, 1500);
	assert_string_equal(b.text, a.text);
	assert_string_equal(eb, "");
	assert_string_equal(ea, "");
	free(ea);
	free(eb);
	free_seen(&a);
	free_seen(&b);
}

/* Several consumers, each on a thread of its own. */
struct consumer {
	struct seen s;
	struct readahead *ra;
	int status;
	pthread_t thread;
};

static void *consume(void *arg)
{
	struct consumer *c = arg;

	c->status = readahead_consume(c->ra, on_row, &c->s, NULL);
	return NULL;
}

/* N consumers (the last LEAVE of them leave before taking anything); the
 * reading's outcome from readahead_result, as each consumer sees it, into
 * *RESULT; readahead_finish's status returned; stderr into *ERR_TEXT. */
static int run_many(size_t n, size_t leave, struct consumer *c, int *result,
		    struct normalize_file_result *res, char **err_text)
{
	struct readahead *ra;
	struct normalize_file_result seen;
	int saved, fd, status, failed = 0;
	size_t i;
	FILE *f;
	long size;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	fd = open(fx.cap, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
	ra = readahead_start(fx.p, fx.csv, NULL, n);
	assert_non_null(ra);
	for (i = 0; i < n - leave; i++) {
		c[i].ra = ra;
		assert_int_equal(pthread_create(&c[i].thread, NULL, consume, &c[i]), 0);
	}
	for (i = n - leave; i < n; i++)
		readahead_leave(ra);
	for (i = 0; i < n - leave; i++) {
		assert_int_equal(pthread_join(c[i].thread, NULL), 0);
		failed += c[i].status != 0;
	}
	*result = readahead_result(ra, &seen);
	status = readahead_finish(ra, res, failed == (int)(n - leave));
	assert_int_equal(seen.records, res->records);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fopen(fx.cap, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	rewind(f);
	*err_text = calloc(1, (size_t)size + 1);
	assert_non_null(*err_text);
	assert_int_equal(fread(*err_text, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	return status;
}

/* Consumers 0..N-1 all succeeded, each with CALLS records, A's text; freed. */
static void got_all(struct consumer *c, size_t n, const struct seen *a, long calls)
{
	size_t i;

	for (i = 0; i < n; i++) {
		assert_int_equal(c[i].status, 0);
		assert_int_equal(c[i].s.calls, calls);
		assert_string_equal(c[i].s.text, a->text);
		free_seen(&c[i].s);
	}
}

static void test_readahead_every_consumer_gets_every_record(void **state)
{
	struct seen a = { 0 };
	struct consumer c[3];
	struct normalize_file_result ra, rb;
	char *ea, *eb;
	int result;

	(void)state;
	memset(c, 0, sizeof(c));
	write_statement(0);
	assert_int_equal(run(0, &a, &ra, &ea), 0);
	assert_int_equal(run_many(3, 0, c, &result, &rb, &eb), 0);
	assert_int_equal(result, 0);
	got_all(c, 3, &a, ROWS);
	assert_string_equal(eb, ea);
	assert_int_equal(rb.records, ROWS);
	assert_int_equal(rb.rejected, ra.rejected);
	assert_int_equal(rb.stats.bytes, ra.stats.bytes);
	free(ea);
	free(eb);
	free_seen(&a);
}

/* A slow consumer and a fast one: the fast one comes round the ring to
 * batches the slow one still holds, and must wait for the next ones instead
 * of taking those again. */
static void test_readahead_fast_consumer_waits_for_new_batches(void **state)
{
	struct seen a = { 0 };
	struct consumer c[2];
	struct normalize_file_result ra, rb;
	char *ea, *eb;
	int result;

	(void)state;
	memset(c, 0, sizeof(c));
	write_statement(0);
	c[0].s.slow_every = 20000;
	assert_int_equal(run(0, &a, &ra, &ea), 0);
	assert_int_equal(run_many(2, 0, c, &result, &rb, &eb), 0);
	got_all(c, 2, &a, ROWS);
	free(ea);
	free(eb);
	free_seen(&a);
}

/* Consumer 1 fails on its 1500th record: it gets no more, the others get all. */
static void test_readahead_one_consumer_fails_the_others_go_on(void **state)
{
	struct seen a = { 0 }, b = { 0 };
	struct consumer c[3];
	struct normalize_file_result ra, rb;
	char *ea, *eb;
	int result, i;

	(void)state;
	memset(c, 0, sizeof(c));
	write_statement(0);
	b.stop_at = 1500;
	assert_int_equal(run(0, &a, &ra, &ea), 0);
	free(ea);
	assert_int_equal(run(0, &b, &ra, &ea), EX_SOFTWARE);
	c[1].s.stop_at = 1500;
	assert_int_equal(run_many(3, 0, c, &result, &rb, &eb), 0);
	assert_int_equal(result, 0);
	assert_int_equal(c[1].status, EX_SOFTWARE);
	assert_int_equal(c[1].s.calls, 1500);
	assert_string_equal(c[1].s.text, b.text);
	for (i = 0; i < 3; i += 2) {
		assert_int_equal(c[i].status, 0);
		assert_int_equal(c[i].s.calls, ROWS);
		assert_string_equal(c[i].s.text, a.text);
	}
	for (i = 0; i < 3; i++)
		free_seen(&c[i].s);
	assert_string_equal(eb, "");
	assert_int_equal(rb.records, ROWS);
	free(ea);
	free(eb);
	free_seen(&a);
	free_seen(&b);
}

/* When every consumer has failed the reading stops early, and nothing is
 * logged for it: the failures are the consumers' to report. */
static void test_readahead_all_consumers_fail_the_reading_stops(void **state)
{
	struct consumer c[2];
	struct normalize_file_result rb;
	char *eb;
	int result;

	(void)state;
	memset(c, 0, sizeof(c));
	write_statement(0);
	c[0].s.stop_at = 10;
	c[1].s.stop_at = 700;
	(void)run_many(2, 0, c, &result, &rb, &eb);
	assert_int_equal(c[0].status, EX_SOFTWARE);
	assert_int_equal(c[1].status, EX_SOFTWARE);
	assert_int_equal(c[0].s.calls, 10);
	assert_int_equal(c[1].s.calls, 700);
	assert_true(rb.records < ROWS);
	assert_string_equal(eb, "");
	free(eb);
	free_seen(&c[0].s);
	free_seen(&c[1].s);
}

/* A refusal on line 2600 with two consumers: each gets the 2598 records
 * before it, each learns of it from readahead_result, and it is logged once. */
static void test_readahead_refusal_many_consumers_logged_once(void **state)
{
	struct seen a = { 0 };
	struct consumer c[2];
	struct normalize_file_result ra, rb;
	char *ea, *eb;
	int result;

	(void)state;
	memset(c, 0, sizeof(c));
	write_statement(2600);
	assert_int_equal(run(0, &a, &ra, &ea), EX_DATAERR);
	assert_int_equal(run_many(2, 0, c, &result, &rb, &eb), EX_DATAERR);
	assert_int_equal(result, EX_DATAERR);
	got_all(c, 2, &a, 2598);
	assert_string_equal(eb, ea);
	assert_non_null(strstr(eb, "msg=\"file refused\""));
	assert_null(strstr(strstr(eb, "msg=\"file refused\"") + 1, "msg=\"file refused\""));
	free(ea);
	free(eb);
	free_seen(&a);
}

/* A consumer that leaves before taking anything (its thread did not start)
 * holds no one up: the other two get everything. */
static void test_readahead_consumer_leaves(void **state)
{
	struct seen a = { 0 };
	struct consumer c[3];
	struct normalize_file_result ra, rb;
	char *ea, *eb;
	int result;

	(void)state;
	memset(c, 0, sizeof(c));
	write_statement(0);
	assert_int_equal(run(0, &a, &ra, &ea), 0);
	assert_int_equal(run_many(3, 1, c, &result, &rb, &eb), 0);
	got_all(c, 2, &a, ROWS);
	assert_int_equal(c[2].s.calls, 0);
	assert_int_equal(rb.records, ROWS);
	free(ea);
	free(eb);
	free_seen(&a);
}

/* A refusal on line 2600: the 2598 records before it are delivered first, then
 * the same message as normalize_file's is logged, last. */
static void test_readahead_refusal_comes_after_the_records(void **state)
{
	struct seen a = { 0 }, b = { 0 };
	struct normalize_file_result ra, rb;
	char *ea, *eb;

	(void)state;
	write_statement(2600);
	assert_int_equal(run(0, &a, &ra, &ea), EX_DATAERR);
	assert_int_equal(run(1, &b, &rb, &eb), EX_DATAERR);
	assert_int_equal(a.calls, 2598);
	assert_int_equal(b.calls, 2598);
	assert_string_equal(b.text, a.text);
	assert_string_equal(eb, ea);
	assert_non_null(strstr(eb, "level=error msg=\"file refused\""));
	assert_non_null(strstr(eb, "line=2600 column=41"));
	assert_int_equal(rb.refusal.kind, REFUSED_READER);
	free(ea);
	free(eb);
	free_seen(&a);
	free_seen(&b);
}

static void test_readahead_missing_file_is_no_input(void **state)
{
	struct seen b = { 0 };
	struct normalize_file_result rb;
	char *eb;

	(void)state;
	assert_int_equal(run(1, &b, &rb, &eb), EX_NOINPUT);
	assert_int_equal(b.calls, 0);
	assert_non_null(strstr(eb, "level=error msg=\"cannot read input file\""));
	assert_non_null(strstr(eb, fx.csv));
	free(eb);
	free_seen(&b);
}

/* The header does not fit the profile: refused before any record. */
static void test_readahead_header_refusal(void **state)
{
	struct seen a = { 0 }, b = { 0 };
	struct normalize_file_result ra, rb;
	char *ea, *eb;
	FILE *f = fopen(fx.csv, "wb");

	(void)state;
	assert_non_null(f);
	fputs("id,when,what\nT1,2026-11-20T10:00:00Z,CHARGE\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(run(0, &a, &ra, &ea), EX_DATAERR);
	assert_int_equal(run(1, &b, &rb, &eb), EX_DATAERR);
	assert_int_equal(b.calls, 0);
	assert_string_equal(eb, ea);
	assert_non_null(strstr(eb, "msg=\"file refused: header does not fit the profile\""));
	assert_non_null(strstr(eb, "line=1"));
	free(ea);
	free(eb);
	free_seen(&a);
	free_seen(&b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_readahead_delivers_what_normalize_file_does),
		T(test_readahead_stops_at_the_callbacks_status),
		T(test_readahead_refusal_comes_after_the_records),
		T(test_readahead_missing_file_is_no_input),
		T(test_readahead_header_refusal),
		T(test_readahead_every_consumer_gets_every_record),
		T(test_readahead_fast_consumer_waits_for_new_batches),
		T(test_readahead_one_consumer_fails_the_others_go_on),
		T(test_readahead_all_consumers_fail_the_reading_stops),
		T(test_readahead_refusal_many_consumers_logged_once),
		T(test_readahead_consumer_leaves),
	};

	/* A race in the ring shows as threads waiting on each other for ever:
	 * fail in 3 minutes (the suite takes 15 s under ThreadSanitizer) rather
	 * than at run-unit.sh's 10-minute timeout. */
	alarm(180);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
