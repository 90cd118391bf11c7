/*
 * parse.c: turns one aish command line into a struct ac_cmd (see
 * parse.h for the language).
 *
 * Two steps. The lexer splits the line into words and operators the way
 * sh does (quotes, backslashes, comments) and remembers the column where
 * each began, so that every error can point at its cause. The parser then
 * cuts the tokens at each `|` into stages and checks what each stage may
 * hold: `echo` only first, `team-chat` only last, `<` only on the first
 * stage, `>` and `>>` only on the last, one input and one output at most.
 * An AI stage's words after the name are its instruction.  In stages
 * mode (ac_stages_parse) only AI stages may stand.
 *
 * Redirections may stand anywhere in their stage, as in sh
 * (`< notes.txt apollo` is `apollo < notes.txt`). The module uses libc
 * only (and ac_buf_try_add); every allocation failure becomes the error
 * "out of memory".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aish/protocol.h>

#include "buf.h"
#include "names.h"
#include "parse.h"

#define OUT_OF_MEMORY	"out of memory"

/* Longest part of a user's word quoted in an error message. */
#define QUOTE_MAX	64

enum token_kind {
	TOKEN_WORD,
	TOKEN_PIPE,		/* | */
	TOKEN_IN,		/* < */
	TOKEN_OUT,		/* > */
	TOKEN_APPEND,		/* >> */
	TOKEN_END		/* end of line or start of a comment */
};

struct token {
	enum token_kind	 kind;
	size_t		 column;
	char		*text;		/* the word, for TOKEN_WORD */
};

struct lexer {
	const char	*line;
	size_t		 len;
	size_t		 pos;
	struct token	*tokens;
	size_t		 ntokens;
	size_t		 size;
	int		 no_comments;	/* stages mode: '#' is an error */
	struct ac_cmd_error *err;
};

struct parser {
	struct token	*tokens;
	size_t		 nsegments;	/* stages, counting echo and team-chat */
	struct ac_cmd	*cmd;
	struct ac_cmd_error *err;
	const char	*input;		/* what gave the input, for errors */
	int		 fed_by_echo;
	int		 team_chat;
	int		 stages_only;	/* ac_stages_parse() */
};

#ifdef __GNUC__
__attribute__((format(printf, 3, 4)))
#endif
static int	set_error(struct ac_cmd_error *, size_t, const char *, ...);

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* Records an error at column and returns -1. */
static int
set_error(struct ac_cmd_error *err, size_t column, const char *fmt, ...)
{
	va_list	ap;

	err->column = column;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return -1;
}

/* "..." when s is too long to be quoted whole in a message. */
static const char *
ellipsis(const char *s)
{
	return strlen(s) > QUOTE_MAX ? "..." : "";
}

/* A copy of s, or NULL when out of memory. */
static char *
copy_string(const char *s)
{
	size_t	 len = strlen(s);
	char	*copy;

	copy = malloc(len + 1);
	if (copy != NULL)
		memcpy(copy, s, len + 1);
	return copy;
}

/* ------------------------------------------------------------------ */
/* Lexer                                                               */
/* ------------------------------------------------------------------ */

/* Adds a token, taking text; -1 when out of memory (text is freed). */
static int
push_token(struct lexer *lx, enum token_kind kind, size_t column, char *text)
{
	struct token	*tokens;
	size_t		 size;

	if (lx->ntokens == lx->size) {
		size = lx->size != 0 ? lx->size * 2 : 16;
		tokens = realloc(lx->tokens, size * sizeof *tokens);
		if (tokens == NULL) {
			free(text);
			return set_error(lx->err, column, OUT_OF_MEMORY);
		}
		lx->tokens = tokens;
		lx->size = size;
	}
	lx->tokens[lx->ntokens].kind = kind;
	lx->tokens[lx->ntokens].column = column;
	lx->tokens[lx->ntokens].text = text;
	lx->ntokens++;
	return 0;
}

/* Frees the lexer's tokens. */
static void
free_tokens(struct lexer *lx)
{
	size_t	i;

	for (i = 0; i < lx->ntokens; i++)
		free(lx->tokens[i].text);
	free(lx->tokens);
	lx->tokens = NULL;
	lx->ntokens = lx->size = 0;
}

/* Appends c to the word being read; -1 when out of memory. */
static int
word_add(struct lexer *lx, struct ac_buf *b, char c)
{
	if (ac_buf_try_add(b, &c, 1) == -1)
		return set_error(lx->err, lx->pos, OUT_OF_MEMORY);
	return 0;
}

/* True for the bytes that end an unquoted word. */
static int
word_ends(char c)
{
	return strchr(" \t\n|<>;&()", c) != NULL;
}

/* Reads a single-quoted part: everything up to the next quote, literally. */
static int
lex_single_quote(struct lexer *lx, struct ac_buf *b)
{
	size_t		 open = lx->pos;
	const char	*close;

	close = memchr(lx->line + open + 1, '\'', lx->len - open - 1);
	if (close == NULL)
		return set_error(lx->err, open, "unterminated single quote");
	for (lx->pos = open + 1; lx->line + lx->pos < close; lx->pos++) {
		if (word_add(lx, b, lx->line[lx->pos]) == -1)
			return -1;
	}
	lx->pos++;
	return 0;
}

/*
 * Reads a double-quoted part. As in sh, a backslash escapes only ", \, $,
 * ` and newline (a backslash-newline disappears); before anything else it
 * stays as it is.
 */
static int
lex_double_quote(struct lexer *lx, struct ac_buf *b)
{
	size_t	open = lx->pos;
	char	c, next;

	for (lx->pos = open + 1; lx->pos < lx->len; lx->pos++) {
		c = lx->line[lx->pos];
		if (c == '"') {
			lx->pos++;
			return 0;
		}
		if (c == '\\' && lx->pos + 1 < lx->len) {
			next = lx->line[lx->pos + 1];
			if (memchr("\"\\$`\n", next, 5) != NULL) {
				lx->pos++;
				if (next != '\n' && word_add(lx, b, next) == -1)
					return -1;
				continue;
			}
		}
		if (word_add(lx, b, c) == -1)
			return -1;
	}
	return set_error(lx->err, open, "unterminated double quote");
}

/* Reads a backslash outside quotes: it takes the next byte literally. */
static int
lex_backslash(struct lexer *lx, struct ac_buf *b)
{
	char	next;

	if (lx->pos + 1 >= lx->len)
		return set_error(lx->err, lx->pos,
		    "trailing backslash: nothing to escape");
	next = lx->line[lx->pos + 1];
	lx->pos += 2;
	if (next == '\n')
		return 0;	/* a line continuation, as in sh */
	return word_add(lx, b, next);
}

/* Reads one word, joining its quoted and unquoted parts ("a"'b'c = abc). */
static int
lex_word(struct lexer *lx)
{
	struct ac_buf	 b = { NULL, 0, 0 };
	size_t		 start = lx->pos;
	int		 quoted = 0, r = 0;
	char		 c;

	while (r == 0 && lx->pos < lx->len) {
		c = lx->line[lx->pos];
		if (word_ends(c))
			break;
		if (c == '\'') {
			quoted = 1;
			r = lex_single_quote(lx, &b);
		} else if (c == '"') {
			quoted = 1;
			r = lex_double_quote(lx, &b);
		} else if (c == '\\')
			r = lex_backslash(lx, &b);
		else {
			r = word_add(lx, &b, c);
			lx->pos++;
		}
	}
	if (r == -1) {
		free(b.data);
		return -1;
	}
	if (b.data == NULL && !quoted)
		return 0;	/* only line continuations */
	if (b.data == NULL && (b.data = copy_string("")) == NULL)
		return set_error(lx->err, start, OUT_OF_MEMORY);
	return push_token(lx, TOKEN_WORD, start, b.data);
}

/* Reads an operator or a word at lx->pos. */
static int
lex_token(struct lexer *lx)
{
	size_t	column = lx->pos;
	char	c = lx->line[column];

	switch (c) {
	case '|':
		lx->pos++;
		return push_token(lx, TOKEN_PIPE, column, NULL);
	case '<':
		lx->pos++;
		return push_token(lx, TOKEN_IN, column, NULL);
	case '>':
		if (column + 1 < lx->len && lx->line[column + 1] == '>') {
			lx->pos += 2;
			return push_token(lx, TOKEN_APPEND, column, NULL);
		}
		lx->pos++;
		return push_token(lx, TOKEN_OUT, column, NULL);
	case '\n':
		return set_error(lx->err, column,
		    "newline outside quotes: one command a line");
	case ';':
	case '&':
	case '(':
	case ')':
		return set_error(lx->err, column,
		    "'%c' is not supported: quote it to use it as text", c);
	}
	return lex_word(lx);
}

/* Splits the whole line into tokens, ending with TOKEN_END. */
static int
lex_line(struct lexer *lx)
{
	for (;;) {
		while (lx->pos < lx->len &&
		    (lx->line[lx->pos] == ' ' || lx->line[lx->pos] == '\t'))
			lx->pos++;
		if (lx->pos < lx->len && lx->line[lx->pos] == '#' &&
		    lx->no_comments)
			return set_error(lx->err, lx->pos, "'#' would start a "
			    "comment, which has no place here: quote it to "
			    "send it as text");
		if (lx->pos >= lx->len || lx->line[lx->pos] == '#')
			return push_token(lx, TOKEN_END, lx->pos, NULL);
		if (lex_token(lx) == -1)
			return -1;
	}
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */
/* ------------------------------------------------------------------ */

/* How an operator token is written, for messages. */
static const char *
operator_name(enum token_kind kind)
{
	switch (kind) {
	case TOKEN_PIPE:
		return "|";
	case TOKEN_IN:
		return "<";
	case TOKEN_OUT:
		return ">";
	case TOKEN_APPEND:
		return ">>";
	default:
		return "end of line";
	}
}

/*
 * The next argument of a stage at or after *i, skipping redirections and
 * their file names; NULL at end. Each operator is known to have its file.
 */
static struct token *
next_arg(struct token *t, size_t *i, size_t end)
{
	while (*i < end) {
		if (t[*i].kind == TOKEN_WORD)
			return &t[(*i)++];
		*i += 2;
	}
	return NULL;
}

/* The arguments from *i on, joined by single spaces ("" for none). */
static char *
join_args(struct token *t, size_t i, size_t end)
{
	struct token	*arg;
	size_t		 j = i, len = 0, n;
	char		*text;
	int		 first;

	while ((arg = next_arg(t, &j, end)) != NULL)
		len += strlen(arg->text) + 1;
	text = malloc(len + 1);
	if (text == NULL)
		return NULL;
	len = 0;
	first = 1;
	while ((arg = next_arg(t, &i, end)) != NULL) {
		if (!first)
			text[len++] = ' ';
		first = 0;
		n = strlen(arg->text);
		memcpy(text + len, arg->text, n);
		len += n;
	}
	text[len] = '\0';
	return text;
}

/* Reports the empty stage that ends at token at (a '|' or the end). */
static int
empty_stage(struct parser *p, size_t index, size_t at)
{
	struct token	*t = p->tokens;

	if (t[at].kind == TOKEN_END)
		return set_error(p->err, t[at - 1].column,
		    "empty stage after '|'");
	if (index == 0)
		return set_error(p->err, t[at].column,
		    "empty stage before '|'");
	return set_error(p->err, t[at].column,
	    "empty stage between '|' and '|'");
}

/* Checks that every redirection in the stage is followed by a file name. */
static int
check_file_names(struct parser *p, size_t start, size_t end)
{
	struct token	*t = p->tokens;
	size_t		 i;

	for (i = start; i < end; i++) {
		if (t[i].kind == TOKEN_WORD)
			continue;
		if (t[i + 1].kind != TOKEN_WORD)
			return set_error(p->err, t[i].column,
			    "missing file name after '%s'",
			    operator_name(t[i].kind));
		if (t[i + 1].text[0] == '\0')
			return set_error(p->err, t[i + 1].column,
			    "empty file name after '%s'",
			    operator_name(t[i].kind));
		i++;
	}
	return 0;
}

/* `echo WORDS...`: the input text, on the first of several stages. */
static int
parse_echo(struct parser *p, size_t index, size_t i, size_t end,
    struct token *name)
{
	if (index != 0)
		return set_error(p->err, name->column,
		    "echo must be the first stage");
	if (p->nsegments == 1)
		return set_error(p->err, name->column,
		    "echo needs an AI to send its text to: echo TEXT | AI");
	p->cmd->input_text = join_args(p->tokens, i, end);
	if (p->cmd->input_text == NULL)
		return set_error(p->err, name->column, OUT_OF_MEMORY);
	p->input = "echo";
	p->fed_by_echo = 1;
	return 0;
}

/* Reads team-chat's options from *i on, leaving *i at the message. */
static int
parse_team_chat_options(struct parser *p, size_t *i, size_t end)
{
	struct token	*t = p->tokens, *arg, *group;
	size_t		 at;
	const char	*name;

	for (;;) {
		at = *i;
		arg = next_arg(t, i, end);
		if (arg == NULL || strcmp(arg->text, "--") == 0)
			return 0;
		if (arg->text[0] != '-' || arg->text[1] == '\0') {
			*i = at;	/* the message starts here */
			return 0;
		}
		if (strcmp(arg->text, "--synthesize") == 0) {
			p->cmd->synthesize = 1;
			continue;
		}
		if (strncmp(arg->text, "-g", 2) != 0)
			return set_error(p->err, arg->column,
			    "unknown option '%.*s%s' to team-chat (use -g GROUP,"
			    " --synthesize, or -- before a message that starts "
			    "with '-')", QUOTE_MAX, arg->text,
			    ellipsis(arg->text));
		if (p->cmd->group != NULL)
			return set_error(p->err, arg->column,
			    "team-chat takes one -g GROUP only");
		group = arg;
		name = arg->text + 2;
		if (*name == '\0') {
			group = next_arg(t, i, end);
			if (group == NULL)
				return set_error(p->err, arg->column,
				    "-g needs a group name");
			name = group->text;
		}
		if (!ac_name_valid(name))
			return set_error(p->err, group->column,
			    "invalid group name '%.*s%s'", QUOTE_MAX, name,
			    ellipsis(name));
		p->cmd->group = copy_string(name);
		if (p->cmd->group == NULL)
			return set_error(p->err, group->column, OUT_OF_MEMORY);
	}
}

/* `team-chat [-g GROUP] [--synthesize] [WORDS...]`: fed by echo, `<`,
 * words or stdin. */
static int
parse_team_chat(struct parser *p, size_t index, size_t i, size_t end,
    struct token *name)
{
	struct token	*t = p->tokens, *first;
	size_t		 j;

	if (index != 0 && !(index == 1 && p->fed_by_echo))
		return set_error(p->err, name->column,
		    "team-chat can only be fed by echo or '<', not by an AI");
	if (index + 1 < p->nsegments)
		return set_error(p->err, t[end].column,
		    "team-chat cannot be followed by '|'");
	p->team_chat = 1;
	if (parse_team_chat_options(p, &i, end) == -1)
		return -1;
	j = i;
	first = next_arg(t, &j, end);
	if (first == NULL)
		return 0;
	if (p->input != NULL)
		return set_error(p->err, first->column,
		    "two input sources: %s and team-chat's message", p->input);
	p->cmd->input_text = join_args(t, i, end);
	if (p->cmd->input_text == NULL)
		return set_error(p->err, first->column, OUT_OF_MEMORY);
	p->input = "team-chat's message";
	return 0;
}

/* An AI stage: a valid name, then the words of its instruction. */
static int
parse_ai_stage(struct parser *p, size_t i, size_t end, struct token *name)
{
	struct ac_cmd		*cmd = p->cmd;
	struct ac_stage	*st;
	size_t			 j = i;

	if (!ac_name_valid(name->text))
		return set_error(p->err, name->column,
		    "invalid AI name '%.*s%s' (names are 1 to %d letters,"
		    " digits, '.', '_' or '-')", QUOTE_MAX, name->text,
		    ellipsis(name->text), AISH_MAX_NAME);
	if (cmd->stages == NULL) {
		cmd->stages = calloc(p->nsegments, sizeof *cmd->stages);
		if (cmd->stages == NULL)
			return set_error(p->err, name->column, OUT_OF_MEMORY);
	}
	st = &cmd->stages[cmd->nstages];
	if ((st->ai = copy_string(name->text)) == NULL)
		return set_error(p->err, name->column, OUT_OF_MEMORY);
	cmd->nstages++;
	if (next_arg(p->tokens, &j, end) == NULL)
		return 0;
	if ((st->instruction = join_args(p->tokens, i, end)) == NULL)
		return set_error(p->err, name->column, OUT_OF_MEMORY);
	if (st->instruction[0] == '\0') {	/* apollo "": no instruction */
		free(st->instruction);
		st->instruction = NULL;
	}
	return 0;
}

/* `< file`: only on the first stage, and only one input source. */
static int
add_input_file(struct parser *p, size_t index, struct token *op,
    struct token *file)
{
	if (index != 0)
		return set_error(p->err, op->column,
		    "redirection '<' is only allowed on the first stage");
	if (p->input != NULL)
		return set_error(p->err, op->column,
		    "two input sources: %s and '<'", p->input);
	p->cmd->input_file = copy_string(file->text);
	if (p->cmd->input_file == NULL)
		return set_error(p->err, file->column, OUT_OF_MEMORY);
	p->input = "'<'";
	return 0;
}

/* `> file` or `>> file`: only on the last stage, and only once. */
static int
add_output_file(struct parser *p, size_t index, struct token *op,
    struct token *file)
{
	const char	*name = operator_name(op->kind);

	if (index + 1 != p->nsegments)
		return set_error(p->err, op->column,
		    "redirection '%s' is only allowed on the last stage", name);
	if (p->cmd->output_file != NULL)
		return set_error(p->err, op->column,
		    "two outputs: only one '>' or '>>' is allowed");
	p->cmd->output_file = copy_string(file->text);
	if (p->cmd->output_file == NULL)
		return set_error(p->err, file->column, OUT_OF_MEMORY);
	p->cmd->append = op->kind == TOKEN_APPEND;
	return 0;
}

/* Applies the stage's redirections in order. */
static int
parse_redirections(struct parser *p, size_t index, size_t start, size_t end)
{
	struct token	*t = p->tokens;
	size_t		 i;
	int		 r;

	for (i = start; i < end; i++) {
		if (t[i].kind == TOKEN_WORD)
			continue;
		if (t[i].kind == TOKEN_IN)
			r = add_input_file(p, index, &t[i], &t[i + 1]);
		else
			r = add_output_file(p, index, &t[i], &t[i + 1]);
		if (r == -1)
			return -1;
		i++;
	}
	return 0;
}

/* Stages mode: refuses echo, team-chat and redirections, which have no
 * place where the input and the output come from elsewhere. */
static int
check_stages_only(struct parser *p, size_t start, size_t end)
{
	struct token	*t = p->tokens;
	size_t		 i;

	for (i = start; i < end; i++) {
		if (t[i].kind != TOKEN_WORD)
			return set_error(p->err, t[i].column, "redirection '%s' "
			    "has no place in a pipeline of stages: quote it to "
			    "send it as text", operator_name(t[i].kind));
	}
	if (strcmp(t[start].text, "echo") == 0 ||
	    strcmp(t[start].text, "team-chat") == 0)
		return set_error(p->err, t[start].column, "%s has no place in "
		    "a pipeline of stages: give AIs and their instructions "
		    "only", t[start].text);
	return 0;
}

/* Parses stage number index, tokens [start, end). */
static int
parse_segment(struct parser *p, size_t index, size_t start, size_t end)
{
	struct token	*name;
	size_t		 i = start;
	int		 r;

	if (start == end)
		return empty_stage(p, index, end);
	if (p->stages_only && check_stages_only(p, start, end) == -1)
		return -1;
	if (check_file_names(p, start, end) == -1)
		return -1;
	name = next_arg(p->tokens, &i, end);
	if (name == NULL)
		return set_error(p->err, p->tokens[start].column,
		    "stage has no AI name, only redirections");
	if (strcmp(name->text, "echo") == 0)
		r = parse_echo(p, index, i, end, name);
	else if (strcmp(name->text, "team-chat") == 0)
		r = parse_team_chat(p, index, i, end, name);
	else
		r = parse_ai_stage(p, i, end, name);
	if (r == -1)
		return -1;
	return parse_redirections(p, index, start, end);
}

/* Turns the tokens into cmd, stage by stage. */
static int
parse_tokens(struct parser *p, size_t ntokens)
{
	struct token	*t = p->tokens;
	size_t		 i, index, start, end;

	if (ntokens == 1) {
		p->cmd->kind = AC_CMD_EMPTY;
		return 0;
	}
	p->nsegments = 1;
	for (i = 0; i < ntokens; i++) {
		if (t[i].kind == TOKEN_PIPE)
			p->nsegments++;
	}
	start = 0;
	for (index = 0; index < p->nsegments; index++) {
		for (end = start; t[end].kind != TOKEN_PIPE &&
		    t[end].kind != TOKEN_END; end++)
			;
		if (parse_segment(p, index, start, end) == -1)
			return -1;
		start = end + 1;
	}
	p->cmd->kind = p->team_chat ? AC_CMD_TEAM_CHAT : AC_CMD_PIPELINE;
	return 0;
}

/* The line's length without one trailing "\n", "\r\n" or "\r". */
static size_t
line_length(const char *line)
{
	size_t	len = strlen(line);

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	return len;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

/* Parses line into cmd, in stages mode when stages_only is set. */
static int
parse_line(const char *line, int stages_only, struct ac_cmd *cmd,
    struct ac_cmd_error *err)
{
	struct ac_cmd_error	 spare;
	struct lexer		 lx;
	struct parser		 p;
	int			 r;

	if (err == NULL)
		err = &spare;
	err->column = 0;
	err->message[0] = '\0';
	if (cmd == NULL)
		return set_error(err, 0, "no command to fill");
	memset(cmd, 0, sizeof *cmd);
	if (line == NULL)
		return set_error(err, 0, "no command line");

	memset(&lx, 0, sizeof lx);
	lx.line = line;
	lx.len = line_length(line);
	lx.err = err;
	lx.no_comments = stages_only;
	r = lex_line(&lx);
	if (r == 0) {
		memset(&p, 0, sizeof p);
		p.tokens = lx.tokens;
		p.cmd = cmd;
		p.err = err;
		p.stages_only = stages_only;
		r = parse_tokens(&p, lx.ntokens);
	}
	if (r == 0 && stages_only && cmd->kind == AC_CMD_EMPTY)
		r = set_error(err, 0, "no AI in the pipeline: give one or "
		    "more stages, like athena | apollo");
	free_tokens(&lx);
	if (r != 0)
		ac_cmd_free(cmd);
	return r;
}

/* Parses one command line into cmd (see parse.h). */
int
ac_cmd_parse(const char *line, struct ac_cmd *cmd,
    struct ac_cmd_error *err)
{
	return parse_line(line, 0, cmd, err);
}

/* Parses a line of stages only into cmd (see parse.h). */
int
ac_stages_parse(const char *line, struct ac_cmd *cmd,
    struct ac_cmd_error *err)
{
	return parse_line(line, 1, cmd, err);
}

/* Frees what cmd holds and leaves it empty. */
void
ac_cmd_free(struct ac_cmd *cmd)
{
	size_t	i;

	if (cmd == NULL)
		return;
	free(cmd->input_text);
	free(cmd->input_file);
	free(cmd->output_file);
	if (cmd->stages != NULL) {
		for (i = 0; i < cmd->nstages; i++) {
			free(cmd->stages[i].ai);
			free(cmd->stages[i].instruction);
		}
		free(cmd->stages);
	}
	free(cmd->group);
	memset(cmd, 0, sizeof *cmd);
}
