/*
 * check_http_read.c: the server's request reader (src/rhetor/http-parse.c)
 * on requests honest clients send and on framing two parsers could read
 * two ways: each case is read whole and a byte at a time, and must come
 * to the same requests or the same refusal.  The refusals listed under
 * "not refused by http-parser alone" are the checks the reader adds to
 * Debian's build of the library (built without HTTP_PARSER_STRICT).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http-parse.h"

#define H	"Host: a\r\n"

/* What reading a connection's bytes came to. */
struct outcome {
	int	status;		/* of the refusal; 0: none */
	int	requests;	/* read whole */
	char	body[256];	/* of the last request */
	int	keep_alive;	/* of the last head */
};

/* Reads len bytes of s, piece bytes at a time, request after request. */
static struct outcome
read_bytes(const char *s, size_t len, size_t piece, size_t max_body)
{
	struct rh_http_reader	r;
	struct outcome		o;
	size_t			off = 0, end, used;
	int			going = 1;

	memset(&o, 0, sizeof o);
	rh_http_reader_init(&r, max_body);
	end = piece < len ? piece : len;
	while (going) {
		switch (rh_http_read(&r, s + off, end - off, &used)) {
		case RH_HTTP_MORE:
			ck_assert_uint_eq(used, end - off);
			off = end;
			going = end < len;
			end = end + piece < len ? end + piece : len;
			break;
		case RH_HTTP_HEAD:
			off += used;
			o.keep_alive = r.head.keep_alive;
			if (!r.head.has_body) {
				o.requests++;
				o.body[0] = '\0';
				rh_http_next(&r);
			}
			break;
		case RH_HTTP_REQUEST:
			off += used;
			o.requests++;
			ck_assert_uint_lt(r.body_len, sizeof o.body);
			memcpy(o.body, r.body ? r.body : "", r.body_len);
			o.body[r.body_len] = '\0';
			rh_http_next(&r);
			break;
		case RH_HTTP_REFUSED:
			ck_assert_ptr_nonnull(r.why.message);
			o.status = r.why.status;
			going = 0;
			break;
		}
	}
	rh_http_reader_free(&r);
	return o;
}

/* Reads s whole and a byte at a time; both must agree. */
static struct outcome
read_str(const char *s, size_t len)
{
	struct outcome	whole = read_bytes(s, len, len, 64);
	struct outcome	bytes = read_bytes(s, len, 1, 64);

	ck_assert_int_eq(whole.status, bytes.status);
	ck_assert_int_eq(whole.requests, bytes.requests);
	ck_assert_str_eq(whole.body, bytes.body);
	return whole;
}

#define READ(lit)	read_str((lit), sizeof (lit) - 1)

/* A case that must be refused with status. */
struct refused_case {
	const char	*name;
	const char	*bytes;
	size_t		 len;
	int		 status;
};
#define CASE(name, lit, status)	{ name, lit, sizeof lit - 1, status }

/* Refused by http-parser itself (checked here so that a change of the
 * library cannot take them away unnoticed). */
static const struct refused_case by_library[] = {
	CASE("Content-Length beside Transfer-Encoding", "POST / HTTP/1.1\r\n"
	    H "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
	CASE("Transfer-Encoding, then Content-Length", "POST / HTTP/1.1\r\n"
	    H "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", 400),
	CASE("two Content-Lengths", "POST / HTTP/1.1\r\n" H
	    "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400),
	CASE("Content-Length as a list", "POST / HTTP/1.1\r\n" H
	    "Content-Length: 2, 2\r\n\r\n{}", 400),
	CASE("negative Content-Length", "POST / HTTP/1.1\r\n" H
	    "Content-Length: -5\r\n\r\n", 400),
	CASE("absurd Content-Length", "POST / HTTP/1.1\r\n" H
	    "Content-Length: 99999999999999999999\r\n\r\n", 400),
	CASE("a control byte in a value", "GET / HTTP/1.1\r\n" H
	    "X: a\001b\r\n\r\n", 400),
	CASE("a NUL in a value", "GET / HTTP/1.1\r\n" H
	    "X: a\000b\r\n\r\n", 400),
	CASE("a bare CR in a value", "GET / HTTP/1.1\r\n" H
	    "X: a\rb\r\n\r\n", 400),
	CASE("a NUL in the target", "GET /a\000 HTTP/1.1\r\n" H "\r\n", 400),
	CASE("a header line without a colon", "GET / HTTP/1.1\r\nX\r\n" H
	    "\r\n", 400),
	CASE("a chunk size that is not hex", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400),
	CASE("an unknown method", "BREW / HTTP/1.1\r\n" H "\r\n", 400),
	CASE("Transfer-Encoding gzip", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: gzip\r\n\r\n", 501),
};

/* Not refused by http-parser alone, in Debian's build: the reader's
 * own checks. */
static const struct refused_case by_reader[] = {
	CASE("a folded line", "GET / HTTP/1.1\r\n" H "X: a\r\n b\r\n\r\n",
	    400),
	CASE("a line folded after an empty value", "GET / HTTP/1.1\r\n" H
	    "X:\r\n b\r\n\r\n", 400),
	CASE("a first header folded", "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
	    400),
	CASE("a bare CR after a blank value hiding a header",
	    "POST / HTTP/1.1\r\n" H "X: \rAContent-Length: 2\r\n\r\n{}", 400),
	CASE("a bare CR ending the head", "GET / HTTP/1.1\r\n" H "\rX", 400),
	CASE("a bare CR before the request", "\rGET / HTTP/1.1\r\n" H "\r\n",
	    400),
	CASE("a space in a header name", "POST / HTTP/1.1\r\n" H
	    "Content-Length : 2\r\n\r\n{}", 400),
	CASE("two Host headers", "GET / HTTP/1.1\r\n" H H "\r\n", 400),
	CASE("two Origin headers", "GET / HTTP/1.1\r\n" H
	    "Origin: http://a\r\nOrigin: http://b\r\n\r\n", 400),
	CASE("Transfer-Encoding gzip, chunked", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
	CASE("Transfer-Encoding chunked twice", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n", 501),
	CASE("chunked in HTTP/1.0", "POST / HTTP/1.0\r\n" H
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
	CASE("a non-ASCII byte in the target", "GET /\x80 HTTP/1.1\r\n" H
	    "\r\n", 400),
	CASE("a tab in the target", "GET /a\tb HTTP/1.1\r\n" H "\r\n", 400),
	CASE("two spaces in the request line", "GET  / HTTP/1.1\r\n" H
	    "\r\n", 400),
	CASE("a version that is not HTTP/", "GET / HXYZ/1.1\r\n" H "\r\n",
	    400),
	CASE("HTTP/2.0", "GET / HTTP/2.0\r\n" H "\r\n", 505),
	CASE("HTTP/1.2", "GET / HTTP/1.2\r\n" H "\r\n", 505),
	CASE("HTTP/0.9", "GET /\r\n\r\n", 400),
	CASE("chunk data not ending in CRLF", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: chunked\r\n\r\n2\r\n{}XY0\r\n\r\n", 400),
	CASE("a chunk size line ending in a bare CR", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: chunked\r\n\r\n2\rX{}\r\n0\r\n\r\n", 400),
	CASE("a trailer ending in a bare CR", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nT: v\r\n\rX",
	    400),
	CASE("a chunked body ending in a bare CR", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\rX", 400),
	CASE("a chunked body over the limit", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: chunked\r\n\r\n41\r\n", 413),
};

/* Runs a table of cases that must be refused. */
static void
check_refused(const struct refused_case *cases, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		struct outcome o = read_str(cases[i].bytes, cases[i].len);

		ck_assert_msg(o.status == cases[i].status, "%s: %d, not %d",
		    cases[i].name, o.status, cases[i].status);
		ck_assert_msg(o.requests == 0, "%s: a request was read",
		    cases[i].name);
	}
}

START_TEST(test_refused_by_library)
{
	check_refused(by_library, sizeof by_library / sizeof by_library[0]);
}
END_TEST

START_TEST(test_refused_by_reader)
{
	check_refused(by_reader, sizeof by_reader / sizeof by_reader[0]);
}
END_TEST

START_TEST(test_honest_requests)
{
	struct outcome	o;

	o = READ("GET /health HTTP/1.1\r\n" H "\r\n");
	ck_assert_int_eq(o.status, 0);
	ck_assert_int_eq(o.requests, 1);
	ck_assert_int_eq(o.keep_alive, 1);
	o = READ("GET /health HTTP/1.1\nHost: a\n\n");
	ck_assert_int_eq(o.requests, 1);
	o = READ("\r\n\r\nGET /health HTTP/1.1\r\n" H "\r\n");
	ck_assert_int_eq(o.requests, 1);
	o = READ("GET / HTTP/1.1\r\n" H "Connection: keep-alive, close\r\n\r\n");
	ck_assert_int_eq(o.keep_alive, 0);
	o = READ("GET / HTTP/1.0\r\n" H "\r\n");
	ck_assert_int_eq(o.keep_alive, 0);
	o = READ("GET / HTTP/1.0\r\n" H "Connection: keep-alive\r\n\r\n");
	ck_assert_int_eq(o.keep_alive, 1);
	o = READ("POST /w HTTP/1.1\r\n" H "Content-Length: 2\r\n\r\n{}");
	ck_assert_int_eq(o.requests, 1);
	ck_assert_str_eq(o.body, "{}");
	o = READ("POST /w HTTP/1.1\r\n" H "Transfer-Encoding: Chunked \r\n\r\n"
	    "5\r\n{\"con\r\n" "a;ext=1\r\ntent\":\"chu\r\n" "0\r\n"
	    "X-Trailer: t\r\n\r\n");
	ck_assert_int_eq(o.status, 0);
	ck_assert_str_eq(o.body, "{\"content\":\"chu");
}
END_TEST

START_TEST(test_pipelined)
{
	struct outcome	o;

	o = READ("GET /health HTTP/1.1\r\n" H "\r\n"
	    "POST /w HTTP/1.1\r\n" H "Content-Length: 3\r\n\r\nabc"
	    "POST /w HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n"
	    "1\r\nx\r\n0\r\n\r\n"
	    "GET /last HTTP/1.1\r\n" H "\r\n");
	ck_assert_int_eq(o.status, 0);
	ck_assert_int_eq(o.requests, 4);
	/* A refusal in the third stops the reading there. */
	o = READ("GET / HTTP/1.1\r\n" H "\r\n" "GET / HTTP/1.1\r\n" H "\r\n"
	    "GET / HTTP/1.1\r\n" H H "\r\n" "GET / HTTP/1.1\r\n" H "\r\n");
	ck_assert_int_eq(o.requests, 2);
	ck_assert_int_eq(o.status, 400);
}
END_TEST

START_TEST(test_limits)
{
	char		*big = malloc(RH_HTTP_MAX_HEAD + 200);
	size_t		 n, i;
	struct outcome	 o;

	ck_assert_ptr_nonnull(big);
	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\n" H "X: ");
	memset(big + n, 'a', RH_HTTP_MAX_HEAD);
	n += RH_HTTP_MAX_HEAD;
	memcpy(big + n, "\r\n\r\n", 4);
	o = read_str(big, n + 4);
	ck_assert_int_eq(o.status, 431);
	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\n");
	for (i = 0; i < RH_HTTP_MAX_HEADERS + 1; i++)
		n += (size_t)sprintf(big + n, "X-%zu: v\r\n", i);
	n += (size_t)sprintf(big + n, "\r\n");
	o = read_str(big, n);
	ck_assert_int_eq(o.status, 431);
	free(big);
}
END_TEST

START_TEST(test_paths)
{
	struct rh_http_refusal	 why;
	const char		*query;
	char			*path, value[16];

	path = rh_http_path("//api/ai/socket/a%2Db?wait_ms=5&x=a+b%21#f",
	    &query, &why);
	ck_assert_str_eq(path, "/api/ai/socket/a-b");
	ck_assert_int_eq(rh_http_query_get(query, "wait_ms", value,
	    sizeof value), 1);
	ck_assert_str_eq(value, "5");
	ck_assert_int_eq(rh_http_query_get(query, "x", value, sizeof value), 4);
	ck_assert_str_eq(value, "a b!");
	ck_assert_int_eq(rh_http_query_get(query, "f", value, sizeof value),
	    -1);
	free(path);
	path = rh_http_path("/a+b", &query, &why);
	ck_assert_str_eq(path, "/a+b");
	ck_assert_ptr_null(query);
	free(path);
	ck_assert_ptr_null(rh_http_path("/athena%00.db", &query, &why));
	ck_assert_int_eq(why.status, 400);
	ck_assert_ptr_null(rh_http_path("/a%4", &query, &why));
	ck_assert_ptr_null(rh_http_path("http://evil/x", &query, &why));
	ck_assert_ptr_null(rh_http_path("*", &query, &why));
}
END_TEST

/* The suite. */
static Suite *
http_read_suite(void)
{
	Suite	*s = suite_create("http_read");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_refused_by_library);
	tcase_add_test(tc, test_refused_by_reader);
	tcase_add_test(tc, test_honest_requests);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_paths);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(http_read_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
