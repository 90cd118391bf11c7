/*
 * http-worker.c: libcurl's multi interface on a thread of its own; see
 * http-worker.h for the contract.
 *
 * Two lists cross the threads, both under one mutex: requests to add (loop
 * to worker) and events (worker to loop).  The multi handle and the list
 * of active requests belong to the worker thread alone.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http-worker.h"

enum ev_kind {
	EV_DATA,
	EV_DONE
};

/* Something that happened to a request, waiting for hw_dispatch(). */
struct hw_event {
	struct hw_event		*next;
	enum ev_kind		 kind;
	struct hw_request	*r;
	long			 status;
	int			 failed;	/* EV_DONE: data is the error */
	size_t			 len;
	char			 data[];
};

struct hw_request {
	struct hw_request	*next;		/* to_add or active list */
	struct hw		*w;
	CURL			*easy;
	struct curl_slist	*headers;
	char			*body;
	struct hw_callbacks	 cb;
	void			*ud;
	int			 cancelled;	/* under w->lock */
	char			 errbuf[CURL_ERROR_SIZE];
};

struct hw {
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	CURLM			*multi;
	struct hw_request	*to_add;	/* under lock */
	struct hw_request	*active;	/* worker thread only */
	struct hw_event		*ev_head;	/* under lock */
	struct hw_event		*ev_tail;
	int			 stop;		/* under lock */
	void			(*wake)(void *);
	void			*wake_ud;
};

/* Queues an event for the loop thread and wakes it.  Returns -1 when
 * memory runs out. */
static int
push_event(struct hw *w, enum ev_kind kind, struct hw_request *r,
    long status, int failed, const char *data, size_t len)
{
	struct hw_event	*ev = malloc(sizeof *ev + len + 1);

	if (ev == NULL)
		return -1;
	ev->next = NULL;
	ev->kind = kind;
	ev->r = r;
	ev->status = status;
	ev->failed = failed;
	ev->len = len;
	if (len > 0)
		memcpy(ev->data, data, len);
	ev->data[len] = '\0';
	pthread_mutex_lock(&w->lock);
	if (w->ev_tail != NULL)
		w->ev_tail->next = ev;
	else
		w->ev_head = ev;
	w->ev_tail = ev;
	pthread_mutex_unlock(&w->lock);
	w->wake(w->wake_ud);
	return 0;
}

/* Worker: reports the end of a request; if even that cannot be queued the
 * request is kept on a list so that hw_free() still frees it. */
static void
push_done(struct hw *w, struct hw_request *r, long status, const char *error)
{
	static const char oom[] = "out of memory";

	if (push_event(w, EV_DONE, r, status, error != NULL, error,
	    error ? strlen(error) : 0) == 0)
		return;
	while (push_event(w, EV_DONE, r, status, 1, oom, sizeof oom - 1) != 0)
		curl_multi_poll(w->multi, NULL, 0, 100, NULL);
}

/* curl write callback (worker thread): hands a body piece to the loop. */
static size_t
on_body(char *data, size_t size, size_t n, void *ud)
{
	struct hw_request	*r = ud;
	long			 status = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (push_event(r->w, EV_DATA, r, status, 0, data, size * n) != 0)
		return 0;	/* curl then fails the request */
	return size * n;
}

/* Frees a request (its easy handle is out of the multi handle). */
static void
request_free(struct hw_request *r)
{
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->body);
	free(r);
}

/* Worker: moves new requests into the multi handle and takes cancelled
 * ones out; those end with a done event the loop will ignore. */
static void
take_new_and_cancelled(struct hw *w)
{
	struct hw_request	*r, **pp, *done = NULL;

	pthread_mutex_lock(&w->lock);
	while ((r = w->to_add) != NULL) {
		w->to_add = r->next;
		if (r->cancelled || curl_multi_add_handle(w->multi,
		    r->easy) != CURLM_OK) {
			r->next = done;
			done = r;
			continue;
		}
		r->next = w->active;
		w->active = r;
	}
	for (pp = &w->active; (r = *pp) != NULL;) {
		if (!r->cancelled) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		curl_multi_remove_handle(w->multi, r->easy);
		r->next = done;
		done = r;
	}
	pthread_mutex_unlock(&w->lock);
	while ((r = done) != NULL) {
		done = r->next;
		push_done(w, r, 0, "cancelled");
	}
}

/* Worker: reports the requests curl finished. */
static void
report_finished(struct hw *w)
{
	struct hw_request	*r, **pp;
	CURLMsg			*msg;
	int			 left;
	long			 status;
	const char		*error;

	while ((msg = curl_multi_info_read(w->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		for (pp = &w->active; (r = *pp) != NULL; pp = &r->next) {
			if (r->easy == msg->easy_handle)
				break;
		}
		if (r == NULL)
			continue;
		*pp = r->next;
		status = 0;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		error = NULL;
		if (msg->data.result != CURLE_OK)
			error = r->errbuf[0] ? r->errbuf :
			    curl_easy_strerror(msg->data.result);
		curl_multi_remove_handle(w->multi, r->easy);
		push_done(w, r, status, error);
	}
}

/* The worker thread: runs curl until told to stop. */
static void *
worker_main(void *arg)
{
	struct hw	*w = arg;
	int		 running, stop;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		stop = w->stop;
		pthread_mutex_unlock(&w->lock);
		if (stop)
			break;
		take_new_and_cancelled(w);
		curl_multi_perform(w->multi, &running);
		report_finished(w);
		curl_multi_poll(w->multi, NULL, 0, 1000, NULL);
	}
	return NULL;
}

/* Starts the worker thread. */
struct hw *
hw_new(void (*wake)(void *), void *wake_ud)
{
	struct hw	*w = calloc(1, sizeof *w);

	if (w == NULL)
		return NULL;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	w->wake = wake;
	w->wake_ud = wake_ud;
	w->multi = curl_multi_init();
	if (w->multi == NULL || pthread_mutex_init(&w->lock, NULL) != 0) {
		if (w->multi != NULL)
			curl_multi_cleanup(w->multi);
		free(w);
		return NULL;
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		pthread_mutex_destroy(&w->lock);
		curl_multi_cleanup(w->multi);
		free(w);
		return NULL;
	}
	return w;
}

/* Stops the thread and frees everything without callbacks. */
void
hw_free(struct hw *w)
{
	struct hw_request	*r;
	struct hw_event		*ev;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_mutex_unlock(&w->lock);
	curl_multi_wakeup(w->multi);
	pthread_join(w->thread, NULL);
	while ((r = w->active) != NULL) {
		w->active = r->next;
		curl_multi_remove_handle(w->multi, r->easy);
		request_free(r);
	}
	while ((r = w->to_add) != NULL) {
		w->to_add = r->next;
		request_free(r);
	}
	while ((ev = w->ev_head) != NULL) {
		w->ev_head = ev->next;
		if (ev->kind == EV_DONE)
			request_free(ev->r);
		free(ev);
	}
	curl_multi_cleanup(w->multi);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* Sets up the easy handle of a request; returns -1 on failure. */
static int
request_setup(struct hw_request *r, const struct hw_opts *o)
{
	const char *const	*h;
	struct curl_slist	*l;
	CURL			*e = r->easy;

	for (h = o->headers; h != NULL && *h != NULL; h++) {
		if ((l = curl_slist_append(r->headers, *h)) == NULL)
			return -1;
		r->headers = l;
	}
	/* No "Expect: 100-continue" round trip before bodies. */
	if ((l = curl_slist_append(r->headers, "Expect:")) == NULL)
		return -1;
	r->headers = l;
	if (o->body != NULL) {
		if ((r->body = malloc(o->body_len + 1)) == NULL)
			return -1;
		memcpy(r->body, o->body, o->body_len);
		r->body[o->body_len] = '\0';
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)o->body_len);
	}
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
	if (strcmp(o->method, "GET") == 0 && o->body == NULL)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(e, CURLOPT_URL, o->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (o->timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	if (o->connect_timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
		    o->connect_timeout_ms);
	if (o->idle_timeout_ms > 0) {
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
		    (o->idle_timeout_ms + 999) / 1000);
	}
	return 0;
}

/* Starts a request. */
struct hw_request *
hw_start(struct hw *w, const struct hw_opts *opts,
    const struct hw_callbacks *cb, void *ud)
{
	struct hw_request	*r;

	if (opts->url == NULL || opts->method == NULL)
		return NULL;
	if ((r = calloc(1, sizeof *r)) == NULL)
		return NULL;
	r->w = w;
	r->cb = *cb;
	r->ud = ud;
	if ((r->easy = curl_easy_init()) == NULL ||
	    request_setup(r, opts) != 0) {
		request_free(r);
		return NULL;
	}
	pthread_mutex_lock(&w->lock);
	r->next = w->to_add;
	w->to_add = r;
	pthread_mutex_unlock(&w->lock);
	curl_multi_wakeup(w->multi);
	return r;
}

/* Cancels a request: no callback about it follows. */
void
hw_cancel(struct hw *w, struct hw_request *r)
{
	pthread_mutex_lock(&w->lock);
	r->cancelled = 1;
	pthread_mutex_unlock(&w->lock);
	curl_multi_wakeup(w->multi);
}

/* Runs the callbacks of everything that happened. */
void
hw_dispatch(struct hw *w)
{
	struct hw_event		*ev, *next;
	struct hw_request	*r;
	int			 cancelled;

	pthread_mutex_lock(&w->lock);
	ev = w->ev_head;
	w->ev_head = w->ev_tail = NULL;
	pthread_mutex_unlock(&w->lock);
	for (; ev != NULL; ev = next) {
		next = ev->next;
		r = ev->r;
		pthread_mutex_lock(&w->lock);
		cancelled = r->cancelled;
		pthread_mutex_unlock(&w->lock);
		if (!cancelled && ev->kind == EV_DATA && r->cb.on_data)
			r->cb.on_data(r->ud, ev->status, ev->data, ev->len);
		if (ev->kind == EV_DONE) {
			if (!cancelled && r->cb.on_done)
				r->cb.on_done(r->ud, ev->status,
				    ev->failed ? ev->data : NULL);
			request_free(r);
		}
		free(ev);
	}
}
