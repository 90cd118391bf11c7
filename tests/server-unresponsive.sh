#!/bin/bash
# server-unresponsive.sh: a socket whose provider fails three times in a
# row becomes unresponsive with the reason (SPEC section 1): writes to it
# get 409 socket_not_active, broadcasts skip it, the state survives a
# restart, and reset makes it active again.  A success in between clears
# the count.

TEST_TIMEOUT=${TEST_TIMEOUT:-30}
. "$(dirname "$0")/setup.sh"

T=$TEST_TMP
cat > "$T/config.json" <<'EOF2'
{
  "default_provider": "echo",
  "providers": {
    "dead": {"type": "ollama", "url": "http://127.0.0.1:9", "timeout_ms": 1000},
    "flaky": {"type": "exec", "command": ["sh", "-c", "read -r line; case $line in ok*) echo fine ;; *) echo broken >&2; exit 1 ;; esac"]}
  }
}
EOF2
start_server "" --config "$T/config.json"
STATE=$STATE_DIR

# write_and_read SOCKET ID CONTENT: writes, then waits for the reply; the
# final frame lands in $FRAME.
write_and_read() {
	http POST "/api/ai/socket/$1/write" "{\"content\":\"$3\",\"id\":\"$2\"}"
	[ "$STATUS" = 202 ] || { FRAME="write answered $STATUS: $BODY"; return; }
	http GET "/api/ai/socket/$1/read?wait_ms=5000"
	FRAME=$(jget "$BODY" '.messages[0] | tojson')
}

http POST /api/ai/socket/create '{"ai_name":"ghost","socket_id":"ghost","provider":"dead"}'
check "create ghost" 201 "$STATUS"
http POST /api/ai/socket/create '{"ai_name":"flaky","socket_id":"flaky","provider":"flaky"}'
check "create flaky" 201 "$STATUS"

# --- three failures in a row --------------------------------------------------
for i in 1 2; do
	write_and_read ghost "g$i" "hello $i"
	check "ghost failure $i: provider_error" provider_error "$(jget "$FRAME" .code)"
	http GET /api/ai/socket/ghost
	check "ghost still active after $i" active "$(jget "$BODY" .state)"
done
write_and_read ghost g3 "hello 3"
check "ghost failure 3: provider_error" provider_error "$(jget "$FRAME" .code)"
http GET /api/ai/socket/ghost
check "ghost unresponsive after 3" unresponsive "$(jget "$BODY" .state)"
check_match "reason is the provider's error" "*dead*127.0.0.1:9*" "$(jget "$BODY" .reason)"

http POST /api/ai/socket/ghost/write '{"content":"anyone?"}'
check_error "write to an unresponsive socket" 409 socket_not_active
check_match "the refusal gives the reason" "*unresponsive*127.0.0.1:9*" "$(jget "$BODY" .error.message)"
ws_run "$T/ws" ghost -t 4000 <<'EOF2'
{"type":"write","content":"over ws","id":"w1"}
wait 1
EOF2
check "ws write to an unresponsive socket" socket_not_active \
	"$(fq "$T/ws" '.[] | select(.type == "error") | .code')"

# Broadcasts skip it.
http POST /api/ai/socket/team-chat-all/write '{"content":"all","id":"b1"}'
check "team-chat-all ack skips ghost" false "$(jget "$BODY" '.members | index("ghost") != null')"
check "team-chat-all ack keeps flaky" true "$(jget "$BODY" '.members | index("flaky") != null')"
http PUT /api/ai/groups/pair '{"members":["ghost","athena"]}'
check "a group may hold it" 200 "$STATUS"
http POST /api/team-chat '{"message":"pair?","group":"pair","timeout_ms":3000}'
check "group chat skips ghost" "athena" "$(jget "$BODY" '[.responses[].socket_id] | join(" ")')"

# The listing shows it; so does /metrics.
http GET /api/ai/sockets
check "listing: state" unresponsive "$(jget "$BODY" '.sockets[] | select(.socket_id == "ghost") | .state')"
http GET /metrics
check_match "metrics: unresponsive sockets" '*aish_sockets{state="unresponsive"} 1*' "$BODY"
check_match "metrics: errors of dead" '*aish_provider_errors_total{provider="dead"} 3*' "$BODY"

# --- the state survives a restart; reset clears it ----------------------------
stop_server
start_server "$STATE" --config "$T/config.json"
http GET /api/ai/socket/ghost
check "restart: still unresponsive" unresponsive "$(jget "$BODY" .state)"
check_match "restart: reason kept" "*127.0.0.1:9*" "$(jget "$BODY" .reason)"
http POST /api/ai/socket/ghost/reset
check "reset" 200 "$STATUS"
http GET /api/ai/socket/ghost
check "reset: active" active "$(jget "$BODY" .state)"
check "reset: no reason" null "$(jget "$BODY" .reason)"
write_and_read ghost g4 "again"
check "after reset: runs again (and fails)" provider_error "$(jget "$FRAME" .code)"
http GET /api/ai/socket/ghost
check "after reset: count starts over" active "$(jget "$BODY" .state)"

# --- a success clears the count -------------------------------------------------
write_and_read flaky f1 "bad 1"
check "flaky: fails" provider_error "$(jget "$FRAME" .code)"
write_and_read flaky f2 "bad 2"
write_and_read flaky f3 "ok now"
check "flaky: succeeds" fine "$(jget "$FRAME" .content)"
write_and_read flaky f4 "bad 3"
write_and_read flaky f5 "bad 4"
http GET /api/ai/socket/flaky
check "flaky: 2 + 2 failures: still active" active "$(jget "$BODY" .state)"
write_and_read flaky f6 "bad 5"
http GET /api/ai/socket/flaky
check "flaky: third in a row: unresponsive" unresponsive "$(jget "$BODY" .state)"
check_match "flaky: reason has stderr" "*broken*" "$(jget "$BODY" .reason)"

# Cancelled replies do not count.
http POST /api/ai/socket/create '{"ai_name":"slow","socket_id":"slow","context":{"echo":{"delay_ms":3000}}}'
ws_run "$T/cancel" slow -t 6000 <<'EOF2'
{"type":"write","content":"1","id":"c1"}
waitack 1
{"type":"cancel","id":"c1"}
wait 1
{"type":"write","content":"2","id":"c2"}
waitack 2
{"type":"cancel","id":"c2"}
wait 2
{"type":"write","content":"3","id":"c3"}
waitack 3
{"type":"cancel","id":"c3"}
wait 3
EOF2
check "cancels: three cancelled" "cancelled cancelled cancelled" \
	"$(fq "$T/cancel" '[.[] | select(.type == "error") | .code] | join(" ")')"
http GET /api/ai/socket/slow
check "cancels do not make it unresponsive" active "$(jget "$BODY" .state)"

finish
