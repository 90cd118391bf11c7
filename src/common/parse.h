/*
 * parse.h: the aish command language, one command a line, shared by the
 * command line (aish), the bridge (aish/pipeline) and so every editor.
 *
 *	echo "Design a cache" | athena list the risks | apollo
 *	apollo < notes.txt | athena "sum it up" >> log.txt
 *	team-chat -g reviewers "Look at this"
 *	team-chat --synthesize "Which cache?"
 *
 * A stage is an AI and an optional instruction: the words after the AI's
 * name, joined by single blanks (`apollo fix the grammar` and
 * `apollo "fix the grammar"` are one stage).
 *
 * Words are split and quoted as in sh (single quotes, double quotes,
 * backslashes, `#` comments); `|`, `<`, `>` and `>>` need no blanks around
 * them. There is no variable, glob or command expansion.
 *
 * ac_stages_parse() reads the same language where only stages may
 * stand (a pipeline whose input comes from elsewhere, as in the bridge):
 * there echo, team-chat and redirections are errors, and so is a `#` that
 * would start a comment, since a pipeline string is no script line and
 * its text must never be dropped unseen.  Every pipeline string it
 * accepts means what it means on the command line.
 *
 * Ownership: ac_cmd_parse() fills a struct ac_cmd whose strings and
 * arrays belong to it; release them with ac_cmd_free(). When parsing
 * fails the struct is left empty (all zero) and needs no freeing, though
 * freeing it is harmless.
 */
#ifndef AC_PARSE_H
#define AC_PARSE_H

#include <stddef.h>

enum ac_cmd_kind {
	AC_CMD_EMPTY,		/* blank or comment-only line */
	AC_CMD_PIPELINE,	/* [echo ... |] ai [| ai ...] */
	AC_CMD_TEAM_CHAT	/* [echo ... |] team-chat [-g GROUP]
				   [--synthesize] [words] */
};

/* One stage of a pipeline. */
struct ac_stage {
	char		*ai;		/* the AI or socket name */
	char		*instruction;	/* the words after it, or NULL */
};

struct ac_cmd {
	enum ac_cmd_kind kind;
	/* Text from `echo` or from team-chat's words; NULL when neither was
	 * given (then input is input_file, or else the caller's stdin). */
	char		*input_text;
	char		*input_file;	/* `< file`, or NULL */
	char		*output_file;	/* `> file` or `>> file`, or NULL */
	int		 append;	/* 1 for `>>` */
	struct ac_stage *stages;	/* in order; NULL when nstages is 0 */
	size_t		 nstages;	/* 0 for EMPTY and TEAM_CHAT */
	char		*group;		/* team-chat -g GROUP, or NULL */
	int		 synthesize;	/* team-chat --synthesize */
};

struct ac_cmd_error {
	size_t		 column;	/* 0-based byte offset in the line */
	char		 message[256];
};

/* Parses one command line (a trailing "\n" or "\r\n" is ignored). Returns 0
 * and fills cmd, or -1 with cmd empty and the reason in err (err may be
 * NULL). */
int	ac_cmd_parse(const char *line, struct ac_cmd *cmd,
	    struct ac_cmd_error *err);
/* Parses a line of stages only (see above) into cmd, whose kind is then
 * AC_CMD_PIPELINE with at least one stage; -1 as ac_cmd_parse(). */
int	ac_stages_parse(const char *line, struct ac_cmd *cmd,
	    struct ac_cmd_error *err);
/* Frees what cmd holds and leaves it empty; safe on an empty cmd. */
void	ac_cmd_free(struct ac_cmd *cmd);

#endif
