/*
 * fuzz-bridge.c: fuzzes aish-bridge's input side, the real framing reader
 * (src/bridge/framing.c) and JSON-RPC dispatch (src/bridge/rpc.c), with
 * the method tables replaced by small methods that need no server:
 * initialize, shutdown, exit, and aish/ methods that answer, fail, stay
 * in flight, or cancel.
 *
 * The first byte of an input picks how the rest is cut into the chunks
 * stdin would deliver; the limits are small so that inputs reach them.
 * After the end of input every request still in flight is cancelled, and
 * the in-flight table and open batches must then be empty.  Answers go to
 * stdout, which is /dev/null here.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "fuzz.h"

struct bridge br;

/* The bridge's log: quiet while fuzzing. */
void
logmsg(const char *fmt, ...)
{
}

/* The real bridge may exit here; the fuzzer goes on. */
void
bridge_maybe_quit(void)
{
}

/* libaish's error text, the one call rpc.c makes into it. */
const char *
aish_strerror(aish_error_t err)
{
	return "error";
}

/* initialize: the bridge is ready. */
static void
m_initialize(struct req *r, const cJSON *params)
{
	br.initialized = 1;
	req_result(r, cJSON_CreateObject());
}

/* shutdown: only exit remains. */
static void
m_shutdown(struct req *r, const cJSON *params)
{
	br.shut_down = 1;
	req_result(r, NULL);
}

/* exit: stop reading. */
static void
m_exit(struct req *r, const cJSON *params)
{
	br.quit = 1;
	req_result(r, NULL);
}

/* aish/echo: answers its params. */
static void
m_echo(struct req *r, const cJSON *params)
{
	req_result(r, cJSON_Duplicate(params, 1));
}

/* aish/fail: answers an error. */
static void
m_fail(struct req *r, const cJSON *params)
{
	req_error_aish(r, AISH_E_PROVIDER, "provider_error", NULL);
}

/* aish/hold: stays in flight until cancelled (a notification answers). */
static void
m_hold(struct req *r, const cJSON *params)
{
	if (r->id == NULL)
		req_result(r, NULL);
}

/* aish/cancel: cancels the request with params.id (all without). */
static void
m_cancel(struct req *r, const cJSON *params)
{
	const cJSON	*id = cJSON_GetObjectItemCaseSensitive(params, "id");

	req_result(r, req_cancel_matching(id));
}

const struct method methods_session[] = {
	{ "initialize", m_initialize, 1 },
	{ "shutdown", m_shutdown, 1 },
	{ "exit", m_exit, 1 },
	{ NULL, NULL, 0 }
};
const struct method methods_socket[] = {
	{ "aish/echo", m_echo, 0 },
	{ "aish/fail", m_fail, 0 },
	{ NULL, NULL, 0 }
};
const struct method methods_send[] = {
	{ "aish/hold", m_hold, 0 },
	{ "aish/cancel", m_cancel, 0 },
	{ NULL, NULL, 0 }
};

/* Sends the bridge's answers to /dev/null. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int	fd = open("/dev/null", O_WRONLY);

	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	return 0;
}

/* Puts the bridge in its state at start, with small limits. */
static void
bridge_reset(void)
{
	memset(&br, 0, sizeof br);
	br.framing = FRAMING_AUTO;
	br.max_message = 2048;
	br.max_depth = 8;
	br.max_header = 128;
	br.max_inflight = 4;
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
	framing_flush();
	ids = req_cancel_matching(NULL);
	cJSON_Delete(ids);
	FUZZ_CHECK(br.reqs == NULL && br.n_inflight == 0);
	FUZZ_CHECK(br.batches_open == 0);
	return 0;
}
