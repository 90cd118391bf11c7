#!/bin/bash
# server-fanout.sh: a reply reaches every connection on its socket and on
# team-chat-all, and a team-chat-all write reaches every active AI socket.

. "$(dirname "$0")/setup.sh"

start_server
T=$TEST_TMP

# bg_ws OUT SOCKET [ARGS...] < SCRIPT: ws_run in the background; its exit
# status is the one of aish-wsc.
bg_ws() {
	ws_run "$@"
	exit "$WS_RC"
}

# wait_rc PID: the exit status of a background client lands in $RC (not
# in a command substitution: a subshell cannot wait for its parent's child).
wait_rc() {
	RC=0
	wait "$1" || RC=$?
}

# Listeners connect before the writer writes: each says when it is in
# (aish-wsc -r), and the writer waits for that.

http POST /api/ai/socket/create \
	'{"ai_name":"apollo","context":{"echo":{"delay_ms":400,"chunks":2}}}'
check "create status" 201 "$STATUS"
check "create socket_id" apollo-1 "$(jget "$BODY" .socket_id)"

# --- two connections on one socket, one on team-chat-all ------------------
bg_ws "$T/peer" apollo-1 -n 1 -t 6000 -r "$T/peer.in" < /dev/null & peer=$!
bg_ws "$T/all" team-chat-all -n 1 -t 6000 -r "$T/all.in" < /dev/null & all=$!
wait_file "$T/peer.in" && wait_file "$T/all.in"
ws_run "$T/writer" apollo-1 -t 6000 <<'EOF'
{"type":"write","content":"fan out","id":"f1"}
wait 1
EOF
check "writer: client exit" 0 "$WS_RC"
wait_rc "$peer"
check "peer: client exit" 0 "$RC"
wait_rc "$all"
check "team-chat-all: client exit" 0 "$RC"

check "writer: frames" "ack delta delta read" "$(fq "$T/writer" '[.[].type] | join(" ")')"
check "peer: the writer's turn, deltas and read" "turn delta delta read" \
	"$(fq "$T/peer" '[.[] | select(.type != "ack") | .type] | join(" ")')"
check "peer: the turn is the writer's, with the seq of the writer's ack" \
	"user fan out f1 $(fq "$T/writer" '.[] | select(.type == "ack") | .seq')" \
	"$(fq "$T/peer" '.[] | select(.type == "turn") | "\(.role) \(.content) \(.in_reply_to) \(.seq)"')"
check "peer: read answers f1" f1 \
	"$(fq "$T/peer" '.[] | select(.type == "read") | .in_reply_to')"
check "peer: same read as the writer" \
	"read:$(fq "$T/writer" '.[] | select(.type == "read") | tojson')" \
	"$(fq "$T/peer" '.[] | select(.type == "read") | "read:" + tojson')"
check "peer: deltas joined" "apollo: fan out" \
	"$(fq "$T/peer" '[.[] | select(.type == "delta") | .content] | join("")')"
check "team-chat-all: read content" "apollo: fan out" \
	"$(fq "$T/all" '.[] | select(.type == "read") | .content')"
check "team-chat-all: read answers f1" f1 \
	"$(fq "$T/all" '.[] | select(.type == "read") | .in_reply_to')"
check "team-chat-all: read header" '["team-chat-from-apollo-1"]' \
	"$(fq "$T/all" '.[] | select(.type == "read") | .headers | tojson')"
check "team-chat-all: read socket_id" apollo-1 \
	"$(fq "$T/all" '.[] | select(.type == "read") | .socket_id')"
check "reply reached connections: not queued" 0 "$(queue_size apollo-1)"

# --- a write on the roster socket apollo reaches team-chat-all ------------
bg_ws "$T/all2" team-chat-all -n 1 -t 5000 -r "$T/all2.in" < /dev/null & all=$!
wait_file "$T/all2.in"
ws_run "$T/roster" apollo -t 5000 <<'EOF'
{"type":"write","content":"roster","id":"r1"}
wait 1
EOF
check "roster writer: client exit" 0 "$WS_RC"
check "roster writer: read" "apollo: roster" \
	"$(fq "$T/roster" '.[] | select(.type == "read") | .content')"
wait_rc "$all"
check "team-chat-all hears apollo: client exit" 0 "$RC"
check "team-chat-all hears apollo: header" team-chat-from-apollo \
	"$(fq "$T/all2" '.[] | select(.type == "read") | .headers[0]')"
check "team-chat-all hears apollo: in_reply_to" r1 \
	"$(fq "$T/all2" '.[] | select(.type == "read") | .in_reply_to')"

# --- an HTTP write reaches the connections too ------------------------------
bg_ws "$T/all3" team-chat-all -n 1 -t 5000 -r "$T/all3.in" < /dev/null & all=$!
wait_file "$T/all3.in"
http POST /api/ai/socket/athena/write '{"content":"by http","id":"h1"}'
check "http write status" 202 "$STATUS"
wait_rc "$all"
check "team-chat-all hears an http write: client exit" 0 "$RC"
check "team-chat-all hears an http write: content" "athena: by http" \
	"$(fq "$T/all3" '.[] | select(.type == "read") | .content')"
# Nobody is on athena itself: its next reader still gets the reply.
check "team-chat-all hears an http write: still queued for athena" 1 \
	"$(queue_size athena)"

# --- a team-chat-all write: members in the ack, one read from each ---------
http GET /api/ai/sockets
members=$(jget "$BODY" '[.sockets[] | select(.state == "active"
	and .socket_id != "rhetor" and (.socket_id | startswith("team-chat-") | not))
	| .socket_id] | sort | join(" ")')
names=$(jget "$BODY" '[.sockets[] | {key: .socket_id, value: .ai_name}] | from_entries')
count=$(echo "$members" | wc -w)
check_match "team chat: apollo-1 is a member" "*apollo-1*" "$members"
ws_run "$T/team" team-chat-all -n "$count" -l 300 -t 8000 <<'EOF'
{"type":"write","content":"hey team","id":"t1"}
waitack 1
EOF
check "team chat: client exit" 0 "$WS_RC"
check "team chat: ack id" t1 "$(fq "$T/team" '.[] | select(.type == "ack") | .id')"
check "team chat: ack members" "$members" \
	"$(fq "$T/team" '.[] | select(.type == "ack") | .members | sort | join(" ")')"
check "team chat: one read per member" "$members" \
	"$(fq "$T/team" '[.[] | select(.type == "read") | .socket_id] | sort | join(" ")')"
check "team chat: headers name the member" true \
	"$(fq "$T/team" '[.[] | select(.type == "read")
	    | .headers == ["team-chat-from-" + .socket_id]] | length > 0 and all')"
check "team chat: reads answer t1" true \
	"$(fq "$T/team" '[.[] | select(.type == "read") | .in_reply_to == "t1"]
	    | length > 0 and all')"
check "team chat: each member answers as itself" true \
	"$(jq -s --argjson names "$names" '[.[] | select(.type == "read")
	    | .content == $names[.socket_id] + ": hey team"] | length > 0 and all' \
	    "$T/team" 2>/dev/null)"
check "team chat: nothing for rhetor" 0 \
	"$(fq "$T/team" '[.[] | select(.socket_id == "rhetor")] | length')"
check "team chat: replies not queued" 0 "$(queue_size apollo)"

finish
