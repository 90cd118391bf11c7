/*
 * fuzz-bridge-methods.c: fuzzes aish-bridge's real methods: every file of
 * the bridge but main.c (framing, dispatch, the aish/ methods with their
 * params, the LSP and MCP faces), over the real libaish, whose server is
 * a port where nothing listens, so that every call that gets past its
 * params fails the way an unreachable server makes it fail.
 *
 * The first byte of an input picks how the rest is cut into the chunks
 * stdin would deliver, as fuzz-bridge.c does.  After the end of input the
 * loop runs until no request is in flight (at most FUZZ_LOOP_MS), then
 * every request still in flight is cancelled: the in-flight table and the
 * open batches must be empty.  Answers go to stdout, /dev/null here.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <aish/protocol.h>
#include "bridge.h"
#include "fuzz.h"
#include "lsp.h"

/* Nothing listens on port 1 of loopback: connections fail at once. */
#define FUZZ_URL	"http://127.0.0.1:1"
#define FUZZ_LOOP_MS	200

struct bridge br;

/* The bridge's log: quiet while fuzzing. */
void
logmsg(const char *fmt, ...)
{
}

/* The real bridge leaves its loop here; the harness looks at br.quit. */
void
bridge_maybe_quit(void)
{
	if (br.eof && br.n_inflight == 0 && br.batches_open == 0)
		br.quit = 1;
}

/* Milliseconds of a monotonic clock. */
static int64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A timer every 10 ms, so that the loop comes back to the harness. */
static lws_sorted_usec_list_t	tick_sul;

/* Timer: nothing to do but wake the loop up. */
static void
tick(lws_sorted_usec_list_t *sul)
{
}

/* Runs the loop until no request is in flight or FUZZ_LOOP_MS pass. */
static void
run_loop(void)
{
	int64_t	until = mono_ms() + FUZZ_LOOP_MS;

	while (br.n_inflight > 0 && mono_ms() < until) {
		lws_sul_schedule(br.ctx, 0, &tick_sul, tick,
		    10 * LWS_US_PER_MS);
		if (lws_service(br.ctx, 0) < 0)
			break;
		framing_flush();
	}
	lws_sul_cancel(&tick_sul);
	framing_flush();
}

/* The loop and the libaish handle, made once; answers to /dev/null. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct lws_context_creation_info	info;
	aish_options_t				o;
	int					fd;

	if ((fd = open("/dev/null", O_WRONLY)) >= 0) {
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	lws_set_log_level(0, NULL);
	memset(&br, 0, sizeof br);
	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.pt_serv_buf_size = AISH_CLIENT_SERV_BUF;
	info.gid = -1;
	info.uid = -1;
	FUZZ_CHECK((br.ctx = lws_create_context(&info)) != NULL);
	memset(&o, 0, sizeof o);
	o.url = FUZZ_URL;
	o.context = br.ctx;
	o.on_message = on_aish_message;
	o.on_state = on_aish_state;
	o.retry_max_ms = 1000;
	FUZZ_CHECK(aish_new(&o, &br.aish) == AISH_OK);
	/* As main does: initialize answers once this health check has. */
	session_probe();
	return 0;
}

/* Puts the bridge in its state at start, with small limits; the loop and
 * the handle stay. */
static void
bridge_reset(void)
{
	struct lws_context	*ctx = br.ctx;
	aish_t			*h = br.aish;

	memset(&br, 0, sizeof br);
	br.ctx = ctx;
	br.aish = h;
	br.url = FUZZ_URL;
	br.framing = FRAMING_AUTO;
	br.max_message = 4096;
	br.max_depth = 8;
	br.max_header = 128;
	br.max_inflight = 4;
	br.unreachable_ms = 50;
	br.connected = -1;
}

/* One input: a chunking seed, then what stdin delivers. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	unsigned	 state;
	size_t		 off = 1, k;
	cJSON		*ids;

	if (len == 0)
		return 0;
	bridge_reset();
	state = data[0];
	while (off < len && !br.quit) {
		state = state * 1103515245u + 12345u;
		k = (state >> 16) % 4 == 0 ? len : 1 + (state >> 20) % 16;
		if (k > len - off)
			k = len - off;
		framing_feed((const char *)data + off, k);
		off += k;
	}
	framing_eof();
	br.eof = 1;
	client_calls_end();
	bridge_maybe_quit();
	run_loop();
	/* What is still in flight is cancelled; a request whose libaish
	 * call is still out ends when that call is told. */
	ids = req_cancel_matching(NULL);
	cJSON_Delete(ids);
	run_loop();
	FUZZ_CHECK(br.reqs == NULL && br.n_inflight == 0);
	FUZZ_CHECK(br.batches_open == 0);
	lsp_docs_free();
	return 0;
}
