#!/bin/bash
# server-gone.sh: requests while aish-rhetor is away, and once it is back.
# With the server killed, every kind of request (a send, a write, a
# pipeline, a team chat, an open, an HTTP one) fails within a second with
# -32001 naming the server's URL, in aish-bridge and in aish (status 3);
# restarted on the same port, the very next request works at once (the
# bridge does not wait out its reconnect back-off).  Each time is
# measured from the request to its answer; the server's readiness is its
# /health answering.
. "$(dirname "$0")/setup.sh"

start_server
AISH=${AISH:-$top_builddir/aish}
# aish at a terminal keeps its line history here, not in the user's home.
XDG_STATE_HOME=$TEST_TMP/xdg
export RHETOR STATE_DIR SERVER_PID AISH XDG_STATE_HOME

cat > "$TEST_TMP/t.py" <<'EOF'
import json, os, pty, select, signal, subprocess, time, urllib.request
from bridge_client import Bridge, check, error_code, done

URL = os.environ["URL"]
port = URL.rsplit(":", 1)[1]
slow = float(os.environ.get("SLOWDOWN", "1"))
LIMIT = 1.0 * slow      # the most a request may take to fail or to work

def timed(b, method, params, timeout=10):
    t0 = time.time()
    r = b.call(method, params, timeout)
    return r, time.time() - t0

def names_url(r):
    return error_code(r) == -32001 and URL in r["error"]["message"] and \
        r["error"].get("data", {}).get("url") == URL

def start_server():
    srv = subprocess.Popen([os.environ["RHETOR"], "--port", port, "--state-dir",
                            os.environ["STATE_DIR"]], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    end = time.time() + 10 * slow
    while time.time() < end:
        try:
            urllib.request.urlopen(URL + "/health", timeout=1).read()
            return srv
        except OSError:
            time.sleep(0.02)
    raise SystemExit("the server did not come back")

b = Bridge(["--rhetor", URL, "--no-spawn"], "ndjson")
b.initialize()
r = b.call("aish/send", {"ai": "athena", "content": "before"})
check("before: a send works", r and r.get("result", {}).get("content") == "athena: before", r)
r = b.call("aish/open", {"ai": "apollo"})
check("before: a chat is open", r and "result" in r, r)

# ---- the server goes away ----
os.kill(int(os.environ["SERVER_PID"]), signal.SIGKILL)
time.sleep(0.1)     # the kill itself; nothing waits on the bridge here
for method, params in [
        ("aish/send", {"ai": "athena", "content": "x"}),
        ("aish/send", {"ai": "athena", "content": "again"}),
        ("aish/write", {"ai": "athena", "content": "w"}),
        ("aish/pipeline", {"input": "p", "pipeline": "athena | apollo"}),
        ("aish/teamChat", {"message": "t"}),
        ("aish/open", {"ai": "hermes"}),
        ("aish/send", {"ai": "apollo", "content": "on the open chat"}),
        ("aish/history", {"ai": "athena"}),
        ("aish/list", {})]:
    r, took = timed(b, method, params)
    check("server gone: %s %s fails in %.0f ms, naming %s" % (method, params.get("content", ""),
          took * 1000, URL), names_url(r) and took < LIMIT, (r, took))

# ---- aish, the command line: status 3 at once, naming the URL ----
t0 = time.time()
p = subprocess.run([os.environ["AISH"], "-r", URL, "-c", "echo hi | athena"],
                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10)
took = time.time() - t0
check("aish with the server gone: status 3 in %.0f ms" % (took * 1000),
      p.returncode == 3 and took < LIMIT, (p.returncode, took))
check("aish with the server gone: the message names the URL",
      ("cannot reach aish-rhetor at " + URL) in p.stderr, p.stderr)

# An interactive aish that has used the socket, through the same loss
# and return (a terminal, so that a failure does not end it).
pid, fd = pty.fork()
if pid == 0:
    os.execv(os.environ["AISH"], [os.environ["AISH"], "-r", URL])
out = b""
def until(text, timeout):
    global out
    end = time.time() + timeout
    while time.time() < end:
        if text in out.decode("utf-8", "replace"):
            return True
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return text in out.decode("utf-8", "replace")
def say(line):
    global out
    out = b""
    os.write(fd, line.encode() + b"\n")

# ---- the server comes back on the same port ----
srv = start_server()
try:
    r, took = timed(b, "aish/send", {"ai": "athena", "content": "back"})
    check("server back: the next send works in %.0f ms" % (took * 1000),
          r and r.get("result", {}).get("content") == "athena: back" and took < LIMIT, (r, took))
    r, took = timed(b, "aish/pipeline", {"input": "p", "pipeline": "athena | apollo"})
    check("server back: a pipeline works in %.0f ms" % (took * 1000),
          r and r.get("result", {}).get("output") == "apollo: athena: p" and took < LIMIT, (r, took))
    r = b.call("aish/write", {"ai": "apollo", "content": "chat again"})
    wid = r and r.get("result", {}).get("id")
    m = b.wait_for(lambda x: isinstance(x, dict) and x.get("method") == "aish/message" and
                   x["params"].get("in_reply_to") == wid and x["params"]["role"] == "assistant", 5)
    check("server back: the open chat hears its socket again", m is not None, m)

    # aish at a terminal: a reply, the server lost (status line, fast),
    # the server back (the next command works at once).
    check("aish interactive: prompt", until("aish> ", 5), out)
    say("echo one | athena")
    check("aish interactive: a reply", until("athena: one", 5), out)
    srv.kill()
    srv.wait()
    time.sleep(0.1)
    t0 = time.time()
    say("echo two | athena")
    ok = until("cannot reach aish-rhetor at " + URL, 5)
    took = time.time() - t0
    check("aish interactive, server gone: the error names the URL in %.0f ms" % (took * 1000),
          ok and took < LIMIT, out)
    srv = start_server()
    t0 = time.time()
    say("echo three | athena")
    ok = until("athena: three", 5)
    took = time.time() - t0
    check("aish interactive, server back: the next command works in %.0f ms" % (took * 1000),
          ok and took < LIMIT, out)
    os.write(fd, b"exit\n")
    os.waitpid(pid, 0)
    b.close()
    check("the bridge exits 0", b.wait_exit(5) == 0)
finally:
    srv.kill()
    srv.wait()
done()
EOF
py_checks "$TEST_TMP/t.py"
# The script killed the first server; reap it quietly.
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=
finish
