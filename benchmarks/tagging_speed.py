"""Seconds per epoch of the tagger of examples/tagging.py, in bptt or in Keras, on the same data.

    python -m benchmarks.tagging_speed --framework bptt
    /path/to/keras-venv/bin/python -m benchmarks.tagging_speed --framework keras

The words-only tagger: Embedding(vocabulary, 100, mask_zero=True), Bidirectional(LSTM(64,
return_sequences=True)), Dense(18, softmax) on every step; Adam, batch 32, each batch padded
to its own longest sentence, in a fixed order (no shuffling, so both frameworks see the same
batches). A plain Dense rather than TimeDistributed(Dense): Keras 3.15's TimeDistributed fails
when the time length changes from batch to batch. The data come from bptt.datasets.udpos
(NumPy only), so the Keras run needs bptt importable (PYTHONPATH) but runs none of its layers.

Prints each epoch's seconds (training only, through fit) and, after the last, dev accuracy;
the last line is `RESULT {...}` as JSON.
"""
import argparse
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run as a file too

from bptt.datasets import udpos  # noqa: E402


def framework_modules(name):
    if name == "keras":
        import keras
        return keras, keras.layers, keras.models, keras.utils, keras.callbacks
    import bptt
    from bptt import callbacks, layers, models, utils
    return bptt, layers, models, utils, callbacks


def batches(words, tags, batch_size):
    """[(x, y)]: consecutive sentences, each batch padded with 0 to its own longest one."""
    out = []
    for start in range(0, len(words), batch_size):
        rows = range(start, min(start + batch_size, len(words)))
        longest = max(len(words[r]) for r in rows)
        x = np.zeros((len(rows), longest), "int32")
        y = np.zeros((len(rows), longest), "int32")
        for i, r in enumerate(rows):
            x[i, :len(words[r])], y[i, :len(tags[r])] = words[r], tags[r]
        out.append((x, y))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--framework", choices=("bptt", "keras"), required=True)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    top, layers, models, utils, callbacks = framework_modules(args.framework)
    (x_train, y_train), (x_dev, y_dev), _, (words, tags) = udpos.load_ids()
    train, dev = batches(x_train, y_train, 32), batches(x_dev, y_dev, 128)

    class Batches(utils.PyDataset):
        def __init__(self, items):
            super().__init__()
            self.items = items

        def __len__(self):
            return len(self.items)

        def __getitem__(self, index):
            return self.items[index]

    class EpochTimes(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)
            print(f"epoch {epoch + 1}: {seconds[-1]:.1f} s", flush=True)

    utils.set_random_seed(0)
    model = models.Sequential([layers.Input(shape=(None,), dtype="int32"),
                               layers.Embedding(len(words), 100, mask_zero=True),
                               layers.Bidirectional(layers.LSTM(64, return_sequences=True)),
                               layers.Dense(len(tags), activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    seconds = []
    model.fit(Batches(train), epochs=args.epochs, shuffle=False, callbacks=[EpochTimes()],
              verbose=0)
    _, accuracy = model.evaluate(Batches(dev), verbose=0)
    print(f"dev accuracy after {args.epochs} epochs: {accuracy:.4f}")
    print("RESULT " + json.dumps({
        "framework": args.framework, "version": top.__version__, "epochs_s": seconds,
        "dev_accuracy": accuracy, "cpus": len(os.sched_getaffinity(0)),
        "machine": platform.processor() or platform.machine(),
        "date": time.strftime("%Y-%m-%d")}))


if __name__ == "__main__":
    main()
