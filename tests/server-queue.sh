#!/bin/bash
# server-queue.sh: a reply that reaches no connection waits in its socket's
# queue; the next connection gets it first, in seq order, or /read drains it.

. "$(dirname "$0")/setup.sh"

start_server
T=$TEST_TMP

# --- HTTP writes with nobody listening are queued -------------------------
check "fresh queue" 0 "$(queue_size apollo)"
http POST /api/ai/socket/apollo/write '{"content":"q1","id":"h1"}'
check "http write status" 202 "$STATUS"
check "http write accepted" true "$(jget "$BODY" .accepted)"
check "http write id" h1 "$(jget "$BODY" .id)"
http POST /api/ai/socket/apollo/write '{"content":"q2"}'
check "http write without id status" 202 "$STATUS"
made=$(jget "$BODY" .id)
check_match "http write without id gets one" '?*' "$made"
check "two replies queued" 2 "$(wait_queue apollo 2)"
http GET /api/ai/sockets
check "listing shows the queue" 2 \
	"$(jget "$BODY" '.sockets[] | select(.socket_id == "apollo") | .queue_size')"

# --- the next connection gets them first, in seq order --------------------
ws_run "$T/drain" apollo -n 2 -l 200 -t 5000 < /dev/null
check "new connection: client exit" 0 "$WS_RC"
check "new connection: queued reads in order" "h1 $made" \
	"$(fq "$T/drain" '[.[] | select(.type == "read") | .in_reply_to] | join(" ")')"
check "new connection: contents" "apollo: q1|apollo: q2" \
	"$(fq "$T/drain" '[.[] | select(.type == "read") | .content] | join("|")')"
check "new connection: seq increases" true \
	"$(fq "$T/drain" '[.[] | select(.type == "read") | .seq] | .[0] < .[1]')"
check "new connection: headers" team-chat-from-apollo \
	"$(fq "$T/drain" '.[] | select(.in_reply_to == "h1") | .headers[0]')"
check "queue empty after delivery" 0 "$(queue_size apollo)"

# --- queued replies come before the replies to new writes -----------------
for i in 1 2 3; do
	http POST /api/ai/socket/apollo/write "{\"content\":\"o$i\",\"id\":\"o$i\"}"
done
check "three replies queued" 3 "$(wait_queue apollo 3)"
ws_run "$T/first" apollo -n 4 -t 5000 <<'EOF'
{"type":"write","content":"new","id":"o4"}
EOF
check "queue first: client exit" 0 "$WS_RC"
check "queue first: frames" "read:o1 read:o2 read:o3 ack:o4 read:o4" \
	"$(fq "$T/first" '[.[] | .type + ":" + (.in_reply_to // .id)] | join(" ")')"

# --- a delayed reply whose writer left is queued; /read drains it ---------
http POST /api/ai/socket/create \
	'{"ai_name":"apollo","context":{"echo":{"delay_ms":500}}}'
check "create status" 201 "$STATUS"
slow=$(jget "$BODY" .socket_id)
ws_run "$T/left" "$slow" -t 5000 <<'EOF'
{"type":"write","content":"are you there","id":"d1"}
waitack 1
close
EOF
check "writer leaves: client exit" 0 "$WS_RC"
check "writer leaves: no read yet" 0 "$(fq "$T/left" '[.[] | select(.type == "read")] | length')"
check "writer leaves: reply queued" 1 "$(wait_queue "$slow" 1)"
http GET "/api/ai/socket/$slow/read"
check "read status" 200 "$STATUS"
check "read: one message" 1 "$(jget "$BODY" '.messages | length')"
check "read: type" read "$(jget "$BODY" '.messages[0].type')"
check "read: in_reply_to" d1 "$(jget "$BODY" '.messages[0].in_reply_to')"
check "read: content" "apollo: are you there" "$(jget "$BODY" '.messages[0].content')"
check "read: headers" "[\"team-chat-from-$slow\"]" "$(jget "$BODY" '.messages[0].headers | tojson')"
check "read: socket_id" "$slow" "$(jget "$BODY" '.messages[0].socket_id')"
check "read: seq" number "$(jget "$BODY" '.messages[0].seq | type')"
http GET "/api/ai/socket/$slow/read"
check "second read status" 200 "$STATUS"
check "second read is empty" '[]' "$(jget "$BODY" '.messages | tojson')"
check "queue_size after read" 0 "$(queue_size "$slow")"

# --- /read?wait_ms waits for the first message ----------------------------
http POST "/api/ai/socket/$slow/write" '{"content":"later","id":"d2"}'
check "delayed http write status" 202 "$STATUS"
t0=$(now_ms)
http GET "/api/ai/socket/$slow/read?wait_ms=4000"
elapsed=$(($(now_ms) - t0))
check "read wait: status" 200 "$STATUS"
check "read wait: the reply" d2 "$(jget "$BODY" '.messages[0].in_reply_to')"
if [ "$elapsed" -ge 300 ] && [ "$elapsed" -lt 3000 ]; then
	ok "read wait: returned when the reply came"
else
	fail "read wait: returned when the reply came" "${elapsed} ms"
fi

t0=$(now_ms)
http GET "/api/ai/socket/$slow/read?wait_ms=400"
elapsed=$(($(now_ms) - t0))
check "read wait on nothing: status" 200 "$STATUS"
check "read wait on nothing: empty" '[]' "$(jget "$BODY" '.messages | tojson')"
if [ "$elapsed" -ge 350 ] && [ "$elapsed" -lt 2000 ]; then
	ok "read wait on nothing: waited wait_ms"
else
	fail "read wait on nothing: waited wait_ms" "${elapsed} ms"
fi

t0=$(now_ms)
http GET "/api/ai/socket/$slow/read"
elapsed=$(($(now_ms) - t0))
check "read without wait: empty" '[]' "$(jget "$BODY" '.messages | tojson')"
if [ "$elapsed" -lt 300 ]; then ok "read without wait: at once"
else fail "read without wait: at once" "${elapsed} ms"; fi

http GET /api/ai/socket/no-such-socket/read
check "read unknown socket" 404 "$STATUS"

# --- a listener on team-chat-all hears the reply, but the reply is still
# queued for the next reader of athena itself: a passive team-chat-all
# monitor must not take replies away from the AI's own readers -------------
( ws_run "$T/all" team-chat-all -n 1 -r "$T/all.in" -t 5000 < /dev/null; exit "$WS_RC" ) &
all=$!
wait_file "$T/all.in"
http POST /api/ai/socket/athena/write '{"content":"heard","id":"a1"}'
rc=0
wait "$all" || rc=$?
check "team-chat-all listener: client exit" 0 "$rc"
check "team-chat-all listener: got it" a1 \
	"$(fq "$T/all" '.[] | select(.type == "read") | .in_reply_to')"
check "team-chat-all listener: still queued for athena" 1 "$(wait_queue athena 1)"
http GET /api/ai/socket/athena/read
check "team-chat-all listener: athena's reader gets it" a1 \
	"$(jget "$BODY" '[.messages[].in_reply_to] | join(" ")')"

finish
