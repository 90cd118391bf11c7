/*
 * provider-http.h: what the HTTP providers (ollama, openai, anthropic)
 * share: one streamed POST per reply through the HTTP worker thread, an
 * idle timeout on the loop, the socket's conversation as a messages
 * array, the answer taken apart as NDJSON lines or SSE events, and every
 * way it can fail turned into one error naming the provider.
 *
 * A provider file supplies a struct ph_wire and a start function that
 * builds the request and calls ph_start.  Its line or event callback
 * hands text to ph_emit and ends the reply with ph_complete or ph_error,
 * whose PH_STOP return it passes back to stop the parse.
 */
#ifndef RH_PROVIDER_HTTP_H
#define RH_PROVIDER_HTTP_H

#include "provider.h"

#define PH_STOP	1

struct ph_call;

/* How one provider's answer is read. */
struct ph_wire {
	/* NDJSON: one call per non-empty line. */
	int	(*on_line)(struct ph_call *pc, const char *line, size_t len);
	/* SSE: one call per event. */
	int	(*on_event)(struct ph_call *pc, const char *event,
		    const char *data, size_t len);
	/* The body ended without the end marker: returns 1 when what came
	 * is still a whole reply (NULL: it never is). */
	int	(*whole_at_eof)(struct ph_call *pc);
};

/* What to send: a POST of a JSON body to the provider's URL + path. */
struct ph_request {
	const char	*path;		/* e.g. "/api/chat" */
	const char	*headers[4];	/* beside Content-Type; NULL-ended */
	const char	*key_header;	/* the header that carries the key */
	const char	*key_scheme;	/* what comes before it ("Bearer ") */
	cJSON		*body;		/* consumed by ph_start */
};

/* Starts the call: checks the API key when the provider names one, adds
 * it in rq's header, and wipes it after use.  Consumes rq->body.  Returns
 * 0, or -1 with err. */
int	 ph_start(struct rh_job *job, struct rh_socket *s,
	    const struct ph_wire *wire, struct ph_request *rq,
	    struct rh_err *err);
/* Stops a call (the provider type's stop). */
void	 ph_stop(struct rh_job *job);

/* Adds text to the reply and streams it as a delta. */
void	 ph_emit(struct ph_call *pc, const char *text, size_t len);
/* The reply is complete; returns PH_STOP. */
int	 ph_complete(struct ph_call *pc);
/* The reply failed with this text; returns PH_STOP. */
int	 ph_error(struct ph_call *pc, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* A word per call the provider may keep (e.g. a finish seen). */
int	*ph_flag(struct ph_call *pc);

/* The socket's conversation: the system prompt (when with_system and the
 * socket has one), the stored history (unless the job is fresh), then
 * the new message. */
cJSON	*ph_messages(struct rh_job *job, struct rh_socket *s,
	    int with_system);
/* The human text of a provider's JSON error, or NULL. */
char	*ph_error_text(const cJSON *obj);
/* "<url><path>", where a url ending in the path's first segment (as
 * "https://host/v1") is not given it twice. */
char	*ph_url(const char *url, const char *path);
/* Parses a line or event as JSON; on failure records a "malformed"
 * error.  Returns the object or NULL. */
cJSON	*ph_parse(struct ph_call *pc, const char *text, size_t len);

#endif
