/*
 * spawn-rhetor.h: makes sure an aish-rhetor answers, starting one when
 * needed.  Shared by the clients (aish, aish-bridge); it depends on libc
 * only (its /health probe is a plain HTTP/1.0 request).
 *
 * The server started here is detached (a session of its own, no terminal,
 * output to STATE_DIR/aish-rhetor.log) and outlives its starter; its pid is
 * written to STATE_DIR/aish-rhetor.pid.  STATE_DIR is the server's default
 * state directory: $XDG_STATE_HOME/aish, else ~/.local/state/aish.
 */
#ifndef AC_SPAWN_RHETOR_H
#define AC_SPAWN_RHETOR_H

#include <stddef.h>

/* How long ac_spawn_rhetor() waits for a started server's /health. */
#define AC_SPAWN_RHETOR_WAIT_MS	3000

/* True when GET url/health answers 200 within timeout_ms; url must be
 * an http:// URL (any other is never probed: 0). */
int	ac_rhetor_healthy(const char *url, long timeout_ms);
/*
 * Returns 0 when a server answers url's /health, starting aish-rhetor
 * first (the one next to the running program, else the one on PATH) on
 * url's host and port when nothing answers.  Returns -1 with the reason
 * in err when no server answers in the end.
 */
int	ac_spawn_rhetor(const char *url, char *err, size_t errlen);

#endif
