#!/bin/bash
# server-restart.sh: sockets, histories, queues and accepted write ids
# survive a restart, and a write in flight when the server is killed still
# gets exactly one reply afterwards.

. "$(dirname "$0")/setup.sh"

start_server
T=$TEST_TMP
state=$STATE_DIR

# --- state before the restart ---------------------------------------------
http POST /api/ai/socket/create \
	'{"ai_name":"apollo","prompt":"Predict.","context":{"echo":{"chunks":2}}}'
check "create status" 201 "$STATUS"
check "create socket_id" apollo-1 "$(jget "$BODY" .socket_id)"
ws_run "$T/w1" apollo-1 -t 5000 <<'EOF'
{"type":"write","content":"remember me","id":"w1"}
wait 1
EOF
check "write before restart: client exit" 0 "$WS_RC"
check "write before restart: read" "apollo: remember me" \
	"$(fq "$T/w1" '.[] | select(.type == "read") | .content')"
seq_before=$(fq "$T/w1" '.[] | select(.type == "read") | .seq')
http GET /api/ai/socket/apollo-1
history=$(jget "$BODY" .history_size)
check_match "history grew" '[1-9]*' "$history"

http POST /api/ai/socket/apollo/write '{"content":"queued","id":"q1"}'
check "http write status" 202 "$STATUS"
check "queued before restart" 1 "$(wait_queue apollo 1)"

# --- a clean restart --------------------------------------------------------
stop_server
start_server "$state"
http GET /api/ai/socket/apollo-1
check "socket survives" 200 "$STATUS"
check "ai_name survives" apollo "$(jget "$BODY" .ai_name)"
check "prompt survives" Predict. "$(jget "$BODY" .prompt)"
check "context survives" 2 "$(jget "$BODY" .context.echo.chunks)"
check "history survives" "$history" "$(jget "$BODY" .history_size)"
check "queue survives" 1 "$(queue_size apollo)"

http POST /api/ai/socket/create '{"ai_name":"apollo"}'
check "ids are not reused" apollo-2 "$(jget "$BODY" .socket_id)"

ws_run "$T/again" apollo-1 -t 5000 <<'EOF'
{"type":"write","content":"remember me","id":"w1"}
waitack 1
sleep 300
close
EOF
check "old id after restart: client exit" 0 "$WS_RC"
check "old id after restart: acked" w1 "$(fq "$T/again" '.[] | select(.type == "ack") | .id')"
check "old id after restart: not run" 0 \
	"$(fq "$T/again" '[.[] | select(.type == "read" or .type == "delta")] | length')"
http GET /api/ai/socket/apollo-1
check "old id after restart: history unchanged" "$history" "$(jget "$BODY" .history_size)"

ws_run "$T/queued" apollo -n 1 -l 200 -t 5000 < /dev/null
check "queued reply after restart: client exit" 0 "$WS_RC"
check "queued reply after restart: delivered once" q1 \
	"$(fq "$T/queued" '[.[] | select(.type == "read") | .in_reply_to] | join(" ")')"
check "queued reply after restart: content" "apollo: queued" \
	"$(fq "$T/queued" '.[] | select(.type == "read") | .content')"
check "queue empty after delivery" 0 "$(queue_size apollo)"

ws_run "$T/w2" apollo-1 -t 5000 <<'EOF'
{"type":"write","content":"new","id":"w2"}
wait 1
EOF
check "seq goes on after restart" true \
	"$(fq "$T/w2" ".[] | select(.type == \"read\") | .seq > $seq_before")"

# --- kill -9 with a write in flight; the next connection gets the reply ----
http POST /api/ai/socket/create \
	'{"ai_name":"apollo","socket_id":"slow","context":{"echo":{"delay_ms":1500}}}'
check "create slow status" 201 "$STATUS"
ws_run "$T/k1" slow -t 5000 <<'EOF'
{"type":"write","content":"survive","id":"k1"}
waitack 1
close
EOF
kill9_server
check "in flight: acked before the kill" k1 "$(fq "$T/k1" '.[] | select(.type == "ack") | .id')"
check "in flight: no reply before the kill" 0 "$(fq "$T/k1" '[.[] | select(.type == "read")] | length')"
start_server "$state"
ws_run "$T/k1after" slow -n 1 -l 800 -t 8000 < /dev/null
check "after kill: client exit" 0 "$WS_RC"
check "after kill: exactly one reply" k1 \
	"$(fq "$T/k1after" '[.[] | select(.type == "read") | .in_reply_to] | join(" ")')"
check "after kill: content" "apollo: survive" \
	"$(fq "$T/k1after" '.[] | select(.type == "read") | .content')"
http GET /api/ai/socket/slow/read
check "after kill: nothing left queued" '[]' "$(jget "$BODY" '.messages | tojson')"

# --- kill -9 with a write in flight; /read gets the reply -------------------
ws_run "$T/k2" slow -t 5000 <<'EOF'
{"type":"write","content":"again","id":"k2"}
waitack 1
close
EOF
kill9_server
check "in flight 2: acked before the kill" k2 "$(fq "$T/k2" '.[] | select(.type == "ack") | .id')"
start_server "$state"
http GET "/api/ai/socket/slow/read?wait_ms=5000"
check "after kill via read: status" 200 "$STATUS"
check "after kill via read: exactly one reply" k2 \
	"$(jget "$BODY" '[.messages[].in_reply_to] | join(" ")')"
http GET "/api/ai/socket/slow/read?wait_ms=700"
check "after kill via read: no second reply" '[]' "$(jget "$BODY" '.messages | tojson')"

# An id accepted before the kill is still known.
ws_run "$T/k2again" slow -t 5000 <<'EOF'
{"type":"write","content":"again","id":"k2"}
waitack 1
sleep 1800
close
EOF
check "id from before the kill: acked" k2 "$(fq "$T/k2again" '.[] | select(.type == "ack") | .id')"
check "id from before the kill: not run" 0 \
	"$(fq "$T/k2again" '[.[] | select(.type == "read")] | length')"

finish
