"""health_probe.py: asks an aish-rhetor's GET /health every 10 ms until
its stdin closes, then prints "STALL WORST COUNT": the longest the
server's loop kept one /health waiting (ms), the longest wall time seen
(ms), and how many answers came.  The stall leaves out the time the
server and this probe waited for a CPU (sched_wait.py): that is the
machine's other work, not the server's.
"""
import http.client
import os
import select
import sys

from sched_wait import Stopwatch


def main():
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -10)
    except OSError:
        pass
    watch = Stopwatch()
    host, port = os.environ["URL"].split("://")[1].rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    stall, worst, count = 0.0, 0.0, 0
    print("ready", flush=True)
    while not select.select([sys.stdin], [], [], 0.01)[0]:
        watch.start()
        c.request("GET", "/health")
        r = c.getresponse()
        r.read()
        took, wall = watch.stop()
        if r.status != 200:
            print("status %d" % r.status, flush=True)
            sys.exit(1)
        worst = max(worst, wall)
        stall = max(stall, took)
        count += 1
    print("%.1f %.1f %d" % (stall * 1000, worst * 1000, count), flush=True)


main()
