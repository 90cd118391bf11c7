/*
 * conf.c: reads and checks aish-rhetor's JSON configuration (see conf.h).
 *
 * The checks are strict on purpose: a misspelt key or a provider named
 * nowhere is refused at start-up, with the place, rather than silently
 * ignored until the first write fails.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "conf.h"
#include "names.h"
#include "xalloc.h"

/* Largest config file read (bytes). */
#define CONF_MAX_SIZE	(1024 * 1024)

/* Where the checks are, and where the first error goes. */
struct ctx {
	const char	*path;
	char		*err;
	size_t		 errlen;
};

/* Writes "PATH: PLACE: REASON" into the error buffer; returns -1. */
static int __attribute__((format(printf, 3, 4)))
fail(struct ctx *c, const char *place, const char *fmt, ...)
{
	char	reason[384];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	if (place != NULL && *place != '\0')
		snprintf(c->err, c->errlen, "%s: %s: %s", c->path, place,
		    reason);
	else
		snprintf(c->err, c->errlen, "%s: %s", c->path, reason);
	return -1;
}

/* Refuses any key of obj not in the NULL-ended list known. */
static int
check_keys(struct ctx *c, const char *place, const cJSON *obj,
    const char *const *known)
{
	const cJSON	*item;
	char		 list[256], where[256];
	size_t		 i;

	cJSON_ArrayForEach(item, obj) {
		for (i = 0; known[i] != NULL; i++) {
			if (strcmp(item->string, known[i]) == 0)
				break;
		}
		if (known[i] != NULL)
			continue;
		list[0] = '\0';
		for (i = 0; known[i] != NULL; i++) {
			if (i > 0)
				strncat(list, ", ", sizeof list - strlen(list) - 1);
			strncat(list, known[i], sizeof list - strlen(list) - 1);
		}
		snprintf(where, sizeof where, "%s%s%s", place,
		    *place ? "." : "", item->string);
		return fail(c, where, "unknown key (known: %s)", list);
	}
	return 0;
}

/* Reads an optional string field; returns 0 (unset leaves *out NULL). */
static int
opt_string(struct ctx *c, const char *place, const cJSON *obj,
    const char *key, char **out)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char		 where[320];

	*out = NULL;
	if (v == NULL)
		return 0;
	snprintf(where, sizeof where, "%s%s%s", place, *place ? "." : "",
	    key);
	if (!cJSON_IsString(v))
		return fail(c, where, "must be a string");
	if (!ac_utf8_valid(v->valuestring, strlen(v->valuestring)))
		return fail(c, where, "must be UTF-8 text");
	*out = xstrdup(v->valuestring);
	return 0;
}

/* Reads an optional integer field within [min, max]. */
static int
opt_int(struct ctx *c, const char *place, const cJSON *obj, const char *key,
    int64_t min, int64_t max, int64_t *out)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char		 where[320];

	*out = 0;
	if (v == NULL)
		return 0;
	snprintf(where, sizeof where, "%s%s%s", place, *place ? "." : "",
	    key);
	/* The range first: a double too big for int64_t cannot be cast. */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)min &&
	    v->valuedouble <= (double)max) ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return fail(c, where, "must be a whole number from %lld to "
		    "%lld", (long long)min, (long long)max);
	*out = (int64_t)v->valuedouble;
	return 0;
}

/* True when s can name an environment variable. */
static int
env_name_valid(const char *s)
{
	size_t	i;

	if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9')))
			return 0;
	}
	return i <= 128;
}

/* True for the provider types aish knows. */
static int
type_known(const char *type)
{
	static const char *const types[] = {
		"echo", "ollama", "openai", "anthropic", "exec", NULL
	};
	size_t	i;

	for (i = 0; types[i] != NULL; i++) {
		if (strcmp(types[i], type) == 0)
			return 1;
	}
	return 0;
}

/* True for the HTTP provider types. */
static int
type_is_http(const char *type)
{
	return strcmp(type, "ollama") == 0 || strcmp(type, "openai") == 0 ||
	    strcmp(type, "anthropic") == 0;
}

/* Reads provider.command: a non-empty array of strings. */
static int
read_command(struct ctx *c, const char *place, const cJSON *obj,
    struct rh_conf_provider *p)
{
	const cJSON	*cmd = cJSON_GetObjectItemCaseSensitive(obj, "command");
	const cJSON	*arg;
	char		 where[320];
	int		 n, i = 0;

	snprintf(where, sizeof where, "%s.command", place);
	if (cmd == NULL)
		return fail(c, where, "an exec provider needs a command, "
		    "e.g. [\"llm\", \"-m\", \"gpt-4o-mini\"]");
	n = cJSON_GetArraySize(cmd);
	if (!cJSON_IsArray(cmd) || n == 0)
		return fail(c, where, "must be a non-empty array of strings "
		    "(the program and its arguments)");
	p->command = xcalloc((size_t)n + 1, sizeof *p->command);
	cJSON_ArrayForEach(arg, cmd) {
		if (!cJSON_IsString(arg) || (i == 0 &&
		    arg->valuestring[0] == '\0'))
			return fail(c, where, "must be a non-empty array of "
			    "strings (the program and its arguments)");
		p->command[i++] = xstrdup(arg->valuestring);
	}
	return 0;
}

/* Refuses a key that a provider of this type does not use. */
static int
refuse_key(struct ctx *c, const char *place, const cJSON *obj,
    const char *key, const char *type)
{
	char	where[320];

	if (cJSON_GetObjectItemCaseSensitive(obj, key) == NULL)
		return 0;
	snprintf(where, sizeof where, "%s.%s", place, key);
	return fail(c, where, "not used by a provider of type '%s'", type);
}

/* Checks the keys that only some types take. */
static int
read_type_keys(struct ctx *c, const char *place, const cJSON *obj,
    struct rh_conf_provider *p)
{
	const char	*t = p->type;
	char		 where[320];
	int64_t		 v;

	if (!type_is_http(t) && (refuse_key(c, place, obj, "url", t) ||
	    refuse_key(c, place, obj, "api_key_env", t)))
		return -1;
	if (strcmp(t, "exec") != 0 && refuse_key(c, place, obj, "command", t))
		return -1;
	if (strcmp(t, "anthropic") != 0 && strcmp(t, "openai") != 0 &&
	    refuse_key(c, place, obj, "max_tokens", t))
		return -1;
	if (opt_string(c, place, obj, "url", &p->url) != 0)
		return -1;
	snprintf(where, sizeof where, "%s.url", place);
	if (p->url != NULL && strncmp(p->url, "http://", 7) != 0 &&
	    strncmp(p->url, "https://", 8) != 0)
		return fail(c, where, "must start with http:// or https://");
	snprintf(where, sizeof where, "%s.api_key_env", place);
	if (opt_string(c, place, obj, "api_key_env", &p->api_key_env) != 0)
		return -1;
	/* The value is not repeated: it might be the key itself. */
	if (p->api_key_env != NULL && !env_name_valid(p->api_key_env))
		return fail(c, where, "must be the name of an environment "
		    "variable (like OPENAI_API_KEY) that holds the key, never "
		    "the key itself");
	if (opt_int(c, place, obj, "max_tokens", 1, 1000000, &v) != 0)
		return -1;
	p->max_tokens = (int)v;
	if (strcmp(t, "exec") == 0)
		return read_command(c, place, obj, p);
	return 0;
}

/* Reads one entry of "providers". */
static int
read_provider(struct ctx *c, const cJSON *obj, struct rh_conf_provider *p)
{
	static const char *const keys[] = {
		"type", "url", "api_key_env", "timeout_ms", "max_ms",
		"history_turns", "history_bytes", "max_tokens", "command", NULL
	};
	char	place[256], where[300];
	int64_t	v;

	p->name = xstrdup(obj->string);
	snprintf(place, sizeof place, "providers.%s", obj->string);
	if (!ac_name_valid(obj->string))
		return fail(c, place, "a provider name must match "
		    "[A-Za-z0-9._-]{1,64}");
	if (strcmp(obj->string, "echo") == 0 || strcmp(obj->string,
	    "none") == 0)
		return fail(c, place, "'%s' is built in; choose another name",
		    obj->string);
	if (!cJSON_IsObject(obj))
		return fail(c, place, "must be an object");
	if (check_keys(c, place, obj, keys) != 0 ||
	    opt_string(c, place, obj, "type", &p->type) != 0)
		return -1;
	snprintf(where, sizeof where, "%s.type", place);
	if (p->type == NULL)
		return fail(c, where, "missing (one of: %s)", RH_CONF_TYPES);
	if (!type_known(p->type))
		return fail(c, where, "unknown provider type '%s' (known: %s)",
		    p->type, RH_CONF_TYPES);
	if (opt_int(c, place, obj, "timeout_ms", 1, 3600000, &v) != 0)
		return -1;
	p->timeout_ms = (int)v;
	if (opt_int(c, place, obj, "max_ms", 1, 86400000, &v) != 0)
		return -1;
	p->max_ms = (int)v;
	if (opt_int(c, place, obj, "history_turns", 1, 100000, &v) != 0)
		return -1;
	p->history_turns = (int)v;
	if (opt_int(c, place, obj, "history_bytes", 1024,
	    (int64_t)1 << 32, &v) != 0)
		return -1;
	p->history_bytes = v;
	return read_type_keys(c, place, obj, p);
}

/* Reads "providers". */
static int
read_providers(struct ctx *c, struct rh_conf *cf, const cJSON *root)
{
	const cJSON	*list = cJSON_GetObjectItemCaseSensitive(root,
	    "providers");
	const cJSON	*item;
	size_t		 i = 0;

	if (list == NULL)
		return 0;
	if (!cJSON_IsObject(list))
		return fail(c, "providers", "must be an object of named "
		    "providers");
	cf->providers = xcalloc((size_t)cJSON_GetArraySize(list) + 1,
	    sizeof *cf->providers);
	cJSON_ArrayForEach(item, list) {
		cf->nproviders = ++i;
		if (read_provider(c, item, &cf->providers[i - 1]) != 0)
			return -1;
	}
	return 0;
}

/* True when name is "echo" or one of the config's providers. */
static int
provider_known(const struct rh_conf *cf, const char *name)
{
	size_t	i;

	if (strcmp(name, "echo") == 0)
		return 1;
	for (i = 0; i < cf->nproviders; i++) {
		if (strcmp(cf->providers[i].name, name) == 0)
			return 1;
	}
	return 0;
}

/* Fails with the list of provider names the config knows. */
static int
fail_provider(struct ctx *c, const struct rh_conf *cf, const char *place,
    const char *name)
{
	char	list[512] = "echo";
	size_t	i;

	for (i = 0; i < cf->nproviders; i++) {
		strncat(list, ", ", sizeof list - strlen(list) - 1);
		strncat(list, cf->providers[i].name, sizeof list -
		    strlen(list) - 1);
	}
	return fail(c, place, "unknown provider '%s' (known: %s)", name, list);
}

/* Reads one entry of "ais". */
static int
read_ai(struct ctx *c, const struct rh_conf *cf, const cJSON *obj,
    struct rh_conf_ai *ai)
{
	static const char *const keys[] = {
		"provider", "model", "prompt", NULL
	};
	char	place[256], where[300];

	ai->name = xstrdup(obj->string);
	snprintf(place, sizeof place, "ais.%s", obj->string);
	if (!ac_name_valid(obj->string) || strncmp(obj->string,
	    "team-chat-", 10) == 0 || strcmp(obj->string, "rhetor") == 0)
		return fail(c, place, "an AI name must match "
		    "[A-Za-z0-9._-]{1,64} and not be rhetor or team-chat-*");
	if (!cJSON_IsObject(obj))
		return fail(c, place, "must be an object");
	if (check_keys(c, place, obj, keys) != 0 ||
	    opt_string(c, place, obj, "provider", &ai->provider) != 0 ||
	    opt_string(c, place, obj, "model", &ai->model) != 0 ||
	    opt_string(c, place, obj, "prompt", &ai->prompt) != 0)
		return -1;
	snprintf(where, sizeof where, "%s.provider", place);
	if (ai->provider != NULL && !provider_known(cf, ai->provider))
		return fail_provider(c, cf, where, ai->provider);
	return 0;
}

/* Reads "ais". */
static int
read_ais(struct ctx *c, struct rh_conf *cf, const cJSON *root)
{
	const cJSON	*list = cJSON_GetObjectItemCaseSensitive(root, "ais");
	const cJSON	*item;
	size_t		 i = 0;

	if (list == NULL)
		return 0;
	if (!cJSON_IsObject(list))
		return fail(c, "ais", "must be an object of named AIs");
	cf->has_ais = 1;
	cf->ais = xcalloc((size_t)cJSON_GetArraySize(list) + 1,
	    sizeof *cf->ais);
	cJSON_ArrayForEach(item, list) {
		cf->nais = ++i;
		if (read_ai(c, cf, item, &cf->ais[i - 1]) != 0)
			return -1;
	}
	return 0;
}

/* Reads "listen". */
static int
read_listen(struct ctx *c, struct rh_conf *cf, const cJSON *root)
{
	static const char *const keys[] = { "host", "port", NULL };
	const cJSON	*l = cJSON_GetObjectItemCaseSensitive(root, "listen");
	int64_t		 port;

	if (l == NULL)
		return 0;
	if (!cJSON_IsObject(l))
		return fail(c, "listen", "must be an object like "
		    "{\"host\": \"127.0.0.1\", \"port\": 8300}");
	if (check_keys(c, "listen", l, keys) != 0 ||
	    opt_string(c, "listen", l, "host", &cf->host) != 0)
		return -1;
	if (cf->host != NULL && cf->host[0] == '\0')
		return fail(c, "listen.host", "may not be empty");
	if (cJSON_GetObjectItemCaseSensitive(l, "port") != NULL) {
		if (opt_int(c, "listen", l, "port", 0, 65535, &port) != 0)
			return -1;
		cf->port = (int)port;
	}
	return 0;
}

/* Refuses an object anywhere in v that holds a key twice: cJSON keeps
 * both and every lookup would see only the first, so a setting written
 * twice would be silently half ignored. */
static int
find_duplicate(struct ctx *c, const char *place, const cJSON *v)
{
	const cJSON	*a, *b;
	char		 where[512];
	int		 i = 0;

	cJSON_ArrayForEach(a, v) {
		if (cJSON_IsObject(v)) {
			for (b = v->child; b != a; b = b->next) {
				if (strcmp(a->string, b->string) != 0)
					continue;
				snprintf(where, sizeof where, "%s%s%s", place,
				    *place ? "." : "", a->string);
				return fail(c, where, "the key appears twice");
			}
			snprintf(where, sizeof where, "%s%s%s", place,
			    *place ? "." : "", a->string);
		} else
			snprintf(where, sizeof where, "%s[%d]", place, i);
		i++;
		if ((cJSON_IsObject(a) || cJSON_IsArray(a)) &&
		    find_duplicate(c, where, a) != 0)
			return -1;
	}
	return 0;
}

/* Names the line and column of the byte at off in text. */
static void
line_col(const char *text, size_t off, int *line, int *col)
{
	size_t	i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else
			(*col)++;
	}
}

/* Checks the whole document. */
static int
read_root(struct ctx *c, struct rh_conf *cf, const cJSON *root)
{
	static const char *const keys[] = {
		"listen", "default_provider", "providers", "ais",
		"max_state_bytes", NULL
	};

	if (!cJSON_IsObject(root))
		return fail(c, NULL, "must hold one JSON object");
	cf->max_state_bytes = -1;
	if (check_keys(c, "", root, keys) != 0 ||
	    read_listen(c, cf, root) != 0 ||
	    (cJSON_GetObjectItemCaseSensitive(root, "max_state_bytes") !=
	    NULL && opt_int(c, "", root, "max_state_bytes", 0,
	    RH_CONF_MAX_STATE_BYTES, &cf->max_state_bytes) != 0) ||
	    (cf->max_state_bytes > 0 &&
	    cf->max_state_bytes < RH_CONF_MIN_STATE_BYTES &&
	    fail(c, "max_state_bytes", "must be 0 (no bound) or at least "
	    "%lld", (long long)RH_CONF_MIN_STATE_BYTES) != 0) ||
	    read_providers(c, cf, root) != 0 ||
	    opt_string(c, "", root, "default_provider",
	    &cf->default_provider) != 0)
		return -1;
	if (cf->default_provider != NULL &&
	    !provider_known(cf, cf->default_provider))
		return fail_provider(c, cf, "default_provider",
		    cf->default_provider);
	return read_ais(c, cf, root);
}

/* Parses and checks config text (see conf.h). */
struct rh_conf *
rh_conf_parse(const char *path, const char *text, size_t len, char *err,
    size_t errlen)
{
	struct ctx	 c = { path, err, errlen };
	struct rh_conf	*cf = xcalloc(1, sizeof *cf);
	cJSON		*root;
	const char	*where;
	char		 place[64];
	int		 line, col;

	cf->path = xstrdup(path);
	cf->port = -1;
	if ((where = memchr(text, '\0', len)) != NULL) {
		/* cJSON would stop there and never read the rest. */
		line_col(text, (size_t)(where - text), &line, &col);
		snprintf(place, sizeof place, "line %d, column %d", line, col);
		fail(&c, place, "a NUL byte: the file must be JSON text");
		rh_conf_free(cf);
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &where, 0);
	if (root != NULL) {
		while (where < text + len && (*where == ' ' || *where == '\t' ||
		    *where == '\n' || *where == '\r'))
			where++;
		if (where < text + len) {
			line_col(text, (size_t)(where - text), &line, &col);
			snprintf(place, sizeof place, "line %d, column %d",
			    line, col);
			fail(&c, place, "text after the JSON object");
			goto bad;
		}
		if (find_duplicate(&c, "", root) != 0)
			goto bad;
	}
	if (root == NULL) {
		where = cJSON_GetErrorPtr();
		if (where != NULL && where >= text && where <= text + len) {
			line_col(text, (size_t)(where - text), &line, &col);
			snprintf(place, sizeof place, "line %d, column %d",
			    line, col);
			fail(&c, place, "not valid JSON");
		} else
			fail(&c, NULL, "not valid JSON");
		rh_conf_free(cf);
		return NULL;
	}
	if (read_root(&c, cf, root) != 0)
		goto bad;
	cJSON_Delete(root);
	return cf;
bad:
	cJSON_Delete(root);
	rh_conf_free(cf);
	return NULL;
}

/* Reads and checks a config file (see conf.h). */
struct rh_conf *
rh_conf_load(const char *path, char *err, size_t errlen)
{
	FILE		*f = fopen(path, "rb");
	struct rh_conf	*cf;
	char		*text;
	size_t		 len;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	text = xmalloc(CONF_MAX_SIZE + 1);
	len = fread(text, 1, CONF_MAX_SIZE + 1, f);
	if (ferror(f) || len > CONF_MAX_SIZE) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ?
		    "cannot read the file" : "larger than 1 MiB");
		fclose(f);
		free(text);
		return NULL;
	}
	fclose(f);
	text[len] = '\0';
	cf = rh_conf_parse(path, text, len, err, errlen);
	free(text);
	return cf;
}

/* Frees a config. */
void
rh_conf_free(struct rh_conf *cf)
{
	size_t	i, j;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->nproviders; i++) {
		free(cf->providers[i].name);
		free(cf->providers[i].type);
		free(cf->providers[i].url);
		free(cf->providers[i].api_key_env);
		for (j = 0; cf->providers[i].command != NULL &&
		    cf->providers[i].command[j] != NULL; j++)
			free(cf->providers[i].command[j]);
		free(cf->providers[i].command);
	}
	for (i = 0; i < cf->nais; i++) {
		free(cf->ais[i].name);
		free(cf->ais[i].provider);
		free(cf->ais[i].model);
		free(cf->ais[i].prompt);
	}
	free(cf->providers);
	free(cf->ais);
	free(cf->path);
	free(cf->host);
	free(cf->default_provider);
	free(cf);
}
