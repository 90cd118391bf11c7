/*
 * parse.h: the aish command language, one command a line.
 *
 *	echo "Design a cache" | athena | apollo
 *	apollo < notes.txt | athena >> log.txt
 *	team-chat -g reviewers "Look at this"
 *	team-chat --synthesize "Which cache?"
 *
 * Words are split and quoted as in sh (single quotes, double quotes,
 * backslashes, `#` comments); `|`, `<`, `>` and `>>` need no blanks around
 * them. There is no variable, glob or command expansion.
 *
 * Ownership: aish_cmd_parse() fills a struct aish_cmd whose strings and
 * arrays belong to it; release them with aish_cmd_free(). When parsing
 * fails the struct is left empty (all zero) and needs no freeing, though
 * freeing it is harmless.
 */
#ifndef AISH_CLI_PARSE_H
#define AISH_CLI_PARSE_H

#include <stddef.h>

/* Longest AI or group name, as in the wire contract. */
#define AISH_CMD_MAX_NAME	64

enum aish_cmd_kind {
	AISH_CMD_EMPTY,		/* blank or comment-only line */
	AISH_CMD_PIPELINE,	/* [echo ... |] ai [| ai ...] */
	AISH_CMD_TEAM_CHAT	/* [echo ... |] team-chat [-g GROUP]
				   [--synthesize] [words] */
};

struct aish_cmd {
	enum aish_cmd_kind kind;
	/* Text from `echo` or from team-chat's words; NULL when neither was
	 * given (then input is input_file, or else the caller's stdin). */
	char		*input_text;
	char		*input_file;	/* `< file`, or NULL */
	char		*output_file;	/* `> file` or `>> file`, or NULL */
	int		 append;	/* 1 for `>>` */
	char	       **stages;	/* AI names in order, NULL-terminated;
					   NULL when nstages is 0 */
	size_t		 nstages;	/* 0 for EMPTY and TEAM_CHAT */
	char		*group;		/* team-chat -g GROUP, or NULL */
	int		 synthesize;	/* team-chat --synthesize */
};

struct aish_cmd_error {
	size_t		 column;	/* 0-based byte offset in the line */
	char		 message[256];
};

/* Parses one command line (a trailing "\n" or "\r\n" is ignored). Returns 0
 * and fills cmd, or -1 with cmd empty and the reason in err (err may be
 * NULL). */
int	aish_cmd_parse(const char *line, struct aish_cmd *cmd,
	    struct aish_cmd_error *err);
/* Frees what cmd holds and leaves it empty; safe on an empty cmd. */
void	aish_cmd_free(struct aish_cmd *cmd);

#endif
