#!/bin/bash
# bridge-rtt.sh: two timings of aish-bridge against a local aish-rhetor
# (echo provider, no delay):
#  - start-up: from starting the process to its answer to initialize
#    (goal: under 10 ms), medians of 30 starts;
#  - round trip of aish/send, one request in flight at a time, 500 times.
# Usage: bench/bridge-rtt.sh [BUILDDIR]   (default: the source tree)
set -eu
build=${1:-$(cd "$(dirname "$0")/.." && pwd)}
BRIDGE=${BRIDGE:-$build/aish-bridge}
RHETOR=${RHETOR:-$build/aish-rhetor}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aish-bridge-rtt.XXXXXX")
"$RHETOR" --port 0 --state-dir "$tmp/state" > "$tmp/out" 2> "$tmp/err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do
	grep -q '^listening on ' "$tmp/out" 2>/dev/null && break
	sleep 0.05
done
url=$(sed -n 's/^listening on //p' "$tmp/out")

BRIDGE=$BRIDGE URL=$url python3 - <<'EOF'
import json, os, statistics, subprocess, time

bridge, url = os.environ["BRIDGE"], os.environ["URL"]
INIT = b'{"jsonrpc":"2.0","id":1,"method":"initialize"}\n'

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]

starts = []
for _ in range(30):
    t0 = time.perf_counter()
    p = subprocess.Popen([bridge, "--rhetor", url, "--no-spawn"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    p.stdin.write(INIT)
    p.stdin.flush()
    p.stdout.readline()
    starts.append((time.perf_counter() - t0) * 1000)
    p.stdin.close()
    p.wait()
print("start to initialize answer: median %.2f ms, p90 %.2f ms, min %.2f ms (goal < 10 ms)"
      % (statistics.median(starts), pct(starts, 0.9), min(starts)))

p = subprocess.Popen([bridge, "--rhetor", url, "--no-spawn"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE)
p.stdin.write(INIT)
p.stdin.flush()
p.stdout.readline()

def send(i):
    msg = {"jsonrpc": "2.0", "id": i + 2, "method": "aish/send",
           "params": {"ai": "athena", "content": "x" * 100}}
    p.stdin.write(json.dumps(msg).encode() + b"\n")
    p.stdin.flush()
    while True:
        m = json.loads(p.stdout.readline())
        if m.get("id") == i + 2:
            return m

for i in range(20):
    send(i)                 # warm: the WebSocket is open
rtts = []
for i in range(20, 520):
    t0 = time.perf_counter()
    send(i)
    rtts.append((time.perf_counter() - t0) * 1e6)
print("aish/send round trip (echo, 100 B): p50 %.0f us, p90 %.0f us, p99 %.0f us"
      % (pct(rtts, 0.5), pct(rtts, 0.9), pct(rtts, 0.99)))
p.stdin.close()
p.wait()
EOF
