"""Is anything else using the CPUs while we measure? (Linux /proc; elsewhere it reports nothing.)

A timing taken while another process runs on the same cores measures the sharing, not the
framework. Around each measurement, `Watch` reads the machine's busy CPU time (/proc/stat) and
that of the processes being measured (/proc/<pid>/stat, all their threads, plus this process
and its waited-for children); the rest is foreign: other programs, and our own idle workers
if they spin. `foreign_cores` is that time over the wall time, in cores (0.5: half a core
busy elsewhere on average). The runner retries a repetition whose foreign load is over a
threshold, and records the load of every repetition it keeps. The kernel counts CPU time in
clock ticks (10 ms), so a repetition should last well over that (the runner's do: ~0.1 s and
up) for its reading to mean anything.
"""
import os
import time

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _busy_ticks():
    """Busy CPU time of the whole machine, in clock ticks (everything but idle and iowait)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return sum(values[:8]) - values[3] - values[4]  # user nice system idle iowait irq softirq steal


def _process_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime (all threads)
    except (OSError, IndexError, ValueError):
        return 0


def _own_ticks(pids):
    children = os.times()
    return (sum(_process_ticks(pid) for pid in pids)
            + round((children.children_user + children.children_system) * TICK))


class Watch:
    """with Watch(pids) as w: ...; then w.foreign_cores (None where /proc is not readable)."""

    def __init__(self, pids=()):
        self.pids = [os.getpid(), *pids]
        self.foreign_cores = None

    def __enter__(self):
        try:
            self._start = (time.perf_counter(), _busy_ticks(), _own_ticks(self.pids))
        except OSError:
            self._start = None
        return self

    def __exit__(self, *exc):
        if self._start is None:
            return False
        wall = time.perf_counter() - self._start[0]
        busy = _busy_ticks() - self._start[1]
        own = _own_ticks(self.pids) - self._start[2]
        self.foreign_cores = max(0, busy - own) / TICK / max(wall, 1e-9)
        return False


def wait_quiet(max_wait, threshold=0.1, window=0.5):
    """Wait (at most max_wait seconds) until the machine's busy cores over `window` are below
    `threshold`; returns the last reading (cores busy), None without /proc."""
    deadline = time.perf_counter() + max_wait
    while True:
        try:
            start = _busy_ticks()
            time.sleep(window)
            cores = (_busy_ticks() - start) / TICK / window
        except OSError:
            return None
        if cores < threshold or time.perf_counter() >= deadline:
            return cores


class Referee:
    """Runs a measurement and runs it again (up to `retries` times, after waiting for the
    machine to go quiet) while its foreign load is over `threshold` cores, within a total
    waiting budget; keeps the least disturbed attempt and says how disturbed it was."""

    def __init__(self, threshold=0.2, retries=3, wait_budget_s=120.0, wait_each_s=15.0):
        self.threshold, self.retries = threshold, retries
        self.wait_budget_s, self.wait_each_s = wait_budget_s, wait_each_s
        self.waited_s, self.retried, self.contended = 0.0, 0, 0

    def measure(self, fn, pids=()):
        """(fn(), {"foreign_cores": ..., "attempts": ...})."""
        best = None
        for attempt in range(1, self.retries + 2):
            with Watch(pids) as watch:
                result = fn()
            foreign = watch.foreign_cores
            if best is None or (foreign is not None and foreign < best[1]):
                best = (result, foreign)
            if foreign is None or foreign <= self.threshold:
                break
            if attempt > self.retries or self.waited_s >= self.wait_budget_s:
                break
            self.retried += 1
            start = time.perf_counter()
            wait_quiet(min(self.wait_each_s, self.wait_budget_s - self.waited_s))
            self.waited_s += time.perf_counter() - start
        result, foreign = best
        if foreign is not None and foreign > self.threshold:
            self.contended += 1
        return result, {"foreign_cores": foreign, "attempts": attempt}

    def report(self):
        return {"threshold_cores": self.threshold, "retries_max": self.retries,
                "retried": self.retried, "kept_contended": self.contended,
                "waited_s": round(self.waited_s, 1), "wait_budget_s": self.wait_budget_s}
