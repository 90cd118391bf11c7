"""bridge_client.py: drives aish-bridge over its stdio in the tests.

Starts the bridge as a child process, writes messages in LSP or line
framing (or raw bytes), and reads what comes back on a thread of its own,
so that every wait has a time limit.  check() prints TAP-like lines
("ok - NAME" / "not ok - NAME: DETAIL") that tests/setup.sh counts.
"""

import json
import os
import queue
import subprocess
import sys
import threading
import time

BRIDGE = os.environ.get("BRIDGE") or os.path.join(
    os.environ.get("top_builddir", "."), "aish-bridge")
failures = 0
AUTO = object()


def check(name, cond, detail=""):
    """Prints one check's outcome."""
    global failures
    if cond:
        print("ok - " + name, flush=True)
    else:
        failures += 1
        print("not ok - %s: %s" % (name, str(detail)[:600]), flush=True)
    return cond


class Bridge:
    """One aish-bridge child and the messages it sent."""

    def __init__(self, args, framing="ndjson", stderr_path=None):
        self.framing = framing
        err = open(stderr_path, "ab") if stderr_path else subprocess.DEVNULL
        self.p = subprocess.Popen([BRIDGE] + list(args), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=err)
        self.q = queue.Queue()
        self.seen = []          # every message read so far
        self.taken = set()      # ids of those wait_for returned
        self.raw_chunks = []    # stdout as read, chunk by chunk
        self.next_id = 1
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()

    # ---- output of the bridge ----

    def _reader(self):
        buf = b""
        fd = self.p.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                self.q.put(None)
                return
            self.raw_chunks.append(chunk)
            buf += chunk
            while True:
                msg, buf = self._split(buf)
                if msg is None:
                    break
                self.q.put(msg)

    def _split(self, buf):
        """Takes one frame off buf in either framing."""
        if buf.startswith(b"Content-Length:"):
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return None, buf
            n = int(buf[len(b"Content-Length:"):end].strip())
            if len(buf) < end + 4 + n:
                return None, buf
            body = buf[end + 4:end + 4 + n]
            return self._parse(body), buf[end + 4 + n:]
        nl = buf.find(b"\n")
        if nl < 0:
            return None, buf
        return self._parse(buf[:nl]), buf[nl + 1:]

    @staticmethod
    def _parse(body):
        try:
            return json.loads(body)
        except ValueError:
            return {"unparsable": body.decode("utf-8", "replace")}

    def read(self, timeout=5.0):
        """The next message, or None at the end or after timeout."""
        try:
            m = self.q.get(timeout=timeout)
        except queue.Empty:
            return None
        if m is not None:
            self.seen.append(m)
            self.taken.add(id(m))
        return m

    def _read_untaken(self, timeout):
        """Like read, for wait_for: the message is not taken yet."""
        m = self.read(timeout)
        if m is not None:
            self.taken.discard(id(m))
        return m

    def wait_for(self, pred, timeout=5.0):
        """Reads until a message satisfies pred; None when none does."""
        end = time.time() + timeout
        for m in self.seen:
            if id(m) not in self.taken and pred(m):
                self.taken.add(id(m))
                return m
        while time.time() < end:
            m = self._read_untaken(max(0.01, end - time.time()))
            if m is None:
                if self.p.poll() is not None and self.q.empty():
                    return None
                continue
            if pred(m):
                self.taken.add(id(m))
                return m
        return None

    def response(self, rid, timeout=5.0):
        """The response whose id is rid."""
        return self.wait_for(lambda m: isinstance(m, dict) and "method" not in m
                             and m.get("id", "absent") == rid
                             and ("result" in m or "error" in m), timeout)

    def notifications(self, method):
        """The notifications of method seen so far."""
        return [m for m in self.seen if isinstance(m, dict)
                and m.get("method") == method]

    # ---- input to the bridge ----

    def frame(self, body):
        if isinstance(body, str):
            body = body.encode()
        if self.framing == "lsp":
            return b"Content-Length: %d\r\n\r\n" % len(body) + body
        return body + b"\n"

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, obj):
        body = obj if isinstance(obj, (str, bytes)) else json.dumps(obj)
        self.send_raw(self.frame(body))

    def request(self, method, params=None, rid=AUTO, **extra):
        """Sends a request; returns its id."""
        if rid is AUTO:
            rid = self.next_id
            self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        msg.update(extra)
        self.send(msg)
        return rid

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def call(self, method, params=None, timeout=5.0):
        """Sends a request and waits for its response."""
        return self.response(self.request(method, params), timeout)

    def initialize(self):
        return self.call("initialize", {"client_info": {"name": "test"}})

    def close(self):
        """Closes stdin."""
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass

    def wait_exit(self, timeout=10.0):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None


def error_code(m):
    """The error code of a response, or None."""
    if isinstance(m, dict) and isinstance(m.get("error"), dict):
        return m["error"].get("code")
    return None


def done():
    """Ends the script; the checks' lines carry the outcome, so a status
    other than 0 means the script itself broke."""
    sys.exit(0)
