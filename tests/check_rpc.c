/*
 * check_rpc.c: aish-bridge's JSON-RPC 2.0 core (src/bridge/rpc.c) over
 * its real framing (src/bridge/framing.c): what is answered and what is
 * not, ids echoed as they came, batches, the initialize and shutdown
 * gates, the in-flight limit, cancels, and libaish errors mapped to
 * JSON-RPC codes.
 *
 * The method tables are small methods that need no server.  Each test
 * feeds lines as stdin would and reads back what the bridge wrote to
 * stdout (a temporary file here).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "bridge.h"

struct bridge br;

/* The bridge's log: unused here. */
void
logmsg(const char *fmt, ...)
{
	(void)fmt;
}

/* The real bridge may exit here. */
void
bridge_maybe_quit(void)
{
}

/* libaish's error text, the one call rpc.c makes into it. */
const char *
aish_strerror(aish_error_t err)
{
	return err == AISH_E_PROVIDER ? "provider failed" : "some error";
}

/* initialize: the bridge is ready. */
static void
m_initialize(struct req *r, const cJSON *params)
{
	(void)params;
	br.initialized = 1;
	req_result(r, cJSON_CreateObject());
}

/* shutdown: only exit remains. */
static void
m_shutdown(struct req *r, const cJSON *params)
{
	(void)params;
	br.shut_down = 1;
	req_result(r, NULL);
}

/* aish/echo: answers its params. */
static void
m_echo(struct req *r, const cJSON *params)
{
	req_result(r, cJSON_Duplicate(params, 1));
}

/* aish/fail: a provider's error, with its code in data. */
static void
m_fail(struct req *r, const cJSON *params)
{
	(void)params;
	req_error_aish(r, AISH_E_PROVIDER, "provider_error", NULL);
}

/* aish/hold: stays in flight until cancelled. */
static void
m_hold(struct req *r, const cJSON *params)
{
	(void)r;
	(void)params;
}

/* aish/cancel: cancels the request with params.id (all without). */
static void
m_cancel(struct req *r, const cJSON *params)
{
	req_result(r, req_cancel_matching(
	    cJSON_GetObjectItemCaseSensitive(params, "id")));
}

const struct method methods_session[] = {
	{ "initialize", m_initialize, 1 },
	{ "shutdown", m_shutdown, 1 },
	{ NULL, NULL, 0 }
};
const struct method methods_socket[] = {
	{ "aish/echo", m_echo, 0 },
	{ "aish/fail", m_fail, 0 },
	{ NULL, NULL, 0 }
};
const struct method methods_send[] = {
	{ "aish/hold", m_hold, 0 },
	{ "aish/cancel", m_cancel, 0 },
	{ NULL, NULL, 0 }
};

/* stdout, captured. */
static FILE	*out_file;
static long	 out_read;	/* how much of it was looked at */
static char	 out_text[65536];

/* Puts a fresh bridge in place, in line framing, stdout captured. */
static void
setup(void)
{
	memset(&br, 0, sizeof br);
	br.framing = FRAMING_NDJSON;
	br.max_message = 4096;
	br.max_depth = 8;
	br.max_header = 1024;
	br.max_inflight = 3;
	br.connected = -1;
	out_read = 0;
	out_file = tmpfile();
	ck_assert_ptr_nonnull(out_file);
	ck_assert_int_ge(dup2(fileno(out_file), STDOUT_FILENO), 0);
}

/* Feeds lines (each "\n"-ended) and returns what the bridge wrote for
 * them, one answer a line. */
static const char *
lines_in(const char *lines)
{
	long	n;

	framing_feed(lines, strlen(lines));
	framing_flush();
	n = lseek(fileno(out_file), 0, SEEK_END);
	ck_assert_int_lt(n - out_read, (long)sizeof out_text);
	ck_assert_int_eq(pread(fileno(out_file), out_text,
	    (size_t)(n - out_read), out_read), n - out_read);
	out_text[n - out_read] = '\0';
	out_read = n;
	return out_text;
}

/* Sends initialize and checks its answer. */
static void
initialize(void)
{
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":"
	    "\"initialize\"}\n"), "{\"jsonrpc\":\"2.0\",\"result\":{},\"id\":0}\n");
}

START_TEST(test_answers_and_ids)
{
	setup();
	initialize();
	/* Ids come back as sent: strings, big or odd numbers, null. */
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":"
	    "\"aish/echo\",\"params\":{\"x\":1}}\n"),
	    "{\"jsonrpc\":\"2.0\",\"result\":{\"x\":1},\"id\":\"a\"}\n");
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":9007199254740993,"
	    "\"method\":\"aish/echo\"}\n"),
	    "{\"jsonrpc\":\"2.0\",\"result\":{},\"id\":9007199254740993}\n");
	ck_assert_str_eq(lines_in("{\"method\":\"aish/echo\",\"id\" : 1e2,"
	    "\"jsonrpc\":\"2.0\",\"params\":null}\n"),
	    "{\"jsonrpc\":\"2.0\",\"result\":{},\"id\":1e2}\n");
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":"
	    "\"aish/echo\",\"params\":[]}\n"),
	    "{\"jsonrpc\":\"2.0\",\"result\":{},\"id\":null}\n");
	/* Positional params are refused. */
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	    "\"aish/echo\",\"params\":[1]}\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32602,\"message\":"
	    "\"params must be an object (named parameters)\"},\"id\":2}\n");
	ck_assert_ptr_null(br.reqs);
	ck_assert_uint_eq(br.n_inflight, 0);
}
END_TEST

START_TEST(test_notifications_never_answered)
{
	setup();
	initialize();
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"method\":\"aish/echo\"}\n"
	    "{\"jsonrpc\":\"2.0\",\"method\":\"aish/fail\"}\n"
	    "{\"jsonrpc\":\"2.0\",\"method\":\"no/such\"}\n"), "");
	ck_assert_uint_eq(br.n_inflight, 0);
}
END_TEST

START_TEST(test_bad_messages)
{
	setup();
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":1,\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32700,\"message\":"
	    "\"parse error: invalid JSON\"},\"id\":null}\n");
	ck_assert_str_eq(lines_in("\"\xff\xfe\"\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32700,\"message\":"
	    "\"parse error: not UTF-8 text\"},\"id\":null}\n");
	ck_assert_str_eq(lines_in("[[[[[[[[[[1]]]]]]]]]]\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":"
	    "\"nested too deeply (the limit is 8 levels)\"},\"id\":null}\n");
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":"
	    "\"initialize\"}\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":"
	    "\"invalid request\"},\"id\":3}\n");
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":"
	    "\"initialize\"}\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":"
	    "\"invalid request\"},\"id\":null}\n");
	ck_assert_str_eq(lines_in("42\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":"
	    "\"a request must be an object\"},\"id\":null}\n");
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":"
	    "\"no/such\"}\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601,\"message\":"
	    "\"method not found: no/such\"},\"id\":4}\n");
}
END_TEST

START_TEST(test_initialize_and_shutdown_gates)
{
	setup();
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"aish/echo\"}\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32002,\"message\":"
	    "\"the bridge is not initialized: send initialize first\"},"
	    "\"id\":1}\n");
	initialize();
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	    "\"shutdown\"}\n"), "{\"jsonrpc\":\"2.0\",\"result\":null,\"id\":2}\n");
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
	    "\"aish/echo\"}\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":"
	    "\"the bridge is shut down: only exit remains\"},\"id\":3}\n");
}
END_TEST

START_TEST(test_batches)
{
	setup();
	initialize();
	/* One array, in order, without the notifications' answers. */
	ck_assert_str_eq(lines_in("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"aish/echo\",\"params\":{\"n\":1}},"
	    "{\"jsonrpc\":\"2.0\",\"method\":\"aish/echo\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"no/such\"},"
	    "7]\n"),
	    "[{\"jsonrpc\":\"2.0\",\"result\":{\"n\":1},\"id\":1},"
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601,\"message\":"
	    "\"method not found: no/such\"},\"id\":2},"
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":"
	    "\"a request must be an object\"},\"id\":null}]\n");
	ck_assert_str_eq(lines_in("[{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"aish/echo\"}]\n"), "");
	ck_assert_str_eq(lines_in("[]\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":"
	    "\"empty batch\"},\"id\":null}\n");
	/* A batch with a request in flight waits for it. */
	ck_assert_str_eq(lines_in("[{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
	    "\"aish/hold\"},{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":"
	    "\"aish/echo\"}]\n"), "");
	ck_assert_int_eq(br.batches_open, 1);
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
	    "\"aish/cancel\",\"params\":{\"id\":5}}\n"),
	    "[{\"jsonrpc\":\"2.0\",\"result\":{},\"id\":6},"
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32800,\"message\":"
	    "\"cancelled\"},\"id\":5}]\n"
	    "{\"jsonrpc\":\"2.0\",\"result\":[5],\"id\":7}\n");
	ck_assert_int_eq(br.batches_open, 0);
	ck_assert_uint_eq(br.n_inflight, 0);
}
END_TEST

START_TEST(test_inflight_limit_and_cancel)
{
	setup();
	initialize();
	ck_assert_str_eq(lines_in(
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"aish/hold\"}\n"
	    "{\"jsonrpc\":\"2.0\",\"id\":\"two\",\"method\":\"aish/hold\"}\n"
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"aish/hold\"}\n"), "");
	ck_assert_uint_eq(br.n_inflight, 3);
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":"
	    "\"aish/echo\"}\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32005,\"message\":"
	    "\"too many requests in flight (the limit is 3)\"},\"id\":4}\n");
	/* A cancel is served at the limit; the same id as a string or a
	 * number are not the same id. */
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
	    "\"aish/cancel\",\"params\":{\"id\":\"1\"}}\n"),
	    "{\"jsonrpc\":\"2.0\",\"result\":[],\"id\":5}\n");
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":"
	    "\"aish/cancel\",\"params\":{\"id\":\"two\"}}\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32800,\"message\":"
	    "\"cancelled\"},\"id\":\"two\"}\n"
	    "{\"jsonrpc\":\"2.0\",\"result\":[\"two\"],\"id\":6}\n");
	ck_assert_uint_eq(br.n_inflight, 2);
	/* Without an id every aish/ request is cancelled. */
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
	    "\"aish/cancel\"}\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32800,\"message\":"
	    "\"cancelled\"},\"id\":3}\n"
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32800,\"message\":"
	    "\"cancelled\"},\"id\":1}\n"
	    "{\"jsonrpc\":\"2.0\",\"result\":[3,1],\"id\":7}\n");
	ck_assert_ptr_null(br.reqs);
	ck_assert_uint_eq(br.n_inflight, 0);
}
END_TEST

START_TEST(test_aish_errors)
{
	setup();
	initialize();
	ck_assert_str_eq(lines_in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"aish/fail\"}\n"),
	    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32004,\"message\":"
	    "\"provider failed\",\"data\":{\"code\":\"provider_error\"}},"
	    "\"id\":1}\n");
}
END_TEST

START_TEST(test_method_names)
{
	cJSON	*names;
	char	*text;

	setup();
	ck_assert_ptr_nonnull(rpc_find_method("aish/echo"));
	ck_assert_ptr_null(rpc_find_method("aish/nothing"));
	names = rpc_method_names();
	text = cJSON_PrintUnformatted(names);
	ck_assert_str_eq(text, "[\"initialize\",\"shutdown\",\"aish/echo\","
	    "\"aish/fail\",\"aish/hold\",\"aish/cancel\"]");
	free(text);
	cJSON_Delete(names);
}
END_TEST

/* The rpc suite. */
static Suite *
rpc_suite(void)
{
	Suite	*s = suite_create("rpc");
	TCase	*tc = tcase_create("rpc");

	tcase_add_test(tc, test_answers_and_ids);
	tcase_add_test(tc, test_notifications_never_answered);
	tcase_add_test(tc, test_bad_messages);
	tcase_add_test(tc, test_initialize_and_shutdown_gates);
	tcase_add_test(tc, test_batches);
	tcase_add_test(tc, test_inflight_limit_and_cancel);
	tcase_add_test(tc, test_aish_errors);
	tcase_add_test(tc, test_method_names);
	suite_add_tcase(s, tc);
	return s;
}

/* Runs the suite; CK_RUN_CASE picks one test case. */
int
main(void)
{
	SRunner	*sr = srunner_create(rpc_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
