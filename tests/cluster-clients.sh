#!/bin/bash
# cluster-clients.sh: libaish, aish and aish-bridge given the URLs of two
# nodes move to the second when the first is killed (kill -9):
#  (a) a new aish command goes through node 2 and is answered;
#  (b) an aish session (commands on stdin) keeps going through node 2,
#      and a libaish client whose writes node 1 had acknowledged, but not
#      answered, sends them again with the same ids: every write answered
#      once, none lost, none doubled;
#  (c) aish-bridge's aish/send works after node 1 is gone;
#  (d) with both nodes gone, each client fails at once with an error
#      that names both URLs.
# Each client tells of its move in one line on stderr (the bridge: in
# its log).

. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/cluster-lib.sh"

T=$TEST_TMP
LIBTEST=${LIBTEST:-$top_builddir/tests/tools/aish-libtest}
# Jobs node 1 held when it died go to node 2 after 3 s (30 s by default).
export AISH_CLUSTER_ACK_WAIT_MS=3000
cluster_start
node_start 1
node_start 2
# A slow socket, made on node 1, known to node 2 through the cluster.
use_node 1
http POST /api/ai/socket/create \
	'{"ai_name":"slow","socket_id":"slow","context":{"echo":{"delay_ms":1500}}}'
check "create slow on node 1" 201 "$STATUS"
use_node 2
for n in $(seq 1 $(( 100 * SLOWDOWN ))); do
	http GET /api/ai/socket/slow
	[ "$STATUS" = 200 ] && break
	sleep 0.05
done
check "node 2 knows slow" 200 "$STATUS"
URLS="${NODE_URLS[1]},${NODE_URLS[2]}"
echo "# nodes: $URLS"

# wait_lines FILE PATTERN N: waits (up to 15 s, times SLOWDOWN) until
# FILE holds N lines matching PATTERN (grep -E).
wait_lines() {
	local n
	for n in $(seq 1 $(( 300 * SLOWDOWN ))); do
		[ "$(grep -cE "$2" "$1" 2>/dev/null || true)" -ge "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

# (b) An aish session: commands on stdin, one at a time.
mkfifo "$T/cli.in"
timeout 60 "$AISH" --no-spawn -r "$URLS" < "$T/cli.in" > "$T/cli.out" \
	2> "$T/cli.err" &
cli_pid=$!
exec 3> "$T/cli.in"
for i in 1 2 3; do
	echo "echo b$i | apollo" >&3
	wait_lines "$T/cli.out" "apollo: b$i\$" 1 || fail "session: b$i answered on node 1" "$(cat "$T/cli.err")"
done

# (c) aish-bridge: a send through node 1, then, once node 1 is gone, a
# send through node 2, then, once both are gone, a send that fails.
cat > "$T/bridge.py" <<'EOF'
import os, time
from bridge_client import Bridge, check, error_code, done

T, URLS = os.environ["T"], os.environ["URLS"]
N1, N2 = URLS.split(",")

def wait_file(name, limit=90.0):
    end = time.time() + limit
    while time.time() < end:
        if os.path.exists(os.path.join(T, name)):
            return True
        time.sleep(0.05)
    return False

b = Bridge(["--rhetor", URLS, "--no-spawn", "--verbose", "--log", T + "/bridge.log"])
b.initialize()
r = b.call("aish/send", {"ai": "apollo", "content": "c1"}, 10)
check("bridge: aish/send through node 1", r and r.get("result", {}).get("content") == "apollo: c1", r)
open(T + "/bridge-ready", "w").close()
check("bridge: node 1 killed", wait_file("node1-dead"), "no node1-dead")
for text in ("c2", "c3"):
    r = b.call("aish/send", {"ai": "apollo", "content": text}, 15)
    check("bridge: aish/send %s after node 1 died" % text,
          r and r.get("result", {}).get("content") == "apollo: " + text, r)
log = open(T + "/bridge.log").read()
moves = [l for l in log.splitlines() if "is away: now using" in l]
check("bridge: one log line tells of the move to node 2",
      len(moves) == 1 and N1 in moves[0] and moves[0].endswith(N2), moves)
open(T + "/bridge-moved", "w").close()
check("bridge: both nodes killed", wait_file("all-dead"), "no all-dead")
t0 = time.time()
r = b.call("aish/send", {"ai": "apollo", "content": "c4"}, 15)
took = time.time() - t0
msg = (r or {}).get("error", {}).get("message", "")
check("bridge: with no node, -32001", error_code(r) == -32001, r)
check("bridge: the error names both URLs", N1 in msg and N2 in msg, msg)
check("bridge: the error comes within 5 s", took < 5, took)
b.close()
check("bridge: exits 0", b.wait_exit(10) == 0, "")
done()
EOF
export T URLS
PYTHONPATH="$top_srcdir/tests/tools${PYTHONPATH:+:$PYTHONPATH}" \
	timeout $(( 90 * SLOWDOWN )) python3 "$T/bridge.py" > "$T/bridge.tap" 2>&1 3>&- &
bridge_pid=$!
wait_file "$T/bridge-ready" || fail "bridge: first send" "$(cat "$T/bridge.tap")"

# (b) libaish: three writes to the slow AI, acknowledged by node 1,
# which is killed while it runs them.
"$LIBTEST" -u "$URLS" -t 40000 write slow s1 s2 s3 > "$T/lib.out" \
	2> "$T/lib.err" 3>&- &
lib_pid=$!
wait_lines "$T/lib.out" '^ack ' 3 || fail "libaish: three acks from node 1" "$(cat "$T/lib.out" "$T/lib.err")"
node_kill 1 KILL
: > "$T/node1-dead"
echo "# node 1 killed at ${SECONDS}s"

# (b) The session goes on through node 2.
for i in 4 5 6; do
	echo "echo b$i | apollo" >&3
	wait_lines "$T/cli.out" "apollo: b$i\$" 1 || fail "session: b$i answered on node 2" "$(cat "$T/cli.err")"
done
# The end of stdin ends the session (the other clients were started
# without this descriptor).
exec 3>&-
rc=0
wait "$cli_pid" || rc=$?
check "session: status" 0 "$rc"
for i in 1 2 3 4 5 6; do
	check "session: b$i answered once" 1 "$(grep -c "apollo: b$i\$" "$T/cli.out" || true)"
done
check "session: six replies in all" 6 "$(grep -c 'apollo: b' "$T/cli.out" || true)"
check "session: one line tells of the move" \
	"aish: ${NODE_URLS[1]} is away: now using ${NODE_URLS[2]}" "$(cat "$T/cli.err")"

rc=0
wait "$lib_pid" || rc=$?
echo "# libaish done at ${SECONDS}s"
check "libaish: status" 0 "$rc"
for i in 1 2 3; do
	check "libaish: s$i answered once" 1 "$(grep -c "^read slow slow .* slow: s$i\$" "$T/lib.out" || true)"
	# Acknowledged by node 1, sent again with the same id to node 2,
	# which knew it.
	acks=$(grep "^ack " "$T/lib.out" | awk '{print $4}' | sort | uniq -c |
		awk -v k="$(grep "^read .* slow: s$i\$" "$T/lib.out" | awk '{print $4}')" '$2 == k {print $1}')
	check "libaish: s$i sent again with its id (two acks)" 2 "${acks:-0}"
done
check "libaish: three replies in all" 3 "$(grep -c '^read ' "$T/lib.out" || true)"
check "libaish: no seq twice" 3 "$(grep '^read ' "$T/lib.out" | awk '{print $5}' | sort -u | wc -l)"

# (a) A new command with both URLs: node 1 is gone, node 2 answers.
RC=0
timeout 20 "$AISH" --no-spawn -r "$URLS" -c 'echo a1 | apollo' > "$T/a.out" 2> "$T/a.err" || RC=$?
check "new command: status" 0 "$RC"
check "new command: answered by node 2" "[From Apollo] apollo: a1" "$(cat "$T/a.out")"
check "new command: one line tells of the move" \
	"aish: ${NODE_URLS[1]} is away: now using ${NODE_URLS[2]}" "$(cat "$T/a.err")"

wait_file "$T/bridge-moved" || fail "bridge: sends through node 2" "$(cat "$T/bridge.tap")"

# (d) Both nodes gone.
node_kill 2 KILL
: > "$T/all-dead"
echo "# node 2 killed at ${SECONDS}s"
t0=$(now_ms)
RC=0
timeout 20 "$AISH" --no-spawn -r "$URLS" -c 'echo d1 | apollo' > "$T/d.out" 2> "$T/d.err" || RC=$?
took=$(( $(now_ms) - t0 ))
check "no node: status 3" 3 "$RC"
check_match "no node: the error names both URLs" \
	"aish: cannot reach aish-rhetor at ${NODE_URLS[1]},${NODE_URLS[2]}:*" "$(cat "$T/d.err")"
check "no node: one line" 1 "$(wc -l < "$T/d.err")"
if [ "$took" -lt 5000 ]; then ok "no node: the error comes within 5 s ($took ms)"
else fail "no node: the error comes within 5 s" "$took ms"; fi
RC=0
timeout 20 "$LIBTEST" -u "$URLS" list > "$T/dl.out" 2> "$T/dl.err" || RC=$?
check_match "no node: libaish's request fails" '[1-9]*' "$RC"
check_match "no node: libaish's error names both URLs" \
	"*no server answered (tried ${NODE_URLS[1]},${NODE_URLS[2]})*" "$(cat "$T/dl.err")"

rc=0
wait "$bridge_pid" || rc=$?
while IFS= read -r line; do
	case "$line" in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) fail "${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done < "$T/bridge.tap"
check "bridge script: status" 0 "$rc"
check "bridge script: all its checks ran" 10 "$(grep -c '^ok - \|^not ok - ' "$T/bridge.tap")"
finish
