/*
 * metrics.c: the counters of GET /metrics and their text (see metrics.h).
 *
 * Names start with aish_; counters end in _total; every family has its
 * # HELP and # TYPE lines; label values are escaped as the format wants
 * (backslash, double quote, newline).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "metrics.h"
#include "ws.h"
#include "xalloc.h"

/* Upper bounds of the latency buckets, in seconds (+Inf is implied). */
static const double latency_bounds[] = {
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
};
#define NBOUNDS	(sizeof latency_bounds / sizeof latency_bounds[0])

/* What one provider instance has done. */
struct rh_stat {
	struct rh_stat	*next;
	char		*provider;
	uint64_t	 buckets[NBOUNDS];	/* not cumulative */
	uint64_t	 count;
	double		 sum;			/* seconds */
	uint64_t	 errors;
};

/* The statistics of a provider, made on first use. */
static struct rh_stat *
stat_of(struct rh_server *srv, const char *provider)
{
	struct rh_stat	*st, **tail;

	for (tail = &srv->stats; (st = *tail) != NULL; tail = &st->next) {
		if (strcmp(st->provider, provider) == 0)
			return st;
	}
	st = xcalloc(1, sizeof *st);
	st->provider = xstrdup(provider);
	*tail = st;
	return st;
}

/* A provider call ended. */
void
rh_metrics_observe(struct rh_server *srv, const char *provider, int64_t ms,
    int failed)
{
	struct rh_stat	*st = stat_of(srv, provider);
	double		 sec = ms < 0 ? 0 : (double)ms / 1000.0;
	size_t		 i;

	for (i = 0; i < NBOUNDS; i++) {
		if (sec <= latency_bounds[i]) {
			st->buckets[i]++;
			break;
		}
	}
	st->count++;
	st->sum += sec;
	if (failed)
		st->errors++;
}

/* Frees the statistics. */
void
rh_metrics_free(struct rh_server *srv)
{
	struct rh_stat	*st;

	while ((st = srv->stats) != NULL) {
		srv->stats = st->next;
		free(st->provider);
		free(st);
	}
}

/* A growing text. */
struct text {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

/* Appends formatted text. */
static void __attribute__((format(printf, 2, 3)))
put(struct text *t, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (t->len + (size_t)n + 1 > t->cap) {
		t->cap = (t->len + (size_t)n + 1) * 2;
		t->data = xrealloc(t->data, t->cap);
	}
	va_start(ap, fmt);
	vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

/* The # HELP and # TYPE lines of a family. */
static void
family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value escaped for the text format (allocated). */
static char *
label_escape(const char *v)
{
	char	*out = xmalloc(strlen(v) * 2 + 1), *o = out;

	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"') {
			*o++ = '\\';
			*o++ = *v;
		} else if (*v == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else
			*o++ = *v;
	}
	*o = '\0';
	return out;
}

/* The sockets by state and the WebSocket clients. */
static void
put_sockets(struct text *t, struct rh_server *srv)
{
	struct rh_socket	*s;
	struct rh_conn		*c;
	long			 active = 0, unresponsive = 0, clients = 0;

	for (s = srv->sockets; s != NULL; s = s->next) {
		if (s->unresponsive)
			unresponsive++;
		else
			active++;
		for (c = s->conns; c != NULL; c = c->next)
			clients++;
	}
	family(t, "aish_sockets", "gauge", "AI sockets by state.");
	put(t, "aish_sockets{state=\"%s\"} %ld\n", AISH_STATE_ACTIVE, active);
	put(t, "aish_sockets{state=\"%s\"} %ld\n", AISH_STATE_UNRESPONSIVE,
	    unresponsive);
	family(t, "aish_websocket_clients", "gauge",
	    "WebSocket connections open.");
	put(t, "aish_websocket_clients %ld\n", clients);
}

/* The message counters. */
static void
put_counters(struct text *t, struct rh_server *srv)
{
	family(t, "aish_messages_in_total", "counter",
	    "Writes accepted (a team-chat write counts once).");
	put(t, "aish_messages_in_total %llu\n",
	    (unsigned long long)srv->messages_in);
	family(t, "aish_messages_out_total", "counter",
	    "Reply frames sent to WebSocket connections.");
	put(t, "aish_messages_out_total %llu\n",
	    (unsigned long long)srv->messages_out);
	family(t, "aish_queue_drops_total", "counter",
	    "Queued replies dropped because a queue was full.");
	put(t, "aish_queue_drops_total %llu\n",
	    (unsigned long long)srv->queue_drops);
	family(t, "aish_streams_total", "counter",
	    "Binary streams received whole.");
	put(t, "aish_streams_total %llu\n",
	    (unsigned long long)srv->streams_in);
	family(t, "aish_streams_refused_total", "counter",
	    "Binary streams refused (too large, too many held at once, "
	    "or for a socket that takes no media).");
	put(t, "aish_streams_refused_total %llu\n",
	    (unsigned long long)srv->streams_refused);
	family(t, "aish_http_refused_total", "counter",
	    "Requests and upgrades the browser guard refused (a foreign "
	    "Origin, Sec-Fetch-Site or Host; 403).");
	put(t, "aish_http_refused_total %llu\n",
	    (unsigned long long)srv->http_refused);
}

/* The memory held for clients, and what its bounds refused. */
static void
put_bounds(struct text *t, struct rh_server *srv)
{
	family(t, "aish_unwritten_bytes", "gauge",
	    "Memory held by frames waiting to be written to readers.");
	put(t, "aish_unwritten_bytes %zu\n", srv->unwritten_bytes);
	family(t, "aish_inbound_bytes", "gauge",
	    "Memory held by unfinished binary streams and by text messages "
	    "arriving in pieces.");
	put(t, "aish_inbound_bytes{kind=\"stream\"} %zu\n", srv->stream_bytes);
	put(t, "aish_inbound_bytes{kind=\"message\"} %zu\n",
	    srv->partial_bytes);
	family(t, "aish_state_bytes", "gauge",
	    "Bytes of the state database's pages in use.");
	put(t, "aish_state_bytes %lld\n",
	    (long long)rh_store_used_bytes(srv->store));
	family(t, "aish_state_max_bytes", "gauge",
	    "The bound on the state database (0: none).");
	put(t, "aish_state_max_bytes %lld\n",
	    (long long)rh_store_max_bytes(srv->store));
	family(t, "aish_state_trimmed_total", "counter",
	    "Oldest history turns and queued replies dropped to keep the "
	    "state within its bound or the disk.");
	put(t, "aish_state_trimmed_total{what=\"history\"} %llu\n",
	    (unsigned long long)srv->trimmed_turns);
	put(t, "aish_state_trimmed_total{what=\"queue\"} %llu\n",
	    (unsigned long long)srv->trimmed_replies);
	family(t, "aish_readers_dropped_total", "counter",
	    "Readers disconnected for letting frames pile up unread.");
	put(t, "aish_readers_dropped_total %llu\n",
	    (unsigned long long)srv->readers_dropped);
}

/* The latency histogram and the errors of every provider used. */
static void
put_providers(struct text *t, struct rh_server *srv)
{
	struct rh_stat	*st;
	uint64_t	 cum;
	size_t		 i;
	char		*p;

	family(t, "aish_provider_latency_seconds", "histogram",
	    "Time from a provider call to its final reply.");
	for (st = srv->stats; st != NULL; st = st->next) {
		p = label_escape(st->provider);
		cum = 0;
		for (i = 0; i < NBOUNDS; i++) {
			cum += st->buckets[i];
			put(t, "aish_provider_latency_seconds_bucket"
			    "{provider=\"%s\",le=\"%g\"} %llu\n", p,
			    latency_bounds[i], (unsigned long long)cum);
		}
		put(t, "aish_provider_latency_seconds_bucket"
		    "{provider=\"%s\",le=\"+Inf\"} %llu\n", p,
		    (unsigned long long)st->count);
		put(t, "aish_provider_latency_seconds_sum{provider=\"%s\"} "
		    "%.3f\n", p, st->sum);
		put(t, "aish_provider_latency_seconds_count{provider=\"%s\"} "
		    "%llu\n", p, (unsigned long long)st->count);
		free(p);
	}
	family(t, "aish_provider_errors_total", "counter",
	    "Provider calls that failed.");
	for (st = srv->stats; st != NULL; st = st->next) {
		p = label_escape(st->provider);
		put(t, "aish_provider_errors_total{provider=\"%s\"} %llu\n", p,
		    (unsigned long long)st->errors);
		free(p);
	}
}

/* The text of GET /metrics (see metrics.h). */
char *
rh_metrics_text(struct rh_server *srv, size_t *len)
{
	struct text	t = { NULL, 0, 0 };
	char		*cluster;

	put_sockets(&t, srv);
	put_counters(&t, srv);
	put_bounds(&t, srv);
	put_providers(&t, srv);
	if ((cluster = rh_cluster_metrics_text(srv)) != NULL) {
		put(&t, "%s", cluster);
		free(cluster);
	}
	*len = t.len;
	return t.data;
}
