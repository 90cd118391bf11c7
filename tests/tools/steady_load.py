"""steady_load.py: writes at a steady rate through the failures a test
causes, as a careful client does, and counts what came back.

One writer sends RATE writes a second to SOCKET for SECONDS, each with
its own id, over a WebSocket to the first of WRITE_URLS; when that
connection goes away it moves to the next URL (round the list) and sends
again, with the same ids, every write not yet acknowledged; a write
refused with an error (storage_error while the engine elects a leader)
is sent again 100 ms later.  One reader holds a connection to SOCKET on
READ_URL the whole time and records every final frame.  At given times
it runs the test's commands (kill -9 of a node or a nats-server).  After
the last write it waits until each accepted write has its reply, or
DRAIN seconds.

Printed, as "ok - "/"not ok - " lines and one "# figures" line:

    accepted  writes acknowledged (a duplicate ack counts: the engine
              had the write from an earlier try)
    delivered accepted writes whose reply the reader got
    lost      accepted, no reply got
    doubled   a write answered under two seqs
    copies    a reply got again under the same seq
    pause_ms  the longest time the writer waited for any ack while
              writes were out: what a client sees of a failover

and a "# refused N times: CODE: MESSAGE" line for each error the writer
got.

Usage: steady_load.py PREFIX SOCKET RATE SECONDS DRAIN READ_URL
           WRITE_URL[,URL...] [--at SECONDS COMMAND]...
(write ids are PREFIX-1, PREFIX-2, …)
"""

import json
import select
import subprocess
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
import rawws  # noqa: E402


def connect(url, sock_id):
    """A WebSocket to SOCK_ID on URL (http://…), or None."""
    try:
        s, status, rest = rawws.upgrade(url, "/ws/socket/" + sock_id,
                                        timeout=2.0)
    except OSError:
        return None
    if status != 101:
        s.close()
        return None
    s.setblocking(False)
    return rawws.Reader(s, rest)


class Writer:
    """The writing side: its connection, what is owed an ack."""

    def __init__(self, urls, sock_id):
        self.urls = urls
        self.sock_id = sock_id
        self.at = 0
        self.conn = None
        self.unacked = {}       # id -> content, sent or to send
        self.retry = {}         # id -> when to send again
        self.accepted = set()
        self.resent = 0
        self.moves = 0
        self.last_ack = time.time()
        self.pause = 0.0
        self.errors = {}        # message -> how many times

    def send(self, wid):
        """Sends write WID on the connection, if there is one."""
        if self.conn is None:
            return
        msg = json.dumps({"type": "write", "id": wid,
                          "content": self.unacked[wid]})
        try:
            self.conn.s.sendall(rawws.frame(msg))
        except OSError:
            self.conn.closed = True

    def ensure(self):
        """Connects (the next URL after a loss) and sends again what is
        not acknowledged."""
        if self.conn is not None and not self.conn.closed:
            return
        if self.conn is not None:
            self.conn.s.close()
            self.conn = None
            self.at = (self.at + 1) % len(self.urls)
            self.moves += 1
        for _ in range(len(self.urls)):
            self.conn = connect(self.urls[self.at], self.sock_id)
            if self.conn is not None:
                break
            self.at = (self.at + 1) % len(self.urls)
        if self.conn is None:
            return
        for wid in list(self.unacked):
            self.resent += 1
            self.send(wid)

    def write(self, wid, content):
        """A new write."""
        self.unacked[wid] = content
        self.send(wid)

    def frames(self, frames, now):
        """What the writer's connection got."""
        for f in frames:
            wid = f.get("id") if f.get("type") == "ack" else None
            if wid is not None and wid in self.unacked:
                del self.unacked[wid]
                self.accepted.add(wid)
                self.last_ack = now
            elif f.get("type") == "error":
                text = "%s: %s" % (f.get("code"), f.get("message"))
                self.errors[text] = self.errors.get(text, 0) + 1
                wid = f.get("in_reply_to")
                if wid in self.unacked:
                    self.retry[wid] = now + 0.1

    def tick(self, now):
        """Sends again the refused writes that are due; tracks the pause."""
        for wid, when in list(self.retry.items()):
            if when <= now:
                del self.retry[wid]
                if wid in self.unacked:
                    self.resent += 1
                    self.send(wid)
        if self.unacked:
            self.pause = max(self.pause, now - self.last_ack)
        else:
            self.last_ack = now


def main():
    args = sys.argv[1:]
    at = []
    while "--at" in args:
        i = args.index("--at")
        at.append((float(args[i + 1]), args[i + 2]))
        del args[i:i + 3]
    prefix, sock_id, rate, seconds, drain, read_url, write_urls = args
    rate, seconds, drain = float(rate), float(seconds), float(drain)
    reader = connect(read_url, sock_id)
    if reader is None:
        print("not ok - the reader connects to %s" % read_url)
        return 1
    writer = Writer(write_urls.split(","), sock_id)
    replies = {}            # write id -> set of seqs
    copies = 0
    total = int(rate * seconds)
    start = time.time()
    n = 0
    procs = []
    while True:
        now = time.time()
        while at and now - start >= at[0][0]:
            procs.append(subprocess.Popen(at.pop(0)[1], shell=True))
        writer.ensure()
        while n < total and now - start >= n / rate:
            n += 1
            writer.write("%s-%d" % (prefix, n), "steady %d" % n)
        writer.tick(now)
        if n >= total and not writer.unacked:
            if writer.accepted <= set(replies) or now - start > seconds + drain:
                break
        if now - start > seconds + drain:
            break
        conns = [reader.s] + ([writer.conn.s] if writer.conn else [])
        ready, _, _ = select.select(conns, [], [], 0.005)
        if reader.s in ready:
            for op, payload in reader.feed():
                if op != 1:
                    continue
                f = json.loads(payload)
                if f.get("type") != "read":
                    continue
                seqs = replies.setdefault(f.get("in_reply_to"), set())
                if f.get("seq") in seqs:
                    copies += 1
                seqs.add(f.get("seq"))
            if reader.closed:
                print("not ok - the reader's connection stayed up")
                return 1
        if writer.conn is not None and writer.conn.s in ready:
            frames = []
            for op, payload in writer.conn.feed():
                if op == 1:
                    frames.append(json.loads(payload))
            writer.frames(frames, time.time())
    for p in procs:
        p.wait()
    accepted = writer.accepted
    delivered = accepted & set(replies)
    lost = len(accepted - delivered)
    doubled = sum(1 for w in accepted if len(replies.get(w, ())) > 1)
    print("# figures: sent %d accepted %d delivered %d lost %d doubled %d "
          "copies %d resent %d moves %d unacked %d pause_ms %d" %
          (n, len(accepted), len(delivered), lost, doubled, copies,
           writer.resent, writer.moves, len(writer.unacked),
           int(writer.pause * 1000)))
    for text, count in sorted(writer.errors.items(), key=lambda e: -e[1]):
        print("# refused %d times: %s" % (count, text))
    ok = [("every write accepted", len(accepted) == total),
          ("none lost", lost == 0), ("none doubled", doubled == 0)]
    for name, good in ok:
        print(("ok - " if good else "not ok - ") + name)
    return 0 if all(good for _, good in ok) else 1


if __name__ == "__main__":
    sys.exit(main())
