"""What every framework's worker shares: the model's sizes, the timed loops, and main().

Letters: B batch, T time, D input features, H units.

A worker is started by the parent as

    python -m benchmarks.workloads.<framework>_model serve    --data DATA.npz
    python -m benchmarks.workloads.<framework>_model rss      --data DATA.npz --steps 200
    python -m benchmarks.workloads.<framework>_model coldstart --data DATA.npz

`serve` answers one JSON request per line on stdin ({"cmd": name, "args": {...}}) with one JSON
line ({"ok": true, "result": ...} or {"ok": false, "error": traceback}) on the process' original
stdout; anything a framework prints (to file descriptor 1 included) goes to stderr instead.
`rss` and `coldstart` run once in a fresh process and answer one line the same way.

Timing: time.perf_counter around N calls after untimed warm-up calls, every framework through
the same functions below; each request is one repetition, and the parent interleaves the
frameworks repetition by repetition.
"""
import argparse
import json
import math
import os
import sys
import time
import traceback

import numpy as np

# The tutorial's model: Embedding(20000, 128), LSTM(64, return_sequences=True, dropout=0.2),
# LSTM(32), Dense(1, sigmoid); Adam with Keras' defaults; binary cross-entropy; T = 50.
VOCAB, EMBED, UNITS_1, UNITS_2 = 20000, 128, 64, 32
MAXLEN = 50
DROPOUT = 0.2
LEARNING_RATE, BETA_1, BETA_2, EPSILON = 1e-3, 0.9, 0.999, 1e-7  # keras.optimizers.Adam defaults
PARAMS = 2_621_857  # trainable parameters in Keras' count (one LSTM bias per layer)
# The cost of skipping padding: one batch of PADDED_BATCH reviews post-padded to PADDED_LEN ids
# (see benchmarks/run.py padded_batch), trained on with and without skipping the padding.
PADDED_BATCH, PADDED_LEN = 32, 200
PADDING_MODES = ("computed", "skipped")


def load_data(path):
    """The arrays every framework gets: x_train (N, T) int32, y_train (N,) float32, x_test,
    and the initial weights in Keras' layout and order (the parent drew them once)."""
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    weights = [arrays[f"w{i}"] for i in range(sum(k.startswith("w") for k in arrays))]
    return arrays["x_train"], arrays["y_train"], arrays["x_test"], weights


def load_padded(path):
    """The padded batch: x (B, T) int32 with each review's ids first and 0 after them
    (post-padding), y (B,) float32, lengths (B,) int64 (the real ids in each row)."""
    with np.load(path) as data:
        return data["x_pad"], data["y_pad"], data["lengths_pad"]


def proc_status_kib(field):
    """VmRSS (now) or VmHWM (peak) of this process' address space, KiB, from /proc/self/status.

    VmHWM, not getrusage's ru_maxrss: on Linux ru_maxrss survives exec, so a child can inherit
    the peak of the process that spawned it."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def blas_pools():
    """threadpoolctl's view of the BLAS / OpenMP libraries loaded in this process (if installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    keys = ("user_api", "internal_api", "prefix", "version", "architecture", "num_threads",
            "threading_layer", "filepath")
    return [{k: pool.get(k) for k in keys if k in pool} for pool in threadpool_info()]


class Workload:
    """One framework's tutorial model. Subclasses fill in the framework-specific methods; the
    cmd_* methods time them, the same way for every framework."""

    name = "?"

    # -- framework-specific ---------------------------------------------------------------------
    def load(self):
        """Import the framework; return {package: version}."""
        raise NotImplementedError

    def build(self, weights):
        """The tutorial's model, compiled, with these initial weights (Keras' layout)."""
        raise NotImplementedError

    def trainable_params(self):
        raise NotImplementedError

    def train_step(self, x, y):
        """One optimisation step on a batch (numpy int32 (B, T), float32 (B,)); returns the loss."""
        raise NotImplementedError

    def predict_one(self, x):
        """Inference on one review (1, T) -> (1, 1) probabilities."""
        raise NotImplementedError

    def predict(self, x, batch_size):
        """Inference on many reviews, batch_size at a time -> (N, 1) numpy probabilities."""
        raise NotImplementedError

    def lstm_layer(self, T, B, D, H, rng):
        """A callable running one LSTM(H) layer's forward and backward (dx and every weight
        gradient) on a float32 (B, T, D) input with return_sequences=True."""
        raise NotImplementedError

    def matmul_peak(self, n, repeats):
        return None

    def padded_model(self, weights, x, y, lengths, skip):
        """The tutorial's model for the padded batch (T = PADDED_LEN), with these initial
        weights and an optimizer of its own: skip=False computes every step, padding included;
        skip=True skips the padding the framework's way. Returns (step, predict): step() trains
        once on (x, y) and returns the loss, predict() gives (B,) probabilities for x."""
        raise NotImplementedError(f"{self.name} has no padded model here")

    def padding_checks(self):
        """Facts about the padded models worth reporting (run once, before any timing)."""
        return {}

    def index_dtype(self):
        """The integer type the framework takes token ids in (the values are the same)."""
        return np.int32

    def _adopt(self, path):
        x_train, self.y_train, x_test, weights = load_data(path)
        self.x_train = x_train.astype(self.index_dtype(), copy=False)
        self.x_test = x_test.astype(self.index_dtype(), copy=False)
        return weights

    def checks(self):
        """Facts worth reporting that cost a step (run once, in the serving worker only)."""
        return {}

    def threads(self):
        raise NotImplementedError

    # -- commands -------------------------------------------------------------------------------
    def cmd_setup(self, data):
        self._data_path = data  # the padded models read it later (cmd_padding_setup)
        started = time.perf_counter()
        versions = self.load()
        weights = self._adopt(data)
        self.build(weights)
        params = self.trainable_params()
        if params != PARAMS:
            raise AssertionError(f"{self.name}: {params} trainable parameters, expected {PARAMS}")
        return {"versions": versions, "params": params, "threads": self.threads(),
                "blas": blas_pools(), "setup_s": time.perf_counter() - started,
                "rss_kib": proc_status_kib("VmRSS"), "pid": os.getpid()}

    def _batches(self, batch, count, offset):
        """count consecutive training batches starting at batch number `offset` (wrapping)."""
        n = len(self.x_train) // batch
        return [(self.x_train[(i % n) * batch:(i % n + 1) * batch],
                 self.y_train[(i % n) * batch:(i % n + 1) * batch])
                for i in range(offset, offset + count)]

    def cmd_train(self, batch, steps, warmup, offset=0, threads=None):
        """ms per training step: `warmup` untimed steps, then `steps` timed together; with
        `threads`, under thread_limit(threads)."""
        if threads is not None:
            with self.thread_limit(threads):
                return self.cmd_train(batch, steps, warmup, offset)
        batches = self._batches(batch, warmup + steps, offset)
        for x, y in batches[:warmup]:
            self.train_step(x, y)
        start = time.perf_counter()
        for x, y in batches[warmup:]:
            loss = self.train_step(x, y)
        elapsed = time.perf_counter() - start
        loss = loss[0] if isinstance(loss, (list, tuple)) else loss  # [loss, accuracy]
        return {"ms": 1e3 * elapsed / steps, "loss": float(loss)}

    def thread_limit(self, threads):
        """A context in which the framework computes on `threads` threads (see cmd_latency)."""
        raise NotImplementedError(f"{self.name} has no thread setting here")

    def cmd_latency(self, calls, warmup, offset=0, threads=None, pause_s=0.0):
        """ms per one-review inference: `warmup` untimed calls, then `calls` timed together;
        with `threads`, under thread_limit(threads). With pause_s, a sleep of that long before
        each call (a service answering requests as they come): each call is timed alone, and
        "ms" is their median ("mean_ms" their mean)."""
        if threads is not None:
            with self.thread_limit(threads):
                return self.cmd_latency(calls, warmup, offset, pause_s=pause_s)
        n = len(self.x_test)
        reviews = [self.x_test[(offset + i) % n:(offset + i) % n + 1] for i in range(warmup + calls)]
        for x in reviews[:warmup]:
            self.predict_one(x)
        if pause_s:
            each = []
            for x in reviews[warmup:]:
                time.sleep(pause_s)
                start = time.perf_counter()
                out = self.predict_one(x)
                each.append(time.perf_counter() - start)
            return {"ms": 1e3 * float(np.median(each)), "mean_ms": 1e3 * float(np.mean(each)),
                    "last": float(np.asarray(out).reshape(-1)[0])}
        start = time.perf_counter()
        for x in reviews[warmup:]:
            out = self.predict_one(x)
        elapsed = time.perf_counter() - start
        return {"ms": 1e3 * elapsed / calls, "last": float(np.asarray(out).reshape(-1)[0])}

    def cmd_predict(self, count, batch_size, warmup, threads=None):
        """ms for predict on the first `count` test reviews, batch_size at a time; with
        `threads`, under thread_limit(threads)."""
        if threads is not None:
            with self.thread_limit(threads):
                return self.cmd_predict(count, batch_size, warmup)
        x = self.x_test[:count]
        for _ in range(warmup):
            self.predict(x, batch_size)
        start = time.perf_counter()
        out = self.predict(x, batch_size)
        elapsed = time.perf_counter() - start
        out = np.asarray(out).reshape(-1)
        if out.shape != (count,):
            raise AssertionError(f"{self.name}: predict gave {out.shape}, expected ({count},)")
        return {"ms": 1e3 * elapsed, "mean": float(out.mean())}

    def cmd_lstm(self, T, B, D, H, min_seconds):
        """ms per LSTM layer forward + backward: one untimed call when the shape is new or a
        call is short (< 0.5 s: caches matter), then enough calls timed together to take about
        min_seconds (at least one)."""
        key = (T, B, D, H)
        if getattr(self, "_lstm_key", None) != key:
            self._lstm_fn = None  # free the previous shape's buffers first
            self._lstm_fn = self.lstm_layer(T, B, D, H, np.random.default_rng(0))
            self._lstm_key, self._lstm_once = key, 0.0
        fn = self._lstm_fn
        if self._lstm_once < 0.5:
            start = time.perf_counter()
            fn()
            self._lstm_once = time.perf_counter() - start
        calls = max(1, min(1000, math.ceil(min_seconds / max(self._lstm_once, 1e-6))))
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - start
        self._lstm_once = elapsed / calls
        return {"ms": 1e3 * elapsed / calls, "calls": calls}

    def cmd_padding_setup(self):
        """Build the padded batch's two models (padding computed, padding skipped) from the
        initial weights; return their probabilities before any training step (the parent checks
        that the frameworks agree) and padding_checks()."""
        x, y, lengths = load_padded(self._data_path)
        weights = load_data(self._data_path)[3]
        x = x.astype(self.index_dtype(), copy=False)
        self._padded = {mode: self.padded_model(weights, x, y, lengths, skip=mode == "skipped")
                        for mode in PADDING_MODES}
        outputs = {mode: np.asarray(predict(), np.float64).reshape(-1).tolist()
                   for mode, (_, predict) in self._padded.items()}
        return {"outputs": outputs, "checks": self.padding_checks()}

    def cmd_train_padding(self, mode, steps, warmup):
        """ms per training step on the padded batch (the same batch every step) with the
        padding computed or skipped: `warmup` untimed steps, then `steps` timed together."""
        step = self._padded[mode][0]
        for _ in range(warmup):
            step()
        start = time.perf_counter()
        for _ in range(steps):
            loss = step()
        elapsed = time.perf_counter() - start
        return {"ms": 1e3 * elapsed / steps, "loss": float(loss)}

    def cmd_info(self):
        """Threads and BLAS libraries now (after the runs: lazily loaded libraries included)."""
        return {"threads": self.threads(), "blas": blas_pools(),
                "rss_kib": proc_status_kib("VmRSS")}

    def cmd_outputs(self, count):
        """Probabilities for x_test[:count] from the initial weights (before any training):
        the parent checks that every framework computes the same function."""
        return np.asarray(self.predict(self.x_test[:count], count), np.float64).reshape(-1).tolist()

    def cmd_checks(self):
        return self.checks()

    def cmd_matmul_peak(self, n=2048, repeats=5):
        return self.matmul_peak(n, repeats)

    def cmd_exit(self):
        return None

    # -- one-shot modes -------------------------------------------------------------------------
    def run_rss(self, data, steps, batch):
        """A fresh process: import, build, `steps` training steps; peak RSS of the whole run."""
        self.cmd_setup(data)
        after_setup = proc_status_kib("VmRSS")
        for x, y in self._batches(batch, steps, 0):
            self.train_step(x, y)
        return {"peak_rss_kib": proc_status_kib("VmHWM"), "rss_after_setup_kib": after_setup,
                "rss_end_kib": proc_status_kib("VmRSS"), "steps": steps, "batch": batch}

    def run_coldstart(self, data, batch):
        """A fresh process: seconds to import the framework, build and compile the model, and
        run the first training step; then the second step and a first one-review inference."""
        t0 = time.perf_counter()
        versions = self.load()
        t_import = time.perf_counter()
        weights = self._adopt(data)
        t_load = time.perf_counter()
        self.build(weights)
        t_build = time.perf_counter()
        batches = self._batches(batch, 2, 0)
        self.train_step(*batches[0])
        t_first = time.perf_counter()
        self.train_step(*batches[1])
        t_second = time.perf_counter()
        self.predict_one(self.x_test[:1])
        t_infer = time.perf_counter()
        load = t_load - t_import  # reading the .npz: not the framework's, left out of the total
        return {"import_s": t_import - t0, "build_s": t_build - t_load,
                "first_step_s": t_first - t_build, "second_step_s": t_second - t_first,
                "first_inference_s": t_infer - t_second,
                "total_s": t_first - t0 - load, "versions": versions}


class KerasAPIWorkload(Workload):
    """A framework whose model is a Keras-API Sequential in self.model (Keras itself, and bptt
    with only the import changed): the same calls time both."""

    def train_step(self, x, y):
        return self.model.train_on_batch(x, y)

    def predict_one(self, x):
        return self.model.predict_on_batch(x)

    def predict(self, x, batch_size):
        return self.model.predict(x, batch_size=batch_size, verbose=0)


def main(workload):
    """The worker's entry point: `serve`, `rss` or `coldstart` (see the module docstring)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["serve", "rss", "coldstart"])
    parser.add_argument("--data", required=True)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()

    # Answers go to the original stdout; whatever the framework prints goes to stderr.
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def answer(fn, *a, **kw):
        try:
            reply = {"ok": True, "result": fn(*a, **kw)}
        except Exception:  # the parent reports it and stops this framework, not the run
            reply = {"ok": False, "error": traceback.format_exc()}
        answers.write(json.dumps(reply) + "\n")
        return reply["ok"]

    if args.mode == "rss":
        answer(workload.run_rss, args.data, args.steps, args.batch)
        return
    if args.mode == "coldstart":
        answer(workload.run_coldstart, args.data, args.batch)
        return
    for line in sys.stdin:
        request = json.loads(line)
        answer(getattr(workload, "cmd_" + request["cmd"]), **request.get("args", {}))
        if request["cmd"] == "exit":
            break
