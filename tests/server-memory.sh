#!/bin/bash
# server-memory.sh: memory held for clients is bounded server-wide, and
# counted at its real size.  Readers that never read and keep sending
# 15-byte pings: each pong waiting for them holds about 80 bytes, and is
# counted so: one reader is dropped once its pongs hold 64 MiB, three
# together once they hold 128 MiB, and the server's peak RSS stays near
# that.  Eight clients each holding an unfinished 60 MiB binary stream:
# the server holds 256 MiB of them at most, refuses the others with
# "overloaded", and takes streams again once those are gone.  Peak RSS
# figures are checked in the normal build (not under sanitizers, whose
# memory is their own).

TEST_TIMEOUT=${TEST_TIMEOUT:-100}
. "$(dirname "$0")/setup.sh"

T=$TEST_TMP
cat > "$T/config.json" <<'EOF'
{
  "default_provider": "echo",
  "providers": {
    "count": {"type": "exec", "command": ["sh", "-c", "n=$(wc -c); printf '%s bytes' $n"]}
  }
}
EOF

cat > "$T/t.py" <<'EOF'
import json, os, socket, sys, threading, time
from bridge_client import check, done
import rawws

URL = os.environ["URL"]
PID = int(os.environ["SERVER_PID"])
SANITIZED = os.environ.get("SANITIZED") == "1"
STEP = sys.argv[1]
MB = 1 << 20


def status(field):
    """A field of /proc/PID/status in MiB (VmRSS now, VmHWM the peak)."""
    with open("/proc/%d/status" % PID) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024
    return -1


def metric(name):
    """One value of GET /metrics."""
    s, st, rest = None, 0, b""
    import http.client
    c = http.client.HTTPConnection(*rawws.hostport(URL), timeout=10)
    c.request("GET", "/metrics")
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def hoard_pings(path, count, out):
    """A reader that never reads: count pings, then waits to be dropped.
    out gets True when the server closed the connection."""
    s, st, rest = rawws.upgrade(URL, path, rcvbuf=4096)
    ping = rawws.frame('{"type":"ping"}')
    chunk = ping * 20000
    try:
        for _ in range(count // 20000):
            s.sendall(chunk)
    except OSError:
        pass                            # dropped while sending
    # Dropped: the server closes; reading now finds the end (or a reset)
    # behind the pongs and the close frame it had left to send.
    s.settimeout(5)
    closed = False
    try:
        while True:
            b = s.recv(1 << 20)
            if not b:
                closed = True
                break
    except socket.timeout:
        pass
    except OSError:
        closed = True
    out.append(closed)
    s.close()


base = status("VmRSS")
if STEP == "one":
    # 1,000,000 pongs hold about 80 MB: past the 64 MiB of one reader.
    got = []
    hoard_pings("/ws/socket/athena", 1000000, got)
    peak = status("VmHWM")
    print("# one reader, 1,000,000 pings: RSS %d MiB before, peak %d MiB" % (base, peak))
    check("one reader that never reads is dropped", got == [True], got)
    check("its drop is counted", metric("aish_readers_dropped_total") == 1,
          metric("aish_readers_dropped_total"))
    if not SANITIZED:
        check("one reader: peak RSS within its 64 MiB (+16)", peak - base < 64 + 16, (base, peak))
elif STEP == "three":
    # 800,000 pongs each: under one reader's bound, 190 MB together.
    got = []
    th = [threading.Thread(target=hoard_pings, args=("/ws/socket/" + n, 800000, got))
          for n in ("apollo", "athena", "hermes")]
    for t in th:
        t.start()
    for t in th:
        t.join(60)
    peak = status("VmHWM")
    print("# three readers, 800,000 pings each: RSS %d MiB before, peak %d MiB" % (base, peak))
    check("three readers: the server-wide bound drops some", any(got), got)
    if not SANITIZED:
        check("three readers: peak RSS within the 128 MiB of all (+24)", peak - base < 128 + 24,
              (base, peak))
    check("nothing is left held", metric("aish_unwritten_bytes") == 0, metric("aish_unwritten_bytes"))
elif STEP == "streams":
    # Eight unfinished streams of 60 MiB, held open.
    payload = os.urandom(MB)
    frames = [rawws.frame(payload, opcode=2) for _ in range(4)]
    conns = []
    for i in range(8):
        s, st, rest = rawws.upgrade(URL, "/ws/socket/counter")
        s.sendall(rawws.frame(json.dumps({"type": "stream_start", "mime": "audio/wav", "id": "big%d" % i})))
        for j in range(60):
            s.sendall(frames[j % 4])
        conns.append((s, rawws.Reader(s, rest)))
    time.sleep(0.5)
    peak = status("VmHWM")
    held = metric("aish_inbound_bytes{kind=\"stream\"}") or -1
    print("# eight unfinished 60 MiB streams: RSS %d MiB before, peak %d MiB, %d MiB held"
          % (base, peak, held // MB))
    refused = []
    for i, (s, rd) in enumerate(conns):
        for f in rd.json_frames(lambda fs: fs, 0.5):
            if f.get("type") == "error" and f.get("code") == "overloaded" and f.get("in_reply_to") == "big%d" % i:
                refused.append(i)
    check("streams: those past 256 MiB in all are refused (overloaded)", len(refused) >= 4, refused)
    check("streams: at most 256 MiB held", 0 < held <= 256 * MB, held)
    if not SANITIZED:
        check("streams: peak RSS within the 256 MiB held (+48)", peak - base < 256 + 48, (base, peak))
    for s, rd in conns:
        s.close()
    for _ in range(100):
        if metric("aish_inbound_bytes{kind=\"stream\"}") == 0:
            break
        time.sleep(0.05)
    check("streams: nothing held once their clients are gone", metric("aish_inbound_bytes{kind=\"stream\"}") == 0,
          metric("aish_inbound_bytes{kind=\"stream\"}"))
    # Room again: a stream of 5 MiB goes through whole.
    s, st, rest = rawws.upgrade(URL, "/ws/socket/counter")
    rd = rawws.Reader(s, rest)
    s.sendall(rawws.frame(json.dumps({"type": "stream_start", "mime": "audio/wav", "id": "again"})))
    for j in range(5):
        s.sendall(frames[j % 4])
    s.sendall(rawws.frame(json.dumps({"type": "stream_end", "id": "again"})))
    fin = rd.json_frames(lambda fs: any(f.get("type") in ("read", "error") for f in fs), 10)
    fin = [f for f in fin if f.get("type") in ("read", "error")]
    check("streams: room again, a stream goes through", fin and fin[0].get("content") == "%d bytes" % (5 * MB), fin)
    s.close()
done()
EOF

for step in ${STEPS:-one three streams}; do
	start_server "" --config "$T/config.json"
	http POST /api/ai/socket/create '{"ai_name":"counter","socket_id":"counter","provider":"count"}'
	export SERVER_PID
	PY_TIMEOUT=60 py_checks "$T/t.py" "$step"
	http GET /health
	check "$step: the server is fine" 200 "$STATUS"
	stop_server
done
finish
