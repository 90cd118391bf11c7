# cli-stream.sh: aish while replies take time: streaming as the deltas come,
# Ctrl-C cancelling the AI's work, --timeout-ms, and a server killed and
# restarted in the middle of a pipeline.
. "$(dirname "$0")/setup.sh"
TEST_TIMEOUT=30

start_server
O=$TEST_TMP/out

# slow-1: the whole reply after 1.5 s, in 3 deltas (at 0.5, 1.0, 1.5 s).
http POST /api/ai/socket/create '{"ai_name":"slow","context":{"echo":{"delay_ms":1500,"chunks":3}}}'
check "create slow-1" "slow-1" "$(jget "$BODY" .socket_id)"

# Streaming: the pieces reach the pipe well before the reply ends.  Each
# chunk read from aish's stdout is stamped with the time it arrived.
start=$(now_ms)
AISH_RHETOR_URL=$URL timeout 20 "$AISH" -c 'echo "one two three four five six" | slow-1' < /dev/null |
	while IFS= read -r -n 1 -d '' ch; do
		printf '%s %s\n' "$(( $(now_ms) - start ))" "$ch"
	done > "$TEST_TMP/stamps"
text=$(awk '{printf "%s", substr($0, index($0, " ") + 1)}' "$TEST_TMP/stamps")
check "streamed text" "[From Slow (slow-1)] slow: one two three four five six" "$text"
first=$(awk 'NR == 1 {print $1}' "$TEST_TMP/stamps")
last=$(awk 'NF > 1 {t = $1} END {print t}' "$TEST_TMP/stamps")
if [ "$first" -lt 1200 ] && [ "$last" -ge 1300 ]; then ok "output came in pieces ($first ms .. $last ms)"
else fail "output came in pieces" "first byte at $first ms, last at $last ms"; fi

# -o streams the raw text of the last stage as well.
aish_run "$O" -o -c 'echo "a b" | slow-1' < /dev/null
check "-o streamed" "slow: a b" "$(cat "$O")"

# Ctrl-C: status 130 within a second, and the server stops the work.
AISH_RHETOR_URL=$URL timeout 20 "$AISH" -c 'echo "stop me" | slow-1' < /dev/null > "$O" 2> "$O.err" &
pid=$!
wait_for "the write accepted" metric_is aish_messages_in_total 3 || true
start=$(now_ms)
kill -INT "$pid"
RC=0
wait "$pid" || RC=$?
took=$(( $(now_ms) - start ))
check "Ctrl-C: status" 130 "$RC"
if [ "$took" -lt 1000 ]; then ok "Ctrl-C: quick ($took ms)"; else fail "Ctrl-C: quick" "$took ms"; fi
check "Ctrl-C: message" "^C cancelled" "$(cat "$O.err")"
# The next write's reply (1.5 s) comes after the one stopped would have.
aish_run "$O" -o -c 'echo after | slow-1' < /dev/null
check "Ctrl-C: the socket answers again" "slow: after" "$(cat "$O")"
http GET /api/ai/socket/slow-1
check "Ctrl-C: nothing was answered (6 turns: 3 answered writes)" 6 "$(jget "$BODY" .history_size)"
check "Ctrl-C: nothing queued" 0 "$(jget "$BODY" .queue_size)"

# --timeout-ms: a stage silent that long fails with status 1 ...
aish_run "$O" --timeout-ms 300 -c 'echo late | slow-1' < /dev/null
check "--timeout-ms: status" 1 "$RC"
check "--timeout-ms: message" "aish: slow-1 was silent for 300 ms: no reply" "$(cat "$O.err")"
# ... but a reply that keeps streaming (a piece every 500 ms for 1.5 s) is
# never cut: the time counts from the last piece.
aish_run "$O" -o --timeout-ms 800 -c 'echo still | slow-1' < /dev/null
check "--timeout-ms: a streaming reply is not cut" "0 slow: still" "$RC $(cat "$O")"

# The server killed (-9) and restarted on the same port and state while
# slow-1 works: the pipeline completes, each stage exactly once.
port=$(server_port)
dir=$STATE_DIR
http GET /metrics
writes=$(printf '%s\n' "$BODY" | awk '$1 == "aish_messages_in_total" { print $2 }')
AISH_RHETOR_URL=$URL timeout 25 "$AISH" -c 'echo hi | slow-1 | apollo' < /dev/null > "$O" 2> "$O.err" &
pid=$!
wait_for "the first stage's write" metric_is aish_messages_in_total $((writes + 1)) || true
kill9_server
start_server "$dir" --port "$port"
check "restarted on the same port" "$port" "$(server_port)"
RC=0
wait "$pid" || RC=$?
check "restart: status" 0 "$RC"
check "restart: each stage once" "[From Slow (slow-1)] slow: hi
[From Apollo] apollo: slow: hi" "$(cat "$O")"
check "restart: no error" "" "$(cat "$O.err")"

# The server gone: status 3 at once.
stop_server
aish_run "$O" -r "$URL" -c 'echo hi | apollo' < /dev/null
check "server gone: status" 3 "$RC"

finish
