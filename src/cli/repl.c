/*
 * repl.c: the interactive prompt and the line-by-line modes.
 *
 * At a terminal, lines are read with libedit (readline's interface), with
 * history kept in $XDG_STATE_HOME/aish/history (~/.local/state/aish/
 * history).  Ctrl-C at the prompt gives a fresh prompt, Ctrl-C during a
 * command cancels it, Ctrl-D leaves.  A failing command does not end an
 * interactive session; in a script, or with commands on a pipe, the first
 * failure ends the run with its status.  `exit` and `quit` leave too.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "xalloc.h"
#include "cli.h"
#include "repl.h"
#include "run.h"
#include "state-dir.h"

#define PROMPT		"aish> "
#define HISTORY_LINES	1000

/* True when line (blanks around it ignored) is the word w. */
static int
is_word(const char *line, const char *w)
{
	size_t	n = strlen(w);

	line += strspn(line, " \t");
	return strncmp(line, w, n) == 0 && line[n + strspn(line + n,
	    " \t\r\n")] == '\0';
}

/* The history file, its directory made if needed; NULL when none. */
static char *
history_path(void)
{
	char	*dir = ac_state_dir(NULL), *p;

	if (dir == NULL)
		return NULL;
	p = xasprintf("%s/history", dir);
	free(dir);
	return p;
}

/* Reads one line at the prompt; NULL at end of input.  Ctrl-C at the
 * prompt gives a new prompt. */
static char *
prompt_line(void)
{
	char	*line;

	for (;;) {
		cli_interrupted = 0;
		line = readline(PROMPT);
		if (line != NULL && !cli_interrupted)
			return line;
		free(line);
		if (!cli_interrupted)
			return NULL;
		fputc('\n', stdout);
	}
}

/* The interactive session at a terminal. */
static int
repl_tty(struct cli *c)
{
	char	*line, *hist = history_path();
	int	 rc = CLI_OK;

	c->interactive = 1;
	using_history();
	stifle_history(HISTORY_LINES);
	if (hist != NULL)
		read_history(hist);
	while ((line = prompt_line()) != NULL) {
		if (line[strspn(line, " \t")] != '\0') {
			add_history(line);
			if (hist != NULL)
				write_history(hist);
		}
		if (is_word(line, "exit") || is_word(line, "quit")) {
			free(line);
			free(hist);
			return rc;
		}
		rc = run_line(c, line, NULL, 0);
		free(line);
	}
	fputc('\n', stdout);
	free(hist);
	return CLI_OK;
}

/* Runs the commands of f, one a line, until the first failure.  name
 * prefixes parse errors; stdin_ok: commands may read stdin. */
static int
run_lines(struct cli *c, FILE *f, const char *name, int stdin_ok)
{
	char	*line = NULL, *where;
	size_t	 cap = 0, lineno = 0;
	int	 rc = CLI_OK;

	while (rc == CLI_OK && getline(&line, &cap, f) != -1) {
		lineno++;
		if (is_word(line, "exit") || is_word(line, "quit"))
			break;
		where = xasprintf("%s:%zu: ", name, lineno);
		rc = run_line(c, line, where, stdin_ok);
		free(where);
	}
	free(line);
	return rc;
}

/* Commands from stdin. */
int
repl_run(struct cli *c)
{
	if (isatty(STDIN_FILENO))
		return repl_tty(c);
	return run_lines(c, stdin, "stdin", 0);
}

/* A script file. */
int
repl_script(struct cli *c, const char *path)
{
	FILE	*f;
	int	 rc;

	if ((f = fopen(path, "r")) == NULL) {
		cli_error("%s: %s", path, strerror(errno));
		return CLI_FAIL;
	}
	rc = run_lines(c, f, path, 1);
	fclose(f);
	return rc;
}
