"""Keras' progress bar: `625/625 ━━━━━━━━━━━━━━━━━━━━ 12s 19ms/step - accuracy: 0.81 - loss: 0.42`.

While an epoch runs, the time shown is the ETA; at the end, the time it took. The time per
step leaves out the first step (which pays for warm-up), as Keras does. verbose=2 prints only
the final line of each epoch.
"""
import math
import sys
import time

import numpy as np


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
    """Keras' `keras.utils.Progbar`, with its arguments.

    Args:
        target: the number of steps expected, or None if unknown ("  12/Unknown").
        width: the bar's width in characters.
        verbose: 0 silent, 1 the bar, 2 one line when it is finalized.
        interval: the least time between two drawings, in seconds.
        stateful_metrics: names whose values are shown as given; every other name's values
            are averaged over the steps (Keras' default: all are averaged).
        stateless_metrics: instead, the names to average; the others are shown as given
            (fit's bar passes an empty set, since its logs are running means already).
        unit_name: "step" in "19ms/step".
        stream: where to write (bptt's addition; standard output by default).
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 stateless_metrics=None, unit_name="step", stream=None):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Progbar takes stateful_metrics (the names not to average) or "
                             "stateless_metrics (the names to average), not both.")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = None if stateless_metrics is not None else set(
            stateful_metrics or ())
        self.stateless_metrics = None if stateless_metrics is None else set(stateless_metrics)
        self.stream = stream or sys.stdout
        self.dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.after_first_step = None
        self.last_update = 0.0
        self.previous_width = 0
        self.seen_so_far = 0
        self.values = {}  # name -> [sum of value x steps, steps], in the order first seen

    def _averaged(self, name):
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def _record(self, current, values, final):
        """Keras' rule: an averaged value counts for the steps since the last update (at
        least 1), and the final update shows the values it is given."""
        items = values.items() if isinstance(values, dict) else (values or [])
        for name, value in items:
            value = float(np.mean(value))
            averaged = self._averaged(name) and not final
            weight = max(current - self.seen_so_far, 1) if averaged else 1
            if averaged and name in self.values:
                self.values[name][0] += value * weight
                self.values[name][1] += weight
            else:
                self.values[name] = [value * weight, weight]
        self.seen_so_far = current

    def add(self, n, values=None):
        """Advance by `n` steps (Keras' `add`)."""
        self.update(self.seen_so_far + n, values)

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
        if not self.target:  # None or 0: no bar, as Keras
            return "%7d/Unknown" % current, 0
        count = self._count(current)
        done = int(self.width * current / self.target)
        if self.dynamic:
            return (f"\x1b[1m{count}\x1b[0m \x1b[32m{'━' * done}\x1b[0m"
                    f"\x1b[37m{'━' * (self.width - done)}\x1b[0m"), 8 + 18
        return f"{count} {'━' * done}{'─' * (self.width - done)}", 0

    def _metrics(self):
        return "".join(f" - {name}: {format_value(total / max(1, steps))}"
                       for name, (total, steps) in self.values.items())

    def update(self, current, values=None, finalize=None):
        """Show step `current` of `target`. `values`: (name, value of this step) pairs, as in
        Keras, or a dict of them; `finalize` ends the line (by default when `current` reaches
        a known target)."""
        now = time.perf_counter()
        per_step = self._per_step(current, now)
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values, finalize)
        unit = _format_per_step(per_step).replace("/step", f"/{self.unit_name}")
        if self.verbose == 2:
            if finalize and self.target:
                self.stream.write(f"{self._count(current)} - {now - self.start:.0f}s -"
                                  f"{unit}{self._metrics()}\n")
                self.stream.flush()
            return
        if self.verbose != 1 or (not finalize and now - self.last_update < self.interval):
            return
        if not self.dynamic and not finalize:
            return  # in a log file, one line per epoch rather than hundreds
        bar, hidden = self._bar(current)
        when = (f" {_format_eta(per_step * (self.target - current))}"
                if self.target and not finalize else f" {now - self.start:.0f}s")
        line = bar + when + unit + self._metrics()
        width = len(line) - hidden
        pad = " " * max(self.previous_width - width, 0)
        self.stream.write(("\r" if self.dynamic else "") + line + pad + ("\n" if finalize else ""))
        self.stream.flush()
        self.previous_width = width
        self.last_update = now
