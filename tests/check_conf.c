/*
 * check_conf.c: aish-rhetor's configuration file (src/rhetor/conf.c):
 * what a good file gives, and the "FILE: PLACE: REASON" each kind of bad
 * file is refused with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "conf.h"

/* Parses text, which must be accepted. */
static struct rh_conf *
good(const char *text)
{
	char		 err[512] = "";
	struct rh_conf	*cf = rh_conf_parse("a.json", text, strlen(text), err,
	    sizeof err);

	ck_assert_msg(cf != NULL, "refused: %s", err);
	return cf;
}

/* Parses text, which must be refused with exactly expected. */
static void
bad(const char *text, const char *expected)
{
	char		 err[512] = "";
	struct rh_conf	*cf = rh_conf_parse("a.json", text, strlen(text), err,
	    sizeof err);

	ck_assert_msg(cf == NULL, "accepted: %s", text);
	ck_assert_str_eq(err, expected);
}

START_TEST(test_full_config)
{
	struct rh_conf	*cf = good(
	    "{\"listen\": {\"host\": \"127.0.0.1\", \"port\": 8300},\n"
	    " \"default_provider\": \"gpt\",\n"
	    " \"max_state_bytes\": 1048576,\n"
	    " \"providers\": {\n"
	    "  \"gpt\": {\"type\": \"openai\", \"url\": \"https://x.test/v1\",\n"
	    "           \"api_key_env\": \"OPENAI_API_KEY\", \"timeout_ms\": 5000,\n"
	    "           \"max_ms\": 60000, \"history_turns\": 8,\n"
	    "           \"history_bytes\": 4096, \"max_tokens\": 100},\n"
	    "  \"llm\": {\"type\": \"exec\", \"command\": [\"llm\", \"-m\", \"x\"]}},\n"
	    " \"ais\": {\"athena\": {\"provider\": \"gpt\", \"model\": \"m\",\n"
	    "                     \"prompt\": \"be brief\"},\n"
	    "         \"hermes\": {\"provider\": \"echo\"}, \"zeus\": {}}}\n");

	ck_assert_str_eq(cf->path, "a.json");
	ck_assert_str_eq(cf->host, "127.0.0.1");
	ck_assert_int_eq(cf->port, 8300);
	ck_assert_str_eq(cf->default_provider, "gpt");
	ck_assert_int_eq(cf->max_state_bytes, 1048576);
	ck_assert_uint_eq(cf->nproviders, 2);
	ck_assert_str_eq(cf->providers[0].name, "gpt");
	ck_assert_str_eq(cf->providers[0].type, "openai");
	ck_assert_str_eq(cf->providers[0].url, "https://x.test/v1");
	ck_assert_str_eq(cf->providers[0].api_key_env, "OPENAI_API_KEY");
	ck_assert_int_eq(cf->providers[0].timeout_ms, 5000);
	ck_assert_int_eq(cf->providers[0].max_ms, 60000);
	ck_assert_int_eq(cf->providers[0].history_turns, 8);
	ck_assert_int_eq(cf->providers[0].history_bytes, 4096);
	ck_assert_int_eq(cf->providers[0].max_tokens, 100);
	ck_assert_ptr_null(cf->providers[0].command);
	ck_assert_str_eq(cf->providers[1].type, "exec");
	ck_assert_str_eq(cf->providers[1].command[0], "llm");
	ck_assert_str_eq(cf->providers[1].command[2], "x");
	ck_assert_ptr_null(cf->providers[1].command[3]);
	ck_assert_uint_eq(cf->nais, 3);
	ck_assert(cf->has_ais);
	ck_assert_str_eq(cf->ais[0].name, "athena");
	ck_assert_str_eq(cf->ais[0].prompt, "be brief");
	ck_assert_str_eq(cf->ais[1].provider, "echo");
	ck_assert_ptr_null(cf->ais[2].provider);
	ck_assert_ptr_null(cf->ais[2].model);
	rh_conf_free(cf);
}
END_TEST

START_TEST(test_defaults)
{
	struct rh_conf	*cf = good("{}");

	ck_assert_ptr_null(cf->host);
	ck_assert_int_eq(cf->port, -1);
	ck_assert_int_eq(cf->max_state_bytes, -1);
	ck_assert_uint_eq(cf->nproviders, 0);
	ck_assert_uint_eq(cf->nais, 0);
	ck_assert(!cf->has_ais);
	rh_conf_free(cf);
	cf = good("{\"max_state_bytes\": 0, \"ais\": {}}");
	ck_assert_int_eq(cf->max_state_bytes, 0);
	ck_assert(cf->has_ais);
	rh_conf_free(cf);
}
END_TEST

START_TEST(test_not_json)
{
	bad("{\"listen\": {\n  \"port\" 1}\n}",
	    "a.json: line 2, column 10: not valid JSON");
	bad("{} {}", "a.json: line 1, column 4: text after the JSON object");
	bad("[]", "a.json: must hold one JSON object");
	bad("{\"providers\": {\"a\": {\"type\": \"echo\"}, "
	    "\"a\": {\"type\": \"echo\"}}}",
	    "a.json: providers.a: the key appears twice");
}
END_TEST

START_TEST(test_nul_byte)
{
	char	err[256] = "";
	struct rh_conf	*cf = rh_conf_parse("a.json", "{\n \0}", 4, err,
	    sizeof err);

	ck_assert_ptr_null(cf);
	ck_assert_str_eq(err, "a.json: line 2, column 2: a NUL byte: the "
	    "file must be JSON text");
}
END_TEST

START_TEST(test_bad_keys_and_values)
{
	bad("{\"listn\": {}}", "a.json: listn: unknown key (known: listen, "
	    "default_provider, providers, ais, max_state_bytes)");
	bad("{\"listen\": {\"port\": 70000}}",
	    "a.json: listen.port: must be a whole number from 0 to 65535");
	bad("{\"listen\": {\"port\": 1.5}}",
	    "a.json: listen.port: must be a whole number from 0 to 65535");
	bad("{\"listen\": {\"host\": \"\"}}", "a.json: listen.host: may not "
	    "be empty");
	bad("{\"listen\": 8300}", "a.json: listen: must be an object like "
	    "{\"host\": \"127.0.0.1\", \"port\": 8300}");
	bad("{\"max_state_bytes\": 1000}", "a.json: max_state_bytes: must be "
	    "0 (no bound) or at least 1048576");
	bad("{\"max_state_bytes\": 1e300}", "a.json: max_state_bytes: must "
	    "be a whole number from 0 to 1099511627776");
}
END_TEST

START_TEST(test_bad_providers)
{
	bad("{\"providers\": []}", "a.json: providers: must be an object of "
	    "named providers");
	bad("{\"providers\": {\"echo\": {\"type\": \"echo\"}}}",
	    "a.json: providers.echo: 'echo' is built in; choose another name");
	bad("{\"providers\": {\"a b\": {\"type\": \"echo\"}}}",
	    "a.json: providers.a b: a provider name must match "
	    "[A-Za-z0-9._-]{1,64}");
	bad("{\"providers\": {\"p\": {}}}", "a.json: providers.p.type: "
	    "missing (one of: " RH_CONF_TYPES ")");
	bad("{\"providers\": {\"p\": {\"type\": \"gpt\"}}}",
	    "a.json: providers.p.type: unknown provider type 'gpt' (known: "
	    RH_CONF_TYPES ")");
	bad("{\"providers\": {\"p\": {\"type\": \"echo\", \"url\": \"http://x\"}}}",
	    "a.json: providers.p.url: not used by a provider of type 'echo'");
	bad("{\"providers\": {\"p\": {\"type\": \"ollama\", \"url\": \"ftp://x\"}}}",
	    "a.json: providers.p.url: must start with http:// or https://");
	bad("{\"providers\": {\"p\": {\"type\": \"ollama\", \"max_tokens\": 5}}}",
	    "a.json: providers.p.max_tokens: not used by a provider of type "
	    "'ollama'");
	bad("{\"providers\": {\"p\": {\"type\": \"openai\", "
	    "\"api_key_env\": \"sk-123\"}}}",
	    "a.json: providers.p.api_key_env: must be the name of an "
	    "environment variable (like OPENAI_API_KEY) that holds the key, "
	    "never the key itself");
	bad("{\"providers\": {\"p\": {\"type\": \"exec\"}}}",
	    "a.json: providers.p.command: an exec provider needs a command, "
	    "e.g. [\"llm\", \"-m\", \"gpt-4o-mini\"]");
	bad("{\"providers\": {\"p\": {\"type\": \"exec\", \"command\": [\"\"]}}}",
	    "a.json: providers.p.command: must be a non-empty array of "
	    "strings (the program and its arguments)");
	bad("{\"providers\": {\"p\": {\"type\": \"echo\", \"timeout_ms\": 0}}}",
	    "a.json: providers.p.timeout_ms: must be a whole number from 1 "
	    "to 3600000");
	bad("{\"providers\": {\"p\": {\"type\": \"echo\", \"colour\": 1}}}",
	    "a.json: providers.p.colour: unknown key (known: type, url, "
	    "api_key_env, timeout_ms, max_ms, history_turns, history_bytes, "
	    "max_tokens, command)");
}
END_TEST

START_TEST(test_bad_ais)
{
	bad("{\"default_provider\": \"gpt\"}", "a.json: default_provider: "
	    "unknown provider 'gpt' (known: echo)");
	bad("{\"providers\": {\"p\": {\"type\": \"echo\"}}, "
	    "\"ais\": {\"a\": {\"provider\": \"q\"}}}",
	    "a.json: ais.a.provider: unknown provider 'q' (known: echo, p)");
	bad("{\"ais\": {\"rhetor\": {}}}", "a.json: ais.rhetor: an AI name "
	    "must match [A-Za-z0-9._-]{1,64} and not be rhetor or team-chat-*");
	bad("{\"ais\": {\"team-chat-1\": {}}}", "a.json: ais.team-chat-1: an "
	    "AI name must match [A-Za-z0-9._-]{1,64} and not be rhetor or "
	    "team-chat-*");
	bad("{\"ais\": {\"a\": \"gpt\"}}", "a.json: ais.a: must be an object");
	bad("{\"ais\": {\"a\": {\"model\": 4}}}",
	    "a.json: ais.a.model: must be a string");
}
END_TEST

START_TEST(test_load)
{
	char		 path[] = "/tmp/check_conf.XXXXXX", err[512] = "";
	int		 fd = mkstemp(path);
	struct rh_conf	*cf;
	const char	*text = "{\"listen\": {\"port\": 0}}";

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cf = rh_conf_load(path, err, sizeof err);
	ck_assert_msg(cf != NULL, "refused: %s", err);
	ck_assert_int_eq(cf->port, 0);
	ck_assert_str_eq(cf->path, path);
	rh_conf_free(cf);
	unlink(path);
	ck_assert_ptr_null(rh_conf_load(path, err, sizeof err));
	ck_assert_msg(strstr(err, "No such file or directory") != NULL &&
	    strncmp(err, path, strlen(path)) == 0, "got [%s]", err);
}
END_TEST

/* The conf suite. */
static Suite *
conf_suite(void)
{
	Suite	*s = suite_create("conf");
	TCase	*tc = tcase_create("conf");

	tcase_add_test(tc, test_full_config);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_not_json);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_bad_keys_and_values);
	tcase_add_test(tc, test_bad_providers);
	tcase_add_test(tc, test_bad_ais);
	tcase_add_test(tc, test_load);
	suite_add_tcase(s, tc);
	return s;
}

/* Runs the suite; CK_RUN_CASE picks one test case. */
int
main(void)
{
	SRunner	*sr = srunner_create(conf_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
