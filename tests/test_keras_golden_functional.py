"""Golden values from Keras 3 itself for functional models (tests/data/
make_keras_golden_functional.py, run with Keras 3.15.1 / TensorFlow 2.21.0): the same model,
written as the Keras code with `import bptt as keras` and given Keras' initial weights, must give
Keras' predictions, evaluate() logs, and logs and weights after each of three train_on_batch
steps. The cases: an encoder's LSTM states starting a decoder, one Embedding and one GRU shared
by two inputs with two named outputs, RepeatVector between LSTMs, a stateful LSTM across
batches, Conv1D/MaxPooling1D before an LSTM, Bidirectional states as outputs, stacked cells in
one RNN, and a Sequential and a Model used as layers. Keras' reported facts (layer and weight
order, log keys, summaries, errors) are in tests/data/keras_functional_facts.json."""
import json
from pathlib import Path

import numpy as np
import pytest

import bptt as keras
from tests.helpers.golden import golden_weights, load_golden
from tests.data.functional_cases import builders, pack

DATA = Path(__file__).parent / "data"
FACTS = json.loads((DATA / "keras_functional_facts.json").read_text(encoding="utf-8"))
CLOSE = dict(rtol=2e-6, atol=2e-6)  # float32 sums in another order
TRAINED = dict(rtol=1e-5, atol=1e-5)  # after updates (Adam and RMSprop divide by sqrt(v))


@pytest.fixture(autouse=True)
def fresh_names():
    """Auto names ("dense", "dense_1", ...) restart, as the Keras run did before each model:
    the log keys of unnamed outputs ("dense_loss", "add_loss") depend on them."""
    keras.backend.clear_session()


BUILDERS = builders(keras)



def _load(case):
    return load_golden(f"fn_{case}")


def _flatten(value):
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flatten(item)]
    return [np.asarray(value)]


def _nesting(value):
    """The nesting of a (possibly nested) output, container types aside: [3, [4, 4], 3]-like."""
    if isinstance(value, (list, tuple)):
        return [_nesting(item) for item in value]
    return list(np.shape(value))


def _expected_nesting(structure):
    if isinstance(structure, dict):
        return [_expected_nesting(item) for item in structure["items"]]
    return structure


def _check_logs(logs, golden, prefix, case, tolerance):
    expected = dict(zip(golden[f"{prefix}_keys"].tolist(), golden[f"{prefix}_values"].tolist()))
    if case == "stacked_cells":
        # Keras names all four outputs "rnn", so its per-output keys collide ("rnn_loss" is the
        # last output's, "1/rnn_loss" the LSTM cell state's): only the total is compared.
        expected = {"loss": expected["loss"]}
        logs = {"loss": logs["loss"]}
    assert set(logs) == set(expected), prefix
    for key, value in expected.items():
        np.testing.assert_allclose(float(logs[key]), value, **tolerance, err_msg=f"{prefix} {key}")


def _check_weights(model, golden, step):
    for index, (ours, theirs) in enumerate(zip(model.get_weights(), golden_weights(golden, step))):
        np.testing.assert_allclose(ours, theirs, **TRAINED, err_msg=f"step {step}, weight {index}")


def _model(case, golden):
    model = BUILDERS[case]()
    assert [layer.name for layer in model.layers] == FACTS["cases"][case]["layers"]
    assert [w.shape for w in model.get_weights()] == [w.shape for w in golden_weights(golden, 0)]
    model.set_weights(golden_weights(golden, 0))
    return model


@pytest.mark.parametrize("case", sorted(set(BUILDERS) - {"stateful"}))
def test_matches_keras(case):
    golden, xs, ys = _load(case)
    model = _model(case, golden)
    x, y = pack(case, xs, ys)
    prediction = model.predict(x, verbose=0)
    assert _nesting(prediction) == _expected_nesting(FACTS["cases"][case]["predict_structure"])
    for index, ours in enumerate(_flatten(prediction)):
        np.testing.assert_allclose(ours, golden[f"pred_{index}"], **CLOSE,
                                   err_msg=f"output {index}")
    _check_logs(model.evaluate(x, y, verbose=0, return_dict=True), golden, "eval", case, CLOSE)
    for step in (1, 2, 3):
        logs = model.train_on_batch(x, y, return_dict=True)
        _check_logs(logs, golden, f"step{step}", case, CLOSE if step == 1 else TRAINED)
        _check_weights(model, golden, step)
    history = model.fit(x, y, epochs=1, validation_split=0.5, shuffle=False, verbose=0)
    if case == "stacked_cells":  # the colliding per-output keys aside (see _check_logs)
        assert {"loss", "val_loss"} <= set(history.history)
    else:
        assert set(history.history) == set(FACTS["cases"][case]["history_keys"])


def test_stateful_matches_keras():
    """The state runs on across predict() calls and train_on_batch() steps until the layer's
    reset_states(); training leaves the last batch's state behind."""
    golden, (x,), (y,) = _load("stateful")
    model = _model("stateful", golden)
    lstm = model.get_layer("stateful_lstm")
    batches = [slice(2 * k, 2 * k + 2) for k in range(3)]
    for k, batch in enumerate(batches):
        np.testing.assert_allclose(model.predict(x[batch], batch_size=2, verbose=0),
                                   golden[f"pred_batch{k}"], **CLOSE, err_msg=f"batch {k}")
    lstm.reset_states()
    np.testing.assert_allclose(model.predict(x[:2], batch_size=2, verbose=0),
                               golden["pred_reset"], **CLOSE)
    lstm.reset_states()
    logs = model.evaluate(x[:2], y[:2], batch_size=2, verbose=0, return_dict=True)
    _check_logs(logs, golden, "eval", "stateful", CLOSE)
    lstm.reset_states()
    for step, batch in enumerate(batches, start=1):
        logs = model.train_on_batch(x[batch], y[batch], return_dict=True)
        _check_logs(logs, golden, f"step{step}", "stateful", CLOSE if step == 1 else TRAINED)
        _check_weights(model, golden, step)
    np.testing.assert_allclose(model.predict(x[:2], batch_size=2, verbose=0),
                               golden["pred_after_train"], **TRAINED)
    lstm.reset_states()
    history = model.fit(x[:4], y[:4], batch_size=2, epochs=1, validation_split=0.5,
                        shuffle=False, verbose=0)
    assert set(history.history) == set(FACTS["cases"]["stateful"]["history_keys"])


def _stateful_model():
    inputs = keras.Input(batch_shape=(2, 4, 3))
    model = keras.Model(inputs, keras.layers.LSTM(5, stateful=True)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    return model


def _dense_wrong_dimension():
    dense = keras.layers.Dense(3)
    dense(keras.Input((4,)))
    dense(keras.Input((5,)))


ERRORS = {  # each raises ValueError in Keras (messages in keras_functional_facts.json)
    "dense_wrong_last_dimension": _dense_wrong_dimension,
    "concatenate_incompatible": lambda: keras.layers.Concatenate()(
        [keras.Input((3, 4)), keras.Input((5, 4))]),
    "output_not_connected": lambda: keras.Model(
        keras.Input((3,)), keras.layers.Dense(1)(keras.Input((3,)))),
    "stateful_other_batch_fit": lambda: _stateful_model().fit(
        np.zeros((3, 4, 3), "float32"), np.zeros((3, 5), "float32"), batch_size=3, verbose=0),
    "stateful_other_batch_predict": lambda: _stateful_model().predict(
        np.zeros((3, 4, 3), "float32"), batch_size=3, verbose=0),
    "stateful_without_fixed_batch": lambda: keras.layers.LSTM(5, stateful=True)(
        keras.Input((4, 3))),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_where_keras_raises(case):
    with pytest.raises(ValueError):
        ERRORS[case]()


@pytest.mark.parametrize("case", sorted(BUILDERS))
def test_summary_prints_what_keras_printed(case, capsys):
    BUILDERS[case]().summary()
    ours, theirs = capsys.readouterr().out, FACTS["cases"][case]["summary"]
    if case == "nested":
        # Keras' built Sequential makes a hidden functional model that takes the default name
        # "functional", so the outer model is "functional_1" there; bptt names it "functional".
        ours, theirs = ours.split("\n", 1)[1], theirs.split("\n", 1)[1]
    assert ours == theirs
