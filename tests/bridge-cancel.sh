#!/bin/bash
# bridge-cancel.sh: $/cancelRequest and aish/cancel answer -32800 and stop
# the AI's work on the server (its reply never comes); time-outs answer
# -32003; a slow AI never delays the answer to another request; and
# notifications arrive while a request waits.
. "$(dirname "$0")/setup.sh"

start_server
cat > "$TEST_TMP/t.py" <<'EOF'
import os, time
from bridge_client import Bridge, check, error_code, done

URL = os.environ["URL"]


def began(b, rid):
    """Waits (3 s at most) for the begin of request rid: the server
    accepted its write."""
    return b.wait_for(lambda m: isinstance(m, dict) and m.get("method") == "aish/progress"
                      and m["params"]["request_id"] == rid and m["params"]["kind"] == "begin", 3)


for framing in ("ndjson", "lsp"):
    t = framing + ": "
    b = Bridge(["--rhetor", URL, "--no-spawn"], framing)
    b.initialize()
    slow = "slow-" + framing
    b.call("aish/create", {"ai_name": "slow", "socket_id": slow,
                           "context": {"echo": {"delay_ms": 1500, "chunks": 3}}})

    # $/cancelRequest
    rid = b.request("aish/send", {"ai": slow, "content": "cancel me"})
    first = began(b, rid)
    t0 = time.time()
    b.notify("$/cancelRequest", {"id": rid})
    r = b.response(rid, 3)
    check(t + "$/cancelRequest: -32800", error_code(r) == -32800, r)
    check(t + "cancel answered at once", time.time() - t0 < 0.5, time.time() - t0)

    # a slow AI does not delay other requests
    rid = b.request("aish/send", {"ai": slow, "content": "slow one"})
    t0 = time.time()
    r2 = b.call("aish/send", {"ai": "athena", "content": "quick"})
    r3 = b.call("aish/list")
    check(t + "quick requests answered while a slow one waits",
          r2 and r2["result"]["content"] == "athena: quick" and r3 and "result" in r3
          and time.time() - t0 < 0.5, time.time() - t0)
    # notifications (deltas) arrive while the request waits
    d = b.wait_for(lambda m: isinstance(m, dict) and m.get("method") == "aish/progress"
                   and m["params"]["request_id"] == rid and m["params"]["kind"] == "delta", 3)
    r = b.response(rid, 0.01)
    check(t + "progress arrives before the answer", d is not None and r is None, (d, r))
    r = b.response(rid, 5)
    check(t + "the slow one ends well", r and r["result"]["content"] == "slow: slow one", r)

    # aish/cancel with an id, and without (all)
    rid = b.request("aish/send", {"ai": slow, "content": "cancel by id"}, rid="s-1")
    began(b, "s-1")
    r = b.call("aish/cancel", {"id": "s-1"})
    check(t + "aish/cancel {id} names it", r and r["result"]["cancelled"] == ["s-1"], r)
    r = b.response("s-1", 3)
    check(t + "aish/cancel {id}: -32800", error_code(r) == -32800, r)
    a = b.request("aish/pipeline", {"input": "p", "pipeline": slow + " | athena"})
    c = b.request("aish/teamChat", {"message": "everyone"})
    began(b, a)
    began(b, c)
    r = b.call("aish/cancel", {})
    check(t + "aish/cancel {} cancels everything in flight", r and sorted(map(str, r["result"]["cancelled"])) ==
          sorted(map(str, [a, c])), r)
    check(t + "each cancelled request: -32800", error_code(b.response(a, 3)) == -32800 and
          error_code(b.response(c, 3)) == -32800)
    r = b.call("aish/cancel", {"id": 12345})
    check(t + "aish/cancel of an unknown id: nothing", r and r["result"]["cancelled"] == [], r)

    # time-out
    rid = b.request("aish/send", {"ai": slow, "content": "too slow", "timeout_ms": 200})
    r = b.response(rid, 3)
    check(t + "timeout_ms: -32003", error_code(r) == -32003, r)
    r = b.call("aish/send", {"ai": "athena", "content": "x", "timeout_ms": -1})
    check(t + "bad timeout_ms: -32602", error_code(r) == -32602, r)

    # The cancelled writes never reach anyone: no aish/message for them.
    # The socket's next reply comes after any of theirs would have.
    r = b.call("aish/send", {"ai": slow, "content": "last"}, 5)
    check(t + "the socket answers after the cancels", r and r["result"]["content"] == "slow: last", r)
    contents = [m["params"]["content"] for m in b.notifications("aish/message")]
    check(t + "cancelled work stopped on the server", not any(c in contents for c in
          ("slow: cancel me", "slow: cancel by id", "slow: p", "slow: too slow")), contents)
    b.close()
    check(t + "exit 0", b.wait_exit(5) == 0)
done()
EOF
py_checks "$TEST_TMP/t.py"
finish
