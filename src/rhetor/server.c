/*
 * server.c: the server's life: open the state, listen, run the loop, stop.
 *
 * HTTP and WebSocket share one port and one protocol: libwebsockets hands
 * every plain HTTP request and every WebSocket upgrade without a
 * subprotocol to the first protocol of the vhost, rh_callback, which sends
 * each event to http.c or ws.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "delivery.h"
#include "groups.h"
#include "http.h"
#include "metrics.h"
#include "provider.h"
#include "registry.h"
#include "server.h"
#include "ws.h"
#include "xalloc.h"

/* Changes noted with the store's _later functions (queue removals, activity
 * times) are stored at most this late, or when this many wait. */
#define FLUSH_DELAY_MS		100
#define FLUSH_MAX		64

/* Accepted write ids are remembered this long (a client re-sending a write
 * later than that runs it again); each flush sweeps this many rows of
 * them, so the table stops growing without the loop ever waiting long. */
#define WRITE_IDS_KEPT_MS	(30LL * 24 * 3600 * 1000)
#define WRITES_SWEEP_ROWS	256

/* Both halves of a connection's per-session data: lws gives every
 * connection of the protocol one of these, zeroed. */
struct rh_pss {
	struct rh_http_req	http;
	struct rh_conn		conn;
};

/* The one protocol: HTTP requests and WebSocket connections. */
static int
rh_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct rh_pss	*pss = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
	case LWS_CALLBACK_RECEIVE:
	case LWS_CALLBACK_SERVER_WRITEABLE:
	case LWS_CALLBACK_CLOSED:
		return rh_ws_event(wsi, reason, &pss->conn, in, len);
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return rh_ws_confirm_upgrade(wsi, in);
	case LWS_CALLBACK_HTTP:
	case LWS_CALLBACK_HTTP_BODY:
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
	case LWS_CALLBACK_HTTP_WRITEABLE:
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		return rh_http_event(wsi, reason, pss ? &pss->http : NULL,
		    in, len);
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* The HTTP worker has provider answers for the loop. */
		rh_providers_dispatch();
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ "aish", rh_callback, sizeof(struct rh_pss), 64 * 1024, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Milliseconds since the epoch. */
int64_t
rh_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds of a monotonic clock. */
int64_t
rh_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Formats an epoch time in ms as an ISO 8601 UTC time. */
void
rh_format_time(int64_t ms, char *buf, size_t len)
{
	time_t		t = (time_t)(ms / 1000);
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Logs one line on stderr. */
void
rh_log(const char *fmt, ...)
{
	va_list	ap;

	fputs("aish-rhetor: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The server that owns a connection. */
struct rh_server *
rh_server_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

/* Creates the lws context and the listening vhost on host:port. */
static int
listen_on(struct rh_server *srv)
{
	struct lws_context_creation_info	info;

	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.user = srv;
	srv->context = lws_create_context(&info);
	if (srv->context == NULL) {
		rh_log("cannot create the event loop");
		return -1;
	}

	memset(&info, 0, sizeof info);
	info.port = srv->opt.port;
	info.iface = srv->opt.host;
	info.protocols = protocols;
	info.vhost_name = "aish";
	info.max_http_header_data = 8192;
	info.options = 0;
	if (strchr(srv->opt.host, ':') == NULL)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	srv->vhost = lws_create_vhost(srv->context, &info);
	if (srv->vhost == NULL) {
		rh_log("cannot listen on %s:%d", srv->opt.host, srv->opt.port);
		return -1;
	}
	srv->port = lws_get_vhost_listen_port(srv->vhost);

	/* The exec provider's pipes, on a vhost no client can reach. */
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = rh_exec_protocols;
	info.vhost_name = "aish-pipes";
	if ((srv->pipes_vhost = lws_create_vhost(srv->context, &info)) ==
	    NULL) {
		rh_log("cannot make the vhost of the exec pipes");
		return -1;
	}
	return 0;
}

/* Opens the state, loads sockets and jobs, and starts listening. */
int
rh_server_init(struct rh_server *srv, const struct rh_options *opt)
{
	char	err[512], note[512];

	memset(srv, 0, sizeof *srv);
	srv->opt.host = xstrdup(opt->host);
	srv->opt.port = opt->port;
	srv->opt.abandon_ms = opt->abandon_ms;
	srv->opt.state_dir = xstrdup(opt->state_dir);
	srv->opt.token = opt->token ? xstrdup(opt->token) : NULL;

	lws_set_log_level(LLL_ERR, NULL);
	if (rh_store_open(&srv->store, srv->opt.state_dir, err,
	    sizeof err) != 0) {
		rh_log("cannot open the state in %s: %s", srv->opt.state_dir,
		    err);
		return -1;
	}
	/* Providers and roster before the sockets that name them. */
	rh_providers_setup(opt->config, note, sizeof note);
	rh_roster_setup(opt->config);
	rh_log("%s", note);
	if (rh_registry_load(srv) != 0 || rh_groups_load(srv) != 0) {
		rh_log("cannot load the sockets: %s",
		    rh_store_error(srv->store));
		return -1;
	}
	if (listen_on(srv) != 0)
		return -1;
	rh_log("state in %s, %d sockets, providers: %s",
	    srv->opt.state_dir, srv->nsockets, rh_provider_names());
	return rh_delivery_resume(srv);
}

/* Runs the loop until a signal asks it to stop. */
int
rh_server_run(struct rh_server *srv)
{
	while (!srv->interrupted) {
		if (lws_service(srv->context, 0) < 0)
			return 1;
	}
	return 0;
}

/* Timer: stores the changes noted with the store's _later functions. */
static void
flush_now(lws_sorted_usec_list_t *sul)
{
	struct rh_server	*srv = lws_container_of(sul, struct rh_server,
				    flush_sul);

	srv->flush_due = 0;
	if (rh_store_flush(srv->store) != 0)
		rh_log("cannot store the queue removals and activity times "
		    "noted: %s", rh_store_error(srv->store));
	if (rh_store_writes_forget(srv->store, rh_now_ms() - WRITE_IDS_KEPT_MS,
	    WRITES_SWEEP_ROWS) < 0)
		rh_log("cannot forget old write ids: %s",
		    rh_store_error(srv->store));
}

/* Stores the noted changes within FLUSH_DELAY_MS, or at the next pass of
 * the loop (outside any transaction) when FLUSH_MAX of them wait: they cost
 * one commit for many messages. */
void
rh_server_flush_soon(struct rh_server *srv)
{
	if (rh_store_pending(srv->store) >= FLUSH_MAX) {
		srv->flush_due = 1;
		lws_sul_schedule(srv->context, 0, &srv->flush_sul, flush_now,
		    0);
	} else if (!srv->flush_due) {
		srv->flush_due = 1;
		lws_sul_schedule(srv->context, 0, &srv->flush_sul, flush_now,
		    FLUSH_DELAY_MS * LWS_US_PER_MS);
	}
}

/* Frees everything; safe on a half-initialised server. */
void
rh_server_free(struct rh_server *srv)
{
	rh_delivery_stop_all(srv);
	/* The worker thread wakes the loop: it goes before the loop. */
	rh_providers_free();
	if (srv->context != NULL) {
		lws_sul_cancel(&srv->flush_sul);
		lws_context_destroy(srv->context);
	}
	srv->context = NULL;
	rh_groups_free(srv);
	rh_registry_free(srv);
	rh_metrics_free(srv);
	rh_roster_free();
	rh_store_close(srv->store);
	srv->store = NULL;
	rh_options_free(&srv->opt);
}
