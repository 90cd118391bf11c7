/*
 * check_stream_parse.c: the NDJSON line, SSE event and UTF-8 splitters
 * (src/rhetor/provider-stream.c), fed whole and in every possible split.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "provider-stream.h"

/* What the callbacks collected: items joined by '|'. */
static struct ac_buf	got;
static int		stop_after;	/* stop the parse after N items */
static int		count;

/* Resets what the callbacks collected. */
static void
setup(void)
{
	ac_buf_free(&got);
	stop_after = 0;
	count = 0;
}

/* Frees what the callbacks collected. */
static void
teardown(void)
{
	ac_buf_free(&got);
}

/* Line callback: appends "<line>|". */
static int
on_line(void *ud, const char *line, size_t len)
{
	(void)ud;
	ac_buf_add(&got, line, len);
	ac_buf_add(&got, "|", 1);
	return ++count == stop_after ? 7 : 0;
}

/* Event callback: appends "<event>=<data>|". */
static int
on_event(void *ud, const char *event, const char *data, size_t len)
{
	(void)ud;
	ac_buf_add(&got, event, strlen(event));
	ac_buf_add(&got, "=", 1);
	ac_buf_add(&got, data, len);
	ac_buf_add(&got, "|", 1);
	return 0;
}

/* Feeds text to a line splitter cut at every pair of positions i, j. */
static void
lines_every_split(const char *text, const char *want)
{
	size_t	n = strlen(text), i, j;

	for (i = 0; i <= n; i++) {
		for (j = i; j <= n; j++) {
			struct sp_lines	p;

			memset(&p, 0, sizeof p);
			ac_buf_reset(&got);
			ck_assert_int_eq(sp_lines_feed(&p, text, i, on_line,
			    NULL), 0);
			ck_assert_int_eq(sp_lines_feed(&p, text + i, j - i,
			    on_line, NULL), 0);
			ck_assert_int_eq(sp_lines_feed(&p, text + j, n - j,
			    on_line, NULL), 0);
			ck_assert_int_eq(sp_lines_finish(&p, on_line, NULL), 0);
			ck_assert_str_eq(got.data ? got.data : "", want);
			sp_lines_free(&p);
		}
	}
}

START_TEST(test_lines_endings)
{
	lines_every_split("a\nbb\r\nccc\rd", "a|bb|ccc|d|");
	lines_every_split("{\"x\":1}\n\n{\"y\":2}\n", "{\"x\":1}||{\"y\":2}|");
	lines_every_split("\r\n\r\n", "||");
	lines_every_split("", "");
}
END_TEST

START_TEST(test_lines_stop)
{
	struct sp_lines	p;

	memset(&p, 0, sizeof p);
	stop_after = 2;
	ck_assert_int_eq(sp_lines_feed(&p, "a\nb\nc\n", 6, on_line, NULL), 7);
	ck_assert_str_eq(got.data, "a|b|");
	sp_lines_free(&p);
}
END_TEST

START_TEST(test_lines_nul_byte)
{
	struct sp_lines	p;

	memset(&p, 0, sizeof p);
	ck_assert_int_eq(sp_lines_feed(&p, "a\0b\n", 4, on_line, NULL), 0);
	ck_assert_uint_eq(got.len, 4);
	ck_assert(memcmp(got.data, "a\0b|", 4) == 0);
	sp_lines_free(&p);
}
END_TEST

START_TEST(test_lines_too_long)
{
	struct sp_lines	 p;
	char		*big = malloc(SP_MAX_LINE + 2);

	memset(&p, 0, sizeof p);
	memset(big, 'x', SP_MAX_LINE + 1);
	ck_assert_int_eq(sp_lines_feed(&p, big, SP_MAX_LINE + 1, on_line,
	    NULL), -1);
	free(big);
	sp_lines_free(&p);
}
END_TEST

/* Feeds text to an SSE parser cut at every position. */
static void
sse_every_split(const char *text, const char *want)
{
	size_t	n = strlen(text), i;

	for (i = 0; i <= n; i++) {
		struct sp_sse	p;

		memset(&p, 0, sizeof p);
		ac_buf_reset(&got);
		ck_assert_int_eq(sp_sse_feed(&p, text, i, on_event, NULL), 0);
		ck_assert_int_eq(sp_sse_feed(&p, text + i, n - i, on_event,
		    NULL), 0);
		ck_assert_int_eq(sp_sse_finish(&p, on_event, NULL), 0);
		ck_assert_str_eq(got.data ? got.data : "", want);
		sp_sse_free(&p);
	}
}

START_TEST(test_sse_openai)
{
	sse_every_split("data: {\"a\":1}\n\ndata: [DONE]\n\n",
	    "message={\"a\":1}|message=[DONE]|");
}
END_TEST

START_TEST(test_sse_anthropic)
{
	sse_every_split("event: message_start\r\ndata: {}\r\n\r\n"
	    ": a comment\n"
	    "event: content_block_delta\ndata: {\"t\":\"é\"}\n\n"
	    "event: ping\ndata:{}\n\n",
	    "message_start={}|content_block_delta={\"t\":\"é\"}|ping={}|");
}
END_TEST

START_TEST(test_sse_multiline_and_fields)
{
	/* data lines join with "\n"; id/retry are ignored; an event with no
	 * data is not handed over; the event name does not leak onward. */
	sse_every_split("id: 1\nretry: 10\ndata: one\ndata:two\n\n"
	    "event: empty\n\n"
	    "data\n\n",
	    "message=one\ntwo|message=|");
}
END_TEST

START_TEST(test_sse_unfinished_event)
{
	/* An event the stream ended inside is still handed over. */
	sse_every_split("data: {\"x\":1}", "message={\"x\":1}|");
}
END_TEST

/* Feeds bytes to the UTF-8 splitter cut at every pair of positions; each
 * piece handed on must be valid UTF-8 and all of them joined want. */
static void
utf8_every_split(const char *text, size_t n, const char *want)
{
	size_t	i, j, k;

	for (i = 0; i <= n; i++) {
		for (j = i; j <= n; j++) {
			struct sp_utf8	u;
			struct ac_buf	out, all;
			size_t		cut[4] = { 0, i, j, n };

			memset(&u, 0, sizeof u);
			memset(&out, 0, sizeof out);
			memset(&all, 0, sizeof all);
			for (k = 0; k < 3; k++) {
				ac_buf_reset(&out);
				sp_utf8_feed(&u, text + cut[k],
				    cut[k + 1] - cut[k], &out);
				ac_buf_add(&all, out.data ? out.data : "",
				    out.len);
			}
			ac_buf_reset(&out);
			sp_utf8_finish(&u, &out);
			ac_buf_add(&all, out.data ? out.data : "", out.len);
			ck_assert_str_eq(all.data, want);
			ac_buf_free(&out);
			ac_buf_free(&all);
		}
	}
}

/* An incomplete character is held back until its last byte comes. */
START_TEST(test_utf8_holds_back)
{
	struct sp_utf8	u;
	struct ac_buf	out;

	memset(&u, 0, sizeof u);
	memset(&out, 0, sizeof out);
	sp_utf8_feed(&u, "a\xf0\x9f", 3, &out);
	ck_assert_str_eq(out.data, "a");
	ac_buf_reset(&out);
	sp_utf8_feed(&u, "\x98", 1, &out);
	ck_assert_uint_eq(out.len, 0);
	sp_utf8_feed(&u, "\x80z", 2, &out);
	ck_assert_str_eq(out.data, "\xf0\x9f\x98\x80z");
	ac_buf_free(&out);
}
END_TEST

START_TEST(test_utf8_whole)
{
	static const char	text[] = "a\xc3\xa9\xe2\x98\x83\xf0\x9f\x98\x80z";

	utf8_every_split(text, sizeof text - 1, text);
}
END_TEST

START_TEST(test_utf8_invalid)
{
	/* A stray continuation byte, an overlong form, a surrogate, a byte
	 * past U+10FFFF, NUL, and a character cut off by the end. */
	utf8_every_split("a\x80" "b\xc0\xaf" "c\xed\xa0\x80" "d\xf5" "e\0f"
	    "\xe2\x98", 16,
	    "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
	    "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "d\xef\xbf\xbd" "e\xef\xbf\xbd" "f\xef\xbf\xbd");
}
END_TEST

/* The suite. */
static Suite *
stream_parse_suite(void)
{
	Suite	*s = suite_create("stream-parse");
	TCase	*tc;

	tc = tcase_create("lines");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lines_endings);
	tcase_add_test(tc, test_lines_stop);
	tcase_add_test(tc, test_lines_nul_byte);
	tcase_add_test(tc, test_lines_too_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("sse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sse_openai);
	tcase_add_test(tc, test_sse_anthropic);
	tcase_add_test(tc, test_sse_multiline_and_fields);
	tcase_add_test(tc, test_sse_unfinished_event);
	suite_add_tcase(s, tc);

	tc = tcase_create("utf8");
	tcase_add_test(tc, test_utf8_holds_back);
	tcase_add_test(tc, test_utf8_whole);
	tcase_add_test(tc, test_utf8_invalid);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(stream_parse_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
