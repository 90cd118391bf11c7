"""rawws.py: a bare WebSocket client over plain sockets for the fault tests.

It does the upgrade by hand and reads and writes frames itself, so that a
test can behave as no real client would: never read, send a frame header
that lies about its length, send invalid UTF-8, or hold hundreds of
connections in one process.  Standard library only.
"""

import base64
import json
import os
import socket
import struct
import time


def hostport(url):
    """("127.0.0.1", 8300) from http://127.0.0.1:8300."""
    hp = url.split("://", 1)[1].rstrip("/")
    host, port = hp.rsplit(":", 1)
    return host, int(port)


def upgrade(url, path, headers=(), timeout=5.0, rcvbuf=None):
    """Opens a connection and asks to upgrade PATH; returns (sock, status,
    leftover bytes after the answer's head)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(hostport(url))
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: Upgrade\r\n"
           "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: %s\r\n" % ((path,) + hostport(url) + (key,)))
    for h in headers:
        req += h + "\r\n"
    s.sendall((req + "\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        status = 0
    return s, status, rest


def frame(payload, opcode=1, fin=True, length=None):
    """A masked client frame; LENGTH, when given, is what the header claims."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) \
        if len(payload) < 65536 else _mask_big(payload, mask)
    return head + mask + body


def _mask_big(payload, mask):
    """Masks a large payload quickly."""
    n = len(payload)
    m = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big")


class Reader:
    """Splits the server's frames out of a socket's bytes."""

    def __init__(self, sock, leftover=b""):
        self.s = sock
        self.buf = leftover
        self.closed = False

    def _take(self):
        """One (opcode, payload) off the buffer, or None."""
        b = self.buf
        if len(b) < 2:
            return None
        n = b[1] & 0x7f
        off = 2
        if n == 126:
            if len(b) < 4:
                return None
            n = struct.unpack(">H", b[2:4])[0]
            off = 4
        elif n == 127:
            if len(b) < 10:
                return None
            n = struct.unpack(">Q", b[2:10])[0]
            off = 10
        if len(b) < off + n:
            return None
        self.buf = b[off + n:]
        return b[0] & 0x0f, b[off:off + n]

    def feed(self):
        """Reads what is there (the socket may be non-blocking); returns
        the complete frames as (opcode, payload)."""
        try:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                self.closed = True
            self.buf += chunk
        except (BlockingIOError, socket.timeout):
            pass
        except OSError:
            self.closed = True
        out = []
        while True:
            f = self._take()
            if f is None:
                return out
            out.append(f)

    def json_frames(self, until, timeout):
        """Reads text frames as JSON until until(frames) is true, the
        connection closes or TIMEOUT seconds pass; returns the frames."""
        got = []
        end = time.time() + timeout
        self.s.settimeout(0.2)
        while time.time() < end and not self.closed and not until(got):
            for op, payload in self.feed():
                if op == 1:
                    got.append(json.loads(payload))
                elif op == 8:
                    self.closed = True
        return got
