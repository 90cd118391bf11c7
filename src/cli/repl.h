/*
 * repl.h: commands read line by line: the interactive prompt, commands on
 * stdin, and script files.
 */
#ifndef AISH_CLI_REPL_H
#define AISH_CLI_REPL_H

struct cli;

/* Reads commands from stdin: with a prompt, line editing and history when
 * it is a terminal, else plainly, stopping at the first failure.  Returns
 * the exit status. */
int	repl_run(struct cli *c);
/* Runs the script at path, stopping at the first failing command with its
 * status. */
int	repl_script(struct cli *c, const char *path);

#endif
