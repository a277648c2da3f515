/*
 * log.c - key=value event lines on stderr (see log.h).
 *
 * Owns the process-wide log threshold, the only global state besides the parsed
 * command-line options.
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "banned.h"

static enum log_level threshold = LOG_WARN;
/* The progress line is drawn by one thread (the first shard's writer under
 * ingest --shards) while others may log events.  One mutex serialises the
 * writes to stderr and this state, so an event line first erases a progress
 * line on its terminal line and never lands in the middle of one. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int progress_shown, progress_drawn;
static double progress_start, progress_last;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level level)
{
	threshold = level;
}

void log_init(void)
{
	threshold = isatty(STDERR_FILENO) ? LOG_INFO : LOG_WARN;
}

static int needs_quotes(const char *s)
{
	if (*s == '\0')
		return 1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c == '=' || c == '"' || c == 0x7f)
			return 1;
	}
	return 0;
}

static void put_value(FILE *f, const char *s)
{
	if (!needs_quotes(s)) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < ' ' || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void log_event(enum log_level level, const char *msg, ...)
{
	va_list ap;
	const char *key;

	if (level < threshold)
		return;
	(void)pthread_mutex_lock(&out_lock);
	flockfile(stderr);
	if (progress_drawn) {
		fputs("\r\033[K", stderr);
		progress_drawn = 0;
	}
	fprintf(stderr, "level=%s msg=", level_names[level]);
	put_value(stderr, msg);
	va_start(ap, msg);
	while ((key = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);
		if (value == NULL)
			continue;
		fprintf(stderr, " %s=", key);
		put_value(stderr, value);
	}
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	(void)pthread_mutex_unlock(&out_lock);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Floating point here is for rates and times only, never for money. */
void log_progress(const char *file, long long rows, unsigned long long bytes, unsigned long long total)
{
	double now, rate;

	if (threshold > LOG_INFO || !isatty(STDERR_FILENO))
		return;
	now = now_seconds();
	(void)pthread_mutex_lock(&out_lock);
	if (!progress_shown) {
		progress_start = progress_last = now;
		progress_shown = 1;
	} else if (now - progress_last >= 0.25) {
		progress_last = now;
		rate = (double)bytes / (now - progress_start) / 1e6;
		fprintf(stderr, "\r\033[K%s: %lld rows, %.1f MB/s", file, rows, rate);
		if (total > bytes && rate > 0)
			fprintf(stderr, ", ETA %.0f s", (double)(total - bytes) / 1e6 / rate);
		progress_drawn = 1;
	}
	(void)pthread_mutex_unlock(&out_lock);
}

void log_progress_done(void)
{
	(void)pthread_mutex_lock(&out_lock);
	if (progress_drawn)
		fputs("\r\033[K", stderr);
	progress_shown = progress_drawn = 0;
	(void)pthread_mutex_unlock(&out_lock);
}
