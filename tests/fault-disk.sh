#!/bin/bash
# fault-disk.sh: the disk bound and a disk that fills up.  With
# --max-state-bytes 4 MiB, 1,500 writes of 8 KiB are all accepted while
# the oldest history and queued replies are trimmed (counted in /metrics),
# aish.db stays within 4 MiB and its WAL small, and the newest replies
# are there.  On a 24 MB file system without a bound of its own, the
# server fills the disk, then trims by itself and goes on: every write is
# accepted or refused with storage_error, never acknowledged and lost,
# and refusals, if any, end by themselves; it still takes writes after a
# kill -9 and a restart.  The second part needs root (mount);
# it is skipped with the reason otherwise.

TEST_TIMEOUT=${TEST_TIMEOUT:-90}
. "$(dirname "$0")/setup.sh"

T=$TEST_TMP
MOUNTS=()

# Kills the server, then unmounts what the test mounted, then cleans up.
fs_cleanup() {
	local m
	if [ -n "$SERVER_PID" ]; then
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=
	fi
	for m in ${MOUNTS[@]+"${MOUNTS[@]}"}; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	cleanup
}
trap fs_cleanup EXIT

# The writer: N writes of 8 KiB over one kept-alive connection, to 20
# sockets in turn; prints a line per status run ("202 x563") and the ids
# accepted in ACCEPTED.  Then it reads every queue and checks each
# accepted write got one reply, or was trimmed or dropped as counted.
cat > "$T/writes.py" <<'EOF'
import http.client, json, os, sys
from bridge_client import check, done
import rawws

URL = os.environ["URL"]
N = int(sys.argv[1])
PREFIX = sys.argv[2]
conn = http.client.HTTPConnection(*rawws.hostport(URL), timeout=30)


def call(method, path, doc=None):
    body = json.dumps(doc) if doc is not None else None
    conn.request(method, path, body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"null")


def metric(name):
    conn.request("GET", "/metrics")
    for line in conn.getresponse().read().decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


for i in range(20):
    call("POST", "/api/ai/socket/create", {"ai_name": "d", "socket_id": "d%d" % i})
big = "z" * 8192
accepted, runs, bad = [], [], []


def write(i):
    wid = "%s%d" % (PREFIX, i)
    st, doc = call("POST", "/api/ai/socket/d%d/write" % (i % 20), {"content": big, "id": wid})
    if st == 202:
        accepted.append(wid)
    elif not (st == 500 and doc["error"]["code"] == "storage_error"):
        bad.append((st, doc))
    if runs and runs[-1][0] == st:
        runs[-1][1] += 1
    else:
        runs.append([st, 1])


for i in range(N):
    write(i)
# Refused writes, if any, last only until the server has made room: it
# takes 100 in a row again (at most 1,000 more tries).
i = N
while not (runs[-1][0] == 202 and runs[-1][1] >= 100) and i < N + 1000:
    write(i)
    i += 1
print("# %d writes: %s" % (i, " ".join("%d x%d" % (s, n) for s, n in runs)))
check("every write accepted or refused with storage_error", not bad, bad[:3])
check("then 100 writes in a row accepted", runs[-1][0] == 202 and runs[-1][1] >= 100, runs[-3:])
got = []
for i in range(20):
    st, doc = call("GET", "/api/ai/socket/d%d/read" % i)
    got += [m["in_reply_to"] for m in doc["messages"]] if st == 200 else ["read failed"]
trimmed = metric('aish_state_trimmed_total{what="queue"}') or 0
drops = metric("aish_queue_drops_total") or 0
print("# %d accepted, %d replies read, %d trimmed, %d dropped" % (len(accepted), len(got), trimmed, drops))
check("no reply twice", len(set(got)) == len(got), len(got) - len(set(got)))
check("only replies to accepted writes", set(got) <= set(accepted), list(set(got) - set(accepted))[:3])
check("each accepted write: its reply read, or trimmed or dropped as counted",
      len(got) + trimmed + drops == len(accepted), (len(got), trimmed, drops, len(accepted)))
check("the newest reply is there", accepted and accepted[-1] in got, accepted[-1:])
check("history was trimmed, and counted", (metric('aish_state_trimmed_total{what="history"}') or 0) > 0, "")
with open(os.environ["ACCEPTED"], "w") as f:
    f.write("%d\n" % len(accepted))
done()
EOF
export ACCEPTED=$T/accepted

# sizes DIR: "DB WAL" sizes in bytes.
sizes() {
	echo "$(stat -c %s "$1/aish.db") $(stat -c %s "$1/aish.db-wal" 2>/dev/null || echo 0)"
}

# --- max_state_bytes ------------------------------------------------------------
start_server "" --max-state-bytes 4194304
PY_TIMEOUT=60 py_checks "$T/writes.py" 1500 b
http GET /metrics
check "metrics: the bound" 4194304 "$(printf '%s\n' "$BODY" | awk '$1 == "aish_state_max_bytes" { print $2 }')"
read -r db wal < <(sizes "$STATE_DIR")
echo "# aish.db $db bytes, its WAL $wal"
check_match "aish.db within 4 MiB" yes "$([ "$db" -le 4194304 ] && echo yes || echo "$db")"
check_match "its WAL within 5.3 MB" yes "$([ "$wal" -le 5300000 ] && echo yes || echo "$wal")"
stop_server
start_server "$STATE_DIR" --max-state-bytes 4194304
http POST /api/ai/socket/d3/write '{"content":"after","id":"after"}'
check "restarted at the bound: a write is accepted" 202 "$STATUS"
stop_server
# A bound too small, or not a number, is refused at start-up.
for bad in 1000 -5 4MiB; do
	rc=0
	"$RHETOR" --port 0 --state-dir "$T/never" --max-state-bytes "$bad" \
		> /dev/null 2> "$T/bad.err" || rc=$?
	check "--max-state-bytes $bad: refused" "2 yes" \
		"$rc $(grep -q 'max-state-bytes' "$T/bad.err" && echo yes)"
done
printf '{"max_state_bytes": 100}' > "$T/small.json"
rc=0
"$RHETOR" --port 0 --state-dir "$T/never" --config "$T/small.json" > /dev/null 2> "$T/bad.err" || rc=$?
check_match "config max_state_bytes 100: refused, saying where" "2 *max_state_bytes*" "$rc $(cat "$T/bad.err")"

# --- a 24 MB file system ----------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
	echo "# not root: the full-disk part is skipped (it mounts a tmpfs)"
	finish
	exit
fi
small=$T/small
mkdir -p "$small"
if ! mount -t tmpfs -o size=24m tmpfs "$small"; then
	echo "# cannot mount a tmpfs here: the full-disk part is skipped"
	finish
	exit
fi
MOUNTS+=("$small")
start_server "$small/s"
PY_TIMEOUT=60 py_checks "$T/writes.py" 3000 f
read -r db wal < <(sizes "$small/s")
echo "# aish.db $db bytes, its WAL $wal, file system $(df -k --output=used,avail "$small" | tail -n 1) KiB used/free"
check_match "full disk: its WAL within 5.3 MB" yes "$([ "$wal" -le 5300000 ] && echo yes || echo "$wal")"
kill9_server
start_server "$small/s"
http POST /api/ai/socket/d4/write '{"content":"again","id":"again"}'
check "full disk, after a kill -9: a write is accepted" 202 "$STATUS"
http GET "/api/ai/socket/d4/read?wait_ms=2000"
check "full disk, after a kill -9: its reply" "d: again" "$(jget "$BODY" '[.messages[] | select(.in_reply_to == "again") | .content] | join("")')"
finish
