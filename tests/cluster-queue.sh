#!/bin/bash
# cluster-queue.sh: a socket's queue is the same on every node (SPEC
# section 11, doc/cluster.md "Queues").  A reply no reader got waits for
# the next reader of its socket on any node, with the seq it was stored
# with: /read on the other node, a new WebSocket connection on the other
# node, and the same node after a restart; writes over HTTP, whose
# replies only a queue can give.  A reply a reader got, on
# either node, leaves the queue of both, and is not given again.

. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/cluster-lib.sh"

T=$TEST_TMP
cluster_start
node_start 1
node_start 2
nats_wait_streams
ok "three nats-servers, two nodes"

# An echo socket that answers after 500 ms: its writer can leave first.
use_node 1
http POST /api/ai/socket/create \
	'{"ai_name":"apollo","context":{"echo":{"delay_ms":500}}}'
check "create a slow socket on node 1" 201 "$STATUS"
slow=$(jget "$BODY" .socket_id)
wait_socket 2 "$slow" || fail "node 2 knows $slow"

# node_queue I: the queue size of $slow on node I.
node_queue() {
	use_node "$1"
	queue_size "$slow"
}

# node_queue_is I N: true when node I's queue of $slow holds N replies.
node_queue_is() {
	[ "$(node_queue "$1")" = "$2" ]
}

# write_and_leave I ID TEXT: writes TEXT with ID to $slow through node I
# and closes once it is acknowledged, before the reply is made.
write_and_leave() {
	use_node "$1"
	ws_run "$T/w-$2" "$slow" <<EOF
{"type":"write","content":"$3","id":"$2"}
waitack 1
close
EOF
	check "write $2 through node $1: acked" "0 $2" \
		"$WS_RC $(fq "$T/w-$2" '.[] | select(.type == "ack") | .id')"
	check "write $2: its writer left before the reply" "" \
		"$(fq "$T/w-$2" '.[] | select(.type == "read") | .in_reply_to')"
}

# --- queued on both nodes; /read on the other node gets it ------------------
write_and_leave 1 q-1 one
wait_for "q-1 queued on node 2" node_queue_is 2 1 ||
	fail "q-1 queued on node 2" "queue: $(node_queue 2)"
wait_for "q-1 queued on node 1" node_queue_is 1 1 ||
	fail "q-1 queued on node 1" "queue: $(node_queue 1)"
use_node 2
http GET "/api/ai/socket/$slow/read?wait_ms=2000"
check "/read on node 2: status" 200 "$STATUS"
check "/read on node 2: the reply of q-1" "q-1 apollo: one" \
	"$(jget "$BODY" '.messages | map("\(.in_reply_to) \(.content)") | join(",")')"
seq1=$(jget "$BODY" '.messages[0].seq')
check_match "/read on node 2: a seq" '[1-9]*' "$seq1"
check "q-1 is the one reply stored" 1 "$(nats_stream_msgs AISH_REPLIES)"
# got by the reader of node 2: node 1 hears it and lets it go too
wait_for "q-1 off node 1's queue" node_queue_is 1 0 ||
	fail "q-1 off node 1's queue" "queue: $(node_queue 1)"
check "q-1 off node 2's queue" 0 "$(node_queue 2)"
use_node 1
http GET "/api/ai/socket/$slow/read?wait_ms=0"
check "/read on node 1 after: nothing again" 0 "$(jget "$BODY" '.messages | length')"

# --- written through node 2, read by a new connection on node 1 -------------
write_and_leave 2 q-2 two
wait_for "q-2 queued on node 1" node_queue_is 1 1 ||
	fail "q-2 queued on node 1" "queue: $(node_queue 1)"
use_node 1
ws_run "$T/r-2" "$slow" -n 2 -l 200 <<'EOF'
{"type":"write","content":"three","id":"q-3"}
EOF
check "reader on node 1: exit" 0 "$WS_RC"
check "reader on node 1: the queued reply first" "read:q-2 ack:q-3 read:q-3" \
	"$(fq "$T/r-2" '[.[] | .type + ":" + (.in_reply_to // .id)] | join(" ")')"
seq2=$(fq "$T/r-2" '.[] | select(.in_reply_to == "q-2") | .seq')
seq3=$(fq "$T/r-2" '.[] | select(.in_reply_to == "q-3") | .seq')
check "q-2 and q-3 in seq order, after q-1" true \
	"$([ "$seq1" -lt "$seq2" ] && [ "$seq2" -lt "$seq3" ] && echo true)"
wait_for "q-2 and q-3 off node 2's queue" node_queue_is 2 0 ||
	fail "q-2 and q-3 off node 2's queue" "queue: $(node_queue 2)"
check "q-2 and q-3 off node 1's queue" 0 "$(node_queue 1)"
use_node 2
http GET "/api/ai/socket/$slow/read?wait_ms=0"
check "/read on node 2 after: nothing again" 0 "$(jget "$BODY" '.messages | length')"

# --- a /read waiting on node 2 is answered by a reply node 1 stored ---------
use_node 2
curl -s --max-time 10 "$URL/api/ai/socket/$slow/read?wait_ms=8000" \
	> "$T/waiting" &
waiting=$!
# (the reply comes 500 ms after the ack: the /read waits for it)
write_and_leave 1 q-4 four
wait "$waiting" || fail "the waiting /read ends"
check "the waiting /read on node 2: q-4" "q-4 apollo: four" \
	"$(jq -r '.messages | map("\(.in_reply_to) \(.content)") | join(",")' "$T/waiting")"

# --- a node restarted keeps its queue ----------------------------------------
write_and_leave 1 q-5 five
wait_for "q-5 queued on node 2" node_queue_is 2 1 ||
	fail "q-5 queued on node 2" "queue: $(node_queue 2)"
node_kill 1
node_start 1 || fail "node 1 starts again"
use_node 1
http GET "/api/ai/socket/$slow/read?wait_ms=2000"
check "/read on node 1 after its restart: q-5" "q-5 apollo: five" \
	"$(jget "$BODY" '.messages | map("\(.in_reply_to) \(.content)") | join(",")')"
wait_for "q-5 off node 2's queue" node_queue_is 2 0 ||
	fail "q-5 off node 2's queue" "queue: $(node_queue 2)"

# --- a write over HTTP through node 1, its reply read on node 2 -------------
use_node 1
http POST "/api/ai/socket/$slow/write" '{"content":"six","id":"h-6"}'
check "HTTP write through node 1: 202" "202 true h-6" \
	"$STATUS $(jget "$BODY" .accepted) $(jget "$BODY" .id)"
use_node 2
http GET "/api/ai/socket/$slow/read?wait_ms=3000"
check "/read on node 2: the reply of h-6" "h-6 apollo: six" \
	"$(jget "$BODY" '.messages | map("\(.in_reply_to) \(.content)") | join(",")')"
http POST "/api/ai/socket/$slow/write" '{"content":"six","id":"h-6"}'
check "the same id over HTTP through node 2: a duplicate" "202 true" \
	"$STATUS $(jget "$BODY" .duplicate)"
http POST /api/ai/socket/team-chat-all/write '{"content":"all","id":"h-7"}'
check "HTTP team chat write through node 2: 202 with members" "202 true" \
	"$STATUS $(jget "$BODY" '.members | index("apollo") != null')"
use_node 1
http POST /api/ai/socket/team-chat-all/write '{"content":"x","id":"h-7"}'
check "that id again through node 1: a duplicate" "202 true" \
	"$STATUS $(jget "$BODY" .duplicate)"

# --- what the nodes counted ---------------------------------------------------
check_match "node 2 put replies in its queue" '[1-9]*' \
	"$(node_metric 2 aish_cluster_replies_queued_total)"
check_match "node 2 heard replies got elsewhere" '[1-9]*' \
	"$(node_metric 2 aish_cluster_queue_got_heard_total)"
check_match "node 2 told of replies got there" '[1-9]*' \
	"$(node_metric 2 aish_cluster_queue_got_told_total)"

finish
