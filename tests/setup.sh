# tests/setup.sh: sourced by every integration test script.
#
# Gives each test its own aish-rhetor on a free loopback port (--port 0) and
# its own state directory, bounds the whole script in time, and stops every
# server it started when the script ends, however it ends.

set -eu

top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
top_srcdir=${top_srcdir:-$top_builddir}
RHETOR=${RHETOR:-$top_builddir/aish-rhetor}
WSC=${WSC:-$top_builddir/tests/tools/aish-wsc}
TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/aish-$TEST_NAME.XXXXXX")
# Under AddressSanitizer, or with the server under valgrind (VALGRIND=1),
# everything is slower and resident memory counts the checker's own:
# time limits stretch, and memory bounds are not checked (the normal build
# checks them).
if ldd "$RHETOR" 2>/dev/null | grep -q libasan; then
	SANITIZED=1 SLOWDOWN=3
elif [ -n "${VALGRIND:-}" ]; then
	SANITIZED=1 SLOWDOWN=10
else
	SANITIZED=0 SLOWDOWN=1
fi
export SANITIZED SLOWDOWN
TEST_TIMEOUT=$(( ${TEST_TIMEOUT:-120} * SLOWDOWN ))
# Never probe a real Ollama: every test server stays on its own providers.
export AISH_OLLAMA_URL=
SERVER_PID=
URL=
WSURL=
STATE_DIR=
passed=0
failed=0

# Memory checkers.  In a build with --enable-asan or --enable-ubsan, every
# program a script starts writes what the sanitizers find to a file in
# REPORT_DIR; with VALGRIND=1 (make check VALGRIND=1), start_server runs
# aish-rhetor under valgrind, which writes there too.  finish fails the
# script when any such report exists.
REPORT_DIR=$TEST_TMP/reports
mkdir -p "$REPORT_DIR"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$REPORT_DIR/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$REPORT_DIR/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
RHETOR_WRAPPER=()
if [ -n "${VALGRIND:-}" ]; then
	RHETOR_WRAPPER=(valgrind --quiet --error-exitcode=99 --leak-check=full
		--show-leak-kinds=definite --errors-for-leak-kinds=definite
		--log-file="$REPORT_DIR/valgrind.%p")
fi

# memory_reports: prints every sanitizer or valgrind report written so far
# and fails when there is one.
memory_reports() {
	local f found=0
	for f in "$REPORT_DIR"/*; do
		[ -s "$f" ] || continue
		found=1
		echo "memory report $(basename "$f"):"
		cat "$f"
	done
	[ "$found" -eq 0 ]
}

# Stops whatever is still running and removes the scratch directory.
cleanup() {
	if [ -n "$SERVER_PID" ]; then
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	if [ -n "${WATCHDOG_PID:-}" ]; then
		pkill -P "$WATCHDOG_PID" 2>/dev/null || true
		kill "$WATCHDOG_PID" 2>/dev/null || true
	fi
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT

# A watchdog ends a script that runs past TEST_TIMEOUT seconds.
( sleep "$TEST_TIMEOUT" >/dev/null 2>&1; echo "$TEST_NAME: timed out after ${TEST_TIMEOUT}s" >&2;
  kill -TERM $$ ) 2>/dev/null >/dev/null &
WATCHDOG_PID=$!

# start_server [DIR] [ARGS...]: starts aish-rhetor on a free port with state
# in DIR (a new directory when DIR is empty) and waits for its first line.
start_server() {
	STATE_DIR=${1:-}
	[ $# -gt 0 ] && shift
	[ -n "$STATE_DIR" ] || STATE_DIR=$(mktemp -d "$TEST_TMP/state.XXXXXX")
	: > "$TEST_TMP/server.out"
	${RHETOR_WRAPPER[@]+"${RHETOR_WRAPPER[@]}"} \
		"$RHETOR" --port 0 --state-dir "$STATE_DIR" "$@" \
		> "$TEST_TMP/server.out" 2>> "$TEST_TMP/server.err" &
	SERVER_PID=$!
	local i line
	for i in $(seq 1 $(( ${#RHETOR_WRAPPER[@]} ? 600 : 100 ))); do
		line=$(head -n 1 "$TEST_TMP/server.out" 2>/dev/null || true)
		case "$line" in
		"listening on http://"*)
			URL=${line#listening on }
			WSURL=ws://${URL#http://}
			return 0 ;;
		esac
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			echo "aish-rhetor exited at start:" >&2
			cat "$TEST_TMP/server.err" >&2
			SERVER_PID=
			return 1
		fi
		sleep 0.05
	done
	echo "aish-rhetor did not say where it listens" >&2
	return 1
}

# stop_server: SIGTERM, then waits for the process to end.
stop_server() {
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

# kill9_server: kills the server without letting it clean up.
kill9_server() {
	kill -KILL "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

# http METHOD PATH [BODY]: one request; the body lands in $BODY, the status
# in $STATUS.  Extra curl arguments may be given in the HTTP_ARGS array.
http() {
	local method=$1 path=$2 data=${3-}
	rm -f "$TEST_TMP/body"
	local args=(-s -o "$TEST_TMP/body" -w '%{http_code}' --max-time 10 -X "$method")
	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
	STATUS=$(curl "${args[@]}" ${HTTP_ARGS[@]+"${HTTP_ARGS[@]}"} "$URL$path") || STATUS=000
	BODY=$(cat "$TEST_TMP/body" 2>/dev/null || true)
}

# jget JSON EXPR: prints one field of a JSON document (jq syntax).
jget() {
	printf '%s' "$1" | jq -r "$2"
}

# ok NAME: records a passing check.
ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}

# fail NAME [DETAIL]: records a failing check and goes on.
fail() {
	failed=$((failed + 1))
	echo "not ok - $1${2:+: $2}"
}

# check NAME EXPECTED ACTUAL: passes when both strings are equal.
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "expected [$2], got [$3]"; fi
}

# check_match NAME PATTERN ACTUAL: passes when ACTUAL matches the glob.
check_match() {
	# shellcheck disable=SC2254
	case "$3" in $2) ok "$1" ;; *) fail "$1" "[$3] does not match [$2]" ;; esac
}

# finish: prints the tally and the script's wall time, and exits non-zero
# when a check failed.
finish() {
	memory_reports || fail "no sanitizer or valgrind report"
	echo "$passed passed, $failed failed in ${SECONDS}s"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

# http_file METHOD PATH FILE: like http, with the body read from FILE (for
# bodies too big to pass as an argument).
http_file() {
	local method=$1 path=$2 file=$3
	STATUS=$(curl -s -o "$TEST_TMP/body" -w '%{http_code}' --max-time 20 \
		-X "$method" -H 'Content-Type: application/json' \
		--data-binary "@$file" ${HTTP_ARGS[@]+"${HTTP_ARGS[@]}"} \
		"$URL$path") || STATUS=${STATUS:-000}
	BODY=$(cat "$TEST_TMP/body" 2>/dev/null || true)
}

# ws_upgrade PATH ['Name: value']...: asks for a WebSocket upgrade of PATH
# (with the extra header lines given) and prints the HTTP status of the
# answer, 101 when accepted, 000 when none came within 2 s.  It talks over
# bash's /dev/tcp rather than curl, which would wait on after a 101.
# WS_HOST, when set, is sent as the Host header instead of the server's.
ws_upgrade() {
	local path=$1 hostport=${URL#http://} fd line header request
	shift
	request="GET $path HTTP/1.1\r\nHost: ${WS_HOST:-$hostport}\r\n"
	request+="Connection: Upgrade\r\nUpgrade: websocket\r\n"
	request+="Sec-WebSocket-Version: 13\r\n"
	request+="Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	for header in "$@"; do request+="$header\r\n"; done
	if ! exec {fd}<>"/dev/tcp/${hostport%:*}/${hostport##*:}"; then
		echo 000
		return 0
	fi
	printf '%b\r\n' "$request" >&"$fd" 2>/dev/null || true
	line=
	IFS= read -r -t 2 line <&"$fd" || true
	exec {fd}>&-
	line=${line#HTTP/1.[01] }
	line=${line%%[!0-9]*}
	echo "${line:-000}"
}

# check_error NAME STATUS CODE: passes when the last http answer has status
# STATUS and the body {"error":{"code":CODE,"message":"<text>"}}; STATUS and
# CODE may be globs and lists of alternatives, as 'bad_json|bad_request'.
shopt -s extglob
check_error() {
	local fields
	fields=$(printf '%s' "$BODY" | jq -R -s -r "[.] | $ERROR_FIELDS" 2>/dev/null || true)
	judge_error "$1" "$2" "$3" "${fields%%$'\t'*}" "${fields#*$'\t'}"
}

# The jq program check_error runs: for each body of an array of strings,
# one line "CODE<tab>1", the 1 when there is a message; "<tab>" for a body
# that is not such an error.
ERROR_FIELDS='.[] | try (fromjson |
	"\(.error.code // "")\t\(if (.error.message | type) == "string"
	and (.error.message | length) > 0 then 1 else "" end)") catch "\t"'

# judge_error NAME STATUS CODE GOT_CODE HAS_MESSAGE: check_error's verdict
# on the answer in $STATUS and $BODY, whose fields are given.
judge_error() {
	# shellcheck disable=SC2254
	case "$STATUS $4" in
	@($2)" "@($3))
		if [ -n "$5" ]; then ok "$1"
		else fail "$1" "no error message in [$BODY]"; fi ;;
	*)	fail "$1" "expected $2 $3, got $STATUS [$(printf '%.300s' "$BODY")]" ;;
	esac
}

# ws_run OUT SOCKET [AISH-WSC ARGS...] < SCRIPT: plays SCRIPT on the
# WebSocket of SOCKET with aish-wsc; the frames it prints land in OUT, its
# stderr in OUT.err, its exit status in $WS_RC.  -t defaults to 10 s.
ws_run() {
	local out=$1 sock=$2
	shift 2
	WS_RC=0
	"$WSC" -t 10000 "$@" "$WSURL/ws/socket/$sock" > "$out" 2> "$out.err" ||
		WS_RC=$?
}

# wait_file FILE: waits (up to 5 s, times SLOWDOWN) until FILE exists, as
# the one aish-wsc -r FILE makes once its connection is in; fails when not.
wait_file() {
	local i
	for i in $(seq 1 $((100 * SLOWDOWN))); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	echo "wait_file: no $1 after $((5 * SLOWDOWN)) s" >&2
	return 1
}

# wait_for WHAT CMD [ARGS...]: runs CMD every 50 ms (up to 5 s, times
# SLOWDOWN) until it succeeds; fails, saying it waited for WHAT, when not.
wait_for() {
	local what=$1 i
	shift
	for i in $(seq 1 $((100 * SLOWDOWN))); do
		"$@" && return 0
		sleep 0.05
	done
	echo "wait_for: no $what after $((5 * SLOWDOWN)) s" >&2
	return 1
}

# metric_is NAME VALUE: true when GET /metrics gives the sample NAME the
# value VALUE (the answer stays in $BODY).
metric_is() {
	http GET /metrics
	[ "$(printf '%s\n' "$BODY" | awk -v n="$1" '$1 == n { print $2; exit }')" = "$2" ]
}

# fq OUT FILTER: runs the jq FILTER over all frames of OUT slurped into one
# array (prints "jq-error" when a line is not JSON, so that checks fail).
fq() {
	jq -r -s "$2" "$1" 2>/dev/null || echo jq-error
}

# now_ms: milliseconds since the epoch.
now_ms() {
	date +%s%3N
}

# queue_size SOCKET: the socket's queue_size as GET /api/ai/socket/{id} says.
queue_size() {
	http GET "/api/ai/socket/$1"
	jget "$BODY" .queue_size 2>/dev/null || echo "?"
}

# wait_queue SOCKET N: polls (up to 3 s, times SLOWDOWN) until SOCKET's
# queue holds N replies; prints the size last seen.
wait_queue() {
	local i n=
	for i in $(seq 1 $((60 * SLOWDOWN))); do
		n=$(queue_size "$1")
		[ "$n" = "$2" ] && break
		sleep 0.05
	done
	echo "$n"
}

# The aish command line under test (AISH overrides it).
AISH=${AISH:-$top_builddir/aish}

# aish_run OUT [AISH ARGS...]: runs aish against the test server (bounded
# to 20 s); stdout lands in OUT, stderr in OUT.err, the status in $RC.
aish_run() {
	local out=$1
	shift
	RC=0
	AISH_RHETOR_URL=$URL timeout 20 "$AISH" "$@" > "$out" 2> "$out.err" ||
		RC=$?
}

# server_port: the port of the running test server.
server_port() {
	echo "${URL##*:}"
}

# ---- aish-bridge tests ----

BRIDGE=${BRIDGE:-$top_builddir/aish-bridge}
export BRIDGE top_builddir

# py_checks SCRIPT [ARGS...]: runs a Python test script (with
# tests/tools and tests/lib on its path) and counts its "ok - " and "not ok - " lines
# as checks; its other output is shown as it is.  A script that dies
# without a word counts as one failed check.
py_checks() {
	local line rc=0
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) failed=$((failed + 1)); echo "$line" ;;
		"PYEXIT "*) fail "$1 ended early (status ${line#PYEXIT })" ;;
		*) echo "$line" ;;
		esac
	done < <(PYTHONPATH="$top_srcdir/tests/tools:$top_srcdir/tests/lib${PYTHONPATH:+:$PYTHONPATH}" \
		URL="$URL" timeout "$(( ${PY_TIMEOUT:-60} * SLOWDOWN ))" python3 "$@" 2>&1 || echo "PYEXIT $?")
	return 0
}

# editor_fixture: starts a server for the editor tests with two slow
# streaming echo sockets ($SLOW answers in 800 ms, $SLOWER in 4 s, in four
# chunks each) and two groups: duo (athena, apollo) and slowduo ($SLOW,
# apollo).
editor_fixture() {
	start_server
	SLOW=$(editor_slow_socket slow 800)
	SLOWER=$(editor_slow_socket slower 4000)
	check "slow sockets made" "slow-1 slower-1" "$SLOW $SLOWER"
	http PUT /api/ai/groups/duo '{"members":["athena","apollo"]}'
	check "group duo made" "200 athena,apollo" \
		"$STATUS $(jget "$BODY" '.members | join(",")')"
	http PUT /api/ai/groups/slowduo "{\"members\":[\"$SLOW\",\"apollo\"]}"
	check "group slowduo made" "200 $SLOW,apollo" \
		"$STATUS $(jget "$BODY" '.members | join(",")')"
}

# editor_slow_socket NAME DELAY_MS: an echo socket that answers after
# DELAY_MS in four chunks; prints its socket id.
editor_slow_socket() {
	http POST /api/ai/socket/create \
		"{\"ai_name\":\"$1\",\"context\":{\"echo\":{\"delay_ms\":$2,\"chunks\":4}}}"
	jget "$BODY" .socket_id
}
