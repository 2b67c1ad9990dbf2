"""The masked recurrent layers against Keras 3.15.1's own numbers, layer by layer.

tests/data/keras_golden_mask_<case>.npz holds, for small models run by Keras
(tests/data/make_keras_golden_masking.py), each layer's input and output on a batch that mixes
pre-padded, post-padded, full and all-padding rows, and Keras' initial weights;
keras_masking_facts.json holds the mask Keras attached to each layer's outputs. Here every
recurrent layer (and TimeDistributed) is rebuilt alone with those weights and fed the same
input and mask: its outputs and its compute_mask must be Keras'. (The whole models, with
losses and training, are tests/test_keras_golden_masking.py's.)
"""
import json
import pathlib

import numpy as np
import pytest

from bptt import layers

DATA = pathlib.Path(__file__).resolve().parents[1] / "data"
FACTS_FILE = DATA / "keras_masking_facts.json"


def _cases():
    L = layers
    return [  # (case, Keras layer name, the layer, its weights w0_<i>, the input giving the mask)
        ("simplernn_tagging", "simple_rnn", lambda: L.SimpleRNN(4, return_sequences=True), [1, 2, 3], "x_0"),
        ("simplernn_tagging", "time_distributed",
         lambda: L.TimeDistributed(L.Dense(3, activation="softmax")), [4, 5], "x_0"),
        ("lstm_last", "lstm", lambda: L.LSTM(4), [1, 2, 3], "x_0"),
        ("gru_backwards_stack", "gru",
         lambda: L.GRU(4, return_sequences=True, go_backwards=True), [1, 2, 3], "x_0"),
        # Keras passes the go_backwards GRU's mask on unreversed, under its reversed outputs
        ("gru_backwards_stack", "gru_1", lambda: L.GRU(3, reset_after=False), [4, 5, 6], "x_0"),
        ("bidirectional_weighted", "bidirectional",
         lambda: L.Bidirectional(L.LSTM(3, return_sequences=True)), [1, 2, 3, 4, 5, 6], "x_0"),
        ("bidirectional_weighted", "time_distributed",
         lambda: L.TimeDistributed(L.Dense(4, activation="softmax")), [7, 8], "x_0"),
        ("masking_layer", "lstm", lambda: L.LSTM(4, return_sequences=True), [0, 1, 2], "x_0"),
        ("merge_add", "lstm", lambda: L.LSTM(4, return_sequences=True), [2, 3, 4], "x_0"),
        ("merge_add", "lstm_1", lambda: L.LSTM(4, return_sequences=True), [5, 6, 7], "x_1"),
        ("merge_concatenate", "lstm_1", lambda: L.LSTM(4, return_sequences=True), [5, 6, 7], "x_1"),
        ("pool_average", "lstm", lambda: L.LSTM(4, return_sequences=True), [1, 2, 3], "x_0"),
        ("pool_max", "lstm", lambda: L.LSTM(4, return_sequences=True), [1, 2, 3], "x_0"),
        ("lstm_states", "lstm",
         lambda: L.LSTM(4, return_sequences=True, return_state=True), [1, 2, 3], "x_0"),
        ("bidirectional_gru_states", "bidirectional",
         lambda: L.Bidirectional(L.GRU(3, return_state=True)), [1, 2, 3, 4, 5, 6], "x_0"),
    ]


CASES = _cases()


def _load(case):
    path = DATA / f"keras_golden_mask_{case}.npz"
    if not path.exists():
        pytest.skip(f"{path.name} has not been generated")
    return np.load(path, allow_pickle=False)


def _mask(golden, source):
    x = golden[source]
    return x != 0 if x.ndim == 2 else (x != 0).any(axis=-1)  # ids, or Masking(mask_value=0)


def _run(case, name, make, weights, source):
    golden = _load(case)
    if f"in_{name}_0" not in golden:
        pytest.skip(f"{case} has no saved input for layer {name}")
    x = golden[f"in_{name}_0"]
    layer = make()
    layer.build((None,) + x.shape[1:])
    layer.set_weights([golden[f"w0_{i}"] for i in weights])
    mask = _mask(golden, source)
    out = layer(x, mask=mask)
    outputs = out if isinstance(out, list) else [out]
    wanted = [golden[f"out_{name}_{k}"] for k in range(len(outputs))]
    return layer, x, mask, outputs, wanted


@pytest.mark.parametrize("case, name, make, weights, source", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_layer_outputs_equal_keras(case, name, make, weights, source):
    _, _, _, outputs, wanted = _run(case, name, make, weights, source)
    for k, (got, want) in enumerate(zip(outputs, wanted)):
        assert got.shape == want.shape, f"output {k}"
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6, err_msg=f"output {k}")


@pytest.mark.parametrize("case, name, make, weights, source", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_compute_mask_equals_the_masks_keras_attached(case, name, make, weights, source):
    if not FACTS_FILE.exists():
        pytest.skip("keras_masking_facts.json has not been generated")
    facts = json.loads(FACTS_FILE.read_text())["cases"].get(case)
    entry = next((e for e in (facts or {}).get("layer_outputs", []) if e["layer"] == name), None)
    if entry is None:
        pytest.skip(f"no facts for {case}/{name}")
    layer, x, mask, outputs, _ = _run(case, name, make, weights, source)
    ours = layer.compute_mask(x, mask)
    ours = ours if isinstance(ours, list) else [ours]
    for k, keras_mask in enumerate(entry["output_masks"]):
        mine = ours[k] if k < len(ours) else None  # Keras leaves the rest unmasked
        if keras_mask is None:
            assert mine is None, f"output {k}"
        else:
            np.testing.assert_array_equal(np.asarray(mine, dtype=int), keras_mask, f"output {k}")
