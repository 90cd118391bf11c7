#!/bin/bash
# bridge-jsonrpc.sh: aish-bridge speaks JSON-RPC 2.0 by the letter: every
# example of the specification's section 7 (in both framings), ids of each
# type echoed, null ids and params, -32002 before initialize, batches
# answered only to batch senders, shutdown and exit.
. "$(dirname "$0")/setup.sh"

start_server
cat > "$TEST_TMP/t.py" <<'EOF'
import json, os
from bridge_client import Bridge, check, error_code, done

URL = os.environ["URL"]
MARK = 0

def marker(b):
    """Sends a request that must be the very next answer: proves that
    what was sent before it got no answer."""
    global MARK
    MARK += 1
    rid = "marker-%d" % MARK
    b.request("aish/cancel", {"id": "none"}, rid=rid)
    m = b.read(5)
    return m is not None and isinstance(m, dict) and m.get("id") == rid, m

def section7(framing):
    b = Bridge(["--rhetor", URL, "--no-spawn"], framing)
    t = framing + ": "
    # Before initialize: -32002, but the id still echoed.
    b.request("aish/list", None, rid=7)
    m = b.read(5)
    check(t + "-32002 before initialize", error_code(m) == -32002 and m["id"] == 7, m)
    b.notify("aish/list")   # a notification before initialize: silence
    r = b.initialize()
    check(t + "initialize answers", r and r["result"]["server_info"]["name"] == "aish-bridge"
          and r["result"]["rhetor"]["connected"] is True, r)
    ok, m = marker(b)
    check(t + "no answer to a notification before initialize", ok, m)

    # rpc call with positional parameters
    b.send('{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}')
    m = b.read(5)
    check(t + "7: positional params, unknown method", error_code(m) == -32601 and m["id"] == 1, m)
    b.send('{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}')
    m = b.read(5)
    check(t + "7: named params, unknown method", error_code(m) == -32601 and m["id"] == 3, m)
    # notifications
    b.send('{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}')
    b.send('{"jsonrpc": "2.0", "method": "foobar"}')
    ok, m = marker(b)
    check(t + "7: notifications get no answer", ok, m)
    # non-existent method
    b.send('{"jsonrpc": "2.0", "method": "foobar", "id": "1"}')
    m = b.read(5)
    check(t + "7: non-existent method", error_code(m) == -32601 and m["id"] == "1", m)
    # invalid JSON
    b.send('{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]')
    m = b.read(5)
    check(t + "7: invalid JSON", error_code(m) == -32700 and m["id"] is None, m)
    # invalid Request object
    b.send('{"jsonrpc": "2.0", "method": 1, "params": "bar"}')
    m = b.read(5)
    check(t + "7: invalid request object", error_code(m) == -32600 and m["id"] is None, m)
    # batch, invalid JSON
    b.send('[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"}, {"jsonrpc": "2.0", "method"]')
    m = b.read(5)
    check(t + "7: batch with invalid JSON", isinstance(m, dict) and error_code(m) == -32700 and m["id"] is None, m)
    # empty array
    b.send('[]')
    m = b.read(5)
    check(t + "7: empty batch is one error", isinstance(m, dict) and error_code(m) == -32600 and m["id"] is None, m)
    # invalid batch, not empty
    b.send('[1]')
    m = b.read(5)
    check(t + "7: batch [1]", isinstance(m, list) and len(m) == 1 and error_code(m[0]) == -32600 and m[0]["id"] is None, m)
    b.send('[1,2,3]')
    m = b.read(5)
    check(t + "7: batch [1,2,3]", isinstance(m, list) and len(m) == 3 and all(error_code(x) == -32600 for x in m), m)
    # mixed batch
    b.send('''[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]'''.replace("\n", " "))
    m = b.read(5)
    ids = sorted(str(x.get("id")) for x in m) if isinstance(m, list) else None
    check(t + "7: mixed batch", isinstance(m, list) and len(m) == 5 and
          ids == sorted(["1", "2", "None", "5", "9"]), m)
    # all notifications
    b.send('[{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]}, {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}]')
    ok, m = marker(b)
    check(t + "7: batch of notifications gets nothing", ok, m)

    # A batch of real methods, one of them waiting on an AI: one array.
    b.send(json.dumps([
        {"jsonrpc": "2.0", "id": 100, "method": "aish/send", "params": {"ai": "athena", "content": "in a batch"}},
        {"jsonrpc": "2.0", "method": "aish/list"},
        {"jsonrpc": "2.0", "id": "l", "method": "aish/list", "params": None}]))
    m = b.wait_for(lambda x: isinstance(x, list), 5)
    check(t + "batch of real methods answered in one array", isinstance(m, list) and len(m) == 2 and
          {x["id"] for x in m} == {100, "l"} and
          [x for x in m if x["id"] == 100][0]["result"]["content"] == "athena: in a batch", m)

    # ids of both types, null id, params null, params by position
    for rid in ["s-1", 42, -7, 1.5, "", None]:
        b.request("aish/list", None, rid=rid)
        m = b.response(rid, 5)
        check(t + "id %r echoed" % (rid,), m is not None and "result" in m and m["id"] == rid
              and type(m["id"]) == type(rid), m)
    b.send('{"jsonrpc":"2.0","id":9007199254740993,"method":"aish/list"}')
    m = b.read(5)
    check(t + "large integer id echoed", isinstance(m, dict) and m.get("id") == 9007199254740993, m)
    b.send('{"jsonrpc":"2.0","id":5,"method":"aish/list","params":null}')
    m = b.response(5)
    check(t + "params null taken as no params", m is not None and "sockets" in m.get("result", {}), m)
    b.send('{"jsonrpc":"2.0","id":6,"method":"aish/send","params":["athena","x"]}')
    m = b.response(6)
    check(t + "params by position: -32602", error_code(m) == -32602, m)
    b.send('{"jsonrpc":"2.0","id":7,"method":"aish/list","params":[]}')
    m = b.response(7)
    check(t + "params [] taken as no params", m is not None and "sockets" in m.get("result", {}), m)
    b.send('{"jsonrpc":"2.0","id":"aish-99","result":{"applied":true}}')
    b.send('{"jsonrpc":"2.0","id":71,"error":{"code":-32601,"message":"no"}}')
    ok, m = marker(b)
    check(t + "an answer to no request of the bridge gets nothing", ok, m)
    b.send('{"id":8,"method":"aish/list"}')
    m = b.response(8)
    check(t + "no jsonrpc member: -32600", error_code(m) == -32600, m)
    b.send('{"jsonrpc":"2.0","id":{"a":1},"method":"aish/list"}')
    m = b.read(5)
    check(t + "object id: -32600 with id null", error_code(m) == -32600 and m["id"] is None, m)
    b.send('{"jsonrpc":"2.0","id":10,"method":"aish/list","params":"x"}')
    m = b.read(5)
    check(t + "string params: -32600", error_code(m) == -32600, m)
    b.send(b'{"jsonrpc":"2.0","id":11,"method":"aish/send","params":{"ai":"athena","content":"\xff"}}')
    m = b.read(5)
    check(t + "bytes that are not UTF-8: -32700", error_code(m) == -32700, m)
    b.send('{"jsonrpc":"2.0","id":12,"method":"aish/list"} trailing')
    m = b.read(5)
    check(t + "trailing garbage: -32700", error_code(m) == -32700, m)
    # Nothing the bridge wrote to a client that never sent a batch is an
    # array (an array would crash Emacs' jsonrpc).
    arrays_before = 0

    # shutdown, then only exit
    r = b.call("shutdown")
    check(t + "shutdown answers null", r is not None and "result" in r and r["result"] is None, r)
    b.request("aish/list", None, rid=13)
    m = b.response(13)
    check(t + "request after shutdown refused", error_code(m) == -32600, m)
    b.notify("exit")
    rc = b.wait_exit(5)
    check(t + "exit after shutdown: status 0", rc == 0, rc)
    return b

for framing in ("ndjson", "lsp"):
    section7(framing)

# Single requests never get arrays.
b = Bridge(["--rhetor", URL, "--no-spawn"], "ndjson")
b.initialize()
for i in range(5):
    b.request("aish/send", {"ai": "apollo", "content": "n%d" % i})
for i in range(5):
    b.response(i + 2, 5)
b.close()
rc = b.wait_exit(5)
check("no array sent to a client that sent no batch",
      not any(isinstance(m, list) for m in b.seen) and len(b.seen) > 10, b.seen[:3])
check("end of stdin: status 0", rc == 0, rc)

# exit without shutdown: status 1, as in LSP
b = Bridge(["--rhetor", URL, "--no-spawn"], "lsp")
b.initialize()
b.notify("exit")
check("exit without shutdown: status 1", b.wait_exit(5) == 1)
done()
EOF
py_checks "$TEST_TMP/t.py"
finish
