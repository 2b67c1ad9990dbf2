"""Checks of Keras' own masked numbers against candidate rules, for keras_masking_facts.json.

Used by make_keras_golden_masking.py: each check reads only the arrays that script saved from
Keras (predictions on the initial weights, each layer's inputs and outputs, evaluate() logs,
weights after training) and says which rule reproduces them, so the facts file states Keras'
behaviour as measured rather than as read from its source. NumPy only.
"""
import numpy as np

EPSILON = 1e-7  # Keras clips probabilities to [eps, 1 - eps] before a log
MERGE_CASES = ("merge_concatenate", "merge_add")


def _close(a, b):
    return bool(np.allclose(a, b, rtol=1e-5, atol=1e-6))


def _largest(a, b):
    return float(np.max(np.abs(np.asarray(a, "float64") - np.asarray(b, "float64"))))


def _per_step(loss, prediction, target):
    """(per-step loss, per-step value of each metric) before any mask or weight."""
    p, y = prediction.astype("float64"), target
    if loss == "sparse_categorical_crossentropy":
        picked = np.take_along_axis(p, y[..., None].astype(int), axis=-1)[..., 0]
        hits = (np.argmax(p, axis=-1) == y).astype("float64")
        return -np.log(np.clip(picked, EPSILON, 1 - EPSILON)), {"accuracy": hits}
    if loss == "binary_crossentropy":
        q = np.clip(p, EPSILON, 1 - EPSILON)
        values = -(y * np.log(q) + (1 - y) * np.log(1 - q))
        return values.mean(-1), {"accuracy": ((p > 0.5) == y).mean(-1)}
    if loss == "mse":
        return ((p - y) ** 2).mean(-1), {"mae": np.abs(p - y).mean(-1)}
    raise ValueError(loss)


def reduction_checks(loss_name, out):
    """Which rule gives Keras' evaluate() loss and metrics: l the per-step loss, v a metric's
    per-step value, m the mask of the output (1 everywhere when it has none), w the temporal
    sample weights (1 when none)."""
    losses, metrics = _per_step(loss_name, out["pred_0"], out["y_0"])
    m = out["pred_mask"].astype("float64") if "pred_mask" in out else np.ones_like(losses)
    w = out["sw"].astype("float64") if "sw" in out else np.ones_like(losses)
    logs = dict(zip(out["eval_keys"].tolist(), out["eval_values"].tolist()))
    loss_rules = {
        "sum(l*w*m) / count(m)": (losses * w * m).sum() / m.sum(),
        "sum(l*w*m) / sum(w*m)": (losses * w * m).sum() / (w * m).sum(),
        "sum(l*w*m) / (batch*time)": (losses * w * m).sum() / m.size,
        "mean(l*w), mask ignored": (losses * w).mean(),
    }
    result = {"loss": {"keras": logs["loss"],
                       "rules_that_match": [k for k, v in loss_rules.items()
                                            if _close(v, logs["loss"])]}}
    for key in logs:
        metric = key[len("weighted_"):] if key.startswith("weighted_") else key
        if metric not in metrics:
            continue
        v = metrics[metric]
        rules = {
            "sum(v*m) / count(m)": (v * m).sum() / m.sum(),
            "sum(v*w*m) / sum(w*m)": (v * w * m).sum() / (w * m).sum(),
            "sum(v*w*m) / count(m)": (v * w * m).sum() / m.sum(),
            "mean(v), mask ignored": v.mean(),
        }
        result[key] = {"keras": logs[key],
                       "rules_that_match": [k for k, r in rules.items() if _close(r, logs[key])]}
    if "eval_batch3_keys" in out:
        result["evaluate(batch_size=3)"] = batch_checks(losses, metrics, m, w, out)
    step1 = dict(zip(out["step1_keys"].tolist(), out["step1_values"].tolist()))
    result["train_on_batch step 1 logs equal evaluate() on the same weights"] = all(
        _close(step1[k], logs[k]) for k in logs)
    return result


def batch_checks(losses, metrics, m, w, out):
    """evaluate(batch_size=3): the loss as the mean of the batches' losses (each
    sum(l*w*m) / count(m), 0 for a batch with no real step) weighted by their numbers of rows,
    or as one sum over all batches; each metric likewise."""
    logs = dict(zip(out["eval_batch3_keys"].tolist(), out["eval_batch3_values"].tolist()))
    batches = [slice(start, start + 3) for start in range(0, len(losses), 3)]
    rows = np.array([len(losses[s]) for s in batches], dtype="float64")

    def ratio(top, bottom):
        return top / bottom if bottom else 0.0

    def by_rows(values):
        return float(np.dot(values, rows) / rows.sum())
    per_batch = [ratio((losses * w * m)[s].sum(), m[s].sum()) for s in batches]
    rules = {"mean over batches (weighted by rows) of sum(l*w*m) / count(m)": by_rows(per_batch),
             "sum(l*w*m) / count(m) over all batches at once":
             (losses * w * m).sum() / m.sum()}
    result = {"loss": {"keras": logs["loss"],
                       "rules_that_match": [k for k, v in rules.items()
                                            if _close(v, logs["loss"])]}}
    for key in logs:
        metric = key[len("weighted_"):] if key.startswith("weighted_") else key
        if metric not in metrics:
            continue
        v = metrics[metric] * (w if key.startswith("weighted_") else 1.0)
        d = w * m if key.startswith("weighted_") else m
        rules = {"sum over all batches at once": (v * m).sum() / d.sum(),
                 "mean over batches (weighted by rows)": by_rows(
                     [ratio((v * m)[s].sum(), d[s].sum()) for s in batches])}
        result[key] = {"keras": logs[key],
                       "rules_that_match": [k for k, r in rules.items() if _close(r, logs[key])]}
    return result


def pre_post_checks(out):
    """Rows 0 (pre-padded) and 1 (post-padded) hold the same four tokens: the largest
    difference between their outputs at real steps, per output."""
    found = {}
    for i in range(sum(k.startswith("pred_") and k[5:].isdigit() for k in out)):
        p = out[f"pred_{i}"]
        if p.ndim == 3:
            found[f"output {i} at the four real steps"] = _largest(p[0, 2:], p[1, :4])
        else:
            found[f"output {i}"] = _largest(p[0], p[1])
    return found


def padding_row_checks(out):
    """What each output holds in the row that is all padding."""
    kinds = out["row_kinds"].tolist()
    if "all_padding" not in kinds:
        return None
    row = kinds.index("all_padding")
    found = {}
    for i in range(sum(k.startswith("pred_") and k[5:].isdigit() for k in out)):
        values = out[f"pred_{i}"][row]
        if np.isnan(values).any():
            found[f"output {i}"] = "NaN"
        elif not values.any():
            found[f"output {i}"] = "all zeros"
        else:
            found[f"output {i}"] = "finite, not zero: " + ", ".join(
                f"{v:.6g}" for v in np.ravel(values)[:4])
    return found


def embedding_row0_checks(out, weight_paths):
    """Does training move the padding id's embedding row? (Adam, RMSprop and SGD leave a
    weight with zero gradient where it is.)"""
    if "w3_0" not in out:
        return None
    return {path: "unchanged" if np.array_equal(out[f"w0_{i}"][0], out[f"w3_{i}"][0])
            else "changed"
            for i, path in enumerate(weight_paths) if path.endswith("embeddings")}


def layer_checks(name, out):
    """Rules for single layers, read from their saved inputs and outputs."""
    m = (out["x_0"] != 0) if out["x_0"].ndim == 2 else None  # the ids' own mask
    if name == "pool_average":
        x, y = out["in_global_average_pooling1d_0"], out["out_global_average_pooling1d_0"]
        masked = (x * m[..., None]).sum(1) / m.sum(1, keepdims=True)
        return {"GlobalAveragePooling1D = mean over real steps": _close(y, masked),
                "GlobalAveragePooling1D = mean over all steps": _close(y, x.mean(1))}
    if name == "pool_max":
        x, y = out["in_global_max_pooling1d_0"], out["out_global_max_pooling1d_0"]
        real_max = np.where(m[..., None], x, -np.inf).max(1)
        return {"GlobalMaxPooling1D = max over all steps (mask ignored)": _close(y, x.max(1)),
                "GlobalMaxPooling1D = max over real steps": _close(y, real_max)}
    if name == "conv1d_pool_average":
        x, y = out["in_global_average_pooling1d_0"], out["out_global_average_pooling1d_0"]
        return {"GlobalAveragePooling1D after Conv1D = mean over all steps": _close(y, x.mean(1))}
    if name in MERGE_CASES:
        layer = name.split("_")[1]
        a, b, y = out[f"in_{layer}_0"], out[f"in_{layer}_1"], out[f"out_{layer}_0"]
        plain = a + b if layer == "add" else np.concatenate([a, b], -1)
        return {f"{layer} of the raw inputs at every step, masked or not": _close(y, plain)}
    if name == "gru_backwards_stack":
        y = out["out_gru_0"]
        # Reversed, the pre-padded row reads d c b a then padding, the post-padded row padding
        # then d c b a: the same four outputs, written at steps 0-3 and at steps 2-5.
        return {"go_backwards outputs in reversed time order (row 0 steps 0-3 = row 1 steps 2-5)":
                _close(y[0, :4], y[1, 2:]),
                "mask passed on by the go_backwards GRU": "the input mask, not reversed"}
    if name == "lstm_states":
        seq, h, c = out["pred_0"], out["pred_1"], out["pred_2"]
        last = np.array([np.nonzero(row)[0].max() if row.any() else -1 for row in m])
        real = last >= 0
        return {"h = output at the row's last real step": _close(h[real],
                                                                 seq[real, last[real]]),
                "all-padding row: h and c are zeros": not h[~real].any() and not c[~real].any(),
                "pre- and post-padded rows: same h, same c": _close(h[0], h[1])
                and _close(c[0], c[1])}
    if name == "bidirectional_gru_states":
        y, forward_h, backward_h = out["pred_0"], out["pred_1"], out["pred_2"]
        return {"output = concat(forward h, backward h)":
                _close(y, np.concatenate([forward_h, backward_h], -1))}
    return None


def case_checks(name, out, loss_name, weight_paths):
    checks = {}
    if name not in MERGE_CASES:
        checks["pre_vs_post_padding_largest_difference"] = pre_post_checks(out)
    checks["all_padding_row_in_predict"] = padding_row_checks(out)
    if "eval_keys" in out:
        checks["what_evaluate_computes"] = reduction_checks(loss_name, out)
    checks["embedding_row_0_after_three_steps"] = embedding_row0_checks(out, weight_paths)
    checks["layer_rules"] = layer_checks(name, out)
    return {k: v for k, v in checks.items() if v is not None}
