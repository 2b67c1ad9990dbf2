"""Keras' progress bar: `625/625 ━━━━━━━━━━━━━━━━━━━━ 12s 19ms/step - accuracy: 0.81 - loss: 0.42`.

While an epoch runs, the time shown is the ETA; at the end, the time it took. The time per
step leaves out the first step (which pays for warm-up), as Keras does. verbose=2 prints only
the final line of each epoch.
"""
import math
import sys
import time


def _format_per_step(seconds):
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/step"
    return f" {seconds * 1e6:.0f}us/step"


def _format_eta(seconds):
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def format_value(value):
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


class Progbar:
    def __init__(self, target, verbose=1, width=20, interval=0.05, stream=None):
        self.target = target
        self.verbose = verbose
        self.width = width
        self.interval = interval
        self.stream = stream or sys.stdout
        self.dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.after_first_step = None
        self.last_update = 0.0
        self.previous_width = 0

    def _per_step(self, current, now):
        if current == 0:
            return 0.0
        if self.after_first_step is not None and current > 1:
            per_step = (now - self.after_first_step) / (current - 1)
        else:
            per_step = (now - self.start) / current
        if current == 1:
            self.after_first_step = now
        return per_step

    def _count(self, current):
        digits = int(math.log10(self.target)) + 1
        return f"%{digits}d/%d" % (current, self.target)

    def _bar(self, current):
        count = self._count(current)
        done = int(self.width * current / self.target)
        if self.dynamic:
            return (f"\x1b[1m{count}\x1b[0m \x1b[32m{'━' * done}\x1b[0m"
                    f"\x1b[37m{'━' * (self.width - done)}\x1b[0m"), 8 + 18
        return f"{count} {'━' * done}{'─' * (self.width - done)}", 0

    def update(self, current, logs=None, finalize=None):
        """Show step `current` of `target` with the running values in `logs`; `finalize` ends
        the line (by default when current reaches target)."""
        logs = logs or {}
        now = time.perf_counter()
        per_step = self._per_step(current, now)
        final = current >= self.target if finalize is None else finalize
        metrics = "".join(f" - {k}: {format_value(v)}" for k, v in logs.items())
        if self.verbose == 2:
            if final:
                self.stream.write(f"{self._count(current)} - {now - self.start:.0f}s -"
                                  f"{_format_per_step(per_step)}{metrics}\n")
                self.stream.flush()
            return
        if self.verbose != 1 or (not final and now - self.last_update < self.interval):
            return
        if not self.dynamic and not final:
            return  # in a log file, one line per epoch rather than hundreds
        bar, hidden = self._bar(current)
        when = (f" {now - self.start:.0f}s" if final
                else f" {_format_eta(per_step * (self.target - current))}")
        line = bar + when + _format_per_step(per_step) + metrics
        width = len(line) - hidden
        pad = " " * max(self.previous_width - width, 0)
        self.stream.write(("\r" if self.dynamic else "") + line + pad + ("\n" if final else ""))
        self.stream.flush()
        self.previous_width = width
        self.last_update = now
