/*
 * lsp-session.c: the LSP face: its method table, and the initialize of
 * an LSP client (one whose params hold a "capabilities" object), whose
 * answer is LSP's: serverInfo, and capabilities with incremental
 * textDocumentSync, codeActionProvider and executeCommandProvider.
 *
 * The face serves LSP's methods first, then every method of aish's own
 * protocol, so an LSP client may also call aish/send and the rest in the
 * same session.  What the client can do (progress, applyEdit,
 * showDocument, versioned edits, UTF-8 positions) is kept here: the
 * bridge sends a request to the client only when the client said it
 * takes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsp.h"

struct lsp_client	lsp_client;

static const struct method *const lsp_tables[] = {
	methods_lsp_session, methods_lsp_docs, methods_lsp_actions,
	methods_lsp_run, methods_session, methods_socket, methods_send, NULL
};

/* The LSP face: LSP's methods, then aish's; requests to the client. */
const struct face face_lsp = {
	.name = "lsp",
	.tables = lsp_tables,
	.aish_notifications = 1,
	.client_requests = 1,
};

/* Whether the client offered a position encoding, and which we chose. */
static int	offered_encodings;

/* The member at path (names, NULL-terminated) under o, or NULL. */
static const cJSON *
dig(const cJSON *o, const char *const *path)
{
	for (; *path != NULL && o != NULL; path++)
		o = cJSON_GetObjectItemCaseSensitive(o, *path);
	return o;
}

/* True when the member at path under caps is true. */
static int
cap_true(const cJSON *caps, const char *const *path)
{
	return cJSON_IsTrue(dig(caps, path));
}

/* Reads what the client can do from its capabilities. */
static void
read_capabilities(const cJSON *caps)
{
	static const char *const progress[] = { "window", "workDoneProgress",
		NULL };
	static const char *const apply[] = { "workspace", "applyEdit", NULL };
	static const char *const changes[] = { "workspace", "workspaceEdit",
		"documentChanges", NULL };
	static const char *const show[] = { "window", "showDocument",
		"support", NULL };
	static const char *const literals[] = { "textDocument", "codeAction",
		"codeActionLiteralSupport", NULL };
	static const char *const encodings[] = { "general",
		"positionEncodings", NULL };
	const cJSON	*enc, *e;

	memset(&lsp_client, 0, sizeof lsp_client);
	lsp_client.work_done_progress = cap_true(caps, progress);
	lsp_client.apply_edit = cap_true(caps, apply);
	lsp_client.document_changes = cap_true(caps, changes);
	lsp_client.show_document = cap_true(caps, show);
	lsp_client.code_action_literals = cJSON_IsObject(dig(caps, literals));
	enc = dig(caps, encodings);
	offered_encodings = cJSON_IsArray(enc);
	cJSON_ArrayForEach(e, enc) {
		if (cJSON_IsString(e) && strcmp(e->valuestring, "utf-8") == 0)
			lsp_client.utf8 = 1;
	}
}

/* Starts an LSP session with the params of its initialize; 0 after
 * answering an error (bad initializationOptions.actions). */
int
lsp_initialize(struct req *r, const cJSON *params)
{
	const cJSON	*opts = cJSON_GetObjectItemCaseSensitive(params,
			    "initializationOptions");
	const cJSON	*list = cJSON_GetObjectItemCaseSensitive(opts,
			    "actions");
	char		 why[512], text[600];

	if (list != NULL && !cJSON_IsNull(list) &&
	    lsp_actions_set(list, why, sizeof why) != 0) {
		snprintf(text, sizeof text, "initializationOptions.actions: "
		    "%s", why);
		req_error(r, RPC_INVALID_PARAMS, text, NULL);
		return 0;
	}
	read_capabilities(cJSON_GetObjectItemCaseSensitive(params,
	    "capabilities"));
	br.face = &face_lsp;
	logmsg("an LSP client: positions in %s", lsp_client.utf8 ? "UTF-8" :
	    "UTF-16");
	return 1;
}

/* The result of an LSP initialize. */
cJSON *
lsp_initialize_result(void)
{
	cJSON	*res = cJSON_CreateObject(), *caps, *o, *a, *rh;

	caps = cJSON_AddObjectToObject(res, "capabilities");
	if (offered_encodings || lsp_client.utf8)
		cJSON_AddStringToObject(caps, "positionEncoding",
		    lsp_client.utf8 ? "utf-8" : "utf-16");
	o = cJSON_AddObjectToObject(caps, "textDocumentSync");
	cJSON_AddBoolToObject(o, "openClose", 1);
	cJSON_AddNumberToObject(o, "change", 2);	/* incremental */
	o = cJSON_AddObjectToObject(caps, "codeActionProvider");
	a = cJSON_AddArrayToObject(o, "codeActionKinds");
	cJSON_AddItemToArray(a, cJSON_CreateString("refactor.rewrite"));
	cJSON_AddItemToArray(a, cJSON_CreateString("refactor.ask"));
	o = cJSON_AddObjectToObject(caps, "executeCommandProvider");
	a = cJSON_AddArrayToObject(o, "commands");
	cJSON_AddItemToArray(a, cJSON_CreateString(LSP_CMD_REWRITE));
	cJSON_AddItemToArray(a, cJSON_CreateString(LSP_CMD_ASK));
	o = cJSON_AddObjectToObject(cJSON_AddObjectToObject(caps,
	    "experimental"), "aish");
	cJSON_AddItemToObject(o, "methods", rpc_method_names());
	o = cJSON_AddObjectToObject(res, "serverInfo");
	cJSON_AddStringToObject(o, "name", "aish-bridge");
	cJSON_AddStringToObject(o, "version", AISH_VERSION);
	rh = cJSON_AddObjectToObject(res, "rhetor");
	cJSON_AddStringToObject(rh, "url", aish_url(br.aish));
	cJSON_AddBoolToObject(rh, "connected", br.connected == 1);
	return res;
}

/* Shows message to the user (window/showMessage, a notification). */
void
lsp_show_message(int type, const char *message)
{
	cJSON	*p = cJSON_CreateObject();

	cJSON_AddNumberToObject(p, "type", type);
	cJSON_AddStringToObject(p, "message", message);
	client_notify("window/showMessage", p);
}

/* initialized: nothing to do. */
static void
m_initialized(struct req *r, const cJSON *params)
{
	req_result(r, NULL);
}

const struct method methods_lsp_session[] = {
	{ "initialized", m_initialized, 0 },
	{ NULL, NULL, 0 }
};
