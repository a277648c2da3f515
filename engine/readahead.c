/*
 * readahead.c - read and normalise a file on a second thread (see readahead.h).
 *
 * Owns the reading thread and a ring of batches.  The reading
 * thread fills one batch at a time with copies of the records (their line,
 * raw text, outcome, reason and canonical fields) and hands it over; each
 * consumer (the calling thread, or one writer thread per shard) takes the
 * batches in order, calls FN for each record and gives the batch back.  A batch's text buffer grows to the largest batch
 * seen and is reused, so there is no allocation per record.  A mutex and one
 * condition variable guard the hand-overs, a few per thousand records.
 *
 * Why a thread: the writer (SQLite) is the bottleneck, and reading, parsing
 * and normalising a row costs about a sixth of what storing it does; on a
 * second core that part overlaps the writes instead of adding to them.
 */
#include "readahead.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "log.h"
#include "timeparse.h"
#include "banned.h"

/*
 * Batches in the ring: 4 for one consumer; 64 for several, which hold the
 * reading up until the slowest has taken a batch, so that a writer's pause
 * (a page split, the cache spilling) does not stop the others at once.  Two
 * shards of the 1,000,000-order files, 3 runs each alternated: ledger
 * 5.22-5.43 s with 4 batches, 4.64-4.77 s with 64; statements 2.88-3.10 s
 * and 2.67-2.77 s; about 10 MiB more memory.
 */
#define RA_BATCHES_ONE 4
#define RA_BATCHES_MANY 64
#define RA_RECORDS 512

/* One record, its strings as offsets into its batch's text (R's string
 * pointers are not used: a consumer sets them in a copy). */
struct ra_record {
	enum normalize_result result;
	long line;
	size_t raw, raw_len;
	size_t reason, field;          /* offset + 1; 0 for NULL */
	size_t id, order_ref, channel; /* NORMALIZE_OK records only */
	struct canon_record r;
};

struct ra_batch {
	struct ra_record rec[RA_RECORDS];
	size_t n;
	char *text;
	size_t used, cap;
	unsigned long long bytes;      /* file bytes read when it was handed over */
	unsigned long long seq;        /* its number in the file, from 0 */
	size_t pending;                /* consumers yet to take it; 0: free to fill */
};

struct readahead {
	pthread_mutex_t mu;
	pthread_cond_t cv;             /* any change of pending, stop or done */
	struct ra_batch *b;
	size_t nb;                     /* batches in the ring */
	size_t fill;                   /* the batch the reading thread fills */
	unsigned long long filled;     /* batches handed over so far */
	size_t consumers;              /* readahead_start's N */
	size_t live;                   /* consumers that still want records */
	int stop;                      /* no consumer wants more records */
	int done;                      /* the reading thread has finished */
	int oom;                       /* a text buffer could not grow */
	int status;                    /* normalize_file_quiet's */
	int started;                   /* the reading thread runs */
	struct profile *p;
	const char *path, *channel;
	struct normalize_file_result res;
	pthread_t thread;
};

/* Copy LEN bytes of S, and a NUL, to B's text; the offset into *OFF. */
static void put(struct ra_batch *b, const char *s, size_t len, size_t *off)
{
	*off = b->used;
	if (len)
		memcpy(b->text + b->used, s, len);
	b->text[b->used + len] = '\0';
	b->used += len + 1;
}

/* Hand the filling batch over and wait for the next one to be free.  Returns
 * 1 when the calling thread wants no more records.  Called with mu held. */
static int hand_over(struct readahead *ra)
{
	struct ra_batch *b = &ra->b[ra->fill];

	b->bytes = ra->res.stats.bytes;
	b->seq = ra->filled++;
	b->pending = ra->consumers;
	pthread_cond_broadcast(&ra->cv);
	ra->fill = (ra->fill + 1) % ra->nb;
	while (ra->b[ra->fill].pending && !ra->stop)
		pthread_cond_wait(&ra->cv, &ra->mu);
	return ra->stop;
}

/* normalize_file's callback on the reading thread: copy the record. */
static int enqueue(void *ctx, const struct reader_record *rec, enum normalize_result result,
		   const struct canon_record *r, const char *reason, const char *field)
{
	struct readahead *ra = ctx;
	struct ra_batch *b = &ra->b[ra->fill];
	struct ra_record *q = &b->rec[b->n];
	size_t raw_len = rec->raw ? rec->raw_len : 0;
	size_t n_reason = reason ? strlen(reason) + 1 : 0, n_field = field ? strlen(field) + 1 : 0;
	size_t need = raw_len + 1 + n_reason + n_field, n_id = 0, n_ref = 0, n_chan = 0;
	int stop;

	if (result == NORMALIZE_OK) {
		n_id = strlen(r->id);
		n_ref = strlen(r->order_ref);
		n_chan = strlen(r->channel);
		need += n_id + n_ref + n_chan + 3;
	}
	if (b->used + need > b->cap) {
		size_t cap = b->cap ? b->cap : 64 * 1024;
		char *t;

		while (cap < b->used + need)
			cap *= 2;
		t = realloc(b->text, cap);
		if (t == NULL) {
			ra->oom = 1;
			return EX_OSERR;
		}
		b->text = t;
		b->cap = cap;
	}
	q->result = result;
	q->line = rec->line;
	q->raw_len = raw_len;
	put(b, rec->raw, raw_len, &q->raw);
	q->reason = q->field = 0;
	if (reason) {
		put(b, reason, n_reason - 1, &q->reason);
		q->reason++;
	}
	if (field) {
		put(b, field, n_field - 1, &q->field);
		q->field++;
	}
	if (result == NORMALIZE_OK) {
		q->r = *r;
		put(b, r->id, n_id, &q->id);
		put(b, r->order_ref, n_ref, &q->order_ref);
		put(b, r->channel, n_chan, &q->channel);
	}
	if (++b->n < RA_RECORDS)
		return 0;
	pthread_mutex_lock(&ra->mu);
	stop = hand_over(ra);
	pthread_mutex_unlock(&ra->mu);
	return stop;
}

static void *reading_thread(void *arg)
{
	struct readahead *ra = arg;
	int status = normalize_file_quiet(ra->p, ra->path, ra->channel, enqueue, ra, &ra->res);

	pthread_mutex_lock(&ra->mu);
	if (ra->b[ra->fill].n > 0 && !ra->b[ra->fill].pending && !ra->stop) {
		struct ra_batch *b = &ra->b[ra->fill];

		b->bytes = ra->res.stats.bytes;
		b->seq = ra->filled++;
		b->pending = ra->consumers;
	}
	ra->status = status;
	ra->done = 1;
	pthread_cond_broadcast(&ra->cv);
	pthread_mutex_unlock(&ra->mu);
	return NULL;
}

/* Call FN for every record of batch B, in order.  Returns FN's first status.
 * B is shared by the consumers: it is only read here. */
static int deliver(const struct ra_batch *b, normalize_row_fn fn, void *ctx,
		   unsigned long long *progress)
{
	size_t i;

	if (progress)
		*progress = b->bytes;
	for (i = 0; i < b->n; i++) {
		const struct ra_record *q = &b->rec[i];
		struct reader_record rec;
		struct canon_record r;
		int status;

		memset(&rec, 0, sizeof(rec));
		rec.line = q->line;
		rec.raw = b->text + q->raw;
		rec.raw_len = q->raw_len;
		if (q->result == NORMALIZE_OK) {
			r = q->r;
			r.id = b->text + q->id;
			r.order_ref = b->text + q->order_ref;
			r.channel = b->text + q->channel;
		}
		status = fn(ctx, &rec, q->result, q->result == NORMALIZE_OK ? &r : NULL,
			    q->reason ? b->text + q->reason - 1 : NULL, q->field ? b->text + q->field - 1 : NULL);
		if (status)
			return status;
	}
	return 0;
}

/* Free RA and its batches (the reading thread joined or never started). */
static void ra_free(struct readahead *ra)
{
	size_t i;

	for (i = 0; i < ra->nb; i++)
		free(ra->b[i].text);
	free(ra->b);
	pthread_cond_destroy(&ra->cv);
	pthread_mutex_destroy(&ra->mu);
	free(ra);
}

struct readahead *readahead_start(struct profile *p, const char *path, const char *channel, size_t n)
{
	struct readahead *ra = calloc(1, sizeof(*ra));
	const char *zone = p->field[F_TIME].timezone;

	if (ra == NULL)
		return NULL;
	ra->p = p;
	ra->path = path;
	ra->channel = channel;
	ra->consumers = n;
	ra->live = n;
	ra->nb = n > 1 ? RA_BATCHES_MANY : RA_BATCHES_ONE;
	ra->b = calloc(ra->nb, sizeof(*ra->b));
	if (ra->b == NULL) {
		free(ra);
		return NULL;
	}
	/* Select the profile's zone here: timeparse sets TZ the first time it
	 * meets a zone, and setenv must not race the writers' getenv. */
	if (zone) {
		int64_t utc;

		(void)timeparse_local_to_utc(0, zone, &utc);
	}
	if (pthread_mutex_init(&ra->mu, NULL) != 0) {
		free(ra->b);
		free(ra);
		return NULL;
	}
	if (pthread_cond_init(&ra->cv, NULL) != 0) {
		pthread_mutex_destroy(&ra->mu);
		free(ra->b);
		free(ra);
		return NULL;
	}
	if (n == 0 || pthread_create(&ra->thread, NULL, reading_thread, ra) != 0) {
		ra_free(ra);
		return NULL;
	}
	ra->started = 1;
	return ra;
}

/*
 * Each consumer takes every batch in file order: it waits for the batch of
 * its next number (a faster consumer may find a batch still held by a slower
 * one, with the records it took already), and the last consumer to take a
 * batch frees it for the reading thread.  A consumer whose FN failed goes on
 * taking batches without calling FN, so that the others are never held up by
 * it; when none wants records any more the reading thread stops.
 */
int readahead_consume(struct readahead *ra, normalize_row_fn fn, void *ctx,
		      unsigned long long *progress)
{
	unsigned long long want = 0;
	size_t take = 0;
	int status = 0;

	for (;;) {
		struct ra_batch *b = &ra->b[take];
		int ready;

		pthread_mutex_lock(&ra->mu);
		while (!(b->pending && b->seq == want) && !(ra->done && ra->filled == want) && !ra->stop)
			pthread_cond_wait(&ra->cv, &ra->mu);
		ready = b->pending && b->seq == want;
		pthread_mutex_unlock(&ra->mu);
		if (!ready)
			break;  /* done, and every batch taken; or no one wants more */
		if (status == 0) {
			status = deliver(b, fn, ctx, progress);
			if (status) {
				pthread_mutex_lock(&ra->mu);
				if (--ra->live == 0)
					ra->stop = 1;
				pthread_cond_broadcast(&ra->cv);
				pthread_mutex_unlock(&ra->mu);
			}
		}
		pthread_mutex_lock(&ra->mu);
		if (--b->pending == 0) {
			b->n = 0;
			b->used = 0;
		}
		pthread_cond_broadcast(&ra->cv);
		pthread_mutex_unlock(&ra->mu);
		want++;
		take = (take + 1) % ra->nb;
	}
	return status;
}

void readahead_leave(struct readahead *ra)
{
	size_t i;

	pthread_mutex_lock(&ra->mu);
	ra->consumers--;
	if (--ra->live == 0)
		ra->stop = 1;
	/* It took none: every batch handed over still counts it. */
	for (i = 0; i < ra->nb; i++) {
		struct ra_batch *b = &ra->b[i];

		if (b->pending && --b->pending == 0) {
			b->n = 0;
			b->used = 0;
		}
	}
	pthread_cond_broadcast(&ra->cv);
	pthread_mutex_unlock(&ra->mu);
}

int readahead_result(struct readahead *ra, struct normalize_file_result *res)
{
	int status;

	pthread_mutex_lock(&ra->mu);
	while (!ra->done)
		pthread_cond_wait(&ra->cv, &ra->mu);
	*res = ra->res;
	status = ra->oom ? EX_OSERR : ra->status;
	pthread_mutex_unlock(&ra->mu);
	return status;
}

int readahead_finish(struct readahead *ra, struct normalize_file_result *res, int consumed)
{
	int status;

	if (ra == NULL)
		return 0;
	pthread_join(ra->thread, NULL);
	*res = ra->res;
	status = ra->status;
	if (consumed == 0) {
		if (ra->oom) {
			status = EX_OSERR;
			log_event(LOG_ERROR, "out of memory reading the file", "file", ra->path, LOG_END);
		} else if (status) {
			normalize_log_refusal(ra->p, ra->path, res);
		}
	}
	ra_free(ra);
	return status;
}

int readahead_file(struct profile *p, const char *path, const char *channel, normalize_row_fn fn,
		   void *ctx, struct normalize_file_result *res, unsigned long long *progress)
{
	struct readahead *ra = readahead_start(p, path, channel, 1);
	int status, reading;

	if (ra == NULL) {
		/* No second thread: read on this one. */
		return normalize_file(p, path, channel, fn, ctx, res);
	}
	status = readahead_consume(ra, fn, ctx, progress);
	reading = readahead_finish(ra, res, status);
	return status ? status : reading;
}
