#!/bin/bash
# cluster-sockets.sh: any node serves any socket (SPEC section 11).  On
# three real nats-servers and two nodes: a socket made on node 1 is listed
# by node 2 and written through it, answered once; its id taken again
# through node 2 is a conflict, also at the same moment on both nodes, and
# numbered ids never meet; a delete on node 2 removes it from node 1; a
# group made on node 1 is a team chat through node 2; every node keeps
# each turn of a conversation and a reset through any node clears it on
# all; a node started later knows every socket and group, and one started
# again forgets the sockets deleted and the histories reset while it was
# away.

. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/cluster-lib.sh"

T=$TEST_TMP
pids=()
cluster_start
node_start 1
node_start 2
nats_wait_streams

# create_on I BODY: POST /api/ai/socket/create on node I.
create_on() {
	use_node "$1"
	http POST /api/ai/socket/create "$2"
}

# listed_on I ID FIELD: one field of socket ID in node I's list.
listed_on() {
	use_node "$1"
	http GET /api/ai/sockets
	printf '%s' "$BODY" | jq -r --arg id "$2" \
		"[.sockets[] | select(.socket_id == \$id)][0].$3 // \"none\"" 2>/dev/null ||
		echo jq-error
}

# turns_on I ID: "role:content" of each turn of ID's history on node I,
# sorted, joined by "|".
turns_on() {
	curl -s --max-time 5 "${NODE_URLS[$1]}/api/ai/socket/$2/history" |
		jq -r '[.turns[] | "\(.role):\(.content)"] | sort | join("|")' 2>/dev/null ||
		echo jq-error
}

# wait_turns I ID N: waits (up to 5 s, times SLOWDOWN) until ID's history
# on node I holds N turns.
wait_turns() {
	local n
	for n in $(seq 1 $(( 100 * SLOWDOWN ))); do
		[ "$(curl -s --max-time 5 "${NODE_URLS[$1]}/api/ai/socket/$2/history" |
			jq -r '.turns | length' 2>/dev/null)" = "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

# --- made on node 1, listed and written through node 2 -------------------
create_on 1 '{"ai_name":"alpha","socket_id":"sock.one","model":"m-1","context":{"echo":{"delay_ms":50}}}'
check "create sock.one on node 1" 201 "$STATUS"
create_on 1 '{"ai_name":"quiet","socket_id":"priv-1","private":true}'
check "create the private priv-1 on node 1" 201 "$STATUS"
wait_socket 2 sock.one || fail "node 2 lists sock.one"
wait_socket 2 priv-1 || fail "node 2 lists priv-1"
use_node 2
http GET /api/ai/socket/sock.one
check "node 2: sock.one's ai_name" alpha "$(jget "$BODY" .ai_name)"
check "node 2: sock.one's model" m-1 "$(jget "$BODY" .model)"
check "node 2: sock.one's context" 50 "$(jget "$BODY" .context.echo.delay_ms)"
http GET /api/ai/socket/priv-1
check "node 2: priv-1 is private" true "$(jget "$BODY" .private)"

use_node 2
ws_run "$T/w2" sock.one <<'EOS'
{"type":"write","content":"through node 2","id":"s-1"}
wait 1
EOS
check "write through node 2: exit" 0 "$WS_RC"
check "write through node 2: acked" "s-1 false" \
	"$(fq "$T/w2" '[.[] | select(.type == "ack") | "\(.id) \(.duplicate // false)"] | join(" ")')"
check "write through node 2: answered once" "alpha: through node 2" \
	"$(fq "$T/w2" '[.[] | select(.type == "read" or .type == "error") | .content // .message] | join("|")')"
check "one reply stored" 1 "$(nats_stream_msgs AISH_REPLIES)"

# --- an id taken: a conflict through the other node, and at once -------
create_on 2 '{"ai_name":"alpha","socket_id":"sock.one"}'
check_error "create sock.one again through node 2" 409 conflict
for i in 1 2; do
	use_node "$i"
	curl -s -o "$T/race$i" -w '%{http_code}\n' --max-time 10 -X POST \
		-H 'Content-Type: application/json' \
		--data-binary '{"ai_name":"racer","socket_id":"race-x"}' \
		"$URL/api/ai/socket/create" > "$T/race$i.status" &
	pids[$i]=$!
done
wait "${pids[1]}" "${pids[2]}"
check "race-x made at once on both nodes: one 201, one 409" "201 409" \
	"$(cat "$T/race1.status" "$T/race2.status" | sort | tr '\n' ' ' | sed 's/ $//')"
# numbered ids: the same ai_name at the same moment on both nodes
for i in 1 2; do
	use_node "$i"
	curl -s -o "$T/num$i" --max-time 10 -X POST \
		-H 'Content-Type: application/json' \
		--data-binary '{"ai_name":"beta"}' "$URL/api/ai/socket/create" &
	pids[$i]=$!
done
wait "${pids[1]}" "${pids[2]}"
b1=$(jq -r .socket_id "$T/num1")
b2=$(jq -r .socket_id "$T/num2")
check_match "numbered beta on node 1" 'beta-[0-9]*' "$b1"
check_match "numbered beta on node 2" 'beta-[0-9]*' "$b2"
if [ "$b1" != "$b2" ]; then ok "the two numbered ids differ ($b1, $b2)"
else fail "the two numbered ids differ" "both $b1"; fi
wait_socket 1 "$b2" || fail "node 1 lists $b2"
wait_socket 2 "$b1" || fail "node 2 lists $b1"

# --- a group made on node 1: team chat through node 2 --------------------
create_on 1 '{"ai_name":"ga","socket_id":"g-a"}'
check "create g-a on node 1" 201 "$STATUS"
create_on 1 '{"ai_name":"gb","socket_id":"g-b"}'
check "create g-b on node 1" 201 "$STATUS"
use_node 1
http PUT /api/ai/groups/duo '{"members":["g-a","g-b"]}'
check "group duo on node 1" 200 "$STATUS"
wait_socket 2 team-chat-duo || fail "node 2 lists team-chat-duo"
use_node 2
http GET /api/ai/groups/duo
check "node 2: duo's members" "g-a g-b" "$(jget "$BODY" '.members | join(" ")')"
ws_run "$T/team" team-chat-duo <<'EOS'
{"type":"write","content":"all hands","id":"t-1"}
wait 2
EOS
check "team chat through node 2: exit" 0 "$WS_RC"
check "team chat through node 2: both members answer" "g-a g-b" \
	"$(fq "$T/team" '[.[] | select(.type == "read") | .socket_id] | sort | join(" ")')"
check "team chat: ack names the members" "g-a g-b" \
	"$(fq "$T/team" '[.[] | select(.type == "ack") | .members[]?] | sort | join(" ")')"

# --- delete on node 2: gone on node 1 -------------------------------------
use_node 2
http DELETE /api/ai/socket/sock.one
check "delete sock.one on node 2" 200 "$STATUS"
wait_socket 1 sock.one gone || fail "node 1 no longer lists sock.one"
use_node 1
http POST /api/ai/socket/sock.one/write '{"content":"anyone?"}'
check_error "node 1: a write to the deleted sock.one" 404 unknown_socket
check "node 1: the WebSocket of sock.one is refused" 404 \
	"$(ws_upgrade /ws/socket/sock.one)"
create_on 1 '{"ai_name":"alpha","socket_id":"sock.one","model":"m-2"}'
check "sock.one made again on node 1 after its delete" 201 "$STATUS"
wait_socket 2 sock.one || fail "node 2 lists sock.one again"
check "node 2: the new sock.one's model" m-2 "$(listed_on 2 sock.one model)"

# --- history: every node keeps each turn; a reset clears it everywhere --
create_on 1 '{"ai_name":"hist","socket_id":"hist-a"}'
check "create hist-a on node 1" 201 "$STATUS"
wait_socket 2 hist-a || fail "node 2 lists hist-a"
use_node 1
ws_run "$T/h1" hist-a <<'EOS'
{"type":"write","content":"remember me","id":"h-1"}
wait 1
EOS
check "hist-a answers through node 1" "hist: remember me" \
	"$(fq "$T/h1" '.[] | select(.type == "read") | .content')"
check "the reader sees no question in the answer" null \
	"$(fq "$T/h1" '.[] | select(.type == "read") | .question')"
wait_turns 2 hist-a 2 || fail "node 2 has the turn of hist-a"
check "node 2: the turn" "assistant:hist: remember me|user:remember me" \
	"$(turns_on 2 hist-a)"
wait_turns 1 hist-a 2 || fail "node 1 has the turn of hist-a"
check "node 1: the same turn" "assistant:hist: remember me|user:remember me" \
	"$(turns_on 1 hist-a)"
use_node 2
http POST /api/ai/socket/hist-a/reset
check "reset hist-a through node 2" 200 "$STATUS"
wait_turns 1 hist-a 0 || fail "node 1's history of hist-a is cleared"
check "node 2's history of hist-a is cleared" "" "$(turns_on 2 hist-a)"
ws_run "$T/h2" hist-a <<'EOS'
{"type":"write","content":"again","id":"h-2"}
wait 1
EOS
wait_turns 1 hist-a 2 || fail "node 1 has the new turn of hist-a"
check "node 1: only the turn after the reset" "assistant:hist: again|user:again" \
	"$(turns_on 1 hist-a)"

# --- a node started later knows them all -----------------------------------
node_start 3
for id in sock.one priv-1 race-x "$b1" "$b2" g-a g-b team-chat-duo; do
	check "node 3 at start: $id" "$id" "$(listed_on 3 "$id" socket_id)"
done
use_node 3
http GET /api/ai/groups/duo
check "node 3 at start: duo's members" "g-a g-b" "$(jget "$BODY" '.members | join(" ")')"

# --- a node away while a socket and a group are deleted ------------------
node_kill 1
use_node 2
http DELETE /api/ai/socket/priv-1
check "delete priv-1 on node 2 while node 1 is away" 200 "$STATUS"
http DELETE /api/ai/groups/duo
check "delete duo on node 2 while node 1 is away" 200 "$STATUS"
http POST /api/ai/socket/hist-a/reset
check "reset hist-a through node 2 while node 1 is away" 200 "$STATUS"
wait_socket 3 priv-1 gone || fail "node 3 no longer lists priv-1"
wait_socket 3 team-chat-duo gone || fail "node 3 no longer lists team-chat-duo"
node_start 1
check "node 1 back: priv-1 is gone" none "$(listed_on 1 priv-1 socket_id)"
check "node 1 back: team-chat-duo is gone" none "$(listed_on 1 team-chat-duo socket_id)"
check "node 1 back: g-a stays" g-a "$(listed_on 1 g-a socket_id)"
check "node 1 back: the history of hist-a is cleared" "" "$(turns_on 1 hist-a)"
use_node 1
http GET /api/ai/groups/duo
check_error "node 1 back: no group duo" 404 unknown_group

node_kill 1
node_kill 2
node_kill 3
finish
