/*
 * provider.h: what an AI provider looks like to the server.
 *
 * A provider turns one job (an AI owing a reply) into zero or more
 * rh_job_delta() calls and then exactly one rh_job_done() or rh_job_fail()
 * (delivery.h), all on the loop thread.  It must never block the loop:
 * waiting is done with loop timers or loop-driven I/O.
 */
#ifndef RH_PROVIDER_H
#define RH_PROVIDER_H

#include "server.h"

struct rh_provider {
	const char	*name;
	/* Starts producing the reply of job for socket s.  Returns 0, or -1
	 * with err filled when it cannot start at all. */
	int		(*start)(struct rh_job *job, struct rh_socket *s,
			    struct rh_err *err);
	/* Stops a job that has not finished; no call about it follows. */
	void		(*stop)(struct rh_job *job);
};

extern const struct rh_provider rh_provider_echo;

/* The provider of this name, or NULL. */
const struct rh_provider *rh_provider_find(const char *name);
/* The names of the known providers, for error messages. */
const char *rh_provider_names(void);

#endif
