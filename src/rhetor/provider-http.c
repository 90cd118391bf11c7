/*
 * provider-http.c: the machinery the HTTP providers share (see
 * provider-http.h).
 *
 * Everything here runs on the loop thread: the worker thread only moves
 * bytes, and hw_dispatch() brings them back here.  A call ends exactly
 * once, through settle(): the end marker of the stream, an error in it,
 * an HTTP error status, a transport failure, the silence timer
 * (timeout_ms since the request or its last byte), the reply's own timer
 * (max_ms), or stop().  Both timers run on the loop; any byte of the
 * answer, text or not, counts as a sign of life.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "http-worker.h"
#include "names.h"
#include "provider-http.h"
#include "provider-stream.h"
#include "xalloc.h"

/* The most of an error answer's body kept to explain it. */
#define ERROR_BODY_MAX	(64 * 1024)
/* The longest wait for a connection, whatever timeout_ms says. */
#define CONNECT_TIMEOUT_MS	10000

struct ph_call {
	lws_sorted_usec_list_t	 sul;		/* first: see from_sul() */
	lws_sorted_usec_list_t	 max_sul;	/* max_ms, when set */
	struct rh_job		*job;
	const struct rh_provider *prov;
	const struct ph_wire	*wire;
	struct hw		*w;
	struct hw_request	*req;		/* NULL once the worker is done */
	long			 status;
	struct ac_buf		 errbody;	/* body of an error answer */
	struct ac_buf		 text;		/* the reply so far */
	struct ac_buf		 piece;		/* scratch for one delta */
	struct sp_utf8		 utf8;
	struct sp_lines		 lines;
	struct sp_sse		 sse;
	int			 complete;
	char			*failure;	/* why it failed, or NULL */
	const char		*failure_code;	/* NULL: provider_error */
	int			 got_bytes;	/* some of the answer came */
	int			 flag;
};

/* The call a timer belongs to. */
static struct ph_call *
from_sul(lws_sorted_usec_list_t *sul)
{
	return lws_container_of(sul, struct ph_call, sul);
}

/* Frees a call that has no request or timer running any more. */
static void
call_free(struct ph_call *pc)
{
	ac_buf_free(&pc->errbody);
	ac_buf_free(&pc->text);
	ac_buf_free(&pc->piece);
	sp_lines_free(&pc->lines);
	sp_sse_free(&pc->sse);
	free(pc->failure);
	free(pc);
}

/* Stops the request and the timer; no callback about them follows. */
static void
call_quiet(struct ph_call *pc)
{
	lws_sul_cancel(&pc->sul);
	lws_sul_cancel(&pc->max_sul);
	if (pc->req != NULL)
		hw_cancel(pc->w, pc->req);
	pc->req = NULL;
	pc->job->provider_state = NULL;
}

/* Ends the call: the job gets its reply or its error, the call is freed. */
static void
settle(struct ph_call *pc)
{
	struct rh_job	*job = pc->job;

	call_quiet(pc);
	if (pc->failure != NULL && pc->failure_code != NULL)
		rh_provider_timeout(job, pc->prov, "%s", pc->failure);
	else if (pc->failure != NULL)
		rh_provider_fail(job, pc->prov, "%s", pc->failure);
	else {
		ac_buf_reset(&pc->piece);
		sp_utf8_finish(&pc->utf8, &pc->piece);
		if (pc->piece.len > 0)
			ph_emit(pc, pc->piece.data, pc->piece.len);
		rh_job_done(job, pc->text.data ? pc->text.data : "",
		    pc->text.len);
	}
	call_free(pc);
}

static void on_idle(lws_sorted_usec_list_t *sul);

/* (Re)arms the silence timer: timeout_ms without a byte ends the call. */
static void
arm_idle(struct ph_call *pc)
{
	lws_sul_schedule(rh_job_context(pc->job), 0, &pc->sul, on_idle,
	    (lws_usec_t)pc->prov->timeout_ms * LWS_US_PER_MS);
}

/* Adds text to the reply and streams it. */
void
ph_emit(struct ph_call *pc, const char *text, size_t len)
{
	size_t	start = pc->text.len;

	ac_buf_reset(&pc->piece);
	sp_utf8_feed(&pc->utf8, text, len, &pc->piece);
	if (pc->piece.len == 0)
		return;
	ac_buf_add(&pc->text, pc->piece.data, pc->piece.len);
	rh_job_delta(pc->job, pc->text.data + start, pc->text.len - start);
}

/* The reply is complete. */
int
ph_complete(struct ph_call *pc)
{
	pc->complete = 1;
	return PH_STOP;
}

/* The reply failed. */
int
ph_error(struct ph_call *pc, const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	free(pc->failure);
	pc->failure = xstrdup(buf);
	return PH_STOP;
}

/* A word the provider may keep per call. */
int *
ph_flag(struct ph_call *pc)
{
	return &pc->flag;
}

/* Parses a line or event as JSON, or records that it was malformed. */
cJSON *
ph_parse(struct ph_call *pc, const char *text, size_t len)
{
	cJSON	*obj = cJSON_ParseWithLength(text, len);
	size_t	 show = len > 80 ? 80 : len;

	if (obj != NULL && cJSON_IsObject(obj))
		return obj;
	cJSON_Delete(obj);
	while (show > 0 && !ac_utf8_valid(text, show))
		show--;
	ph_error(pc, "malformed stream: not a JSON object: %.*s%s",
	    (int)show, text, show < len ? "..." : "");
	return NULL;
}

/* sp_lines callback: one NDJSON line. */
static int
call_line(void *ud, const char *line, size_t len)
{
	struct ph_call	*pc = ud;

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len == 0)
		return 0;
	return pc->wire->on_line(pc, line, len);
}

/* sp_sse callback: one event. */
static int
call_event(void *ud, const char *event, const char *data, size_t len)
{
	struct ph_call	*pc = ud;

	return pc->wire->on_event(pc, event, data, len);
}

/* Feeds a piece of a successful answer to the right parser. */
static int
call_feed(struct ph_call *pc, const char *data, size_t len)
{
	int	rc;

	if (pc->wire->on_line != NULL)
		rc = sp_lines_feed(&pc->lines, data, len, call_line, pc);
	else
		rc = sp_sse_feed(&pc->sse, data, len, call_event, pc);
	if (rc < 0)
		return ph_error(pc, "malformed stream: a line longer than "
		    "%u bytes", SP_MAX_LINE);
	return rc;
}

/* The answer's body ended: hands over what the parser still holds. */
static int
call_feed_end(struct ph_call *pc)
{
	if (pc->wire->on_line != NULL)
		return sp_lines_finish(&pc->lines, call_line, pc);
	return sp_sse_finish(&pc->sse, call_event, pc);
}

/* hw callback: a piece of the answer. */
static void
on_data(void *ud, long status, const char *data, size_t len)
{
	struct ph_call	*pc = ud;

	pc->status = status;
	pc->got_bytes = 1;
	arm_idle(pc);
	if (status < 200 || status > 299) {
		if (pc->errbody.len < ERROR_BODY_MAX)
			ac_buf_add(&pc->errbody, data, len);
		return;
	}
	if (call_feed(pc, data, len) == PH_STOP)
		settle(pc);
}

/* The text of an error answer: the provider's own message if its body
 * says one, else the start of the body. */
static void
http_failure(struct ph_call *pc, long status)
{
	cJSON	*obj = NULL;
	char	*text = NULL;
	size_t	 n;

	if (pc->errbody.len > 0) {
		obj = cJSON_ParseWithLength(pc->errbody.data,
		    pc->errbody.len);
		text = ph_error_text(obj);
		cJSON_Delete(obj);
	}
	if (text == NULL && pc->errbody.len > 0) {
		n = pc->errbody.len > 200 ? 200 : pc->errbody.len;
		while (n > 0 && !ac_utf8_valid(pc->errbody.data, n))
			n--;
		text = xstrndup(pc->errbody.data, n);
		text[strcspn(text, "\r\n")] = '\0';
	}
	if (text != NULL && *text != '\0')
		ph_error(pc, "HTTP %ld: %s", status, text);
	else
		ph_error(pc, "HTTP %ld", status);
	free(text);
}

/* hw callback: the request ended. */
static void
on_done(void *ud, long status, const char *error)
{
	struct ph_call	*pc = ud;

	pc->req = NULL;		/* the worker frees it after this call */
	if (status != 0)
		pc->status = status;
	if (pc->status != 0 && (pc->status < 200 || pc->status > 299))
		http_failure(pc, pc->status);
	else if (error != NULL)
		ph_error(pc, "%s", error);
	else if (call_feed_end(pc) != PH_STOP && !pc->complete &&
	    (pc->wire->whole_at_eof == NULL || !pc->wire->whole_at_eof(pc)))
		ph_error(pc, "the stream ended before the reply was complete");
	settle(pc);
}

/* Timer: nothing came for timeout_ms. */
static void
on_idle(lws_sorted_usec_list_t *sul)
{
	struct ph_call	*pc = from_sul(sul);

	if (pc->got_bytes)
		ph_error(pc, "the reply stopped for %d ms (timeout_ms)",
		    pc->prov->timeout_ms);
	else
		ph_error(pc, "no answer for %d ms (timeout_ms)",
		    pc->prov->timeout_ms);
	pc->failure_code = AISH_ERR_PROVIDER_TIMEOUT;
	settle(pc);
}

/* Timer: the reply has taken max_ms. */
static void
on_max(lws_sorted_usec_list_t *sul)
{
	struct ph_call	*pc = lws_container_of(sul, struct ph_call, max_sul);

	ph_error(pc, "the reply took more than %d ms (max_ms)",
	    pc->prov->max_ms);
	pc->failure_code = AISH_ERR_PROVIDER_TIMEOUT;
	settle(pc);
}

/* The headers of a request in hw_opts form, with the key's header (in
 * *auth, allocated, to be wiped) when there is a key. */
static void
request_headers(const struct ph_request *rq, const char *key,
    const char **headers, size_t n, char **auth)
{
	size_t	i = 0, j;

	headers[i++] = "Content-Type: application/json";
	for (j = 0; rq->headers[j] != NULL && i < n - 2; j++)
		headers[i++] = rq->headers[j];
	*auth = NULL;
	if (key != NULL && rq->key_header != NULL) {
		*auth = xasprintf("%s: %s%s", rq->key_header,
		    rq->key_scheme ? rq->key_scheme : "", key);
		headers[i++] = *auth;
	}
	headers[i] = NULL;
}

/* Starts the call (see provider-http.h). */
int
ph_start(struct rh_job *job, struct rh_socket *s, const struct ph_wire *wire,
    struct ph_request *rq, struct rh_err *err)
{
	const struct rh_provider	*p = s->provider;
	const char			*key = rh_provider_key(p);
	const char			*headers[8];
	struct ph_call			*pc = NULL;
	struct hw			*w = rh_providers_worker(job->srv);
	struct hw_opts			 o;
	static const struct hw_callbacks cb = { on_data, on_done };
	char				*url = NULL, *body, *auth = NULL;
	int				 rc = -1;

	body = cJSON_PrintUnformatted(rq->body);
	cJSON_Delete(rq->body);
	rq->body = NULL;
	if (p->api_key_env != NULL && key == NULL) {
		rh_provider_err(err, p, "the environment variable %s that "
		    "should hold the API key is not set", p->api_key_env);
		goto out;
	}
	if (w == NULL) {
		rh_provider_err(err, p, "cannot start the HTTP worker thread");
		goto out;
	}
	url = ph_url(p->url, rq->path);
	request_headers(rq, key, headers, sizeof headers / sizeof *headers,
	    &auth);
	pc = xcalloc(1, sizeof *pc);
	pc->job = job;
	pc->prov = p;
	pc->wire = wire;
	pc->w = w;
	memset(&o, 0, sizeof o);
	o.method = "POST";
	o.url = url;
	o.headers = headers;
	o.body = body;
	o.body_len = strlen(body);
	o.connect_timeout_ms = p->timeout_ms < CONNECT_TIMEOUT_MS ?
	    p->timeout_ms : CONNECT_TIMEOUT_MS;
	/* The worker copies what it sends. */
	if ((pc->req = hw_start(w, &o, &cb, pc)) == NULL) {
		rh_provider_err(err, p, "cannot make the request (bad URL?)");
		free(pc);
		goto out;
	}
	job->provider_state = pc;
	arm_idle(pc);
	if (p->max_ms > 0)
		lws_sul_schedule(rh_job_context(job), 0, &pc->max_sul, on_max,
		    (lws_usec_t)p->max_ms * LWS_US_PER_MS);
	rc = 0;
out:
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(url);
	cJSON_free(body);
	return rc;
}

/* Stops a call. */
void
ph_stop(struct rh_job *job)
{
	struct ph_call	*pc = job->provider_state;

	if (pc == NULL)
		return;
	call_quiet(pc);
	call_free(pc);
}

/* ---- the conversation -------------------------------------------------- */

/* Adds {"role":..., "content":...} to an array. */
static void
add_message(cJSON *arr, const char *role, const char *content)
{
	cJSON	*m = cJSON_CreateObject();

	cJSON_AddItemToArray(arr, m);
	cJSON_AddStringToObject(m, "role", role);
	cJSON_AddStringToObject(m, "content", content);
}

/* Store callback: one turn of the history. */
static void
add_turn(void *ud, const struct rh_turn_row *row)
{
	add_message(ud, row->role, row->content);
}

/* The socket's conversation as a messages array (without the history
 * for a fresh write). */
cJSON *
ph_messages(struct rh_job *job, struct rh_socket *s, int with_system)
{
	cJSON	*arr = cJSON_CreateArray();

	if (with_system && s->prompt != NULL && *s->prompt != '\0')
		add_message(arr, "system", s->prompt);
	if (!job->fresh && rh_store_history_each(job->srv->store, s->id,
	    rh_provider_history_rows(s->provider),
	    rh_provider_history_bytes(s->provider), add_turn, arr) != 0)
		rh_log("cannot read the history of %s: %s", s->id,
		    rh_store_error(job->srv->store));
	add_message(arr, "user", job->content);
	return arr;
}

/* ---- small helpers ----------------------------------------------------- */

/* A string field of obj, or NULL. */
static const char *
string_of(const cJSON *obj, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* The human text of a provider's JSON error: error.message (OpenAI,
 * Anthropic), error as a string (Ollama), message, or detail. */
char *
ph_error_text(const cJSON *obj)
{
	const cJSON	*e = cJSON_GetObjectItemCaseSensitive(obj, "error");
	const char	*msg, *type;

	if (cJSON_IsObject(e) && (msg = string_of(e, "message")) != NULL) {
		type = string_of(e, "type");
		if (type != NULL && strstr(msg, type) == NULL)
			return xasprintf("%s (%s)", msg, type);
		return xstrdup(msg);
	}
	if ((msg = string_of(obj, "error")) != NULL ||
	    (msg = string_of(obj, "message")) != NULL ||
	    (msg = string_of(obj, "detail")) != NULL)
		return xstrdup(msg);
	return NULL;
}

/* The URL of an endpoint under a base URL. */
char *
ph_url(const char *url, const char *path)
{
	const char	*second = strchr(path + 1, '/');
	size_t		 ulen = strlen(url), plen;

	/* "https://host/v1" + "/v1/messages" is "https://host/v1/messages". */
	if (second != NULL) {
		plen = (size_t)(second - path);
		if (ulen >= plen && strncmp(url + ulen - plen, path,
		    plen) == 0)
			return xasprintf("%s%s", url, second);
	}
	return xasprintf("%s%s", url, path);
}
