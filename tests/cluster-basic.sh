#!/bin/bash
# cluster-basic.sh: two aish-rhetor nodes on one JetStream cluster of three
# real nats-servers (SPEC section 11): a write accepted by node 1 is run by
# some node, its reply stored once with one seq and delivered live to a
# reader on node 2, its deltas too; its id repeated through node 2, and after every
# nats-server restarted, is a duplicate and not run again.

. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/cluster-lib.sh"

T=$TEST_TMP
cluster_start
ok "three nats-servers elect a JetStream meta leader"
node_start 1
node_start 2
nats_wait_streams
use_node 1
http GET /health
check "node 1 health" ok "$(jget "$BODY" .status)"
use_node 2
http GET /health
check "node 2 health" ok "$(jget "$BODY" .status)"
check "the replies stream exists" 0 "$(nats_stream_msgs AISH_REPLIES)"

# --- a reader on node 2, a write on node 1 --------------------------------
use_node 2
ws_run "$T/reader" apollo <<'EOS' &
wait 1
EOS
reader=$!
wait_clients 2 1 || fail "the reader on node 2 is connected"
use_node 1
ws_run "$T/writer" apollo <<'EOS'
{"type":"write","content":"hello cluster","id":"c-1"}
wait 1
EOS
check "writer: exit" 0 "$WS_RC"
wait "$reader" || fail "reader on node 2: exit"
check "writer: ack c-1" c-1 "$(fq "$T/writer" '.[] | select(.type == "ack") | .id')"
check "writer: read" "apollo: hello cluster" \
	"$(fq "$T/writer" '.[] | select(.type == "read") | .content')"
check "writer: read answers c-1" c-1 \
	"$(fq "$T/writer" '.[] | select(.type == "read") | .in_reply_to')"
seq1=$(fq "$T/writer" '.[] | select(.type == "read") | .seq')
seq2=$(fq "$T/reader" '.[] | select(.type == "read") | .seq')
check_match "writer: read has a seq" '[1-9]*' "$seq1"
check "reader on node 2: the same read" "apollo: hello cluster" \
	"$(fq "$T/reader" '.[] | select(.type == "read") | .content')"
check "reader on node 2: the same seq" "$seq1" "$seq2"
check "one reply stored" 1 "$(nats_stream_msgs AISH_REPLIES)"
# the job is acked once its reply is stored: it leaves the work queue
for n in $(seq 1 50); do
	[ "$(nats_stream_msgs AISH_JOBS)" = 0 ] && break
	sleep 0.1
done
check "no job left" 0 "$(nats_stream_msgs AISH_JOBS)"

# --- deltas reach the readers of both nodes, before the final frame --------
use_node 1
http POST /api/ai/socket/create \
	'{"ai_name":"apollo","context":{"echo":{"delay_ms":200,"chunks":4}}}'
check "create a streaming socket" 201 "$STATUS"
chunky=$(jget "$BODY" .socket_id)
wait_socket 2 "$chunky" || fail "node 2 knows $chunky"
use_node 2
ws_run "$T/dreader" "$chunky" -n 1 -r "$T/dready" < /dev/null &
dreader=$!
wait_file "$T/dready" || fail "the reader on node 2 is connected"
use_node 1
ws_run "$T/dwriter" "$chunky" <<'EOS'
{"type":"write","content":"one two three four","id":"d-1"}
wait 1
EOS
wait "$dreader" || fail "reader on node 2: exit"
for f in dwriter dreader; do
	check "$f: deltas, then the read" "delta delta delta delta read" \
		"$(fq "$T/$f" '[.[] | select(.in_reply_to == "d-1") | .type] | join(" ")')"
	check "$f: the deltas joined are the read" true \
		"$(fq "$T/$f" '[.[] | select(.in_reply_to == "d-1")] |
			([.[] | select(.type == "delta") | .content] | join("")) ==
			(.[] | select(.type == "read") | .content)')"
	check "$f: indexes" "0 1 2 3" \
		"$(fq "$T/$f" '[.[] | select(.type == "delta") | .index] | map(tostring) | join(" ")')"
done
check_match "node 2 heard the deltas" '[1-9]*' \
	"$(node_metric 2 aish_cluster_deltas_heard_total)"

# --- the same id through node 2: a duplicate, not run again ----------------
use_node 2
ws_run "$T/dup" apollo <<'EOS'
{"type":"write","content":"hello cluster","id":"c-1"}
waitack 1
{"type":"write","content":"second","id":"c-2"}
wait 1
EOS
check "dup: acks" "c-1 true c-2 false" \
	"$(fq "$T/dup" '[.[] | select(.type == "ack") | "\(.id) \(.duplicate // false)"] | join(" ")')"
check "dup: only c-2 answered" c-2 \
	"$(fq "$T/dup" '[.[] | select(.type == "read") | .in_reply_to] | join(" ")')"
check "three replies stored (c-1, d-1, c-2)" 3 "$(nats_stream_msgs AISH_REPLIES)"
# c-2's reader on node 2 got it: node 1 hears so and lets it go from its
# queue (else a later reader of apollo on node 1 gets it again)
use_node 1
wait_for "c-2 off node 1's queue" eval '[ "$(queue_size apollo)" = 0 ]' ||
	fail "c-2 off node 1's queue" "queue: $(queue_size apollo)"

# --- every nats-server killed and restarted: still a duplicate ------------
for i in 1 2 3; do nats_kill "$i"; done
for i in 1 2 3; do nats_start "$i"; done
nats_wait_ready
nats_wait_streams
ok "the nats-servers are back, with leaders for the streams"
wait_reconnected 1 || fail "node 1 reconnects"
use_node 1
ws_run "$T/dup2" apollo -t 30000 <<'EOS'
{"type":"write","content":"hello cluster","id":"c-1"}
waitack 1
{"type":"write","content":"third","id":"c-3"}
wait 1
EOS
check "after a restart of every nats-server: c-1 a duplicate" \
	"c-1 true c-3 false" \
	"$(fq "$T/dup2" '[.[] | select(.type == "ack") | "\(.id) \(.duplicate // false)"] | join(" ")')"
check "after the restart: c-3 answered" c-3 \
	"$(fq "$T/dup2" '[.[] | select(.type == "read") | .in_reply_to] | join(" ")')"
check "four replies stored" 4 "$(nats_stream_msgs AISH_REPLIES)"
check_match "node 1 counts its reconnects" '[1-9]*' \
	"$(node_metric 1 aish_cluster_reconnects_total)"

node_kill 1
node_kill 2
finish
