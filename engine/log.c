/*
 * log.c - key=value event lines on stderr (see log.h).
 *
 * Owns the process-wide log threshold, the only global state besides the parsed
 * command-line options.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "banned.h"

static enum log_level threshold = LOG_WARN;

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
	flockfile(stderr);
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
}
