"""tcp_cut.py: a TCP relay a test can cut, to take one client off a
server without stopping the server.

It listens on a free loopback port, writes that port to PORT_FILE, and
relays every connection to TARGET_PORT.  SIGUSR1 cuts: every relayed
connection is closed and new ones are refused (closed at once) until
SIGUSR2, which lets them through again.  SIGTERM ends it, and so does
the end of the process that started it.

Usage: tcp_cut.py TARGET_PORT PORT_FILE
"""

import os
import select
import signal
import socket
import sys

cut = False
pairs = {}          # socket -> its other end


def close_all():
    """Closes every relayed connection."""
    for s in list(pairs):
        s.close()
    pairs.clear()


def on_cut(signum, frame):
    global cut
    cut = True
    close_all()


def on_open(signum, frame):
    global cut
    cut = False


def main():
    target, port_file = int(sys.argv[1]), sys.argv[2]
    signal.signal(signal.SIGUSR1, on_cut)
    signal.signal(signal.SIGUSR2, on_open)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, port_file)
    parent = os.getppid()
    while os.getppid() == parent:
        try:
            ready, _, _ = select.select([ls] + list(pairs), [], [], 0.2)
        except (InterruptedError, ValueError, OSError):
            continue
        for s in ready:
            if s is ls:
                c, _ = ls.accept()
                if cut:
                    c.close()
                    continue
                try:
                    t = socket.create_connection(("127.0.0.1", target))
                except OSError:
                    c.close()
                    continue
                pairs[c] = t
                pairs[t] = c
                continue
            if s not in pairs:
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            other = pairs.get(s)
            if not data or other is None:
                for x in (s, other):
                    if x is not None:
                        pairs.pop(x, None)
                        x.close()
                continue
            try:
                other.sendall(data)
            except OSError:
                for x in (s, other):
                    pairs.pop(x, None)
                    x.close()


if __name__ == "__main__":
    main()
