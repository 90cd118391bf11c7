/*
 * lsp-actions.c: the actions an LSP client is offered on a range, and
 * textDocument/codeAction.
 *
 * The list comes from initializationOptions.actions, else from the file
 * of `aish-bridge --actions FILE`, each [{"title","pipeline","kind"}]
 * with kind "rewrite" (the answer replaces the range) or "ask" (the
 * answer opens apart).  A pipeline is a line of the command language that
 * takes its input from the range: stages (`athena review this | apollo`)
 * or a team chat (`team-chat -g reviewers what do you think`, whose words
 * come before the text); a team chat rewrites only with --synthesize
 * (the synthesis replaces the range).  Without a list, every roster AI
 * of the server (its socket list through the core's aish/list) gives
 * "aish: ask NAME" and "aish: rewrite with NAME", and "aish: team chat"
 * comes last.
 *
 * Each action carries its command (aish.rewrite or aish.ask) with one
 * argument {"uri","range","pipeline","title"}: lsp-run.c needs nothing
 * else.  An empty range stands for its whole line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aish/protocol.h>
#include "json-parse.h"
#include "lsp.h"
#include "parse.h"
#include "xalloc.h"

#define ACTIONS_FILE_MAX	(1024 * 1024)

/* One configured action. */
struct action {
	char		*title;
	char		*pipeline;
	enum lsp_kind	 kind;
};

static struct action	*actions;
static size_t		 n_actions;
static int		 configured;	/* a list was given */

/* Frees the configured list. */
static void
actions_free(struct action *a, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(a[i].title);
		free(a[i].pipeline);
	}
	free(a);
}

/* Checks that pipeline is one an action can run; 0 with the reason in
 * why when it is not. */
int
lsp_pipeline_ok(const char *pipeline, enum lsp_kind kind, char *why,
    size_t whylen)
{
	struct ac_cmd		cmd;
	struct ac_cmd_error	err;
	int			ok = 0;

	if (ac_cmd_parse(pipeline, &cmd, &err) != 0) {
		snprintf(why, whylen, "column %zu: %s", err.column + 1,
		    err.message);
		return 0;
	}
	if (cmd.kind == AC_CMD_EMPTY)
		snprintf(why, whylen, "the pipeline is empty");
	else if (cmd.input_file != NULL || cmd.output_file != NULL)
		snprintf(why, whylen, "no redirections: the input is the "
		    "range, the output its replacement or a new document");
	else if (cmd.kind == AC_CMD_PIPELINE && cmd.input_text != NULL)
		snprintf(why, whylen, "no echo: the input is the range");
	else if (cmd.kind == AC_CMD_TEAM_CHAT && kind == LSP_REWRITE &&
	    !cmd.synthesize)
		snprintf(why, whylen, "a team chat rewrites only with "
		    "--synthesize (its synthesis replaces the range)");
	else
		ok = 1;
	ac_cmd_free(&cmd);
	return ok;
}

/* Reads one action object into a; 0 with the reason in why. */
static int
action_read(const cJSON *o, struct action *a, char *why, size_t whylen)
{
	const cJSON	*title = cJSON_GetObjectItemCaseSensitive(o, "title");
	const cJSON	*pipe = cJSON_GetObjectItemCaseSensitive(o, "pipeline");
	const cJSON	*kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
	char		 reason[300];

	if (!cJSON_IsObject(o)) {
		snprintf(why, whylen, "an action is an object "
		    "{\"title\",\"pipeline\",\"kind\"}");
		return 0;
	}
	if (!cJSON_IsString(title) || title->valuestring[0] == '\0' ||
	    !cJSON_IsString(pipe)) {
		snprintf(why, whylen, "\"title\" and \"pipeline\" must be "
		    "strings, the title not empty");
		return 0;
	}
	if (!cJSON_IsString(kind) || (strcmp(kind->valuestring, "rewrite") !=
	    0 && strcmp(kind->valuestring, "ask") != 0)) {
		snprintf(why, whylen, "\"kind\" must be \"rewrite\" or "
		    "\"ask\"");
		return 0;
	}
	a->kind = strcmp(kind->valuestring, "rewrite") == 0 ? LSP_REWRITE :
	    LSP_ASK;
	if (!lsp_pipeline_ok(pipe->valuestring, a->kind, reason, sizeof reason)) {
		snprintf(why, whylen, "pipeline \"%.60s\": %s",
		    pipe->valuestring, reason);
		return 0;
	}
	a->title = xstrdup(title->valuestring);
	a->pipeline = xstrdup(pipe->valuestring);
	return 1;
}

/* Takes list ([{"title","pipeline","kind"}]) as the actions; -1 with the
 * reason in why (and the list unchanged) when it is not one. */
int
lsp_actions_set(const cJSON *list, char *why, size_t whylen)
{
	struct action	*a;
	const cJSON	*o;
	size_t		 n = 0;
	char		 reason[400];

	if (!cJSON_IsArray(list)) {
		snprintf(why, whylen, "actions must be an array of "
		    "{\"title\",\"pipeline\",\"kind\"}");
		return -1;
	}
	a = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *a);
	cJSON_ArrayForEach(o, list) {
		if (!action_read(o, &a[n], reason, sizeof reason)) {
			snprintf(why, whylen, "action %zu: %s", n + 1, reason);
			actions_free(a, n);
			return -1;
		}
		n++;
	}
	actions_free(actions, n_actions);
	actions = a;
	n_actions = n;
	configured = 1;
	return 0;
}

/* Reads the actions from the JSON file path; -1 with the reason. */
int
lsp_actions_load(const char *path, char *why, size_t whylen)
{
	FILE	*f;
	char	*buf = xmalloc(ACTIONS_FILE_MAX + 1), reason[450];
	size_t	 n;
	cJSON	*list;
	int	 rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		free(buf);
		return -1;
	}
	n = fread(buf, 1, ACTIONS_FILE_MAX + 1, f);
	fclose(f);
	if (n > ACTIONS_FILE_MAX)
		snprintf(why, whylen, "%s: larger than 1 MiB", path);
	else if ((list = ac_json_parse(buf, n)) == NULL)
		snprintf(why, whylen, "%s: not JSON", path);
	else {
		if ((rc = lsp_actions_set(list, reason, sizeof reason)) != 0)
			snprintf(why, whylen, "%s: %s", path, reason);
		cJSON_Delete(list);
	}
	free(buf);
	return rc;
}

/* ---- textDocument/codeAction ---- */

/* What a codeAction request needs once the actions are known. */
struct offer {
	char	*uri;
	cJSON	*range;		/* the range the actions act on */
	cJSON	*only;		/* context.only, or NULL */
};

/* True when kind is one of the kinds in only (or only is NULL). */
static int
kind_wanted(const cJSON *only, const char *kind)
{
	const cJSON	*o;
	size_t		 n;

	if (!cJSON_IsArray(only))
		return 1;
	cJSON_ArrayForEach(o, only) {
		if (!cJSON_IsString(o))
			continue;
		n = strlen(o->valuestring);
		if (strncmp(kind, o->valuestring, n) == 0 &&
		    (kind[n] == '\0' || kind[n] == '.'))
			return 1;
	}
	return 0;
}

/* Adds one action to out, unless context.only leaves it out. */
static void
offer_one(cJSON *out, const struct offer *of, const char *title,
    const char *pipeline, enum lsp_kind kind)
{
	const char	*akind = kind == LSP_REWRITE ? "refactor.rewrite" :
			    "refactor.ask";
	cJSON		*cmd, *arg, *action;

	if (!kind_wanted(of->only, akind))
		return;
	cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "title", title);
	cJSON_AddStringToObject(cmd, "command", kind == LSP_REWRITE ?
	    LSP_CMD_REWRITE : LSP_CMD_ASK);
	arg = cJSON_CreateObject();
	cJSON_AddStringToObject(arg, "uri", of->uri);
	cJSON_AddItemToObject(arg, "range", cJSON_Duplicate(of->range, 1));
	cJSON_AddStringToObject(arg, "pipeline", pipeline);
	cJSON_AddStringToObject(arg, "title", title);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(cmd, "arguments"), arg);
	if (!lsp_client.code_action_literals) {
		cJSON_AddItemToArray(out, cmd);
		return;
	}
	action = cJSON_CreateObject();
	cJSON_AddStringToObject(action, "title", title);
	cJSON_AddStringToObject(action, "kind", akind);
	cJSON_AddItemToObject(action, "command", cmd);
	cJSON_AddItemToArray(out, action);
}

/* True when a socket of the server's list is a roster AI: its id is its
 * AI's name, and it is neither a team nor the server's own rhetor. */
static int
is_roster(const cJSON *sock)
{
	const char	*id = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(sock, "socket_id"));
	const char	*ai = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(sock, "ai_name"));

	return id != NULL && ai != NULL && strcmp(id, ai) == 0 &&
	    strncmp(id, AISH_TEAM_CHAT_PREFIX,
	    strlen(AISH_TEAM_CHAT_PREFIX)) != 0 &&
	    strcmp(id, AISH_RHETOR_SOCKET) != 0;
}

/* The default actions, from the server's socket list. */
static cJSON *
default_actions(const struct offer *of, const cJSON *list)
{
	cJSON		*out = cJSON_CreateArray();
	const cJSON	*s;
	char		*title;
	const char	*id;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(list,
	    "sockets")) {
		if (!is_roster(s))
			continue;
		id = cJSON_GetObjectItemCaseSensitive(s, "socket_id")->
		    valuestring;
		title = xasprintf("aish: ask %s", id);
		offer_one(out, of, title, id, LSP_ASK);
		free(title);
		title = xasprintf("aish: rewrite with %s", id);
		offer_one(out, of, title, id, LSP_REWRITE);
		free(title);
	}
	offer_one(out, of, "aish: team chat", "team-chat", LSP_ASK);
	return out;
}

/* The configured actions. */
static cJSON *
configured_actions(const struct offer *of)
{
	cJSON	*out = cJSON_CreateArray();
	size_t	 i;

	for (i = 0; i < n_actions; i++)
		offer_one(out, of, actions[i].title, actions[i].pipeline,
		    actions[i].kind);
	return out;
}

/* The title and pipeline of configured action i; 0 past the last (and
 * always when no list was configured).  ACP offers them as targets. */
int
lsp_action_get(size_t i, const char **title, const char **pipeline)
{
	if (!configured || i >= n_actions)
		return 0;
	*title = actions[i].title;
	*pipeline = actions[i].pipeline;
	return 1;
}

/* Frees a codeAction's offer. */
static void
offer_free(struct req *r)
{
	struct offer	*of = r->face_state;

	if (of == NULL)
		return;
	free(of->uri);
	cJSON_Delete(of->range);
	cJSON_Delete(of->only);
	free(of);
}

/* The core's aish/list answered: the default actions. */
static void
listed(struct req *r, cJSON *result)
{
	req_answer(r, default_actions(r->face_state, result));
	cJSON_Delete(result);
}

/* The core's aish/list failed: so does the codeAction. */
static void
list_failed(struct req *r, int code, const char *message, cJSON *data)
{
	req_answer_error(r, code, message, data);
}

static const struct xlat list_xlat = {
	.result = listed,
	.error = list_failed,
	.free_state = offer_free,
};

/* textDocument/codeAction {textDocument:{uri}, range, context:{only?}} */
static void
m_code_action(struct req *r, const cJSON *p)
{
	const cJSON	*td = cJSON_GetObjectItemCaseSensitive(p,
			    "textDocument");
	const cJSON	*uri = cJSON_GetObjectItemCaseSensitive(td, "uri");
	const cJSON	*range = cJSON_GetObjectItemCaseSensitive(p, "range");
	const cJSON	*only = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(p, "context"),
			    "only");
	struct lsp_doc	*d;
	struct offer	*of;
	size_t		 start, end;

	if (!cJSON_IsString(uri)) {
		req_error(r, RPC_INVALID_PARAMS, "textDocument.uri must be a "
		    "string", NULL);
		return;
	}
	if ((d = lsp_doc_find(uri->valuestring)) == NULL) {
		req_result(r, cJSON_CreateArray());	/* nothing to act on */
		return;
	}
	if (lsp_range_offsets(d, range, &start, &end) != 0) {
		req_error(r, RPC_INVALID_PARAMS, "range must be a range "
		    "{start, end} of the document", NULL);
		return;
	}
	of = xcalloc(1, sizeof *of);
	of->uri = xstrdup(uri->valuestring);
	of->range = start < end ? cJSON_Duplicate(range, 1) : lsp_line_range(d,
	    (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(range, "start"), "line")));
	r->face_state = of;
	r->xlat = &list_xlat;
	if (lsp_range_offsets(d, of->range, &start, &end) != 0 ||
	    start == end) {
		req_answer(r, cJSON_CreateArray());	/* an empty line */
		return;
	}
	of->only = cJSON_IsArray(only) ? cJSON_Duplicate(only, 1) : NULL;
	if (configured) {
		req_answer(r, configured_actions(of));
		return;
	}
	(void)core_start(r, "aish/list", NULL, &list_xlat);
}

const struct method methods_lsp_actions[] = {
	{ "textDocument/codeAction", m_code_action, 0 },
	{ NULL, NULL, 0 }
};
