/*
 * check_names.c: the name and UTF-8 checks every part of aish applies.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

START_TEST(test_valid_names)
{
	ck_assert(aish_name_valid("apollo"));
	ck_assert(aish_name_valid("apollo-1"));
	ck_assert(aish_name_valid("A.b_c-9"));
	ck_assert(aish_name_valid("..."));
	ck_assert(aish_name_valid(
	    "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234"));
}
END_TEST

START_TEST(test_invalid_names)
{
	ck_assert(!aish_name_valid(NULL));
	ck_assert(!aish_name_valid(""));
	ck_assert(!aish_name_valid("."));
	ck_assert(!aish_name_valid(".."));
	ck_assert(!aish_name_valid("a/b"));
	ck_assert(!aish_name_valid("a b"));
	ck_assert(!aish_name_valid("\xc3\xa9"));
	ck_assert(!aish_name_valid("a\nb"));
	ck_assert(!aish_name_valid(
	    "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij12345"));
}
END_TEST

START_TEST(test_utf8_valid)
{
	ck_assert(aish_utf8_valid("", 0));
	ck_assert(aish_utf8_valid("plain", 5));
	ck_assert(aish_utf8_valid("caf\xc3\xa9", 5));
	ck_assert(aish_utf8_valid("\xe2\x82\xac", 3));		/* € */
	ck_assert(aish_utf8_valid("\xf0\x9f\x98\x80", 4));	/* 😀 */
}
END_TEST

START_TEST(test_utf8_invalid)
{
	ck_assert(!aish_utf8_valid("a\0b", 3));			/* NUL */
	ck_assert(!aish_utf8_valid("\xc3", 1));			/* cut */
	ck_assert(!aish_utf8_valid("\xc0\xaf", 2));		/* overlong */
	ck_assert(!aish_utf8_valid("\xe0\x80\xaf", 3));		/* overlong */
	ck_assert(!aish_utf8_valid("\xed\xa0\x80", 3));		/* surrogate */
	ck_assert(!aish_utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	ck_assert(!aish_utf8_valid("\x80", 1));			/* stray */
	ck_assert(!aish_utf8_valid("\xff", 1));
}
END_TEST

START_TEST(test_utf8_count_and_len)
{
	const char	*s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";

	ck_assert_uint_eq(aish_utf8_count(s, strlen(s)), 4);
	ck_assert_uint_eq(aish_utf8_char_len(s, strlen(s)), 1);
	ck_assert_uint_eq(aish_utf8_char_len(s + 1, strlen(s + 1)), 2);
	ck_assert_uint_eq(aish_utf8_char_len(s + 3, strlen(s + 3)), 3);
	ck_assert_uint_eq(aish_utf8_char_len(s + 6, strlen(s + 6)), 4);
	/* A stray or cut byte counts as one character of one byte. */
	ck_assert_uint_eq(aish_utf8_char_len("\xe2\x82", 2), 1);
	ck_assert_uint_eq(aish_utf8_count("\xe2\x82", 2), 2);
	ck_assert_uint_eq(aish_utf8_char_len("", 0), 0);
}
END_TEST

/* The suite of name and text checks. */
static Suite *
names_suite(void)
{
	Suite	*s = suite_create("names");
	TCase	*tc = tcase_create("names");

	tcase_add_test(tc, test_valid_names);
	tcase_add_test(tc, test_invalid_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("utf8");
	tcase_add_test(tc, test_utf8_valid);
	tcase_add_test(tc, test_utf8_invalid);
	tcase_add_test(tc, test_utf8_count_and_len);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(names_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
