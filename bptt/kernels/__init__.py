"""Whole-sequence functions, chosen by `bptt.set_kernels("reference" | "fused")`.

`sequence_functions(cell, **options)` returns the (forward, backward) pair for a cell
('simple_rnn', 'lstm', 'gru'). The reference pair lives in bptt/ops/<cell>.py and is the
specification. A fused pair lives in bptt/kernels/<cell>.py with the same signatures, and is
used when the fused kernels are selected and the module says it supports the options
(`supports(**options)`: e.g. only tanh/sigmoid activations); otherwise the reference runs.
"""
import importlib

from bptt import backend


def _reference(cell):
    module = importlib.import_module(f"bptt.ops.{cell}")
    return getattr(module, f"{cell}_forward"), getattr(module, f"{cell}_backward")


def _fused(cell):
    try:
        return importlib.import_module(f"bptt.kernels.{cell}")
    except ModuleNotFoundError as error:
        if error.name != f"bptt.kernels.{cell}":
            raise
        return None


def sequence_functions(cell, per_gate_masks=False, **options):
    """per_gate_masks: Keras' recurrent_dropout draws one mask per gate; the reference runs then."""
    if backend.get_kernels() == "fused" and not per_gate_masks:
        module = _fused(cell)
        if module is not None and module.supports(**options):
            return getattr(module, f"{cell}_forward"), getattr(module, f"{cell}_backward")
    return _reference(cell)
