#!/bin/bash
# server-http.sh: every HTTP route of aish-rhetor answers as SPEC section 1
# says, on a fresh server whose roster runs on the echo provider.

. "$(dirname "$0")/setup.sh"

ROSTER="apollo athena engram ergon harmonia hermes metis noesis numa penia
prometheus sophia synthesis telos terma"

start_server

# The first line names the loopback address and a real port.
check_match "first line" "http://127.0.0.1:[0-9]*" "$URL"
port=${URL##*:}
case "$port" in ''|0|*[!0-9]*) fail "port is a number" "[$port]" ;; *) ok "port is a number" ;; esac

# --- health -------------------------------------------------------------
http GET /health
check "health status" 200 "$STATUS"
check "health ok" ok "$(jget "$BODY" .status)"
check "health version is a string" string "$(jget "$BODY" '.version | type')"
check "health sockets is a number" number "$(jget "$BODY" '.sockets | type')"
health_sockets=$(jget "$BODY" .sockets || true)

# --- the roster and the special sockets exist from the start --------------
http GET /api/ai/sockets
check "list status" 200 "$STATUS"
listed=$(jget "$BODY" '.sockets | length' || true)
check "health counts the listed sockets" "$listed" "$health_sockets"
for id in $ROSTER rhetor; do
	check "roster $id on echo" echo \
		"$(jget "$BODY" ".sockets[] | select(.socket_id == \"$id\") | .provider")"
done
# team-chat-all does not answer itself: it broadcasts.
check "team-chat-all has no provider" none \
	"$(jget "$BODY" '.sockets[] | select(.socket_id == "team-chat-all") | .provider')"
for id in $ROSTER; do
	check "roster $id named $id" "$id" \
		"$(jget "$BODY" ".sockets[] | select(.socket_id == \"$id\") | .ai_name")"
done

# --- create ---------------------------------------------------------------
http POST /api/ai/socket/create '{"ai_name":"apollo"}'
check "create status" 201 "$STATUS"
check "create socket_id" apollo-1 "$(jget "$BODY" .socket_id)"
check "create websocket_url" "$WSURL/ws/socket/apollo-1" "$(jget "$BODY" .websocket_url)"
check "create ai_name" apollo "$(jget "$BODY" .ai_name)"
check_match "create model is a string or null" '@(string|null)' "$(jget "$BODY" '.model | type')"
check "create provider" echo "$(jget "$BODY" .provider)"

http POST /api/ai/socket/create '{"ai_name":"apollo"}'
check "second create status" 201 "$STATUS"
check "second create socket_id" apollo-2 "$(jget "$BODY" .socket_id)"

http POST /api/ai/socket/create '{"ai_name":"athena","socket_id":"mine"}'
check "create with socket_id status" 201 "$STATUS"
check "create with socket_id" mine "$(jget "$BODY" .socket_id)"
check "create with socket_id url" "$WSURL/ws/socket/mine" "$(jget "$BODY" .websocket_url)"

http POST /api/ai/socket/create '{"ai_name":"athena","socket_id":"mine"}'
check_error "create with a taken socket_id" 409 conflict
http POST /api/ai/socket/create '{"ai_name":"athena","socket_id":"apollo"}'
check_error "create with a roster socket_id" 409 conflict
http POST /api/ai/socket/create '{"ai_name":"athena","socket_id":"team-chat-all"}'
check_error "create with a special socket_id" '409|400' 'conflict|bad_name'
http POST /api/ai/socket/create '{"ai_name":"athena","socket_id":"rhetor"}'
check_error "create with socket_id rhetor" '409|400' 'conflict|bad_name'

http POST /api/ai/socket/create '{"ai_name":"apollo","provider":"nope"}'
check_error "create with an unknown provider" 400 '*'

http POST /api/ai/socket/create '{"ai_name":"hermes","model":"m1","prompt":"Be brief.","context":{"k":"v"},"provider":"echo"}'
check "create with every field" 201 "$STATUS"
check "create keeps model" m1 "$(jget "$BODY" .model)"
full_id=$(jget "$BODY" .socket_id || true)
check "create with every field id" hermes-1 "$full_id"

# --- list -----------------------------------------------------------------
http GET /api/ai/sockets
check "list after create" 200 "$STATUS"
for id in apollo-1 apollo-2 mine "$full_id"; do
	check "$id listed once" 1 \
		"$(jget "$BODY" "[.sockets[] | select(.socket_id == \"$id\")] | length")"
done
check "every socket has every list field" true "$(jget "$BODY" '[.sockets[] |
	(.socket_id | type) == "string" and (.ai_name | type) == "string" and
	((.model | type) == "string" or .model == null) and (.provider | type) == "string" and
	.state == "active" and (.created_at | type) == "string" and
	(.last_activity | type) == "string" and (.queue_size | type) == "number" and
	(.groups | type) == "array"] | all')"
check "apollo-1 fields" 'apollo echo active 0 []' "$(jget "$BODY" '.sockets[] |
	select(.socket_id == "apollo-1") |
	"\(.ai_name) \(.provider) \(.state) \(.queue_size) \(.groups | tojson)"')"
check "mine ai_name" athena \
	"$(jget "$BODY" '.sockets[] | select(.socket_id == "mine") | .ai_name')"

# --- one socket -------------------------------------------------------------
http GET "/api/ai/socket/$full_id"
check "get status" 200 "$STATUS"
check "get fields" "$full_id hermes m1 echo active Be brief. 0 0" \
	"$(jget "$BODY" '"\(.socket_id) \(.ai_name) \(.model) \(.provider) \(.state) \(.prompt) \(.history_size) \(.queue_size)"')"
check "get context" '{"k":"v"}' "$(jget "$BODY" '.context | tojson')"
check "get has the list fields" true "$(jget "$BODY" '(.created_at | type) == "string" and
	(.last_activity | type) == "string" and (.groups | type) == "array"')"

http GET /api/ai/socket/apollo
check "get roster socket" 200 "$STATUS"
check "get roster socket id" apollo "$(jget "$BODY" .socket_id)"

http GET /api/ai/socket/nosuch
check_error "get unknown socket" 404 unknown_socket

# --- write and read ---------------------------------------------------------
http POST /api/ai/socket/apollo-1/write '{"content":"hi","id":"w1"}'
check "write status" 202 "$STATUS"
check "write answer" '{"accepted":true,"id":"w1"}' "$(jget "$BODY" '{accepted, id} | tojson')"

http GET '/api/ai/socket/apollo-1/read?wait_ms=2000'
check "read status" 200 "$STATUS"
check "read one message" 1 "$(jget "$BODY" '.messages | length')"
check "read message" 'read|apollo: hi|apollo-1|w1|["team-chat-from-apollo-1"]' \
	"$(jget "$BODY" '.messages[0] | "\(.type)|\(.content)|\(.socket_id)|\(.in_reply_to)|\(.headers | tojson)"')"
check "read seq is a number" number "$(jget "$BODY" '.messages[0].seq | type')"
check_match "read timestamp" '20[0-9][0-9]-[01][0-9]-[0-3][0-9]T*Z' \
	"$(jget "$BODY" '.messages[0].timestamp')"
seq1=$(jget "$BODY" '.messages[0].seq' || true)

http GET '/api/ai/socket/apollo-1/read?wait_ms=200'
check "second read is empty" '200 []' "$STATUS $(jget "$BODY" '.messages | tojson')"

http GET '/api/ai/socket/apollo-1/read'
check "read without wait_ms" '200 []' "$STATUS $(jget "$BODY" '.messages | tojson')"

http POST /api/ai/socket/apollo-1/write '{"content":"again"}'
check "write without id status" 202 "$STATUS"
check "write without id accepted" true "$(jget "$BODY" .accepted)"
made_id=$(jget "$BODY" '.id // empty' || true)
[ -n "$made_id" ] && ok "server makes an id" || fail "server makes an id" "[$BODY]"
http GET '/api/ai/socket/apollo-1/read?wait_ms=2000'
check "reply to a made id" "apollo: again|$made_id" \
	"$(jget "$BODY" '.messages[0] | "\(.content)|\(.in_reply_to)"')"
seq2=$(jget "$BODY" '.messages[0].seq' || true)
if [ "${seq2:-0}" -gt "${seq1:-0}" ] 2>/dev/null; then ok "seq grows"
else fail "seq grows" "[$seq1] then [$seq2]"; fi

http POST /api/ai/socket/apollo-1/write '{"content":"hi","id":"w1"}'
check "repeated id accepted again" '202 true w1' \
	"$STATUS $(jget "$BODY" '"\(.accepted) \(.id)"')"
http GET '/api/ai/socket/apollo-1/read?wait_ms=500'
check "repeated id is not run again" '200 []' "$STATUS $(jget "$BODY" '.messages | tojson')"

http GET /api/ai/socket/apollo-1
check "history has two turns per answered write" 4 "$(jget "$BODY" .history_size)"

# A reply nobody reads waits in the queue.
http POST /api/ai/socket/apollo-1/write '{"content":"queued","id":"w2"}'
check "write to be queued" 202 "$STATUS"
queued=
for _ in $(seq 1 40); do
	http GET /api/ai/socket/apollo-1
	queued=$(jget "$BODY" .queue_size || true)
	[ "$queued" = 1 ] && break
	sleep 0.05
done
check "queue_size counts the waiting reply" 1 "$queued"
check "history after the queued reply" 6 "$(jget "$BODY" .history_size)"

# --- reset -------------------------------------------------------------------
http POST /api/ai/socket/apollo-1/reset
check "reset status" 200 "$STATUS"
http GET /api/ai/socket/apollo-1
check "after reset" '0 0 active' \
	"$(jget "$BODY" '"\(.history_size) \(.queue_size) \(.state)"')"
http GET '/api/ai/socket/apollo-1/read?wait_ms=100'
check "reset empties the queue" '200 []' "$STATUS $(jget "$BODY" '.messages | tojson')"
http POST /api/ai/socket/apollo/reset
check "a roster socket can be reset" 200 "$STATUS"
http POST /api/ai/socket/team-chat-all/reset
check "team-chat-all can be reset" 200 "$STATUS"
http POST /api/ai/socket/nosuch/reset
check_error "reset unknown socket" 404 unknown_socket

# --- delete ------------------------------------------------------------------
http DELETE /api/ai/socket/apollo-2
check "delete status" 200 "$STATUS"
check "delete answer" true "$(jget "$BODY" .deleted)"
http GET /api/ai/socket/apollo-2
check_error "get deleted socket" 404 unknown_socket
http DELETE /api/ai/socket/apollo-2
check_error "delete twice" 404 unknown_socket
http POST /api/ai/socket/apollo-2/write '{"content":"hi"}'
check_error "write to a deleted socket" 404 unknown_socket
for id in apollo team-chat-all rhetor; do
	http DELETE "/api/ai/socket/$id"
	check_error "delete $id is forbidden" 403 forbidden
	http GET "/api/ai/socket/$id"
	check "$id still there" 200 "$STATUS"
done
http POST /api/ai/socket/create '{"ai_name":"apollo"}'
check "ids are not reused after delete" apollo-3 "$(jget "$BODY" .socket_id)"
http DELETE /api/ai/socket/apollo-3
check "delete apollo-3" 200 "$STATUS"

# --- team chat ------------------------------------------------------------------
http GET /api/ai/sockets
members=$(jget "$BODY" '[.sockets[] | select(.socket_id != "rhetor" and
	(.socket_id | startswith("team-chat-") | not) and .state == "active") |
	.socket_id] | sort | join(" ")' || true)
http POST /api/team-chat '{"message":"hi","timeout_ms":5000}'
check "team-chat status" 200 "$STATUS"
check "team-chat answers every active AI socket" "$members" \
	"$(jget "$BODY" '[.responses[].socket_id] | sort | join(" ")')"
check "team-chat nothing timed out" '[]' "$(jget "$BODY" '.timed_out | tojson')"
check "team-chat apollo reply" 'apollo apollo: hi number' \
	"$(jget "$BODY" '.responses[] | select(.socket_id == "apollo") | "\(.ai_name) \(.content) \(.ms | type)"')"
check "team-chat mine reply" 'athena athena: hi' \
	"$(jget "$BODY" '.responses[] | select(.socket_id == "mine") | "\(.ai_name) \(.content)"')"
check "team-chat every reply is the echo" true \
	"$(jget "$BODY" '[.responses[] | .content == "\(.ai_name): hi"] | all')"

http POST /api/ai/socket/create '{"ai_name":"slow","context":{"echo":{"delay_ms":3000}}}'
check "create slow socket" 201 "$STATUS"
slow=$(jget "$BODY" .socket_id || true)
t0=$(date +%s%N)
http POST /api/team-chat '{"message":"quick","timeout_ms":300}'
t1=$(date +%s%N)
check "team-chat with a slow member status" 200 "$STATUS"
check "slow member timed out" "[\"$slow\"]" "$(jget "$BODY" '.timed_out | tojson')"
check "the others answered" "$members" \
	"$(jget "$BODY" '[.responses[].socket_id] | sort | join(" ")')"
elapsed=$(( (t1 - t0) / 1000000 ))
if [ "$elapsed" -lt 2500 ]; then ok "team-chat keeps to timeout_ms"
else fail "team-chat keeps to timeout_ms" "took ${elapsed} ms"; fi
http DELETE "/api/ai/socket/$slow"
check "delete slow socket" 200 "$STATUS"

http POST /api/team-chat '{"message":"hi","group":"nosuch","timeout_ms":1000}'
check_error "team-chat to an unknown group" 404 '*'

# --- unknown paths and wrong methods --------------------------------------------
http GET /nope
check_error "unknown path" 404 not_found
http GET /api/ai/nope
check_error "unknown api path" 404 not_found
http POST /api/ai/socket/apollo/nope '{}'
check_error "unknown socket action" 404 not_found
http GET /api/team-chat
check_error "GET team-chat" 405 method_not_allowed
http POST /api/ai/sockets '{}'
check_error "POST sockets" 405 method_not_allowed
http DELETE /health
check_error "DELETE health" 405 method_not_allowed
http GET /api/ai/socket/apollo/write
check_error "GET write" 405 method_not_allowed
http PUT /api/ai/socket/apollo '{}'
check_error "PUT socket" 405 method_not_allowed

# A request that answers later outlives libwebsockets' own few seconds:
# a /read that waits 6 s answers then, and a team chat whose slowest
# member takes 6 s has its reply.
http POST /api/ai/socket/create '{"ai_name":"late","context":{"echo":{"delay_ms":6000}}}'
late=$(jget "$BODY" .socket_id)
HTTP_ARGS=(--max-time 15)
http GET "/api/ai/socket/apollo/read?wait_ms=6000"
check "a 6 s /read answers" 200 "$STATUS"
http POST /api/team-chat '{"message":"slow","timeout_ms":9000}'
check "a 6 s team chat answers" 200 "$STATUS"
check "the 6 s member replied" "late: slow" \
	"$(jget "$BODY" ".responses[] | select(.socket_id == \"$late\") | .content")"
HTTP_ARGS=()

# A socket deleted under its readers: its WebSocket reader is closed at
# once, and a waiting /read answers 404.
http POST /api/ai/socket/create '{"ai_name":"doomed"}'
doomed=$(jget "$BODY" .socket_id)
ws_run "$TEST_TMP/doomed-ws" "$doomed" -t 20000 -r "$TEST_TMP/doomed-ready" <<'EOS' &
wait 1
EOS
ws_pid=$!
wait_file "$TEST_TMP/doomed-ready"
curl -s -o "$TEST_TMP/doomed-read" -w '%{http_code}' --max-time 20 \
	"$URL/api/ai/socket/$doomed/read?wait_ms=15000" > "$TEST_TMP/doomed-code" &
read_pid=$!
t0=$(now_ms)
http DELETE "/api/ai/socket/$doomed"
check "delete a socket with readers" 200 "$STATUS"
wait "$ws_pid" || true
wait "$read_pid" || true
took=$(( $(now_ms) - t0 ))
STATUS=$(cat "$TEST_TMP/doomed-code")
BODY=$(cat "$TEST_TMP/doomed-read")
check_error "its waiting /read" 404 unknown_socket
check_match "its WebSocket reader is closed (going away)" '*code 1001*' \
	"$(cat "$TEST_TMP/doomed-ws.err")"
if [ "$took" -lt 5000 ]; then ok "both readers are let go at once"
else fail "both readers are let go at once" "took $took ms"; fi

http GET /health
check "health at the end" 200 "$STATUS"

finish
