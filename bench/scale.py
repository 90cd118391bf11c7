#!/usr/bin/env python3
"""bench/scale.py RHETOR [N...]: how aish-rhetor's costs grow with sockets.

For each N (default 1000 10000 20000) it
  1. makes a state directory holding N echo sockets: the server creates
     the database, then the sockets are inserted with Python's sqlite3
     (as many creates would leave them, without N requests);
  2. starts the server and times it from exec to "listening on";
  3. asks POST /api/team-chat of all N and times the answer, while
     another connection asks GET /health every 10 ms: the slowest
     /health answer is the longest the loop stalled;
  4. stops the server with SIGTERM and times it to its exit.
With SCALE_CHAT=0, step 3 is left out; with SCALE_CHAT=term, the server
is stopped 0.3 s into the team chat.  Prints one line per N.  Every server has its own port and
state directory, removed at the end; every wait is bounded.
"""

import http.client
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

START_TIMEOUT_S = 300
# SCALE_CHAT=0: start-up and SIGTERM only, no team chat; SCALE_CHAT=term:
# SIGTERM while the team chat runs.
CHAT = os.environ.get("SCALE_CHAT", "1")


def start(rhetor, state):
    """Starts a server on state; (process, port, seconds to listening)."""
    t0 = time.monotonic()
    p = subprocess.Popen([rhetor, "--port", "0", "--state-dir", state],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    line = p.stdout.readline()
    took = time.monotonic() - t0
    if not line.startswith("listening on http://"):
        p.kill()
        sys.exit("aish-rhetor did not start: %r" % line)
    return p, int(line.rsplit(":", 1)[1]), took


def stop(p):
    """SIGTERM, and the seconds until the process is gone."""
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(START_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return float("inf")
    return time.monotonic() - t0


def fill(state, n):
    """Inserts n echo sockets into the stopped server's database."""
    db = sqlite3.connect(os.path.join(state, "aish.db"))
    now = int(time.time() * 1000)
    db.executemany(
        "INSERT INTO sockets(id, ai_name, model, provider, prompt,"
        " context_json, state, reason, created_at, last_activity, kind)"
        " VALUES(?, ?, 'echo', 'echo', NULL, '{}', 'active', NULL, ?, ?, 0)",
        (("s%d" % i, "s%d" % i, now, now) for i in range(n)))
    db.commit()
    db.close()


class HealthProbe(threading.Thread):
    """Asks GET /health every 10 ms until told to stop; keeps the worst."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.worst = 0.0
        self.count = 0
        self.halt = threading.Event()

    def run(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self.halt.is_set():
            t0 = time.monotonic()
            c.request("GET", "/health")
            c.getresponse().read()
            self.worst = max(self.worst, time.monotonic() - t0)
            self.count += 1
            time.sleep(0.01)


def team_chat(port):
    """One POST /api/team-chat; (seconds, responses, timed out)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t0 = time.monotonic()
    c.request("POST", "/api/team-chat",
              json.dumps({"message": "hi", "timeout_ms": 600000}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    doc = json.loads(r.read())
    took = time.monotonic() - t0
    return took, len(doc.get("responses", [])), len(doc.get("timed_out", []))


def team_chat_or_none(port):
    """A team chat whose server may stop before it answers."""
    try:
        team_chat(port)
    except (OSError, http.client.HTTPException, ValueError):
        pass


def one_size(rhetor, n, work):
    state = os.path.join(work, "state-%d" % n)
    p, _, _ = start(rhetor, state)
    stop(p)
    fill(state, n)
    p, port, up = start(rhetor, state)
    if CHAT == "0":
        down = stop(p)
        print("sockets %d: start-up %.2f s, SIGTERM %.2f s" % (n, up, down),
              flush=True)
        return
    if CHAT == "term":
        chat = threading.Thread(target=lambda: team_chat_or_none(port),
                                daemon=True)
        chat.start()
        time.sleep(0.3)
        down = stop(p)
        print("sockets %d: start-up %.2f s, SIGTERM during the team chat "
              "%.2f s" % (n, up, down), flush=True)
        return
    probe = HealthProbe(port)
    probe.start()
    time.sleep(0.05)
    took, answered, late = team_chat(port)
    probe.halt.set()
    probe.join()
    down = stop(p)
    print("sockets %d: start-up %.2f s, team chat %.2f s (%d answered, "
          "%d timed out), /health worst %.0f ms of %d, SIGTERM %.2f s"
          % (n, up, took, answered, late, probe.worst * 1000, probe.count,
             down), flush=True)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: scale.py RHETOR [N...]")
    rhetor = sys.argv[1]
    sizes = [int(a) for a in sys.argv[2:]] or [1000, 10000, 20000]
    work = tempfile.mkdtemp(prefix="aish-scale.")
    try:
        for n in sizes:
            one_size(rhetor, n, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
