#!/bin/bash
# server-abandon.sh: the work for a WebSocket writer that went away for
# good stops after --abandon-ms (the write ends with a "cancelled" error
# that waits in the queue); a writer that comes back in time gets its
# reply; HTTP writes are never abandoned.
. "$(dirname "$0")/setup.sh"

T=$TEST_TMP
start_server "" --abandon-ms 300
http POST /api/ai/socket/create '{"ai_name":"slow","context":{"echo":{"delay_ms":3000}}}'
slow=$(jget "$BODY" .socket_id)

# 1. The writer leaves and does not come back: the work stops.
ws_run "$T/gone" "$slow" <<'EOF'
{"type":"write","content":"a1","id":"a1"}
waitack 1
close
EOF
check "gone: the write was acked" 0 "$WS_RC"
# The read waits for the cancelled error, due --abandon-ms after the
# writer left and well before the reply (3 s after the write).
start=$(now_ms)
http GET "/api/ai/socket/$slow/read?wait_ms=4000"
elapsed=$(( $(now_ms) - start ))
check "gone: one final frame waits" 1 "$(jget "$BODY" '.messages | length')"
check "gone: it is a cancelled error for a1" "error cancelled a1" \
	"$(jget "$BODY" '.messages[0] | "\(.type) \(.code) \(.in_reply_to)"')"
check_match "gone: it was there before the reply was due" "[0-9]*" \
	"$( [ "$elapsed" -lt 1500 ] && echo "$elapsed" )"

# 2. The writer comes back within the grace time: the reply comes.
ws_run "$T/away" "$slow" <<'EOF'
{"type":"write","content":"a2","id":"a2"}
waitack 1
close
EOF
ws_run "$T/back" "$slow" -n 1 -t 6000 < /dev/null
check "back: the reply arrives" "read slow: a2 a2" \
	"$(fq "$T/back" '.[] | select(.type != "ack") | "\(.type) \(.content) \(.in_reply_to)"')"

# 3. An HTTP write is never abandoned, though a WebSocket reader left.
http POST "/api/ai/socket/$slow/write" '{"content":"a3","id":"a3"}'
ws_run "$T/peek" "$slow" < /dev/null
HTTP_ARGS=(--max-time 10)
http GET "/api/ai/socket/$slow/read?wait_ms=5000"
HTTP_ARGS=()
check "http: its reply arrives" "read slow: a3 a3" \
	"$(jget "$BODY" '.messages[] | "\(.type) \(.content) \(.in_reply_to)"')"

# 4. A bad value is refused at start.
if "$RHETOR" --port 0 --state-dir "$T/x" --abandon-ms -5 > /dev/null 2> "$T/bad.err"; then
	fail "bad --abandon-ms refused"
else
	check_match "bad --abandon-ms refused with a reason" "*abandon-ms*" "$(cat "$T/bad.err")"
fi

finish
