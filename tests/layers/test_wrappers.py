"""Bidirectional and TimeDistributed against PyTorch and finite differences."""
import numpy as np
import pytest
import torch

from bptt import layers
from tests.helpers import torch_oracle
from tests.helpers.layers import check_layer_by_finite_differences, forward_backward, random_weights


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_lstm_matches_torch(merge_mode, return_sequences, float64, rng):
    """PyTorch's nn.LSTM(bidirectional=True) is the oracle: its reverse direction reads the
    sequence backwards and returns its states in forward time order, like Keras' Bidirectional."""
    B, T, D, H = 2, 5, 3, 4
    layer = layers.Bidirectional(layers.LSTM(H, return_sequences=return_sequences),
                                 merge_mode=merge_mode)
    layer.build((None, T, D))
    random_weights(layer, rng)
    x = rng.normal(size=(B, T, D))
    out_width = 2 * H if merge_mode == "concat" else H
    dy = rng.normal(size=(B, T, out_width) if return_sequences else (B, out_width))
    y, dx, grads = forward_backward(layer, x, dy)

    from bptt import converters
    fw, bw = layer.get_weights()[:3], layer.get_weights()[3:]
    module = torch.nn.LSTM(D, H, batch_first=True, bidirectional=True).double()
    state = converters.lstm_keras_to_torch(*fw)
    state.update({k + "_reverse": v for k, v in converters.lstm_keras_to_torch(*bw).items()})
    module.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    xt = torch.tensor(x, requires_grad=True)
    hs, _ = module(xt)
    f, b = hs[..., :H], hs[..., H:]
    if not return_sequences:
        f, b = f[:, -1], b[:, 0]  # the backward direction's final state sits at t = 0
    merged = {"concat": lambda: torch.cat([f, b], -1), "sum": lambda: f + b,
              "mul": lambda: f * b, "ave": lambda: (f + b) / 2}[merge_mode]()
    (merged * torch.tensor(dy)).sum().backward()
    np.testing.assert_allclose(y, merged.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-10)
    params = dict(module.named_parameters())
    for direction, suffix in (("forward", ""), ("backward", "_reverse")):
        # Keras' one bias feeds both of torch's, so its gradient is either one (not their sum).
        bias_grad = params["bias_ih_l0" + suffix].grad.numpy()
        expected = converters.lstm_torch_to_keras(
            params["weight_ih_l0" + suffix].grad.numpy(),
            params["weight_hh_l0" + suffix].grad.numpy(), bias_grad, np.zeros_like(bias_grad))
        for index, key in enumerate(["kernel", "recurrent_kernel", "bias"]):
            np.testing.assert_allclose(grads[f"{direction}/{key}"], expected[index], atol=1e-10,
                                       err_msg=f"{direction}/{key}")


# Every cell and merge mode (None included), with and without return_sequences and
# return_state, against PyTorch and finite differences: tests/layers/test_bidirectional_oracles.py


def test_bidirectional_keras_structure():
    layer = layers.Bidirectional(layers.LSTM(64))
    layer.build((None, 50, 128))
    assert layer.count_params() == 2 * 4 * ((128 + 64) * 64 + 64)
    assert layer.compute_output_shape((None, 50, 128)) == (None, 128)
    assert layer.forward_layer.go_backwards is False and layer.backward_layer.go_backwards is True
    assert [w.shape for w in layer.get_weights()] == [(128, 256), (64, 256), (256,)] * 2
    with pytest.raises(ValueError, match="merge_mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")


def test_time_distributed_dense_matches_torch(floatx, rng):
    layer = layers.TimeDistributed(layers.Dense(3, activation="softmax"))
    layer.build((None, 5, 4))
    random_weights(layer, rng)
    x = rng.normal(size=(2, 5, 4)).astype(floatx)
    dy = rng.normal(size=(2, 5, 3)).astype(floatx)
    y, dx, grads = forward_backward(layer, x, dy)
    ref = torch_oracle.dense(x, *layer.get_weights(), dy=dy, activation="softmax")
    tol = 1e-5 if floatx == np.float32 else 1e-10
    np.testing.assert_allclose(y, ref["y"], atol=tol)
    np.testing.assert_allclose(dx, ref["dx"], atol=tol)
    np.testing.assert_allclose(grads["kernel"], ref["dkernel"], atol=tol)
    assert layer.compute_output_shape((None, 5, 4)) == (None, 5, 3)


def test_time_distributed_finite_differences(float64, rng):
    layer = layers.TimeDistributed(layers.Dense(2, activation="tanh"))
    layer.build((None, 3, 4))
    random_weights(layer, rng)
    check_layer_by_finite_differences(layer, rng.normal(size=(2, 3, 4)),
                                      rng.normal(size=(2, 3, 2)))


def test_time_distributed_after_2d_output_says_return_sequences():
    layer = layers.TimeDistributed(layers.Dense(3))
    with pytest.raises(ValueError, match="return_sequences=True"):
        layer.build((None, 32))


def test_stateful_bidirectional_in_a_sequential_model(rng):
    """Keras 2's batch_size= beside input_shape= on a Bidirectional first layer fixes the batch
    size; predict carries both directions' states until reset_states()."""
    from bptt import models

    model = models.Sequential([layers.Bidirectional(layers.LSTM(3, stateful=True),
                                                    batch_size=2, input_shape=(4, 3))])
    bidirectional = model.layers[0]
    assert bidirectional.stateful and [s.shape for s in bidirectional.states] == [(2, 3)] * 4
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    first = model.predict(x, batch_size=2, verbose=0)
    assert not np.allclose(model.predict(x, batch_size=2, verbose=0), first)
    model.reset_states()
    np.testing.assert_array_equal(model.predict(x, batch_size=2, verbose=0), first)
    with pytest.raises(ValueError, match="must agree on stateful"):
        layers.Bidirectional(layers.LSTM(3, stateful=True),
                             backward_layer=layers.LSTM(3, go_backwards=True))
    plain = layers.Bidirectional(layers.LSTM(3))
    plain.reset_states()  # not stateful: nothing to do
    assert plain.states is None
