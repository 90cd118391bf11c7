/*
 * client-calls.c: what the bridge sends its client on its own:
 * notifications, and requests (LSP's workspace/applyEdit, ...) whose
 * answers come back through rpc.c.
 *
 * Requests go only to a client whose face allows them (an LSP session):
 * Vim 9.0 mis-routes a server request whose numeric id equals one of its
 * own, and cannot answer string ids, and it speaks aish's protocol, not
 * LSP.  The ids are strings ("aish-1", "aish-2", ...), which no LSP
 * client confuses with its own numbers.  A call whose answer never comes
 * is ended when the input ends, so that the bridge can still exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "json-build.h"
#include "xalloc.h"

/* A request to the client, waiting for its answer. */
struct call {
	struct call	*next;
	char		 id[32];
	char		*method;
	client_done_fn	 done;
	void		*ctx;
};

static struct call	*calls;
static unsigned long	 last_id;

/* Sends a notification to the client (params consumed). */
void
client_notify(const char *method, cJSON *params)
{
	cJSON	*n = cJSON_CreateObject();

	ac_json_add_ref(n, "jsonrpc", "2.0");
	ac_json_add_ref(n, "method", method);
	ac_json_add_item(n, "params", params);
	framing_write(n);
	cJSON_Delete(n);
}

/* Sends the request method with params (consumed) to the client; done
 * runs with its result or its error, or with an error when the input
 * ends first.  Returns 0, or -1 when this session's client takes no
 * requests (then done never runs). */
int
client_call(const char *method, cJSON *params, client_done_fn done,
    void *ctx)
{
	struct call	*c;
	cJSON		*msg;

	if (!session_face()->client_requests || br.eof) {
		cJSON_Delete(params);
		return -1;
	}
	c = xcalloc(1, sizeof *c);
	snprintf(c->id, sizeof c->id, "aish-%lu", ++last_id);
	c->method = xstrdup(method);
	c->done = done;
	c->ctx = ctx;
	c->next = calls;
	calls = c;
	msg = cJSON_CreateObject();
	ac_json_add_ref(msg, "jsonrpc", "2.0");
	ac_json_add_ref(msg, "id", c->id);
	ac_json_add_ref(msg, "method", method);
	if (params != NULL)
		ac_json_add_item(msg, "params", params);
	framing_write(msg);
	cJSON_Delete(msg);
	return 0;
}

/* Takes the call with that id out of the list; NULL when none. */
static struct call *
call_take(const char *id)
{
	struct call	*c, **pp;

	for (pp = &calls; (c = *pp) != NULL; pp = &c->next) {
		if (strcmp(c->id, id) == 0) {
			*pp = c->next;
			return c;
		}
	}
	return NULL;
}

/* The client answered one of the bridge's requests (rpc.c calls this for
 * every message that is a response). */
void
client_answered(const cJSON *id, const cJSON *result, const cJSON *error)
{
	struct call	*c = NULL;

	if (cJSON_IsString(id))
		c = call_take(id->valuestring);
	if (c == NULL) {
		logmsg("an answer to no request of the bridge: dropped");
		return;
	}
	if (error != NULL)
		logmsg("%s: the client answered an error", c->method);
	c->done(c->ctx, error != NULL ? NULL : result, error);
	free(c->method);
	free(c);
}

/* The input ended: no answer can come; each call ends with an error. */
void
client_calls_end(void)
{
	struct call	*c;
	cJSON		*error;

	while ((c = calls) != NULL) {
		calls = c->next;
		error = cJSON_CreateObject();
		cJSON_AddNumberToObject(error, "code", RPC_INTERNAL_ERROR);
		cJSON_AddStringToObject(error, "message",
		    "the client's input ended");
		c->done(c->ctx, NULL, error);
		cJSON_Delete(error);
		free(c->method);
		free(c);
	}
}
