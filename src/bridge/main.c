/*
 * main.c: aish-bridge, JSON-RPC 2.0 over stdin/stdout for editors and
 * scripts, on top of libaish.
 *
 * main() does this:
 *  1. reads the options (the URL from --rhetor, AISH_RHETOR_URL or the
 *     default; the token from --token or AISH_TOKEN);
 *  2. with the default URL and nothing listening there, starts
 *     aish-rhetor (unless --no-spawn) and waits for its /health;
 *  3. makes one libwebsockets context (TLS only for an https/wss URL),
 *     a vhost of its own that adopts stdin, and a libaish handle in the
 *     same context (libaish's caller's-loop mode);
 *  4. services the loop until stdin has ended and every request in
 *     flight is answered, or until exit.
 * Logs go to stderr or --log FILE, never to stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <aish/protocol.h>
#include "bridge.h"
#include "lsp.h"
#include "spawn-rhetor.h"
#include "token-file.h"
#include "xalloc.h"

struct bridge	 br;
static FILE	*logfp;
static int	 verbose;

static const char usage_text[] =
    "usage: aish-bridge [--rhetor URL] [--no-spawn] "
    "[--framing auto|lsp|ndjson]\n"
    "                   [--log FILE] [--token TOKEN | --token-file FILE]\n"
    "                   [--verbose]\n"
    "                   [--max-message BYTES] [--max-depth N] "
    "[--max-inflight N]\n"
    "                   [--unreachable-ms MS] [--actions FILE]\n"
    "                   [--mcp | --acp]\n"
    "JSON-RPC 2.0 over stdin/stdout for aish-rhetor; see aish-bridge(1).\n";

/* Writes one log line to stderr or the log file. */
void
logmsg(const char *fmt, ...)
{
	va_list		ap;
	struct timespec	ts;

	if (!verbose)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(logfp, "aish-bridge[%ld] %lld.%03ld ", (long)getpid(),
	    (long long)ts.tv_sec, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(logfp, fmt, ap);
	va_end(ap);
	fputc('\n', logfp);
	fflush(logfp);
}

/* Ends the loop once stdin is over and nothing is left to answer. */
void
bridge_maybe_quit(void)
{
	if (br.eof && br.n_inflight == 0 && br.batches_open == 0)
		br.quit = 1;
}

/* ---- stdin in the loop ---- */

/* The raw-file protocol that reads stdin. */
static int
stdin_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	char	buf[65536];
	ssize_t	n;

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		n = read(STDIN_FILENO, buf, sizeof buf);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1;	/* the end: RAW_CLOSE_FILE follows */
		framing_feed(buf, (size_t)n);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		logmsg("end of stdin; %zu requests in flight", br.n_inflight);
		framing_eof();
		br.eof = 1;
		client_calls_end();
		bridge_maybe_quit();
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols bridge_protocols[] = {
	{ "aish-stdin", stdin_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---- start-up ---- */

/* Sends libwebsockets' own logs to ours. */
static void
lws_log(int level, const char *line)
{
	logmsg("lws: %.*s", (int)strcspn(line, "\n"), line);
}

/* Parses a positive number option. */
static long
number_arg(const char *name, const char *s, long min, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "aish-bridge: bad %s '%s' (%ld to %ld)\n",
		    name, s, min, max);
		exit(2);
	}
	return v;
}

/* Reads the command line into br. */
static void
parse_options(int argc, char **argv)
{
	static const struct option	opts[] = {
		{ "rhetor", required_argument, NULL, 'r' },
		{ "no-spawn", no_argument, NULL, 'n' },
		{ "framing", required_argument, NULL, 'f' },
		{ "log", required_argument, NULL, 'l' },
		{ "token", required_argument, NULL, 't' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "max-message", required_argument, NULL, 'M' },
		{ "max-depth", required_argument, NULL, 'D' },
		{ "max-inflight", required_argument, NULL, 'I' },
		{ "unreachable-ms", required_argument, NULL, 'U' },
		{ "actions", required_argument, NULL, 'A' },
		{ "mcp", no_argument, NULL, 'm' },
		{ "acp", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char	why[1024];
	int	c;

	while ((c = getopt_long(argc, argv, "r:nf:l:t:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			br.url = optarg;
			break;
		case 'n':
			br.spawn = 0;
			break;
		case 'f':
			if (strcmp(optarg, "lsp") == 0)
				br.framing = FRAMING_LSP;
			else if (strcmp(optarg, "ndjson") == 0)
				br.framing = FRAMING_NDJSON;
			else if (strcmp(optarg, "auto") == 0)
				br.framing = FRAMING_AUTO;
			else {
				fprintf(stderr, "aish-bridge: bad framing "
				    "'%s' (auto, lsp or ndjson)\n", optarg);
				exit(2);
			}
			break;
		case 'l':
			if ((logfp = fopen(optarg, "a")) == NULL) {
				fprintf(stderr, "aish-bridge: %s: %s\n",
				    optarg, strerror(errno));
				exit(2);
			}
			verbose = 1;
			break;
		case 't':
			br.token = optarg;
			break;
		case 'T':
			/* Kept for the bridge's life, which is the process's. */
			if ((br.token = ac_token_file_read(optarg, why,
			    sizeof why)) == NULL) {
				fprintf(stderr, "aish-bridge: bad --token-file: "
				    "%s\n", why);
				exit(2);
			}
			break;
		case 'v':
			verbose = 1;
			break;
		case 'M':
			br.max_message = (size_t)number_arg("--max-message",
			    optarg, 64, 1L << 30);
			break;
		case 'D':
			br.max_depth = (int)number_arg("--max-depth", optarg,
			    2, 1000);
			break;
		case 'I':
			br.max_inflight = (size_t)number_arg("--max-inflight",
			    optarg, 1, 100000);
			break;
		case 'U':
			br.unreachable_ms = number_arg("--unreachable-ms",
			    optarg, 0, BRIDGE_MAX_TIMEOUT_MS);
			break;
		case 'A':
			if (lsp_actions_load(optarg, why, sizeof why) != 0) {
				fprintf(stderr, "aish-bridge: bad --actions: "
				    "%s\n", why);
				exit(2);
			}
			break;
		case 'm':
			br.face = &face_mcp;
			break;
		case 'a':
			br.face = &face_acp;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			printf("aish-bridge %s\n", AISH_VERSION);
			exit(0);
		default:
			fputs(usage_text, stderr);
			exit(2);
		}
	}
	/* MCP's and ACP's stdio transports are one JSON message per line. */
	if (br.face != NULL)
		br.framing = FRAMING_NDJSON;
	if (optind < argc) {
		fprintf(stderr, "aish-bridge: unexpected argument '%s'\n%s",
		    argv[optind], usage_text);
		exit(2);
	}
}

/* True when something accepts TCP connections at the default address
 * (a cheap test, so that a running server costs no HTTP request). */
static int
default_port_open(void)
{
	struct sockaddr_in	sa;
	int			fd, ok;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(AISH_DEFAULT_PORT);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

/* Step 2: starts aish-rhetor when the default URL has no server. */
static void
maybe_spawn(void)
{
	char	err[256];

	if (!br.spawn || strcmp(br.url, AISH_DEFAULT_URL) != 0 ||
	    default_port_open())
		return;
	logmsg("nothing listens at %s: starting aish-rhetor", br.url);
	if (ac_spawn_rhetor(br.url, err, sizeof err) != 0)
		logmsg("could not start aish-rhetor: %s", err);
}

/* True when the URL, or one of a comma-separated list, needs TLS. */
static int
url_is_tls(const char *url)
{
	const char	*at = url;

	for (;;) {
		at += strspn(at, " \t");
		if (strncmp(at, "https:", 6) == 0 || strncmp(at, "wss:", 4) == 0)
			return 1;
		if ((at = strchr(at, ',')) == NULL)
			return 0;
		at++;
	}
}

/* Step 3: the context, stdin in it, and the libaish handle. */
static int
setup_loop(void)
{
	struct lws_context_creation_info	info;
	aish_options_t				o;
	aish_error_t				err;

	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	if (url_is_tls(br.url))
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.pt_serv_buf_size = AISH_CLIENT_SERV_BUF;
	info.gid = -1;
	info.uid = -1;
	if ((br.ctx = lws_create_context(&info)) == NULL)
		return -1;
	memset(&info, 0, sizeof info);
	info.vhost_name = "aish-bridge";
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = bridge_protocols;
	info.gid = -1;
	info.uid = -1;
	if ((br.vhost = lws_create_vhost(br.ctx, &info)) == NULL)
		return -1;
	memset(&o, 0, sizeof o);
	o.url = br.url;
	o.token = br.token;
	o.context = br.ctx;
	o.on_message = on_aish_message;
	o.on_state = on_aish_state;
	/* A server that comes back is found within a second; a request
	 * connects at once anyway. */
	o.retry_max_ms = BRIDGE_RETRY_MAX_MS;
	if ((err = aish_new(&o, &br.aish)) != AISH_OK) {
		if (err == AISH_E_INVALID && br.token != NULL &&
		    strpbrk(br.token, "\r\n") != NULL)
			fprintf(stderr, "aish-bridge: the token holds a line "
			    "break\n");
		else
			fprintf(stderr, "aish-bridge: %s: %s\n", br.url,
			    err == AISH_E_INVALID ? "not a server URL "
			    "(http://HOST:PORT, or several separated by "
			    "commas)" : aish_strerror(err));
		return -1;
	}
	br.node_url = aish_node_url(br.aish);
	fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
	fcntl(STDOUT_FILENO, F_SETFL,
	    fcntl(STDOUT_FILENO, F_GETFL) & ~O_NONBLOCK);
	if (lws_adopt_descriptor_vhost(br.vhost, LWS_ADOPT_RAW_FILE_DESC,
	    (lws_sock_file_fd_type){ .filefd = STDIN_FILENO }, "aish-stdin",
	    NULL) == NULL) {
		fprintf(stderr, "aish-bridge: cannot watch stdin\n");
		return -1;
	}
	return 0;
}

/* Sets the defaults of br. */
static void
defaults(void)
{
	const char	*env;

	memset(&br, 0, sizeof br);
	br.spawn = 1;
	br.connected = -1;
	br.max_message = BRIDGE_MAX_MESSAGE;
	br.max_depth = BRIDGE_MAX_DEPTH;
	br.max_header = BRIDGE_MAX_HEADER;
	br.max_inflight = BRIDGE_MAX_INFLIGHT;
	br.unreachable_ms = BRIDGE_UNREACHABLE_MS;
	env = getenv("AISH_RHETOR_URL");
	br.url = env != NULL && *env != '\0' ? env : AISH_DEFAULT_URL;
	env = getenv("AISH_TOKEN");
	br.token = env != NULL && *env != '\0' ? env : NULL;
	logfp = stderr;
}

/* Steps 1 to 4 of the comment at the top. */
int
main(int argc, char **argv)
{
	const char	*cred;

	defaults();
	parse_options(argc, argv);
	if ((cred = ac_url_credentials(br.url)) != NULL) {
		fprintf(stderr, "aish-bridge: %s: %s\n", br.url, cred);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(verbose ? LLL_ERR | LLL_WARN : 0, lws_log);
	maybe_spawn();
	if (setup_loop() != 0)
		return 1;
	session_probe();
	ainame_prefetch();
	while (!br.quit) {
		if (lws_service(br.ctx, 0) < 0)
			break;
		framing_flush();
	}
	framing_flush();
	logmsg("exiting with status %d", br.exit_code);
	/* Answers are all written; nothing kept needs an orderly close. */
	aish_free(br.aish);
	lws_context_destroy(br.ctx);
	lsp_docs_free();
	return br.exit_code;
}
