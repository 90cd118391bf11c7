/*
 * check_state_dir.c: where aish's programs keep their state, from
 * XDG_STATE_HOME and HOME (src/common/state-dir.c).
 */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state-dir.h"

/* Sets XDG_STATE_HOME and HOME (NULL: unset). */
static void
set_env(const char *xdg, const char *home)
{
	if (xdg != NULL)
		setenv("XDG_STATE_HOME", xdg, 1);
	else
		unsetenv("XDG_STATE_HOME");
	if (home != NULL)
		setenv("HOME", home, 1);
	else
		unsetenv("HOME");
}

/* Asserts that ac_state_path(sub) is want (NULL: none). */
static void
assert_path(const char *sub, const char *want)
{
	char	*got = ac_state_path(sub);

	if (want == NULL)
		ck_assert_ptr_null(got);
	else {
		ck_assert_ptr_nonnull(got);
		ck_assert_str_eq(got, want);
	}
	free(got);
}

START_TEST(test_xdg_first)
{
	set_env("/x/state", "/home/u");
	assert_path(NULL, "/x/state/aish");
	assert_path("acp", "/x/state/aish/acp");
}
END_TEST

START_TEST(test_home_next)
{
	set_env(NULL, "/home/u");
	assert_path(NULL, "/home/u/.local/state/aish");
	set_env("", "/home/u");
	assert_path("answers", "/home/u/.local/state/aish/answers");
}
END_TEST

/* A relative variable would name another directory from each working
 * directory: the server and its clients ignore it alike. */
START_TEST(test_relative_ignored)
{
	set_env("rel/state", "/home/u");
	assert_path(NULL, "/home/u/.local/state/aish");
	set_env(NULL, "home/u");
	assert_path(NULL, NULL);
	set_env("rel", "rel");
	assert_path("acp", NULL);
	set_env(NULL, NULL);
	assert_path(NULL, NULL);
	ck_assert_ptr_null(ac_state_dir(NULL));
}
END_TEST

START_TEST(test_made_private)
{
	char		 base[] = "/tmp/check-state-XXXXXX", want[128];
	char		*dir;
	struct stat	 st;

	ck_assert_ptr_nonnull(mkdtemp(base));
	set_env(NULL, base);
	dir = ac_state_dir("acp");
	snprintf(want, sizeof want, "%s/.local/state/aish/acp", base);
	ck_assert_ptr_nonnull(dir);
	ck_assert_str_eq(dir, want);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	/* Made again: no error. */
	ck_assert_int_eq(ac_mkdir_p(dir), 0);
	free(dir);
	rmdir(want);
	snprintf(want, sizeof want, "%s/.local/state/aish", base);
	rmdir(want);
	snprintf(want, sizeof want, "%s/.local/state", base);
	rmdir(want);
	snprintf(want, sizeof want, "%s/.local", base);
	rmdir(want);
	ck_assert_int_eq(rmdir(base), 0);
}
END_TEST

/* The suite of the state directory. */
static Suite *
state_dir_suite(void)
{
	Suite	*s = suite_create("state-dir");
	TCase	*tc = tcase_create("state-dir");

	tcase_add_test(tc, test_xdg_first);
	tcase_add_test(tc, test_home_next);
	tcase_add_test(tc, test_relative_ignored);
	tcase_add_test(tc, test_made_private);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(state_dir_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
