"""bptt.ops.gru against PyTorch (nn.GRU, or autograd of the same equations) and finite differences.

The op takes xw = x @ kernel + input bias; the oracle gets x = xw with kernel = identity and a zero
input bias, so its dx is the op's dxw, and, with reset_after=True, its Keras bias row 1 is the op's
recurrent_bias.
"""
import numpy as np
import pytest

from bptt.ops import gru
from tests.helpers import assert_close, recurrent_mask, torch_oracle
from tests.helpers.gradcheck import assert_grad_close, numerical_grad

SHAPES = [(1, 1, 3), (4, 1, 5), (9, 3, 7), (3, 2, 1)]  # (T, B, H)
UPSTREAM = {"dhs": ("dhs",), "dh_last": ("dh_last",), "all": ("dhs", "dh_last"), "none": ()}
MASKS = [None, "shared", "per_gate"]


def make_inputs(rng, T, B, H, dtype, reset_after=True, upstream="all", mask=None):
    given = UPSTREAM[upstream]
    inputs = dict(
        xw=rng.normal(size=(T, B, 3 * H)),
        recurrent_kernel=rng.normal(size=(H, 3 * H)) / np.sqrt(H),
        recurrent_bias=rng.normal(size=3 * H) if reset_after else None,
        h0=rng.normal(size=(B, H)),
        dhs=rng.normal(size=(T, B, H)) if "dhs" in given else None,
        dh_last=rng.normal(size=(B, H)) if "dh_last" in given else None,
    )
    inputs = {k: None if v is None else v.astype(dtype) for k, v in inputs.items()}
    inputs["recurrent_mask"] = recurrent_mask(rng, mask, 3, B, H, dtype)
    inputs["reset_after"] = reset_after
    return inputs


def run_op(inp, **activations):
    hs, h_last, cache = gru.gru_forward(
        inp["xw"], inp["recurrent_kernel"], inp["recurrent_bias"], inp["h0"], reset_after=inp["reset_after"],
        recurrent_mask=inp["recurrent_mask"], **activations,
    )
    dxw, drecurrent_kernel, drecurrent_bias, dh0 = gru.gru_backward(inp["dhs"], inp["dh_last"], cache)
    return dict(hs=hs, h_last=h_last, dxw=dxw, drecurrent_kernel=drecurrent_kernel, drecurrent_bias=drecurrent_bias,
                dh0=dh0)


def run_oracle(inp, **activations):
    H3 = inp["xw"].shape[2]
    dtype = inp["xw"].dtype
    zeros = np.zeros(H3, dtype=dtype)
    bias = np.stack([zeros, inp["recurrent_bias"]]) if inp["reset_after"] else zeros  # Keras' layout
    out = torch_oracle.gru(
        inp["xw"], np.eye(H3, dtype=dtype), inp["recurrent_kernel"], bias, inp["h0"], dhs=inp["dhs"],
        dh_last=inp["dh_last"], reset_after=inp["reset_after"], recurrent_mask=inp["recurrent_mask"],
        time_major=True, **activations,
    )
    out["dxw"] = out.pop("dx")
    out["drecurrent_bias"] = out.pop("dbias")[1] if inp["reset_after"] else None
    return out


def assert_matches_oracle(inp, **activations):
    ours, theirs = run_op(inp, **activations), run_oracle(inp, **activations)
    for name in ("hs", "h_last", "dxw", "drecurrent_kernel", "dh0"):
        assert_close(ours[name], theirs[name], name)
    if inp["reset_after"]:
        assert_close(ours["drecurrent_bias"], theirs["drecurrent_bias"], "drecurrent_bias")
    else:
        assert ours["drecurrent_bias"] is None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("T, B, H", SHAPES)
@pytest.mark.parametrize("upstream", list(UPSTREAM))
@pytest.mark.parametrize("mask", MASKS)
def test_gru_matches_torch(rng, dtype, reset_after, T, B, H, upstream, mask):
    assert_matches_oracle(make_inputs(rng, T, B, H, dtype, reset_after, upstream, mask))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("activation, recurrent_activation, mask", [
    ("relu", "sigmoid", None),
    ("linear", "hard_sigmoid", "per_gate"),
    ("hard_sigmoid", "tanh", None),
    ("sigmoid", "linear", "shared"),
    ("tanh", "relu", None),
])
def test_gru_activations_match_torch(rng, dtype, reset_after, activation, recurrent_activation, mask):
    inp = make_inputs(rng, 5, 2, 3, dtype, reset_after, "all", mask)
    assert_matches_oracle(inp, activation=activation, recurrent_activation=recurrent_activation)


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("activation, recurrent_activation", [("tanh", "sigmoid"), ("relu", "hard_sigmoid")])
def test_gru_gradients_match_finite_differences(rng, reset_after, mask, activation, recurrent_activation):
    inp = make_inputs(rng, 4, 2, 3, np.float64, reset_after, "all", mask)
    acts = dict(activation=activation, recurrent_activation=recurrent_activation)

    def loss():
        out = run_op(inp, **acts)
        return (out["hs"] * inp["dhs"]).sum() + (out["h_last"] * inp["dh_last"]).sum()

    grads = run_op(inp, **acts)
    wrts = [("dxw", "xw"), ("drecurrent_kernel", "recurrent_kernel"), ("dh0", "h0")]
    if reset_after:
        wrts.append(("drecurrent_bias", "recurrent_bias"))
    for name, wrt in wrts:
        assert_grad_close(grads[name], numerical_grad(loss, inp[wrt]), name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("time_major", [False, True])
def test_oracle_equations_match_torch_gru_module(rng, dtype, time_major):
    """The oracle's hand-written torch equations (used for masks, reset_after=False, ...) = nn.GRU."""
    B, T, I, H = 3, 4, 2, 5
    x = rng.normal(size=(T, B, I) if time_major else (B, T, I)).astype(dtype)
    weights = [rng.normal(size=s).astype(dtype) for s in [(I, 3 * H), (H, 3 * H), (2, 3 * H)]]
    h0 = rng.normal(size=(B, H)).astype(dtype)
    upstream = dict(dhs=rng.normal(size=x.shape[:2] + (H,)).astype(dtype), dh_last=rng.normal(size=(B, H)).astype(dtype))
    module = torch_oracle.gru(x, *weights, h0, time_major=time_major, engine="module", **upstream)
    autograd = torch_oracle.gru(x, *weights, h0, time_major=time_major, engine="autograd", **upstream)
    assert module.keys() == autograd.keys()
    for name in module:
        assert_close(autograd[name], module[name], name)


def test_gru_reset_after_false_has_no_recurrent_bias_gradient(rng):
    inp = make_inputs(rng, 2, 2, 3, np.float64, reset_after=False)
    assert run_op(inp)["drecurrent_bias"] is None


def test_gru_backward_leaves_its_inputs_alone(rng):
    inp = make_inputs(rng, 3, 2, 3, np.float64, True, "all", "per_gate")
    before = {k: np.copy(v) for k, v in inp.items()}
    run_op(inp)
    for name, value in inp.items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_float32_stays_float32(rng, reset_after):
    inp = make_inputs(rng, 3, 2, 3, np.float32, reset_after, "all", "shared")
    out = run_op(inp)
    assert all(v.dtype == np.float32 for v in out.values() if v is not None)
