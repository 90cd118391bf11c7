#!/bin/bash
# server-ws.sh: one WebSocket connection on one AI socket, as SPEC section 2
# says: ack, deltas, read, ids, repeated ids, cancel, ping and bad frames.

. "$(dirname "$0")/setup.sh"

start_server
T=$TEST_TMP

# --- a delayed, chunked socket -------------------------------------------
http POST /api/ai/socket/create \
	'{"ai_name":"apollo","context":{"echo":{"delay_ms":300,"chunks":3}}}'
check "create status" 201 "$STATUS"
check "create socket_id" apollo-1 "$(jget "$BODY" .socket_id)"

# --- write: ack, three deltas, then the read about 300 ms later ----------
t0=$(now_ms)
ws_run "$T/w1" apollo-1 <<'EOF'
{"type":"write","content":"hi","id":"w1"}
wait 1
EOF
elapsed=$(($(now_ms) - t0))
check "write: client exit" 0 "$WS_RC"
check "write: frame types in order" "ack delta delta delta read" \
	"$(fq "$T/w1" '[.[].type] | join(" ")')"
check "write: ack id" w1 "$(fq "$T/w1" '.[0].id')"
check "write: deltas answer w1" "w1 w1 w1" \
	"$(fq "$T/w1" '[.[] | select(.type == "delta") | .in_reply_to] | join(" ")')"
check "write: deltas name the socket" "apollo-1 apollo-1 apollo-1" \
	"$(fq "$T/w1" '[.[] | select(.type == "delta") | .socket_id] | join(" ")')"
check "write: deltas joined" "apollo: hi" \
	"$(fq "$T/w1" '[.[] | select(.type == "delta") | .content] | join("")')"
check "write: read content" "apollo: hi" \
	"$(fq "$T/w1" '.[] | select(.type == "read") | .content')"
check "write: read headers" '["team-chat-from-apollo-1"]' \
	"$(fq "$T/w1" '.[] | select(.type == "read") | .headers | tojson')"
check "write: read socket_id" apollo-1 \
	"$(fq "$T/w1" '.[] | select(.type == "read") | .socket_id')"
check "write: read in_reply_to" w1 \
	"$(fq "$T/w1" '.[] | select(.type == "read") | .in_reply_to')"
check "write: read seq is a number" number \
	"$(fq "$T/w1" '.[] | select(.type == "read") | .seq | type')"
check_match "write: read timestamp" '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*Z' \
	"$(fq "$T/w1" '.[] | select(.type == "read") | .timestamp')"
if [ "$elapsed" -ge 250 ]; then ok "write: read came after the delay"
else fail "write: read came after the delay" "${elapsed} ms"; fi

# --- no id: the server makes one and the read answers it ------------------
ws_run "$T/noid" apollo <<'EOF'
{"type":"write","content":"yo"}
wait 1
EOF
check "no id: client exit" 0 "$WS_RC"
made=$(fq "$T/noid" '.[] | select(.type == "ack") | .id')
check_match "no id: ack carries an id" '?*' "$made"
check "no id: read answers it" "id:$made" \
	"$(fq "$T/noid" '.[] | select(.type == "read") | "id:" + .in_reply_to')"
check "no id: read content" "apollo: yo" \
	"$(fq "$T/noid" '.[] | select(.type == "read") | .content')"
check "no id: read header" team-chat-from-apollo \
	"$(fq "$T/noid" '.[] | select(.type == "read") | .headers[0]')"

# --- seq strictly increases -----------------------------------------------
ws_run "$T/seq" apollo <<'EOF'
{"type":"write","content":"one","id":"s1"}
{"type":"write","content":"two","id":"s2"}
{"type":"write","content":"three","id":"s3"}
wait 3
EOF
check "seq: client exit" 0 "$WS_RC"
check "seq: three reads" 3 "$(fq "$T/seq" '[.[] | select(.type == "read")] | length')"
check "seq: strictly increasing" true \
	"$(fq "$T/seq" '[.[] | select(.type == "read") | .seq] as $s
	    | [range(1; $s | length) | $s[.] > $s[. - 1]] | length == 2 and all')"
check "seq: above the earlier reply" true \
	"$(jq -s --argjson prev "$(fq "$T/noid" '.[] | select(.type == "read") | .seq')" \
	    '[.[] | select(.type == "read") | .seq > $prev] | all' "$T/seq" 2>/dev/null)"

# --- a repeated id is acked again, not run again --------------------------
ws_run "$T/dup" apollo <<'EOF'
{"type":"write","content":"first","id":"dup1"}
wait 1
{"type":"write","content":"second","id":"dup1"}
waitack 2
sleep 300
close
EOF
check "repeat: client exit" 0 "$WS_RC"
check "repeat: acked twice" "dup1 dup1" \
	"$(fq "$T/dup" '[.[] | select(.type == "ack") | .id] | join(" ")')"
check "repeat: one read" 1 \
	"$(fq "$T/dup" '[.[] | select(.type == "read" and .in_reply_to == "dup1")] | length')"
check "repeat: the first content ran" "apollo: first" \
	"$(fq "$T/dup" '.[] | select(.type == "read") | .content')"

ws_run "$T/dup2" apollo <<'EOF'
{"type":"write","content":"third","id":"dup1"}
waitack 1
sleep 300
close
EOF
check "repeat on a new connection: client exit" 0 "$WS_RC"
check "repeat on a new connection: acked" dup1 \
	"$(fq "$T/dup2" '.[] | select(.type == "ack") | .id')"
check "repeat on a new connection: not run" 0 \
	"$(fq "$T/dup2" '[.[] | select(.type == "read" or .type == "delta")] | length')"

# --- cancel ---------------------------------------------------------------
ws_run "$T/cancel" apollo-1 <<'EOF'
{"type":"write","content":"stop me","id":"c1"}
waitack 1
{"type":"cancel","id":"c1"}
wait 1
sleep 500
close
EOF
check "cancel: client exit" 0 "$WS_RC"
check "cancel: error code" cancelled \
	"$(fq "$T/cancel" '.[] | select(.type == "error") | .code')"
check "cancel: error in_reply_to" c1 \
	"$(fq "$T/cancel" '.[] | select(.type == "error") | .in_reply_to')"
check "cancel: no read" 0 "$(fq "$T/cancel" '[.[] | select(.type == "read")] | length')"
check "cancel: nothing queued" 0 "$(queue_size apollo-1)"

ws_run "$T/cancel2" apollo <<'EOF'
{"type":"cancel","id":"nobody"}
wait 1
EOF
check "cancel unknown: client exit" 0 "$WS_RC"
check "cancel unknown: error code" not_found \
	"$(fq "$T/cancel2" '.[] | select(.type == "error") | .code')"

# --- ping -----------------------------------------------------------------
ws_run "$T/ping" apollo <<'EOF'
{"type":"ping"}
sleep 300
close
EOF
check "ping: client exit" 0 "$WS_RC"
check "ping: pong" pong "$(fq "$T/ping" '[.[].type] | join(" ")')"

# --- bad frames get an error frame and the connection stays up ------------
ws_run "$T/bad" apollo <<'EOF'
{"type":
wait 1
raw 20
wait 2
{"type":"dance"}
wait 3
{"type":"write","id":"nc"}
wait 4
{"type":"write","content":42,"id":"n42"}
wait 5
{"type":"write","content":"x","id":7}
wait 6
{"content":"no type"}
wait 7
[1,2,3]
wait 8
{"type":"write","content":"still here","id":"after"}
wait 9
EOF
check "bad frames: client exit" 0 "$WS_RC"
check "bad frames: codes" \
	"bad_json bad_json bad_request bad_request bad_request bad_request bad_request" \
	"$(fq "$T/bad" '[.[] | select(.type == "error") | .code] | .[0:7] | join(" ")')"
check "bad frames: errors carry a message" true \
	"$(fq "$T/bad" '[.[] | select(.type == "error") | .message | type == "string"]
	    | length > 0 and all')"
check "bad frames: array frame gets an error" error \
	"$(fq "$T/bad" '[.[] | select(.type == "error")][7].type')"
check "bad frames: connection still usable" "apollo: still here" \
	"$(fq "$T/bad" '.[] | select(.type == "read" and .in_reply_to == "after") | .content')"
check "bad frames: nothing ran but the last" 1 \
	"$(fq "$T/bad" '[.[] | select(.type == "read")] | length')"

# --- unknown socket: the upgrade is refused with 404 ----------------------
ws_run "$T/nosock" no-such-socket <<'EOF'
{"type":"ping"}
EOF
check "unknown socket: client exit" 2 "$WS_RC"
check_match "unknown socket: 404" "*HTTP 404*" "$(cat "$T/nosock.err")"

finish
