/*
 * check_compose.c: the text a stage's AI receives (src/common/compose.c)
 * and the one-line message about an unknown name with its "did you mean"
 * (src/common/suggest.c).
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "compose.h"
#include "suggest.h"

/* Composes and checks the text against expected. */
static void
compose_is(const struct ac_context_item *items, size_t n,
    const char *instruction, const char *input, const char *expected)
{
	size_t	 len;
	char	*text = ac_compose(items, n, instruction, input,
	    strlen(input), &len);

	ck_assert_str_eq(text, expected);
	ck_assert_uint_eq(len, strlen(expected));
	free(text);
}

START_TEST(test_instruction_and_input)
{
	compose_is(NULL, 0, "fix the grammar", "this are wrong",
	    "fix the grammar\n\nthis are wrong");
	compose_is(NULL, 0, "write a haiku", "", "write a haiku");
	compose_is(NULL, 0, NULL, "just input", "just input");
	compose_is(NULL, 0, "", "just input", "just input");
	compose_is(NULL, 0, NULL, "", "");
}
END_TEST

START_TEST(test_context_items)
{
	struct ac_context_item items[] = {
		{ "src/cache.c", "int x;\n", 7, "c" },
		{ "notes", "no newline", 10, NULL },
	};

	compose_is(items, 2, "review this", "the input",
	    "src/cache.c\n```c\nint x;\n```\n\nnotes\n```\nno newline\n```"
	    "\n\nreview this\n\nthe input");
	compose_is(items, 1, NULL, "", "src/cache.c\n```c\nint x;\n```");
	compose_is(items + 1, 1, NULL, "in", "notes\n```\nno newline\n```"
	    "\n\nin");
}
END_TEST

START_TEST(test_fence_longer_than_backticks)
{
	struct ac_context_item it = { "a.md", "x ```` y ``` z `", 16,
	    "markdown" };
	struct ac_context_item empty = { "empty", "", 0, NULL };

	compose_is(&it, 1, "i", "",
	    "a.md\n`````markdown\nx ```` y ``` z `\n`````\n\ni");
	compose_is(&empty, 1, NULL, "", "empty\n```\n```");
}
END_TEST

START_TEST(test_nearest_name)
{
	const char *names[] = { "apollo", "athena", "hermes", "prometheus",
	    "apollo-1", "rhetor" };
	size_t	n = sizeof names / sizeof names[0];

	ck_assert_str_eq(ac_nearest_name("apolo", names, n), "apollo");
	ck_assert_str_eq(ac_nearest_name("aplolo", names, n), "apollo");
	ck_assert_str_eq(ac_nearest_name("Apollo", names, n), "apollo");
	ck_assert_str_eq(ac_nearest_name("athna", names, n), "athena");
	ck_assert_str_eq(ac_nearest_name("promethues", names, n),
	    "prometheus");
	ck_assert_str_eq(ac_nearest_name("prom", names, n), "prometheus");
	ck_assert_str_eq(ac_nearest_name("apollo-2", names, n), "apollo-1");
	ck_assert_ptr_null(ac_nearest_name("nosuchai", names, n));
	ck_assert_ptr_null(ac_nearest_name("zz", names, n));
	ck_assert_ptr_null(ac_nearest_name("x", names, 0));
}
END_TEST

START_TEST(test_unknown_message)
{
	char	buf[AC_UNKNOWN_MESSAGE_MAX + 1], name[65], other[65];

	ac_unknown_message(buf, sizeof buf, "AI", "apolo", "apollo", NULL);
	ck_assert_str_eq(buf, "unknown AI \"apolo\" (did you mean apollo?)");
	ac_unknown_message(buf, sizeof buf, "group", "nosuch", NULL, NULL);
	ck_assert_str_eq(buf, "unknown group \"nosuch\"");
	ac_unknown_message(buf, sizeof buf, "AI", "zz", NULL,
	    "aish -l lists the AIs");
	ck_assert_str_eq(buf, "unknown AI \"zz\" (aish -l lists the AIs)");
	/* The longest names still give one line within the limit. */
	memset(name, 'a', 64);
	name[64] = '\0';
	memset(other, 'b', 64);
	other[64] = '\0';
	ac_unknown_message(buf, sizeof buf, "group", name, other, NULL);
	ck_assert_uint_le(strlen(buf), AC_UNKNOWN_MESSAGE_MAX);
	ck_assert_ptr_nonnull(strstr(buf, "did you mean"));
	ac_unknown_message(buf, 100, "group", name, other, NULL);
	ck_assert_uint_le(strlen(buf), 99);
	ck_assert_ptr_nonnull(strstr(buf, "...\" (did you mean bbbb"));
	ck_assert_ptr_nonnull(strstr(buf, "...?)"));
}
END_TEST

/* The compose suite. */
static Suite *
compose_suite(void)
{
	Suite	*s = suite_create("compose");
	TCase	*tc = tcase_create("compose");

	tcase_add_test(tc, test_instruction_and_input);
	tcase_add_test(tc, test_context_items);
	tcase_add_test(tc, test_fence_longer_than_backticks);
	suite_add_tcase(s, tc);
	tc = tcase_create("suggest");
	tcase_add_test(tc, test_nearest_name);
	tcase_add_test(tc, test_unknown_message);
	suite_add_tcase(s, tc);
	return s;
}

/* Runs the suite; CK_RUN_CASE picks one test case. */
int
main(void)
{
	SRunner	*sr = srunner_create(compose_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
