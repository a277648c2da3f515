/*
 * cmd_ingest.c - recon ingest: read statement or ledger files into the database.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <openssl/crypto.h>

#include "cmd.h"
#include "ingest.h"
#include "log.h"
#include "profile.h"
#include "routekey.h"
#include "runlog.h"
#include "store.h"
#include "banned.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: recon ingest --db PATH --profile PROFILE [--channel NAME]\n"
		"                    [--max-reject-share SHARE] [--key-file PATH]\n"
		"                    [--shard K/N | --shards N] FILE...\n\n"
		"Read each FILE through PROFILE (a shipped profile's name, or a profile file's\n"
		"path) into the database at PATH, created if needed.  Each file is one\n"
		"transaction; a file whose bytes were ingested before is skipped.\n\n"
		"  --channel NAME          use NAME as every row's channel (the ledger's name\n"
		"                          for the channel), overriding the profile\n"
		"  --max-reject-share S    refuse a file when more than S of its rows are\n"
		"                          rejected (default: the profile's, else 1%%)\n"
		"  --key-file PATH         make route and order keys with HMAC-SHA-256 under\n"
		"                          this secret (every ingest into one database must\n"
		"                          use the same key)\n"
		"  --shard K/N             keep only the orders of shard K of N (0 <= K < N):\n"
		"                          each shard has its own database, and recon merge\n"
		"                          combines their runs\n"
		"  --shards N              all N shards at once, from one reading of each\n"
		"                          file, each written by a thread of its own: PATH\n"
		"                          holds {k}, the shard's number (0 <= k < N <= 64);\n"
		"                          each database is the one --shard k/N makes\n");
}

#define MAX_SHARDS 64

/* PATTERN with its one "{k}" replaced by K; -1 if it has none, or two. */
static int shard_path(const char *pattern, unsigned k, char *out, size_t size)
{
	const char *at = strstr(pattern, "{k}");
	int n;

	if (at == NULL || strstr(at + 3, "{k}") != NULL)
		return -1;
	n = snprintf(out, size, "%.*s%u%s", (int)(at - pattern), pattern, k, at + 3);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Lock, open and check the database at PATH for shard K of N (N 0: all
 * orders); 0 or a sysexits status (logged). */
static int open_db(const char *path, uint32_t k, uint32_t n, const unsigned char *key_sha,
		      struct store **s, int *lock)
{
	char err[600];
	int status = runlog_lock_or_explain(path, lock);

	if (status)
		return status;
	if (store_open(path, s, err, sizeof(err))) {
		log_event(LOG_ERROR, "cannot open database", "error", err, LOG_END);
		return EX_CANTCREAT;
	}
	if (runlog_abort_stale(*s) < 0)
		return EX_SOFTWARE;
	if (ingest_check_key_mode(*s, key_sha) || ingest_check_shard(*s, k, n))
		return EX_USAGE;
	return 0;
}

/* recon ingest --shards N: every file read once into the N databases. */
static int ingest_shards(const char *pattern, uint32_t n, struct profile *p, const unsigned char *key,
			 size_t key_len, const unsigned char *key_sha, const struct ingest_options *opts,
			 char **files, int nfiles)
{
	struct ingest_shard sh[MAX_SHARDS];
	struct ingest_result res[MAX_SHARDS];
	int lock[MAX_SHARDS];
	char path[4096];
	uint32_t k;
	int i, status = 0, opened;

	memset(sh, 0, sizeof(sh));
	for (k = 0; k < n; k++)
		lock[k] = -1;
	for (k = 0; k < n && status == 0; k++) {
		if (shard_path(pattern, k, path, sizeof(path))) {
			fprintf(stderr, "recon ingest: --db path too long: %s\n", pattern);
			status = EX_USAGE;
			break;
		}
		sh[k].opts = *opts;
		sh[k].opts.shard_k = k;
		sh[k].opts.shard_n = n;
		sh[k].rk = routekey_new(key_len ? key : NULL, key_len);
		if (sh[k].rk == NULL) {
			log_event(LOG_ERROR, "cannot set up SHA-256 (OpenSSL)", LOG_END);
			status = EX_SOFTWARE;
			break;
		}
		status = open_db(path, k, n, key_len ? key_sha : NULL, &sh[k].s, &lock[k]);
	}
	opened = status == 0;
	for (i = 0; opened && i < nfiles; i++) {
		int rc = ingest_file_shards(sh, n, p, files[i], res);

		/* Keep the first failure's status; go on with the other files. */
		if (rc && !status)
			status = rc;
	}
	for (k = 0; k < n; k++) {
		store_close(sh[k].s);
		runlog_unlock(lock[k]);
		routekey_free(sh[k].rk);
	}
	return status;
}

int cmd_ingest(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "profile", required_argument, NULL, 'p' },
		{ "channel", required_argument, NULL, 'c' },
		{ "max-reject-share", required_argument, NULL, 's' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "shard", required_argument, NULL, 'S' },
		{ "shards", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *profile_name = NULL, *key_file = NULL;
	struct ingest_options opts = { NULL, -1, 0, 0 };
	struct profile *p = NULL;
	struct store *s = NULL;
	struct routekey *rk = NULL;
	unsigned char key[ROUTEKEY_KEY_MAX], key_sha[ROUTEKEY_LEN];
	size_t key_len = 0;
	char err[600];
	int c, i, status = 0, lock = -1;
	uint32_t shards = 0;
	char path[4096];

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'p': profile_name = optarg; break;
		case 'c': opts.channel = optarg; break;
		case 'k': key_file = optarg; break;
		case 'S':
			if (ingest_parse_shard(optarg, &opts.shard_k, &opts.shard_n)) {
				fprintf(stderr, "recon ingest: --shard takes K/N with 0 <= K < N <= 1024, not '%s'\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'N': {
			char *end = optarg;
			unsigned long v;

			errno = 0;
			v = optarg[0] >= '1' && optarg[0] <= '9' ? strtoul(optarg, &end, 10) : 0;
			shards = errno == 0 && v <= MAX_SHARDS && *end == '\0' ? (uint32_t)v : 0;
			if (shards == 0) {
				fprintf(stderr, "recon ingest: --shards takes N with 1 <= N <= %d, not '%s'\n",
					MAX_SHARDS, optarg);
				return EX_USAGE;
			}
			break;
		}
		case 's':
			opts.reject_share_ppm = profile_parse_share(optarg);
			if (opts.reject_share_ppm < 0) {
				fprintf(stderr, "recon ingest: --max-reject-share takes a share such as 1%% or 0.5%%, not '%s'\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (db == NULL || profile_name == NULL || optind >= argc) {
		fprintf(stderr, "recon ingest: --db, --profile and at least one FILE are required\n");
		usage(stderr);
		return EX_USAGE;
	}
	if (shards && opts.shard_n) {
		fprintf(stderr, "recon ingest: give --shard K/N or --shards N, not both\n");
		return EX_USAGE;
	}
	if (shards && shard_path(db, 0, path, sizeof(path))) {
		fprintf(stderr, "recon ingest: --shards N needs a --db path with one {k} in it, the shard's number\n");
		return EX_USAGE;
	}
	if (shards && store_library_threads(err, sizeof(err))) {
		log_event(LOG_ERROR, "cannot set up SQLite", "error", err, LOG_END);
		return EX_SOFTWARE;
	}
	if (opts.channel && (opts.channel[0] == '\0' || strlen(opts.channel) > 64)) {
		fprintf(stderr, "recon ingest: --channel takes a name of 1 to 64 bytes\n");
		return EX_USAGE;
	}
	p = profile_load(profile_name, err, sizeof(err));
	if (p == NULL) {
		log_event(LOG_ERROR, "cannot load profile", "error", err, LOG_END);
		return EX_USAGE;
	}
	if (key_file && routekey_read_key_file(key_file, key, &key_len, key_sha, err, sizeof(err))) {
		log_event(LOG_ERROR, "cannot load key file", "error", err, LOG_END);
		status = EX_NOINPUT;
		goto out;
	}
	if (shards) {
		status = ingest_shards(db, shards, p, key, key_len, key_sha, &opts, argv + optind, argc - optind);
		goto out;
	}
	rk = routekey_new(key_len ? key : NULL, key_len);
	if (rk == NULL) {
		log_event(LOG_ERROR, "cannot set up SHA-256 (OpenSSL)", LOG_END);
		status = EX_SOFTWARE;
		goto out;
	}
	status = open_db(db, opts.shard_k, opts.shard_n, key_len ? key_sha : NULL, &s, &lock);
	if (status)
		goto out;
	for (i = optind; i < argc; i++) {
		struct ingest_result res;
		int rc = ingest_file(s, p, rk, argv[i], &opts, &res);

		/* Keep the first failure's status; go on with the other files. */
		if (rc && !status)
			status = rc;
	}
out:
	store_close(s);
	runlog_unlock(lock);
	routekey_free(rk);
	profile_free(p);
	OPENSSL_cleanse(key, sizeof(key));
	return status;
}
