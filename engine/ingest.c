/*
 * ingest.c - the per-file pipeline (see ingest.h).
 *
 * Owns, per file: the normaliser, the per-reason skip counts (bounded), the first
 * few reject reasons for the refusal message, and the transaction.
 */
#include "ingest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "fault.h"
#include "log.h"
#include "normalize.h"
#include "readahead.h"
#include "reader.h"
#include "banned.h"

#define FIRST_REJECTS 3

struct ingest_ctx {
	struct store *s;
	struct profile *p;
	struct routekey *rk;
	const char *path;
	int64_t file_id;
	int64_t rows_seen;         /* records handed to on_row so far */
	int64_t bytes_total;       /* the file's size, for the progress display */
	unsigned long long bytes_read; /* so far, for the progress display */
	const struct ingest_options *opts;
	struct store_counts c;
	int64_t other_shard;       /* good rows of orders in other shards */
	int progress;              /* 1: this one updates the progress display */
	char shard[24];            /* "K/N" of a sharded ingest, for its messages; "" */
	char first_rejects[FIRST_REJECTS][200];
	size_t n_first;
};

static void num(char *buf, size_t size, long long v)
{
	snprintf(buf, size, "%lld", v);
}

/* The last key of a message: "shard" and its K/N when sharded, else the end
 * of the list (log_event stops at the first LOG_END key). */
#define SHARD_KEY(x) ((x)->shard[0] ? "shard" : LOG_END), (x)->shard

static int db_error(struct ingest_ctx *x)
{
	log_event(LOG_ERROR, "database error", "file", x->path, "error", store_errmsg(x->s), SHARD_KEY(x),
		  LOG_END);
	return EX_SOFTWARE;
}

/* A database error while storing the record that starts at LINE. */
static int db_error_at(struct ingest_ctx *x, long line)
{
	char l[24];

	num(l, sizeof(l), line);
	log_event(LOG_ERROR, "database error", "file", x->path, "line", l, "error", store_errmsg(x->s),
		  SHARD_KEY(x), LOG_END);
	return EX_SOFTWARE;
}

static int reject(struct ingest_ctx *x, const struct reader_record *rec, const char *field,
		  const char *reason)
{
	/* Every shard counts a reject (the refusal share is the same in all); only
	 * shard 0 keeps it, so that merged reports list it once. */
	int keep = x->opts->shard_n == 0 || x->opts->shard_k == 0;

	if (keep && store_quarantine(x->s, x->file_id, rec->line, field, reason, rec->raw, rec->raw_len))
		return db_error_at(x, rec->line);
	x->c.rejected++;
	if (x->n_first < FIRST_REJECTS) {
		snprintf(x->first_rejects[x->n_first++], sizeof(x->first_rejects[0]),
			 "line %ld%s%s: %s", rec->line, field ? " field " : "", field ? field : "", reason);
	}
	return 0;
}

/*
 * The row for the store, with its keys.  A row with an id is identified by it; a
 * row without one by the digest of its canonical content and its ordinal among
 * identical rows in this file (SPEC section 3), computed only then.  Events also
 * carry their order key: with the uid, it names a LEDGER_ANOMALY case, and
 * matching does not hold the HMAC key to recompute it.  HAVE_ORDER says ORDER
 * already holds it (a sharded ingest made it to pick the shard).
 */
static int make_row(struct ingest_ctx *x, const struct canon_record *r, struct store_row *row,
		    unsigned char uid[32], unsigned char route[32], unsigned char order[32], int have_order)
{
	int ledger = x->p->kind == PROFILE_LEDGER, keyed = routekey_keyed(x->rk);
	const char *type = profile_type_name(r->type);

	row->uid = NULL;
	row->order_key = NULL;
	if (r->id[0] == '\0') {
		char amount[24], when[24], fee[24], ord[24];
		const char *fields[7];
		size_t lens[7];
		unsigned char content[32];
		const char *cf[2] = { (const char *)content, ord };
		size_t cl[2] = { 32, 0 };
		int64_t ordinal = 0;
		size_t i;

		num(amount, sizeof(amount), r->amount_minor);
		num(when, sizeof(when), r->time_us);
		if (r->has_fee)
			num(fee, sizeof(fee), r->fee_minor);
		else
			fee[0] = '\0';
		fields[0] = type;
		fields[1] = r->order_ref;
		fields[2] = amount;
		fields[3] = r->currency;
		fields[4] = when;
		fields[5] = r->channel;
		fields[6] = fee;
		for (i = 0; i < 7; i++)
			lens[i] = strlen(fields[i]);
		if (routekey_digest(x->rk, ledger ? "ledger-content-v1" : "statement-content-v1",
				    fields, lens, 7, content))
			return -1;
		if (store_ordinal_next(x->s, content, &ordinal))
			return -2;
		num(ord, sizeof(ord), ordinal);
		cl[1] = strlen(ord);
		if (routekey_digest(x->rk, ledger ? "ledger-uid-content-v1" : "statement-uid-content-v1",
				    cf, cl, 2, uid))
			return -1;
		row->uid = uid;
	}
	/* Only HMAC order and route keys are stored: plain ones are made again
	 * from the row where needed (schemas/migrations/0010_plain_keys.sql). */
	if (ledger && keyed) {
		if (!have_order && routekey_order(x->rk, r->order_ref, order))
			return -1;
		row->order_key = order;
	}
	row->route_key = NULL;
	if (r->type == TYPE_CHARGE || r->type == TYPE_PAID || r->type == TYPE_REFUND || r->type == TYPE_REFUNDED) {
		const char *kind = r->type == TYPE_CHARGE || r->type == TYPE_PAID ? "CHARGE" : "REFUND";

		if (!keyed) {
			if (routekey_route_fits(kind, r->channel, r->order_ref, r->currency, r->amount_minor))
				return -1;
		} else if (routekey_route(x->rk, kind, r->channel, r->order_ref, r->currency, r->amount_minor,
					  route)) {
			return -1;
		} else {
			row->route_key = route;
		}
	} else if (ledger && !keyed && routekey_order_fits(r->order_ref)) {
		return -1;
	}
	row->id = r->id;
	row->order_ref = r->order_ref;
	row->type = type;
	row->amount_minor = r->amount_minor;
	row->currency = r->currency;
	row->time_us = r->time_us;
	row->channel = r->channel;
	row->has_fee = r->has_fee;
	row->fee_minor = r->fee_minor;
	row->line = r->line;
	return 0;
}

/* One data record's outcome (normalize_file's callback): store, quarantine or skip. */
static int on_row(void *ctx, const struct reader_record *rec, enum normalize_result result,
		  const struct canon_record *r, const char *reason, const char *field)
{
	struct ingest_ctx *x = ctx;
	struct store_row row;
	unsigned char uid[32], route[32], order[32];
	enum store_outcome outcome;
	int64_t kept = 0;
	int rc;

	if (++x->rows_seen % 1000 == 0) {
		fault_point("ingest-rows");
		if (x->progress)
			log_progress(x->path, (long long)x->rows_seen, x->bytes_read, (unsigned long long)x->bytes_total);
	}
	if (result == NORMALIZE_SKIP)
		return 0;
	if (result == NORMALIZE_REJECT)
		return reject(x, rec, field, reason);
	if (x->opts->shard_n) {
		if (routekey_order(x->rk, r->order_ref, order))
			return reject(x, rec, NULL, "values too long to key");
		if (ingest_shard_of(order, x->opts->shard_n) != x->opts->shard_k) {
			x->other_shard++;
			return 0;
		}
	}
	rc = make_row(x, r, &row, uid, route, order, x->opts->shard_n != 0);
	if (rc == -2)
		return db_error_at(x, rec->line);
	if (rc) {
		/* Only an over-long encoding gets here; OpenSSL failures are internal. */
		return reject(x, rec, NULL, "values too long to key");
	}
	if (x->p->kind == PROFILE_LEDGER)
		rc = store_insert_event(x->s, x->file_id, &row, &outcome, &kept);
	else
		rc = store_insert_statement(x->s, x->file_id, &row, &outcome, &kept);
	if (rc)
		return db_error_at(x, rec->line);
	switch (outcome) {
	case STORE_INSERTED:
		x->c.inserted++;
		break;
	case STORE_DUPLICATE:
		x->c.duplicate++;
		break;
	case STORE_CONFLICT: {
		char line[24];

		x->c.conflict++;
		num(line, sizeof(line), rec->line);
		log_event(LOG_WARN, "id seen again with different content; first version kept",
			  "file", x->path, "line", line, "id", r->id, SHARD_KEY(x), LOG_END);
		if (store_conflict(x->s, x->file_id, rec->line,
				   x->p->kind == PROFILE_LEDGER ? "ledger" : "statement", r->id, kept,
				   rec->raw, rec->raw_len))
			return db_error_at(x, rec->line);
		break;
	}
	}
	return 0;
}

/* SHA-256 of the file's bytes; its size into *BYTES.  Returns a sysexits status. */
static int hash_file(const char *path, unsigned char out[32], int64_t *bytes)
{
	FILE *f = fopen(path, "rb");
	EVP_MD_CTX *md = NULL;
	unsigned char buf[65536];
	unsigned int len = 0;
	size_t n;
	int status = EX_IOERR;

	*bytes = 0;
	if (f == NULL) {
		log_event(LOG_ERROR, "cannot open input file", "file", path, "error", strerror(errno), LOG_END);
		return errno == ENOENT || errno == ENOTDIR ? EX_NOINPUT : EX_IOERR;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		status = EX_SOFTWARE;
		goto out;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (!EVP_DigestUpdate(md, buf, n)) {
			status = EX_SOFTWARE;
			goto out;
		}
		*bytes += (int64_t)n;
	}
	if (ferror(f)) {
		log_event(LOG_ERROR, "cannot read input file", "file", path, "error", strerror(errno), LOG_END);
		goto out;
	}
	if (!EVP_DigestFinal_ex(md, out, &len)) {
		status = EX_SOFTWARE;
		goto out;
	}
	status = 0;
out:
	if (status == EX_SOFTWARE)
		log_event(LOG_ERROR, "cannot hash input file", "file", path, LOG_END);
	EVP_MD_CTX_free(md);
	fclose(f);
	return status;
}

static int refuse_for_rejects(struct ingest_ctx *x, long ppm)
{
	int64_t considered = x->c.inserted + x->c.duplicate + x->c.conflict + x->c.rejected + x->other_shard;
	char rejected[24], total[24], limit[32], first[FIRST_REJECTS * 200 + 8];
	size_t i, pos;

	/* Integer arithmetic: rejected / considered > ppm / 1e6. */
	if (x->c.rejected == 0 || x->c.rejected * 1000000 <= (int64_t)ppm * considered)
		return 0;
	num(rejected, sizeof(rejected), x->c.rejected);
	num(total, sizeof(total), considered);
	snprintf(limit, sizeof(limit), "%ld.%04ld%%", ppm / 10000, ppm % 10000);
	first[0] = '\0';
	for (i = 0, pos = 0; i < x->n_first && pos < sizeof(first); i++) {
		int n = snprintf(first + pos, sizeof(first) - pos, "%s%s", i ? "; " : "", x->first_rejects[i]);
		if (n < 0)
			break;
		pos += (size_t)n;
	}
	log_event(LOG_ERROR, "file refused: too many rejected rows (wrong profile?)", "file", x->path,
		  "profile", x->p->name, "rejected", rejected, "rows", total, "max_reject_share", limit,
		  "first", first, SHARD_KEY(x), LOG_END);
	return 1;
}

/* Whether S holds PATH's bytes already (logged); -1 on a database error. */
static int already(struct store *s, const char *path, const unsigned char sha[32], int64_t *file_id)
{
	int rc = store_file_find(s, sha, file_id);

	if (rc < 0) {
		log_event(LOG_ERROR, "database error", "file", path, "error", store_errmsg(s), LOG_END);
		return -1;
	}
	if (rc == 1) {
		char id[24];
		num(id, sizeof(id), *file_id);
		log_event(LOG_INFO, "already ingested (same bytes); nothing to do", "file", path,
			  "file_id", id, LOG_END);
	}
	return rc;
}

/* ingest_end's status for a file whose identity indexes, built after its rows,
 * found two rows with one identity: rolled back, to be loaded again row by
 * row (store_identity_defer). */
#define LOAD_AGAIN (-1)

/* A file's context, its file row and its transaction begun.  SHARE: how many
 * databases are loaded at once, to share the page cache between.  DEFER: a
 * large file into an empty table may build its identity indexes after its
 * rows. */
static struct ingest_ctx *ingest_begin(struct store *s, struct profile *p, struct routekey *rk,
				       const char *path, const struct ingest_options *opts,
				       const unsigned char sha[32], int64_t bytes, int share, int defer,
				       int *status)
{
	struct ingest_ctx *x = calloc(1, sizeof(*x));
	struct store_file sf;

	*status = 0;
	if (x == NULL) {
		log_event(LOG_ERROR, "out of memory", "file", path, LOG_END);
		*status = EX_OSERR;
		return NULL;
	}
	x->s = s;
	x->p = p;
	x->rk = rk;
	x->opts = opts;
	x->path = path;
	x->bytes_total = bytes;
	memset(&sf, 0, sizeof(sf));
	sf.sha256 = sha;
	sf.path = path;
	sf.kind = p->kind == PROFILE_LEDGER ? "ledger" : "statement";
	sf.profile = p->name;
	sf.profile_sha256 = p->sha256;
	sf.channel = opts->channel;
	sf.bytes = bytes;
	if (store_cache_load(s, bytes, share) || store_begin(s) || store_file_insert(s, &sf, &x->file_id) ||
	    store_ordinal_reset(s) || (defer && store_identity_defer(s, p->kind == PROFILE_LEDGER, bytes) < 0)) {
		*status = db_error(x);
		if (store_rollback(s))
			log_event(LOG_ERROR, "rollback failed", "file", path, "error", store_errmsg(s), LOG_END);
		/* Even after a failed rollback: the process goes on to record its run. */
		if (store_load_done(s))
			log_event(LOG_ERROR, "cannot turn foreign key checks on again", "file", path, "error",
				  store_errmsg(s), LOG_END);
		free(x);
		return NULL;
	}
	return x;
}

/* After the rows (STATUS: how reading and storing them went): refuse the file
 * or commit it and log its counts, or roll back.  Frees X; returns the status. */
static int ingest_end(struct ingest_ctx *x, int status, const struct normalize_file_result *nr,
		      struct ingest_result *res)
{
	struct store *s = x->s;
	const char *path = x->path;
	long ppm;
	size_t i;
	int rc;

	if (status)
		goto done;
	x->c.read = nr->records;
	x->c.skipped = nr->skipped;
	ppm = x->opts->reject_share_ppm >= 0 ? x->opts->reject_share_ppm : x->p->reject_share_ppm;
	if (refuse_for_rejects(x, ppm)) {
		status = EX_DATAERR;
		goto done;
	}
	for (i = 0; i < nr->skips.n; i++)
		if (store_skip_add(s, x->file_id, nr->skips.r[i].reason, nr->skips.r[i].rows)) {
			status = db_error(x);
			goto done;
		}
	fault_point("ingest-indexes");
	rc = store_identity_build(s);
	if (rc) {
		status = rc > 0 ? LOAD_AGAIN : db_error(x);
		goto done;
	}
	fault_point("ingest-commit");
	if (store_file_finish(s, x->file_id, &x->c) || store_commit(s)) {
		status = db_error(x);
		goto done;
	}
	fault_point("ingest-committed");
	{
		char a[24], b[24], c[24], d[24], e[24], f[24];
		num(a, sizeof(a), x->c.read);
		num(b, sizeof(b), x->c.inserted);
		num(c, sizeof(c), x->c.duplicate);
		num(d, sizeof(d), x->c.conflict);
		num(e, sizeof(e), x->c.rejected);
		num(f, sizeof(f), x->c.skipped);
		log_event(x->c.rejected || x->c.conflict ? LOG_WARN : LOG_INFO, "file ingested",
			  "file", path, "profile", x->p->name, "rows", a, "inserted", b, "duplicate", c,
			  "conflict", d, "rejected", e, "skipped", f, SHARD_KEY(x), LOG_END);
		for (i = 0; i < x->n_first && x->c.rejected; i++)
			log_event(LOG_WARN, "row rejected", "file", path, "where", x->first_rejects[i],
				  SHARD_KEY(x), LOG_END);
	}
	res->counts = x->c;
	res->file_id = x->file_id;
done:
	if (status && store_rollback(s))
		log_event(LOG_ERROR, "rollback failed", "file", path, "error", store_errmsg(s), SHARD_KEY(x),
			  LOG_END);
	if (store_load_done(s)) {
		/* The file is committed (or rolled back), but the connection would
		 * go on without foreign key checks: an internal error. */
		log_event(LOG_ERROR, "cannot turn foreign key checks on again", "file", path, "error",
			  store_errmsg(s), SHARD_KEY(x), LOG_END);
		if (!status)
			status = EX_SOFTWARE;
	}
	free(x);
	return status;
}

/* ingest_file, deferring the identity indexes if DEFER; LOAD_AGAIN when that
 * failed. */
static int ingest_once(struct store *s, struct profile *p, struct routekey *rk, const char *path,
		       const struct ingest_options *opts, struct ingest_result *res, int defer)
{
	struct ingest_ctx *x;
	struct normalize_file_result nr;
	unsigned char sha[32];
	int64_t bytes = 0;
	int status, rc;

	memset(res, 0, sizeof(*res));
	status = hash_file(path, sha, &bytes);
	if (status)
		return status;
	rc = already(s, path, sha, &res->file_id);
	if (rc)
		return rc < 0 ? EX_SOFTWARE : (res->already = 1, 0);
	x = ingest_begin(s, p, rk, path, opts, sha, bytes, 1, defer, &status);
	if (x == NULL)
		return status;
	x->progress = 1;
	memset(&nr, 0, sizeof(nr));
	status = readahead_file(p, path, opts->channel, on_row, x, &nr, &x->bytes_read);
	log_progress_done();
	return ingest_end(x, status, &nr, res);
}

/* A file whose ids repeat within it, found only once its rows are in, loads
 * again row by row; it was rolled back, and nothing of it was logged. */
static int load_again(struct store *s, struct profile *p, struct routekey *rk, const char *path,
		      const struct ingest_options *opts, struct ingest_result *res)
{
	log_event(LOG_INFO, "an id repeats within the file; loading it again row by row", "file", path,
		  LOG_END);
	return ingest_once(s, p, rk, path, opts, res, 0);
}

int ingest_file(struct store *s, struct profile *p, struct routekey *rk, const char *path,
		const struct ingest_options *opts, struct ingest_result *res)
{
	int status = ingest_once(s, p, rk, path, opts, res, 1);

	return status == LOAD_AGAIN ? load_again(s, p, rk, path, opts, res) : status;
}

/* One shard's part of ingest_file_shards, on a thread of its own. */
struct shard_job {
	struct ingest_ctx *x;
	struct readahead *ra;
	struct ingest_result *res;
	size_t shard;              /* its index in the caller's shards */
	int consumed;              /* on_row's failure */
	int status;
	pthread_t thread;
	int started;
};

static void *shard_thread(void *arg)
{
	struct shard_job *j = arg;
	struct normalize_file_result nr;
	int reading;

	j->consumed = readahead_consume(j->ra, on_row, j->x, j->x->progress ? &j->x->bytes_read : NULL);
	reading = readahead_result(j->ra, &nr);
	/* Each shard commits its own database, all at once. */
	j->status = ingest_end(j->x, j->consumed ? j->consumed : reading, &nr, j->res);
	return NULL;
}

int ingest_file_shards(const struct ingest_shard *sh, size_t n, struct profile *p, const char *path,
		       struct ingest_result *res)
{
	struct shard_job *job = calloc(n, sizeof(*job));
	struct normalize_file_result nr = { 0 };
	struct readahead *ra;
	unsigned char sha[32];
	int64_t bytes = 0;
	size_t k, m = 0, failed = 0;
	int status = 0, rc;

	if (job == NULL) {
		log_event(LOG_ERROR, "out of memory", "file", path, LOG_END);
		return EX_OSERR;
	}
	for (k = 0; k < n; k++)
		memset(&res[k], 0, sizeof(res[k]));
	status = hash_file(path, sha, &bytes);
	if (status)
		goto out;
	/* The shards that do not hold the file yet (a run stopped half way may
	 * have committed it in some). */
	for (k = 0; k < n; k++) {
		rc = already(sh[k].s, path, sha, &res[k].file_id);
		if (rc < 0) {
			status = EX_SOFTWARE;
			goto out;
		}
		res[k].already = rc;
	}
	for (k = 0; k < n; k++) {
		int st;

		if (res[k].already)
			continue;
		job[m].x = ingest_begin(sh[k].s, p, sh[k].rk, path, &sh[k].opts, sha, bytes, (int)n, 1, &st);
		if (job[m].x == NULL) {
			status = st;
			goto out;
		}
		job[m].res = &res[k];
		job[m].shard = k;
		job[m].x->progress = m == 0;
		/* N threads log into one stream: each message says its shard. */
		snprintf(job[m].x->shard, sizeof(job[m].x->shard), "%u/%u", (unsigned)sh[k].opts.shard_k,
			 (unsigned)sh[k].opts.shard_n);
		m++;
	}
	if (m == 0)
		goto out;
	ra = readahead_start(p, path, sh[0].opts.channel, m);
	if (ra == NULL) {
		log_event(LOG_ERROR, "cannot start the reading thread", "file", path, LOG_END);
		status = EX_OSERR;
		goto out;
	}
	for (k = 0; k < m; k++) {
		job[k].ra = ra;
		if (pthread_create(&job[k].thread, NULL, shard_thread, &job[k]) == 0) {
			job[k].started = 1;
			continue;
		}
		log_event(LOG_ERROR, "cannot start a writer thread", "file", path, LOG_END);
		readahead_leave(ra);
		job[k].consumed = EX_OSERR;
		job[k].status = ingest_end(job[k].x, EX_OSERR, &nr, job[k].res);
		job[k].x = NULL;
	}
	for (k = 0; k < m; k++) {
		if (job[k].started)
			pthread_join(job[k].thread, NULL);
		failed += job[k].consumed != 0;
		if (job[k].status && job[k].status != LOAD_AGAIN && !status)
			status = job[k].status;
	}
	log_progress_done();
	rc = readahead_finish(ra, &nr, failed == m);
	if (rc && !status)
		status = rc;
	/* A shard whose ids repeat loads again on its own, reading the file for
	 * its rows alone (its options say its shard). */
	for (k = 0; k < m; k++) {
		const struct ingest_shard *h = &sh[job[k].shard];

		if (job[k].status != LOAD_AGAIN)
			continue;
		rc = load_again(h->s, p, h->rk, path, &h->opts, job[k].res);
		if (rc && !status)
			status = rc;
	}
out:
	/* Files begun but never handed to a thread (an earlier failure); a job
	 * whose thread did not start was ended already and has no x. */
	for (k = 0; k < m; k++)
		if (job[k].x && !job[k].started)
			(void)ingest_end(job[k].x, status ? status : EX_SOFTWARE, &nr, job[k].res);
	free(job);
	return status;
}

uint32_t ingest_shard_of(const unsigned char order_key[ROUTEKEY_LEN], uint32_t n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | order_key[i];
	return n ? (uint32_t)(v % n) : 0;
}

int ingest_parse_shard(const char *text, uint32_t *k, uint32_t *n)
{
	char *end;
	unsigned long a, b;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	a = strtoul(text, &end, 10);
	if (*end != '/' || end[1] < '0' || end[1] > '9')
		return -1;
	b = strtoul(end + 1, &end, 10);
	if (*end != '\0' || b < 1 || b > 1024 || a >= b)
		return -1;
	*k = (uint32_t)a;
	*n = (uint32_t)b;
	return 0;
}

/* Record setting NAME = WANT the first time; refuse (-1, logged with WHY and the
 * two values under HAVE_KEY and WANT_KEY) a database where it is another value. */
static int check_setting(struct store *s, const char *name, const char *want, const char *why,
			 const char *have_key, const char *want_key)
{
	char have[64];
	int rc = store_setting_get(s, name, have, sizeof(have));

	if (rc < 0)
		goto db;
	if (rc == 1) {
		if (strcmp(have, want) == 0)
			return 0;
		log_event(LOG_ERROR, why, have_key, have, want_key, want, LOG_END);
		return -1;
	}
	if (store_begin(s) || store_setting_set(s, name, want) || store_commit(s))
		goto db;
	return 0;
db:
	log_event(LOG_ERROR, "database error", "error", store_errmsg(s), LOG_END);
	store_rollback(s);
	return -1;
}

int ingest_check_shard(struct store *s, uint32_t k, uint32_t n)
{
	char want[32];

	if (n)
		snprintf(want, sizeof(want), "%u/%u", k, n);
	else
		snprintf(want, sizeof(want), "all");
	return check_setting(s, "shard", want, "this database holds another shard; give each shard its own database",
			     "database_shard", "this_shard");
}

int ingest_check_key_mode(struct store *s, const unsigned char *key_sha256)
{
	char want[64];

	if (key_sha256) {
		char hex[65];
		routekey_hex(key_sha256, hex);
		snprintf(want, sizeof(want), "hmac-sha256:%.16s", hex);
	} else {
		snprintf(want, sizeof(want), "sha256");
	}
	return check_setting(s, "routekey", want, "this database's keys were made another way; use the same key file",
			     "database_keys", "these_keys");
}
