"""The tutorial's claims, measured: SimpleRNN, GRU, LSTM and a Bidirectional LSTM on the same
split of the same task, each with the same width, trained the same number of epochs.

    python examples/compare_cells.py sentiment   # IMDB reviews padded to 200 words, masked
    python examples/compare_cells.py tagging     # UD English-EWT part-of-speech tags
    python examples/compare_cells.py sentiment --no-mask   # the same reviews, no mask
    python examples/compare_cells.py tagging --quick       # a small, fast version

Prints, per cell: its recurrent layer's weights, seconds per epoch (after a throwaway copy of
the model has taken the kernels' one-time compilation), and test accuracy; then a Markdown
table, and a JSON line `RESULT {...}` with every figure.
"""
import argparse
import json
import time

from bptt import layers, models, utils
from bptt.datasets import imdb, udpos

CELLS = ("SimpleRNN", "GRU", "LSTM", "Bidirectional LSTM")


def recurrent(cell, units, return_sequences):
    if cell == "Bidirectional LSTM":
        return layers.Bidirectional(layers.LSTM(units, return_sequences=return_sequences))
    return getattr(layers, cell)(units, return_sequences=return_sequences)


def sentiment_data(quick, maxlen=200):
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=20000, maxlen=maxlen)
    if quick:
        x_train, y_train, x_test, y_test = x_train[:2000], y_train[:2000], x_test[:500], y_test[:500]
    return (x_train, y_train), (x_test, y_test)


def sentiment_model(cell, mask):
    model = models.Sequential([layers.Input(shape=(None,)),
                               layers.Embedding(20000, 64, mask_zero=mask),
                               recurrent(cell, 64, return_sequences=False),
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def tagging_data(quick):
    (x_train, y_train), _, (x_test, y_test), (words, tags) = udpos.load_ids(
        num_words=20000, maxlen=60)
    if quick:
        x_train, y_train, x_test, y_test = x_train[:1500], y_train[:1500], x_test[:300], y_test[:300]
    return (x_train, y_train), (x_test, y_test), len(tags)


def tagging_model(cell, tag_count):
    model = models.Sequential([layers.Input(shape=(None,)),
                               layers.Embedding(20000, 64, mask_zero=True),
                               recurrent(cell, 64, return_sequences=True),
                               layers.TimeDistributed(layers.Dense(tag_count,
                                                                   activation="softmax"))])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def recurrent_weights(model):
    return model.layers[1].count_params()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("task", choices=("sentiment", "tagging"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--no-mask", action="store_true", help="sentiment without a mask")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.task == "sentiment":
        (x_train, y_train), (x_test, y_test) = sentiment_data(args.quick)
        build = lambda cell: sentiment_model(cell, mask=not args.no_mask)  # noqa: E731
    else:
        (x_train, y_train), (x_test, y_test), tag_count = tagging_data(args.quick)
        build = lambda cell: tagging_model(cell, tag_count)  # noqa: E731
    rows = []
    for cell in CELLS:
        warm = build(cell)  # a throwaway copy takes the kernels' one-time compilation
        warm.train_on_batch(x_train[:32], y_train[:32])
        warm.evaluate(x_test[:32], y_test[:32], verbose=0)
        utils.set_random_seed(0)
        model = build(cell)
        start = time.perf_counter()
        model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, verbose=0)
        per_epoch = (time.perf_counter() - start) / args.epochs
        _, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
        rows.append({"cell": cell, "weights": recurrent_weights(model),
                     "seconds_per_epoch": round(per_epoch, 2), "test_accuracy": round(accuracy, 4)})
        print(f"{cell:>20}  {rows[-1]['weights']:>7,} weights  {per_epoch:6.1f} s/epoch  "
              f"test accuracy {accuracy:.4f}", flush=True)
    print(f"\n{args.task}{' (no mask)' if args.no_mask else ''}, {len(x_train)} training and "
          f"{len(x_test)} test sequences, {args.epochs} epochs, batch 32, width 64:\n")
    print("| cell | recurrent weights | s / epoch | test accuracy |\n|---|---|---|---|")
    for row in rows:
        print(f"| {row['cell']} | {row['weights']:,} | {row['seconds_per_epoch']} | "
              f"{row['test_accuracy']:.4f} |")
    print("RESULT " + json.dumps({"task": args.task, "mask": not args.no_mask,
                                  "epochs": args.epochs, "rows": rows}))


if __name__ == "__main__":
    main()
