/*
 * inifile.c - line-counting reader for libinih (see inifile.h).
 */
#include "inifile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

int inifile_read(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(INIFILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	n = fread(buf, 1, INIFILE_MAX + 1, f);
	if (ferror(f) || n > INIFILE_MAX) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ? strerror(errno) : "file larger than 256 KiB");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* A "[name]" line: hand the name to the owner (libinih reports only key lines,
 * so an empty unknown section would otherwise pass unnoticed). */
static void section_line(struct inifile *f, const char *line)
{
	const char *start = line + strspn(line, " \t"), *end;
	char name[128];

	if (*start != '[' || f->on_line == NULL)
		return;
	end = strchr(start, ']');
	if (end == NULL || (size_t)(end - start - 1) >= sizeof(name))
		return; /* libinih reports the syntax error */
	memcpy(name, start + 1, (size_t)(end - start - 1));
	name[end - start - 1] = '\0';
	f->on_line(f->owner, name);
}

char *inifile_reader(char *buf, int size, void *stream)
{
	struct inifile *f = stream;
	size_t n = 0;

	if (f->pos >= f->size)
		return NULL;
	f->line++;
	while (f->pos < f->size && n + 1 < (size_t)size) {
		char c = f->text[f->pos++];
		buf[n++] = c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] != '\n' && f->pos < f->size) {
		if (f->on_line)
			f->on_line(f->owner, NULL);
		while (f->pos < f->size && f->text[f->pos] != '\n')
			f->pos++;
		if (f->pos < f->size)
			f->pos++;
	}
	section_line(f, buf);
	return buf;
}

void inifile_message(char *err, size_t errlen, const char *path, int line, const char *msg)
{
	if (line > 0)
		snprintf(err, errlen, "%s:%d: %s", path, line, msg);
	else
		snprintf(err, errlen, "%s: %s", path, msg);
}
