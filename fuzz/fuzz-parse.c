/*
 * fuzz-parse.c: fuzzes the CLI's command parser, aish_cmd_parse().
 *
 * Any line must either parse into a command whose parts hold together or
 * fail with a message and a column inside the line; never crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "parse.h"

/* Checks what a successful parse promises. */
static void
check_cmd(const struct aish_cmd *cmd)
{
	size_t	i;

	switch (cmd->kind) {
	case AISH_CMD_EMPTY:
		FUZZ_CHECK(cmd->nstages == 0);
		break;
	case AISH_CMD_PIPELINE:
		FUZZ_CHECK(cmd->nstages > 0 && cmd->stages != NULL);
		for (i = 0; i < cmd->nstages; i++) {
			FUZZ_CHECK(cmd->stages[i] != NULL);
			FUZZ_CHECK(strlen(cmd->stages[i]) > 0 &&
			    strlen(cmd->stages[i]) <= AISH_CMD_MAX_NAME);
		}
		FUZZ_CHECK(cmd->stages[cmd->nstages] == NULL);
		break;
	case AISH_CMD_TEAM_CHAT:
		FUZZ_CHECK(cmd->nstages == 0);
		break;
	default:
		FUZZ_CHECK(!"unknown command kind");
	}
	FUZZ_CHECK(!cmd->append || cmd->output_file != NULL);
}

/* One input: a command line (cut at its first NUL, as a C string is). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct aish_cmd		 cmd;
	struct aish_cmd_error	 err;
	char			*line;

	if ((line = malloc(len + 1)) == NULL)
		return 0;
	memcpy(line, data, len);
	line[len] = '\0';
	memset(&cmd, 0, sizeof cmd);
	memset(&err, 0, sizeof err);
	if (aish_cmd_parse(line, &cmd, &err) == 0)
		check_cmd(&cmd);
	else {
		FUZZ_CHECK(err.message[0] != '\0');
		FUZZ_CHECK(err.column <= strlen(line));
	}
	aish_cmd_free(&cmd);
	free(line);
	return 0;
}
