#!/bin/bash
# cluster-quorum.sh: while a majority of the nats-servers is down, a write
# cannot be stored: it is refused with storage_error, never acknowledged
# (SPEC section 11); once they are back, writes are taken again, and the
# refused one, sent again, is run once.

# Elections after the restart may take long on a loaded machine.
TEST_TIMEOUT=${TEST_TIMEOUT:-240}
. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/cluster-lib.sh"

T=$TEST_TMP
cluster_start
node_start 1
use_node 1
ws_run "$T/before" apollo <<'EOS'
{"type":"write","content":"before","id":"q-0"}
wait 1
EOS
check "before: answered" "apollo: before" \
	"$(fq "$T/before" '.[] | select(.type == "read") | .content')"

# Two of three gone: no quorum for any stream or bucket.
nats_kill 2
nats_kill 3
ws_run "$T/lost" apollo -t 30000 <<'EOS'
{"type":"write","content":"no quorum","id":"q-1"}
wait 1
EOS
check "no quorum: never acknowledged" 0 \
	"$(fq "$T/lost" '[.[] | select(.type == "ack")] | length')"
check "no quorum: storage_error" "error storage_error q-1" \
	"$(fq "$T/lost" '.[] | select(.type == "error") | "\(.type) \(.code) \(.in_reply_to)"')"
check_match "no quorum: a message" '?*' \
	"$(fq "$T/lost" '.[] | select(.type == "error") | .message')"
HTTP_ARGS=(--max-time 20)
http POST /api/ai/socket/apollo/write '{"content":"no quorum","id":"q-h"}'
HTTP_ARGS=()
check "no quorum, over HTTP: 500 storage_error" "500 storage_error" \
	"$STATUS $(jget "$BODY" .error.code 2>/dev/null)"
http GET /health
check "no quorum: the node still answers" ok "$(jget "$BODY" .status)"

nats_start 2
nats_start 3
nats_wait_ready
nats_wait_streams
ok "the nats-servers are back, with leaders for the streams"
# As a client does, q-1 is sent again, a little later each time, until
# it is acknowledged: the node's own NATS connection may still be coming
# back (up to 60 s, times SLOWDOWN).
: > "$T/refusals"
deadline=$(( $(date +%s) + 60 * SLOWDOWN ))
pause=0.1
while :; do
	ws_run "$T/again" apollo -t 12000 <<'EOS'
{"type":"write","content":"no quorum","id":"q-1"}
wait 1
EOS
	fq "$T/again" '.[] | select(.type == "error") | .message' >> "$T/refusals"
	[ "$(fq "$T/again" '[.[] | select(.type == "ack")] | length')" = 1 ] && break
	[ "$(date +%s)" -lt "$deadline" ] || break
	sleep "$pause"
	pause=$(awk -v p="$pause" 'BEGIN { print (p < 1.6) ? p * 2 : 2 }')
done
check "back: each refusal says why" "" \
	"$(grep -e '(null)' -e ': $' "$T/refusals" || true)"
check "back: q-1 acknowledged" q-1 \
	"$(fq "$T/again" '.[] | select(.type == "ack") | .id')"
check "back: q-1 answered once" "apollo: no quorum" \
	"$(fq "$T/again" '[.[] | select(.type == "read") | .content] | join("|")')"
node_kill 1
finish
