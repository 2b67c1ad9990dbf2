"""Bidirectional over every cell and every merge mode, returning sequences or not: outputs and
every gradient (input, each direction's weights) against PyTorch's bidirectional=True module on
the same weights, and against finite differences in float64 (the only oracle for GRU with
reset_after=False, which PyTorch's nn.GRU does not implement)."""
import numpy as np
import pytest

from bptt import layers
from tests.helpers import assert_close, torch_oracle
from tests.helpers.layers import check_layer_by_finite_differences, forward_backward, random_weights

B, T, D, H = 2, 4, 3, 2

CELLS = {
    # name: (the layer, PyTorch's cell name, or None where PyTorch has no module for it)
    "SimpleRNN": (lambda **kw: layers.SimpleRNN(H, **kw), "simple_rnn"),
    "LSTM": (lambda **kw: layers.LSTM(H, **kw), "lstm"),
    "GRU_reset_after": (lambda **kw: layers.GRU(H, reset_after=True, **kw), "gru"),
    "GRU_reset_before": (lambda **kw: layers.GRU(H, reset_after=False, **kw), None),
}
MERGE_MODES = ["concat", "sum", "mul", "ave", None]
KEYS = ("kernel", "recurrent_kernel", "bias")


def make(cell, merge_mode, return_sequences, rng, **kwargs):
    layer = layers.Bidirectional(CELLS[cell][0](return_sequences=return_sequences, **kwargs),
                                 merge_mode=merge_mode)
    layer.build((None, T, D))
    random_weights(layer, rng)
    return layer


def upstream(rng, merge_mode, return_sequences):
    """A random dL/dy shaped like the output (a pair of them for merge_mode=None)."""
    steps = (T,) if return_sequences else ()
    if merge_mode is None:
        return [rng.normal(size=(B, *steps, H)) for _ in range(2)]
    return rng.normal(size=(B, *steps, 2 * H if merge_mode == "concat" else H))


def assert_outputs_close(ours, theirs, merge_mode):
    if merge_mode is None:
        assert isinstance(ours, list) and len(ours) == 2
        for name, a, b in zip(("forward", "backward"), ours, theirs):
            assert_close(a, b, name)
    else:
        assert_close(ours, theirs, "y")


def assert_weight_grads_close(layer, grads, expected):
    count = len(layer.forward_layer.params)
    for direction in ("forward", "backward"):
        for key, value in zip(KEYS[:count], expected[direction]):
            assert_close(grads[f"{direction}/{key}"], value, f"{direction}/{key}")


@pytest.mark.parametrize("cell", [name for name, (_, torch_cell) in CELLS.items() if torch_cell])
@pytest.mark.parametrize("merge_mode", MERGE_MODES)
@pytest.mark.parametrize("return_sequences", [True, False])
def test_matches_pytorch(cell, merge_mode, return_sequences, float64, rng):
    layer = make(cell, merge_mode, return_sequences, rng)
    x = rng.normal(size=(B, T, D))
    dy = upstream(rng, merge_mode, return_sequences)
    y, dx, grads = forward_backward(layer, x, dy)
    weights = layer.get_weights()
    expected = torch_oracle.bidirectional(CELLS[cell][1], x, weights[:3], weights[3:],
                                          merge_mode=merge_mode,
                                          return_sequences=return_sequences, dy=dy)
    assert_outputs_close(y, expected["y"], merge_mode)
    assert_close(dx, expected["dx"], "dx")
    assert_weight_grads_close(layer, grads, expected)
    # inference (the fused kernels' path without a cache) gives the same outputs
    assert_outputs_close(layer(x), expected["y"], merge_mode)


@pytest.mark.parametrize("cell", ["SimpleRNN", "LSTM", "GRU_reset_after"])
def test_matches_pytorch_without_bias(cell, floatx, rng):
    layer = make(cell, "concat", True, rng, use_bias=False)
    layer.set_weights([w.astype(floatx) for w in layer.get_weights()])
    x = rng.normal(size=(B, T, D)).astype(floatx)
    dy = upstream(rng, "concat", True).astype(floatx)
    y, dx, grads = forward_backward(layer, x, dy)
    weights = layer.get_weights()
    assert len(weights) == 4
    expected = torch_oracle.bidirectional(CELLS[cell][1], x, weights[:2] + [None],
                                          weights[2:] + [None], merge_mode="concat",
                                          return_sequences=True, dy=dy)
    assert_close(y, expected["y"], "y")
    assert_close(dx, expected["dx"], "dx")
    assert_weight_grads_close(layer, grads, expected)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("merge_mode", MERGE_MODES)
@pytest.mark.parametrize("return_sequences", [True, False])
def test_finite_differences(cell, merge_mode, return_sequences, float64, rng):
    layer = make(cell, merge_mode, return_sequences, rng)
    check_layer_by_finite_differences(layer, rng.normal(size=(B, T, D)),
                                      upstream(rng, merge_mode, return_sequences))


@pytest.mark.parametrize("cell", [name for name, (_, torch_cell) in CELLS.items() if torch_cell])
@pytest.mark.parametrize("merge_mode", ["concat", None])
def test_returned_states_match_pytorch(cell, merge_mode, float64, rng):
    """return_state: [output, forward states, backward states] are PyTorch's h_n (and c_n), and
    the gradients flowing in through the states reach the input and weights as in PyTorch."""
    layer = make(cell, merge_mode, False, rng, return_state=True)
    x = rng.normal(size=(B, T, D))
    count = 4 if cell == "LSTM" else 2
    dstates = [rng.normal(size=(B, H)) for _ in range(count)]
    dy = upstream(rng, merge_mode, False)
    out, dx, grads = forward_backward(layer, x, [dy, *dstates])
    weights = layer.get_weights()
    expected = torch_oracle.bidirectional(CELLS[cell][1], x, weights[:3], weights[3:],
                                          merge_mode=merge_mode, return_sequences=False, dy=dy,
                                          dstates=dstates)
    assert len(out) == 1 + count
    assert_outputs_close(out[0], expected["y"], merge_mode)
    for k, (state, theirs) in enumerate(zip(out[1:], expected["states"])):
        assert_close(state, theirs, f"state {k}")
    assert_close(dx, expected["dx"], "dx")
    assert_weight_grads_close(layer, grads, expected)
    called = layer(x)  # inference: the same output and states
    assert_outputs_close(called[0], expected["y"], merge_mode)
    for k, (state, theirs) in enumerate(zip(called[1:], expected["states"])):
        assert_close(state, theirs, f"state {k} (inference)")
