"""bptt.ops.simple_rnn against PyTorch (nn.RNN, or autograd of the same equations) and finite differences.

The op takes xw = x @ kernel + bias; the oracle gets x = xw with kernel = identity and a zero
bias, so its dx is the op's dxw.
"""
import numpy as np
import pytest

from bptt.ops import simple_rnn
from tests.helpers import assert_close, recurrent_mask, torch_oracle
from tests.helpers.gradcheck import assert_grad_close, numerical_grad

SHAPES = [(1, 1, 3), (4, 1, 5), (9, 3, 7), (3, 2, 1)]  # (T, B, H)
UPSTREAM = {"dhs": ("dhs",), "dh_last": ("dh_last",), "all": ("dhs", "dh_last"), "none": ()}
MASKS = [None, "shared", "per_gate"]  # per_gate is (1, B, H) here: one gate
ACTIVATIONS = ["tanh", "relu", "sigmoid", "linear", "hard_sigmoid"]


def make_inputs(rng, T, B, H, dtype, upstream="all", mask=None):
    given = UPSTREAM[upstream]
    inputs = dict(
        xw=rng.normal(size=(T, B, H)),
        recurrent_kernel=rng.normal(size=(H, H)) / np.sqrt(H),
        h0=rng.normal(size=(B, H)),
        dhs=rng.normal(size=(T, B, H)) if "dhs" in given else None,
        dh_last=rng.normal(size=(B, H)) if "dh_last" in given else None,
    )
    inputs = {k: None if v is None else v.astype(dtype) for k, v in inputs.items()}
    inputs["recurrent_mask"] = recurrent_mask(rng, mask, 1, B, H, dtype)
    return inputs


def run_op(inp, activation="tanh"):
    hs, h_last, cache = simple_rnn.simple_rnn_forward(
        inp["xw"], inp["recurrent_kernel"], inp["h0"], activation=activation, recurrent_mask=inp["recurrent_mask"]
    )
    dxw, drecurrent_kernel, dh0 = simple_rnn.simple_rnn_backward(inp["dhs"], inp["dh_last"], cache)
    return dict(hs=hs, h_last=h_last, dxw=dxw, drecurrent_kernel=drecurrent_kernel, dh0=dh0)


def run_oracle(inp, activation="tanh"):
    H = inp["xw"].shape[2]
    dtype = inp["xw"].dtype
    out = torch_oracle.simple_rnn(
        inp["xw"], np.eye(H, dtype=dtype), inp["recurrent_kernel"], np.zeros(H, dtype=dtype), inp["h0"],
        dhs=inp["dhs"], dh_last=inp["dh_last"], activation=activation, recurrent_mask=inp["recurrent_mask"],
        time_major=True,
    )
    out["dxw"] = out.pop("dx")
    return out


def assert_matches_oracle(inp, activation="tanh"):
    ours, theirs = run_op(inp, activation), run_oracle(inp, activation)
    for name in ("hs", "h_last", "dxw", "drecurrent_kernel", "dh0"):
        assert_close(ours[name], theirs[name], name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("T, B, H", SHAPES)
@pytest.mark.parametrize("upstream", list(UPSTREAM))
@pytest.mark.parametrize("mask", MASKS)
def test_simple_rnn_matches_torch(rng, dtype, T, B, H, upstream, mask):
    assert_matches_oracle(make_inputs(rng, T, B, H, dtype, upstream, mask))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("mask", [None, "shared"])
def test_simple_rnn_activations_match_torch(rng, dtype, activation, mask):
    assert_matches_oracle(make_inputs(rng, 6, 2, 3, dtype, "all", mask), activation)


@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_simple_rnn_gradients_match_finite_differences(rng, mask, activation):
    inp = make_inputs(rng, 4, 2, 3, np.float64, "all", mask)

    def loss():
        out = run_op(inp, activation)
        return (out["hs"] * inp["dhs"]).sum() + (out["h_last"] * inp["dh_last"]).sum()

    grads = run_op(inp, activation)
    for name, wrt in [("dxw", "xw"), ("drecurrent_kernel", "recurrent_kernel"), ("dh0", "h0")]:
        assert_grad_close(grads[name], numerical_grad(loss, inp[wrt]), name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("time_major", [False, True])
def test_oracle_equations_match_torch_rnn_module(rng, dtype, activation, time_major):
    """The oracle's hand-written torch equations (used for masks and other activations) = nn.RNN."""
    B, T, I, H = 3, 4, 2, 5
    x = rng.normal(size=(T, B, I) if time_major else (B, T, I)).astype(dtype)
    weights = [rng.normal(size=s).astype(dtype) for s in [(I, H), (H, H), (H,)]]
    h0 = rng.normal(size=(B, H)).astype(dtype)
    upstream = dict(dhs=rng.normal(size=x.shape[:2] + (H,)).astype(dtype), dh_last=rng.normal(size=(B, H)).astype(dtype))
    kwargs = dict(activation=activation, time_major=time_major, **upstream)
    module = torch_oracle.simple_rnn(x, *weights, h0, engine="module", **kwargs)
    autograd = torch_oracle.simple_rnn(x, *weights, h0, engine="autograd", **kwargs)
    assert module.keys() == autograd.keys()
    for name in module:
        assert_close(autograd[name], module[name], name)


def test_simple_rnn_backward_leaves_its_inputs_alone(rng):
    inp = make_inputs(rng, 3, 2, 3, np.float64, "all", "shared")
    before = {k: v.copy() for k, v in inp.items()}
    run_op(inp)
    for name, value in inp.items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_simple_rnn_float32_stays_float32(rng):
    out = run_op(make_inputs(rng, 3, 2, 3, np.float32, "all", "shared"), "hard_sigmoid")
    assert all(v.dtype == np.float32 for v in out.values())
