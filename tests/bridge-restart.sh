#!/bin/bash
# bridge-restart.sh: aish-bridge across failures: the server killed and
# restarted in the middle of a request (the answer still comes, once),
# end of stdin in the middle of requests (they are answered, then exit
# 0), and a server that is not there (-32001).
. "$(dirname "$0")/setup.sh"

start_server
export RHETOR STATE_DIR SERVER_PID
cat > "$TEST_TMP/t.py" <<'EOF'
import os, signal, socket, subprocess, time
from bridge_client import Bridge, check, error_code, done

URL = os.environ["URL"]
port = URL.rsplit(":", 1)[1]

# End of stdin with requests in flight: all answered, then status 0.
b = Bridge(["--rhetor", URL, "--no-spawn"], "lsp")
b.initialize()
b.call("aish/create", {"ai_name": "slow", "socket_id": "slow", "context": {"echo": {"delay_ms": 800}}})
ids = [b.request("aish/send", {"ai": "slow", "content": "n%d" % i}) for i in range(3)]
ids.append(b.request("aish/pipeline", {"input": "p", "stages": ["athena", "slow"]}))
b.close()
t0 = time.time()
rc = b.wait_exit(10)
answers = [b.response(i, 1) for i in ids]
check("end of stdin: every request in flight answered",
      all(a is not None and "result" in a for a in answers), answers)
check("end of stdin: then status 0", rc == 0, rc)
check("end of stdin: exit as soon as the last answer is out", time.time() - t0 < 3, time.time() - t0)

# Server killed (SIGKILL) and restarted in the middle of a request.
b = Bridge(["--rhetor", URL, "--no-spawn"], "ndjson")
b.initialize()
rid = b.request("aish/send", {"ai": "slow", "content": "survive"})
b.wait_for(lambda m: isinstance(m, dict) and m.get("method") == "aish/progress", 3)
os.kill(int(os.environ["SERVER_PID"]), signal.SIGKILL)
# Down once its port refuses connections (3 s at most).
for _ in range(300):
    try:
        socket.create_connection(("127.0.0.1", int(port)), 0.1).close()
    except OSError:
        break
    time.sleep(0.01)
r = b.response(rid, 0.1)
check("no answer while the server is down", r is None, r)
srv = subprocess.Popen([os.environ["RHETOR"], "--port", port, "--state-dir", os.environ["STATE_DIR"]],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    r = b.response(rid, 10)
    check("server restarted: the request is answered", r and r.get("result", {}).get("content") == "slow: survive", r)
    # A reply sent twice would come before the socket's next one.
    r = b.call("aish/send", {"ai": "slow", "content": "next"})
    check("server restarted: the next request is answered", r and r.get("result", {}).get("content") == "slow: next", r)
    msgs = [m["params"]["content"] for m in b.notifications("aish/message")]
    check("the reply came once", msgs.count("slow: survive") == 1, msgs)
    r = b.call("aish/send", {"ai": "athena", "content": "after"})
    check("requests after the restart work", r and r["result"]["content"] == "athena: after", r)
    b.close()
    check("exit 0", b.wait_exit(5) == 0)
finally:
    srv.kill()
    srv.wait()

# No server at all: -32001, quickly, for HTTP and WebSocket methods.
b = Bridge(["--rhetor", URL, "--no-spawn", "--unreachable-ms", "300"], "ndjson")
r = b.initialize()
check("initialize without a server: connected false", r and r["result"]["rhetor"]["connected"] is False, r)
r = b.call("aish/list")
check("list without a server: -32001", error_code(r) == -32001, r)
t0 = time.time()
r = b.call("aish/send", {"ai": "athena", "content": "x"}, 5)
check("send without a server: -32001", error_code(r) == -32001 and time.time() - t0 < 3, r)
r = b.call("aish/send", {"ai": "athena", "content": "x"}, 5)
check("send again without a server: -32001 at once", error_code(r) == -32001, r)
b.close()
check("exit 0 after failures", b.wait_exit(5) == 0)
done()
EOF
py_checks "$TEST_TMP/t.py"
finish
