/*
 * check_names.c: the name and UTF-8 checks every part of aish applies.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

START_TEST(test_valid_names)
{
	ck_assert(ac_name_valid("apollo"));
	ck_assert(ac_name_valid("apollo-1"));
	ck_assert(ac_name_valid("A.b_c-9"));
	ck_assert(ac_name_valid("..."));
	ck_assert(ac_name_valid(
	    "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234"));
}
END_TEST

START_TEST(test_invalid_names)
{
	ck_assert(!ac_name_valid(NULL));
	ck_assert(!ac_name_valid(""));
	ck_assert(!ac_name_valid("."));
	ck_assert(!ac_name_valid(".."));
	ck_assert(!ac_name_valid("a/b"));
	ck_assert(!ac_name_valid("a b"));
	ck_assert(!ac_name_valid("\xc3\xa9"));
	ck_assert(!ac_name_valid("a\nb"));
	ck_assert(!ac_name_valid(
	    "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij12345"));
}
END_TEST

START_TEST(test_utf8_valid)
{
	ck_assert(ac_utf8_valid("", 0));
	ck_assert(ac_utf8_valid("plain", 5));
	ck_assert(ac_utf8_valid("caf\xc3\xa9", 5));
	ck_assert(ac_utf8_valid("\xe2\x82\xac", 3));		/* € */
	ck_assert(ac_utf8_valid("\xf0\x9f\x98\x80", 4));	/* 😀 */
}
END_TEST

START_TEST(test_utf8_invalid)
{
	ck_assert(!ac_utf8_valid("a\0b", 3));			/* NUL */
	ck_assert(!ac_utf8_valid("\xc3", 1));			/* cut */
	ck_assert(!ac_utf8_valid("\xc0\xaf", 2));		/* overlong */
	ck_assert(!ac_utf8_valid("\xe0\x80\xaf", 3));		/* overlong */
	ck_assert(!ac_utf8_valid("\xed\xa0\x80", 3));		/* surrogate */
	ck_assert(!ac_utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	ck_assert(!ac_utf8_valid("\x80", 1));			/* stray */
	ck_assert(!ac_utf8_valid("\xff", 1));
}
END_TEST

/* The answer of ac_utf8_valid, one character at a time with ac_utf8_char
 * alone: what its eight-byte steps must agree with. */
static int
valid_by_char(const char *s, size_t n)
{
	size_t	i = 0;
	int	len;

	while (i < n) {
		if (s[i] == '\0' || (len = ac_utf8_char(s + i, n - i)) <= 0)
			return 0;
		i += (size_t)len;
	}
	return 1;
}

/* Every piece, valid or not, at every offset of a run of ASCII, with
 * ASCII after it or the end: a character across an eight-byte step,
 * a bad byte after eight or more ASCII bytes, a character cut by the
 * end, overlong forms, surrogates, NUL. */
START_TEST(test_utf8_valid_at_every_offset)
{
	static const struct {
		const char	*bytes;
		int		 valid;
	} pieces[] = {
		{ "\xc3\xa9", 1 },		/* é */
		{ "\xe2\x82\xac", 1 },		/* € */
		{ "\xf0\x9f\x98\x80", 1 },	/* 😀 */
		{ "\xed\x9f\xbf", 1 },		/* U+D7FF, below the surrogates */
		{ "\xf4\x8f\xbf\xbf", 1 },	/* U+10FFFF */
		{ "\x7f", 1 },
		{ "\xc3", 0 },			/* cut */
		{ "\xe2\x82", 0 },		/* cut */
		{ "\xf0\x9f\x98", 0 },		/* cut */
		{ "\xc0\xaf", 0 },		/* overlong */
		{ "\xc1\xbf", 0 },		/* overlong */
		{ "\xe0\x9f\xbf", 0 },		/* overlong */
		{ "\xf0\x8f\xbf\xbf", 0 },	/* overlong */
		{ "\xed\xa0\x80", 0 },		/* surrogate */
		{ "\xed\xbf\xbf", 0 },		/* surrogate */
		{ "\xf4\x90\x80\x80", 0 },	/* past U+10FFFF */
		{ "\x80", 0 },			/* stray */
		{ "\xbf", 0 },
		{ "\xfe", 0 },
		{ "\xff", 0 },
		{ "\xc3\x28", 0 },		/* no continuation */
		{ "\0", 0 },			/* NUL */
	};
	static const size_t tails[] = { 0, 1, 7, 8, 17 };
	char	buf[64];
	size_t	p, at, t, tail, len, n;

	for (p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
		/* a piece of NUL is one byte, which strlen does not see */
		len = pieces[p].bytes[0] == '\0' ? 1 : strlen(pieces[p].bytes);
		for (at = 0; at <= 24; at++) {
			for (t = 0; t < sizeof tails / sizeof tails[0]; t++) {
				tail = tails[t];
				memset(buf, 'a', sizeof buf);
				memcpy(buf + at, pieces[p].bytes, len);
				n = at + len + tail;
				ck_assert_msg(ac_utf8_valid(buf, n) ==
				    pieces[p].valid, "piece %zu at %zu, %zu "
				    "after: %d", p, at, tail, !pieces[p].valid);
				ck_assert_int_eq(ac_utf8_valid(buf, n),
				    valid_by_char(buf, n));
			}
		}
	}
	/* Two characters across two steps; a long run, then a bad end. */
	memset(buf, 'a', sizeof buf);
	memcpy(buf + 6, "\xe2\x82\xac", 3);
	memcpy(buf + 15, "\xf0\x9f\x98\x80", 4);
	ck_assert(ac_utf8_valid(buf, 40));
	buf[39] = (char)0xe2;
	ck_assert(!ac_utf8_valid(buf, 40));
	ck_assert(ac_utf8_valid(buf, 39));
}
END_TEST

START_TEST(test_utf8_count_and_len)
{
	const char	*s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";

	ck_assert_uint_eq(ac_utf8_count(s, strlen(s)), 4);
	ck_assert_uint_eq(ac_utf8_char_len(s, strlen(s)), 1);
	ck_assert_uint_eq(ac_utf8_char_len(s + 1, strlen(s + 1)), 2);
	ck_assert_uint_eq(ac_utf8_char_len(s + 3, strlen(s + 3)), 3);
	ck_assert_uint_eq(ac_utf8_char_len(s + 6, strlen(s + 6)), 4);
	/* A stray or cut byte counts as one character of one byte. */
	ck_assert_uint_eq(ac_utf8_char_len("\xe2\x82", 2), 1);
	ck_assert_uint_eq(ac_utf8_count("\xe2\x82", 2), 2);
	ck_assert_uint_eq(ac_utf8_char_len("", 0), 0);
}
END_TEST

START_TEST(test_utf8_char)
{
	ck_assert_int_eq(ac_utf8_char("a", 1), 1);
	ck_assert_int_eq(ac_utf8_char("", 1), 1);		/* NUL */
	ck_assert_int_eq(ac_utf8_char("\xc3\xa9", 2), 2);
	ck_assert_int_eq(ac_utf8_char("\xe2\x82\xac", 3), 3);
	ck_assert_int_eq(ac_utf8_char("\xf0\x9f\x98\x80", 4), 4);
	/* A valid start cut short waits for more. */
	ck_assert_int_eq(ac_utf8_char("\xe2\x82", 2), 0);
	ck_assert_int_eq(ac_utf8_char("\xf0", 1), 0);
	ck_assert_int_eq(ac_utf8_char("a", 0), 0);
	/* Never a character: stray, overlong, surrogate, past U+10FFFF. */
	ck_assert_int_eq(ac_utf8_char("\x80", 1), -1);
	ck_assert_int_eq(ac_utf8_char("\xc0\xaf", 2), -1);
	ck_assert_int_eq(ac_utf8_char("\xe0\x80\xaf", 3), -1);
	ck_assert_int_eq(ac_utf8_char("\xed\xa0\x80", 3), -1);
	ck_assert_int_eq(ac_utf8_char("\xf4\x90\x80\x80", 4), -1);
	ck_assert_int_eq(ac_utf8_char("\xe2\x28", 2), -1);
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
	tcase_add_test(tc, test_utf8_valid_at_every_offset);
	tcase_add_test(tc, test_utf8_count_and_len);
	tcase_add_test(tc, test_utf8_char);
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
