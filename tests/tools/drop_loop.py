"""drop_loop.py: writers that drop their connection at once, in a loop.

Each try opens a connection to one of the given sockets, writes (over the
WebSocket, or over HTTP), and drops the connection after a random delay
(none at all, up to a few milliseconds, or just after the ack): without
reading, after reading whatever has arrived, with a close frame (reading
until the server's, as a WebSocket library does), or with a reset
(SO_LINGER 0).  Every frame a connection parses before it closes
counts as got; what it leaves unread does not.  Between them, HTTP
readers (GET /read) take the queue and drop their connection before the
answer, in the middle of it, or after it (plainly or with a reset); the
messages of an answer read whole count as got.  Each new connection is
the next reader of the replies the earlier ones left, and a last drain
takes the rest.  Then every write the server accepted must have been got
exactly once:

    lost      accepted, but its reply was never got
    doubled   got under two different seqs (two replies to one write)
    copies    got again with the same seq (a client that drops copies by
              seq, as libaish does, sees it once)

Usage: drop_loop.py TRIES SOCKET...   (URL in the environment; prints
"ok - " lines and a "# figures" line.)
"""

import http.client
import json
import os
import random
import socket
import struct
import sys
import time

import rawws
from bridge_client import check, done

URL = os.environ["URL"]
HOST, PORT = rawws.hostport(URL)
got = {}        # (socket, write id) -> [seq, ...] as parsed
written = []    # (socket, write id) of every write sent
how_of = {}     # write id -> how its writer dropped, for the report
got_by = {}     # (socket, write id) -> [how the connection that got it
                # dropped, ...]


def note(sock_id, frames, by="drain"):
    """Records the final frames among FRAMES (read or error), got by a
    connection that drops as BY says."""
    for f in frames:
        if f.get("type") in ("read", "error") and "in_reply_to" in f and \
                "seq" in f:
            got.setdefault((sock_id, f["in_reply_to"]), []).append(f["seq"])
            got_by.setdefault((sock_id, f["in_reply_to"]), []).append(by)


def parse(reader):
    """The text frames complete in READER's buffer, as JSON."""
    out = []
    while True:
        f = reader._take()
        if f is None:
            return out
        if f[0] == 1:
            out.append(json.loads(f[1]))


def parse_until_close(reader):
    """The text frames complete in READER's buffer up to a close frame, as
    JSON, and whether the close frame came."""
    out = []
    while True:
        f = reader._take()
        if f is None:
            return out, False
        if f[0] == 8:
            return out, True
        if f[0] == 1:
            out.append(json.loads(f[1]))


def drain_now(reader):
    """Reads what has arrived (without waiting); returns the frames."""
    reader.s.setblocking(False)
    try:
        while True:
            chunk = reader.s.recv(1 << 20)
            if not chunk:
                break
            reader.buf += chunk
    except (BlockingIOError, InterruptedError):
        pass
    except OSError:
        pass
    return parse(reader)


def drop(s, how):
    """Closes S: plainly (FIN, or a reset when bytes are left unread) or
    with a reset whatever is unread."""
    if how == "reset":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
    s.close()


def ws_try(sock_id, wid):
    """One WebSocket writer that drops its connection."""
    s, status, rest = rawws.upgrade(URL, "/ws/socket/" + sock_id)
    if status != 101:
        s.close()
        return "upgrade %d" % status
    rd = rawws.Reader(s, rest)
    s.sendall(rawws.frame(json.dumps({"type": "write", "content": wid,
                                       "id": wid})))
    written.append((sock_id, wid))
    when = random.choice(["now", "soon", "soon", "later", "after-ack"])
    how = random.choice(["unread", "read", "read", "closeframe", "reset"])
    by = when + " " + how
    how_of[wid] = "ws " + by
    if when == "soon":
        time.sleep(random.uniform(0, 0.002))
    elif when == "later":
        time.sleep(random.uniform(0.002, 0.008))
    elif when == "after-ack":
        s.settimeout(2)
        frames = []
        while not any(f.get("type") == "ack" for f in frames):
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            rd.buf += chunk
            frames += parse(rd)
        note(sock_id, frames, by)
        time.sleep(random.choice([0, 0, random.uniform(0, 0.004)]))
    # What the client took from its socket counts as got, even when it
    # does not look further ("unread": it reads nothing more).
    note(sock_id, drain_now(rd) if how != "unread" else parse(rd), by)
    if how == "closeframe":
        # A WebSocket library's close: the close frame, then what comes
        # until the server's close frame (or the end) is read, then the
        # connection is closed.
        try:
            s.sendall(rawws.frame(struct.pack(">H", 1000), opcode=8))
            s.settimeout(1)
            while True:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                rd.buf += chunk
                frames, closed = parse_until_close(rd)
                note(sock_id, frames, by)
                if closed:
                    break
        except OSError:
            pass
    drop(s, "reset" if how == "reset" else "plain")
    return None


def http_try(sock_id, wid):
    """One HTTP writer that drops its connection before the answer."""
    body = json.dumps({"content": wid, "id": wid}).encode()
    s = socket.create_connection((HOST, PORT), timeout=5)
    s.sendall(("POST /api/ai/socket/%s/write HTTP/1.1\r\nHost: %s:%d\r\n"
               "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
               % (sock_id, HOST, PORT, len(body))).encode() + body)
    written.append((sock_id, wid))
    if random.random() < 0.5:
        time.sleep(random.uniform(0, 0.003))
    how = random.choice(["plain", "reset"])
    how_of[wid] = "http " + how
    drop(s, how)
    return None


def http_read_try(sock_id):
    """One HTTP reader of the queue (GET /read) that drops its connection
    before, while or after the answer comes: its messages count as got
    only when it read the whole answer."""
    s = socket.create_connection((HOST, PORT), timeout=5)
    s.sendall(("GET /api/ai/socket/%s/read HTTP/1.1\r\nHost: %s:%d\r\n\r\n"
               % (sock_id, HOST, PORT)).encode())
    how = random.choice(["now", "part", "whole", "whole", "whole-reset"])
    by = "http-read " + how
    buf = b""
    if how == "part":
        # Some of the answer, never all of it: what it left unread makes
        # its close a reset, or comes after it.
        buf = s.recv(random.randint(1, 64))
    elif how != "now":
        try:
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                buf += chunk
            head, _, body = buf.partition(b"\r\n\r\n")
            n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
                 if l.lower().startswith(b"content-length:")][0]
            while len(body) < n:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                body += chunk
            note(sock_id, json.loads(body)["messages"], by)
        except (OSError, IndexError, ValueError):
            pass
    drop(s, "reset" if how == "whole-reset" else "plain")


def call(method, path, doc=None):
    """One HTTP request; (status, JSON)."""
    c = http.client.HTTPConnection(HOST, PORT, timeout=10)
    body = json.dumps(doc).encode() if doc is not None else None
    c.request(method, path, body, {"Content-Type": "application/json"}
              if body is not None else {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, json.loads(data or b"null")


def final_drain(sock_id):
    """Reads the socket's queue on one connection until it is quiet."""
    s, status, rest = rawws.upgrade(URL, "/ws/socket/" + sock_id)
    rd = rawws.Reader(s, rest)
    frames = parse(rd)
    s.settimeout(0.3)
    while True:
        try:
            chunk = s.recv(1 << 20)
        except socket.timeout:
            break
        if not chunk:
            break
        rd.buf += chunk
        frames += parse(rd)
    note(sock_id, frames)
    # Close cleanly, having read everything: what was got stays got.
    s.sendall(rawws.frame(struct.pack(">H", 1000), opcode=8))
    s.settimeout(1)
    try:
        while s.recv(1 << 16):
            pass
    except OSError:
        pass
    s.close()


def main():
    tries = int(sys.argv[1])
    sockets = sys.argv[2:]
    random.seed(os.environ.get("DROP_SEED") or None)
    t0 = time.time()
    errors = []
    for i in range(tries):
        sock_id = random.choice(sockets)
        wid = "t%d" % i
        err = (http_try if random.random() < 0.15 else ws_try)(sock_id, wid)
        if err:
            errors.append(err)
        if random.random() < 0.15:
            http_read_try(random.choice(sockets))
    loop_s = time.time() - t0
    check("every upgrade accepted", not errors, errors[:5])
    # Give the last replies time to be made, then take what is left.
    time.sleep(0.5)
    for sock_id in sockets:
        final_drain(sock_id)
    for sock_id in sockets:
        st, doc = call("GET", "/api/ai/socket/" + sock_id)
        check("%s: nothing left queued" % sock_id,
              st == 200 and doc.get("queue_size") == 0, doc)
    # Which writes did the server accept?  A write sent again with its id
    # is a duplicate exactly when it was accepted before.
    accepted = []
    for sock_id, wid in written:
        st, doc = call("POST", "/api/ai/socket/%s/write" % sock_id,
                       {"content": wid, "id": wid})
        if st == 202 and doc.get("duplicate"):
            accepted.append((sock_id, wid))
    lost = [k for k in accepted if not got.get(k)]
    doubled = [k for k in accepted if len(set(got.get(k, []))) > 1]
    copies = sum(len(v) - len(set(v)) for v in got.values())
    print("# figures: tries %d, accepted %d, lost %d, doubled %d, "
          "copies %d (loop %.1f s)" % (tries, len(accepted), len(lost),
                                       len(doubled), copies, loop_s),
          flush=True)
    check("most writes reached the server", len(accepted) > tries * 0.8,
          len(accepted))
    check("no reply lost (%d writes dropped at once)" % len(accepted),
          not lost, [(k, how_of.get(k[1])) for k in lost[:10]])
    if os.environ.get("DROP_VERBOSE"):
        for k, v in got.items():
            if len(v) > len(set(v)):
                print("# copy", k, v, got_by.get(k))
    check("no reply doubled", not doubled,
          [(k, got[k]) for k in doubled[:10]])
    done()


main()
