#!/usr/bin/env python3
"""bench/scale-curves.py RHETOR WS_FLOOR: costs of aish-rhetor that must stay
flat as the work grows, and large messages beside their floor.

1. For each N of SCALE_SOCKETS (default "1000 10000 100000"): a state
   directory holding N echo sockets (the server makes the database, then
   the rows are inserted with Python's sqlite3, as many creates would
   leave them); SCALE_REPEAT (3) starts of a server on it, timed from exec
   to "listening on" (its VmRSS then), and on each, 100 creates over one
   kept-alive HTTP connection (their p50).
2. For each size of SCALE_MESSAGE_BYTES (default "1048576 4194304"): one
   write of that many bytes of content to an echo socket, timed from the
   first byte sent to the whole "read" frame parsed, SCALE_REPEAT * 2
   times; the server's CPU time (utime + stime) per write, their mean.  The floor: the
   same client sends the same frame to `ws-floor --serve` (libwebsockets'
   echo, protocol echo-big) and parses its echo.
3. Steady load: STEADY_MESSAGES (30000) writes of 100 bytes to an echo
   socket, STEADY_INFLIGHT (16) in flight (a new one sent as each read
   comes), SCALE_REPEAT rounds on one server (the stored messages grow
   from round to round); each write timed from its send to its read:
   p50, p99, p99.9 and the longest, and the rate.  The floor: the same
   frames through libwebsockets' echo (protocol echo, which queues
   them), each timed to its echo.

Prints "KEY MEDIAN MIN MAX UNIT" lines (as bench/bench-stats.h).  Every
server has its own port and state directory, removed at the end; every
wait is bounded.  The processes inherit the caller's CPU affinity.
"""

import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "tools"))
import rawws  # noqa: E402

START_TIMEOUT_S = 60
CREATES = 100


def start(argv):
    """Starts a server; (process, port, seconds to its first line)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    took = time.monotonic() - t0
    if not line.startswith("listening on "):
        p.kill()
        p.wait()
        sys.exit("%s did not start: %r" % (argv[0], line))
    return p, int(line.rsplit(":", 1)[-1].split()[-1]), took


def stop(p):
    """SIGTERM, then SIGKILL if it is still there after the timeout."""
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(START_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def rss_kib(pid):
    """VmRSS of a process, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(key, values, unit):
    """One "KEY MEDIAN MIN MAX UNIT" line."""
    print("%s %.6g %.6g %.6g %s" % (key, statistics.median(values),
                                    min(values), max(values), unit),
          flush=True)


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


def create(conn, name):
    """One POST /api/ai/socket/create of an echo socket; its socket_id."""
    conn.request("POST", "/api/ai/socket/create",
                 json.dumps({"ai_name": name, "provider": "echo"}),
                 {"Content-Type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    if r.status != 201:
        sys.exit("create answered %d: %r" % (r.status, body[:200]))
    return json.loads(body)["socket_id"]


def sockets_curve(rhetor, work, n, repeat):
    """Restart time, RSS and create p50 on a state of n sockets."""
    state = os.path.join(work, "state-%d" % n)
    argv = [rhetor, "--port", "0", "--state-dir", state]
    p, _, _ = start(argv)
    stop(p)
    fill(state, n)
    ups, rss, p50s = [], [], []
    for _ in range(repeat):
        p, port, up = start(argv)
        ups.append(up)
        rss.append(rss_kib(p.pid))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        took = []
        for _ in range(CREATES):
            t0 = time.monotonic()
            create(conn, "bench")
            took.append((time.monotonic() - t0) * 1e6)
        conn.close()
        p50s.append(statistics.median(took))
        stop(p)
    summary("restart_s_%d" % n, ups, "s")
    summary("restart_rss_kib_%d" % n, rss, "KiB")
    summary("create_p50_us_%d" % n, p50s, "us")


class FrameReader:
    """The server's (unmasked) frames out of a socket's bytes, kept in one
    bytearray so that a message of many MiB is not copied per piece."""

    def __init__(self, sock, leftover):
        self.s = sock
        self.buf = bytearray(leftover)

    def _take(self):
        """One (opcode, payload) off the buffer, or None."""
        b = self.buf
        if len(b) < 2:
            return None
        n, off = b[1] & 0x7f, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, off = int.from_bytes(b[2:4], "big"), 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, off = int.from_bytes(b[2:10], "big"), 10
        if len(b) < off + n:
            return None
        frame = (b[0] & 0x0f, bytes(b[off:off + n]))
        del b[:off + n]
        return frame

    def next(self, deadline):
        """The next whole frame; exits at the deadline or on a close."""
        while True:
            f = self._take()
            if f is not None:
                return f
            if time.monotonic() > deadline:
                sys.exit("no answer to a large message within %d s"
                         % START_TIMEOUT_S)
            chunk = self.s.recv(1 << 20)
            if not chunk:
                sys.exit("the connection closed during a large message")
            self.buf += chunk


def round_trip(sock, reader, frame, until):
    """Seconds from sending frame to the first frame until() accepts."""
    t0 = time.monotonic()
    sock.sendall(frame)
    while True:
        op, payload = reader.next(t0 + START_TIMEOUT_S)
        if op == 1 and until(json.loads(payload)):
            return time.monotonic() - t0


def write_frame(size, i):
    """A masked write frame whose content is size bytes."""
    content = ("%d" % i).ljust(size, "x")
    return rawws.frame(json.dumps({"type": "write", "content": content,
                                   "id": "big-%d" % i}))


def message_curve(rhetor, floor, work, size, count):
    """Large-message round trips on aish-rhetor and on the floor."""
    frames = [write_frame(size, i) for i in range(count + 1)]
    p, port, _ = start([rhetor, "--port", "0", "--state-dir",
                        os.path.join(work, "state-big-%d" % size)])
    url = "http://127.0.0.1:%d" % port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    sid = create(conn, "big")
    conn.close()
    sock, status, rest = rawws.upgrade(url, "/ws/socket/" + sid,
                                       timeout=START_TIMEOUT_S)
    if status != 101:
        sys.exit("the WebSocket upgrade answered %d" % status)
    reader = FrameReader(sock, rest)
    aish = []
    for i, f in enumerate(frames):
        if i == 1:	# the first warms the server and the client up
            c0 = cpu_s(p.pid)
        took = round_trip(sock, reader, f, lambda m, i=i:
                          m.get("type") == "read" and
                          m.get("in_reply_to") == "big-%d" % i)
        if i > 0:
            aish.append(took * 1e3)
    cpu = (cpu_s(p.pid) - c0) * 1e3 / count
    sock.close()
    stop(p)
    p, port, _ = start([floor, "--serve"])
    sock, status, rest = rawws.upgrade(
        "http://127.0.0.1:%d" % port, "/",
        ["Sec-WebSocket-Protocol: echo-big"], timeout=START_TIMEOUT_S)
    if status != 101:
        sys.exit("the floor's WebSocket upgrade answered %d" % status)
    reader = FrameReader(sock, rest)
    echo = []
    for i, f in enumerate(frames):
        if i == 1:
            c0 = cpu_s(p.pid)
        took = round_trip(sock, reader, f, lambda m: True)
        if i > 0:
            echo.append(took * 1e3)
    echo_cpu = (cpu_s(p.pid) - c0) * 1e3 / count
    sock.close()
    stop(p)
    summary("big_aish_ms_%d" % size, aish, "ms")
    summary("big_floor_ms_%d" % size, echo, "ms")
    # CPU times tick every 10 ms: the mean over the rounds, not each
    summary("big_aish_cpu_ms_%d" % size, [cpu], "ms")
    summary("big_floor_cpu_ms_%d" % size, [echo_cpu], "ms")


def steady_frames(count, first):
    """count masked write frames of 100 bytes of content, with the ids
    s-FIRST, s-FIRST+1 and on (a write id is run once)."""
    return [rawws.frame(json.dumps({"type": "write", "id": "s-%d" % i,
                                   "content": ("m%d " % i).ljust(100, "x")}))
            for i in range(first, first + count)]


def steady_round(sock, reader, frames, first, inflight, answer):
    """Sends the frames (ids from first on), inflight at a time;
    (latencies in ms, msg/s).  answer(payload) is the id number of the
    write a frame answers, or None."""
    n = len(frames)
    sent_at = [0.0] * n
    took = []
    sent = 0
    t0 = time.monotonic()
    deadline = t0 + START_TIMEOUT_S * 4
    while len(took) < n:
        if sent < n and sent - len(took) < inflight:
            top = min(n, len(took) + inflight)
            now = time.monotonic()
            for i in range(sent, top):
                sent_at[i] = now
            sock.sendall(b"".join(frames[sent:top]))
            sent = top
        if time.monotonic() > deadline:
            sys.exit("the steady load did not end in time")
        chunk = sock.recv(1 << 20)
        if not chunk:
            sys.exit("the connection closed under the steady load")
        now = time.monotonic()
        reader.buf += chunk
        while True:
            f = reader._take()
            if f is None:
                break
            i = answer(f[1]) if f[0] == 1 else None
            if i is not None and 0 <= i - first < n:
                took.append((now - sent_at[i - first]) * 1e3)
    return took, n / (time.monotonic() - t0)


def percentile(values, q):
    """The q-quantile of sorted values (nearest rank)."""
    return values[min(len(values) - 1, int(len(values) * q))]


READ_ID = re.compile(rb'"in_reply_to":"s-(\d+)"')
ECHO_ID = re.compile(rb'"id": ?"s-(\d+)"')


def aish_answer(payload):
    """The write a read frame answers; None for any other frame."""
    if b'"type":"read"' not in payload:
        return None
    m = READ_ID.search(payload)
    return int(m.group(1)) if m else None


def echo_answer(payload):
    """The write an echo is of."""
    m = ECHO_ID.search(payload)
    return int(m.group(1)) if m else None


def steady_summary(who, rounds):
    """The lines of one side: each figure's median over the rounds."""
    cols = {"p50": .5, "p99": .99, "p999": .999}
    for name, q in cols.items():
        summary("steady_%s_%s_ms" % (who, name),
                [percentile(sorted(t), q) for t, _ in rounds], "ms")
    summary("steady_%s_max_ms" % who, [max(t) for t, _ in rounds], "ms")
    summary("steady_%s_msgs" % who, [r for _, r in rounds], "msg/s")


def steady_curve(rhetor, floor, work, count, inflight, repeat):
    """p99.9 and the rest under a steady load, aish-rhetor and the floor."""
    frames = [steady_frames(count, r * count) for r in range(repeat)]
    p, port, _ = start([rhetor, "--port", "0", "--state-dir",
                        os.path.join(work, "state-steady")])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    sid = create(conn, "steady")
    conn.close()
    sock, status, rest = rawws.upgrade("http://127.0.0.1:%d" % port,
                                       "/ws/socket/" + sid,
                                       timeout=START_TIMEOUT_S)
    if status != 101:
        sys.exit("the WebSocket upgrade answered %d" % status)
    reader = FrameReader(sock, rest)
    aish = [steady_round(sock, reader, frames[r], r * count, inflight,
                         aish_answer) for r in range(repeat)]
    sock.close()
    stop(p)
    p, port, _ = start([floor, "--serve"])
    sock, status, rest = rawws.upgrade(
        "http://127.0.0.1:%d" % port, "/",
        ["Sec-WebSocket-Protocol: echo"], timeout=START_TIMEOUT_S)
    if status != 101:
        sys.exit("the floor's WebSocket upgrade answered %d" % status)
    reader = FrameReader(sock, rest)
    echo = [steady_round(sock, reader, frames[r], r * count, inflight,
                         echo_answer) for r in range(repeat)]
    sock.close()
    stop(p)
    steady_summary("aish", aish)
    steady_summary("floor", echo)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: scale-curves.py RHETOR WS_FLOOR")
    rhetor, floor = sys.argv[1], sys.argv[2]
    sizes = [int(a) for a in
             os.environ.get("SCALE_SOCKETS", "1000 10000 100000").split()]
    lengths = [int(a) for a in os.environ.get(
        "SCALE_MESSAGE_BYTES", "1048576 4194304").split()]
    repeat = int(os.environ.get("SCALE_REPEAT", "3"))
    steady = int(os.environ.get("STEADY_MESSAGES", "30000"))
    inflight = int(os.environ.get("STEADY_INFLIGHT", "16"))
    print("# scale-curves: sockets %s, %d starts and %d creates on each;"
          " messages of %s bytes, %d each; steady load of %d writes,"
          " %d in flight, %d rounds" %
          (" ".join(map(str, sizes)), repeat, CREATES,
           " ".join(map(str, lengths)), repeat * 2, steady, inflight,
           repeat), flush=True)
    work = tempfile.mkdtemp(prefix="aish-scale.")
    try:
        for n in sizes:
            sockets_curve(rhetor, work, n, repeat)
        for size in lengths:
            message_curve(rhetor, floor, work, size, repeat * 2)
        if steady > 0:
            steady_curve(rhetor, floor, work, steady, inflight, repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
