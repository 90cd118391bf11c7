#!/bin/bash
# hostile-bridge.sh: aish-bridge fed what no editor sends: an ndjson line
# of 16 MiB + 1 byte (one over the limit) really sent, a 1 MB header line,
# binary garbage and NUL bytes in either framing, and stdin closed while
# several kinds of request are in flight with garbage before the end.
# Each gets a JSON-RPC error or is skipped; the bridge goes on serving,
# never crashes, and exits 0 at the end of its input.
TEST_TIMEOUT=${TEST_TIMEOUT:-44}
. "$(dirname "$0")/setup.sh"

start_server
cat > "$TEST_TMP/t.py" <<'EOF'
import json, os, time
from bridge_client import Bridge, check, error_code, done

URL = os.environ["URL"]
ARGS = ["--rhetor", URL, "--no-spawn"]
LIMIT = 16 << 20


def alive(b, rid, name):
    r = b.call("aish/send", {"ai": "athena", "content": "still %d" % rid}, 10)
    check(name + ": still serving", r and r.get("result", {}).get("content") == "athena: still %d" % rid, r)


# --- ndjson: a line one byte over the limit, really sent -----------------
b = Bridge(ARGS, "ndjson")
b.initialize()
line = b'{"jsonrpc":"2.0","id":50,"method":"aish/send","params":{"ai":"athena","content":"'
line += b"z" * (LIMIT + 1 - len(line) - 3) + b'"}}'
assert len(line) == LIMIT + 1
b.send_raw(line + b"\n")
r = b.read(10)
check("ndjson line of 16 MiB + 1: -32600 (too large)", error_code(r) == -32600, r)
alive(b, 51, "after 16 MiB + 1")
# exactly at the limit is served
line = b'{"jsonrpc":"2.0","id":52,"method":"aish/list","params":{"pad":"'
line += b"p" * (LIMIT - len(line) - 3) + b'"}}'
b.send_raw(line + b"\n")
r = b.response(52, 10)
check("ndjson line of exactly 16 MiB: read whole (answered)", r is not None and ("result" in r or "error" in r), r)
b.close()
check("ndjson: exit 0", b.wait_exit(10) == 0)

# --- lsp: a 1 MB header line, garbage, NUL bytes --------------------------
b = Bridge(ARGS, "lsp")
b.initialize()
b.send_raw(b"X-Junk: " + b"j" * (1 << 20) + b"\r\n")
m = json.dumps({"jsonrpc": "2.0", "id": 60, "method": "aish/list"}).encode()
b.send_raw(b"Content-Length: %d\r\n\r\n" % len(m) + m)
r = b.wait_for(lambda x: error_code(x) == -32700 or (isinstance(x, dict) and x.get("id") == 60), 10)
check("1 MB header line: -32700 or skipped", r is not None, r)
r = b.response(60, 5) if r is not None and r.get("id") != 60 else r
alive(b, 61, "after a 1 MB header")
garbage = bytes((i * 97 + 13) % 256 for i in range(100000))
b.send_raw(garbage + b"\r\n\r\n")
alive(b, 62, "after 100 KB of binary garbage")
body = b'{"jsonrpc":"2.0","id":63,"method":"aish/list"\x00}'
b.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
r = b.read(5)
check("a NUL byte in a message: -32700", error_code(r) == -32700, r)
body = b'{"jsonrpc":"2.0","id":64,"method":"aish/send","params":{"ai":"athena","content":"cut\\u0000here"}}'
b.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
r = b.read(5)
check("an escaped NUL in content: an error, not a cut message",
      error_code(r) is not None and r.get("id") in (64, None), r)
b.send_raw(b"Content-Length: 5\r\n\r\n\xff\xfe\x00\x01\x02")
r = b.read(5)
check("binary body: -32700", error_code(r) == -32700, r)
alive(b, 65, "after binary bodies")
b.close()
check("lsp: exit 0", b.wait_exit(10) == 0)

# --- end of stdin with requests of every kind in flight, garbage last -----
b = Bridge(ARGS, "ndjson")
b.initialize()
b.call("aish/create", {"ai_name": "slow", "socket_id": "slow", "context": {"echo": {"delay_ms": 700}}})
ids = [b.request("aish/send", {"ai": "slow", "content": "s%d" % i}) for i in range(3)]
ids.append(b.request("aish/pipeline", {"input": "p", "stages": ["slow", "athena"]}))
ids.append(b.request("aish/teamChat", {"message": "t", "timeout_ms": 5000}))
ids.append(b.request("aish/read", {"socket_id": "slow", "timeout_ms": 300}))
b.send_raw(b"\x00\xff garbage without a newline")
b.close()
t0 = time.time()
rc = b.wait_exit(15)
answers = [b.response(i, 1) for i in ids]
check("end of stdin: the sends answered with their replies",
      [((a or {}).get("result") or {}).get("content") for a in answers[:3]] == ["slow: s0", "slow: s1", "slow: s2"],
      answers[:3])
check("end of stdin: the pipeline answered", ((answers[3] or {}).get("result") or {}).get("output") == "athena: slow: p",
      answers[3])
check("end of stdin: the team chat answered", answers[4] is not None and "result" in answers[4], answers[4])
check("end of stdin: the read answered", answers[5] is not None and "result" in answers[5], answers[5])
check("end of stdin: each answered once",
      all(sum(1 for m in b.seen if isinstance(m, dict) and m.get("id") == i and "method" not in m) == 1 for i in ids))
check("end of stdin: exit 0", rc == 0, rc)
done()
EOF
PY_TIMEOUT=42 py_checks "$TEST_TMP/t.py"
finish
