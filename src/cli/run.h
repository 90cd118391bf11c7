/*
 * run.h: running one command of the aish language through libaish.
 *
 * A pipeline runs its stages in turn, each stage's input being the whole
 * reply of the one before; each reply streams to stdout after its label
 * (`[From Athena] ...`), or, with -o, only the last one raw.  A team chat
 * prints every member's reply as it arrives.  `> file` and `>> file`
 * receive the last stage's raw text (every reply's, for a team chat).
 */
#ifndef AISH_CLI_RUN_H
#define AISH_CLI_RUN_H

#include "aish/aish.h"

struct cli;
struct ac_cmd;

/*
 * Parses and runs one command line; returns its exit status.  where, when
 * not NULL, prefixes error messages ("script.aish:3: ").  stdin_ok: a
 * command that names no input reads stdin (else it is an error).
 */
int	run_line(struct cli *c, const char *line, const char *where,
	    int stdin_ok);
/* Runs one parsed command; returns its exit status. */
int	run_command(struct cli *c, const struct ac_cmd *cmd, int stdin_ok);
/* The libaish callbacks of the command line's handle (user: the cli). */
void	run_on_message(aish_t *h, const aish_msg_t *m, void *user);
void	run_on_state(aish_t *h, const char *socket_id,
	    aish_conn_state_t state, unsigned failures, int64_t down_ms,
	    void *user);

#endif
