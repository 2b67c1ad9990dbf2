"""bptt.converters both ways: exact round trips, the gate orders, and PyTorch modules loaded
through them computing what bptt's ops compute."""
import numpy as np
import pytest
import torch

from bptt import converters
from bptt.ops import gru, lstm, simple_rnn
from tests.helpers import assert_close

B, T, I, H = 3, 4, 2, 5
CELLS = {  # name: (gates, keras->torch, torch->keras, torch module)
    "simple_rnn": (1, converters.simple_rnn_keras_to_torch, converters.simple_rnn_torch_to_keras, torch.nn.RNN),
    "lstm": (4, converters.lstm_keras_to_torch, converters.lstm_torch_to_keras, torch.nn.LSTM),
    "gru": (3, converters.gru_keras_to_torch, converters.gru_torch_to_keras, torch.nn.GRU),
}


def keras_weights(rng, cell, use_bias=True):
    G = CELLS[cell][0]
    weights = [rng.normal(size=(I, G * H)), rng.normal(size=(H, G * H)) / np.sqrt(H)]
    if use_bias:
        weights.append(rng.normal(size=(2, 3 * H) if cell == "gru" else (G * H,)))
    return weights


def run_ops(cell, x, weights):
    """bptt's op on batch-major x (B, T, I) with Keras weights -> (hs (B, T, H), h_last)."""
    kernel, recurrent_kernel, bias = weights
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, B, I)
    h0 = np.zeros((x.shape[0], H))
    if cell == "simple_rnn":
        hs, h_last, _ = simple_rnn.simple_rnn_forward(x_tm @ kernel + bias, recurrent_kernel, h0)
    elif cell == "lstm":
        hs, (h_last, _), _ = lstm.lstm_forward(x_tm @ kernel + bias, recurrent_kernel, h0, h0)
    else:
        hs, h_last, _ = gru.gru_forward(x_tm @ kernel + bias[0], recurrent_kernel, bias[1], h0)
    return hs.transpose(1, 0, 2), h_last


def torch_module(cell, state):
    module = CELLS[cell][3](I, H, batch_first=True).double()
    module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    return module


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("use_bias", [True, False])
def test_keras_to_torch_to_keras_is_exact(rng, cell, use_bias):
    _, to_torch, to_keras, _ = CELLS[cell]
    weights = keras_weights(rng, cell, use_bias)
    state = to_torch(*weights)
    back = to_keras(state["weight_ih_l0"], state["weight_hh_l0"], state.get("bias_ih_l0"), state.get("bias_hh_l0"))
    assert len(back) == len(weights)
    for ours, original in zip(back, weights):
        np.testing.assert_array_equal(ours, original)
        assert ours.flags.c_contiguous and not np.shares_memory(ours, original)


@pytest.mark.parametrize("cell", list(CELLS))
def test_state_dict_matches_torch_modules_names_and_shapes(rng, cell):
    _, to_torch, _, module_class = CELLS[cell]
    module = module_class(I, H, bidirectional=True).double()
    state = {**to_torch(*keras_weights(rng, cell)), **to_torch(*keras_weights(rng, cell), suffix="_l0_reverse")}
    expected = module.state_dict()
    assert {k: v.shape for k, v in state.items()} == {k: tuple(v.shape) for k, v in expected.items()}
    module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})  # strict


@pytest.mark.parametrize("cell", list(CELLS))
def test_torch_module_with_converted_keras_weights_equals_ops(rng, cell):
    weights = keras_weights(rng, cell)
    x = rng.normal(size=(B, T, I))
    module = torch_module(cell, CELLS[cell][1](*weights))
    with torch.no_grad():
        out = module(torch.from_numpy(x))
    h_n = out[1][0] if cell == "lstm" else out[1]
    hs, h_last = run_ops(cell, x, weights)
    assert_close(hs, out[0].numpy(), "hs")
    assert_close(h_last, h_n[0].numpy(), "h_last")


@pytest.mark.parametrize("cell", list(CELLS))
def test_torch_weights_converted_to_keras_give_the_modules_outputs(rng, cell):
    """From a module with random (two, nonzero) biases: Keras weights that reproduce it, and back."""
    _, to_torch, to_keras, module_class = CELLS[cell]
    torch.manual_seed(0)
    module = module_class(I, H, batch_first=True).double()
    p = {k: v.detach().numpy() for k, v in module.state_dict().items()}
    weights = to_keras(p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"])
    x = rng.normal(size=(B, T, I))
    with torch.no_grad():
        expected = module(torch.from_numpy(x))[0].numpy()
    assert_close(run_ops(cell, x, weights)[0], expected, "hs via Keras weights")
    with torch.no_grad():  # and back to PyTorch: a second module that computes the same
        again = torch_module(cell, to_torch(*weights))(torch.from_numpy(x))[0].numpy()
    assert_close(again, expected, "hs via Keras weights and back")
    state = to_torch(*weights)
    if cell == "gru":  # two biases kept apart, so the round trip is exact
        np.testing.assert_array_equal(state["bias_hh_l0"], p["bias_hh_l0"])
    else:  # one Keras bias: the sum survives
        np.testing.assert_allclose(state["bias_ih_l0"] + state["bias_hh_l0"], p["bias_ih_l0"] + p["bias_hh_l0"],
                                   rtol=0, atol=1e-15)


def run_ops_backward(cell, x, weights, dhs):
    """bptt's op forward and backward on batch-major x, upstream dhs (B, T, H)
    -> Keras-layout gradients [dkernel, drecurrent_kernel, dbias]."""
    kernel, recurrent_kernel, bias = weights
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, B, I)
    dhs_tm = np.ascontiguousarray(dhs.transpose(1, 0, 2))  # (T, B, H)
    h0 = np.zeros((x.shape[0], H))
    if cell == "simple_rnn":
        _, _, cache = simple_rnn.simple_rnn_forward(x_tm @ kernel + bias, recurrent_kernel, h0)
        dxw, drecurrent_kernel, _ = simple_rnn.simple_rnn_backward(dhs_tm, None, cache)
    elif cell == "lstm":
        _, _, cache = lstm.lstm_forward(x_tm @ kernel + bias, recurrent_kernel, h0, h0)
        dxw, drecurrent_kernel, _, _ = lstm.lstm_backward(dhs_tm, None, None, cache)
    else:
        _, _, cache = gru.gru_forward(x_tm @ kernel + bias[0], recurrent_kernel, bias[1], h0)
        dxw, drecurrent_kernel, drecurrent_bias, _ = gru.gru_backward(dhs_tm, None, cache)
    dkernel = np.einsum("tbi,tbg->ig", x_tm, dxw)  # xw = x @ kernel + bias
    dbias = dxw.sum(axis=(0, 1))
    if cell == "gru":
        dbias = np.stack([dbias, drecurrent_bias])
    return [dkernel, drecurrent_kernel, dbias]


@pytest.mark.parametrize("cell", list(CELLS))
def test_torch_gradients_converted_to_keras_equal_ops_gradients(rng, cell):
    """Gradients convert like weights, but one Keras bias takes bias_ih's gradient, not the sum."""
    _, to_torch, to_keras, _ = CELLS[cell]
    weights = keras_weights(rng, cell)
    x = rng.normal(size=(B, T, I))
    dhs = rng.normal(size=(B, T, H))
    module = torch_module(cell, to_torch(*weights))
    (module(torch.from_numpy(x))[0] * torch.from_numpy(dhs)).sum().backward()
    p = {k: v.grad.numpy() for k, v in module.named_parameters()}
    kwargs = {} if cell == "gru" else {"gradients": True}
    grads = to_keras(p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"], **kwargs)
    for name, ours, theirs in zip(["dkernel", "drecurrent_kernel", "dbias"], run_ops_backward(cell, x, weights, dhs),
                                  grads):
        assert_close(ours, theirs, name)


def test_lstm_gates_keep_their_order():
    """Keras i, f, c, o and PyTorch i, f, g, o: block k stays block k, transposed."""
    blocks = np.repeat([10.0, 20.0, 30.0, 40.0], H)  # i, f, c, o
    state = converters.lstm_keras_to_torch(np.tile(blocks, (I, 1)), np.tile(blocks, (H, 1)), blocks)
    np.testing.assert_array_equal(state["weight_ih_l0"][:, 0], blocks)
    np.testing.assert_array_equal(state["weight_hh_l0"][:, 0], blocks)
    np.testing.assert_array_equal(state["bias_ih_l0"], blocks)


def test_gru_swaps_update_and_reset_blocks():
    """Keras z, r, h becomes PyTorch r, z, n, in kernels and in both bias rows."""
    blocks = np.repeat([10.0, 20.0, 30.0], H)  # z, r, h
    kernel = np.tile(blocks, (I, 1))
    recurrent_kernel = np.tile(blocks, (H, 1))
    bias = np.stack([blocks, blocks + 1])
    state = converters.gru_keras_to_torch(kernel, recurrent_kernel, bias)
    torch_order = np.repeat([20.0, 10.0, 30.0], H)  # r, z, n
    np.testing.assert_array_equal(state["weight_ih_l0"][:, 0], torch_order)
    np.testing.assert_array_equal(state["weight_hh_l0"][:, 0], torch_order)
    np.testing.assert_array_equal(state["bias_ih_l0"], torch_order)
    np.testing.assert_array_equal(state["bias_hh_l0"], torch_order + 1)


def test_gru_reset_after_false_is_refused(rng):
    with pytest.raises(ValueError, match="reset_after=False"):
        converters.gru_keras_to_torch(rng.normal(size=(I, 3 * H)), rng.normal(size=(H, 3 * H)), np.zeros(3 * H))


def test_simple_rnn_and_lstm_split_the_bias_as_input_bias():
    bias = np.arange(4.0 * H)
    state = converters.lstm_keras_to_torch(np.zeros((I, 4 * H)), np.zeros((H, 4 * H)), bias)
    np.testing.assert_array_equal(state["bias_ih_l0"], bias)
    np.testing.assert_array_equal(state["bias_hh_l0"], 0)


@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_both_ways(rng, use_bias):
    kernel = rng.normal(size=(I, 3))
    bias = rng.normal(size=3) if use_bias else None
    state = converters.dense_keras_to_torch(kernel, bias)
    linear = torch.nn.Linear(I, 3, bias=use_bias).double()
    linear.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    x = rng.normal(size=(B, I))
    with torch.no_grad():
        y = linear(torch.from_numpy(x)).numpy()
    assert_close(x @ kernel + (0 if bias is None else bias), y, "y")
    back = converters.dense_torch_to_keras(state["weight"], state.get("bias"))
    for ours, original in zip(back, [kernel] + ([bias] if use_bias else [])):
        np.testing.assert_array_equal(ours, original)
    assert len(back) == (2 if use_bias else 1)
