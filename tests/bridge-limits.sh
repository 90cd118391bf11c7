#!/bin/bash
# bridge-limits.sh: framing and limits of aish-bridge: auto detection,
# Vim's extra header, header case, bad headers and resynchronisation, and
# each limit (message size, nesting depth, header length, requests in
# flight) answered with an error, never a crash.
. "$(dirname "$0")/setup.sh"

start_server
cat > "$TEST_TMP/t.py" <<'EOF'
import json, os, time
from bridge_client import Bridge, check, error_code, done

URL = os.environ["URL"]
ARGS = ["--rhetor", URL, "--no-spawn"]
INIT = '{"jsonrpc":"2.0","id":0,"method":"initialize"}'
LIST = '{"jsonrpc":"2.0","id":%s,"method":"aish/list"}'

def body(s):
    return s.encode() if isinstance(s, str) else s

# LSP: Vim's Content-Type, header names in any case, "\n" line ends,
# blank lines between messages, and a message split across writes.
b = Bridge(ARGS, "lsp")
b.send_raw(b"Content-Length: %d\r\nContent-Type: application/vim-jsonrpc; charset=utf-8\r\n\r\n%s" % (len(INIT), body(INIT)))
r = b.response(0)
check("lsp: Content-Type header accepted", r and "result" in r, r)
check("lsp: auto framing answers in lsp", b.raw_chunks and b.raw_chunks[0].startswith(b"Content-Length: "), b.raw_chunks[:1])
m = body(LIST % 1)
b.send_raw(b"content-length: %d\r\n\r\n%s\r\n\r\n" % (len(m), m))
check("lsp: lower-case header name", (b.response(1) or {}).get("result") is not None)
m = body(LIST % 2)
b.send_raw(b"CONTENT-LENGTH:%d\n\n%s" % (len(m), m))
check("lsp: upper case, no blank, bare newlines", (b.response(2) or {}).get("result") is not None)
m = body(LIST % 3)
frame = b"Content-Length: %d\r\n\r\n%s" % (len(m), m)
for i in range(0, len(frame), 7):
    b.send_raw(frame[i:i + 7])
    time.sleep(0.005)
check("lsp: a message in pieces", (b.response(3) or {}).get("result") is not None)
# Each frame of output is whole: no chunk ends between header and body.
check("lsp: header and body written together", all(not c.endswith(b"\r\n\r\n") for c in b.raw_chunks), b.raw_chunks[:3])
# bad headers, then the stream recovers
b.send_raw(b"Content-Type: text/plain\r\n\r\n")
r = b.read(3)
check("lsp: header without Content-Length: -32700", error_code(r) == -32700 and r["id"] is None, r)
m = body(LIST % 4)
b.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(m), m))
check("lsp: recovers after a bad header", (b.response(4) or {}).get("result") is not None)
b.send_raw(b"Content-Length: abc\r\n\r\n{}")
r = b.read(3)
check("lsp: Content-Length not a number: -32700", error_code(r) == -32700, r)
m = body(LIST % 5)
b.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(m), m))
check("lsp: recovers after a bad length", (b.response(5) or {}).get("result") is not None)
b.send_raw(b"X-Long: " + b"a" * 10000 + b"\r\n")
r = b.read(3)
check("lsp: header too long: -32700", error_code(r) == -32700, r)
b.send_raw(b"\r\n")
m = body(LIST % 6)
b.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(m), m))
check("lsp: recovers after a long header", (b.response(6) or {}).get("result") is not None)
b.close()
check("lsp: exit 0", b.wait_exit(5) == 0)

# ndjson: auto detection, blank lines, CRLF lines, a last line without "\n"
b = Bridge(ARGS, "ndjson")
b.send_raw("\n  \n" + INIT + "\r\n\n")
check("ndjson: auto detection after blank lines", (b.response(0) or {}).get("result") is not None)
check("ndjson: answers are lines", b.raw_chunks and b.raw_chunks[0].startswith(b"{") and b.raw_chunks[0].endswith(b"\n"))
b.send_raw(LIST % 1)
b.close()
check("ndjson: a last line without a newline is served", (b.response(1) or {}).get("result") is not None)
check("ndjson: exit 0", b.wait_exit(5) == 0)

# --framing forces the framing
b = Bridge(ARGS + ["--framing", "lsp"], "lsp")
b.send(INIT)
check("--framing lsp", (b.response(0) or {}).get("result") is not None)
b.close(); b.wait_exit(5)
b = Bridge(ARGS + ["--framing", "ndjson"], "ndjson")
b.send(INIT)
check("--framing ndjson", (b.response(0) or {}).get("result") is not None)
b.close(); b.wait_exit(5)

# message size
for framing in ("ndjson", "lsp"):
    b = Bridge(ARGS + ["--max-message", "1000"], framing)
    b.send(INIT)
    b.response(0)
    big = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "aish/send",
                      "params": {"ai": "athena", "content": "x" * 5000}})
    b.send(big)
    r = b.read(3)
    check(framing + ": message over --max-message: -32600", error_code(r) == -32600 and "large" in r["error"]["message"], r)
    b.send(LIST % 2)
    check(framing + ": next message served", (b.response(2) or {}).get("result") is not None)
    b.close()
    check(framing + ": exit 0 after a large message", b.wait_exit(5) == 0)

# nesting depth
b = Bridge(ARGS + ["--max-depth", "10"], "ndjson")
b.send(INIT); b.response(0)
deep = '{"jsonrpc":"2.0","id":1,"method":"aish/list","params":{"a":' + "[" * 20 + "]" * 20 + "}}"
b.send(deep)
r = b.read(3)
check("nesting deeper than --max-depth: -32600", error_code(r) == -32600 and "nested" in r["error"]["message"], r)
b.send('{"jsonrpc":"2.0","id":2,"method":"aish/list","params":{"a":' + "[" * 3 + "]" * 3 + "}}")
check("shallow nesting served", (b.response(2) or {}).get("result") is not None)
b.send("[" * 100000 + "]" * 100000)
r = b.read(3)
check("100000 levels: an error, no crash", error_code(r) == -32600, r)
b.close()
check("depth: exit 0", b.wait_exit(5) == 0)

# requests in flight
b = Bridge(ARGS + ["--max-inflight", "3"], "ndjson")
b.send(INIT); b.response(0)
b.call("aish/create", {"ai_name": "slow", "socket_id": "slow", "context": {"echo": {"delay_ms": 500}}})
ids = [b.request("aish/send", {"ai": "slow", "content": str(i)}) for i in range(5)]
rs = [b.response(i, 5) for i in ids]
codes = [error_code(r) for r in rs]
check("over --max-inflight: -32005", codes.count(-32005) == 2 and codes.count(None) == 3, codes)
r = b.call("aish/send", {"ai": "athena", "content": "again"})
check("after the wave: served again", r and "result" in r, r)
b.close()
check("inflight: exit 0", b.wait_exit(5) == 0)

# default limits: a 1 MiB message passes, a 17 MiB one does not
b = Bridge(ARGS, "lsp")
b.send(INIT); b.response(0)
r = b.call("aish/send", {"ai": "athena", "content": "y" * (1 << 20)}, 10)
check("1 MiB content passes", r and len(r["result"]["content"]) == (1 << 20) + len("athena: "), (r or {}).get("error"))
b.send_raw(b"Content-Length: %d\r\n\r\n" % (17 << 20))
r = b.read(3)
check("17 MiB announced: -32600 at once", error_code(r) == -32600, r)
b.send_raw(b" " * (17 << 20))
m = body(LIST % 9)
b.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(m), m))
check("the 17 MiB body is skipped, the next served", (b.response(9, 10) or {}).get("result") is not None)
b.close()
check("exit 0", b.wait_exit(5) == 0)
done()
EOF
py_checks "$TEST_TMP/t.py"
finish
