"""Training steps per second of the character model of examples/shakespeare.py, in bptt and in
Keras, in one run.

    python -m benchmarks.charlm_speed                      # bptt, and Keras if found (this
                                                           # Python or $BPTT_BENCH_KERAS_PYTHON)
    python -m benchmarks.charlm_speed --keras-python /path/to/keras-venv/bin/python
    python -m benchmarks.charlm_speed --loop fit         # model.fit instead of train_on_batch

The model: Embedding(84, 64) -> LSTM(256, return_sequences=True, stateful=True) -> Dense(84)
(logits), sparse categorical crossentropy from logits, Adam (defaults), batch 64 x 100
characters, `model.train_on_batch(x, y)` on consecutive batches with the states carried over
(with --loop fit: one `model.fit(x, y, batch_size=64, shuffle=False, verbose=0)` per block over
that block's batches, laid end to end).
The ids are drawn once from a fixed seed (the time of a step does not depend on which
characters come), the same arrays in both frameworks.

Each framework runs in its own process (benchmarks.workers.environment: the same malloc
settings, OpenBLAS left to pick its kernels), both alive at once: each warms up in turn (numba's
compilation, TensorFlow's tracing), then they take turns, one timed block of --steps steps each,
--blocks times, so that a slow spell of a shared machine lands on both; steps/s is a framework's
median block, and the ratio the median of the ratios of blocks run back to back. Each worker also reports what ran: bptt's kernels setting and threads
and threadpoolctl's view of the BLAS libraries; TensorFlow's version, its threads and whether
its oneDNN kernels are on. The last line is `RESULT {...}` as JSON, with the ratio
bptt / Keras.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run as a file too

from benchmarks import workers  # noqa: E402

VOCABULARY, EMBEDDING, UNITS, BATCH, SEQ_LEN = 84, 64, 256, 64, 100


def batches(count):
    """(inputs, targets), each (count, BATCH, SEQ_LEN) int32, from a fixed seed."""
    ids = np.random.default_rng(0).integers(0, VOCABULARY, (count, BATCH, SEQ_LEN + 1))
    ids = ids.astype("int32")
    return np.ascontiguousarray(ids[..., :-1]), np.ascontiguousarray(ids[..., 1:])


def what_ran(framework):
    """The libraries and settings the worker's steps ran with."""
    if framework == "keras":
        import keras
        import tensorflow as tf
        return {"keras": keras.__version__, "tensorflow": tf.__version__,
                "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on for x86)"),
                "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
                "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads()}
    import numba

    import bptt
    from benchmarks.workloads.common import blas_pools
    from bptt import backend, config
    return {"bptt": bptt.__version__, "kernels": backend.get_kernels(),
            "threads": config.get_num_threads(), "numba": numba.__version__,
            "numba_threading_layer": _threading_layer(numba), "blas": blas_pools()}


def _threading_layer(numba):
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel region has run
        return None


def worker(framework, steps, blocks, warmup, loop):
    """Time the training steps in this process; print one JSON line."""
    if framework == "keras":
        import keras
        from keras import layers, losses, models
        keras.utils.set_random_seed(0)
    else:
        from bptt import layers, losses, models, utils
        utils.set_random_seed(0)
    model = models.Sequential([
        layers.Input(shape=(SEQ_LEN,), batch_size=BATCH, dtype="int32"),
        layers.Embedding(VOCABULARY, EMBEDDING),
        layers.LSTM(UNITS, return_sequences=True, stateful=True),
        layers.Dense(VOCABULARY),
    ])
    model.compile(optimizer="adam",
                  loss=losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = batches(warmup + steps * blocks)
    def fit(first, count):  # count batches from `first` on, in one call, in order
        rows = slice(first, first + count)
        history = model.fit(x[rows].reshape(-1, SEQ_LEN), y[rows].reshape(-1, SEQ_LEN),
                            batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        return history.history["loss"][-1]

    if loop == "fit":
        fit(0, warmup)
    for k in range(warmup if loop == "train_on_batch" else 0):
        model.train_on_batch(x[k], y[k])
    k = warmup
    print(json.dumps({"ready": framework}), flush=True)
    for line in sys.stdin:  # one timed block per "block" line, until "done"
        if line.strip() != "block":
            break
        start = time.perf_counter()
        if loop == "fit":
            loss = fit(k, steps)
            k += steps
        for _ in range(steps if loop == "train_on_batch" else 0):
            loss = model.train_on_batch(x[k], y[k])
            k += 1
        print(json.dumps({"steps_per_s": steps / (time.perf_counter() - start)}), flush=True)
    print(json.dumps({"framework": framework, "loop": loop, "last_loss": float(np.asarray(loss)),
                      "ran": what_ran(framework)}), flush=True)


class Worker:
    """A framework's worker process, warmed up, running one timed block when asked."""

    def __init__(self, framework, python, args):
        env = workers.environment("keras-tf" if framework == "keras" else "bptt")
        command = [python, "-m", "benchmarks.charlm_speed", "--worker", framework,
                   "--steps", str(args.steps), "--blocks", str(args.blocks),
                   "--warmup", str(args.warmup), "--loop", args.loop]
        self.framework = framework
        self.process = subprocess.Popen(command, cwd=workers.ROOT, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)

    def _answer(self):
        while True:
            line = self.process.stdout.readline()
            if not line:
                self.process.wait(timeout=60)
                raise RuntimeError(f"the {self.framework} worker exited "
                                   f"{self.process.returncode}:\n{self.process.stderr.read()[-3000:]}")
            if line.startswith("{"):
                return json.loads(line)

    def ready(self):
        return self._answer()

    def block(self):
        self.process.stdin.write("block\n")
        self.process.stdin.flush()
        return self._answer()["steps_per_s"]

    def finish(self):
        self.process.stdin.write("done\n")
        self.process.stdin.flush()
        answer = self._answer()
        self.process.wait(timeout=60)
        return answer


def keras_python(given):
    """The first interpreter with keras and tensorflow, or None: the one given, else this one,
    then those of $BPTT_BENCH_KERAS_PYTHON (separated by ':', as benchmarks.run reads it)."""
    candidates = [given] if given else [sys.executable] + [
        path for path in os.environ.get("BPTT_BENCH_KERAS_PYTHON", "").split(":") if path]
    for python in candidates:
        info = workers.probe(python) if os.path.exists(python) else None
        if info and info.get("keras") and info.get("tensorflow"):
            return python
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="steps per timed block")
    parser.add_argument("--blocks", type=int, default=3, help="timed blocks (median taken)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--keras-python", default=None, help="an interpreter with keras")
    parser.add_argument("--loop", choices=("train_on_batch", "fit"), default="train_on_batch",
                        help="how the steps are run (the same in both frameworks)")
    parser.add_argument("--worker", choices=("bptt", "keras"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.blocks, args.warmup, args.loop)
        return
    python = keras_python(args.keras_python)
    if python is None:
        print("Keras: no interpreter with keras and tensorflow found (give --keras-python); "
              "bptt alone.")
    team = [Worker("bptt", sys.executable, args)]
    team += [Worker("keras", python, args)] if python else []
    for worker_ in team:  # warm-up in turn, so that neither compiles while the other does
        worker_.ready()
    rates = {w.framework: [] for w in team}
    for _ in range(args.blocks):  # interleaved: a slow spell of the machine hits both
        for worker_ in team:
            rates[worker_.framework].append(worker_.block())
    results = {w.framework: w.finish() for w in team}
    for name, result in results.items():
        result["blocks_steps_per_s"] = rates[name]
        result["steps_per_s"] = statistics.median(rates[name])
        blocks = ", ".join(f"{r:.2f}" for r in rates[name])
        print(f"{name}: {result['steps_per_s']:.2f} steps/s (blocks of {args.steps}: {blocks}); "
              f"ran: {json.dumps(result['ran'])}")
    ratio = None
    if "keras" in results:
        pairs = [b / k for b, k in zip(rates["bptt"], rates["keras"])]
        ratio = statistics.median(pairs)
        print(f"bptt / Keras, block by block: {', '.join(f'{r:.2f}' for r in pairs)}; "
              f"median {ratio:.2f}x the steps per second")
    print("RESULT " + json.dumps({
        "loop": args.loop, "steps_per_s": {k: v["steps_per_s"] for k, v in results.items()},
        "ratio": ratio, "block_ratios": pairs if ratio else None,
        "cpus": len(os.sched_getaffinity(0)), "machine": platform.processor() or
        platform.machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}))


if __name__ == "__main__":
    main()
