"""Writes tests/data/keras_golden_<case>.npz: what Keras 3 itself computes for small models.

Run it where Keras is installed (never part of `make test`, which only reads the files):
    python tests/data/make_keras_golden.py      # e.g. with tensorflow-cpu==2.21.0, keras 3

Each case stores Keras' initial weights, the inputs, Keras' predictions and evaluate() loss,
then the loss returned by, and the weights after, each of three train_on_batch steps.
tests/test_keras_golden.py loads the same initial weights into the same bptt model and must
reproduce every number.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
L = keras.layers


def cases(rng):
    ids = rng.randint(0, 50, size=(4, 7)).astype("int32")
    yield "sentiment", dict(
        layers=[keras.Input((7,)), L.Embedding(50, 8), L.LSTM(6, return_sequences=True),
                L.GRU(5), L.Dense(1, activation="sigmoid")],
        optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
        x=ids, y=rng.randint(0, 2, size=(4, 1)).astype("float32"))
    tags = rng.randint(0, 30, size=(3, 6)).astype("int32")
    yield "tagging", dict(
        layers=[keras.Input((6,)), L.Embedding(30, 5),
                L.Bidirectional(L.SimpleRNN(4, return_sequences=True)),
                L.GRU(3, reset_after=False, return_sequences=True, go_backwards=True),
                L.TimeDistributed(L.Dense(3, activation="softmax"))],
        optimizer=keras.optimizers.RMSprop(learning_rate=0.01), loss="sparse_categorical_crossentropy",
        x=tags, y=(tags % 3).astype("int32"))
    yield "regression", dict(
        layers=[keras.Input((6, 3)), L.LSTM(4, return_sequences=True, go_backwards=True),
                L.Dense(2, activation="tanh"), L.Bidirectional(L.GRU(3), merge_mode="ave"),
                L.Dense(2)],
        optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
        loss="mse", x=rng.normal(size=(5, 6, 3)).astype("float32"),
        y=rng.normal(size=(5, 2)).astype("float32"))


def clipping_cases(rng):
    """An embedding looked up with many repeats under each kind of clipping: TF clips the
    embedding's gradient as slices, one per lookup (bptt.optimizers.base.RowGradient)."""
    ids = rng.randint(0, 6, size=(4, 7)).astype("int32")
    y = rng.randint(0, 2, size=(4, 1)).astype("float32")
    for name, optimizer in (
            ("clipnorm", keras.optimizers.Adam(learning_rate=0.05, clipnorm=0.02)),
            ("global_clipnorm", keras.optimizers.RMSprop(learning_rate=0.01, global_clipnorm=0.05)),
            ("clipvalue", keras.optimizers.SGD(learning_rate=0.5, momentum=0.5, clipvalue=0.002))):
        yield name, dict(
            layers=[keras.Input((7,)), L.Embedding(6, 4), L.LSTM(5),
                    L.Dense(1, activation="sigmoid")],
            optimizer=optimizer, loss="binary_crossentropy", x=ids, y=y)


def main():
    keras.utils.set_random_seed(0)
    all_cases = list(cases(np.random.RandomState(0))) + list(clipping_cases(np.random.RandomState(1)))
    for name, case in all_cases:
        model = keras.Sequential(case["layers"])
        model.compile(optimizer=case["optimizer"], loss=case["loss"])
        out = {"x": case["x"], "y": case["y"]}
        out.update({f"w0_{i}": w for i, w in enumerate(model.get_weights())})
        out["pred"] = model.predict(case["x"], verbose=0)
        out["loss"] = np.float64(model.evaluate(case["x"], case["y"], verbose=0))
        for step in range(3):
            out[f"train_loss_{step}"] = np.float64(model.train_on_batch(case["x"], case["y"]))
            out.update({f"w{step + 1}_{i}": w for i, w in enumerate(model.get_weights())})
        np.savez(os.path.join(HERE, f"keras_golden_{name}.npz"), **out)
        print(name, keras.__version__, [w.shape for w in model.get_weights()])


if __name__ == "__main__":
    main()
