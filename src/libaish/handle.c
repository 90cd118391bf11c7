/*
 * handle.c: the libaish handle: making and freeing it, the two loop
 * modes, the own-loop service functions, errors and names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include <libwebsockets.h>

#include "aish-private.h"

static const char *const error_text[AISH_E_COUNT] = {
	[AISH_OK] = "success",
	[AISH_E_INVALID] = "invalid argument",
	[AISH_E_NOMEM] = "out of memory",
	[AISH_E_UNREACHABLE] = "the server cannot be reached",
	[AISH_E_UNAUTHORIZED] = "the server wants a valid token",
	[AISH_E_FORBIDDEN] = "the server forbids this",
	[AISH_E_NOT_FOUND] = "no such socket",
	[AISH_E_CONFLICT] = "conflict with the socket's state",
	[AISH_E_TOO_LARGE] = "too large",
	[AISH_E_PROVIDER] = "the AI's provider failed",
	[AISH_E_OVERLOADED] = "the server is overloaded",
	[AISH_E_SERVER] = "the server reported an error",
	[AISH_E_PROTOCOL] = "the server's answer makes no sense",
	[AISH_E_TIMEOUT] = "timed out",
	[AISH_E_CANCELLED] = "cancelled",
	[AISH_E_LWS] = "libwebsockets failed",
};

/* Server error codes and what they mean here. */
static const struct {
	const char	*code;
	aish_error_t	 err;
} code_map[] = {
	{ "bad_json", AISH_E_INVALID },
	{ "bad_request", AISH_E_INVALID },
	{ "bad_name", AISH_E_INVALID },
	{ "unauthorized", AISH_E_UNAUTHORIZED },
	{ "forbidden", AISH_E_FORBIDDEN },
	{ "not_found", AISH_E_NOT_FOUND },
	{ "unknown_socket", AISH_E_NOT_FOUND },
	{ "conflict", AISH_E_CONFLICT },
	{ "socket_not_active", AISH_E_CONFLICT },
	{ "too_large", AISH_E_TOO_LARGE },
	{ "provider_error", AISH_E_PROVIDER },
	{ "cancelled", AISH_E_CANCELLED },
	{ "overloaded", AISH_E_OVERLOADED },
	{ "unreachable", AISH_E_UNREACHABLE },
	{ "closed", AISH_E_CANCELLED },
	{ "timeout", AISH_E_TIMEOUT },
};

/* A sentence describing err. */
const char *
aish_strerror(aish_error_t err)
{
	if ((int)err < 0 || err >= AISH_E_COUNT)
		return "unknown error";
	return error_text[err];
}

/* The error code for a server error code string. */
aish_error_t
aish_error_from_code(const char *code)
{
	size_t	i;

	if (code == NULL)
		return AISH_E_INVALID;
	for (i = 0; i < sizeof code_map / sizeof code_map[0]; i++) {
		if (strcmp(code_map[i].code, code) == 0)
			return code_map[i].err;
	}
	return AISH_E_SERVER;
}

/* The error code for an HTTP status. */
aish_error_t
aishi_error_from_status(long status)
{
	if (status >= 200 && status < 300)
		return AISH_OK;
	switch (status) {
	case 0:
		return AISH_E_UNREACHABLE;
	case 400:
		return AISH_E_INVALID;
	case 401:
		return AISH_E_UNAUTHORIZED;
	case 403:
		return AISH_E_FORBIDDEN;
	case 404:
		return AISH_E_NOT_FOUND;
	case 408:
	case 504:
		return AISH_E_TIMEOUT;
	case 409:
		return AISH_E_CONFLICT;
	case 413:
		return AISH_E_TOO_LARGE;
	case 502:
		return AISH_E_PROVIDER;
	case 503:
		return AISH_E_OVERLOADED;
	default:
		return AISH_E_SERVER;
	}
}

/* True when s is a valid name: [A-Za-z0-9._-]{1,64}, not "." or "..". */
int
aish_valid_name(const char *s)
{
	size_t	n;

	if (s == NULL || *s == '\0')
		return 0;
	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-");
	if (s[n] != '\0' || n > AISH_NAME_MAX)
		return 0;
	return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* True when id is a valid write id: [A-Za-z0-9._:-]{1,128}. */
int
aishi_id_valid(const char *id)
{
	size_t	n;

	if (id == NULL || *id == '\0')
		return 0;
	n = strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:-");
	return id[n] == '\0' && n < AISH_ID_SIZE;
}

/* Makes a write id unique to this handle and, by its random prefix,
 * to every other handle. */
void
aishi_make_id(struct aish *h, char *out)
{
	snprintf(out, AISH_ID_SIZE, "%s-%llu", h->id_prefix,
	    (unsigned long long)++h->id_counter);
}

/* Fills the random prefix of write ids. */
static void
make_id_prefix(struct aish *h)
{
	unsigned char	r[8];
	size_t		i;

	if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
		uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
		    (uint64_t)(uintptr_t)h;
		memcpy(r, &x, sizeof r);
	}
	for (i = 0; i < sizeof r; i++)
		snprintf(h->id_prefix + 2 * i, 3, "%02x", r[i]);
}

/* Splits the server URL into host, port, path prefix and TLS. */
static aish_error_t
parse_url(struct aish *h, const char *url)
{
	char		*copy, *p;
	const char	*prot, *addr, *path;
	int		 port;
	size_t		 n;

	if ((h->url = strdup(url)) == NULL)
		return AISH_E_NOMEM;
	n = strlen(h->url);
	while (n > 0 && h->url[n - 1] == '/')
		h->url[--n] = '\0';
	if ((copy = strdup(h->url)) == NULL)
		return AISH_E_NOMEM;
	if (lws_parse_uri(copy, &prot, &addr, &port, &path) != 0 ||
	    *addr == '\0' || strlen(addr) >= sizeof h->host ||
	    strlen(path) + 1 >= sizeof h->path_prefix) {
		free(copy);
		return AISH_E_INVALID;
	}
	if (strcmp(prot, "https") == 0 || strcmp(prot, "wss") == 0)
		h->tls = 1;
	else if (strcmp(prot, "http") != 0 && strcmp(prot, "ws") != 0) {
		free(copy);
		return AISH_E_INVALID;
	}
	if (strstr(h->url, "://") == NULL) {
		free(copy);
		return AISH_E_INVALID;
	}
	strcpy(h->host, addr);
	h->port = port;
	h->path_prefix[0] = '\0';
	if (*path != '\0') {
		/* lws_parse_uri drops the leading slash. */
		p = h->path_prefix;
		*p++ = '/';
		strcpy(p, path);
	}
	free(copy);
	return AISH_OK;
}

/* Builds the reconnect back-off table: min doubling up to max. */
static void
make_retry_table(struct aish *h, unsigned min_ms, unsigned max_ms)
{
	unsigned	i, ms = min_ms ? min_ms : 100;
	unsigned	max = max_ms ? max_ms : 5000;

	if (max < ms)
		max = ms;
	for (i = 0; i < AISHI_RETRY_STEPS; i++) {
		h->retry_table[i] = ms;
		if (ms >= max)
			break;
		ms = ms * 2 > max ? max : ms * 2;
	}
	memset(&h->retry, 0, sizeof h->retry);
	h->retry.retry_ms_table = h->retry_table;
	h->retry.retry_ms_table_count = (uint16_t)(i < AISHI_RETRY_STEPS ?
	    i + 1 : AISHI_RETRY_STEPS);
	h->retry.conceal_count = LWS_RETRY_CONCEAL_ALWAYS;
	h->retry.jitter_percent = 30;
}

/* Makes the handle's own context, with no vhost of its own. */
static aish_error_t
make_context(struct aish *h)
{
	struct lws_context_creation_info	info;

	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	if (h->tls)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.gid = -1;
	info.uid = -1;
	if ((h->ctx = lws_create_context(&info)) == NULL)
		return AISH_E_LWS;
	h->own_ctx = 1;
	return AISH_OK;
}

/* Adds libaish's vhost (its protocol, its user pointer) to the context. */
static aish_error_t
make_vhost(struct aish *h)
{
	struct lws_context_creation_info	info;

	memset(&info, 0, sizeof info);
	snprintf(h->vhost_name, sizeof h->vhost_name, "aish-%p", (void *)h);
	info.vhost_name = h->vhost_name;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = aishi_protocols;
	info.user = h;
	info.gid = -1;
	info.uid = -1;
	if (h->tls)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if ((h->vhost = lws_create_vhost(h->ctx, &info)) == NULL)
		return AISH_E_LWS;
	return AISH_OK;
}

/* Copies the options into a new handle. */
static aish_error_t
handle_setup(struct aish *h, const aish_options_t *o)
{
	aish_error_t	err;

	if ((err = parse_url(h, o->url ? o->url : "http://127.0.0.1:8300"))
	    != AISH_OK)
		return err;
	if (o->token != NULL && *o->token != '\0') {
		if (strpbrk(o->token, "\r\n") != NULL)
			return AISH_E_INVALID;
		if ((h->auth = malloc(strlen(o->token) + 8)) == NULL)
			return AISH_E_NOMEM;
		sprintf(h->auth, "Bearer %s", o->token);
	}
	h->on_message = o->on_message;
	h->on_state = o->on_state;
	h->user = o->user;
	h->http_timeout_ms = o->http_timeout_ms > 0 ? o->http_timeout_ms :
	    30000;
	make_retry_table(h, o->retry_min_ms, o->retry_max_ms);
	make_id_prefix(h);
	if (o->context != NULL)
		h->ctx = o->context;
	else if ((err = make_context(h)) != AISH_OK)
		return err;
	return make_vhost(h);
}

/* Makes a handle. */
aish_error_t
aish_new(const aish_options_t *opts, aish_t **out)
{
	aish_options_t	 none;
	struct aish	*h;
	aish_error_t	 err;

	if (out == NULL)
		return AISH_E_INVALID;
	*out = NULL;
	if (opts == NULL) {
		memset(&none, 0, sizeof none);
		opts = &none;
	}
	if ((h = calloc(1, sizeof *h)) == NULL)
		return AISH_E_NOMEM;
	if ((err = handle_setup(h, opts)) != AISH_OK) {
		aish_free(h);
		return err;
	}
	*out = h;
	return AISH_OK;
}

/* Frees the handle; see aish.h. */
void
aish_free(aish_t *h)
{
	if (h == NULL || h->freeing)
		return;
	h->freeing = 1;
	if (h->ctx != NULL)
		lws_sul_cancel(&h->tick_sul);
	aishi_http_free_all(h);
	aishi_conn_free_all(h);
	if (h->own_ctx && h->ctx != NULL)
		lws_context_destroy(h->ctx);
	else if (h->vhost != NULL)
		lws_vhost_destroy(h->vhost);
	free(h->seen);
	free(h->streamed);
	free(h->url);
	free(h->auth);
	free(h);
}

/* The handle's libwebsockets context. */
struct lws_context *
aish_context(aish_t *h)
{
	return h ? h->ctx : NULL;
}

/* The server URL. */
const char *
aish_url(aish_t *h)
{
	return h ? h->url : NULL;
}

/* Timer that only ends a wait in lws_service(). */
static void
tick(lws_sorted_usec_list_t *sul)
{
	(void)sul;
}

/* Runs the own loop for at most timeout_ms. */
aish_error_t
aish_service(aish_t *h, int timeout_ms)
{
	if (h == NULL || !h->own_ctx || timeout_ms < 0)
		return AISH_E_INVALID;
	if (timeout_ms == 0) {
		if (lws_service(h->ctx, -1) < 0)
			return AISH_E_LWS;
		return AISH_OK;
	}
	lws_sul_schedule(h->ctx, 0, &h->tick_sul, tick,
	    (lws_usec_t)timeout_ms * LWS_US_PER_MS);
	if (lws_service(h->ctx, 0) < 0) {
		lws_sul_cancel(&h->tick_sul);
		return AISH_E_LWS;
	}
	lws_sul_cancel(&h->tick_sul);
	return AISH_OK;
}

/* Runs the own loop until *done or the timeout. */
aish_error_t
aish_run_until(aish_t *h, const volatile int *done, int timeout_ms)
{
	lws_usec_t	end, now;
	aish_error_t	err;
	int		step;

	if (h == NULL || done == NULL || !h->own_ctx)
		return AISH_E_INVALID;
	end = lws_now_usecs() + (lws_usec_t)timeout_ms * LWS_US_PER_MS;
	while (!*done) {
		step = 1000;
		if (timeout_ms >= 0) {
			now = lws_now_usecs();
			if (now >= end)
				return AISH_E_TIMEOUT;
			if ((end - now) / LWS_US_PER_MS + 1 < step)
				step = (int)((end - now) / LWS_US_PER_MS) + 1;
		}
		if ((err = aish_service(h, step)) != AISH_OK)
			return err;
	}
	return AISH_OK;
}
