"""bptt.ops.lstm against PyTorch (nn.LSTM, or autograd of the same equations) and finite differences.

The op takes xw = x @ kernel + bias; the oracle gets x = xw with kernel = identity and a zero
bias, so its dx is the op's dxw.
"""
import numpy as np
import pytest

from bptt.ops import lstm
from tests.helpers import assert_close, recurrent_mask, torch_oracle
from tests.helpers.gradcheck import assert_grad_close, numerical_grad

SHAPES = [(1, 1, 3), (4, 1, 5), (9, 3, 7), (3, 2, 1)]  # (T, B, H)
UPSTREAM = {  # which upstream gradients are given
    "dhs": ("dhs",),
    "dh_last": ("dh_last",),
    "dc_last": ("dc_last",),
    "all": ("dhs", "dh_last", "dc_last"),
    "none": (),
}
MASKS = [None, "shared", "per_gate"]


def make_inputs(rng, T, B, H, dtype, upstream="all", mask=None):
    given = UPSTREAM[upstream]
    inputs = dict(
        xw=rng.normal(size=(T, B, 4 * H)),
        recurrent_kernel=rng.normal(size=(H, 4 * H)) / np.sqrt(H),
        h0=rng.normal(size=(B, H)),
        c0=rng.normal(size=(B, H)),
        dhs=rng.normal(size=(T, B, H)) if "dhs" in given else None,
        dh_last=rng.normal(size=(B, H)) if "dh_last" in given else None,
        dc_last=rng.normal(size=(B, H)) if "dc_last" in given else None,
    )
    inputs = {k: None if v is None else v.astype(dtype) for k, v in inputs.items()}
    inputs["recurrent_mask"] = recurrent_mask(rng, mask, 4, B, H, dtype)
    return inputs


def run_op(inp, **activations):
    hs, (h_last, c_last), cache = lstm.lstm_forward(
        inp["xw"], inp["recurrent_kernel"], inp["h0"], inp["c0"], recurrent_mask=inp["recurrent_mask"], **activations
    )
    dxw, drecurrent_kernel, dh0, dc0 = lstm.lstm_backward(inp["dhs"], inp["dh_last"], inp["dc_last"], cache)
    return dict(hs=hs, h_last=h_last, c_last=c_last, dxw=dxw, drecurrent_kernel=drecurrent_kernel, dh0=dh0, dc0=dc0)


def run_oracle(inp, **activations):
    H4 = inp["xw"].shape[2]
    dtype = inp["xw"].dtype
    out = torch_oracle.lstm(
        inp["xw"], np.eye(H4, dtype=dtype), inp["recurrent_kernel"], np.zeros(H4, dtype=dtype), inp["h0"], inp["c0"],
        dhs=inp["dhs"], dh_last=inp["dh_last"], dc_last=inp["dc_last"], recurrent_mask=inp["recurrent_mask"],
        time_major=True, **activations,
    )
    out["dxw"] = out.pop("dx")
    return out


def assert_matches_oracle(inp, **activations):
    ours, theirs = run_op(inp, **activations), run_oracle(inp, **activations)
    for name in ("hs", "h_last", "c_last", "dxw", "drecurrent_kernel", "dh0", "dc0"):
        assert_close(ours[name], theirs[name], name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("T, B, H", SHAPES)
@pytest.mark.parametrize("upstream", list(UPSTREAM))
@pytest.mark.parametrize("mask", MASKS)
def test_lstm_matches_torch(rng, dtype, T, B, H, upstream, mask):
    assert_matches_oracle(make_inputs(rng, T, B, H, dtype, upstream, mask))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation, recurrent_activation, mask", [
    ("relu", "sigmoid", None),
    ("linear", "hard_sigmoid", "per_gate"),
    ("hard_sigmoid", "tanh", None),
    ("sigmoid", "linear", "shared"),
    ("tanh", "relu", None),
])
def test_lstm_activations_match_torch(rng, dtype, activation, recurrent_activation, mask):
    inp = make_inputs(rng, 5, 2, 3, dtype, "all", mask)
    assert_matches_oracle(inp, activation=activation, recurrent_activation=recurrent_activation)


@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("activation, recurrent_activation", [("tanh", "sigmoid"), ("relu", "hard_sigmoid")])
def test_lstm_gradients_match_finite_differences(rng, mask, activation, recurrent_activation):
    inp = make_inputs(rng, 4, 2, 3, np.float64, "all", mask)
    acts = dict(activation=activation, recurrent_activation=recurrent_activation)

    def loss():
        out = run_op(inp, **acts)
        return (out["hs"] * inp["dhs"]).sum() + (out["h_last"] * inp["dh_last"]).sum() + \
            (out["c_last"] * inp["dc_last"]).sum()

    grads = run_op(inp, **acts)
    for name, wrt in [("dxw", "xw"), ("drecurrent_kernel", "recurrent_kernel"), ("dh0", "h0"), ("dc0", "c0")]:
        assert_grad_close(grads[name], numerical_grad(loss, inp[wrt]), name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("time_major", [False, True])
def test_oracle_equations_match_torch_lstm_module(rng, dtype, time_major):
    """The oracle's hand-written torch equations (used for masks and other activations) = nn.LSTM."""
    B, T, I, H = 3, 4, 2, 5
    x = rng.normal(size=(T, B, I) if time_major else (B, T, I)).astype(dtype)
    weights = [rng.normal(size=s).astype(dtype) for s in [(I, 4 * H), (H, 4 * H), (4 * H,)]]
    states = [rng.normal(size=(B, H)).astype(dtype) for _ in range(2)]
    upstream = dict(dhs=rng.normal(size=x.shape[:2] + (H,)).astype(dtype),
                    dh_last=rng.normal(size=(B, H)).astype(dtype), dc_last=rng.normal(size=(B, H)).astype(dtype))
    module = torch_oracle.lstm(x, *weights, *states, time_major=time_major, engine="module", **upstream)
    autograd = torch_oracle.lstm(x, *weights, *states, time_major=time_major, engine="autograd", **upstream)
    assert module.keys() == autograd.keys()
    for name in module:
        assert_close(autograd[name], module[name], name)


def test_lstm_backward_leaves_its_inputs_alone(rng):
    inp = make_inputs(rng, 3, 2, 3, np.float64, "all", "per_gate")
    before = {k: v.copy() for k, v in inp.items()}
    run_op(inp)
    for name, value in inp.items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_lstm_float32_stays_float32(rng):
    inp = make_inputs(rng, 3, 2, 3, np.float32, "all", "shared")
    hs, (h_last, c_last), cache = lstm.lstm_forward(
        inp["xw"], inp["recurrent_kernel"], inp["h0"], inp["c0"], recurrent_mask=inp["recurrent_mask"]
    )
    arrays = [hs, h_last, c_last, cache.cs, cache.gates]
    arrays += list(lstm.lstm_backward(inp["dhs"], inp["dh_last"], inp["dc_last"], cache))
    assert all(a.dtype == np.float32 for a in arrays)
