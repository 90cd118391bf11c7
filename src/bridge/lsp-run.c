/*
 * lsp-run.c: workspace/executeCommand, which runs an action on the text
 * of a range through the core (aish/pipeline or aish/teamChat, one-shot),
 * shows its progress and delivers its answer:
 *
 *  1. the command (aish.rewrite, aish.ask) and its argument
 *     {"uri","range","pipeline","title"?} are checked, and the range's
 *     text is read from the open document;
 *  2. progress: the client's workDoneToken, else a token of the bridge's
 *     made with window/workDoneProgress/create (when the client takes
 *     it); $/progress "begin", a "report" per streamed piece (the piece
 *     in "message"), "end".  Pieces that come before the client has made
 *     the token wait for it, and so does the answer;
 *  3. a rewrite replaces the range with workspace/applyEdit (versioned
 *     documentChanges when the client takes them, else changes), but
 *     only when the document is still the version whose text the AI got;
 *     an ask writes the answer to a file under $XDG_STATE_HOME/aish/answers
 *     and opens it with window/showDocument.  A client that takes
 *     neither request gets the answer in window/showMessage;
 *  4. the command answers once that is done: {"applied","output"} or
 *     {"uri","output"}.  An error (a bad argument, an unknown AI, the
 *     AI's failure, the server unreachable) goes to window/showMessage and
 *     is the command's error; a cancel ($/cancelRequest, or the progress'
 *     window/workDoneProgress/cancel) stops the AI on the server and
 *     answers -32800.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "compose.h"
#include "lsp.h"
#include "parse.h"
#include "state-dir.h"
#include "xalloc.h"

/* Where the progress token stands. */
enum token_state {
	TOKEN_NONE,		/* no progress for this client */
	TOKEN_WAIT,		/* window/workDoneProgress/create sent */
	TOKEN_READY
};

/* One executeCommand at work (the request's face_state). */
struct run {
	struct run	*next;
	struct req	*r;
	char		*uri;
	long		 version;	/* the document's, when read */
	cJSON		*range;
	enum lsp_kind	 kind;
	int		 team;		/* a team chat */
	char		*title;
	cJSON		*token;		/* progress token, or NULL */
	enum token_state token_state;
	int		 begun;		/* "begin" sent */
	char		*pending;	/* pieces that wait for the token */
	size_t		 pending_len;
	char		*output;	/* the answer, once it came */
	char		*answer_path;	/* an ask's answer file, and its URI */
	char		*answer_uri;
};

static struct run	*runs;
static unsigned long	 last_token;

/* s, or dflt when s is NULL. */
static const char *
str_or(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

/* The string member name of o, or dflt. */
static const char *
member_str(const cJSON *o, const char *name, const char *dflt)
{
	return str_or(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o,
	    name)), dflt);
}

/* ---- progress ---- */

/* Sends one $/progress value of r's token (consumed). */
static void
progress_send(struct run *run, cJSON *value)
{
	cJSON	*p = cJSON_CreateObject();

	cJSON_AddItemToObject(p, "token", cJSON_Duplicate(run->token, 1));
	cJSON_AddItemToObject(p, "value", value);
	client_notify("$/progress", p);
}

/* A progress value of kind with message (or none). */
static cJSON *
progress_value(const char *kind, const char *message)
{
	cJSON	*v = cJSON_CreateObject();

	cJSON_AddStringToObject(v, "kind", kind);
	if (message != NULL)
		cJSON_AddStringToObject(v, "message", message);
	return v;
}

/* Sends "begin" once the token is ready. */
static void
progress_begin(struct run *run)
{
	cJSON	*v;

	if (run->token_state != TOKEN_READY || run->begun)
		return;
	run->begun = 1;
	v = progress_value("begin", NULL);
	cJSON_AddStringToObject(v, "title", run->title);
	cJSON_AddBoolToObject(v, "cancellable", 1);
	progress_send(run, v);
}

/* Sends "end" with message, when "begin" was sent. */
static void
progress_end(struct run *run, const char *message)
{
	if (!run->begun)
		return;
	run->begun = 0;
	progress_send(run, progress_value("end", message));
}

/* A streamed piece: a "report", or kept until the token is ready. */
static void
run_progress(struct req *r, const struct progress *p)
{
	struct run	*run = r->face_state;
	size_t		 n;

	if (strcmp(p->kind, "delta") != 0 || p->content == NULL)
		return;
	if (run->token_state == TOKEN_READY) {
		progress_begin(run);
		progress_send(run, progress_value("report", p->content));
	} else if (run->token_state == TOKEN_WAIT) {
		n = strlen(p->content);
		run->pending = xrealloc(run->pending, run->pending_len + n + 1);
		memcpy(run->pending + run->pending_len, p->content, n + 1);
		run->pending_len += n;
	}
}

/* ---- ends ---- */

/* Ends r with an error: shown to the user, then the command's answer. */
static void
run_fail(struct req *r, int code, const char *message, cJSON *data)
{
	struct run	*run = r->face_state;
	char		*text = xasprintf("aish: %s", message);

	if (run != NULL)
		progress_end(run, message);
	lsp_show_message(LSP_MSG_ERROR, text);
	free(text);
	req_answer_error(r, code, message, data);
}

/* The answer with the output (and what else is set). */
static cJSON *
answer_with(const struct run *run)
{
	cJSON	*res = cJSON_CreateObject();

	cJSON_AddStringToObject(res, "output", run->output);
	return res;
}

/* A client that takes neither applyEdit nor showDocument: the answer is
 * shown as a message. */
static void
show_answer(struct req *r, const char *note)
{
	struct run	*run = r->face_state;
	char		*text = xasprintf("%s%s%s", run->output, note ? "\n\n" :
			    "", note ? note : "");
	cJSON		*res = answer_with(run);

	lsp_show_message(LSP_MSG_INFO, text);
	free(text);
	if (run->kind == LSP_REWRITE)
		cJSON_AddBoolToObject(res, "applied", 0);
	req_answer(r, res);
}

/* ---- rewrite: workspace/applyEdit ---- */

/* The client answered the applyEdit. */
static void
edit_answered(void *ctx, const cJSON *result, const cJSON *error)
{
	struct req	*r = ctx;
	struct run	*run;
	const cJSON	*reason;
	char		*text;
	cJSON		*res;

	if (!req_release_answer(r))
		return;
	run = r->face_state;
	if (error != NULL || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    result, "applied"))) {
		reason = cJSON_GetObjectItemCaseSensitive(error != NULL ?
		    error : result, error != NULL ? "message" :
		    "failureReason");
		text = xasprintf("the editor did not apply the edit%s%s",
		    cJSON_IsString(reason) ? ": " : "",
		    cJSON_IsString(reason) ? reason->valuestring : "");
		res = cJSON_CreateObject();
		cJSON_AddStringToObject(res, "output", run->output);
		run_fail(r, LSP_REQUEST_FAILED, text, res);
		free(text);
		return;
	}
	res = answer_with(run);
	cJSON_AddBoolToObject(res, "applied", 1);
	req_answer(r, res);
}

/* The WorkspaceEdit that puts the output in place of the range. */
static cJSON *
make_edit(const struct run *run)
{
	cJSON	*edit = cJSON_CreateObject(), *edits, *e, *dc, *td;

	edits = cJSON_CreateArray();
	e = cJSON_CreateObject();
	cJSON_AddItemToObject(e, "range", cJSON_Duplicate(run->range, 1));
	cJSON_AddStringToObject(e, "newText", run->output);
	cJSON_AddItemToArray(edits, e);
	if (lsp_client.document_changes) {
		dc = cJSON_CreateObject();
		td = cJSON_AddObjectToObject(dc, "textDocument");
		cJSON_AddStringToObject(td, "uri", run->uri);
		cJSON_AddNumberToObject(td, "version", (double)run->version);
		cJSON_AddItemToObject(dc, "edits", edits);
		cJSON_AddItemToArray(cJSON_AddArrayToObject(edit,
		    "documentChanges"), dc);
	} else
		cJSON_AddItemToObject(cJSON_AddObjectToObject(edit, "changes"),
		    run->uri, edits);
	return edit;
}

/* Replaces the range with the output. */
static void
rewrite(struct req *r)
{
	struct run	*run = r->face_state;
	struct lsp_doc	*d = lsp_doc_find(run->uri);
	cJSON		*p, *data;

	if (d == NULL || d->version != run->version) {
		data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "output", run->output);
		run_fail(r, LSP_REQUEST_FAILED, d == NULL ? "the document was "
		    "closed while the AI worked: nothing was changed" :
		    "the document changed while the AI worked: nothing was "
		    "changed", data);
		return;
	}
	if (!lsp_client.apply_edit) {
		show_answer(r, "(this editor takes no edits from the server)");
		return;
	}
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "label", run->title);
	cJSON_AddItemToObject(p, "edit", make_edit(run));
	req_hold(r);
	if (client_call("workspace/applyEdit", p, edit_answered, r) != 0) {
		req_release_answer(r);
		show_answer(r, NULL);
	}
}

/* ---- ask: a file and window/showDocument ---- */

/* The directory answers are written to: $XDG_STATE_HOME/aish/answers,
 * else ~/.local/state/aish/answers, else one in /tmp. */
static const char *
answers_dir(void)
{
	static char	*dir;

	if (dir == NULL && (dir = ac_state_path("answers")) == NULL)
		dir = xasprintf("/tmp/aish-answers-%ld", (long)getuid());
	return dir;
}

/* Writes text to a new answer file; its path (caller frees), or NULL
 * with the reason in why. */
static char *
write_answer(const char *text, char *why, size_t whylen)
{
	static unsigned	 n;
	const char	*dir = answers_dir();
	char		 stamp[32], *path;
	time_t		 now = time(NULL);
	FILE		*f;
	size_t		 len = strlen(text);

	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
	path = xasprintf("%s/answer-%s-%ld-%u.md", dir, stamp,
	    (long)getpid(), ++n);
	if (ac_mkdir_p(dir) != 0 || (f = fopen(path, "w")) == NULL) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		free(path);
		return NULL;
	}
	if (fwrite(text, 1, len, f) != len ||
	    (len > 0 && text[len - 1] != '\n' && fputc('\n', f) == EOF) ||
	    fclose(f) != 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	return path;
}

/* The file: URI of an absolute path. */
static char *
file_uri(const char *path)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*uri = xmalloc(7 + 3 * strlen(path) + 1), *o;
	const unsigned char	*p;

	o = uri + sprintf(uri, "file://");
	for (p = (const unsigned char *)path; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/-._~", *p) != NULL)
			*o++ = (char)*p;
		else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return uri;
}

/* What the answer of an ask says: the output and the file's URI. */
static cJSON *
ask_answer(struct req *r, const char *uri)
{
	cJSON	*res = answer_with(r->face_state);

	cJSON_AddStringToObject(res, "uri", uri);
	return res;
}

/* The client answered the showDocument. */
static void
shown(void *ctx, const cJSON *result, const cJSON *error)
{
	struct req	*r = ctx;
	struct run	*run;
	char		*note;

	if (!req_release_answer(r))
		return;
	run = r->face_state;
	if (error != NULL || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    result, "success"))) {
		note = xasprintf("(saved in %s)", run->answer_path);
		show_answer(r, note);
		free(note);
		return;
	}
	req_answer(r, ask_answer(r, run->answer_uri));
}

/* Opens the answer: a file, shown with window/showDocument. */
static void
ask(struct req *r)
{
	struct run	*run = r->face_state;
	char		 why[300], *path, *note;
	cJSON		*p;

	if ((path = write_answer(run->output, why, sizeof why)) == NULL) {
		note = xasprintf("(not saved: %s)", why);
		show_answer(r, note);
		free(note);
		return;
	}
	run->answer_path = path;
	run->answer_uri = file_uri(path);
	if (!lsp_client.show_document) {
		note = xasprintf("(saved in %s)", path);
		show_answer(r, note);
		free(note);
		return;
	}
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "uri", run->answer_uri);
	cJSON_AddBoolToObject(p, "takeFocus", 1);
	req_hold(r);
	if (client_call("window/showDocument", p, shown, r) != 0) {
		req_release_answer(r);
		req_answer(r, ask_answer(r, run->answer_uri));
	}
}

/* ---- the core's answer ---- */

/* The output is here and the token settled: end the progress and
 * deliver. */
static void
deliver_output(struct req *r)
{
	struct run	*run = r->face_state;

	progress_begin(run);
	progress_end(run, "done");
	if (run->kind == LSP_REWRITE)
		rewrite(r);
	else
		ask(r);
}

/* The text of a team chat's answer: the synthesis for a rewrite, else
 * each member's reply under its name, then the synthesis. */
static char *
team_text(const struct run *run, const cJSON *res)
{
	const cJSON	*syn = cJSON_GetObjectItemCaseSensitive(res,
			    "synthesis"), *o;
	char		*out = xstrdup(""), *next;
	const char	*err;

	if (run->kind == LSP_REWRITE && syn != NULL)
		return xstrdup(member_str(syn, "content", ""));
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(res,
	    "responses")) {
		err = member_str(o, "error", NULL);
		next = xasprintf("%s%s## %s\n\n%s%s\n", out, out[0] ? "\n" :
		    "", member_str(o, "ai", "?"), err ? "(failed) " : "",
		    err ? err : member_str(o, "content", ""));
		free(out);
		out = next;
	}
	if (syn != NULL) {
		next = xasprintf("%s\n## synthesis\n\n%s\n", out,
		    member_str(syn, "content", ""));
		free(out);
		out = next;
	}
	return out;
}

/* The core answered: the output, delivered once the token is settled. */
static void
run_result(struct req *r, cJSON *result)
{
	struct run	*run = r->face_state;

	run->output = run->team ? team_text(run, result) :
	    xstrdup(member_str(result, "output", ""));
	cJSON_Delete(result);
	if (run->token_state != TOKEN_WAIT)
		deliver_output(r);
}

/* The core failed (or was cancelled). */
static void
run_error(struct req *r, int code, const char *message, cJSON *data)
{
	struct run	*run = r->face_state;

	if (code == RPC_CANCELLED) {
		progress_end(run, "cancelled");
		req_answer_error(r, code, message, data);
		return;
	}
	run_fail(r, code, message, data);
}

/* Frees a run. */
static void
run_free(struct req *r)
{
	struct run	*run = r->face_state, **pp;

	if (run == NULL)
		return;
	for (pp = &runs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == run) {
			*pp = run->next;
			break;
		}
	}
	free(run->uri);
	cJSON_Delete(run->range);
	free(run->title);
	cJSON_Delete(run->token);
	free(run->pending);
	free(run->output);
	free(run->answer_path);
	free(run->answer_uri);
	free(run);
}

static const struct xlat run_xlat = {
	.result = run_result,
	.error = run_error,
	.progress = run_progress,
	.free_state = run_free,
};

/* The client made (or refused) the progress token. */
static void
token_made(void *ctx, const cJSON *result, const cJSON *error)
{
	struct req	*r = ctx;
	struct run	*run;

	if (!req_release_answer(r))
		return;
	run = r->face_state;
	run->token_state = error == NULL ? TOKEN_READY : TOKEN_NONE;
	progress_begin(run);
	if (run->pending_len > 0 && run->token_state == TOKEN_READY)
		progress_send(run, progress_value("report", run->pending));
	free(run->pending);
	run->pending = NULL;
	run->pending_len = 0;
	if (run->output != NULL)
		deliver_output(r);
}

/* Settles where progress goes: the client's token, a new one, or none. */
static void
start_progress(struct req *r, const cJSON *params)
{
	struct run	*run = r->face_state;
	const cJSON	*t = cJSON_GetObjectItemCaseSensitive(params,
			    "workDoneToken");
	char		 id[40];
	cJSON		*p;

	if (cJSON_IsString(t) || cJSON_IsNumber(t)) {
		run->token = cJSON_Duplicate(t, 1);
		run->token_state = TOKEN_READY;
		progress_begin(run);
		return;
	}
	if (!lsp_client.work_done_progress)
		return;
	snprintf(id, sizeof id, "aish-progress-%lu", ++last_token);
	run->token = cJSON_CreateString(id);
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "token", id);
	req_hold(r);
	if (client_call("window/workDoneProgress/create", p, token_made, r) ==
	    0)
		run->token_state = TOKEN_WAIT;
	else
		req_release_answer(r);
}

/* ---- workspace/executeCommand ---- */

/* The core method and its params for the action's pipeline on text;
 * NULL after answering an error. */
static cJSON *
core_params(struct req *r, struct run *run, const char *pipeline,
    const char *text, size_t len)
{
	char		 why[400], *msg;

	if (!lsp_pipeline_ok(pipeline, run->kind, why, sizeof why)) {
		msg = xasprintf("pipeline \"%.60s\": %s", pipeline, why);
		run_fail(r, RPC_INVALID_PARAMS, msg, NULL);
		free(msg);
		return NULL;
	}
	return command_params(pipeline, text, len, &run->team);
}

/* Reads the command's argument into a new run; NULL after an error. */
static struct run *
run_new(struct req *r, const cJSON *params, const struct lsp_doc **doc,
    const char **pipeline)
{
	const cJSON	*cmd = cJSON_GetObjectItemCaseSensitive(params,
			    "command");
	const cJSON	*arg = cJSON_GetArrayItem(
			    cJSON_GetObjectItemCaseSensitive(params,
			    "arguments"), 0);
	const cJSON	*uri = cJSON_GetObjectItemCaseSensitive(arg, "uri");
	const cJSON	*pipe = cJSON_GetObjectItemCaseSensitive(arg,
			    "pipeline");
	const cJSON	*title = cJSON_GetObjectItemCaseSensitive(arg, "title");
	struct run	*run;
	char		*msg;

	if (!cJSON_IsString(cmd) || (strcmp(cmd->valuestring,
	    LSP_CMD_REWRITE) != 0 && strcmp(cmd->valuestring, LSP_CMD_ASK) !=
	    0)) {
		msg = xasprintf("unknown command \"%.60s\" (the commands are "
		    LSP_CMD_REWRITE " and " LSP_CMD_ASK ")",
		    cJSON_IsString(cmd) ? cmd->valuestring : "");
		run_fail(r, RPC_INVALID_PARAMS, msg, NULL);
		free(msg);
		return NULL;
	}
	if (!cJSON_IsString(uri) || !cJSON_IsString(pipe) ||
	    (title != NULL && !cJSON_IsString(title))) {
		run_fail(r, RPC_INVALID_PARAMS, "the argument must be "
		    "{\"uri\",\"range\",\"pipeline\",\"title\"?}", NULL);
		return NULL;
	}
	if ((*doc = lsp_doc_find(uri->valuestring)) == NULL) {
		msg = xasprintf("the document is not open: %.200s",
		    uri->valuestring);
		run_fail(r, RPC_INVALID_PARAMS, msg, NULL);
		free(msg);
		return NULL;
	}
	run = xcalloc(1, sizeof *run);
	run->r = r;
	run->uri = xstrdup(uri->valuestring);
	run->version = (*doc)->version;
	run->range = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(arg,
	    "range"), 1);
	run->kind = strcmp(cmd->valuestring, LSP_CMD_REWRITE) == 0 ?
	    LSP_REWRITE : LSP_ASK;
	run->title = title != NULL ? xstrdup(title->valuestring) :
	    xasprintf("aish: %s", pipe->valuestring);
	*pipeline = pipe->valuestring;
	return run;
}

/* workspace/executeCommand {command, arguments:[{uri, range, pipeline,
 * title?}], workDoneToken?} */
static void
m_execute(struct req *r, const cJSON *params)
{
	const struct lsp_doc	*d;
	struct run		*run;
	const char		*pipeline;
	size_t			 start, end;
	cJSON			*p;

	if ((run = run_new(r, params, &d, &pipeline)) == NULL)
		return;
	r->face_state = run;
	r->xlat = &run_xlat;
	run->next = runs;
	runs = run;
	if (lsp_range_offsets(d, run->range, &start, &end) != 0) {
		run_fail(r, RPC_INVALID_PARAMS, "range must be a range "
		    "{start, end} of the document", NULL);
		return;
	}
	if (start == end) {
		run_fail(r, RPC_INVALID_PARAMS, "the range is empty", NULL);
		return;
	}
	if ((p = core_params(r, run, pipeline, d->text + start, end - start))
	    == NULL)
		return;
	start_progress(r, params);
	/* Last: the core may answer (and free r) before it returns. */
	(void)core_start(r, run->team ? "aish/teamChat" : "aish/pipeline", p,
	    &run_xlat);
	cJSON_Delete(p);
}

/* window/workDoneProgress/cancel {token}: the user cancelled a run. */
static void
m_progress_cancel(struct req *r, const cJSON *params)
{
	const cJSON	*t = cJSON_GetObjectItemCaseSensitive(params, "token");
	struct run	*run;

	for (run = runs; run != NULL; run = run->next) {
		if (run->token != NULL && t != NULL &&
		    cJSON_Compare(run->token, t, 1) && run->r->id != NULL) {
			cJSON_Delete(req_cancel_matching(run->r->id));
			break;
		}
	}
	req_result(r, NULL);
}

const struct method methods_lsp_run[] = {
	{ "workspace/executeCommand", m_execute, 0 },
	{ "window/workDoneProgress/cancel", m_progress_cancel, 0 },
	{ NULL, NULL, 0 }
};
