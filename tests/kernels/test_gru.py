"""bptt.kernels.gru (fused) equals its reference bptt.ops.gru: outputs and every gradient, in
float32 and float64, both reset_after forms, on odd shapes, with and without each upstream
gradient and recurrent mask."""
import numpy as np
import pytest

from bptt.kernels import threads as threads_model
from bptt import kernels
from bptt.kernels import _common
from bptt.kernels import gru as fused
from bptt.ops import gru as reference
from tests.helpers import assert_close, recurrent_mask

SHAPES = [(1, 1, 3), (1, 4, 5), (6, 1, 7), (9, 3, 5)]  # (T, B, H)
REALISTIC = (50, 32, 64)
UPSTREAM = {"none": (), "dhs": ("dhs",), "dh_last": ("dh_last",), "all": ("dhs", "dh_last")}
MASKS = [None, "shared", "per_gate"]
NAMES = ("hs", "h_last", "dxw", "drecurrent_kernel", "drecurrent_bias", "dh0")


def make_inputs(rng, T, B, H, dtype, reset_after, upstream="all", mask=None, recurrent_bias=True):
    given = UPSTREAM[upstream]
    inputs = dict(
        xw=rng.normal(size=(T, B, 3 * H)),
        recurrent_kernel=rng.normal(size=(H, 3 * H)) / np.sqrt(H),
        recurrent_bias=rng.normal(size=3 * H) if reset_after and recurrent_bias else None,
        h0=rng.normal(size=(B, H)),  # a non-zero initial state
        dhs=rng.normal(size=(T, B, H)) if "dhs" in given else None,
        dh_last=rng.normal(size=(B, H)) if "dh_last" in given else None,
    )
    inputs = {k: None if v is None else v.astype(dtype) for k, v in inputs.items()}
    inputs["recurrent_mask"] = recurrent_mask(rng, mask, 3, B, H, dtype)
    return inputs


def run(module, inp, reset_after):
    hs, h_last, cache = module.gru_forward(
        inp["xw"], inp["recurrent_kernel"], inp["recurrent_bias"], inp["h0"], reset_after=reset_after,
        recurrent_mask=inp["recurrent_mask"])
    dxw, drecurrent_kernel, drecurrent_bias, dh0 = module.gru_backward(inp["dhs"], inp["dh_last"], cache)
    return dict(hs=hs, h_last=h_last, dxw=dxw, drecurrent_kernel=drecurrent_kernel,
                drecurrent_bias=drecurrent_bias, dh0=dh0)


def assert_fused_matches_reference(inp, reset_after):
    ours, theirs = run(fused, inp, reset_after), run(reference, inp, reset_after)
    for name in NAMES:
        if theirs[name] is None:  # drecurrent_bias with reset_after=False
            assert ours[name] is None, name
        else:
            assert_close(ours[name], theirs[name], name)  # dtype, shape, 1e-5 (float32) / 1e-10 (float64)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T, B, H", SHAPES)
@pytest.mark.parametrize("upstream", list(UPSTREAM))
@pytest.mark.parametrize("mask", MASKS)
def test_fused_gru_matches_reference(rng, reset_after, dtype, T, B, H, upstream, mask):
    assert_fused_matches_reference(make_inputs(rng, T, B, H, dtype, reset_after, upstream, mask), reset_after)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask", MASKS)
def test_fused_gru_matches_reference_realistic(rng, reset_after, dtype, mask):
    assert_fused_matches_reference(make_inputs(rng, *REALISTIC, dtype, reset_after, "all", mask), reset_after)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask", MASKS)
def test_fused_gru_rows_split_across_threads(rng, monkeypatch, handoff, reset_after, dtype, mask):
    """Rows [0, 2), [2, 4), [4, 7) on three threads: the same as the reference."""
    monkeypatch.setattr(threads_model, "_REQUESTED", 3)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "rows_without_team", 1)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "rows", 1)
    assert_fused_matches_reference(make_inputs(rng, 5, 7, 5, dtype, reset_after, "all", mask), reset_after)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_gru_without_recurrent_bias(rng, dtype):
    """reset_after=True with use_bias=False: recurrent_bias None, drecurrent_bias still returned."""
    assert_fused_matches_reference(make_inputs(rng, 4, 3, 5, dtype, True, recurrent_bias=False), True)


def test_supports_only_tanh_and_sigmoid():
    for reset_after in (True, False):
        assert fused.supports(activation="tanh", recurrent_activation="sigmoid", reset_after=reset_after)
        assert not fused.supports(activation="relu", recurrent_activation="sigmoid", reset_after=reset_after)
        assert not fused.supports(activation="tanh", recurrent_activation="hard_sigmoid", reset_after=reset_after)
    assert not fused.supports(activation="tanh", recurrent_activation="sigmoid", unknown_option=1)


def test_dispatcher_picks_fused_or_reference(kernels_setting):
    options = dict(activation="tanh", recurrent_activation="sigmoid", reset_after=False)
    kernels_setting("fused")
    assert kernels.sequence_functions("gru", **options) == (fused.gru_forward, fused.gru_backward)
    assert kernels.sequence_functions("gru", activation="tanh", recurrent_activation="relu", reset_after=True) == (
        reference.gru_forward, reference.gru_backward)  # unsupported: the reference runs
    kernels_setting("reference")
    assert kernels.sequence_functions("gru", **options) == (reference.gru_forward, reference.gru_backward)
