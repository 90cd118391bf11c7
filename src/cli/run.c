/*
 * run.c: runs one parsed command (a pipeline or a team chat) on the
 * command line's libaish handle.
 *
 * One write is in flight at a time: a pipeline writes to its first AI,
 * waits for the final reply and writes that to the next AI; a team chat
 * writes once to team-chat-all (or team-chat-<group>) and waits for every
 * member named in the ack.  A stage with an instruction writes the
 * instruction, a blank line and its input (compose.h).  Every name is
 * checked before the first write, so a typo anywhere runs nothing.
 * Messages come through run_on_message() into the struct cli_run of the
 * command in flight; --timeout-ms counts from the last of them (the ack,
 * a delta, a member's reply), so a reply that keeps streaming is never
 * cut.  Writes are part of each AI's conversation, as a process keeps
 * its state, unless --fresh makes them one-shot.
 *
 * Streaming survives a server restart: libaish re-sends the write, and the
 * server may run it again from the start, so deltas of a new attempt are
 * printed only where they go beyond what was already shown.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <aish/protocol.h>
#include "buf.h"
#include "compose.h"
#include "suggest.h"
#include "xalloc.h"
#include "parse.h"
#include "cli.h"
#include "io.h"
#include "run.h"
#include "sockets.h"

/* The command in flight. */
struct cli_run {
	struct cli		*c;
	const struct sock_list	*socks;
	const char		*socket_id;	/* where the write went */
	char			 id[AISH_ID_SIZE];
	int			 finished;
	int			 failed;
	int			 conn_failed;	/* an attempt to connect failed
						 * since the write was queued */
	long long		 progress_ms;	/* when the last message came */
	char			*error;		/* why it failed */
	char			*error_code;

	/* A pipeline stage. */
	char			*label;		/* NULL: no label */
	FILE			*stream;	/* where deltas go, or NULL */
	int			 midline;	/* stream's line is open */
	struct ac_buf		 shown;		/* what stream got so far */
	struct ac_buf		 attempt;	/* this attempt's deltas */
	struct ac_buf		 final;		/* the read's content */

	/* A team chat (libaish tells when it is finished). */
	int			 team;
	int			 acked;
	char			**members;	/* to name the silent ones */
	size_t			 n_members;
	char			**answered;	/* each reply shown once */
	size_t			 n_answered;
	int			 member_failed;
	FILE			*raw;		/* raw replies, or NULL */
};

/* ------------------------------------------------------------------ */
/* Streaming a pipeline stage                                          */
/* ------------------------------------------------------------------ */

/* Writes bytes to the stage's stream, the label first. */
static void
stream_out(struct cli_run *r, const char *data, size_t len)
{
	if (r->stream == NULL || len == 0)
		return;
	if (r->shown.len == 0 && r->label != NULL)
		fprintf(r->stream, "%s ", r->label);
	fwrite(data, 1, len, r->stream);
	fflush(r->stream);
	ac_buf_add(&r->shown, data, len);
	r->midline = data[len - 1] != '\n';
}

/* Shows what text (the whole reply so far) adds to what was shown. */
static void
stream_catch_up(struct cli_run *r, const char *text, size_t len)
{
	if (len >= r->shown.len && (r->shown.len == 0 ||
	    memcmp(text, r->shown.data, r->shown.len) == 0)) {
		stream_out(r, text + r->shown.len, len - r->shown.len);
		return;
	}
	if (len < r->shown.len && memcmp(text, r->shown.data, len) == 0)
		return;		/* a new attempt repeating shown text */
	/* The new attempt says something else: show it whole, again. */
	if (r->stream != NULL && r->midline)
		fputc('\n', r->stream);
	r->shown.len = 0;
	stream_out(r, text, len);
}

/* Ends the stage's stream with a newline. */
static void
stream_end(struct cli_run *r)
{
	if (r->stream != NULL && r->shown.len == 0 && r->label != NULL)
		fprintf(r->stream, "%s ", r->label);
	if (r->stream != NULL && (r->midline || r->shown.len == 0))
		fputc('\n', r->stream);
	if (r->stream != NULL)
		fflush(r->stream);
	r->midline = 0;
}

/* Records why the command failed. */
static void
run_fail(struct cli_run *r, const char *code, const char *message)
{
	r->failed = 1;
	free(r->error);
	free(r->error_code);
	r->error = xstrdup(message ? message : "failed");
	r->error_code = xstrdup(code ? code : "error");
}

/* A message about a pipeline stage's write. */
static void
stage_message(struct cli_run *r, const aish_msg_t *m)
{
	switch (m->type) {
	case AISH_MSG_DELTA:
		ac_buf_add(&r->attempt, m->content ? m->content : "",
		    m->content_len);
		stream_catch_up(r, r->attempt.data, r->attempt.len);
		break;
	case AISH_MSG_READ:
		if (r->label != NULL && m->ai_name != NULL) {
			free(r->label);
			r->label = sockets_label(r->socks, m->socket_id,
			    m->ai_name);
		}
		ac_buf_set(&r->final, m->content ? m->content : "",
		    m->content_len);
		stream_catch_up(r, r->final.data, r->final.len);
		stream_end(r);
		r->finished = 1;
		break;
	case AISH_MSG_ERROR:
		if (r->midline && r->stream != NULL) {
			fputc('\n', r->stream);
			r->midline = 0;
		}
		run_fail(r, m->code, m->message);
		r->finished = 1;
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Team chat                                                           */
/* ------------------------------------------------------------------ */

/* True when socket_id is in list. */
static int
in_list(char **list, size_t n, const char *socket_id)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(list[i], socket_id) == 0)
			return 1;
	}
	return 0;
}

/* Remembers the members the ack names. */
static void
team_ack(struct cli_run *r, const aish_msg_t *m)
{
	size_t	i;

	if (r->acked)
		return;
	r->acked = 1;
	r->members = xcalloc(m->n_members + 1, sizeof *r->members);
	for (i = 0; i < m->n_members; i++)
		r->members[i] = xstrdup(m->members[i]);
	r->n_members = m->n_members;
}

/* Prints one member's reply: labelled on stdout, raw where -o or > goes. */
static void
team_reply(struct cli_run *r, const aish_msg_t *m)
{
	const char	*text = m->content ? m->content : "";
	char		*label;

	if (!r->c->raw) {
		label = sockets_label(r->socks, m->socket_id, m->ai_name);
		printf("%s ", label);
		io_put_line(stdout, text, m->content_len);
		free(label);
	}
	if (r->raw != NULL)
		io_put_line(r->raw, text, m->content_len);
}

/* A message about the team chat's write. */
static void
team_message(struct cli_run *r, const aish_msg_t *m)
{
	int	from_member = m->socket_id != NULL &&
	    strcmp(m->socket_id, r->socket_id) != 0;

	if (m->type == AISH_MSG_ACK) {
		team_ack(r, m);
	} else if ((m->type == AISH_MSG_READ || m->type == AISH_MSG_ERROR) &&
	    from_member) {
		if (in_list(r->answered, r->n_answered, m->socket_id))
			return;
		r->answered = xrealloc(r->answered, (r->n_answered + 1) *
		    sizeof *r->answered);
		r->answered[r->n_answered++] = xstrdup(m->socket_id);
		if (m->type == AISH_MSG_READ)
			team_reply(r, m);
		else {
			cli_error("%s failed: %s", m->socket_id,
			    m->message ? m->message : "error");
			r->member_failed = 1;
		}
	} else if (m->type == AISH_MSG_ERROR) {
		/* About the team socket itself: the whole chat failed. */
		run_fail(r, m->code, m->message);
		r->finished = 1;
		return;
	}
	if (m->finished)	/* every member of the ack answered */
		r->finished = 1;
}

/* ------------------------------------------------------------------ */
/* libaish callbacks                                                   */
/* ------------------------------------------------------------------ */

/* Every incoming message: handed to the command in flight. */
void
run_on_message(aish_t *h, const aish_msg_t *m, void *user)
{
	struct cli	*c = user;
	struct cli_run	*r = c->run;

	/* A user's turn (this write's own, or another client's) is no
	 * reply: the command line shows the replies. */
	if (r == NULL || r->finished || m->in_reply_to == NULL ||
	    m->type == AISH_MSG_TURN || strcmp(m->in_reply_to, r->id) != 0)
		return;
	r->progress_ms = cli_now_ms();
	if (r->team)
		team_message(r, m);
	else
		stage_message(r, m);
}

/* A connection changed state: a lost one starts a new attempt. */
void
run_on_state(aish_t *h, const char *socket_id, aish_conn_state_t state,
    unsigned failures, int64_t down_ms, void *user)
{
	struct cli	*c = user;
	struct cli_run	*r = c->run;

	if (state == AISH_CONN_UP)
		cli_note_node(c);
	if (r == NULL || r->socket_id == NULL || state == AISH_CONN_UP ||
	    strcmp(socket_id, r->socket_id) != 0)
		return;
	r->attempt.len = 0;
	if (state == AISH_CONN_RETRYING)
		r->conn_failed = 1;
}

/* ------------------------------------------------------------------ */
/* Waiting for a write                                                 */
/* ------------------------------------------------------------------ */

/* Asks the server to stop the write and waits (bounded) for it to say
 * so; a write still kept after that is dropped. */
static void
cancel_write(struct cli_run *r)
{
	struct cli	*c = r->c;
	long long	 deadline = cli_now_ms() + CLI_CANCEL_WAIT_MS;

	if (aish_cancel(c->h, r->socket_id, r->id) == AISH_OK) {
		while (!r->finished && cli_now_ms() < deadline)
			aish_service(c->h, 50);
	}
	if (!r->finished)
		aish_close(c->h, r->socket_id);
	r->finished = 1;
}

/* Says Ctrl-C cancelled the command. */
static int
interrupted(struct cli_run *r)
{
	cli_interrupted = 0;
	if (r->midline && r->stream != NULL)
		fputc('\n', r->stream);
	fflush(stdout);
	cancel_write(r);
	/* A terminal has echoed the ^C already. */
	fprintf(stderr, "%s cancelled\n", isatty(STDIN_FILENO) ? "" : "^C");
	return CLI_INTERRUPTED;
}

/* Runs the loop until the write in r is finished; returns a status, -1
 * when nothing came for timeout_ms (0: no limit). */
static int
wait_write(struct cli_run *r, long timeout_ms)
{
	struct cli	*c = r->c;
	int64_t		 down_ms = 0;
	int		 rc;

	r->progress_ms = cli_now_ms();
	while (!r->finished) {
		if (cli_interrupted)
			return interrupted(r);
		if (timeout_ms > 0 &&
		    cli_now_ms() - r->progress_ms >= timeout_ms) {
			cancel_write(r);
			return -1;
		}
		/* A write that never left: the server cannot have it. */
		if (r->conn_failed && !aish_write_sent(c->h, r->socket_id,
		    r->id)) {
			aish_cancel(c->h, r->socket_id, r->id);
			cli_error("cannot reach aish-rhetor at %s: the "
			    "connection failed (is it running?)", c->url);
			return CLI_UNREACHABLE;
		}
		if (aish_socket_state(c->h, r->socket_id, NULL, &down_ms) !=
		    AISH_CONN_UP && down_ms > CLI_DOWN_LIMIT_MS) {
			aish_close(c->h, r->socket_id);
			cli_error("lost aish-rhetor at %s for %d s", c->url,
			    CLI_DOWN_LIMIT_MS / 1000);
			return CLI_UNREACHABLE;
		}
		if ((rc = cli_service(c, 100)) != CLI_OK)
			return rc;
	}
	return CLI_OK;
}

/* Frees what r holds. */
static void
run_clear(struct cli_run *r)
{
	size_t	i;

	if (r->c != NULL && r->c->run == r)
		r->c->run = NULL;
	free(r->error);
	free(r->error_code);
	free(r->label);
	ac_buf_free(&r->shown);
	ac_buf_free(&r->attempt);
	ac_buf_free(&r->final);
	for (i = 0; i < r->n_members; i++)
		free(r->members[i]);
	free(r->members);
	for (i = 0; i < r->n_answered; i++)
		free(r->answered[i]);
	free(r->answered);
	memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ */
/* Pipelines                                                           */
/* ------------------------------------------------------------------ */

/* Runs one stage: writes its instruction and input to its AI and waits
 * for the reply, which lands in r->final.  last: the pipeline's last
 * stage. */
static int
run_stage(struct cli *c, struct cli_run *r, const struct ac_stage *st,
    const char *input, size_t len, const char *mime, int last, FILE *file)
{
	const char	*socket_id = st->ai;
	char		*text = NULL;
	aish_error_t	 err;
	int		 rc;

	r->c = c;
	r->socket_id = socket_id;
	if (!c->raw)
		r->label = sockets_label(r->socks, socket_id, NULL);
	r->stream = c->raw ? (last && file == NULL ? stdout : NULL) : stdout;
	/* Before the write: a failed attempt may be told inside it. */
	c->run = r;
	if (mime != NULL)
		err = aish_write_stream(c->h, socket_id, mime, input, len,
		    NULL, r->id);
	else {
		if (st->instruction != NULL) {
			text = ac_compose(NULL, 0, st->instruction, input,
			    len, &len);
			input = text;
		}
		err = aish_write_flags(c->h, socket_id, input, len,
		    c->fresh ? AISH_WRITE_FRESH : 0, NULL, r->id);
		free(text);
	}
	if (err != AISH_OK) {
		c->run = NULL;
		cli_error("cannot write to %s: %s", socket_id,
		    aish_strerror(err));
		return CLI_FAIL;
	}
	rc = wait_write(r, c->timeout_ms);
	c->run = NULL;
	if (rc == -1) {
		cli_error("%s was silent for %ld ms: no reply", socket_id,
		    c->timeout_ms);
		return CLI_FAIL;
	}
	if (rc == CLI_OK && r->failed) {
		cli_error("%s failed: %s (%s)", socket_id, r->error,
		    r->error_code);
		rc = strcmp(r->error_code, AISH_ERR_UNAUTHORIZED) == 0 ?
		    CLI_UNREACHABLE : CLI_FAIL;
	}
	return rc;
}

/* Runs the stages in turn; the last reply goes to file when given.  A
 * binary input goes to the first stage as a stream of type mime. */
static int
run_pipeline(struct cli *c, const struct ac_cmd *cmd,
    const struct sock_list *socks, char *input, size_t len,
    const char *mime, FILE *file)
{
	struct cli_run	r;
	size_t		i;
	int		rc = CLI_OK;

	for (i = 0; i < cmd->nstages && rc == CLI_OK; i++) {
		memset(&r, 0, sizeof r);
		r.socks = socks;
		rc = run_stage(c, &r, &cmd->stages[i], input, len,
		    i == 0 ? mime : NULL, i + 1 == cmd->nstages, file);
		free(input);
		input = NULL;
		if (rc == CLI_OK) {
			len = r.final.len;
			input = xstrndup(r.final.data ? r.final.data : "",
			    len);
		}
		run_clear(&r);
	}
	if (rc == CLI_OK && file != NULL && io_put_line(file, input, len))
		rc = CLI_FAIL;
	free(input);
	return rc;
}

/* Says `unknown KIND "NAME" (did you mean ...?)` in one line, the
 * nearest of the names of that kind suggested. */
static void
say_unknown(const struct sock_list *socks, int groups, const char *name)
{
	/* With "aish: " before it, the line stays within the limit. */
	char		  text[AC_UNKNOWN_MESSAGE_MAX + 1 - 6];
	const char	**names;
	size_t		  n;

	names = sockets_names(socks, groups, &n);
	ac_unknown_message(text, sizeof text, groups ? "group" : "AI", name,
	    ac_nearest_name(name, names, n), groups ?
	    "aish -l shows the groups" : "aish -l lists the AIs");
	free(names);
	cli_error("%s", text);
}

/* Checks every name the command uses before anything runs: its stages'
 * AIs, its team-chat group; CLI_OK when all are known. */
static int
check_names(const struct ac_cmd *cmd, const struct sock_list *socks)
{
	char	team[AISH_MAX_NAME + 16];
	size_t	i;

	for (i = 0; i < cmd->nstages; i++) {
		if (!sockets_is_stage(socks, cmd->stages[i].ai)) {
			say_unknown(socks, 0, cmd->stages[i].ai);
			return CLI_FAIL;
		}
	}
	if (cmd->group == NULL || strcmp(cmd->group, "all") == 0)
		return CLI_OK;
	snprintf(team, sizeof team, "%s%s", AISH_TEAM_CHAT_PREFIX, cmd->group);
	if (sockets_find(socks, team) == NULL) {
		say_unknown(socks, 1, cmd->group);
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* ------------------------------------------------------------------ */
/* Team chat                                                           */
/* ------------------------------------------------------------------ */

/* Names the members that did not answer. */
static void
say_missing(const struct cli_run *r, long timeout_ms)
{
	size_t	i;

	fprintf(stderr, "aish: nothing came for %ld ms; no reply from:",
	    timeout_ms);
	for (i = 0; i < r->n_members; i++) {
		if (!in_list(r->answered, r->n_answered, r->members[i]))
			fprintf(stderr, " %s", r->members[i]);
	}
	fputc('\n', stderr);
}

/* Writes the message to the team and prints the replies. */
static int
run_team_chat(struct cli *c, const struct ac_cmd *cmd,
    const struct sock_list *socks, const char *message, FILE *file)
{
	struct cli_run	 r;
	char		 team[AISH_MAX_NAME + 16];
	long		 timeout_ms = c->timeout_ms > 0 ? c->timeout_ms :
	    CLI_TEAM_TIMEOUT_MS;
	const char	*group = cmd->group;
	aish_error_t	 err;
	int		 rc;

	if (group != NULL && strcmp(group, "all") == 0)
		group = NULL;		/* -g all: the whole team */
	if (group != NULL && !aish_valid_name(group)) {
		cli_error("bad group name '%s'", group);
		return CLI_USAGE;
	}
	snprintf(team, sizeof team, "%s%s", AISH_TEAM_CHAT_PREFIX,
	    group ? group : "all");
	memset(&r, 0, sizeof r);
	r.c = c;
	r.socks = socks;
	r.team = 1;
	r.socket_id = team;
	r.raw = file != NULL ? file : (c->raw ? stdout : NULL);
	c->run = &r;
	if ((err = aish_team_chat_flags(c->h, message, group,
	    (cmd->synthesize ? AISH_TEAM_SYNTHESIS : 0) |
	    (c->fresh ? AISH_TEAM_FRESH : 0), r.id)) != AISH_OK) {
		c->run = NULL;
		cli_error("cannot start the team chat: %s", aish_strerror(err));
		return CLI_FAIL;
	}
	rc = wait_write(&r, timeout_ms);
	c->run = NULL;
	if (rc == -1) {
		say_missing(&r, timeout_ms);
		rc = CLI_FAIL;
	} else if (rc == CLI_OK && r.failed) {
		if (group != NULL && strcmp(r.error_code,
		    AISH_ERR_UNKNOWN_SOCKET) == 0)
			say_unknown(socks, 1, group);	/* deleted meanwhile */
		else
			cli_error("team chat failed: %s (%s)", r.error,
			    r.error_code);
		rc = CLI_FAIL;
	} else if (rc == CLI_OK && r.n_members == 0) {
		cli_error("no AI is in the team");
		rc = CLI_FAIL;
	} else if (rc == CLI_OK && r.member_failed)
		rc = CLI_FAIL;
	run_clear(&r);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

/* The command's input: its echo text, its < file, or stdin.  binary
 * (may be NULL: text only) tells whether it is not text.  A first stage
 * with an instruction needs no input: it reads stdin only when that is
 * no terminal, else its AI gets the instruction alone. */
static char *
command_input(const struct ac_cmd *cmd, int stdin_ok, size_t *len,
    int *binary)
{
	const char	*first = cmd->nstages ? cmd->stages[0].ai : "team-chat";

	if (binary != NULL)
		*binary = 0;
	if (cmd->input_text != NULL) {
		*len = strlen(cmd->input_text);
		return xstrdup(cmd->input_text);
	}
	if (cmd->input_file == NULL && cmd->nstages > 0 &&
	    cmd->stages[0].instruction != NULL &&
	    (!stdin_ok || isatty(STDIN_FILENO))) {
		*len = 0;
		return xstrdup("");
	}
	if (cmd->input_file == NULL && !stdin_ok) {
		cli_error("no input: give one with echo \"text\" | %s, or "
		    "%s < FILE", first, first);
		return NULL;
	}
	return io_read_input(cmd->input_file, len, binary);
}

/* Opens the command's output file (truncated for >, as in sh). */
static int
open_output(const struct ac_cmd *cmd, FILE **file)
{
	*file = NULL;
	if (cmd->output_file == NULL)
		return CLI_OK;
	if ((*file = fopen(cmd->output_file, cmd->append ? "a" : "w")) ==
	    NULL) {
		cli_error("%s: %s", cmd->output_file, strerror(errno));
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* Runs one parsed command. */
int
run_command(struct cli *c, const struct ac_cmd *cmd, int stdin_ok)
{
	struct sock_list	 socks;
	FILE			*file = NULL;
	char			*input = NULL;
	size_t			 len = 0;
	int			 rc, binary = 0;

	if (cmd->kind == AC_CMD_EMPTY)
		return CLI_OK;
	if ((rc = sockets_fetch(c, &socks)) != CLI_OK)
		return rc;
	if ((rc = check_names(cmd, &socks)) != CLI_OK)
		goto out;
	if ((input = command_input(cmd, stdin_ok, &len,
	    cmd->kind == AC_CMD_PIPELINE ? &binary : NULL)) == NULL) {
		if (cli_interrupted) {
			cli_interrupted = 0;
			rc = CLI_INTERRUPTED;
		} else if (cmd->input_file == NULL && !stdin_ok)
			rc = CLI_USAGE;
		else
			rc = CLI_FAIL;
		goto out;
	}
	if (binary && cmd->stages[0].instruction != NULL) {
		cli_error("%s: an instruction goes with text, and this input "
		    "is %s", cmd->stages[0].ai, io_guess_mime(input, len));
		rc = CLI_USAGE;
		goto out;
	}
	if ((rc = open_output(cmd, &file)) != CLI_OK)
		goto out;
	if (cmd->kind == AC_CMD_TEAM_CHAT)
		rc = run_team_chat(c, cmd, &socks, input, file);
	else {
		rc = run_pipeline(c, cmd, &socks, input, len, binary ?
		    io_guess_mime(input, len) : NULL, file);
		input = NULL;
	}
	if (file != NULL && fclose(file) != 0 && rc == CLI_OK) {
		cli_error("%s: %s", cmd->output_file, strerror(errno));
		rc = CLI_FAIL;
	}
out:
	free(input);
	sockets_free(&socks);
	return rc;
}

/* Parses and runs one line. */
int
run_line(struct cli *c, const char *line, const char *where, int stdin_ok)
{
	struct ac_cmd		cmd;
	struct ac_cmd_error	err;
	int			rc;

	if (ac_cmd_parse(line, &cmd, &err) == -1) {
		io_parse_error(where, line, err.column, err.message);
		return CLI_USAGE;
	}
	rc = run_command(c, &cmd, stdin_ok);
	ac_cmd_free(&cmd);
	return rc;
}
