/* test_base64.c: RFC 4648 vectors, strict decoding, wrapped input. */
#include "core/base64.h"
#include "check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *plain, *b64; } vectors[] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

static void test_vectors(void)
{
	size_t i;

	for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		unsigned char *out = NULL;
		size_t len = 99;
		char *enc = wb_base64_encode((const unsigned char *)vectors[i].plain,
					     strlen(vectors[i].plain));

		CHECK(enc && strcmp(enc, vectors[i].b64) == 0);
		CHECK(wb_base64_decode(vectors[i].b64, &out, &len) == 0);
		CHECK(out != NULL && len == strlen(vectors[i].plain));
		CHECK(out && memcmp(out, vectors[i].plain, len) == 0);
		free(enc);
		free(out);
	}
}

static void test_invalid(void)
{
	static const char *const bad[] = {
		"Z", "Zg", "Zg=", "Zm9", "Zg==Zg==", "Z===", "====", "Zm9v=",
		"Zm=v", "Zm9v!A==", "Zm9v\x80\x80\x80\x80", "Zh==", "Zm9=",
		"Zg==\n=", "Zg==A", "-_AA",
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		unsigned char *out = (unsigned char *)"x";
		size_t len = 99;

		CHECKF(wb_base64_decode(bad[i], &out, &len) == -EINVAL, "input %zu", i);
		CHECK(out == NULL && len == 0);
	}
}

static void test_whitespace(void)
{
	unsigned char *out = NULL;
	size_t len = 0;

	CHECK(wb_base64_decode(" Zm9v\r\nYmFy\n\tZg==\n", &out, &len) == 0);
	CHECK(len == 7 && memcmp(out, "foobarf", 7) == 0);
	free(out);
	CHECK(wb_base64_decode(" \n\t\r ", &out, &len) == 0);
	CHECK(out != NULL && len == 0);
	free(out);
	CHECK(wb_base64_decode("Zm\n9v", &out, &len) == 0);
	CHECK(len == 3 && memcmp(out, "foo", 3) == 0);
	free(out);
}

static void test_round_trip(void)
{
	unsigned char data[300];
	size_t n, i;

	for (i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 131 + 7);
	for (n = 0; n <= sizeof data; n++) {
		char *enc = wb_base64_encode(data, n);
		unsigned char *out = NULL;
		size_t len = 0;

		CHECK(enc && strlen(enc) == (n + 2) / 3 * 4);
		CHECK(enc && wb_base64_decode(enc, &out, &len) == 0);
		CHECK(len == n && (n == 0 || memcmp(out, data, n) == 0));
		free(enc);
		free(out);
	}
}

int main(void)
{
	test_vectors();
	test_invalid();
	test_whitespace();
	test_round_trip();
	return check_report("test_base64");
}
