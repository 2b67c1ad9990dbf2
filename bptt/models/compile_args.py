"""compile()'s arguments resolved per model output, as Keras 3's compile resolves them.

    losses_per_output        one loss for every output, a list (one per output, None for
                             none) or a dict by output name
    loss_weights_per_output  a float, a list or a dict by output name
    metrics_per_output       with one output, every metric is its; with several, a list with
                             one entry per output or a dict by output name
    logits_activation        which output activation a crossentropy may read logits behind
"""
from bptt import losses


# Which activation a crossentropy reads its logits from (Keras' TensorFlow backend does the same:
# it takes the logits behind a sigmoid/softmax output instead of clipping probabilities).
LOGITS_ACTIVATION = {
    losses.BinaryCrossentropy: "sigmoid",
    losses.CategoricalCrossentropy: "softmax",
    losses.SparseCategoricalCrossentropy: "softmax",
}


def logits_activation(loss):
    """The activation whose logits `loss` may read, or None."""
    activation = LOGITS_ACTIVATION.get(type(loss))
    return None if activation is None or loss.from_logits else activation


class Slot:
    """One compiled metric: which output it watches and the name it has in the logs."""

    def __init__(self, output, metric, log_name, weighted):
        self.output, self.metric, self.log_name, self.weighted = output, metric, log_name, weighted


def losses_per_output(spec, names, resolve, outputs_are_dict=False):
    """compile's loss as one entry (or None) per output: one for all, a list, or a dict."""
    if isinstance(spec, dict):
        if set(spec) - set(names) or (set(spec) != set(names) and not outputs_are_dict):
            raise ValueError(f"Expected keys {names} in loss dict, but found "
                             f"loss.keys()={list(spec.keys())}")
        return [resolve(spec[name]) if spec.get(name) is not None else None for name in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != len(names):
            raise ValueError(
                f"The model has {len(names)} output(s) {names}, and `loss` is a list of "
                f"{len(spec)}: give one entry per output (None for an output without one), or a "
                "dict keyed by output name.")
        return [None if item is None else resolve(item) for item in spec]
    return [resolve(spec)] * len(names)  # one loss for every output (losses keep no state)


def loss_weights_per_output(spec, names):
    if spec is None:
        return [None] * len(names)
    if isinstance(spec, (int, float)):
        return [float(spec)] * len(names)
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(f"loss_weights has keys {unknown} that are not output names "
                             f"{names}.")
        return [float(spec[name]) if name in spec else None for name in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != len(names):
            raise ValueError(f"`loss_weights` must match the number of losses, got "
                             f"{len(names)} losses and {len(spec)} weights.")
        return [None if w is None else float(w) for w in spec]
    raise ValueError("Expected `loss_weights` argument to be a float (single output case) or a "
                     f"list, tuple, or dict (multiple output case). Received instead: "
                     f"loss_weights={spec!r} of type {type(spec)}")


def metrics_per_output(spec, names):
    """compile's metrics as a list of metric specs per output."""
    if not spec:
        return [[] for _ in names]
    if len(names) == 1:
        flat = list(spec.values()) if isinstance(spec, dict) else list(spec)
        out = []
        for item in flat:
            out.extend(item if isinstance(item, (list, tuple)) else [item])
        return [out]
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(f"Invalid `metrics`: keys {unknown} are not output names {names}.")
        return [_as_specs(spec.get(name)) for name in names]
    if len(spec) == len(names) and any(isinstance(item, (list, tuple)) or item is None
                                       for item in spec):
        return [_as_specs(item) for item in spec]
    if len(spec) == len(names):
        return [[item] for item in spec]
    raise ValueError(
        f"Invalid `metrics`: the model has {len(names)} outputs {names}; give metrics as a "
        "dict keyed by output name (e.g. {'%s': ['accuracy']}) or a list with one entry per "
        f"output. Received: metrics={spec!r}" % names[0])


def _as_specs(item):
    if item is None:
        return []
    return list(item) if isinstance(item, (list, tuple)) else [item]
