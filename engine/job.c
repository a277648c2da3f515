/*
 * job.c - load and validate a job file (see job.h).
 *
 * Owns the job structure and its strings.
 */
#include "job.h"

#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inifile.h"
#include "profile.h"
#include "timeparse.h"
#include "banned.h"

struct job_loader {
	struct job *j;
	struct inifile ini;
	char *err;
	size_t errlen;
	int failed;
	int section_line;  /* line of the last "[section]" */
};

__attribute__((format(printf, 2, 3)))
static void fail(struct job_loader *ld, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (ld->failed)
		return;
	ld->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	inifile_message(ld->err, ld->errlen, ld->j->path, ld->ini.line, msg);
}

static void on_line(void *owner, const char *name)
{
	struct job_loader *ld = owner;

	if (name != NULL)
		ld->section_line = ld->ini.line;
	if (name == NULL)
		fail(ld, "line longer than 198 characters");
	else if (strcmp(name, "job") != 0 && !(strncmp(name, "source.", 7) == 0 && name[7] != '\0'))
		fail(ld, "unknown section [%s] (expected [job] or [source.NAME])", name);
}

static int set_str(struct job_loader *ld, char **slot, const char *v, const char *key)
{
	if (*slot) {
		fail(ld, "key '%s' given twice", key);
		return 0;
	}
	if (*v == '\0') {
		fail(ld, "key '%s' is empty", key);
		return 0;
	}
	*slot = strdup(v);
	if (*slot == NULL)
		fail(ld, "out of memory");
	return !ld->failed;
}

static int parse_yes_no(struct job_loader *ld, const char *v, int *out)
{
	if (strcmp(v, "yes") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0)
		*out = 0;
	else
		fail(ld, "expected yes or no, not '%s'", v);
	return !ld->failed;
}

static struct job_source *source_for(struct job_loader *ld, const char *name)
{
	struct job *j = ld->j;
	size_t i;

	for (i = 0; i < j->n_sources; i++)
		if (strcmp(j->sources[i].name, name) == 0)
			return &j->sources[i];
	if (j->n_sources == JOB_MAX_SOURCES) {
		fail(ld, "too many sources (at most %d)", JOB_MAX_SOURCES);
		return NULL;
	}
	j->sources[j->n_sources].name = strdup(name);
	j->sources[j->n_sources].required = 1;
	j->sources[j->n_sources].line = ld->section_line;
	if (j->sources[j->n_sources].name == NULL) {
		fail(ld, "out of memory");
		return NULL;
	}
	return &j->sources[j->n_sources++];
}

static int on_entry(void *user, const char *section, const char *name, const char *v)
{
	struct job_loader *ld = user;
	struct job *j = ld->j;

	if (ld->failed)
		return 0;
	if (strcmp(section, "job") == 0) {
		if (strcmp(name, "name") == 0)
			return set_str(ld, &j->name, v, name);
		if (strcmp(name, "database") == 0)
			return set_str(ld, &j->database, v, name);
		if (strcmp(name, "output") == 0)
			return set_str(ld, &j->output, v, name);
		if (strcmp(name, "key_file") == 0)
			return set_str(ld, &j->key_file, v, name);
		if (strcmp(name, "timezone") == 0) {
			if (!timeparse_zone_exists(v)) {
				fail(ld, "unknown time zone '%s' (use an IANA name such as Europe/Berlin)", v);
				return 0;
			}
			return set_str(ld, &j->timezone, v, name);
		}
		if (strcmp(name, "grace") == 0 || strcmp(name, "window") == 0) {
			if (timeparse_parse_duration(v, name[0] == 'g' ? &j->grace_us : &j->window_us)) {
				fail(ld, "%s takes a duration such as 30m or 48h, not '%s'", name, v);
				return 0;
			}
			return 1;
		}
		if (strcmp(name, "max_reject_share") == 0) {
			j->reject_share_ppm = profile_parse_share(v);
			if (j->reject_share_ppm < 0)
				fail(ld, "max_reject_share takes a share such as 1%% or 0.5%%, not '%s'", v);
			return !ld->failed;
		}
		if (strcmp(name, "fail_on_cases") == 0)
			return parse_yes_no(ld, v, &j->fail_on_cases);
		fail(ld, "unknown key '%s' in [job] (expected name, database, output, timezone, grace, window,"
			 " key_file, max_reject_share or fail_on_cases)", name);
		return 0;
	}
	if (strncmp(section, "source.", 7) == 0 && section[7] != '\0') {
		struct job_source *src = source_for(ld, section + 7);

		if (src == NULL)
			return 0;
		if (strcmp(name, "profile") == 0)
			return set_str(ld, &src->profile, v, name);
		if (strcmp(name, "files") == 0)
			return set_str(ld, &src->files, v, name);
		if (strcmp(name, "channel") == 0)
			return set_str(ld, &src->channel, v, name);
		if (strcmp(name, "required") == 0)
			return parse_yes_no(ld, v, &src->required);
		fail(ld, "unknown key '%s' in [%s] (expected profile, files, channel or required)", name, section);
		return 0;
	}
	fail(ld, "unknown section [%s]", section);
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static char *base_of(const char *path)
{
	const char *b = strrchr(path, '/');
	size_t len;

	b = b ? b + 1 : path;
	len = strlen(b);
	if (len > 4 && strcmp(b + len - 4, ".ini") == 0)
		len -= 4;
	return strndup(b, len);
}

struct job *job_load(const char *path, char *err, size_t errlen)
{
	struct job_loader ld;
	struct job *j = calloc(1, sizeof(*j));
	char *text = NULL;
	size_t len, i;
	int rc;

	memset(&ld, 0, sizeof(ld));
	if (j == NULL || (j->path = strdup(path)) == NULL || (j->dir = dir_of(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		job_free(j);
		return NULL;
	}
	j->grace_us = 30LL * 60 * 1000000;
	j->window_us = 48LL * 3600 * 1000000;
	j->reject_share_ppm = -1;
	if (inifile_read(path, &text, &len, err, errlen)) {
		job_free(j);
		return NULL;
	}
	ld.j = j;
	ld.err = err;
	ld.errlen = errlen;
	ld.ini.text = text;
	ld.ini.size = len;
	ld.ini.on_line = on_line;
	ld.ini.owner = &ld;
	rc = ini_parse_stream(inifile_reader, &ld.ini, on_entry, &ld);
	if (!ld.failed && rc > 0) {
		ld.ini.line = rc;
		fail(&ld, "syntax error (expected [section] or key = value)");
	}
	free(text);
	ld.ini.line = 0;
	if (!ld.failed && j->database == NULL)
		fail(&ld, "[job] needs 'database'");
	if (!ld.failed && j->output == NULL)
		fail(&ld, "[job] needs 'output' (a directory pattern such as reports/{date})");
	if (!ld.failed && j->n_sources == 0)
		fail(&ld, "a job needs at least one [source.NAME] section");
	for (i = 0; !ld.failed && i < j->n_sources; i++) {
		ld.ini.line = j->sources[i].line;
		if (j->sources[i].profile == NULL || j->sources[i].files == NULL)
			fail(&ld, "[source.%s] needs 'profile' and 'files'", j->sources[i].name);
	}
	if (!ld.failed && j->name == NULL && (j->name = base_of(path)) == NULL)
		fail(&ld, "out of memory");
	if (!ld.failed && j->timezone == NULL && (j->timezone = strdup("UTC")) == NULL)
		fail(&ld, "out of memory");
	if (ld.failed) {
		job_free(j);
		return NULL;
	}
	return j;
}

void job_free(struct job *j)
{
	size_t i;

	if (j == NULL)
		return;
	free(j->path);
	free(j->dir);
	free(j->name);
	free(j->database);
	free(j->output);
	free(j->timezone);
	free(j->key_file);
	for (i = 0; i < j->n_sources; i++) {
		free(j->sources[i].name);
		free(j->sources[i].profile);
		free(j->sources[i].files);
		free(j->sources[i].channel);
	}
	free(j);
}

char *job_expand(const struct job *j, const char *pattern, const char *date)
{
	char compact[9];
	size_t cap = strlen(j->dir) + strlen(pattern) * 2 + 64, n = 0;
	char *out = malloc(cap);
	const char *p = pattern;

	if (out == NULL)
		return NULL;
	snprintf(compact, sizeof(compact), "%.4s%.2s%.2s", date, date + 5, date + 8);
	if (pattern[0] != '/')
		n = (size_t)snprintf(out, cap, "%s/", j->dir);
	while (*p) {
		const char *put = NULL;
		size_t skip = 0;

		if (strncmp(p, "{date}", 6) == 0) {
			put = date;
			skip = 6;
		} else if (strncmp(p, "{yyyymmdd}", 10) == 0) {
			put = compact;
			skip = 10;
		}
		if (put) {
			size_t len = strlen(put);
			if (n + len + 1 > cap) {
				char *grown = realloc(out, cap = (n + len + 1) * 2);
				if (grown == NULL) {
					free(out);
					return NULL;
				}
				out = grown;
			}
			memcpy(out + n, put, len);
			n += len;
			p += skip;
		} else {
			if (n + 2 > cap) {
				char *grown = realloc(out, cap *= 2);
				if (grown == NULL) {
					free(out);
					return NULL;
				}
				out = grown;
			}
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	return out;
}
