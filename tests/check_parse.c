/*
 * check_parse.c: tests for the aish command-language parser
 * (src/common/parse.c), on the command line and in stages mode.
 *
 * Every operator, quoting and escape rule, comments, instructions, each
 * error with its column, the SPEC examples, the bridge's stages mode
 * (same stages, or an error), and out-of-memory at every allocation (this
 * file replaces malloc, calloc and realloc with versions that can be told
 * to fail once; they hand everything else to glibc's allocator).
 *
 * Under valgrind, run with CK_FORK=no and
 * --soname-synonyms=somalloc=nouserintercepts so that these replacements
 * stay in place (valgrind still tracks every block through glibc's
 * allocator); without that option the out-of-memory case says it is
 * skipped and the rest runs as usual.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "parse.h"

/* ------------------------------------------------------------------ */
/* Allocation failure injection                                        */
/* ------------------------------------------------------------------ */

/*
 * AddressSanitizer has its own allocator, which these replacements would
 * bypass: in such a build malloc stays as it is and the out-of-memory case
 * says it is skipped.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD	1
#endif
#endif

/* Allocations left before the one that fails; -1 when none should fail. */
static long	fail_countdown = -1;
/* Set when the planned failure happened. */
static int	fail_happened;

#ifndef ASAN_BUILD
extern void	*__libc_malloc(size_t);
extern void	*__libc_calloc(size_t, size_t);
extern void	*__libc_realloc(void *, size_t);

/* True when this allocation is the one planned to fail. */
static int
should_fail(void)
{
	if (fail_countdown < 0)
		return 0;
	if (fail_countdown-- == 0) {
		fail_happened = 1;
		return 1;
	}
	return 0;
}

/* malloc that fails when told to. */
void *
malloc(size_t size)
{
	return should_fail() ? NULL : __libc_malloc(size);
}

/* calloc that fails when told to. */
void *
calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : __libc_calloc(n, size);
}

/* realloc that fails when told to. */
void *
realloc(void *p, size_t size)
{
	return should_fail() ? NULL : __libc_realloc(p, size);
}
#endif

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static struct ac_cmd		cmd;
static struct ac_cmd_error	err;

/* Starts each test with an empty command and error. */
static void
setup(void)
{
	memset(&cmd, 0, sizeof cmd);
	memset(&err, 0, sizeof err);
}

/* Frees whatever the test left in cmd. */
static void
teardown(void)
{
	ac_cmd_free(&cmd);
}

/* True when cmd holds nothing at all. */
static int
cmd_is_empty(const struct ac_cmd *c)
{
	return c->kind == AC_CMD_EMPTY && c->input_text == NULL &&
	    c->input_file == NULL && c->output_file == NULL &&
	    c->append == 0 && c->stages == NULL && c->nstages == 0 &&
	    c->group == NULL;
}

/* Parses line into cmd, failing the test when it does not parse. */
static void
parse_ok(const char *line)
{
	int	r;

	ac_cmd_free(&cmd);
	r = ac_cmd_parse(line, &cmd, &err);
	ck_assert_msg(r == 0, "\"%s\" failed at column %zu: %s", line,
	    err.column, err.message);
}

/* Parses line expecting an error at column whose message holds needle. */
static void
parse_fails(const char *line, size_t column, const char *needle)
{
	int	r;

	ac_cmd_free(&cmd);
	r = ac_cmd_parse(line, &cmd, &err);
	ck_assert_msg(r == -1, "\"%s\" parsed but should fail", line);
	ck_assert_msg(cmd_is_empty(&cmd), "\"%s\": cmd not empty on error",
	    line);
	ck_assert_msg(strstr(err.message, needle) != NULL,
	    "\"%s\": message \"%s\" lacks \"%s\"", line, err.message, needle);
	ck_assert_msg(err.column == column,
	    "\"%s\": error \"%s\" at column %zu, expected %zu", line,
	    err.message, err.column, column);
}

/* Checks that cmd's stages are exactly the NULL-terminated list names,
 * none with an instruction. */
static void
check_stages(const char *const *names)
{
	size_t	n;

	for (n = 0; names[n] != NULL; n++) {
		ck_assert_msg(n < cmd.nstages, "missing stage %s", names[n]);
		ck_assert_str_eq(cmd.stages[n].ai, names[n]);
		ck_assert_ptr_null(cmd.stages[n].instruction);
	}
	ck_assert_uint_eq(cmd.nstages, n);
	if (n == 0)
		ck_assert_ptr_null(cmd.stages);
}

/* Checks stage i: its AI and its instruction (NULL: none). */
static void
check_stage(size_t i, const char *ai, const char *instruction)
{
	ck_assert_msg(i < cmd.nstages, "no stage %zu", i);
	ck_assert_str_eq(cmd.stages[i].ai, ai);
	if (instruction == NULL)
		ck_assert_ptr_null(cmd.stages[i].instruction);
	else {
		ck_assert_ptr_nonnull(cmd.stages[i].instruction);
		ck_assert_str_eq(cmd.stages[i].instruction, instruction);
	}
}

/* Parses line in stages mode, failing the test when it does not parse. */
static void
stages_ok(const char *line)
{
	int	r;

	ac_cmd_free(&cmd);
	r = ac_stages_parse(line, &cmd, &err);
	ck_assert_msg(r == 0, "stages \"%s\" failed at column %zu: %s", line,
	    err.column, err.message);
	ck_assert_int_eq(cmd.kind, AC_CMD_PIPELINE);
}

/* Parses line in stages mode expecting an error at column whose message
 * holds needle. */
static void
stages_fail(const char *line, size_t column, const char *needle)
{
	int	r;

	ac_cmd_free(&cmd);
	r = ac_stages_parse(line, &cmd, &err);
	ck_assert_msg(r == -1, "stages \"%s\" parsed but should fail", line);
	ck_assert_msg(cmd_is_empty(&cmd), "\"%s\": cmd not empty on error",
	    line);
	ck_assert_msg(strstr(err.message, needle) != NULL,
	    "\"%s\": message \"%s\" lacks \"%s\"", line, err.message, needle);
	ck_assert_msg(err.column == column,
	    "\"%s\": error \"%s\" at column %zu, expected %zu", line,
	    err.message, err.column, column);
}

/* Parses `echo ARGS | x` and checks that the text is expected. */
static void
check_echo(const char *line, const char *expected)
{
	parse_ok(line);
	ck_assert_int_eq(cmd.kind, AC_CMD_PIPELINE);
	ck_assert_ptr_nonnull(cmd.input_text);
	ck_assert_str_eq(cmd.input_text, expected);
}

#define STAGES(...)	check_stages((const char *const[]){ __VA_ARGS__, NULL })
#define NO_STAGES()	check_stages((const char *const[]){ NULL })

/* ------------------------------------------------------------------ */
/* The SPEC's and the language's examples                              */
/* ------------------------------------------------------------------ */

START_TEST(test_spec_echo_hello)
{
	parse_ok("echo \"Hello\" | apollo");
	ck_assert_int_eq(cmd.kind, AC_CMD_PIPELINE);
	ck_assert_str_eq(cmd.input_text, "Hello");
	ck_assert_ptr_null(cmd.input_file);
	ck_assert_ptr_null(cmd.output_file);
	ck_assert_ptr_null(cmd.group);
	ck_assert_int_eq(cmd.append, 0);
	STAGES("apollo");
}
END_TEST

START_TEST(test_spec_design_cache)
{
	parse_ok("echo \"Design a cache\" | athena | apollo");
	ck_assert_int_eq(cmd.kind, AC_CMD_PIPELINE);
	ck_assert_str_eq(cmd.input_text, "Design a cache");
	ck_assert_ptr_null(cmd.input_file);
	ck_assert_ptr_null(cmd.output_file);
	STAGES("athena", "apollo");
}
END_TEST

START_TEST(test_spec_team_chat)
{
	parse_ok("team-chat \"What's the best programming language?\"");
	ck_assert_int_eq(cmd.kind, AC_CMD_TEAM_CHAT);
	ck_assert_str_eq(cmd.input_text,
	    "What's the best programming language?");
	ck_assert_ptr_null(cmd.group);
	ck_assert_ptr_null(cmd.input_file);
	ck_assert_ptr_null(cmd.output_file);
	NO_STAGES();
}
END_TEST

START_TEST(test_example_output_file)
{
	parse_ok("echo Hello | apollo > out.txt");
	ck_assert_str_eq(cmd.input_text, "Hello");
	ck_assert_str_eq(cmd.output_file, "out.txt");
	ck_assert_int_eq(cmd.append, 0);
	STAGES("apollo");
}
END_TEST

START_TEST(test_example_input_and_append)
{
	parse_ok("apollo < notes.txt | athena >> log.txt");
	ck_assert_int_eq(cmd.kind, AC_CMD_PIPELINE);
	ck_assert_ptr_null(cmd.input_text);
	ck_assert_str_eq(cmd.input_file, "notes.txt");
	ck_assert_str_eq(cmd.output_file, "log.txt");
	ck_assert_int_eq(cmd.append, 1);
	STAGES("apollo", "athena");
}
END_TEST

START_TEST(test_example_team_chat_group)
{
	parse_ok("team-chat -g reviewers \"Look at this\"");
	ck_assert_int_eq(cmd.kind, AC_CMD_TEAM_CHAT);
	ck_assert_str_eq(cmd.group, "reviewers");
	ck_assert_str_eq(cmd.input_text, "Look at this");
	NO_STAGES();
}
END_TEST

START_TEST(test_example_no_input)
{
	parse_ok("athena | apollo");
	ck_assert_int_eq(cmd.kind, AC_CMD_PIPELINE);
	ck_assert_ptr_null(cmd.input_text);
	ck_assert_ptr_null(cmd.input_file);
	ck_assert_ptr_null(cmd.output_file);
	STAGES("athena", "apollo");
}
END_TEST

START_TEST(test_single_stage)
{
	parse_ok("apollo");
	ck_assert_int_eq(cmd.kind, AC_CMD_PIPELINE);
	ck_assert_ptr_null(cmd.input_text);
	STAGES("apollo");
	parse_ok("a.b_c-9 | Z");
	STAGES("a.b_c-9", "Z");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Words, quotes and escapes                                           */
/* ------------------------------------------------------------------ */

START_TEST(test_blanks_split_words)
{
	check_echo("echo  a\t\tb   c | x", "a b c");
	check_echo("  \techo a|x  ", "a");
	check_echo("echo \"a  b\" | x", "a  b");
}
END_TEST

START_TEST(test_single_quotes_are_literal)
{
	check_echo("echo 'a \"b\" \\n $x `y` | < > # \\' | x",
	    "a \"b\" \\n $x `y` | < > # \\");
	check_echo("echo 'line\nbreak' | x", "line\nbreak");
}
END_TEST

START_TEST(test_double_quote_escapes)
{
	/* \" \\ \$ \` lose the backslash; \a and \n keep it. */
	check_echo("echo \"q\\\"d \\\\ \\$ \\` \\a \\n\" | x",
	    "q\"d \\ $ ` \\a \\n");
	/* A backslash-newline inside double quotes disappears. */
	check_echo("echo \"ab\\\ncd\" | x", "abcd");
	/* A real newline inside double quotes is kept. */
	check_echo("echo \"ab\ncd\" | x", "ab\ncd");
	/* Quotes of the other kind are plain text. */
	check_echo("echo \"it's\" | x", "it's");
	check_echo("echo \"$HOME *\" | x", "$HOME *");
}
END_TEST

START_TEST(test_backslash_outside_quotes)
{
	check_echo("echo a\\ b \\| \\' \\\" \\\\ \\# \\> \\< \\; | x",
	    "a b | ' \" \\ # > < ;");
	check_echo("echo \\a\\b | x", "ab");
	/* A backslash-newline joins the lines, as in sh. */
	check_echo("echo ab\\\ncd | x", "abcd");
	check_echo("echo ab \\\n cd | x", "ab cd");
}
END_TEST

START_TEST(test_parts_join_into_one_word)
{
	check_echo("echo \"a\"'b'c | x", "abc");
	check_echo("echo x\"y z\"'  w' | x", "xy z  w");
	parse_ok("echo hi | \"ath\"e'na'");
	STAGES("athena");
	parse_ok("echo hi | apo\\llo");
	STAGES("apollo");
}
END_TEST

START_TEST(test_empty_words)
{
	check_echo("echo | apollo", "");
	check_echo("echo \"\" | apollo", "");
	check_echo("echo '' x | apollo", " x");
	check_echo("echo a \"\" b | apollo", "a  b");
}
END_TEST

START_TEST(test_utf8_and_other_bytes)
{
	check_echo("echo héllo \"wörld ✓\" | apollo", "héllo wörld ✓");
	check_echo("echo a*b? {c} [d] $e ~ ! | x", "a*b? {c} [d] $e ~ !");
}
END_TEST

START_TEST(test_trailing_newline_ignored)
{
	parse_ok("echo hi | apollo\n");
	ck_assert_str_eq(cmd.input_text, "hi");
	STAGES("apollo");
	parse_ok("echo hi | apollo\r\n");
	STAGES("apollo");
	parse_ok("echo hi | apollo > out\r\n");
	ck_assert_str_eq(cmd.output_file, "out");
}
END_TEST

START_TEST(test_long_text)
{
	size_t	 n = 100000, i;
	char	*line, *expected;

	line = malloc(n + 32);
	expected = malloc(n + 1);
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(expected);
	for (i = 0; i < n; i++)
		expected[i] = (char)('a' + i % 26);
	expected[n] = '\0';
	snprintf(line, n + 32, "echo \"%s\" | apollo", expected);
	parse_ok(line);
	ck_assert_str_eq(cmd.input_text, expected);
	free(line);
	free(expected);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Operators                                                           */
/* ------------------------------------------------------------------ */

START_TEST(test_operators_without_blanks)
{
	parse_ok("echo hi|apollo>out");
	ck_assert_str_eq(cmd.input_text, "hi");
	ck_assert_str_eq(cmd.output_file, "out");
	ck_assert_int_eq(cmd.append, 0);
	STAGES("apollo");

	parse_ok("echo hi|athena|apollo>>log");
	ck_assert_str_eq(cmd.output_file, "log");
	ck_assert_int_eq(cmd.append, 1);
	STAGES("athena", "apollo");

	parse_ok("apollo<in.txt|athena");
	ck_assert_str_eq(cmd.input_file, "in.txt");
	ck_assert_ptr_null(cmd.input_text);
	STAGES("apollo", "athena");
}
END_TEST

START_TEST(test_redirection_anywhere_in_stage)
{
	parse_ok("< notes.txt apollo | athena");
	ck_assert_str_eq(cmd.input_file, "notes.txt");
	STAGES("apollo", "athena");

	parse_ok("athena | >> log.txt apollo");
	ck_assert_str_eq(cmd.output_file, "log.txt");
	ck_assert_int_eq(cmd.append, 1);
	STAGES("athena", "apollo");

	parse_ok("apollo < in > out");
	ck_assert_str_eq(cmd.input_file, "in");
	ck_assert_str_eq(cmd.output_file, "out");
	STAGES("apollo");
}
END_TEST

START_TEST(test_quoted_file_names)
{
	parse_ok("apollo < 'my notes.txt' > \"out put\".txt");
	ck_assert_str_eq(cmd.input_file, "my notes.txt");
	ck_assert_str_eq(cmd.output_file, "out put.txt");
	parse_ok("apollo >> a\\ b");
	ck_assert_str_eq(cmd.output_file, "a b");
	ck_assert_int_eq(cmd.append, 1);
}
END_TEST

START_TEST(test_quoted_operators_are_text)
{
	check_echo("echo \"a|b\" '<c>' \\>\\> '>' | x", "a|b <c> >> >");
	check_echo("echo 'a;b&(c)' | x", "a;b&(c)");
}
END_TEST

START_TEST(test_echo_feeds_redirected_pipeline)
{
	parse_ok("echo one two   three | athena | apollo >> out.log");
	ck_assert_str_eq(cmd.input_text, "one two three");
	ck_assert_str_eq(cmd.output_file, "out.log");
	ck_assert_int_eq(cmd.append, 1);
	STAGES("athena", "apollo");
}
END_TEST

START_TEST(test_keywords_may_be_quoted)
{
	parse_ok("\"echo\" hi | apollo");
	ck_assert_str_eq(cmd.input_text, "hi");
	parse_ok("'team-chat' hi");
	ck_assert_int_eq(cmd.kind, AC_CMD_TEAM_CHAT);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Empty lines and comments                                            */
/* ------------------------------------------------------------------ */

START_TEST(test_empty_lines)
{
	const char *lines[] = { "", "   ", " \t ", "\n", "\r\n", "  \n" };
	size_t	 i;

	for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		parse_ok(lines[i]);
		ck_assert_msg(cmd_is_empty(&cmd), "line %zu not empty", i);
	}
}
END_TEST

START_TEST(test_comment_lines)
{
	const char *lines[] = { "#", "# a comment", "   # x | | < >",
	    "#echo 'unterminated", "\t#\n" };
	size_t	 i;

	for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		parse_ok(lines[i]);
		ck_assert_msg(cmd_is_empty(&cmd), "line %zu not empty", i);
	}
}
END_TEST

START_TEST(test_trailing_comments)
{
	parse_ok("echo hi | apollo # and then | athena");
	ck_assert_str_eq(cmd.input_text, "hi");
	STAGES("apollo");
	parse_ok("echo hi | apollo > out#put # comment 'x");
	ck_assert_str_eq(cmd.output_file, "out#put");
	parse_ok("team-chat hello # world");
	ck_assert_str_eq(cmd.input_text, "hello");
}
END_TEST

START_TEST(test_hash_inside_word)
{
	check_echo("echo a#b c# \"#d\" '#e' \\#f | x", "a#b c# #d #e #f");
}
END_TEST

/* ------------------------------------------------------------------ */
/* team-chat                                                           */
/* ------------------------------------------------------------------ */

START_TEST(test_team_chat_words)
{
	parse_ok("team-chat hello   world");
	ck_assert_int_eq(cmd.kind, AC_CMD_TEAM_CHAT);
	ck_assert_str_eq(cmd.input_text, "hello world");
	ck_assert_ptr_null(cmd.group);
	NO_STAGES();
	parse_ok("team-chat \"\"");
	ck_assert_str_eq(cmd.input_text, "");
	/* Redirections between the words are not part of the message. */
	parse_ok("team-chat -g devs > out.txt hello world");
	ck_assert_str_eq(cmd.input_text, "hello world");
}
END_TEST

START_TEST(test_team_chat_group_forms)
{
	parse_ok("team-chat -g reviewers Look at this");
	ck_assert_str_eq(cmd.group, "reviewers");
	ck_assert_str_eq(cmd.input_text, "Look at this");
	parse_ok("team-chat -greviewers hi");
	ck_assert_str_eq(cmd.group, "reviewers");
	ck_assert_str_eq(cmd.input_text, "hi");
	parse_ok("team-chat -g 'core.team_2' hi");
	ck_assert_str_eq(cmd.group, "core.team_2");
}
END_TEST

START_TEST(test_team_chat_fed_by_echo)
{
	parse_ok("echo \"What now?\" | team-chat -g reviewers");
	ck_assert_int_eq(cmd.kind, AC_CMD_TEAM_CHAT);
	ck_assert_str_eq(cmd.input_text, "What now?");
	ck_assert_str_eq(cmd.group, "reviewers");
	NO_STAGES();
	parse_ok("echo hi | team-chat > replies.txt");
	ck_assert_str_eq(cmd.input_text, "hi");
	ck_assert_str_eq(cmd.output_file, "replies.txt");
}
END_TEST

START_TEST(test_team_chat_from_file)
{
	parse_ok("team-chat < question.txt");
	ck_assert_int_eq(cmd.kind, AC_CMD_TEAM_CHAT);
	ck_assert_ptr_null(cmd.input_text);
	ck_assert_str_eq(cmd.input_file, "question.txt");
	parse_ok("team-chat -g g1 < q.txt >> log.txt");
	ck_assert_str_eq(cmd.group, "g1");
	ck_assert_str_eq(cmd.input_file, "q.txt");
	ck_assert_str_eq(cmd.output_file, "log.txt");
	ck_assert_int_eq(cmd.append, 1);
}
END_TEST

START_TEST(test_team_chat_from_caller)
{
	parse_ok("team-chat");
	ck_assert_int_eq(cmd.kind, AC_CMD_TEAM_CHAT);
	ck_assert_ptr_null(cmd.input_text);
	ck_assert_ptr_null(cmd.input_file);
	ck_assert_ptr_null(cmd.group);
	parse_ok("team-chat -g devs > out.txt");
	ck_assert_ptr_null(cmd.input_text);
	ck_assert_str_eq(cmd.group, "devs");
	ck_assert_str_eq(cmd.output_file, "out.txt");
}
END_TEST

START_TEST(test_team_chat_option_end)
{
	parse_ok("team-chat -- -5 degrees outside?");
	ck_assert_str_eq(cmd.input_text, "-5 degrees outside?");
	parse_ok("team-chat -g devs -- -x");
	ck_assert_str_eq(cmd.group, "devs");
	ck_assert_str_eq(cmd.input_text, "-x");
	/* A lone "-" is text, and options stop at the first word. */
	parse_ok("team-chat - x");
	ck_assert_str_eq(cmd.input_text, "- x");
	parse_ok("team-chat hi -g x");
	ck_assert_str_eq(cmd.input_text, "hi -g x");
	ck_assert_ptr_null(cmd.group);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

START_TEST(test_error_quotes_and_backslash)
{
	parse_fails("echo 'abc | apollo", 5, "unterminated single quote");
	parse_fails("echo ok x'abc | apollo", 9, "unterminated single quote");
	parse_fails("echo \"abc | apollo", 5, "unterminated double quote");
	parse_fails("echo \"ab\\\"", 5, "unterminated double quote");
	parse_fails("echo \"ab\\", 5, "unterminated double quote");
	parse_fails("echo abc\\", 8, "trailing backslash");
	parse_fails("echo abc\\\n", 8, "trailing backslash");
}
END_TEST

START_TEST(test_error_empty_stage)
{
	parse_fails("echo a | | apollo", 9, "empty stage");
	parse_fails("echo a || apollo", 8, "empty stage");
	parse_fails("| apollo", 0, "empty stage");
	parse_fails("  |apollo", 2, "empty stage");
	parse_fails("echo a | apollo |", 16, "empty stage");
	parse_fails("echo a |", 7, "empty stage");
	parse_fails("apollo |   # comment", 7, "empty stage");
	parse_fails("|", 0, "empty stage");
}
END_TEST

START_TEST(test_error_missing_file)
{
	parse_fails("apollo <", 7, "missing file name after '<'");
	parse_fails("apollo >", 7, "missing file name after '>'");
	parse_fails("apollo >>", 7, "missing file name after '>>'");
	parse_fails("apollo > | athena", 7, "missing file name after '>'");
	parse_fails("apollo < > x", 7, "missing file name after '<'");
	parse_fails("apollo >> # log", 7, "missing file name after '>>'");
	parse_fails("apollo >>> x", 7, "missing file name after '>>'");
	parse_fails("apollo < \"\"", 9, "empty file name");
}
END_TEST

START_TEST(test_error_two_inputs)
{
	parse_fails("echo hi < in.txt | apollo", 8, "two input sources");
	parse_fails("< in.txt echo hi | apollo", 0, "two input sources");
	parse_fails("apollo < a < b", 11, "two input sources");
	parse_fails("echo a | team-chat b", 19, "two input sources");
	parse_fails("team-chat hi < f.txt", 13, "two input sources");
	parse_fails("team-chat < f.txt hi", 10, "two input sources");
}
END_TEST

START_TEST(test_error_two_outputs)
{
	parse_fails("apollo > a > b", 11, "two outputs");
	parse_fails("apollo > a >> b", 11, "two outputs");
	parse_fails("team-chat hi >> a > b", 18, "two outputs");
}
END_TEST

START_TEST(test_error_redirection_in_middle)
{
	parse_fails("apollo > out | athena", 7, "only allowed on the last stage");
	parse_fails("echo hi > out | apollo", 8,
	    "only allowed on the last stage");
	parse_fails("echo hi | apollo < in.txt", 17,
	    "only allowed on the first stage");
	parse_fails("a | b < in | c", 6, "only allowed on the first stage");
	parse_fails("a | b >> x | c", 6, "only allowed on the last stage");
}
END_TEST

START_TEST(test_error_invalid_ai_name)
{
	char	line[128];

	parse_fails("echo a | ap/ollo", 9, "invalid AI name 'ap/ollo'");
	parse_fails("echo a | \"\"", 9, "invalid AI name ''");
	parse_fails("apollo | 'two words'", 9, "invalid AI name 'two words'");
	parse_fails("apollo | ..", 9, "invalid AI name '..'");
	parse_fails("echo hi|apollo#x", 8, "invalid AI name 'apollo#x'");
	/* 64 characters are fine, 65 are not. */
	memset(line, 'a', 64);
	line[64] = '\0';
	parse_ok(line);
	ck_assert_uint_eq(strlen(cmd.stages[0].ai), 64);
	memset(line, 'a', 65);
	line[65] = '\0';
	parse_fails(line, 0, "invalid AI name");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Instructions                                                        */
/* ------------------------------------------------------------------ */

START_TEST(test_instruction_words)
{
	parse_ok("apollo fix the grammar");
	ck_assert_int_eq(cmd.kind, AC_CMD_PIPELINE);
	ck_assert_uint_eq(cmd.nstages, 1);
	check_stage(0, "apollo", "fix the grammar");
	ck_assert_ptr_null(cmd.input_text);
	/* Quoted, it is the same stage. */
	parse_ok("apollo \"fix the grammar\"");
	check_stage(0, "apollo", "fix the grammar");
	parse_ok("apollo 'fix the grammar'");
	check_stage(0, "apollo", "fix the grammar");
	/* Words are joined by one blank; quoted blanks stay. */
	parse_ok("apollo  fix\t the   grammar ");
	check_stage(0, "apollo", "fix the grammar");
	parse_ok("apollo fix \"the  grammar\"");
	check_stage(0, "apollo", "fix the  grammar");
	/* An empty instruction is none. */
	parse_ok("apollo \"\"");
	check_stage(0, "apollo", NULL);
}
END_TEST

START_TEST(test_instruction_spec_example)
{
	parse_ok("echo \"Design a cache\" | athena list the risks | apollo");
	ck_assert_str_eq(cmd.input_text, "Design a cache");
	ck_assert_uint_eq(cmd.nstages, 2);
	check_stage(0, "athena", "list the risks");
	check_stage(1, "apollo", NULL);
	parse_ok("athena review this | apollo \"sum it up\" >> log.txt");
	check_stage(0, "athena", "review this");
	check_stage(1, "apollo", "sum it up");
	ck_assert_str_eq(cmd.output_file, "log.txt");
}
END_TEST

START_TEST(test_instruction_around_redirections)
{
	parse_ok("apollo fix < in.txt the grammar > out.txt");
	check_stage(0, "apollo", "fix the grammar");
	ck_assert_str_eq(cmd.input_file, "in.txt");
	ck_assert_str_eq(cmd.output_file, "out.txt");
	parse_ok("< in.txt apollo sum up");
	check_stage(0, "apollo", "sum up");
	parse_ok("apollo > out extra");
	check_stage(0, "apollo", "extra");
	ck_assert_str_eq(cmd.output_file, "out");
	/* Operators and comments end the instruction unless quoted. */
	parse_ok("apollo a|b");
	check_stage(0, "apollo", "a");
	check_stage(1, "b", NULL);
	parse_ok("apollo 'a|b' \"c > d\" e\\#f # and no more");
	check_stage(0, "apollo", "a|b c > d e#f");
	ck_assert_ptr_null(cmd.output_file);
}
END_TEST

START_TEST(test_instruction_text_kept_as_typed)
{
	parse_ok("apollo \"don't\" rename 'x \"y\"' héllo ✓");
	check_stage(0, "apollo", "don't rename x \"y\" héllo ✓");
	parse_ok("apollo 'line one\nline two'");
	check_stage(0, "apollo", "line one\nline two");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Stages mode (the bridge's aish/pipeline)                            */
/* ------------------------------------------------------------------ */

START_TEST(test_stages_mode_same_stages)
{
	stages_ok("apollo fix the grammar");
	check_stage(0, "apollo", "fix the grammar");
	stages_ok("athena review this | apollo \"sum it up\"");
	ck_assert_uint_eq(cmd.nstages, 2);
	check_stage(0, "athena", "review this");
	check_stage(1, "apollo", "sum it up");
	stages_ok("  athena|apollo  ");
	STAGES("athena", "apollo");
	stages_ok("apollo 'issue #12' \\#13 x#y");
	check_stage(0, "apollo", "issue #12 #13 x#y");
	stages_ok("apollo 'a < b' \"c >> d\"");
	check_stage(0, "apollo", "a < b c >> d");
	ck_assert_ptr_null(cmd.input_file);
	ck_assert_ptr_null(cmd.output_file);
}
END_TEST

START_TEST(test_stages_mode_errors)
{
	stages_fail("", 0, "no AI in the pipeline");
	stages_fail("   ", 0, "no AI in the pipeline");
	stages_fail("apollo fix issue #12", 17, "'#' would start a comment");
	stages_fail("# apollo", 0, "'#' would start a comment");
	stages_fail("echo hi | apollo", 0, "echo has no place");
	stages_fail("apollo | team-chat", 9, "team-chat has no place");
	stages_fail("apollo < in.txt", 7, "redirection '<' has no place");
	stages_fail("apollo explain a > b", 17, "redirection '>' has no place");
	stages_fail("apollo >> log", 7, "redirection '>>' has no place");
	stages_fail("apollo >", 7, "redirection '>' has no place");
	stages_fail("athena | | apollo", 9, "empty stage");
	stages_fail("apollo don't", 10, "unterminated single quote");
	stages_fail("ap/ollo fix", 0, "invalid AI name");
	stages_fail("apollo (briefly)", 7, "'(' is not supported");
	ck_assert_int_eq(ac_stages_parse(NULL, &cmd, &err), -1);
}
END_TEST

START_TEST(test_error_echo_position)
{
	parse_fails("apollo | echo hi", 9, "echo must be the first stage");
	parse_fails("echo a | echo b | apollo", 9,
	    "echo must be the first stage");
	parse_fails("echo hi", 0, "echo needs an AI");
	parse_fails("echo hi > out.txt", 0, "echo needs an AI");
}
END_TEST

START_TEST(test_team_chat_synthesize)
{
	parse_ok("team-chat --synthesize -g devs which cache");
	ck_assert_int_eq(cmd.kind, AC_CMD_TEAM_CHAT);
	ck_assert_int_eq(cmd.synthesize, 1);
	ck_assert_str_eq(cmd.group, "devs");
	ck_assert_str_eq(cmd.input_text, "which cache");
	ac_cmd_free(&cmd);
	parse_ok("team-chat -g devs hi");
	ck_assert_int_eq(cmd.synthesize, 0);
	ac_cmd_free(&cmd);
	/* After --, it is a word of the message. */
	parse_ok("team-chat -- --synthesize");
	ck_assert_int_eq(cmd.synthesize, 0);
	ck_assert_str_eq(cmd.input_text, "--synthesize");
	ac_cmd_free(&cmd);
	parse_fails("team-chat --synth hi", 10, "unknown option '--synth'");
}
END_TEST

START_TEST(test_error_team_chat)
{
	parse_fails("team-chat hi | apollo", 13,
	    "team-chat cannot be followed by '|'");
	parse_fails("echo hi | team-chat | apollo", 20,
	    "team-chat cannot be followed by '|'");
	parse_fails("athena | team-chat", 9, "team-chat can only be fed by");
	parse_fails("echo a | athena | team-chat", 18,
	    "team-chat can only be fed by");
	parse_fails("team-chat -g", 10, "-g needs a group name");
	parse_fails("team-chat -g > out", 10, "-g needs a group name");
	parse_fails("team-chat -x hi", 10, "unknown option '-x'");
	parse_fails("team-chat --group devs hi", 10,
	    "unknown option '--group'");
	parse_fails("team-chat -g bad/name hi", 13,
	    "invalid group name 'bad/name'");
	parse_fails("team-chat -g '' hi", 13, "invalid group name ''");
	parse_fails("team-chat -g a -g b hi", 15, "one -g");
}
END_TEST

START_TEST(test_error_stage_without_name)
{
	parse_fails("< in.txt | apollo", 0, "no AI name");
	parse_fails("apollo | > out", 9, "no AI name");
}
END_TEST

START_TEST(test_error_unsupported)
{
	parse_fails("echo a; apollo", 6, "';' is not supported");
	parse_fails("apollo &", 7, "'&' is not supported");
	parse_fails("echo (a) | x", 5, "'(' is not supported");
	parse_fails("echo a\nb | apollo", 6, "newline");
}
END_TEST

START_TEST(test_error_long_word_is_shortened)
{
	char	line[300];

	memset(line, 'x', 200);
	memcpy(line + 200, "/y", 3);
	parse_fails(line, 0, "invalid AI name 'xxxx");
	ck_assert_ptr_nonnull(strstr(err.message, "...'"));
	ck_assert_uint_lt(strlen(err.message), sizeof err.message - 1);
}
END_TEST

START_TEST(test_error_null_arguments)
{
	ck_assert_int_eq(ac_cmd_parse(NULL, &cmd, &err), -1);
	ck_assert(cmd_is_empty(&cmd));
	ck_assert_str_ne(err.message, "");
	ck_assert_int_eq(ac_cmd_parse("apollo", NULL, &err), -1);
	ck_assert_int_eq(ac_cmd_parse("apollo |", &cmd, NULL), -1);
	ck_assert(cmd_is_empty(&cmd));
	ck_assert_int_eq(ac_cmd_parse("apollo", &cmd, NULL), 0);
	STAGES("apollo");
}
END_TEST

START_TEST(test_error_late_frees_early_parts)
{
	/* Text, stages and a group are built before the error: no leaks. */
	parse_fails("echo hi | apollo do it | athena x > a > b", 38,
	    "two outputs");
	parse_fails("echo hi | team-chat -g devs -y", 28, "unknown option");
	parse_fails("apollo < in | athena > a > b", 25, "two outputs");
}
END_TEST

START_TEST(test_free_is_idempotent)
{
	parse_ok("echo hi | apollo > out");
	ac_cmd_free(&cmd);
	ck_assert(cmd_is_empty(&cmd));
	ac_cmd_free(&cmd);
	ac_cmd_free(NULL);
	ck_assert(cmd_is_empty(&cmd));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Out of memory                                                       */
/* ------------------------------------------------------------------ */

/* Fails each allocation of parsing line in turn, then lets it succeed. */
static void
check_every_allocation_failure(const char *line)
{
	long	n;
	int	r;

	for (n = 0; n < 10000; n++) {
		ac_cmd_free(&cmd);
		fail_happened = 0;
		fail_countdown = n;
		r = ac_cmd_parse(line, &cmd, &err);
		fail_countdown = -1;
		if (!fail_happened) {
			ck_assert_msg(r == 0, "\"%s\": %s", line, err.message);
			ck_assert_msg(n > 0, "\"%s\" allocates nothing", line);
			return;
		}
		ck_assert_msg(r == -1, "\"%s\": allocation %ld failed unseen",
		    line, n);
		ck_assert_str_eq(err.message, "out of memory");
		ck_assert_msg(cmd_is_empty(&cmd), "\"%s\": cmd not empty", line);
	}
	ck_abort_msg("\"%s\" never finished", line);
}

/* The same in stages mode. */
static void
stages_every_allocation_failure(const char *line)
{
	long	n;
	int	r;

	for (n = 0; n < 10000; n++) {
		ac_cmd_free(&cmd);
		fail_happened = 0;
		fail_countdown = n;
		r = ac_stages_parse(line, &cmd, &err);
		fail_countdown = -1;
		if (!fail_happened) {
			ck_assert_msg(r == 0, "\"%s\": %s", line, err.message);
			return;
		}
		ck_assert_msg(r == -1, "\"%s\": allocation %ld failed unseen",
		    line, n);
		ck_assert_str_eq(err.message, "out of memory");
		ck_assert_msg(cmd_is_empty(&cmd), "\"%s\": cmd not empty", line);
	}
	ck_abort_msg("\"%s\" never finished", line);
}

/*
 * True when the malloc above is the one in use. Plain valgrind replaces it
 * with its own; run valgrind with --soname-synonyms=somalloc=nouserintercepts
 * to keep it (valgrind then still tracks every block).
 */
static int
failures_can_be_injected(void)
{
	void	*(*volatile alloc)(size_t) = malloc;
	void	*p;

	fail_happened = 0;
	fail_countdown = 0;
	p = alloc(1);
	fail_countdown = -1;
	free(p);
	return p == NULL && fail_happened;
}

START_TEST(test_out_of_memory)
{
	const char *lines[] = {
		"echo \"Design a cache\" | athena | apollo",
		"apollo < notes.txt | athena >> log.txt",
		"team-chat -g reviewers \"Look at this\" > out.txt",
		"echo a | team-chat -gdevs",
		"echo \"a long text that makes the word buffer grow more than "
		    "once before it ends\" 'and another' | a | b | c | d | e | f"
		    " | g | h | i | j | k | l | m | n | o | p | q | r",
		"echo '' | apollo",
		"team-chat ''",
		"echo \"Design a cache\" | athena list the risks | apollo "
		    "'sum it up' > out.txt",
		"apollo fix < in.txt the grammar",
	};
	size_t	 i;

	if (!failures_can_be_injected()) {
		fprintf(stderr, "check_parse: malloc is replaced, out-of-memory"
		    " tests skipped (for valgrind, add"
		    " --soname-synonyms=somalloc=nouserintercepts)\n");
		return;
	}
	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		check_every_allocation_failure(lines[i]);
	stages_every_allocation_failure("athena review this | apollo "
	    "\"sum it up\"");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Suite                                                               */
/* ------------------------------------------------------------------ */

/* Adds a test case named name with the shared fixture. */
static TCase *
new_case(Suite *s, const char *name)
{
	TCase	*tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	suite_add_tcase(s, tc);
	return tc;
}

/* The parse suite. */
static Suite *
parse_suite(void)
{
	Suite	*s = suite_create("parse");
	TCase	*tc;

	tc = new_case(s, "examples");
	tcase_add_test(tc, test_spec_echo_hello);
	tcase_add_test(tc, test_spec_design_cache);
	tcase_add_test(tc, test_spec_team_chat);
	tcase_add_test(tc, test_example_output_file);
	tcase_add_test(tc, test_example_input_and_append);
	tcase_add_test(tc, test_example_team_chat_group);
	tcase_add_test(tc, test_example_no_input);
	tcase_add_test(tc, test_single_stage);

	tc = new_case(s, "words");
	tcase_add_test(tc, test_blanks_split_words);
	tcase_add_test(tc, test_single_quotes_are_literal);
	tcase_add_test(tc, test_double_quote_escapes);
	tcase_add_test(tc, test_backslash_outside_quotes);
	tcase_add_test(tc, test_parts_join_into_one_word);
	tcase_add_test(tc, test_empty_words);
	tcase_add_test(tc, test_utf8_and_other_bytes);
	tcase_add_test(tc, test_trailing_newline_ignored);
	tcase_add_test(tc, test_long_text);

	tc = new_case(s, "operators");
	tcase_add_test(tc, test_operators_without_blanks);
	tcase_add_test(tc, test_redirection_anywhere_in_stage);
	tcase_add_test(tc, test_quoted_file_names);
	tcase_add_test(tc, test_quoted_operators_are_text);
	tcase_add_test(tc, test_echo_feeds_redirected_pipeline);
	tcase_add_test(tc, test_keywords_may_be_quoted);

	tc = new_case(s, "comments");
	tcase_add_test(tc, test_empty_lines);
	tcase_add_test(tc, test_comment_lines);
	tcase_add_test(tc, test_trailing_comments);
	tcase_add_test(tc, test_hash_inside_word);

	tc = new_case(s, "team-chat");
	tcase_add_test(tc, test_team_chat_words);
	tcase_add_test(tc, test_team_chat_group_forms);
	tcase_add_test(tc, test_team_chat_fed_by_echo);
	tcase_add_test(tc, test_team_chat_from_file);
	tcase_add_test(tc, test_team_chat_from_caller);
	tcase_add_test(tc, test_team_chat_option_end);

	tc = new_case(s, "errors");
	tcase_add_test(tc, test_error_quotes_and_backslash);
	tcase_add_test(tc, test_error_empty_stage);
	tcase_add_test(tc, test_error_missing_file);
	tcase_add_test(tc, test_error_two_inputs);
	tcase_add_test(tc, test_error_two_outputs);
	tcase_add_test(tc, test_error_redirection_in_middle);
	tcase_add_test(tc, test_error_invalid_ai_name);
	tcase_add_test(tc, test_error_echo_position);
	tcase_add_test(tc, test_error_team_chat);
	tcase_add_test(tc, test_error_stage_without_name);
	tcase_add_test(tc, test_error_unsupported);
	tcase_add_test(tc, test_error_long_word_is_shortened);
	tcase_add_test(tc, test_error_null_arguments);
	tcase_add_test(tc, test_error_late_frees_early_parts);
	tcase_add_test(tc, test_free_is_idempotent);
	tcase_add_test(tc, test_team_chat_synthesize);

	tc = new_case(s, "instructions");
	tcase_add_test(tc, test_instruction_words);
	tcase_add_test(tc, test_instruction_spec_example);
	tcase_add_test(tc, test_instruction_around_redirections);
	tcase_add_test(tc, test_instruction_text_kept_as_typed);

	tc = new_case(s, "stages mode");
	tcase_add_test(tc, test_stages_mode_same_stages);
	tcase_add_test(tc, test_stages_mode_errors);

	tc = new_case(s, "memory");
	tcase_add_test(tc, test_out_of_memory);

	return s;
}

/* Runs the suite; CK_RUN_CASE picks one test case. */
int
main(void)
{
	SRunner	*sr = srunner_create(parse_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
