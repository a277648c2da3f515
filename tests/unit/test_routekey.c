/*
 * test_routekey.c - pins the key encoding and digests of engine/routekey.h.
 *
 * The vectors below were computed outside recon, with the openssl command line,
 * over the exact netstring bytes documented in schemas/routekey.md:
 *
 *   printf '%s' '14:recon-route-v1,6:CHARGE,6:stripe,8:ORD-1001,3:USD,4:1234,' \
 *       | openssl dgst -sha256
 *   printf '%s' '14:recon-order-v1,8:ORD-1001,' | openssl dgst -sha256
 *   ... | openssl dgst -sha256 -mac HMAC -macopt key:0123456789abcdef0123456789abcdef
 *
 * so a change of encoding that recon's own code would agree with still fails here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "routekey.h"

/* SHA-256 of "14:recon-route-v1,6:CHARGE,6:stripe,8:ORD-1001,3:USD,4:1234," */
#define ROUTE_SHA256 "2cb1bb2d442a11cfdb82aa69c9296cf8842ee48684f6b521b41f879bebde2ff4"
/* SHA-256 of "14:recon-order-v1,8:ORD-1001," */
#define ORDER_SHA256 "bf2d6ded498f65e4ec760dd5d5d36288cab65edcaa71a2abe3a302a2472a976a"
/* The same two under HMAC-SHA-256 with the 32 ASCII bytes of HMAC_KEY. */
#define HMAC_KEY "0123456789abcdef0123456789abcdef"
#define ROUTE_HMAC "099754cf8df84542e8f7058e9bcdc462775a3cb0238e0fd583004407b3090003"
#define ORDER_HMAC "ebe7328cb7cedbb2fb3c04a2c59e4db3093d3903875ca7d9e36f11c9267da698"
/* SHA-256 of "14:recon-route-v1,6:REFUND,6:stripe,8:ORD-1001,3:USD,3:500," */
#define REFUND_SHA256 "e19dd04a47c2aa6b122f63e5aab1d298d9b998de27198506fb63cd5a6d4abb55"
/* SHA-256 of "16:statement-uid-v1,6:stripe,5:txn_1," */
#define DIGEST_SHA256 "52db3918090d90c9277880f9a9c465b52869f49788d21d298ec1b31eaf13a095"
/* SHA-256 of HMAC_KEY's 32 bytes (what a key file's digest records). */
#define KEY_SHA256 "3eb1bd439947eb762998e566ccc2e099c791118b2f40579cc4f7da2b5061b7f9"

static void hex(const unsigned char key[ROUTEKEY_LEN], char out[2 * ROUTEKEY_LEN + 1])
{
	routekey_hex(key, out);
}

static struct routekey *plain(void)
{
	struct routekey *rk = routekey_new(NULL, 0);

	assert_non_null(rk);
	return rk;
}

static struct routekey *hmac(void)
{
	struct routekey *rk = routekey_new((const unsigned char *)HMAC_KEY, strlen(HMAC_KEY));

	assert_non_null(rk);
	return rk;
}

static void route_hex(struct routekey *rk, const char *kind, const char *channel, const char *ref,
		      const char *cur, int64_t amount, char out[2 * ROUTEKEY_LEN + 1])
{
	unsigned char key[ROUTEKEY_LEN];

	assert_int_equal(routekey_route(rk, kind, channel, ref, cur, amount, key), 0);
	hex(key, out);
}

static void test_routekey_route_matches_sha256_of_netstrings(void **state)
{
	struct routekey *rk = plain();
	char h[65];

	(void)state;
	route_hex(rk, "CHARGE", "stripe", "ORD-1001", "USD", 1234, h);
	assert_string_equal(h, ROUTE_SHA256);
	route_hex(rk, "REFUND", "stripe", "ORD-1001", "USD", 500, h);
	assert_string_equal(h, REFUND_SHA256);
	routekey_free(rk);
}

static void test_routekey_order_matches_sha256_of_netstrings(void **state)
{
	struct routekey *rk = plain();
	unsigned char key[ROUTEKEY_LEN];
	char h[65];

	(void)state;
	assert_int_equal(routekey_order(rk, "ORD-1001", key), 0);
	hex(key, h);
	assert_string_equal(h, ORDER_SHA256);
	routekey_free(rk);
}

static void test_routekey_hmac_matches_openssl_hmac(void **state)
{
	struct routekey *rk = hmac();
	unsigned char key[ROUTEKEY_LEN];
	char h[65];

	(void)state;
	route_hex(rk, "CHARGE", "stripe", "ORD-1001", "USD", 1234, h);
	assert_string_equal(h, ROUTE_HMAC);
	assert_int_equal(routekey_order(rk, "ORD-1001", key), 0);
	hex(key, h);
	assert_string_equal(h, ORDER_HMAC);
	routekey_free(rk);
}

/* The HMAC context is reused row after row: each key must start afresh. */
static void test_routekey_hmac_is_the_same_on_every_call(void **state)
{
	struct routekey *rk = hmac();
	char h[65];
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		route_hex(rk, "CHARGE", "stripe", "ORD-1001", "USD", 1234, h);
		assert_string_equal(h, ROUTE_HMAC);
		route_hex(rk, "REFUND", "stripe", "ORD-1001", "USD", 500, h);
		assert_string_not_equal(h, REFUND_SHA256);
	}
	routekey_free(rk);
}

static void test_routekey_plain_is_the_same_on_every_call(void **state)
{
	struct routekey *rk = plain();
	struct routekey *other = plain();
	char h[65], g[65];

	(void)state;
	route_hex(rk, "REFUND", "stripe", "ORD-1001", "USD", 500, h);
	route_hex(rk, "CHARGE", "stripe", "ORD-1001", "USD", 1234, h);
	route_hex(other, "CHARGE", "stripe", "ORD-1001", "USD", 1234, g);
	assert_string_equal(h, ROUTE_SHA256);
	assert_string_equal(g, ROUTE_SHA256);
	routekey_free(rk);
	routekey_free(other);
}

static void test_routekey_hmac_differs_from_plain(void **state)
{
	struct routekey *a = plain(), *b = hmac();
	char ha[65], hb[65];

	(void)state;
	route_hex(a, "CHARGE", "stripe", "ORD-1001", "USD", 1234, ha);
	route_hex(b, "CHARGE", "stripe", "ORD-1001", "USD", 1234, hb);
	assert_string_not_equal(ha, hb);
	routekey_free(a);
	routekey_free(b);
}

/* "ab","c" and "a","bc" concatenate alike; length prefixes keep them apart. */
static void test_routekey_tuples_that_concatenate_alike_differ(void **state)
{
	struct routekey *rk = plain();
	char h1[65], h2[65];
	unsigned char k1[ROUTEKEY_LEN], k2[ROUTEKEY_LEN];
	const char *f1[] = { "ab", "c" }, *f2[] = { "a", "bc" };
	size_t l1[] = { 2, 1 }, l2[] = { 1, 2 };

	(void)state;
	route_hex(rk, "CHARGE", "ab", "c", "USD", 1, h1);
	route_hex(rk, "CHARGE", "a", "bc", "USD", 1, h2);
	assert_string_not_equal(h1, h2);
	/* Order ref vs currency boundary, and currency vs amount. */
	route_hex(rk, "CHARGE", "x", "ORD-1USD", "", 1, h1);
	route_hex(rk, "CHARGE", "x", "ORD-1", "USD", 1, h2);
	assert_string_not_equal(h1, h2);
	route_hex(rk, "CHARGE", "x", "ORD-1", "USD", 12, h1);
	route_hex(rk, "CHARGE", "x", "ORD-1", "USD1", 2, h2);
	assert_string_not_equal(h1, h2);
	/* A field holding the separator characters themselves. */
	route_hex(rk, "CHARGE", "a,1:b", "c", "USD", 1, h1);
	route_hex(rk, "CHARGE", "a", "b,1:c", "USD", 1, h2);
	assert_string_not_equal(h1, h2);
	assert_int_equal(routekey_digest(rk, "t", f1, l1, 2, k1), 0);
	assert_int_equal(routekey_digest(rk, "t", f2, l2, 2, k2), 0);
	assert_memory_not_equal(k1, k2, ROUTEKEY_LEN);
	routekey_free(rk);
}

static void test_routekey_every_field_changes_the_key(void **state)
{
	struct routekey *rk = plain();
	char base[65], h[65];

	(void)state;
	route_hex(rk, "CHARGE", "stripe", "ORD-1001", "USD", 1234, base);
	route_hex(rk, "REFUND", "stripe", "ORD-1001", "USD", 1234, h);
	assert_string_not_equal(base, h);
	route_hex(rk, "CHARGE", "adyen", "ORD-1001", "USD", 1234, h);
	assert_string_not_equal(base, h);
	route_hex(rk, "CHARGE", "stripe", "ORD-1002", "USD", 1234, h);
	assert_string_not_equal(base, h);
	route_hex(rk, "CHARGE", "stripe", "ORD-1001", "EUR", 1234, h);
	assert_string_not_equal(base, h);
	route_hex(rk, "CHARGE", "stripe", "ORD-1001", "USD", 1235, h);
	assert_string_not_equal(base, h);
	routekey_free(rk);
}

/* The order key is a separate domain: never equal to a route key. */
static void test_routekey_order_key_is_versioned_apart_from_route_key(void **state)
{
	struct routekey *rk = plain();
	unsigned char order[ROUTEKEY_LEN];
	const char *f[] = { "ORD-1001" };
	size_t l[] = { 8 };
	unsigned char d[ROUTEKEY_LEN];

	(void)state;
	assert_int_equal(routekey_order(rk, "ORD-1001", order), 0);
	assert_int_equal(routekey_digest(rk, "recon-order-v1", f, l, 1, d), 0);
	/* routekey_digest with the order tag is the same encoding, plain SHA-256. */
	assert_memory_equal(order, d, ROUTEKEY_LEN);
	routekey_free(rk);
}

/* routekey_order_plain makes the plain order key whatever the context's mode;
 * routekey_keyed tells the mode. */
static void test_routekey_order_plain_ignores_the_secret(void **state)
{
	struct routekey *p = plain(), *k = hmac();
	unsigned char a[ROUTEKEY_LEN], b[ROUTEKEY_LEN], c[ROUTEKEY_LEN];
	char hex[2 * ROUTEKEY_LEN + 1];

	(void)state;
	assert_int_equal(routekey_keyed(p), 0);
	assert_int_equal(routekey_keyed(k), 1);
	assert_int_equal(routekey_order(p, "ORD-1001", a), 0);
	assert_int_equal(routekey_order_plain(k, "ORD-1001", b), 0);
	assert_int_equal(routekey_order_plain(p, "ORD-1001", c), 0);
	assert_memory_equal(a, b, ROUTEKEY_LEN);
	assert_memory_equal(a, c, ROUTEKEY_LEN);
	routekey_hex(b, hex);
	/* schemas/routekey.md's vector. */
	assert_string_equal(hex, "bf2d6ded498f65e4ec760dd5d5d36288cab65edcaa71a2abe3a302a2472a976a");
	/* The keyed order key is another. */
	assert_int_equal(routekey_order(k, "ORD-1001", b), 0);
	assert_memory_not_equal(a, b, ROUTEKEY_LEN);
	routekey_free(p);
	routekey_free(k);
}

static void test_routekey_digest_is_plain_sha256_even_with_hmac(void **state)
{
	struct routekey *a = plain(), *b = hmac();
	const char *f[] = { "stripe", "txn_1" };
	size_t l[] = { 6, 5 };
	unsigned char k[ROUTEKEY_LEN];
	char h[65];

	(void)state;
	assert_int_equal(routekey_digest(a, "statement-uid-v1", f, l, 2, k), 0);
	hex(k, h);
	assert_string_equal(h, DIGEST_SHA256);
	assert_int_equal(routekey_digest(b, "statement-uid-v1", f, l, 2, k), 0);
	hex(k, h);
	assert_string_equal(h, DIGEST_SHA256);
	routekey_free(a);
	routekey_free(b);
}

/* Fields are taken by length: a NUL byte inside one is data. */
static void test_routekey_digest_takes_fields_by_length(void **state)
{
	struct routekey *rk = plain();
	const char *f1[] = { "a\0b" }, *f2[] = { "a" };
	size_t l1[] = { 3 }, l2[] = { 1 };
	unsigned char k1[ROUTEKEY_LEN], k2[ROUTEKEY_LEN];

	(void)state;
	assert_int_equal(routekey_digest(rk, "t", f1, l1, 1, k1), 0);
	assert_int_equal(routekey_digest(rk, "t", f2, l2, 1, k2), 0);
	assert_memory_not_equal(k1, k2, ROUTEKEY_LEN);
	routekey_free(rk);
}

static void test_routekey_rejects_over_long_encoding(void **state)
{
	struct routekey *rk = plain();
	unsigned char key[ROUTEKEY_LEN];
	static char big[5000];

	(void)state;
	memset(big, 'x', 4999);
	big[4999] = '\0';
	assert_int_equal(routekey_route(rk, "CHARGE", "stripe", big, "USD", 1, key), -1);
	assert_int_equal(routekey_order(rk, big, key), -1);
	assert_int_equal(routekey_route_plain(rk, "CHARGE", "stripe", big, "USD", 1, key), -1);
	assert_int_equal(routekey_order_plain(rk, big, key), -1);
	/* The checks made instead of a key at ingest agree, at the bound too:
	 * "14:recon-order-v1," (18 bytes), "4072:", 4072 bytes and "," make 4096. */
	assert_int_equal(routekey_route_fits("CHARGE", "stripe", big, "USD", 1), -1);
	assert_int_equal(routekey_order_fits(big), -1);
	big[4072] = '\0';
	assert_int_equal(routekey_order_fits(big), 0);
	assert_int_equal(routekey_order(rk, big, key), 0);
	big[4072] = 'x';
	big[4073] = '\0';
	assert_int_equal(routekey_order_fits(big), -1);
	assert_int_equal(routekey_order(rk, big, key), -1);
	assert_int_equal(routekey_route_fits("CHARGE", "stripe", "ORD-1001", "USD", 1234), 0);
	/* The fits checks add lengths up instead of encoding: around the bound,
	 * for amounts of every width and sign, they say what keying does. */
	{
		static const int64_t amounts[] = { 0, 9, 10, 99, 100, -1, -10, 1234, INT64_MAX, INT64_MIN };
		size_t len, a;

		memset(big, 'x', 4999);
		for (len = 3990; len <= 4080; len++) {
			big[len] = '\0';
			for (a = 0; a < sizeof(amounts) / sizeof(amounts[0]); a++)
				assert_int_equal(routekey_route_fits("REFUND", "stripe", big, "USD", amounts[a]),
						 routekey_route(rk, "REFUND", "stripe", big, "USD", amounts[a], key));
			assert_int_equal(routekey_order_fits(big), routekey_order(rk, big, key));
			big[len] = 'x';
		}
		big[4999] = '\0';
	}
	/* A route key needs its kind: none is an error, not an order key. */
	assert_int_equal(routekey_route(rk, NULL, "stripe", "ORD-1001", "USD", 1, key), -1);
	assert_int_equal(routekey_route_plain(rk, NULL, "stripe", "ORD-1001", "USD", 1, key), -1);
	/* Still usable afterwards. */
	assert_int_equal(routekey_order(rk, "ORD-1001", key), 0);
	routekey_free(rk);
}

static void test_routekey_hex_is_lowercase_64_digits(void **state)
{
	unsigned char key[ROUTEKEY_LEN];
	char h[2 * ROUTEKEY_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < ROUTEKEY_LEN; i++)
		key[i] = (unsigned char)(i * 8 + 7);
	key[0] = 0x00;
	key[31] = 0xff;
	memset(h, 'Z', sizeof(h));
	routekey_hex(key, h);
	assert_int_equal(strlen(h), 64);
	assert_string_equal(h, "000f171f272f373f474f575f676f777f878f979fa7afb7bfc7cfd7dfe7eff7ff");
}

/* Key files: bytes as they are, 16 to 1024 of them.  Temporary key files are
 * removed by the teardown, also when an assertion fails. */
#define MAX_TEMP 4
static char temp_paths[MAX_TEMP][32];
static size_t n_temp;

static int remove_temp_files(void **state)
{
	(void)state;
	while (n_temp > 0)
		unlink(temp_paths[--n_temp]);
	return 0;
}

static const char *write_temp(const void *data, size_t len)
{
	char *path;
	int fd;

	assert_true(n_temp < MAX_TEMP);
	path = temp_paths[n_temp];
	snprintf(path, sizeof(temp_paths[0]), "/tmp/test_routekey_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	n_temp++;
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	return path;
}

static void check_key_file_refused(size_t len)
{
	static unsigned char data[4097];
	unsigned char key[ROUTEKEY_KEY_MAX], ksha[ROUTEKEY_LEN];
	char err[512], want[512];
	size_t klen = 12345;
	const char *path;

	assert_true(len < sizeof(data));
	memset(data, 'k', len);
	path = write_temp(data, len);
	err[0] = '\0';
	assert_int_equal(routekey_read_key_file(path, key, &klen, ksha, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
		 "%s: a key file holds 16 to 1024 bytes (make one with: openssl rand 32 > %s)", path, path);
	assert_string_equal(err, want);
	assert_int_equal(klen, 12345);
}

static void test_routekey_key_file_of_15_bytes_is_refused(void **state)
{
	(void)state;
	check_key_file_refused(15);
	check_key_file_refused(0);
}

static void test_routekey_key_file_over_1024_bytes_is_refused(void **state)
{
	(void)state;
	check_key_file_refused(1025);
	check_key_file_refused(4096);
}

static void test_routekey_key_file_of_32_bytes_is_taken_as_is(void **state)
{
	unsigned char key[ROUTEKEY_KEY_MAX], ksha[ROUTEKEY_LEN];
	char err[512] = "", h[65];
	size_t klen = 0;
	const char *path = write_temp(HMAC_KEY, 32);
	struct routekey *rk;

	(void)state;
	assert_int_equal(routekey_read_key_file(path, key, &klen, ksha, err, sizeof(err)), 0);
	assert_int_equal(klen, 32);
	assert_memory_equal(key, HMAC_KEY, 32);
	hex(ksha, h);
	assert_string_equal(h, KEY_SHA256);
	/* Keys made with the key read from the file are the HMAC vector. */
	rk = routekey_new(key, klen);
	assert_non_null(rk);
	route_hex(rk, "CHARGE", "stripe", "ORD-1001", "USD", 1234, h);
	assert_string_equal(h, ROUTE_HMAC);
	routekey_free(rk);
}

static void test_routekey_key_file_bounds_16_and_1024_are_accepted(void **state)
{
	unsigned char data[ROUTEKEY_KEY_MAX];
	unsigned char key[ROUTEKEY_KEY_MAX], ksha[ROUTEKEY_LEN];
	char err[512] = "";
	size_t klen = 0;
	const char *path;

	(void)state;
	memset(data, 0, sizeof(data)); /* binary bytes, NULs included, are kept */
	data[5] = '\n';
	path = write_temp(data, 16);
	assert_int_equal(routekey_read_key_file(path, key, &klen, ksha, err, sizeof(err)), 0);
	assert_int_equal(klen, 16);
	path = write_temp(data, ROUTEKEY_KEY_MAX);
	assert_int_equal(routekey_read_key_file(path, key, &klen, ksha, err, sizeof(err)), 0);
	assert_int_equal(klen, ROUTEKEY_KEY_MAX);
	assert_memory_equal(key, data, ROUTEKEY_KEY_MAX);
}

static void test_routekey_missing_key_file_names_the_path(void **state)
{
	unsigned char key[ROUTEKEY_KEY_MAX], ksha[ROUTEKEY_LEN];
	char err[512] = "";
	size_t klen = 0;
	const char *path = "/tmp/test_routekey_no_such_dir/key";

	(void)state;
	assert_int_equal(routekey_read_key_file(path, key, &klen, ksha, err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp/test_routekey_no_such_dir/key: cannot open key file: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routekey_route_matches_sha256_of_netstrings),
		cmocka_unit_test(test_routekey_order_matches_sha256_of_netstrings),
		cmocka_unit_test(test_routekey_hmac_matches_openssl_hmac),
		cmocka_unit_test(test_routekey_hmac_is_the_same_on_every_call),
		cmocka_unit_test(test_routekey_plain_is_the_same_on_every_call),
		cmocka_unit_test(test_routekey_hmac_differs_from_plain),
		cmocka_unit_test(test_routekey_tuples_that_concatenate_alike_differ),
		cmocka_unit_test(test_routekey_every_field_changes_the_key),
		cmocka_unit_test(test_routekey_order_key_is_versioned_apart_from_route_key),
		cmocka_unit_test(test_routekey_order_plain_ignores_the_secret),
		cmocka_unit_test(test_routekey_digest_is_plain_sha256_even_with_hmac),
		cmocka_unit_test(test_routekey_digest_takes_fields_by_length),
		cmocka_unit_test(test_routekey_rejects_over_long_encoding),
		cmocka_unit_test(test_routekey_hex_is_lowercase_64_digits),
		cmocka_unit_test_teardown(test_routekey_key_file_of_15_bytes_is_refused, remove_temp_files),
		cmocka_unit_test_teardown(test_routekey_key_file_over_1024_bytes_is_refused, remove_temp_files),
		cmocka_unit_test_teardown(test_routekey_key_file_of_32_bytes_is_taken_as_is, remove_temp_files),
		cmocka_unit_test_teardown(test_routekey_key_file_bounds_16_and_1024_are_accepted, remove_temp_files),
		cmocka_unit_test(test_routekey_missing_key_file_names_the_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
