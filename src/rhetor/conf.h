/*
 * conf.h: aish-rhetor's JSON configuration file (SPEC section 3).
 *
 * rh_conf_load reads and checks the whole file at once: a file that is
 * not valid JSON, has an unknown key, a value of the wrong kind or a name
 * that points nowhere is refused with "FILE: PLACE: REASON", where PLACE is
 * the dotted path of the value (providers.gpt.type) or a line and column.
 * API keys are never in the file, only the names of the environment
 * variables that hold them.  The structure owns all its strings.
 */
#ifndef RH_CONF_H
#define RH_CONF_H

#include <stddef.h>
#include <stdint.h>

/* One entry of "providers". */
struct rh_conf_provider {
	char		*name;
	char		*type;		/* echo, ollama, openai, anthropic, exec */
	char		*url;		/* NULL: the type's default */
	char		*api_key_env;	/* NULL: no key */
	char		**command;	/* exec: program and arguments, NULL-ended */
	int		 timeout_ms;	/* 0: the default */
	int		 max_ms;	/* 0: none */
	int		 history_turns;	/* 0: the default */
	int64_t		 history_bytes;	/* 0: the default */
	int		 max_tokens;	/* 0: the default */
};

/* One entry of "ais": a roster AI. */
struct rh_conf_ai {
	char		*name;
	char		*provider;	/* NULL: the default provider */
	char		*model;		/* NULL: the provider's default */
	char		*prompt;	/* NULL: none */
};

struct rh_conf {
	char			*path;
	char			*host;		/* listen.host, or NULL */
	int			 port;		/* listen.port, or -1 */
	char			*default_provider;	/* or NULL */
	struct rh_conf_provider	*providers;
	size_t			 nproviders;
	struct rh_conf_ai	*ais;
	size_t			 nais;
	int			 has_ais;	/* "ais" was given */
	int64_t			 max_state_bytes;	/* or -1: not given */
};

/* max_state_bytes, when not 0 (no bound), is from 1 MiB to 1 TiB; it is
 * 1 GiB unless told. */
#define RH_CONF_MIN_STATE_BYTES	(1LL << 20)
#define RH_CONF_MAX_STATE_BYTES	(1LL << 40)
#define RH_CONF_DEFAULT_STATE_BYTES	(1LL << 30)

/* The provider types a config may name, for error messages. */
#define RH_CONF_TYPES	"echo, ollama, openai, anthropic, exec"

/* Reads and checks PATH.  Returns the config, or NULL with err holding
 * "PATH: PLACE: REASON". */
struct rh_conf	*rh_conf_load(const char *path, char *err, size_t errlen);
/* The same from text already in memory; path names it in errors. */
struct rh_conf	*rh_conf_parse(const char *path, const char *text, size_t len,
		    char *err, size_t errlen);
void		 rh_conf_free(struct rh_conf *cf);

#endif
