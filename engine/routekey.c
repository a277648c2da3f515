/*
 * routekey.c - netstring encoding and SHA-256 / HMAC-SHA-256 digests (see routekey.h).
 *
 * Owns one fetched SHA-256 implementation, one digest context and, when a secret
 * is configured, one HMAC context initialised with it; all are reused for every
 * row, because fetching and initialising per row would dominate the ingest cost.
 */
#include "routekey.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

#define ENCODE_MAX 4096
/* The first netstring of a route key and of an order key (schemas/routekey.md). */
#define ROUTE_TAG "recon-route-v1"
#define ORDER_TAG "recon-order-v1"

struct routekey {
	EVP_MD *sha256;
	EVP_MD_CTX *md_ctx;
	EVP_MAC *hmac;
	EVP_MAC_CTX *mac_ctx; /* NULL when keys are plain SHA-256 */
};

struct routekey *routekey_new(const unsigned char *hmac_key, size_t key_len)
{
	struct routekey *rk = calloc(1, sizeof(*rk));

	if (rk == NULL)
		return NULL;
	rk->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	rk->md_ctx = EVP_MD_CTX_new();
	if (rk->sha256 == NULL || rk->md_ctx == NULL)
		goto fail;
	if (key_len > 0) {
		char digest_name[] = "SHA256";
		OSSL_PARAM params[2];

		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0);
		params[1] = OSSL_PARAM_construct_end();
		rk->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		if (rk->hmac == NULL)
			goto fail;
		rk->mac_ctx = EVP_MAC_CTX_new(rk->hmac);
		if (rk->mac_ctx == NULL || !EVP_MAC_init(rk->mac_ctx, hmac_key, key_len, params))
			goto fail;
	}
	return rk;
fail:
	routekey_free(rk);
	return NULL;
}

void routekey_free(struct routekey *rk)
{
	if (rk == NULL)
		return;
	EVP_MAC_CTX_free(rk->mac_ctx);
	EVP_MAC_free(rk->hmac);
	EVP_MD_CTX_free(rk->md_ctx);
	EVP_MD_free(rk->sha256);
	free(rk);
}

/* Append the netstring "<len>:<bytes>," to BUF at *POS.  Returns 0 or -1 if full.
 * The length is written by hand, not with snprintf: this runs several times for
 * every row ingested. */
static int put_netstring(unsigned char *buf, size_t *pos, const char *s, size_t len)
{
	char digits[24];
	size_t n = 0, v = len;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (*pos + n + 1 + len + 1 > ENCODE_MAX)
		return -1;
	while (n)
		buf[(*pos)++] = (unsigned char)digits[--n];
	buf[(*pos)++] = ':';
	memcpy(buf + *pos, s, len);
	*pos += len;
	buf[(*pos)++] = ',';
	return 0;
}

static int digest_plain(struct routekey *rk, const unsigned char *buf, size_t len,
			unsigned char out[ROUTEKEY_LEN])
{
	unsigned int outlen = 0;

	if (!EVP_DigestInit_ex(rk->md_ctx, rk->sha256, NULL) ||
	    !EVP_DigestUpdate(rk->md_ctx, buf, len) ||
	    !EVP_DigestFinal_ex(rk->md_ctx, out, &outlen) || outlen != ROUTEKEY_LEN)
		return -1;
	return 0;
}

/* A key: HMAC when a secret is configured, else plain SHA-256. */
static int digest_key(struct routekey *rk, const unsigned char *buf, size_t len,
		      unsigned char out[ROUTEKEY_LEN])
{
	size_t outlen = 0;

	if (rk->mac_ctx == NULL)
		return digest_plain(rk, buf, len, out);
	if (!EVP_MAC_init(rk->mac_ctx, NULL, 0, NULL) ||
	    !EVP_MAC_update(rk->mac_ctx, buf, len) ||
	    !EVP_MAC_final(rk->mac_ctx, out, &outlen, ROUTEKEY_LEN) || outlen != ROUTEKEY_LEN)
		return -1;
	return 0;
}

/* The encodings of schemas/routekey.md into BUF (ENCODE_MAX bytes), their
 * length into *POS.  Return 0, or -1 if the values are too long. */
static int encode_route(unsigned char *buf, size_t *pos, const char *kind, const char *channel,
			const char *order_ref, const char *currency, int64_t amount_minor)
{
	char amount[24];
	int n = snprintf(amount, sizeof(amount), "%lld", (long long)amount_minor);

	*pos = 0;
	if (n < 0 ||
	    put_netstring(buf, pos, ROUTE_TAG, sizeof(ROUTE_TAG) - 1) ||
	    put_netstring(buf, pos, kind, strlen(kind)) ||
	    put_netstring(buf, pos, channel, strlen(channel)) ||
	    put_netstring(buf, pos, order_ref, strlen(order_ref)) ||
	    put_netstring(buf, pos, currency, strlen(currency)) ||
	    put_netstring(buf, pos, amount, (size_t)n))
		return -1;
	return 0;
}

static int encode_order(unsigned char *buf, size_t *pos, const char *order_ref)
{
	*pos = 0;
	if (put_netstring(buf, pos, ORDER_TAG, sizeof(ORDER_TAG) - 1) ||
	    put_netstring(buf, pos, order_ref, strlen(order_ref)))
		return -1;
	return 0;
}

/* A route key, or with KIND NULL an order key (ORDER_REF alone), plain or as
 * RK makes them.  The public functions refuse a NULL kind for a route key. */
static int route_key(struct routekey *rk, int plain, const char *kind, const char *channel, const char *order_ref,
		     const char *currency, int64_t amount_minor, unsigned char out[ROUTEKEY_LEN])
{
	unsigned char buf[ENCODE_MAX];
	size_t pos;

	if (kind ? encode_route(buf, &pos, kind, channel, order_ref, currency, amount_minor)
		 : encode_order(buf, &pos, order_ref))
		return -1;
	return plain ? digest_plain(rk, buf, pos, out) : digest_key(rk, buf, pos, out);
}

int routekey_route(struct routekey *rk, const char *kind, const char *channel,
		   const char *order_ref, const char *currency, int64_t amount_minor,
		   unsigned char out[ROUTEKEY_LEN])
{
	return kind ? route_key(rk, 0, kind, channel, order_ref, currency, amount_minor, out) : -1;
}

int routekey_route_plain(struct routekey *rk, const char *kind, const char *channel,
			 const char *order_ref, const char *currency, int64_t amount_minor,
			 unsigned char out[ROUTEKEY_LEN])
{
	return kind ? route_key(rk, 1, kind, channel, order_ref, currency, amount_minor, out) : -1;
}

int routekey_order(struct routekey *rk, const char *order_ref, unsigned char out[ROUTEKEY_LEN])
{
	return route_key(rk, 0, NULL, NULL, order_ref, NULL, 0, out);
}

int routekey_order_plain(struct routekey *rk, const char *order_ref, unsigned char out[ROUTEKEY_LEN])
{
	return route_key(rk, 1, NULL, NULL, order_ref, NULL, 0, out);
}

/* The fits checks run on every row of a database with plain keys, whose keys
 * are not made at ingest, so they add up the encoding's length instead of
 * writing it (writing it was 2.4% of a ledger load's instructions).  A
 * netstring of LEN bytes takes LEN's digits, ':', the bytes and ','; the
 * encoding fits when its total does, as put_netstring checks. */
static size_t netstring_len(size_t len)
{
	size_t n = 1, v = len;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n + 1 + len + 1;
}

int routekey_route_fits(const char *kind, const char *channel, const char *order_ref, const char *currency,
			int64_t amount_minor)
{
	/* The amount's "%lld": a '-' and the digits of its magnitude. */
	uint64_t v = amount_minor < 0 ? (uint64_t)0 - (uint64_t)amount_minor : (uint64_t)amount_minor;
	size_t digits = amount_minor < 0 ? 2 : 1, total;

	while (v >= 10) {
		v /= 10;
		digits++;
	}
	total = netstring_len(sizeof(ROUTE_TAG) - 1) + netstring_len(strlen(kind)) +
		netstring_len(strlen(channel)) + netstring_len(strlen(order_ref)) +
		netstring_len(strlen(currency)) + netstring_len(digits);
	return total <= ENCODE_MAX ? 0 : -1;
}

int routekey_order_fits(const char *order_ref)
{
	return netstring_len(sizeof(ORDER_TAG) - 1) + netstring_len(strlen(order_ref)) <= ENCODE_MAX ? 0 : -1;
}

int routekey_keyed(const struct routekey *rk)
{
	return rk->mac_ctx != NULL;
}

int routekey_digest(struct routekey *rk, const char *tag, const char *const *fields,
		    const size_t *lens, size_t n, unsigned char out[ROUTEKEY_LEN])
{
	unsigned char buf[ENCODE_MAX];
	size_t pos = 0;
	size_t i;

	if (put_netstring(buf, &pos, tag, strlen(tag)))
		return -1;
	for (i = 0; i < n; i++)
		if (put_netstring(buf, &pos, fields[i], lens[i]))
			return -1;
	return digest_plain(rk, buf, pos, out);
}

void routekey_hex(const unsigned char key[ROUTEKEY_LEN], char out[2 * ROUTEKEY_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < ROUTEKEY_LEN; i++) {
		out[2 * i] = digits[key[i] >> 4];
		out[2 * i + 1] = digits[key[i] & 0x0f];
	}
	out[2 * ROUTEKEY_LEN] = '\0';
}

int routekey_read_key_file(const char *path, unsigned char key[ROUTEKEY_KEY_MAX], size_t *len,
			   unsigned char key_sha256[ROUTEKEY_LEN], char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	unsigned int mdlen = 0;
	size_t n;
	int extra;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open key file: %s", path, strerror(errno));
		return -1;
	}
	n = fread(key, 1, ROUTEKEY_KEY_MAX, f);
	extra = fgetc(f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read key file: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	if (extra != EOF || n < 16) {
		snprintf(err, errlen, "%s: a key file holds 16 to %d bytes (make one with: openssl rand 32 > %s)",
			 path, ROUTEKEY_KEY_MAX, path);
		return -1;
	}
	if (!EVP_Digest(key, n, key_sha256, &mdlen, EVP_sha256(), NULL)) {
		snprintf(err, errlen, "%s: cannot hash key file", path);
		return -1;
	}
	*len = n;
	return 0;
}
