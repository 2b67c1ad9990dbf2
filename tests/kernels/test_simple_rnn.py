"""bptt.kernels.simple_rnn (fused) equals its reference bptt.ops.simple_rnn: outputs and every
gradient, in float32 and float64, tanh and relu, on odd shapes, with and without each upstream
gradient and recurrent mask."""
import numpy as np
import pytest

from bptt.kernels import threads as threads_model
from bptt import kernels
from bptt.kernels import _common
from bptt.kernels import simple_rnn as fused
from bptt.ops import simple_rnn as reference
from tests.helpers import assert_close, recurrent_mask

SHAPES = [(1, 1, 3), (1, 4, 5), (6, 1, 7), (9, 3, 5)]  # (T, B, H)
REALISTIC = (50, 32, 64)
UPSTREAM = {"none": (), "dhs": ("dhs",), "dh_last": ("dh_last",), "all": ("dhs", "dh_last")}
MASKS = [None, "shared", "per_gate"]  # per_gate: (1, B, H), one gate
NAMES = ("hs", "h_last", "dxw", "drecurrent_kernel", "dh0")


def make_inputs(rng, T, B, H, dtype, upstream="all", mask=None):
    given = UPSTREAM[upstream]
    inputs = dict(
        xw=rng.normal(size=(T, B, H)),
        recurrent_kernel=rng.normal(size=(H, H)) / np.sqrt(H),
        h0=rng.normal(size=(B, H)),  # a non-zero initial state
        dhs=rng.normal(size=(T, B, H)) if "dhs" in given else None,
        dh_last=rng.normal(size=(B, H)) if "dh_last" in given else None,
    )
    inputs = {k: None if v is None else v.astype(dtype) for k, v in inputs.items()}
    inputs["recurrent_mask"] = recurrent_mask(rng, mask, 1, B, H, dtype)
    return inputs


def run(module, inp, activation):
    hs, h_last, cache = module.simple_rnn_forward(
        inp["xw"], inp["recurrent_kernel"], inp["h0"], activation=activation, recurrent_mask=inp["recurrent_mask"])
    dxw, drecurrent_kernel, dh0 = module.simple_rnn_backward(inp["dhs"], inp["dh_last"], cache)
    return dict(hs=hs, h_last=h_last, dxw=dxw, drecurrent_kernel=drecurrent_kernel, dh0=dh0)


def assert_fused_matches_reference(inp, activation):
    ours, theirs = run(fused, inp, activation), run(reference, inp, activation)
    for name in NAMES:
        assert_close(ours[name], theirs[name], name)  # dtype, shape, 1e-5 (float32) / 1e-10 (float64)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T, B, H", SHAPES)
@pytest.mark.parametrize("upstream", list(UPSTREAM))
@pytest.mark.parametrize("mask", MASKS)
def test_fused_simple_rnn_matches_reference(rng, activation, dtype, T, B, H, upstream, mask):
    assert_fused_matches_reference(make_inputs(rng, T, B, H, dtype, upstream, mask), activation)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask", [None, "shared"])
def test_fused_simple_rnn_matches_reference_realistic(rng, activation, dtype, mask):
    assert_fused_matches_reference(make_inputs(rng, *REALISTIC, dtype, "all", mask), activation)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask", [None, "shared"])
def test_fused_simple_rnn_rows_split_across_threads(rng, monkeypatch, handoff, activation, dtype, mask):
    """Rows [0, 2), [2, 4), [4, 7) on three threads: the same as the reference."""
    monkeypatch.setattr(threads_model, "_REQUESTED", 3)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "rows_without_team", 1)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "rows", 1)
    assert_fused_matches_reference(make_inputs(rng, 5, 7, 5, dtype, "all", mask), activation)


def test_supports_tanh_and_relu():
    assert fused.supports(activation="tanh")
    assert fused.supports(activation="relu")
    assert not fused.supports(activation="sigmoid")
    assert not fused.supports(activation="tanh", unknown_option=1)


def test_dispatcher_picks_fused_or_reference(kernels_setting):
    kernels_setting("fused")
    assert kernels.sequence_functions("simple_rnn", activation="relu") == (
        fused.simple_rnn_forward, fused.simple_rnn_backward)
    assert kernels.sequence_functions("simple_rnn", activation="linear") == (
        reference.simple_rnn_forward, reference.simple_rnn_backward)  # unsupported: the reference runs
    kernels_setting("reference")
    assert kernels.sequence_functions("simple_rnn", activation="tanh") == (
        reference.simple_rnn_forward, reference.simple_rnn_backward)
