"""Whole-sequence functions, chosen by `bptt.set_kernels("reference" | "fused")`.

`sequence_functions(cell, **options)` returns the (forward, backward) pair for a cell
('simple_rnn', 'lstm', 'gru'). The reference pair lives in bptt/ops/<cell>.py and is the
specification. A fused pair lives in bptt/kernels/<cell>.py with the same signatures, and is
used when the fused kernels are selected and the module says it supports the options
(`supports(**options)`: e.g. only tanh/sigmoid activations); otherwise the reference runs.
Both take Keras' mask as `mask=` ((T, B) bool, or None): the fused pair reads it inside its
time loops, so a masked layer gets the same pair as an unmasked one.

`stack_function(cell, batch)` returns the fused inference of two stacked layers, pipelined over
two cores, where there is one for the cell and batch (LSTM, a few sequences), else None.

`inference_function(cell, **options)` returns the fused `<cell>_inference` when there is one
(a forward for when no backward follows: it keeps no cache), else None: the layer then runs its
forward and drops the cache. The inference kernels take no mask: a masked call runs the layer's
forward (the fused forward with its mask) and drops the cache.
"""
import importlib

import numpy as np

from bptt import backend


def _reference(cell):
    module = importlib.import_module(f"bptt.ops.{cell}")
    return getattr(module, f"{cell}_forward"), getattr(module, f"{cell}_backward")


_FUSED = {}  # name -> its bptt.kernels module, or None: looked up once (a layer asks on every call)


def _fused(cell):
    if cell not in _FUSED:
        try:
            _FUSED[cell] = importlib.import_module(f"bptt.kernels.{cell}")
        except ModuleNotFoundError as error:
            if error.name != f"bptt.kernels.{cell}":
                raise
            _FUSED[cell] = None
    return _FUSED[cell]


def sequence_functions(cell, per_gate_masks=False, **options):
    """per_gate_masks: Keras' recurrent_dropout draws one mask per gate; the reference runs then."""
    if backend.get_kernels() == "fused" and not per_gate_masks:
        module = _fused(cell)
        if module is not None and module.supports(**options):
            return getattr(module, f"{cell}_forward"), getattr(module, f"{cell}_backward")
    return _reference(cell)


def inference_function(cell, **options):
    """The fused `<cell>_inference(x, kernel, bias, recurrent_kernel, *states, go_backwards,
    return_sequences, **options)`, or None (no such kernel, options unsupported, or reference kernels)."""
    if backend.get_kernels() != "fused":
        return None
    key = (cell, *sorted(options.items()))  # asked on every call of a layer: looked up once
    if key not in _INFERENCE:
        module = _fused(cell)
        supported = module is not None and module.supports(**options)
        _INFERENCE[key] = getattr(module, f"{cell}_inference", None) if supported else None
    return _INFERENCE[key]


_INFERENCE = {}  # (cell, *options) -> the fused inference function or None


def stack_function(cell, batch, lookup=False):
    """The fused inference of two stacked `cell` layers on `batch` sequences, pipelined over two
    cores (bptt.kernels.lstm_stack.lstm_stack_inference; with lookup, the one that reads an
    Embedding's ids and table, lstm_stack_lookup_inference), or None (not for this cell or
    batch, no fast threads here, or reference kernels)."""
    if cell != "lstm" or backend.get_kernels() != "fused":
        return None
    module = _fused("lstm_stack")
    if not module.usable(batch):
        return None
    return module.lstm_stack_lookup_inference if lookup else module.lstm_stack_inference


def projection_functions(batch):
    """(projection(x, kernel, bias) -> x @ kernel + bias, projection_backward(x, dxw, kernel,
    dx_mask) -> (x^T dxw, (dxw @ kernel^T) * dx_mask, dxw summed over rows)) for a recurrent
    layer on `batch` rows, where x's row r = t * B + b was masked by dx_mask[b] (None: no mask):
    bptt.kernels.gemm's split passes (the bias added, dx masked and the bias gradient summed
    while each thread's rows are in cache) where gemm_functions splits the GEMMs, else NumPy's
    products."""
    gemm = _fused("gemm")
    matmul, _ = gemm_functions(batch)  # (and sets _common.numpy_blas_busy for this layer)
    if matmul is gemm.matmul:
        return gemm.projection, gemm.projection_backward
    return gemm.numpy_projection, gemm.numpy_projection_backward


def numpy_blas_ran():
    """A layer ran a reference time loop (NumPy products) inside fused training: see
    bptt.kernels._common.numpy_blas_ran."""
    _fused("_common").numpy_blas_ran()


def dense_functions():
    """(projection, projection_backward) as projection_functions gives them, for a Dense layer:
    bptt.kernels.gemm's split passes where numba's team takes the parts (so NumPy's BLAS pool,
    whose workers spin on the second core for a while after each product, never runs beside
    that team: a TimeDistributed(Dense(100)) over an LSTM(128) at batch 32 took 26 ms a step with
    its GEMMs on NumPy's pool, 11 without the team), else NumPy's products."""
    gemm = _fused("gemm")
    if backend.get_kernels() == "fused" and _fused("_common").team_threads():
        return gemm.projection, gemm.projection_backward
    return gemm.numpy_projection, gemm.numpy_projection_backward


def gemm_functions(batch):
    """(matmul(a, b) = a @ b, matmul_tn(a, b) = a.T @ b) for the big GEMMs of a recurrent layer
    on `batch` rows: bptt.kernels.gemm's (split over the kernel threads, off NumPy's BLAS pool)
    where the fused time loops split those rows over threads too (see
    bptt.kernels.threads), else NumPy's."""
    _common = _fused("_common")
    if backend.get_kernels() == "fused":
        _common.numpy_blas_busy = not _common.split_gemms(batch)
        if not _common.numpy_blas_busy:
            gemm = _fused("gemm")
            return gemm.matmul, gemm.matmul_tn
    return np.matmul, _common.numpy_matmul_tn
