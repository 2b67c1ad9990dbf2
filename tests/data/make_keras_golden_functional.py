"""Writes tests/data/keras_golden_fn_<case>.npz and tests/data/keras_functional_facts.json: what
Keras 3 itself computes and reports for small functional models (several inputs and outputs,
shared layers, states passed between layers, stateful layers, stacked cells, nested models).

Run it where Keras is installed (never part of `make test`, which only reads the files):
    python tests/data/make_keras_golden_functional.py   # tensorflow-cpu==2.21.0, keras 3.15.1

Each npz holds only numeric or unicode arrays (np.load(..., allow_pickle=False)):
    w0_<i>                  Keras' initial weights, model.get_weights() order
    x_<i>, y_<i>            inputs in model.inputs order, targets in model.outputs order
    pred_<i>                predict() outputs, flattened in Keras' output order
    eval_keys, eval_values  evaluate(return_dict=True), Keras' key order
    step<s>_keys, step<s>_values, w<s>_<i>   train_on_batch(return_dict=True) logs and all
                            weights after step s = 1, 2, 3
The stateful case adds pred_batch<k> (three consecutive batches), pred_reset (batch 0 again
after reset_states()) and pred_after_train (batch 0 predicted with the state training left).
tests/test_keras_golden_functional.py builds the same models with `import bptt as keras`.
"""
import io
import json
import os
import sys
from contextlib import redirect_stdout

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from functional_cases import builders, pack  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 0


def _one_hot(ids, depth):
    return np.eye(depth, dtype="float32")[ids]


def data(name, rng):
    """(inputs, targets) as lists in model.inputs / flattened model.outputs order."""
    normal = lambda *shape: rng.normal(size=shape).astype("float32")  # noqa: E731
    if name == "encoder_decoder":
        return ([_one_hot(rng.randint(0, 6, (3, 5)), 6), _one_hot(rng.randint(0, 7, (3, 4)), 7)],
                [_one_hot(rng.randint(0, 7, (3, 4)), 7)])
    if name == "shared_multi_input":
        return ([rng.randint(0, 20, (4, 5)).astype("int32"),
                 rng.randint(0, 20, (4, 4)).astype("int32")],
                [rng.randint(0, 2, (4, 1)).astype("float32"),
                 rng.randint(0, 3, (4,)).astype("int32")])
    if name == "repeatvector_seq2seq":
        return [_one_hot(rng.randint(0, 5, (4, 7)), 5)], [_one_hot(rng.randint(0, 5, (4, 3)), 5)]
    if name == "stateful":  # three batches of two, one after the other
        return [normal(6, 4, 3)], [normal(6, 4, 1)]
    if name == "conv1d_lstm":
        return [normal(4, 12, 3)], [normal(4, 1)]
    if name == "bidirectional_states":
        return [normal(4, 5, 3)], [normal(4, 2), normal(4, 4)]
    if name == "stacked_cells":
        return [normal(4, 6, 3)], [normal(4, 3), normal(4, 4), normal(4, 4), normal(4, 3)]
    if name == "nested":
        return [normal(4, 5)], [normal(4, 1)]
    raise ValueError(name)


BUILDERS = builders(keras)



def _flatten(value):
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flatten(item)]
    return [np.asarray(value)]


def _structure(value):
    if isinstance(value, (list, tuple)):
        inner = [_structure(item) for item in value]
        return {"type": type(value).__name__, "items": inner}
    return list(np.shape(value))


def _logs(prefix, logs):
    return {f"{prefix}_keys": np.array(list(logs), dtype=str),
            f"{prefix}_values": np.array([float(v) for v in logs.values()], dtype="float64")}


def _summary(model):
    lines = []
    model.summary(print_fn=lambda text, *args, **kwargs: lines.append(text))
    return "\n".join(lines)


def _error(fn):
    try:
        fn()
    except Exception as error:  # noqa: BLE001 - the message is the fact recorded
        return f"{type(error).__name__}: {error}"
    return None


def run_case(name):
    keras.backend.clear_session()  # layer names start again from "dense", "lstm", ...
    keras.utils.set_random_seed(SEED)
    model = BUILDERS[name]()
    xs, ys = data(name, np.random.RandomState(SEED))
    x, y = pack(name, xs, ys)
    facts = {"summary": _summary(model), "layers": [layer.name for layer in model.layers],
             "weights": [w.path for w in model.weights],
             "output_names": list(model.output_names)}
    out = {f"x_{i}": v for i, v in enumerate(xs)}
    out.update({f"y_{i}": v for i, v in enumerate(ys)})
    out.update({f"w0_{i}": w for i, w in enumerate(model.get_weights())})
    if name == "stateful":
        lstm = model.get_layer("stateful_lstm")
        for k in range(3):
            out[f"pred_batch{k}"] = model.predict(x[2 * k:2 * k + 2], batch_size=2, verbose=0)
        lstm.reset_states()
        out["pred_reset"] = model.predict(x[:2], batch_size=2, verbose=0)
        lstm.reset_states()
        logs = model.evaluate(x[:2], y[:2], batch_size=2, verbose=0, return_dict=True)
        out.update(_logs("eval", logs))
        lstm.reset_states()
        for step in range(3):
            logs = model.train_on_batch(x[2 * step:2 * step + 2], y[2 * step:2 * step + 2],
                                        return_dict=True)
            out.update(_logs(f"step{step + 1}", logs))
            out.update({f"w{step + 1}_{i}": w for i, w in enumerate(model.get_weights())})
        out["pred_after_train"] = model.predict(x[:2], batch_size=2, verbose=0)
        lstm.reset_states()
        history = model.fit(x[:4], y[:4], batch_size=2, epochs=1, validation_split=0.5,
                            shuffle=False, verbose=0)
    else:
        prediction = model.predict(x, verbose=0)
        facts["predict_structure"] = _structure(prediction)
        out.update({f"pred_{i}": v for i, v in enumerate(_flatten(prediction))})
        out.update(_logs("eval", model.evaluate(x, y, verbose=0, return_dict=True)))
        for step in range(3):
            out.update(_logs(f"step{step + 1}", model.train_on_batch(x, y, return_dict=True)))
            out.update({f"w{step + 1}_{i}": w for i, w in enumerate(model.get_weights())})
        history = model.fit(x, y, epochs=1, validation_split=0.5, shuffle=False, verbose=0)
    facts["evaluate_keys"] = [str(k) for k in out["eval_keys"]]
    facts["train_on_batch_keys"] = [str(k) for k in out["step1_keys"]]
    facts["history_keys"] = list(history.history)
    np.savez(os.path.join(HERE, f"keras_golden_fn_{name}.npz"), **out)
    return facts


def error_facts():
    L = keras.layers
    keras.backend.clear_session()

    def dense_wrong_dim():
        dense = L.Dense(3)
        dense(keras.Input((4,)))
        dense(keras.Input((5,)))

    def concatenate_incompatible():
        L.Concatenate()([keras.Input((3, 4)), keras.Input((5, 4))])

    def disconnected_output():
        a, b = keras.Input((3,)), keras.Input((3,))
        keras.Model(a, L.Dense(1)(b))

    def stateful_other_batch(method):
        def run():
            inputs = keras.Input(batch_shape=(2, 4, 3))
            model = keras.Model(inputs, L.LSTM(5, stateful=True)(inputs))
            model.compile(optimizer="sgd", loss="mse")
            x, y = np.zeros((3, 4, 3), "float32"), np.zeros((3, 5), "float32")
            if method == "fit":
                model.fit(x, y, batch_size=3, epochs=1, verbose=0)
            else:
                model.predict(x, batch_size=3, verbose=0)
        return run

    def stateful_no_batch_size():
        inputs = keras.Input((4, 3))
        outputs = L.LSTM(5, stateful=True)(inputs)
        keras.Model(inputs, outputs).predict(np.zeros((2, 4, 3), "float32"), verbose=0)

    def stateful_no_batch_size_symbolic():
        L.LSTM(5, stateful=True)(keras.Input((4, 3)))

    return {
        "dense_called_with_wrong_last_dimension_after_build": _error(dense_wrong_dim),
        "concatenate_incompatible_shapes_(None,3,4)_(None,5,4)": _error(concatenate_incompatible),
        "model_output_not_connected_to_inputs": _error(disconnected_output),
        "stateful_fit_batch_3_for_batch_shape_2": _error(stateful_other_batch("fit")),
        "stateful_predict_batch_3_for_batch_shape_2": _error(stateful_other_batch("predict")),
        "stateful_lstm_symbolic_call_without_fixed_batch_size":
            _error(stateful_no_batch_size_symbolic),
        "stateful_lstm_without_fixed_batch_size_then_predict": _error(stateful_no_batch_size),
    }


def multi_output_compile_facts():
    """Two outputs compiled with one loss string, and with metrics given in several forms."""
    L = keras.layers
    rng = np.random.RandomState(SEED)
    x = rng.normal(size=(4, 3)).astype("float32")
    y = [rng.randint(0, 2, (4, 1)).astype("float32"), rng.randint(0, 2, (4, 1)).astype("float32")]
    facts = {}
    for label, names in (("named_outputs_main_aux", ("main", "aux")),
                         ("unnamed_outputs", (None, None))):
        for metrics in (None, ["accuracy"], ["accuracy", "accuracy"],
                        [["accuracy"], ["accuracy"]]):
            keras.backend.clear_session()
            keras.utils.set_random_seed(SEED)
            inputs = keras.Input((3,))
            outputs = [L.Dense(1, activation="sigmoid", name=n)(inputs) for n in names]
            model = keras.Model(inputs, outputs)
            entry = {"output_names": list(model.output_names)}
            stage = "compile"
            try:
                model.compile(optimizer="adam", loss="binary_crossentropy", metrics=metrics)
                stage = "fit"
                history = model.fit(x, y, epochs=1, validation_split=0.5, verbose=0)
                entry["history_keys"] = list(history.history)
                logs = model.evaluate(x, y, verbose=0, return_dict=True)
                entry["evaluate"] = {k: float(v) for k, v in logs.items()}
            except Exception as error:  # noqa: BLE001
                entry["error_during"] = stage
                entry["error"] = f"{type(error).__name__}: {error}"
            facts[f"{label}, loss='binary_crossentropy', metrics={metrics!r}"] = entry
    return facts


def symbolic_return_facts():
    """What a symbolic call with return_state=True returns: Python container type and shapes."""
    L = keras.layers
    keras.backend.clear_session()
    sequence = keras.Input((5, 3))
    calls = {
        "LSTM(4, return_state=True)": L.LSTM(4, return_state=True),
        "LSTM(4, return_sequences=True, return_state=True)":
            L.LSTM(4, return_sequences=True, return_state=True),
        "GRU(4, return_state=True)": L.GRU(4, return_state=True),
        "SimpleRNN(4, return_state=True)": L.SimpleRNN(4, return_state=True),
        "Bidirectional(LSTM(4, return_state=True))": L.Bidirectional(L.LSTM(4, return_state=True)),
        "Bidirectional(GRU(4, return_state=True))": L.Bidirectional(L.GRU(4, return_state=True)),
        "RNN([LSTMCell(4), GRUCell(3)], return_state=True)":
            L.RNN([L.LSTMCell(4), L.GRUCell(3)], return_state=True),
        "RNN([LSTMCell(4), GRUCell(3)], return_sequences=True, return_state=True)":
            L.RNN([L.LSTMCell(4), L.GRUCell(3)], return_sequences=True, return_state=True),
        "RNN(LSTMCell(4), return_state=True)": L.RNN(L.LSTMCell(4), return_state=True),
        "RNN([LSTMCell(4), GRUCell(3)])": L.RNN([L.LSTMCell(4), L.GRUCell(3)]),
    }
    return {label: _structure_symbolic(layer(sequence)) for label, layer in calls.items()}


def _structure_symbolic(value):
    if isinstance(value, (list, tuple)):
        return {"type": type(value).__name__, "items": [_structure_symbolic(v) for v in value]}
    return [None if d is None else int(d) for d in value.shape]


def main():
    facts = {"keras_version": keras.__version__,
             "backend": keras.backend.backend(), "cases": {}}
    with redirect_stdout(io.StringIO()):
        for name in BUILDERS:
            facts["cases"][name] = run_case(name)
        facts["errors"] = error_facts()
        facts["two_outputs_one_loss_string"] = multi_output_compile_facts()
        facts["symbolic_return_state_structures"] = symbolic_return_facts()
    with open(os.path.join(HERE, "keras_functional_facts.json"), "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print("wrote", ", ".join(f"keras_golden_fn_{name}.npz" for name in BUILDERS),
          "and keras_functional_facts.json with Keras", keras.__version__)


if __name__ == "__main__":
    main()
