"""Golden values from Keras 3 itself for masked models (tests/data/make_keras_golden_masking.py,
run with Keras 3.15.1 / TensorFlow 2.21.0): the same model, written once as Keras code in
tests/data/masking_cases.py and built here with `import bptt as keras`, given Keras' initial
weights, must give Keras' predictions at every real step, evaluate() logs (one batch, batches
of three, a batch of padding only), the logs and weights after each of three train_on_batch
steps, and Keras' mask after every layer.

Every batch mixes pre-padded rows, post-padded rows, a row without padding and a row of padding
only. What Keras writes at masked steps varies between its layers and backends, so predictions
are compared at real steps only (and must be finite everywhere); the steps Keras marks as
padding still matter wherever a later layer reads them unmasked (the reversed GRU's outputs,
merge layers, GlobalMaxPooling1D), and there the loss and the weights after training compare
them. Keras' observed behaviour, case by case, is in tests/data/keras_masking_facts.json."""
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import bptt as keras
from tests.helpers.golden import golden_weights, load_golden
from tests.data.masking_cases import MASK_LAYERS, MERGED, PREDICT_ONLY, builders

DATA = Path(__file__).parent / "data"
FACTS = json.loads((DATA / "keras_masking_facts.json").read_text(encoding="utf-8"))
CLOSE = dict(rtol=2e-6, atol=2e-6)  # float32 sums in another order
TRAINED = dict(rtol=1e-5, atol=1e-5)  # after updates (Adam and RMSprop divide by sqrt(v))
BUILDERS = builders(keras)
TRAINED_CASES = sorted(set(BUILDERS) - set(PREDICT_ONLY))
UNSUPPORTED = {"pool_max": "global_max_pooling1d", "conv1d_pool_average": "conv1d"}


@pytest.fixture(autouse=True)
def fresh_names():
    """Auto names ("lstm", "lstm_1", ...) restart, as the Keras run did before each model."""
    keras.backend.clear_session()


def _load(case):
    return load_golden(f"mask_{case}")


def _feed(values):
    return values[0] if len(values) == 1 else values


def _flatten(value):
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def _model(case, golden):
    model = BUILDERS[case]()
    assert [layer.name for layer in model.layers] == FACTS["cases"][case]["layers"]
    assert [w.shape for w in model.get_weights()] == [w.shape for w in golden_weights(golden, 0)]
    model.set_weights(golden_weights(golden, 0))
    return model


def _check_logs(logs, golden, prefix, tolerance):
    expected = dict(zip(golden[f"{prefix}_keys"].tolist(), golden[f"{prefix}_values"].tolist()))
    assert set(logs) == set(expected), prefix
    for key, value in expected.items():
        np.testing.assert_allclose(float(logs[key]), value, **tolerance, err_msg=f"{prefix} {key}")


def _check_prediction(prediction, golden):
    """Every output finite; a sequence output with a mask compared at its real steps only."""
    outputs = _flatten(prediction)
    assert len(outputs) == sum(k.startswith("pred_") and k[5:].isdigit() for k in golden)
    for index, ours in enumerate(outputs):
        theirs = golden[f"pred_{index}"]
        assert np.shape(ours) == theirs.shape, f"output {index}"
        assert np.isfinite(ours).all(), f"output {index} has NaN or inf"
        if index == 0 and "pred_mask" in golden:
            real = golden["pred_mask"].astype(bool)  # (B, T)
            ours, theirs = np.asarray(ours)[real], theirs[real]
        np.testing.assert_allclose(ours, theirs, **CLOSE, err_msg=f"output {index}")


@pytest.mark.parametrize("case", sorted(BUILDERS))
def test_predict_matches_keras_at_real_steps(case):
    golden, xs, _ = _load(case)
    model = _model(case, golden)
    _check_prediction(model.predict(_feed(xs), verbose=0), golden)


@pytest.mark.parametrize("case", TRAINED_CASES)
def test_evaluate_matches_keras(case):
    """The loss divides each batch's sum over real steps by that batch's real steps (times the
    temporal sample weights, which are not in the divisor); batches are averaged by their
    rows; metrics count every real step of every batch together; padding only gives 0."""
    golden, xs, ys = _load(case)
    model = _model(case, golden)
    x, y, weights = _feed(xs), _feed(ys), golden.get("sw")
    if "pad_eval_keys" in golden:
        pads = [golden[k] for k in sorted(golden) if k.startswith("pad_x_")]
        targets = [golden[k] for k in sorted(golden) if k.startswith("pad_y_")]
        logs = model.evaluate(_feed(pads), _feed(targets), sample_weight=golden.get("pad_sw"),
                              verbose=0, return_dict=True)
        _check_logs(logs, golden, "pad_eval", CLOSE)
    logs = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    _check_logs(logs, golden, "eval", CLOSE)
    logs = model.evaluate(x, y, sample_weight=weights, batch_size=3, verbose=0, return_dict=True)
    _check_logs(logs, golden, "eval_batch3", CLOSE)


@pytest.mark.parametrize("case", TRAINED_CASES)
def test_training_matches_keras(case):
    golden, xs, ys = _load(case)
    model = _model(case, golden)
    x, y, weights = _feed(xs), _feed(ys), golden.get("sw")
    for step in (1, 2, 3):
        logs = model.train_on_batch(x, y, sample_weight=weights, return_dict=True)
        _check_logs(logs, golden, f"step{step}", CLOSE if step == 1 else TRAINED)
        for index, (ours, theirs) in enumerate(zip(model.get_weights(), golden_weights(golden, step))):
            np.testing.assert_allclose(ours, theirs, **TRAINED,
                                       err_msg=f"step {step}, weight {index}")


def _as_mask(bits):
    return None if bits is None else np.array(bits, dtype=bool)


def _same_masks(ours, theirs, where):
    """bptt's compute_mask result against Keras' list of output masks (one per output)."""
    ours = ours if isinstance(ours, (list, tuple)) else [ours]
    theirs = theirs + [None] * (len(ours) - len(theirs))
    for k, expected in enumerate(theirs):
        got = ours[k] if k < len(ours) else None
        if expected is None:
            assert got is None, f"{where}, output {k}: Keras has no mask"
        else:
            assert got is not None, f"{where}, output {k}: Keras has a mask"
            np.testing.assert_array_equal(np.asarray(got, dtype=bool), _as_mask(expected),
                                          err_msg=f"{where}, output {k}")


@pytest.mark.parametrize("case", sorted(BUILDERS))
def test_each_layer_passes_on_the_mask_keras_does(case):
    """Each layer's compute_mask on the inputs and masks it met in Keras gives Keras' mask;
    a layer that does not support masking says so, as in Keras."""
    golden, _, _ = _load(case)
    model = _model(case, golden)
    for entry in FACTS["cases"][case]["layer_outputs"]:
        layer = model.get_layer(entry["layer"])
        assert bool(layer.supports_masking) == entry["supports_masking"], entry["layer"]
        if not entry["supports_masking"]:
            continue
        count = len(entry["input_masks"])
        inputs = [golden[f"in_{entry['layer']}_{k}"] for k in range(count)]
        masks = [_as_mask(bits) for bits in entry["input_masks"]]
        ours = layer.compute_mask(_feed(inputs), _feed(masks))
        _same_masks(ours, entry["output_masks"], entry["layer"])


@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_a_layer_without_mask_support_warns_as_keras(case):
    """Keras drops the mask at a layer that does not support masking with a warning (no
    error), so later layers and the loss see every step."""
    golden, xs, _ = _load(case)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = _model(case, golden)
        model.predict(_feed(xs), verbose=0)
    expected = [w for w in FACTS["cases"][case]["warnings"] if UNSUPPORTED[case] in w]
    assert expected and expected[0] in {str(w.message) for w in caught}


LAYER_FACTS = FACTS["layers_meeting_a_mask"]


@pytest.mark.parametrize("label", sorted(MASK_LAYERS))
def test_layer_meeting_a_mask_as_keras(label):
    """Each layer bptt has: whether it supports masking and, if it does, the mask it passes on
    from a masked (B, T, 3) sequence (Keras' table in the facts file)."""
    entry = LAYER_FACTS[label]
    layer = MASK_LAYERS[label](keras.layers)
    assert bool(layer.supports_masking) == entry["supports_masking"]
    if entry["supports_masking"]:
        x = np.ones((6, 6, 3), dtype="float32")  # (B, T, D); only the mask matters here
        mask = _as_mask(LAYER_FACTS["input_mask"])
        ours = (layer.compute_mask([x, x], [mask, mask]) if label in MERGED
                else layer.compute_mask(x, mask))
        _same_masks(ours, entry["output_masks"], label)
