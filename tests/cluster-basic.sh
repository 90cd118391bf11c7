#!/bin/bash
# cluster-basic.sh: two aish-rhetor nodes on one JetStream cluster of three
# real nats-servers (SPEC section 11): a write accepted by node 1 is run by
# some node, its reply stored once with one seq and delivered live to a
# reader on node 2; its id repeated through node 2, and after every
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
check "two replies stored" 2 "$(nats_stream_msgs AISH_REPLIES)"

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
check "three replies stored" 3 "$(nats_stream_msgs AISH_REPLIES)"
check_match "node 1 counts its reconnects" '[1-9]*' \
	"$(node_metric 1 aish_cluster_reconnects_total)"

node_kill 1
node_kill 2
finish
