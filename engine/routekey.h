/*
 * routekey.h - route keys, order keys and content digests (SHA-256 / HMAC-SHA-256).
 *
 * Every key is a digest over a sequence of netstrings ("<len>:<bytes>,"), the first
 * of which names the key's kind and version, so that no two different tuples encode
 * alike.  The exact encoding, with test vectors, is in schemas/routekey.md.  Keys
 * hold no time, file name or row number: the same payment intent gives the same key
 * on every run and machine.
 */
#ifndef RECON_ROUTEKEY_H
#define RECON_ROUTEKEY_H

#include <stddef.h>
#include <stdint.h>

#define ROUTEKEY_LEN 32

/* Opaque: a reusable digest context (plain SHA-256 or HMAC with a secret key). */
struct routekey;

/*
 * Create a context.  With HMAC_KEY (KEY_LEN > 0) route and order keys are
 * HMAC-SHA-256 under that key; else SHA-256.  Content digests are always plain
 * SHA-256.  Returns NULL on allocation or OpenSSL failure.  Free with routekey_free.
 */
struct routekey *routekey_new(const unsigned char *hmac_key, size_t key_len);
void routekey_free(struct routekey *rk);

/*
 * Route key over (kind, channel, order_ref, currency, amount_minor), kind being
 * "CHARGE" or "REFUND".  Returns 0, or -1 if a field is too long (over 4096 bytes
 * in all) or OpenSSL fails.
 */
int routekey_route(struct routekey *rk, const char *kind, const char *channel,
		   const char *order_ref, const char *currency, int64_t amount_minor,
		   unsigned char out[ROUTEKEY_LEN]);

/* The route key plain SHA-256 would make, whatever RK's keys are: a database
 * with plain keys stores none (schemas/migrations/0010_plain_keys.sql). */
int routekey_route_plain(struct routekey *rk, const char *kind, const char *channel,
			 const char *order_ref, const char *currency, int64_t amount_minor,
			 unsigned char out[ROUTEKEY_LEN]);
/* 0 when routekey_route (routekey_order) can key these values, -1 when they
 * are too long: the check a row whose keys are not made at ingest still gets. */
int routekey_route_fits(const char *kind, const char *channel, const char *order_ref, const char *currency,
			int64_t amount_minor);
int routekey_order_fits(const char *order_ref);
/* Order key over (order_ref) alone.  Returns 0 or -1 as above. */
int routekey_order(struct routekey *rk, const char *order_ref, unsigned char out[ROUTEKEY_LEN]);
/* The order key plain SHA-256 would make, whatever RK's keys are: a database
 * with plain keys stores none (schemas/migrations/0010_plain_keys.sql). */
int routekey_order_plain(struct routekey *rk, const char *order_ref, unsigned char out[ROUTEKEY_LEN]);
/* 1 when RK makes HMAC keys, 0 for plain SHA-256. */
int routekey_keyed(const struct routekey *rk);

/*
 * Plain SHA-256 over the netstrings of N fields (FIELDS[i] with LENS[i] bytes),
 * preceded by the netstring TAG.  Used for row identities and content digests.
 * Returns 0 or -1.
 */
int routekey_digest(struct routekey *rk, const char *tag, const char *const *fields,
		    const size_t *lens, size_t n, unsigned char out[ROUTEKEY_LEN]);

/* 64 lowercase hex digits and a NUL into OUT. */
void routekey_hex(const unsigned char key[ROUTEKEY_LEN], char out[2 * ROUTEKEY_LEN + 1]);

/*
 * Read a secret key file for HMAC keys: its bytes as they are (at least 16, at
 * most ROUTEKEY_KEY_MAX).  Writes the key into KEY, its length into *LEN and the
 * SHA-256 of the key into KEY_SHA256 (recorded in the database so that keys made
 * with different secrets are never matched).  Returns 0, or -1 with a message.
 */
#define ROUTEKEY_KEY_MAX 1024
int routekey_read_key_file(const char *path, unsigned char key[ROUTEKEY_KEY_MAX], size_t *len,
			   unsigned char key_sha256[ROUTEKEY_LEN], char *err, size_t errlen);

#endif
