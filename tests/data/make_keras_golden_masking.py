"""Writes tests/data/keras_golden_mask_<case>.npz and tests/data/keras_masking_facts.json: what
Keras 3 itself computes for small masked models (Embedding(mask_zero=True) and Masking in front
of SimpleRNN, LSTM, GRU, Bidirectional, merge, pooling and convolution layers) on batches that
mix pre-padded rows, post-padded rows, a row without padding and one row of padding only.

Run it where Keras is installed (never part of `make test`, which only reads the files):
    python tests/data/make_keras_golden_masking.py   # tensorflow-cpu==2.21.0, keras 3.15.1

Each npz holds only numeric or unicode arrays (np.load(..., allow_pickle=False)):
    row_kinds               what each batch row is: pre, post, full, all_padding
    w0_<i>                  Keras' initial weights, model.get_weights() order
    x_<i>, y_<i>, sw        inputs in model.inputs order, targets, temporal sample weights
                            (sw only where the case trains with them)
    pred_<i>, pred_mask     predict() outputs flattened in Keras' order; the mask Keras attaches
                            to the first output, 1 = real step (absent when it has none)
    in_<layer>_<k>, out_<layer>_<k>   each layer's inputs and outputs on the batch (initial
                            weights), keyed by Keras' layer name
    eval_keys, eval_values  evaluate(return_dict=True), Keras' key order
    eval_batch3_keys, eval_batch3_values   the same with batch_size=3 (two batches)
    step<s>_keys, step<s>_values, w<s>_<i>   train_on_batch(return_dict=True) logs and all
                            weights after step s = 1, 2, 3
    pad_x_<i>, pad_y_<i>, pad_sw, pad_eval_keys, pad_eval_values
                            evaluate() of a batch that is padding only (initial weights;
                            not for pool_average, where Keras gives NaN)
The predict-only cases (masking_cases.PREDICT_ONLY) stop after pred_* and pred_mask.
GlobalAveragePooling1D gives NaN for a row with no real step (Keras divides 0 by 0), which then
poisons the loss and every weight: pool_average trains without its all-padding row (its
row_kinds say so) and the NaN is recorded in the facts instead, as a bug not to copy.

The facts JSON holds, per case: each layer's input and output masks (0/1 lists), how each
sequence output fills the steps its layer saw masked, Keras' warnings, evaluate() of the batch
and of a padding-only batch, and checks of Keras' numbers against candidate rules (what the
loss divides by, how metrics count, pre- against post-padding); and, for every layer bptt has,
what it does with a mask (keeps it, drops it with a warning, drops it silently, or raises).
"""
import io
import json
import logging
import os
import re
import sys
import warnings
from contextlib import redirect_stdout

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.src.backend import get_keras_mask  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from masking_cases import (FEATURES, MASK_LAYERS, MERGED, PREDICT_ONLY, T, VOCAB,  # noqa: E402
                           builders)
from masking_checks import case_checks  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 0
BUILDERS = builders(keras)
logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notes, not facts

ROW_KINDS = ["pre", "post", "full", "all_padding", "pre", "post"]
# Rows 0 and 1 hold the same four tokens, pre- and post-padded, so their real steps can be
# compared directly.
IDS = np.array([[0, 0, 3, 5, 7, 2],
                [3, 5, 7, 2, 0, 0],
                [4, 1, 9, 6, 2, 8],
                [0, 0, 0, 0, 0, 0],
                [0, 0, 0, 0, 8, 1],
                [6, 9, 0, 0, 0, 0]], dtype="int32")  # (B, T)
# The second input of the merge cases: per row a padding other than the first input's, so the
# masks differ (row 1: the first input is real at steps 0-3, this one at steps 3-5).
IDS_SECOND = np.array([[5, 1, 0, 0, 0, 0],
                       [0, 0, 0, 2, 4, 6],
                       [0, 3, 3, 8, 1, 7],
                       [0, 0, 0, 0, 0, 0],
                       [2, 2, 5, 9, 1, 3],
                       [7, 4, 8, 0, 0, 0]], dtype="int32")
SECOND_KINDS = ["post", "pre", "pre", "all_padding", "full", "post"]
B = len(ROW_KINDS)
assert IDS.shape == IDS_SECOND.shape == (B, T) and IDS.max() < VOCAB
NO_PADDING_ROW = [0, 1, 2, 4, 5]  # the batch less its all-padding row (pool_average)


def data(name, rng):
    """(inputs, targets, temporal sample weights or None) for the case's batch."""
    labels = lambda classes, *shape: rng.randint(0, classes, shape).astype("int32")  # noqa: E731
    normal = lambda *shape: rng.normal(size=shape).astype("float32")  # noqa: E731
    if name == "simplernn_tagging":
        return [IDS], [labels(3, B, T)], None
    if name in ("lstm_last", "pool_average", "pool_max", "conv1d_pool_average"):
        return [IDS], [labels(2, B, 1).astype("float32")], None
    if name == "gru_backwards_stack":
        return [IDS], [normal(B, 2)], None
    if name == "bidirectional_weighted":
        weights = rng.randint(0, 9, (B, T)).astype("float32") / 4.0  # 0 .. 2 in quarters
        weights[2, 1] = 0.0  # a real step with weight 0
        return [IDS], [labels(4, B, T)], weights
    if name == "masking_layer":
        x = normal(B, T, FEATURES) * (IDS > 0)[:, :, None]  # padding steps are all zeros
        x[1, :4] = x[0, 2:]  # rows 0 and 1: the same steps, pre- and post-padded
        x[2, 1, 0] = 0.0  # one zero feature on a real step: still real (not every feature is 0)
        return [x.astype("float32")], [normal(B, T, 1)], None
    if name in ("merge_concatenate", "merge_add"):
        return [IDS, IDS_SECOND], [normal(B, T, 1)], None
    if name in PREDICT_ONLY:
        return [IDS], [], None
    raise ValueError(name)


def _rows(values, rows):
    return None if values is None else [v[rows] for v in values]


def _feed(values):
    return values[0] if len(values) == 1 else list(values)


def _flatten(value):
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def _logs(prefix, logs):
    return {f"{prefix}_keys": np.array(list(logs), dtype=str),
            f"{prefix}_values": np.array([float(v) for v in logs.values()], dtype="float64")}


def _number(value):
    value = float(value)
    return value if np.isfinite(value) else str(value)  # JSON has no NaN


def _bits(mask):
    return None if mask is None else np.asarray(mask).astype(int).tolist()


def _fill_rule(outputs, mask):
    """How a (B, T, ...) output fills the steps its mask marks as padding, one string per row:
    per step 'real', '0' (all zeros), 'prev' (repeats the step before), 'next' (repeats the
    step after) or 'other'."""
    rows = []
    for b in range(outputs.shape[0]):
        marks = []
        for t in range(outputs.shape[1]):
            step = outputs[b, t]
            if mask[b, t]:
                marks.append("real")
            elif not np.any(step):
                marks.append("0")
            elif t > 0 and np.array_equal(step, outputs[b, t - 1]):
                marks.append("prev")
            elif t + 1 < outputs.shape[1] and np.array_equal(step, outputs[b, t + 1]):
                marks.append("next")
            else:
                marks.append("other")
        rows.append(" ".join(marks))
    return rows


def layer_facts(model, xs):
    """Each layer run eagerly on the batch up to it: its input and output arrays, the masks
    Keras attaches (0/1 per row and step), and for a sequence output how the steps its first
    input's mask marks as padding are filled (that mask reversed in time for go_backwards,
    whose outputs come in reversed order)."""
    facts, arrays = [], {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        # A recurrent layer's node also lists the mask among its inputs: keep the tensors.
        inbound = [t for t in layer._inbound_nodes[0].input_tensors if t.dtype != "bool"]
        seen = _flatten(keras.Model(_feed(model.inputs), _feed(inbound))(_feed(xs)))
        outputs = _flatten(keras.Model(_feed(model.inputs), layer.output)(_feed(xs)))
        in_masks = [get_keras_mask(t) for t in seen]
        entry = {"layer": layer.name, "class": type(layer).__name__,
                 "supports_masking": bool(layer.supports_masking),
                 "input_masks": [_bits(m) for m in in_masks],
                 "output_masks": [_bits(get_keras_mask(o)) for o in outputs]}
        arrays.update({f"in_{layer.name}_{k}": np.asarray(t) for k, t in enumerate(seen)})
        arrays.update({f"out_{layer.name}_{k}": np.asarray(o) for k, o in enumerate(outputs)})
        if in_masks[0] is not None:
            mask = np.asarray(in_masks[0])
            if getattr(layer, "go_backwards", False):
                mask = mask[:, ::-1]
                entry["fill_judged_against"] = "the input mask reversed in time"
            entry["fill_of_masked_steps"] = {
                f"output {k}": _fill_rule(np.asarray(o), mask) for k, o in enumerate(outputs)
                if np.ndim(o) == 3 and np.shape(o)[1] == mask.shape[1]}
        facts.append(entry)
    return facts, arrays


def run_case(name):
    """The case's golden arrays written to its npz; its facts returned, with every warning
    Keras gave while building, calling, evaluating and training it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        facts = _run_case(name)
    facts["warnings"] = sorted({str(w.message) for w in caught})
    return facts


def _run_case(name):
    keras.backend.clear_session()  # layer names start again from "lstm", "dense", ...
    keras.utils.set_random_seed(SEED)
    model = BUILDERS[name]()
    xs, ys, weights = data(name, np.random.RandomState(SEED))
    kinds = ROW_KINDS
    if name == "pool_average":
        facts_nan = average_pool_padding_row_facts(model, xs, ys)
        xs, ys, weights = _rows(xs, NO_PADDING_ROW), _rows(ys, NO_PADDING_ROW), None
        kinds = [ROW_KINDS[i] for i in NO_PADDING_ROW]
    facts = {"row_kinds": kinds, "layers": [layer.name for layer in model.layers],
             "weights": [w.path for w in model.weights]}
    if name in ("merge_concatenate", "merge_add"):
        facts["second_input_row_kinds"] = SECOND_KINDS
    out = {"row_kinds": np.array(kinds, dtype=str)}
    out.update({f"x_{i}": v for i, v in enumerate(xs)})
    out.update({f"y_{i}": v for i, v in enumerate(ys)})
    if weights is not None:
        out["sw"] = weights
    out.update({f"w0_{i}": w for i, w in enumerate(model.get_weights())})
    facts["layer_outputs"], layer_arrays = layer_facts(model, xs)
    out.update(layer_arrays)
    facts["model.compute_mask(x, None)"] = _bits(model.compute_mask(_feed(xs), None))
    prediction = _flatten(model.predict(_feed(xs), verbose=0))
    out.update({f"pred_{i}": np.asarray(v) for i, v in enumerate(prediction)})
    final = _flatten(model(_feed(xs)))[0]  # eager call: predict() returns masks-free arrays
    if get_keras_mask(final) is not None:
        out["pred_mask"] = np.asarray(get_keras_mask(final)).astype("int8")
    facts["output_mask"] = _bits(get_keras_mask(final))
    if name not in PREDICT_ONLY:
        x, y = _feed(xs), _feed(ys)
        pad_xs = [np.zeros_like(v[:3]) for v in xs]  # three rows, every step padding
        pad_ys, pad_weights = [v[:3] for v in ys], None if weights is None else weights[:3]
        logs = model.evaluate(_feed(pad_xs), _feed(pad_ys), sample_weight=pad_weights,
                              verbose=0, return_dict=True)
        facts["evaluate_padding_only_batch"] = {k: _number(v) for k, v in logs.items()}
        if name != "pool_average":  # NaN there: a Keras bug, kept out of the golden file
            out.update({f"pad_x_{i}": v for i, v in enumerate(pad_xs)})
            out.update({f"pad_y_{i}": v for i, v in enumerate(pad_ys)})
            if pad_weights is not None:
                out["pad_sw"] = pad_weights
            out.update(_logs("pad_eval", logs))
        logs = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
        out.update(_logs("eval", logs))
        facts["evaluate"] = {k: _number(v) for k, v in logs.items()}
        # Two batches of three rows: how evaluate() joins batches' losses and metrics.
        logs = model.evaluate(x, y, sample_weight=weights, batch_size=3, verbose=0,
                              return_dict=True)
        out.update(_logs("eval_batch3", logs))
        facts["evaluate(batch_size=3)"] = {k: _number(v) for k, v in logs.items()}
        for step in range(3):
            logs = model.train_on_batch(x, y, sample_weight=weights, return_dict=True)
            out.update(_logs(f"step{step + 1}", logs))
            out.update({f"w{step + 1}_{i}": w for i, w in enumerate(model.get_weights())})
        facts["train_on_batch_keys"] = [str(k) for k in out["step1_keys"]]
    facts["checks"] = case_checks(name, out, getattr(model, "loss", None), facts["weights"])
    if name == "pool_average":
        facts["with_an_all_padding_row (Keras bug)"] = facts_nan
    np.savez(os.path.join(HERE, f"keras_golden_mask_{name}.npz"), **out)
    return facts


def average_pool_padding_row_facts(model, xs, ys):
    """What Keras does when GlobalAveragePooling1D meets a row with no real step, on a copy
    of the model: predict, evaluate, and which weights are NaN after one train_on_batch."""
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    clone.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                  loss="binary_crossentropy", metrics=["accuracy"])
    x, y = _feed(xs), _feed(ys)
    prediction = clone.predict(x, verbose=0)
    logs = clone.evaluate(x, y, verbose=0, return_dict=True)
    clone.train_on_batch(x, y)
    return {"row_kinds": ROW_KINDS,
            "predict": [_number(v) for v in np.ravel(prediction)],
            "evaluate": {k: _number(v) for k, v in logs.items()},
            "weights_with_nan_after_one_step": [
                w.path for w in clone.weights if np.isnan(np.asarray(w)).any()]}


def mask_support_facts():
    """Each layer of masking_cases.MASK_LAYERS called eagerly on a masked (B, T, 3) embedding
    output: supports_masking, its output shapes and masks, and any warning or error."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(SEED)
    embedded = keras.layers.Embedding(VOCAB, 3, mask_zero=True)(IDS)
    facts = {"input_mask": _bits(get_keras_mask(embedded))}
    for label, make in MASK_LAYERS.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            layer = make(keras.layers)
            entry = {"supports_masking": bool(layer.supports_masking)}
            try:
                outputs = _flatten(layer([embedded, embedded] if label in MERGED else embedded))
                entry.update(output_shapes=[list(o.shape) for o in outputs],
                             output_masks=[_bits(get_keras_mask(o)) for o in outputs])
            except Exception as error:  # noqa: BLE001 - the message is the fact recorded
                entry["error"] = f"{type(error).__name__}: {error}"
        entry["warnings"] = sorted({str(w.message) for w in caught})
        facts[label] = entry
    return facts


def masking_value_facts():
    """Masking(mask_value=-1.0): which steps it masks and what it writes at them."""
    keras.backend.clear_session()
    x = np.array([[[-1.0, -1.0], [1.0, -1.0], [2.0, 3.0], [-1.0, -1.0]]], dtype="float32")
    y = keras.layers.Masking(mask_value=-1.0)(x)
    return {"input": x.tolist(), "output": np.asarray(y).tolist(),
            "output_mask": _bits(get_keras_mask(y))}


def _compact(text):
    """JSON with every list of numbers or strings on one line (masks stay readable)."""
    return re.sub(r"\[\s*([^\[\]{}]*?)\s*\]",
                  lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text)


def main():
    facts = {"keras_version": keras.__version__, "backend": keras.backend.backend(),
             "row_kinds": ROW_KINDS, "input_ids": IDS.tolist(),
             "second_input_ids (merge cases)": IDS_SECOND.tolist(), "cases": {}}
    with redirect_stdout(io.StringIO()):
        for name in BUILDERS:
            facts["cases"][name] = run_case(name)
        facts["layers_meeting_a_mask"] = mask_support_facts()
        facts["masking_layer_with_mask_value_-1"] = masking_value_facts()
    with open(os.path.join(HERE, "keras_masking_facts.json"), "w", encoding="utf-8") as f:
        f.write(_compact(json.dumps(facts, indent=2, ensure_ascii=False)) + "\n")
    print("wrote", ", ".join(f"keras_golden_mask_{name}.npz" for name in BUILDERS),
          "and keras_masking_facts.json with Keras", keras.__version__)


if __name__ == "__main__":
    main()
