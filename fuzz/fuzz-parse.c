/*
 * fuzz-parse.c: fuzzes the command-language parser (src/common/parse.c),
 * ac_cmd_parse() and ac_stages_parse().
 *
 * Any line must either parse into a command whose parts hold together or
 * fail with a message and a column inside the line; never crash.  A line
 * of stages the bridge accepts must mean the same on the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aish/protocol.h>

#include "fuzz.h"
#include "parse.h"

/* Checks what a successful parse promises. */
static void
check_cmd(const struct ac_cmd *cmd)
{
	size_t	i;

	switch (cmd->kind) {
	case AC_CMD_EMPTY:
		FUZZ_CHECK(cmd->nstages == 0);
		break;
	case AC_CMD_PIPELINE:
		FUZZ_CHECK(cmd->nstages > 0 && cmd->stages != NULL);
		for (i = 0; i < cmd->nstages; i++) {
			FUZZ_CHECK(cmd->stages[i].ai != NULL);
			FUZZ_CHECK(strlen(cmd->stages[i].ai) > 0 &&
			    strlen(cmd->stages[i].ai) <= AISH_MAX_NAME);
			FUZZ_CHECK(cmd->stages[i].instruction == NULL ||
			    cmd->stages[i].instruction[0] != '\0');
		}
		break;
	case AC_CMD_TEAM_CHAT:
		FUZZ_CHECK(cmd->nstages == 0);
		break;
	default:
		FUZZ_CHECK(!"unknown command kind");
	}
	FUZZ_CHECK(!cmd->append || cmd->output_file != NULL);
}

/* True when two strings are both NULL or equal. */
static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* A line of stages: parsed as such, it is a pipeline of stages only, and
 * the command line reads the very same stages from it. */
static void
check_stages_mode(const char *line, const struct ac_cmd *cmd, int cmd_ok)
{
	struct ac_cmd		 st;
	struct ac_cmd_error	 err;
	size_t			 i;

	memset(&st, 0, sizeof st);
	if (ac_stages_parse(line, &st, &err) != 0) {
		FUZZ_CHECK(err.message[0] != '\0');
		FUZZ_CHECK(err.column <= strlen(line));
		return;
	}
	check_cmd(&st);
	FUZZ_CHECK(st.kind == AC_CMD_PIPELINE && st.nstages > 0);
	FUZZ_CHECK(st.input_text == NULL && st.input_file == NULL &&
	    st.output_file == NULL && st.group == NULL);
	FUZZ_CHECK(cmd_ok && cmd->nstages == st.nstages);
	for (i = 0; cmd_ok && i < st.nstages; i++) {
		FUZZ_CHECK(same(cmd->stages[i].ai, st.stages[i].ai));
		FUZZ_CHECK(same(cmd->stages[i].instruction,
		    st.stages[i].instruction));
	}
	ac_cmd_free(&st);
}

/* One input: a command line (cut at its first NUL, as a C string is). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ac_cmd		 cmd;
	struct ac_cmd_error	 err;
	char			*line;
	int			 ok;

	if ((line = malloc(len + 1)) == NULL)
		return 0;
	memcpy(line, data, len);
	line[len] = '\0';
	memset(&cmd, 0, sizeof cmd);
	memset(&err, 0, sizeof err);
	if ((ok = ac_cmd_parse(line, &cmd, &err) == 0))
		check_cmd(&cmd);
	else {
		FUZZ_CHECK(err.message[0] != '\0');
		FUZZ_CHECK(err.column <= strlen(line));
	}
	check_stages_mode(line, &cmd, ok);
	ac_cmd_free(&cmd);
	free(line);
	return 0;
}
