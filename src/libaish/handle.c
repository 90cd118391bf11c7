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

#include <aish/protocol.h>

#include "aish-private.h"
#include "names.h"

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
	{ AISH_ERR_BAD_JSON, AISH_E_INVALID },
	{ AISH_ERR_BAD_REQUEST, AISH_E_INVALID },
	{ AISH_ERR_BAD_NAME, AISH_E_INVALID },
	{ AISH_ERR_UNAUTHORIZED, AISH_E_UNAUTHORIZED },
	{ AISH_ERR_FORBIDDEN, AISH_E_FORBIDDEN },
	{ AISH_ERR_NOT_FOUND, AISH_E_NOT_FOUND },
	{ AISH_ERR_UNKNOWN_SOCKET, AISH_E_NOT_FOUND },
	{ AISH_ERR_CONFLICT, AISH_E_CONFLICT },
	{ AISH_ERR_NOT_ACTIVE, AISH_E_CONFLICT },
	{ AISH_ERR_TOO_LARGE, AISH_E_TOO_LARGE },
	{ AISH_ERR_PROVIDER, AISH_E_PROVIDER },
	{ AISH_ERR_PROVIDER_TIMEOUT, AISH_E_TIMEOUT },
	{ AISH_ERR_CANCELLED, AISH_E_CANCELLED },
	{ AISH_ERR_OVERLOADED, AISH_E_OVERLOADED },
	{ AISH_ERR_UNREACHABLE, AISH_E_UNREACHABLE },
	{ AISH_ERR_CLOSED, AISH_E_CANCELLED },
	{ AISH_ERR_TIMEOUT, AISH_E_TIMEOUT },
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

/* The Host header for node n (see aish-private.h): the server's
 * browser guard wants its port named. */
void
aishi_host_header(const struct aishi_node *n, char *buf, size_t len)
{
	if ((n->port == 80 && !n->tls) || (n->port == 443 && n->tls))
		snprintf(buf, len, "%s", n->host);
	else
		snprintf(buf, len, "%s:%d", n->host, n->port);
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
	return ac_name_valid(s);
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

/* Splits one server URL (len bytes of url) into node n: its URL without
 * a trailing slash, host, port, path prefix and TLS. */
static aish_error_t
parse_url(struct aishi_node *n, const char *url, size_t len)
{
	char		*copy, *p;
	const char	*prot, *addr, *path;
	int		 port;

	while (len > 0 && url[len - 1] == '/')
		len--;
	if ((n->url = strndup(url, len)) == NULL ||
	    (copy = strdup(n->url)) == NULL)
		return AISH_E_NOMEM;
	if (lws_parse_uri(copy, &prot, &addr, &port, &path) != 0 ||
	    *addr == '\0' || strlen(addr) >= sizeof n->host ||
	    strlen(path) + 1 >= sizeof n->path_prefix) {
		free(copy);
		return AISH_E_INVALID;
	}
	if (strcmp(prot, "https") == 0 || strcmp(prot, "wss") == 0)
		n->tls = 1;
	else if (strcmp(prot, "http") != 0 && strcmp(prot, "ws") != 0) {
		free(copy);
		return AISH_E_INVALID;
	}
	/* user:password@ is never taken for a host (the server wants a
	 * bearer token, aish_options_t.token). */
	if ((p = strstr(n->url, "://")) == NULL ||
	    memchr(p, '@', strcspn(p + 3, "/?#") + 3) != NULL) {
		free(copy);
		return AISH_E_INVALID;
	}
	strcpy(n->host, addr);
	n->port = port;
	n->path_prefix[0] = '\0';
	if (*path != '\0') {
		/* lws_parse_uri drops the leading slash. */
		p = n->path_prefix;
		*p++ = '/';
		strcpy(p, path);
	}
	free(copy);
	return AISH_OK;
}

/* Splits the comma-separated list of server URLs into the handle's
 * nodes (blanks around each are skipped; an empty one is an error) and
 * joins them again, normalised, into h->url. */
static aish_error_t
parse_urls(struct aish *h, const char *list)
{
	const char	*at = list, *end;
	size_t		 len, total = 0, i;
	aish_error_t	 err;

	if ((h->nodes = calloc(AISH_MAX_URLS, sizeof *h->nodes)) == NULL)
		return AISH_E_NOMEM;
	for (;;) {
		at += strspn(at, " \t");
		end = at + strcspn(at, ",");
		len = (size_t)(end - at);
		while (len > 0 && (at[len - 1] == ' ' || at[len - 1] == '\t'))
			len--;
		if (len == 0 || h->n_nodes == AISH_MAX_URLS)
			return AISH_E_INVALID;
		err = parse_url(&h->nodes[h->n_nodes++], at, len);
		if (err != AISH_OK)
			return err;
		if (h->nodes[h->n_nodes - 1].tls)
			h->tls = 1;
		total += strlen(h->nodes[h->n_nodes - 1].url) + 1;
		if (*end == '\0')
			break;
		at = end + 1;
	}
	if ((h->url = malloc(total)) == NULL)
		return AISH_E_NOMEM;
	h->url[0] = '\0';
	for (i = 0; i < h->n_nodes; i++) {
		if (i > 0)
			strcat(h->url, ",");
		strcat(h->url, h->nodes[i].url);
	}
	return AISH_OK;
}

/* Moves to the next node when node, the one in use, failed. */
void
aishi_node_failed(struct aish *h, size_t node)
{
	if (node == h->node && h->n_nodes > 1)
		h->node = (h->node + 1) % h->n_nodes;
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
	info.pt_serv_buf_size = AISH_CLIENT_SERV_BUF;
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

	if ((err = parse_urls(h, o->url ? o->url : "http://127.0.0.1:8300"))
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
	size_t	i;

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
	for (i = 0; h->nodes != NULL && i < h->n_nodes; i++)
		free(h->nodes[i].url);
	free(h->nodes);
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

/* The server URL (or every node's, joined by commas). */
const char *
aish_url(aish_t *h)
{
	return h ? h->url : NULL;
}

/* The URL of the node in use now. */
const char *
aish_node_url(aish_t *h)
{
	return h && h->n_nodes > 0 ? h->nodes[h->node].url : NULL;
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
