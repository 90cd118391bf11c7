/*
 * provider-echo.c: the offline provider, for demos and tests.
 *
 * It answers "<ai_name>: <content>".  The socket's context may ask for
 * echo.delay_ms (time to the final reply) and echo.chunks (that many delta
 * frames spread evenly over the delay).  Waiting is a loop timer, so a
 * hundred delayed sockets answer together, not one after another; with
 * neither, the reply is given before echo_start returns.
 */
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "names.h"
#include "provider.h"
#include "registry.h"
#include "xalloc.h"

/* One echo reply in progress. */
struct echo_state {
	lws_sorted_usec_list_t	 sul;		/* first: see from_sul() */
	struct rh_job		*job;
	char			*reply;
	size_t			 len;
	size_t			 sent;		/* bytes sent as deltas */
	size_t			 chars;		/* characters in reply */
	int			 chunks;	/* deltas to send, 0 for none */
	int			 chunk;		/* deltas sent so far */
	int			 delay_ms;
};

/* The echo state a timer belongs to. */
static struct echo_state *
from_sul(lws_sorted_usec_list_t *sul)
{
	return lws_container_of(sul, struct echo_state, sul);
}

/* Byte offset of the end of chunk i (1-based) of n, on a character
 * boundary. */
static size_t
chunk_end(const struct echo_state *es, int i)
{
	size_t	want = es->chars * (size_t)i / (size_t)es->chunks;
	size_t	off = 0, count = 0;

	while (off < es->len && count < want) {
		off += ac_utf8_char_len(es->reply + off, es->len - off);
		count++;
	}
	return off;
}

/* Time in µs from the start to the moment chunk i (1-based) is due. */
static lws_usec_t
due_after(const struct echo_state *es, int i)
{
	int	n = es->chunks > 0 ? es->chunks : 1;

	return (lws_usec_t)es->delay_ms * LWS_US_PER_MS * i / n;
}

/* Timer: sends the next delta, or the whole reply when all are out. */
static void
echo_tick(lws_sorted_usec_list_t *sul)
{
	struct echo_state	*es = from_sul(sul);
	struct rh_job		*job = es->job;
	size_t			 end;

	if (es->chunk < es->chunks) {
		es->chunk++;
		end = chunk_end(es, es->chunk);
		if (end > es->sent)
			rh_job_delta(job, es->reply + es->sent,
			    end - es->sent);
		es->sent = end;
		if (es->chunk < es->chunks) {
			lws_sul_schedule(rh_job_context(job), 0,
			    &es->sul, echo_tick, due_after(es, es->chunk + 1) -
			    due_after(es, es->chunk));
			return;
		}
	}
	job->provider_state = NULL;
	rh_job_done(job, es->reply, es->len);
	free(es->reply);
	free(es);
}

/* Starts an echo reply. */
static int
echo_start(struct rh_job *job, struct rh_socket *s, struct rh_err *err)
{
	struct echo_state	*es = xcalloc(1, sizeof *es);

	es->job = job;
	es->reply = xstrcat3(s->ai_name, ": ", job->content);
	es->len = strlen(es->reply);
	rh_socket_echo_params(s, &es->delay_ms, &es->chunks);
	/* Characters are counted only to cut deltas: a reply given whole
	 * is not walked (4 MiB of it cost ~90M instructions). */
	if (es->chunks > 0) {
		es->chars = ac_utf8_count(es->reply, es->len);
		if ((size_t)es->chunks > es->chars)
			es->chunks = (int)es->chars;
	}
	if (es->delay_ms == 0 && es->chunks == 0) {
		/* Nothing to wait for: the reply is stored with the write. */
		rh_job_done(job, es->reply, es->len);
		free(es->reply);
		free(es);
		return 0;
	}
	job->provider_state = es;
	lws_sul_schedule(rh_job_context(job), 0, &es->sul, echo_tick,
	    due_after(es, 1));
	return 0;
}

/* Stops an echo reply before it is done. */
static void
echo_stop(struct rh_job *job)
{
	struct echo_state	*es = job->provider_state;

	if (es == NULL)
		return;
	lws_sul_cancel(&es->sul);
	free(es->reply);
	free(es);
	job->provider_state = NULL;
}

const struct rh_provider_type rh_type_echo = {
	.name = "echo",
	.start = echo_start,
	.stop = echo_stop,
	.default_model = "echo",
};
