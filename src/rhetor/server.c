/*
 * server.c: the server's life: open the state, listen, run the loop, stop.
 *
 * HTTP and WebSocket share one port.  Its vhost accepts raw connections
 * for http.c, which reads HTTP/1.1 itself (libwebsockets 4.1 spins on
 * pipelined requests) and hands each checked WebSocket upgrade to a
 * second vhost that listens nowhere; there libwebsockets does the
 * upgrade, and rh_callback sends each WebSocket event to ws.c.
 */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "delivery.h"
#include "groups.h"
#include "http.h"
#include "metrics.h"
#include "provider.h"
#include "registry.h"
#include "server.h"
#include "trim.h"
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

/* The WebSocket protocol: connections that http.c handed over. */
static int
rh_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
	case LWS_CALLBACK_RECEIVE:
	case LWS_CALLBACK_SERVER_WRITEABLE:
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
	case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED:
		return rh_ws_event(wsi, reason, user, in, len);
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return rh_ws_confirm_upgrade(wsi, in);
	case LWS_CALLBACK_HTTP:
		/* Only upgrades come here; anything else ends it. */
		return -1;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* The HTTP worker has provider answers for the loop. */
		rh_providers_dispatch();
		/* and the cluster's threads what they heard */
		rh_cluster_dispatch(rh_server_of(wsi));
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ "aish", rh_callback, sizeof(struct rh_conn), 64 * 1024, 0, NULL, 0 },
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

/* The numeric address to listen on for host (a name is looked up, an
 * IPv4 address preferred), into addr; -1 when it names nothing. */
static int
listen_address(const char *host, char *addr, size_t len)
{
	struct addrinfo	 hints, *res, *r, *pick = NULL;
	int		 rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		rh_log("cannot listen on %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (r = res; r != NULL; r = r->ai_next) {
		if (pick == NULL || (r->ai_family == AF_INET &&
		    pick->ai_family != AF_INET))
			pick = r;
	}
	rc = getnameinfo(pick->ai_addr, pick->ai_addrlen, addr, (socklen_t)len,
	    NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(res);
	if (rc != 0) {
		rh_log("cannot listen on %s: %s", host, gai_strerror(rc));
		return -1;
	}
	return 0;
}

/* Creates the lws context, the listening vhost on host:port, and the
 * vhost that takes the WebSocket upgrades. */
static int
listen_on(struct rh_server *srv)
{
	struct lws_context_creation_info	info;
	char					addr[64];

	if (listen_address(srv->opt.host, addr, sizeof addr) != 0)
		return -1;
	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.user = srv;
	/* An upgrade's head, a 4 KiB token included, whole. */
	info.max_http_header_data = 16 * 1024;
	srv->context = lws_create_context(&info);
	if (srv->context == NULL) {
		rh_log("cannot create the event loop");
		return -1;
	}

	memset(&info, 0, sizeof info);
	info.port = srv->opt.port;
	info.iface = addr;
	info.protocols = rh_http_protocols;
	info.vhost_name = "aish";
	info.options = LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG;
	info.listen_accept_role = "raw-skt";
	info.listen_accept_protocol = rh_http_protocols[0].name;
	if (strchr(addr, ':') == NULL)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	srv->vhost = lws_create_vhost(srv->context, &info);
	if (srv->vhost == NULL) {
		rh_log("cannot listen on %s:%d", addr, srv->opt.port);
		return -1;
	}
	srv->port = lws_get_vhost_listen_port(srv->vhost);
	srv->listen_addr = xstrdup(addr);

	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = protocols;
	info.vhost_name = "aish-ws";
	if ((srv->ws_vhost = lws_create_vhost(srv->context, &info)) == NULL) {
		rh_log("cannot make the WebSocket vhost");
		return -1;
	}

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
	/* The transports, through which the core reaches readers. */
	rh_listener_add(srv, &rh_ws_listener);
	rh_listener_add(srv, &rh_http_listener);
	srv->opt.host = xstrdup(opt->host);
	srv->opt.port = opt->port;
	srv->opt.abandon_ms = opt->abandon_ms;
	srv->opt.max_state_bytes = opt->max_state_bytes;
	srv->opt.state_dir = xstrdup(opt->state_dir);
	srv->opt.token = opt->token ? xstrdup(opt->token) : NULL;
	srv->opt.cluster = opt->cluster ? xstrdup(opt->cluster) : NULL;
	srv->opt.node = opt->node ? xstrdup(opt->node) : NULL;

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
	if (listen_on(srv) != 0 || rh_cluster_open(srv) != 0)
		return -1;
	if (rh_trim_start(srv) != 0) {
		rh_log("cannot bound the state: %s",
		    rh_store_error(srv->store));
		return -1;
	}
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
	rh_trim_stop(srv);
	/* The cluster's threads wake the loop too. */
	rh_cluster_close(srv);
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
	free(srv->listen_addr);
	srv->listen_addr = NULL;
}
