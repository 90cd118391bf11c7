"""nats_request.py: one request to a NATS server over the plain client
protocol, the reply printed: what an operator's `nats` command does for
a JetStream API call (the tests have no NATS client of their own).

Usage: nats_request.py PORT SUBJECT [PAYLOAD]
Exits 1 when no reply comes within 5 s.
"""

import socket
import sys
import time


def main():
    port, subject = int(sys.argv[1]), sys.argv[2]
    payload = (sys.argv[3] if len(sys.argv) > 3 else "").encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    buf = b""
    while b"\r\n" not in buf:
        buf += s.recv(4096)
    inbox = "_INBOX.aish-test.%d" % time.time_ns()
    s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n' +
              ("SUB %s 1\r\n" % inbox).encode() +
              ("PUB %s %s %d\r\n" % (subject, inbox, len(payload))).encode() +
              payload + b"\r\n")
    buf = b""
    deadline = time.time() + 5
    while time.time() < deadline:
        head, sep, rest = buf.partition(b"\r\n")
        if sep and head.startswith(b"MSG "):
            size = int(head.split()[-1])
            if len(rest) >= size + 2:
                print(rest[:size].decode())
                return 0
        elif sep and head.startswith(b"PING"):
            s.sendall(b"PONG\r\n")
            buf = rest
            continue
        elif sep and not head.startswith(b"MSG "):
            buf = rest
            continue
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    print("no reply to %s" % subject, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
