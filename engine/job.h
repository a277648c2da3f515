/*
 * job.h - a job file (jobs/NAME.ini): what a nightly run or a rerun does.
 *
 * The database, the output directory pattern, the business date's time zone, the
 * grace period and settlement window, and the sources (profile, file pattern with
 * a {date} placeholder, channel override).  Relative paths are relative to the
 * job file's own folder.  Read with libinih and validated as it loads: an unknown
 * key or a bad value is an error naming the job file and line.
 */
#ifndef RECON_JOB_H
#define RECON_JOB_H

#include <stddef.h>
#include <stdint.h>

#define JOB_MAX_SOURCES 32

struct job_source {
	char *name;        /* [source.NAME] */
	char *profile;     /* a shipped profile's name or a path (relative to the job file) */
	char *files;       /* glob pattern with {date}, relative to the job file */
	char *channel;     /* overrides the profile's channel, or NULL */
	int required;      /* at least one file must match */
	int line;
};

struct job {
	char *path;
	char *dir;         /* folder of the job file */
	char *name;
	char *database;
	char *output;      /* directory pattern with {date} */
	char *timezone;    /* IANA zone of the business date (default UTC) */
	int64_t grace_us, window_us;
	char *key_file;
	long reject_share_ppm; /* -1: each profile's own */
	int fail_on_cases;
	struct job_source sources[JOB_MAX_SOURCES];
	size_t n_sources;
};

/* Load and validate the job file at PATH.  NULL with "PATH:LINE: why" in ERR. */
struct job *job_load(const char *path, char *err, size_t errlen);
void job_free(struct job *j);

/*
 * PATTERN with {date} replaced by DATE (YYYY-MM-DD) and {yyyymmdd} by its compact
 * form, and made relative to the job's folder unless absolute.  Returns a new
 * string, or NULL when out of memory.
 */
char *job_expand(const struct job *j, const char *pattern, const char *date);

#endif
