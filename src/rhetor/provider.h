/*
 * provider.h: what an AI provider looks like to the server.
 *
 * A provider *type* (echo, ollama, openai, anthropic, exec) is code: one
 * file each, provider-<type>.c.  A provider *instance* is a type with its
 * settings, named in the config ("local" = ollama at some URL); sockets
 * name instances.  The built-in instance "echo" always exists; without a
 * config there are also "ollama", "openai" and "anthropic" at their usual
 * URLs.  Instances live as long as the process.
 *
 * A provider turns one job (an AI owing a reply) into zero or more
 * rh_job_delta() calls and then exactly one rh_job_done() or rh_job_fail()
 * (delivery.h), all on the loop thread; the deltas joined are exactly the
 * final text.  It must never block the loop: waiting is done with loop
 * timers, loop-driven I/O, or the HTTP worker thread (http-worker.h).
 * stop(job) ends a job that has not finished; no call about it follows.
 */
#ifndef RH_PROVIDER_H
#define RH_PROVIDER_H

#include "server.h"

struct hw;
struct rh_conf;

typedef int	(*rh_provider_start_fn)(struct rh_job *job, struct rh_socket *s,
		    struct rh_err *err);
typedef void	(*rh_provider_stop_fn)(struct rh_job *job);

/* The code of one kind of provider. */
struct rh_provider_type {
	const char		*name;
	/* Starts producing the reply of job for socket s.  Returns 0, or -1
	 * with err filled when it cannot start at all. */
	rh_provider_start_fn	 start;
	rh_provider_stop_fn	 stop;
	const char		*default_url;	/* NULL when it takes none */
	const char		*default_model;	/* NULL when it takes none */
	int			 media;		/* takes binary streams: the
						 * job's media, mime */
};

/* A named instance: a type and its settings. */
struct rh_provider {
	struct rh_provider	*next;
	char			*name;
	const struct rh_provider_type *type;
	rh_provider_start_fn	 start;		/* the type's */
	rh_provider_stop_fn	 stop;		/* the type's */
	char			*url;		/* no trailing '/', or NULL */
	char			*api_key_env;	/* or NULL */
	char			**command;	/* exec; NULL-ended */
	char			*default_model;	/* or NULL */
	int			 timeout_ms;	/* longest silence: the wait
						 * for the first byte or the
						 * next one */
	int			 max_ms;	/* longest reply; 0: none */
	int			 history_turns;	/* exchanges kept */
	int64_t			 history_bytes;
	int			 max_tokens;	/* 0: the type's default */
};

extern const struct rh_provider_type rh_type_echo;
extern const struct rh_provider_type rh_type_ollama;
extern const struct rh_provider_type rh_type_openai;
extern const struct rh_provider_type rh_type_anthropic;
extern const struct rh_provider_type rh_type_exec;
/* The protocol of the vhost that carries exec commands' pipes. */
extern const struct lws_protocols rh_exec_protocols[];

/* Makes the instances from cf (NULL: no config, in which case Ollama is
 * probed at its default URL to choose the default provider).  Writes a
 * line about the choice into note.  Returns 0. */
int	 rh_providers_setup(const struct rh_conf *cf, char *note, size_t len);
/* Frees the worker thread and the instances; after rh_delivery_stop_all. */
void	 rh_providers_free(void);
/* Runs what the HTTP worker handed back; from EVENT_WAIT_CANCELLED. */
void	 rh_providers_dispatch(void);
/* The HTTP worker of the server, started on first use; NULL if it cannot
 * start. */
struct hw *rh_providers_worker(struct rh_server *srv);

/* The instance of this name, or NULL. */
const struct rh_provider *rh_provider_find(const char *name);
/* The names of the instances, for error messages. */
const char *rh_provider_names(void);
/* The name of the default instance (roster, rhetor, create). */
const char *rh_provider_default(void);

/* The model a socket asks its provider for, or NULL. */
const char *rh_provider_model(const struct rh_provider *p,
	    const struct rh_socket *s);
/* The history caps of a socket's provider, as the store counts them
 * (turns are messages; p may be NULL). */
int	 rh_provider_history_rows(const struct rh_provider *p);
int64_t	 rh_provider_history_bytes(const struct rh_provider *p);
/* The API key from the instance's environment variable, or NULL. */
const char *rh_provider_key(const struct rh_provider *p);
/* Fails job with provider_error and "<name> (<type>, <url>): <what>",
 * with the key, should the text hold it, blotted out. */
void	 rh_provider_fail(struct rh_job *job, const struct rh_provider *p,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same with provider_timeout: the reply ran past timeout_ms or
 * max_ms. */
void	 rh_provider_timeout(struct rh_job *job, const struct rh_provider *p,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same text for an rh_err (a provider that cannot start). */
void	 rh_provider_err(struct rh_err *err, const struct rh_provider *p,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Asks Ollama at url whether it answers, waiting at most timeout_ms. */
int	 rh_ollama_probe(const char *url, long timeout_ms);

#endif
