/*
 * methods-session.c: the session methods: initialize, shutdown, exit,
 * and the two ways to cancel ($/cancelRequest, aish/cancel).
 *
 * initialize reports whether aish-rhetor answers: the bridge asks
 * GET /health once at start-up, and an initialize that comes before the
 * answer waits for it (a few milliseconds on a loopback server).  An
 * initialize whose params hold a "capabilities" object comes from an LSP
 * client: it starts the LSP face (lsp-session.c) and gets LSP's answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "lsp.h"
#include "xalloc.h"

/* initialize requests waiting for the start-up health check. */
static struct {
	struct req	*r;
	int		 lsp;	/* an LSP client's */
} waiting[BRIDGE_MAX_INFLIGHT];
static size_t		 n_waiting;
static int		 probe_done;

/* Answers an initialize (LSP's answer to an LSP client). */
static void
initialize_answer(struct req *r, int lsp)
{
	cJSON	*res, *info, *caps, *rh;

	if (lsp) {
		br.initialized = 1;
		req_result(r, lsp_initialize_result());
		return;
	}
	res = cJSON_CreateObject();

	info = cJSON_AddObjectToObject(res, "server_info");
	cJSON_AddStringToObject(info, "name", "aish-bridge");
	cJSON_AddStringToObject(info, "version", AISH_VERSION);
	caps = cJSON_AddObjectToObject(res, "capabilities");
	cJSON_AddItemToObject(caps, "methods", rpc_method_names());
	cJSON_AddBoolToObject(caps, "streaming", 1);
	cJSON_AddStringToObject(caps, "framing",
	    br.framing == FRAMING_NDJSON ? "ndjson" : "lsp");
	rh = cJSON_AddObjectToObject(res, "rhetor");
	cJSON_AddStringToObject(rh, "url", aish_url(br.aish));
	cJSON_AddBoolToObject(rh, "connected", br.connected == 1);
	br.initialized = 1;
	req_result(r, res);
}

/* The start-up health check answered. */
static void
probe_done_cb(aish_t *h, const aish_result_t *res, void *user)
{
	size_t	i;

	probe_done = 1;
	if (br.connected != 1)
		br.connected = res->err == AISH_OK;
	logmsg("aish-rhetor at %s: %s", aish_url(h), res->err == AISH_OK ?
	    "up" : res->message);
	for (i = 0; i < n_waiting; i++) {
		if (req_release(waiting[i].r))
			initialize_answer(waiting[i].r, waiting[i].lsp);
	}
	n_waiting = 0;
}

/* Starts the health check (main calls it once). */
void
session_probe(void)
{
	if (aish_health(br.aish, probe_done_cb, NULL) != AISH_OK)
		probe_done = 1;
}

/* initialize {"client_info"?}, or an LSP client's {"capabilities",...} */
static void
m_initialize(struct req *r, const cJSON *params)
{
	int	lsp = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(params,
		    "capabilities"));

	if (br.shut_down) {
		req_error(r, RPC_INVALID_REQUEST, "the bridge is shut down",
		    NULL);
		return;
	}
	if (lsp && !lsp_initialize(r, params))
		return;
	/* Requests that follow at once are served; only the answer waits. */
	br.initialized = 1;
	if (probe_done || n_waiting == BRIDGE_MAX_INFLIGHT) {
		initialize_answer(r, lsp);
		return;
	}
	req_hold(r);
	waiting[n_waiting].r = r;
	waiting[n_waiting++].lsp = lsp;
}

/* shutdown: answers null; only exit is served afterwards. */
static void
m_shutdown(struct req *r, const cJSON *params)
{
	br.shut_down = 1;
	req_result(r, cJSON_CreateNull());
}

/* exit: ends the process (status 0 after shutdown, else 1, as in LSP). */
static void
m_exit(struct req *r, const cJSON *params)
{
	req_result(r, cJSON_CreateNull());
	br.exit_code = br.shut_down ? 0 : 1;
	br.quit = 1;
}

/* $/cancelRequest {"id"}: that request answers -32800. */
static void
m_cancel_request(struct req *r, const cJSON *params)
{
	const cJSON	*id = cJSON_GetObjectItemCaseSensitive(params, "id");

	if (!cJSON_IsString(id) && !cJSON_IsNumber(id)) {
		req_error(r, RPC_INVALID_PARAMS, "param \"id\" must be a "
		    "string or a number", NULL);
		return;
	}
	cJSON_Delete(req_cancel_matching(id));
	req_result(r, cJSON_CreateNull());
}

/* aish/cancel {"id"?}: cancels one request or every one. */
static void
m_cancel(struct req *r, const cJSON *params)
{
	const cJSON	*id = cJSON_GetObjectItemCaseSensitive(params, "id");
	cJSON		*res;

	if (id != NULL && !cJSON_IsNull(id) && !cJSON_IsString(id) &&
	    !cJSON_IsNumber(id)) {
		req_error(r, RPC_INVALID_PARAMS, "param \"id\" must be a "
		    "string or a number", NULL);
		return;
	}
	res = cJSON_CreateObject();
	cJSON_AddItemToObject(res, "cancelled",
	    req_cancel_matching(cJSON_IsNull(id) ? NULL : id));
	req_result(r, res);
}

const struct method methods_session[] = {
	{ "initialize", m_initialize, 1 },
	{ "shutdown", m_shutdown, 1 },
	{ "exit", m_exit, 1 },
	{ "$/cancelRequest", m_cancel_request, 1 },
	{ "aish/cancel", m_cancel, 0 },
	{ NULL, NULL, 0 }
};
