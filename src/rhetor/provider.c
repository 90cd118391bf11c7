/*
 * provider.c: the provider types, the named instances made from the config,
 * and the HTTP worker thread the HTTP providers share.
 *
 * The worker starts with the first provider request that needs it, so a
 * server whose sockets all run on echo never starts a thread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "delivery.h"
#include "http-worker.h"
#include "provider.h"
#include "xalloc.h"

/* Defaults of an instance's settings. */
#define DEFAULT_TIMEOUT_MS	120000
#define DEFAULT_HISTORY_TURNS	100
#define DEFAULT_HISTORY_BYTES	((int64_t)8 * 1024 * 1024)
/* How long the start-up check for Ollama may take. */
#define PROBE_TIMEOUT_MS	300

static const struct rh_provider_type *const types[] = {
	&rh_type_echo,
	&rh_type_ollama,
	&rh_type_openai,
	&rh_type_anthropic,
	&rh_type_exec,
	NULL
};

static struct rh_provider	*instances;
static char			*default_name;
static char			*names;
static struct hw		*worker;

/* The type of this name, or NULL. */
static const struct rh_provider_type *
type_find(const char *name)
{
	size_t	i;

	for (i = 0; types[i] != NULL; i++) {
		if (strcmp(types[i]->name, name) == 0)
			return types[i];
	}
	return NULL;
}

/* A copy of url without its trailing slashes. */
static char *
url_trimmed(const char *url)
{
	char	*u = xstrdup(url);
	size_t	 n = strlen(u);

	while (n > 0 && u[n - 1] == '/')
		u[--n] = '\0';
	return u;
}

/* Adds an instance at the end of the list. */
static struct rh_provider *
instance_add(const char *name, const struct rh_provider_type *type,
    const char *url, const char *key_env)
{
	struct rh_provider	*p = xcalloc(1, sizeof *p), **tail;

	p->name = xstrdup(name);
	p->type = type;
	p->start = type->start;
	p->stop = type->stop;
	if (url != NULL || type->default_url != NULL)
		p->url = url_trimmed(url ? url : type->default_url);
	p->api_key_env = key_env ? xstrdup(key_env) : NULL;
	p->default_model = type->default_model ?
	    xstrdup(type->default_model) : NULL;
	p->timeout_ms = DEFAULT_TIMEOUT_MS;
	p->history_turns = DEFAULT_HISTORY_TURNS;
	p->history_bytes = DEFAULT_HISTORY_BYTES;
	for (tail = &instances; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = p;
	return p;
}

/* Adds an instance as one entry of the config describes it. */
static void
instance_from_conf(const struct rh_conf_provider *c)
{
	struct rh_provider	*p;
	size_t			 n = 0, i;

	p = instance_add(c->name, type_find(c->type), c->url,
	    c->api_key_env);
	if (c->timeout_ms > 0)
		p->timeout_ms = c->timeout_ms;
	p->max_ms = c->max_ms;
	if (c->history_turns > 0)
		p->history_turns = c->history_turns;
	if (c->history_bytes > 0)
		p->history_bytes = c->history_bytes;
	p->max_tokens = c->max_tokens;
	if (c->command != NULL) {
		while (c->command[n] != NULL)
			n++;
		p->command = xcalloc(n + 1, sizeof *p->command);
		for (i = 0; i < n; i++)
			p->command[i] = xstrdup(c->command[i]);
	}
}

/* The built-in instances of a server without a config, and the choice of
 * the default: Ollama when it answers, else echo. */
static void
setup_defaults(char *note, size_t len)
{
	const char		*url = getenv("AISH_OLLAMA_URL");
	const char		*model = getenv("AISH_OLLAMA_MODEL");
	struct rh_provider	*ollama;

	if (url == NULL)
		url = rh_type_ollama.default_url;
	ollama = instance_add("ollama", &rh_type_ollama, *url ? url : NULL,
	    NULL);
	if (model != NULL && *model != '\0') {
		free(ollama->default_model);
		ollama->default_model = xstrdup(model);
	}
	instance_add("openai", &rh_type_openai, NULL, "OPENAI_API_KEY");
	instance_add("anthropic", &rh_type_anthropic, NULL,
	    "ANTHROPIC_API_KEY");
	if (*url != '\0' && rh_ollama_probe(ollama->url,
	    PROBE_TIMEOUT_MS) == 0) {
		default_name = xstrdup("ollama");
		snprintf(note, len, "roster on ollama at %s (model %s)",
		    ollama->url, ollama->default_model);
	} else {
		default_name = xstrdup("echo");
		snprintf(note, len, "roster on echo (no Ollama at %s)",
		    *url ? ollama->url : "AISH_OLLAMA_URL, which is empty");
	}
}

/* Makes the instances (see provider.h). */
int
rh_providers_setup(const struct rh_conf *cf, char *note, size_t len)
{
	struct rh_provider	*p;
	size_t			 i, n = 0;

	instance_add("echo", &rh_type_echo, NULL, NULL);
	if (cf == NULL)
		setup_defaults(note, len);
	else {
		for (i = 0; i < cf->nproviders; i++)
			instance_from_conf(&cf->providers[i]);
		if (cf->default_provider != NULL)
			default_name = xstrdup(cf->default_provider);
		else if (cf->nproviders == 1)
			default_name = xstrdup(cf->providers[0].name);
		else
			default_name = xstrdup("echo");
		snprintf(note, len, "config %s: default provider %s",
		    cf->path, default_name);
	}
	for (p = instances; p != NULL; p = p->next)
		n += strlen(p->name) + 2;
	names = xcalloc(1, n + 1);
	for (p = instances; p != NULL; p = p->next) {
		if (p != instances)
			strcat(names, ", ");
		strcat(names, p->name);
	}
	return 0;
}

/* Frees the worker and the instances. */
void
rh_providers_free(void)
{
	struct rh_provider	*p;
	size_t			 i;

	hw_free(worker);
	worker = NULL;
	while ((p = instances) != NULL) {
		instances = p->next;
		free(p->name);
		free(p->url);
		free(p->api_key_env);
		free(p->default_model);
		for (i = 0; p->command != NULL && p->command[i] != NULL; i++)
			free(p->command[i]);
		free(p->command);
		free(p);
	}
	free(default_name);
	free(names);
	default_name = names = NULL;
}

/* Worker thread: asks the loop to run rh_providers_dispatch soon. */
static void
wake_loop(void *ud)
{
	lws_cancel_service(ud);
}

/* The HTTP worker, started on first use. */
struct hw *
rh_providers_worker(struct rh_server *srv)
{
	if (worker == NULL)
		worker = hw_new(wake_loop, srv->context);
	return worker;
}

/* Runs what the worker handed back. */
void
rh_providers_dispatch(void)
{
	if (worker != NULL)
		hw_dispatch(worker);
}

/* The instance of this name, or NULL. */
const struct rh_provider *
rh_provider_find(const char *name)
{
	struct rh_provider	*p;

	for (p = instances; p != NULL; p = p->next) {
		if (strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

/* The names of the instances. */
const char *
rh_provider_names(void)
{
	return names ? names : "echo";
}

/* The default instance's name. */
const char *
rh_provider_default(void)
{
	return default_name ? default_name : "echo";
}

/* The model a socket asks for: its own, else the instance's default. */
const char *
rh_provider_model(const struct rh_provider *p, const struct rh_socket *s)
{
	if (s->model != NULL && *s->model != '\0')
		return s->model;
	return p->default_model;
}

/* History turns as the store counts them: a question and its answer are
 * two rows. */
int
rh_provider_history_rows(const struct rh_provider *p)
{
	return 2 * (p ? p->history_turns : DEFAULT_HISTORY_TURNS);
}

/* History bytes kept. */
int64_t
rh_provider_history_bytes(const struct rh_provider *p)
{
	return p ? p->history_bytes : DEFAULT_HISTORY_BYTES;
}

/* The API key, from the environment. */
const char *
rh_provider_key(const struct rh_provider *p)
{
	const char	*key;

	if (p->api_key_env == NULL)
		return NULL;
	key = getenv(p->api_key_env);
	return key != NULL && *key != '\0' ? key : NULL;
}

/* Writes "<name> (<type>, <where>): <what>" into buf, with every copy of
 * the key replaced. */
static void
describe(char *buf, size_t len, const struct rh_provider *p,
    const char *fmt, va_list ap)
{
	const char	*key = rh_provider_key(p), *where;
	char		 what[1024], *hit;
	size_t		 klen;

	vsnprintf(what, sizeof what, fmt, ap);
	/* Short keys are not blotted: they would hit ordinary words. */
	klen = key ? strlen(key) : 0;
	while (klen >= 6 && (hit = strstr(what, key)) != NULL) {
		memmove(hit + 3, hit + klen, strlen(hit + klen) + 1);
		memcpy(hit, "***", 3);
	}
	where = p->url ? p->url : p->command ? p->command[0] : NULL;
	if (strcmp(p->name, p->type->name) == 0)
		snprintf(buf, len, "%s%s%s%s: %s", p->name, where ? " (" : "",
		    where ? where : "", where ? ")" : "", what);
	else
		snprintf(buf, len, "%s (%s%s%s): %s", p->name, p->type->name,
		    where ? ", " : "", where ? where : "", what);
}

/* Fails a job with a message naming the provider. */
void
rh_provider_fail(struct rh_job *job, const struct rh_provider *p,
    const char *fmt, ...)
{
	char	msg[1200];
	va_list	ap;

	va_start(ap, fmt);
	describe(msg, sizeof msg, p, fmt, ap);
	va_end(ap);
	rh_job_fail(job, AISH_ERR_PROVIDER, msg);
}

/* Fails a job with provider_timeout and a message naming the
 * provider. */
void
rh_provider_timeout(struct rh_job *job, const struct rh_provider *p,
    const char *fmt, ...)
{
	char	msg[1200];
	va_list	ap;

	va_start(ap, fmt);
	describe(msg, sizeof msg, p, fmt, ap);
	va_end(ap);
	rh_job_fail(job, AISH_ERR_PROVIDER_TIMEOUT, msg);
}

/* Fills err with a message naming the provider. */
void
rh_provider_err(struct rh_err *err, const struct rh_provider *p,
    const char *fmt, ...)
{
	char	msg[1200];
	va_list	ap;

	va_start(ap, fmt);
	describe(msg, sizeof msg, p, fmt, ap);
	va_end(ap);
	rh_err_set(err, 502, AISH_ERR_PROVIDER, "%s", msg);
}
