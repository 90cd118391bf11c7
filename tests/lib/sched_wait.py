"""sched_wait.py: how long a call took the server, not the machine.

On a loaded machine (make -j2 check beside other work) a request's wall
time includes the time the server's loop thread, and the client itself,
were runnable but waiting for a CPU.  Linux counts that time per thread
in /proc/PID/task/TID/schedstat (its second field, in ns).  While the
server works on a request the client sleeps in recv, and the client runs
only once the answer is there, so the two waits do not overlap: a call's
wall time less both is what the server itself took (working or blocked).
Where schedstat is missing the waits count as 0: the wall time is used.
"""
import os
import time


def run_wait_ns(path):
    """Nanoseconds the thread of schedstat PATH waited for a CPU (0 if
    unknown)."""
    try:
        with open(path) as f:
            return int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


class Stopwatch:
    """Times calls to the server whose loop thread is pid (the main
    thread: aish-rhetor's loop), less the time spent waiting for a CPU."""

    def __init__(self, pid=None):
        pid = pid or os.environ["SERVER_PID"]
        self.paths = ["/proc/%s/task/%s/schedstat" % (pid, pid),
                      "/proc/self/task/%d/schedstat" % os.getpid()]

    def _waits(self):
        return sum(run_wait_ns(p) for p in self.paths)

    def start(self):
        self.w0 = self._waits()
        self.t0 = time.monotonic()

    def stop(self):
        """(the server's time, the wall time) since start, in seconds."""
        wall = time.monotonic() - self.t0
        waited = (self._waits() - self.w0) / 1e9
        return max(0.0, wall - waited), wall
