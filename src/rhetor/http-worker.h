/*
 * http-worker.h: HTTP requests run by libcurl on a thread of their own,
 * with every result handed back to the event-loop thread.
 *
 * The loop thread starts and cancels requests; the worker thread runs a
 * curl multi handle and never calls back into the caller.  It queues what
 * happened (a piece of a body, the end of a request) and calls wake(),
 * which must only make the loop call hw_dispatch() soon, e.g.
 * lws_cancel_service().  hw_dispatch() then runs the callbacks on the loop
 * thread.  So a slow or stalled server never blocks the loop.
 *
 * Ownership: the worker copies everything in hw_opts; a request belongs to
 * the worker and is freed after its on_done callback (or after a cancel,
 * when no callback follows).
 */
#ifndef AISH_HTTP_WORKER_H
#define AISH_HTTP_WORKER_H

#include <stddef.h>

struct hw;
struct hw_request;

/* What to send. */
struct hw_opts {
	const char		*method;	/* "GET", "POST", ... */
	const char		*url;
	const char *const	*headers;	/* "Name: value", NULL-ended */
	const char		*body;		/* may be NULL */
	size_t			 body_len;
	long			 timeout_ms;	/* whole request; 0 for none */
	long			 connect_timeout_ms;	/* 0 for curl's */
	long			 idle_timeout_ms;	/* no byte for this long
							 * ends it; 0 for none */
};

/* What happens, called on the loop thread from hw_dispatch(). */
struct hw_callbacks {
	/* A piece of the response body (status is known by then). */
	void	(*on_data)(void *ud, long status, const char *data,
		    size_t len);
	/* The end: status is the HTTP status (0 when none came); error is
	 * NULL on success, else curl's description of what failed. */
	void	(*on_done)(void *ud, long status, const char *error);
};

/* Starts the worker thread.  Returns NULL when it cannot. */
struct hw	*hw_new(void (*wake)(void *), void *wake_ud);
/* Stops the thread and frees every request without callbacks. */
void		 hw_free(struct hw *w);
/* Starts a request; callbacks get ud.  Returns NULL on bad options. */
struct hw_request *hw_start(struct hw *w, const struct hw_opts *opts,
		    const struct hw_callbacks *cb, void *ud);
/* Cancels a request: no callback about it follows. */
void		 hw_cancel(struct hw *w, struct hw_request *r);
/* Runs the callbacks of everything that happened; loop thread only. */
void		 hw_dispatch(struct hw *w);

#endif
