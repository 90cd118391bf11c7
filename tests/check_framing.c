/*
 * check_framing.c: aish-bridge's stdio framing (src/bridge/framing.c):
 * how bytes are cut into messages in both framings, whatever chunks they
 * come in, what is refused and how the reader recovers, and how answers
 * are framed on the way out.
 *
 * rpc_handle and rpc_frame_error are replaced here by recorders, so each
 * test sees exactly which messages and which errors the reader produced.
 * Output goes to a temporary file put in place of stdout.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "bridge.h"

struct bridge br;

/* What the reader handed on, one entry a line: "MSG text" or
 * "ERR code text". */
static char	seen[65536];

/* The bridge's log: unused here. */
void
logmsg(const char *fmt, ...)
{
	(void)fmt;
}

/* Records a framed message. */
void
rpc_handle(const char *buf, size_t len)
{
	size_t	at = strlen(seen);

	snprintf(seen + at, sizeof seen - at, "MSG %.*s\n", (int)len, buf);
}

/* Records an error the reader answered. */
void
rpc_frame_error(int code, const char *message)
{
	size_t	at = strlen(seen);

	snprintf(seen + at, sizeof seen - at, "ERR %d %s\n", code, message);
}

/* The bridge at start, with small limits so that tests reach them. */
static void
reset(void)
{
	framing_eof();		/* also empties the reader */
	memset(&br, 0, sizeof br);
	br.framing = FRAMING_AUTO;
	br.max_message = 64;
	br.max_header = 96;
	br.max_depth = 8;
	br.max_inflight = 4;
	br.connected = -1;
	seen[0] = '\0';
}

/* Feeds text in chunks of step bytes (all at once when step is 0). */
static void
feed(const char *text, size_t step)
{
	size_t	len = strlen(text), off, k;

	for (off = 0; off < len; off += k) {
		k = step == 0 || step > len - off ? len - off : step;
		framing_feed(text + off, k);
	}
}

/* Feeds text in every chunk size from 1 to its length and checks that
 * the reader sees expected each time. */
static void
feed_any_chunks(enum framing framing, const char *text, const char *expected)
{
	size_t	step;

	for (step = 1; step <= strlen(text); step++) {
		reset();
		br.framing = framing;
		feed(text, step);
		ck_assert_msg(strcmp(seen, expected) == 0,
		    "chunks of %zu: expected [%s], got [%s]", step, expected,
		    seen);
	}
}

START_TEST(test_lines)
{
	feed_any_chunks(FRAMING_AUTO,
	    "{\"a\":1}\n\n  \r\n{\"b\":2}\r\n[1]\n",
	    "MSG {\"a\":1}\nMSG {\"b\":2}\nMSG [1]\n");
	ck_assert_int_eq(br.framing, FRAMING_NDJSON);
}
END_TEST

START_TEST(test_last_line_at_eof)
{
	reset();
	feed("{\"a\":1}\n{\"b\":2}", 0);
	ck_assert_str_eq(seen, "MSG {\"a\":1}\n");
	framing_eof();
	ck_assert_str_eq(seen, "MSG {\"a\":1}\nMSG {\"b\":2}\n");
}
END_TEST

START_TEST(test_line_too_long)
{
	char	text[256];

	/* A line over the limit is refused once, whether or not its end
	 * is already here, and the next line is read. */
	snprintf(text, sizeof text, "{\"x\":\"%0100d\"}\n{\"ok\":1}\n", 0);
	reset();
	feed(text, 0);
	ck_assert_str_eq(seen, "ERR -32600 message too large: 108 bytes or "
	    "more, the limit is 64\nMSG {\"ok\":1}\n");
	reset();
	feed(text, 7);
	ck_assert_msg(strncmp(seen, "ERR -32600 message too large: ", 30) == 0,
	    "got [%s]", seen);
	ck_assert_msg(strstr(seen, "\nMSG {\"ok\":1}\n") != NULL &&
	    strchr(seen, '\n')[1] == 'M', "got [%s]", seen);
}
END_TEST

START_TEST(test_lsp)
{
	feed_any_chunks(FRAMING_AUTO,
	    "Content-Length: 7\r\n\r\n{\"a\":1}"
	    "\r\ncontent-length: 7\nContent-Type: application/vscode-jsonrpc"
	    "\n\n{\"b\":2}Content-Length:3\r\n\r\n[1]",
	    "MSG {\"a\":1}\nMSG {\"b\":2}\nMSG [1]\n");
	ck_assert_int_eq(br.framing, FRAMING_LSP);
}
END_TEST

START_TEST(test_lsp_too_large_is_skipped)
{
	char	text[256];

	/* The body is dropped without being kept, the next one read. */
	snprintf(text, sizeof text, "Content-Length: 100\r\n\r\n"
	    "{\"x\":\"%092d\"}Content-Length: 2\r\n\r\n{}", 0);
	feed_any_chunks(FRAMING_LSP, text,
	    "ERR -32600 message too large: 100 bytes or more, the limit is "
	    "64\nMSG {}\n");
}
END_TEST

START_TEST(test_lsp_bad_header_resyncs)
{
	feed_any_chunks(FRAMING_LSP,
	    "Content-Type: text/plain\r\n\r\n{\"lost\":1}"
	    "Content-Length: 2\r\n\r\n{}",
	    "ERR -32700 header without a valid Content-Length\nMSG {}\n");
	feed_any_chunks(FRAMING_LSP,
	    "Content-Length: 2x\r\n\r\nContent-Length: 2\r\n\r\n{}",
	    "ERR -32700 header without a valid Content-Length\nMSG {}\n");
	feed_any_chunks(FRAMING_LSP,
	    "Content-Length: 2\r\nnonsense\r\n\r\nContent-Length: 2\r\n\r\n[]",
	    "ERR -32700 malformed header line\nMSG []\n");
}
END_TEST

START_TEST(test_lsp_header_too_long)
{
	char	text[512];

	snprintf(text, sizeof text, "Content-Length: 2\r\nX-Pad: %0120d\r\n"
	    "\r\n{}Content-Length: 2\r\n\r\n[]", 0);
	reset();
	br.framing = FRAMING_LSP;
	feed(text, 0);
	ck_assert_str_eq(seen, "ERR -32700 header too long\nMSG []\n");
	/* A header that never ends is refused once it passes the limit. */
	memset(text, 'h', 200);
	text[200] = '\0';
	reset();
	br.framing = FRAMING_LSP;
	feed(text, 10);
	ck_assert_str_eq(seen, "ERR -32700 header too long\n");
}
END_TEST

START_TEST(test_lsp_eof_inside_body)
{
	reset();
	feed("Content-Length: 10\r\n\r\n{\"a\"", 0);
	ck_assert_str_eq(seen, "");
	framing_eof();
	ck_assert_str_eq(seen, "ERR -32700 input ended inside a message\n");
}
END_TEST

START_TEST(test_quit_stops_reading)
{
	reset();
	feed("{\"a\":1}\n", 0);
	br.quit = 1;
	feed("{\"b\":2}\n", 0);
	framing_eof();
	ck_assert_str_eq(seen, "MSG {\"a\":1}\n");
}
END_TEST

/* Puts a temporary file in place of stdout; returns it. */
static FILE *
capture_stdout(void)
{
	FILE	*f = tmpfile();

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(dup2(fileno(f), STDOUT_FILENO), 0);
	return f;
}

/* Everything written to the captured stdout so far. */
static char *
captured(FILE *f)
{
	long	 n;
	char	*text;

	fflush(f);
	n = lseek(fileno(f), 0, SEEK_END);
	text = calloc(1, (size_t)n + 1);
	ck_assert_int_eq(pread(fileno(f), text, (size_t)n, 0), n);
	return text;
}

/* Writes the JSON text as a message. */
static void
write_json(const char *json)
{
	cJSON	*msg = cJSON_Parse(json);

	ck_assert_ptr_nonnull(msg);
	framing_write(msg);
	cJSON_Delete(msg);
}

START_TEST(test_write_lines)
{
	FILE	*f = capture_stdout();
	char	*out;

	reset();
	br.framing = FRAMING_NDJSON;
	write_json("{\"id\": 1, \"result\": null}");
	write_json("[{\"a\": \"b\"}]");
	out = captured(f);
	ck_assert_str_eq(out, "");	/* held until the pass ends */
	free(out);
	framing_flush();
	out = captured(f);
	ck_assert_str_eq(out, "{\"id\":1,\"result\":null}\n[{\"a\":\"b\"}]\n");
	free(out);
}
END_TEST

START_TEST(test_write_lsp)
{
	FILE	*f = capture_stdout();
	char	*out;

	reset();
	br.framing = FRAMING_LSP;
	write_json("{\"id\": \"x\"}");
	write_json("{}");
	framing_flush();
	out = captured(f);
	ck_assert_str_eq(out, "Content-Length: 10\r\n\r\n{\"id\":\"x\"}"
	    "Content-Length: 2\r\n\r\n{}");
	free(out);
}
END_TEST

START_TEST(test_write_large)
{
	FILE	*f = capture_stdout();
	size_t	 n = 100000, i;
	char	*big = malloc(n + 1), *out, head[64];
	cJSON	*msg = cJSON_CreateObject();

	/* Larger than the room to print in place: printed apart, and it
	 * still goes out whole, after the small one before it. */
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	cJSON_AddStringToObject(msg, "t", big);
	reset();
	br.framing = FRAMING_LSP;
	write_json("{}");
	framing_write(msg);
	framing_flush();
	out = captured(f);
	snprintf(head, sizeof head, "Content-Length: 2\r\n\r\n{}"
	    "Content-Length: %zu\r\n\r\n{\"t\":\"", n + 8);
	ck_assert_uint_eq(strlen(out), strlen(head) + n + 2);
	ck_assert_int_eq(strncmp(out, head, strlen(head)), 0);
	ck_assert_int_eq(memcmp(out + strlen(head), big, n), 0);
	ck_assert_str_eq(out + strlen(head) + n, "\"}");
	free(out);
	free(big);
	cJSON_Delete(msg);
}
END_TEST

/* The framing suite. */
static Suite *
framing_suite(void)
{
	Suite	*s = suite_create("framing");
	TCase	*tc = tcase_create("read");

	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_last_line_at_eof);
	tcase_add_test(tc, test_line_too_long);
	tcase_add_test(tc, test_lsp);
	tcase_add_test(tc, test_lsp_too_large_is_skipped);
	tcase_add_test(tc, test_lsp_bad_header_resyncs);
	tcase_add_test(tc, test_lsp_header_too_long);
	tcase_add_test(tc, test_lsp_eof_inside_body);
	tcase_add_test(tc, test_quit_stops_reading);
	suite_add_tcase(s, tc);
	tc = tcase_create("write");
	tcase_add_test(tc, test_write_lines);
	tcase_add_test(tc, test_write_lsp);
	tcase_add_test(tc, test_write_large);
	suite_add_tcase(s, tc);
	return s;
}

/* Runs the suite; CK_RUN_CASE picks one test case. */
int
main(void)
{
	SRunner	*sr = srunner_create(framing_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
