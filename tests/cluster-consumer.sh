#!/bin/bash
# cluster-consumer.sh: the shared consumer of the jobs deleted under the
# nodes (an operator's `nats consumer rm`, or a leader change that left a
# node's subscription pulling from nothing).  A node whose pulls fail, or
# come back empty while jobs wait, binds the consumer again within a few
# seconds: a write accepted meanwhile is answered, never left waiting.

. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/cluster-lib.sh"

T=$TEST_TMP
cluster_start
node_start 1
node_start 2
nats_wait_streams

use_node 1
ws_run "$T/before" apollo -t 10000 <<'EOS'
{"type":"write","content":"before","id":"c-1"}
wait 1
EOS
check "a reply before" "apollo: before" \
	"$(fq "$T/before" '.[] | select(.type == "read") | .content')"

got=$(python3 "$top_srcdir/tests/tools/nats_request.py" "${NATS_PORTS[1]}" \
	'$JS.API.CONSUMER.DELETE.AISH_JOBS.rhetor')
check "the consumer is deleted" true "$(echo "$got" | jq -r '.success')"

ws_run "$T/after" apollo -t $(( 30000 * SLOWDOWN )) <<'EOS'
{"type":"write","content":"after","id":"c-2"}
wait 1
EOS
check "the write is accepted" 1 \
	"$(fq "$T/after" '[.[] | select(.type == "ack")] | length')"
check "and answered once the consumer is bound again" "apollo: after" \
	"$(fq "$T/after" '.[] | select(.type == "read") | .content')"
rebinds=$(( $(node_metric 1 aish_cluster_consumer_rebinds_total) +
	$(node_metric 2 aish_cluster_consumer_rebinds_total) ))
check_match "a node bound the consumer again" '[1-9]*' "$rebinds"
check_match "and said so" '*the consumer rhetor is bound again*' \
	"$(cat "$T/node1/err" "$T/node2/err")"
check "the consumer is there again" rhetor \
	"$(python3 "$top_srcdir/tests/tools/nats_request.py" "${NATS_PORTS[2]}" \
	'$JS.API.CONSUMER.INFO.AISH_JOBS.rhetor' | jq -r '.name')"
node_kill 1
node_kill 2
finish
