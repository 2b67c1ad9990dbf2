"""SimpleRNN, LSTM and GRU with a (B, T) mask, as Keras masks them.

Checked against PyTorch run on packed sequences (the real steps only, forward and every
gradient), against each sequence run alone on its real steps (pre- and post-padding, holes,
go_backwards), and by finite differences in float64 through every option. Keras' rule: a masked
step holds the states and repeats the last output (zeros before the first real step), so
return_sequences=False returns the output of the last real step.
"""
import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from bptt import converters, layers
from tests.helpers.gradcheck import assert_grad_close, numerical_grad
from tests.helpers.layers import check_layer_by_finite_differences, forward_backward, random_weights

CELLS = {
    "SimpleRNN": (layers.SimpleRNN, {}),
    "LSTM": (layers.LSTM, {}),
    "GRU": (layers.GRU, {}),
    "GRU-reset_before": (layers.GRU, {"reset_after": False}),
}
TORCH = {  # module, Keras weights -> its state dict, its gradients -> Keras' layout
    "SimpleRNN": (torch.nn.RNN, converters.simple_rnn_keras_to_torch,
                  lambda *g: converters.simple_rnn_torch_to_keras(*g, gradients=True)),
    "LSTM": (torch.nn.LSTM, converters.lstm_keras_to_torch,
             lambda *g: converters.lstm_torch_to_keras(*g, gradients=True)),
    "GRU": (torch.nn.GRU, converters.gru_keras_to_torch, converters.gru_torch_to_keras),
}


def make_mask(kind, B, T):
    """(B, T) bool: post- or pre-padding of lengths T, T-1, ..., holes, or an all-padding row."""
    rows = {
        "post": [[t < T - k % T for t in range(T)] for k in range(B)],
        "pre": [[t >= k % T for t in range(T)] for k in range(B)],
        "holes": [[t % (k + 2) != 1 for t in range(T)] for k in range(B)],
        "with_empty_row": [[False] * T] + [[t < T - k for t in range(T)] for k in range(1, B)],
    }[kind]
    return np.array(rows, dtype=bool)


def build(name, units, features, rng, **kwargs):
    cls, options = CELLS[name]
    layer = cls(units, **options, **kwargs)
    layer.build((None, None, features))
    random_weights(layer, rng)
    return layer


def state_count(name):
    return 2 if name == "LSTM" else 1


def torch_packed(name, layer, x, lengths, initial, dy, dstates):
    """PyTorch on pack_padded_sequence(x, lengths): outputs (B, T, H) (zeros at the padding),
    last states, and the gradients of sum(outputs * dy) + sum(states * dstates), in Keras'
    layout."""
    module_cls, to_torch, to_keras = TORCH[name]
    module = module_cls(x.shape[-1], layer.units, batch_first=True).double()
    module.load_state_dict({k: torch.from_numpy(v) for k, v in to_torch(*layer.get_weights()).items()})
    x_t = torch.tensor(x, requires_grad=True)
    starts = [torch.tensor(s[None], requires_grad=True) for s in initial]  # (1, B, H)
    packed = pack_padded_sequence(x_t, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    out, last = module(packed, tuple(starts) if name == "LSTM" else starts[0])
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    last = [s[0] for s in (last if name == "LSTM" else (last,))]
    loss = (out * torch.tensor(dy)).sum() + sum((s * torch.tensor(d)).sum()
                                               for s, d in zip(last, dstates))
    loss.backward()
    p = dict(module.named_parameters())
    names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    grads = to_keras(*(p[k].grad.numpy() for k in names))
    return dict(y=out.detach().numpy(), states=[s.detach().numpy() for s in last], dx=x_t.grad.numpy(),
                grads=grads, dstates=[s.grad.numpy()[0] for s in starts])


# -- PyTorch, packed sequences ---------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(TORCH))
def test_post_padded_batch_matches_torch_packed_sequences(name, float64, rng):
    B, T, D, H = 4, 6, 3, 5
    lengths = [6, 3, 1, 4]
    mask = np.arange(T) < np.array(lengths)[:, None]  # (B, T) post-padding
    layer = build(name, H, D, rng, return_sequences=True, return_state=True)
    x = rng.normal(size=(B, T, D))  # the padded steps hold noise: it must not matter
    initial = [rng.normal(size=(B, H)) for _ in range(state_count(name))]
    dy = rng.normal(size=(B, T, H)) * mask[:, :, None]  # only the real steps' outputs count
    dstates = [rng.normal(size=(B, H)) for _ in initial]
    y, *states = layer.forward(x, training=True, initial_state=initial, mask=mask)
    dx = layer.backward([dy, *dstates])
    ref = torch_packed(name, layer, x, lengths, initial, dy, dstates)
    np.testing.assert_allclose(y * mask[:, :, None], ref["y"], atol=1e-12)
    for got, want in zip(states, ref["states"]):
        np.testing.assert_allclose(got, want, atol=1e-12)
    np.testing.assert_allclose(dx, ref["dx"], atol=1e-12)  # zero at the padding in both
    for got, want in zip([layer.grads[k] for k in layer.params], ref["grads"]):
        np.testing.assert_allclose(got, want, atol=1e-12)
    for got, want in zip(layer.initial_state_grads, ref["dstates"]):
        np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("name", sorted(TORCH))
def test_last_output_is_the_last_real_steps_as_torch_packed_last_state(name, float64, rng):
    """return_sequences=False: Keras' last output is h at each row's last real step, which is
    PyTorch's h_n on the packed batch; so is the gradient through it."""
    B, T, D, H = 3, 5, 2, 4
    lengths = [2, 5, 3]
    mask = np.arange(T) < np.array(lengths)[:, None]
    layer = build(name, H, D, rng)
    x = rng.normal(size=(B, T, D))
    dy = rng.normal(size=(B, H))
    y, dx, grads = forward_backward(layer, x, dy, mask=mask)
    zeros = [np.zeros((B, H)) for _ in range(state_count(name))]
    ref = torch_packed(name, layer, x, lengths, zeros, np.zeros((B, T, H)),
                       [dy] + [np.zeros((B, H))] * (state_count(name) - 1))
    np.testing.assert_allclose(y, ref["states"][0], atol=1e-12)
    np.testing.assert_allclose(dx, ref["dx"], atol=1e-12)
    for got, want in zip([grads[k] for k in layer.params], ref["grads"]):
        np.testing.assert_allclose(got, want, atol=1e-12)


# -- each sequence alone ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("kind", ["post", "pre", "holes", "with_empty_row"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_each_row_equals_its_real_steps_run_alone(name, kind, go_backwards, float64, rng):
    B, T, D, H = 4, 5, 2, 3
    mask = make_mask(kind, B, T)
    layer = build(name, H, D, rng, return_sequences=True, return_state=True, go_backwards=go_backwards)
    x = rng.normal(size=(B, T, D))
    initial = [rng.normal(size=(B, H)) for _ in range(state_count(name))]
    y, *states = layer.infer(x, initial_state=initial, mask=mask)
    last_layer = build(name, H, D, rng, go_backwards=go_backwards)
    last_layer.set_weights(layer.get_weights())
    last = last_layer.infer(x, initial_state=initial, mask=mask)  # return_sequences=False
    for b in range(B):
        row_initial = [s[b:b + 1] for s in initial]
        loop = mask[b, ::-1] if go_backwards else mask[b]  # the order the layer reads the steps
        if not mask[b].any():
            np.testing.assert_array_equal(y[b], 0)
            np.testing.assert_array_equal(last[b], 0)
            for got, start in zip(states, row_initial):
                np.testing.assert_array_equal(got[b:b + 1], start)
            continue
        alone, *alone_states = layer.infer(x[b:b + 1, mask[b]], initial_state=row_initial)
        seen = np.cumsum(loop) - 1  # per step of the loop: the last real step so far (-1: none)
        want = np.where(seen[:, None] >= 0, alone[0][np.maximum(seen, 0)], 0)
        np.testing.assert_allclose(y[b], want, atol=1e-13)
        np.testing.assert_allclose(last[b], alone[0, -1], atol=1e-13)
        for got, want_state in zip(states, alone_states):
            np.testing.assert_allclose(got[b:b + 1], want_state, atol=1e-13)


# -- finite differences -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("kind", ["post", "pre", "with_empty_row"])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_masked_gradients_match_finite_differences(name, kind, return_sequences, go_backwards,
                                                    float64, rng):
    B, T, D, H = 3, 4, 2, 2
    mask = make_mask(kind, B, T)
    layer = build(name, H, D, rng, return_sequences=return_sequences, return_state=True,
                  go_backwards=go_backwards)
    x = rng.normal(size=(B, T, D))
    initial = [rng.normal(size=(B, H)) for _ in range(state_count(name))]
    dy = [rng.normal(size=(B, T, H) if return_sequences else (B, H))] + \
         [rng.normal(size=(B, H)) for _ in initial]
    check_layer_by_finite_differences(layer, x, dy, mask=mask, initial_state=initial)


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("return_sequences", [True, False])
def test_zero_output_for_mask_writes_zeros_and_its_gradients_match(name, return_sequences, float64, rng):
    """Keras' RNN argument (SimpleRNN / LSTM / GRU take it through **kwargs): zeros at the masked
    steps, and a zero last output where the last step is padding."""
    B, T, D, H = 3, 4, 2, 2
    mask = make_mask("post", B, T)
    layer = build(name, H, D, rng, return_sequences=return_sequences, zero_output_for_mask=True)
    x = rng.normal(size=(B, T, D))
    y = layer.infer(x, mask=mask)
    if return_sequences:
        np.testing.assert_array_equal(y[~mask], 0)
        assert np.abs(y[mask]).min() > 0
    else:
        np.testing.assert_array_equal(y[~mask[:, -1]], 0)
    dy = rng.normal(size=y.shape)
    check_layer_by_finite_differences(layer, x, dy, mask=mask)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_recurrent_dropout_with_a_mask_matches_finite_differences(name, float64, rng):
    """Training with dropout and recurrent_dropout (the same masks on every evaluation: the
    layer's seeded generator is reset before each)."""
    B, T, D, H = 3, 4, 2, 3
    mask = make_mask("holes", B, T)
    layer = build(name, H, D, rng, return_sequences=True, dropout=0.3, recurrent_dropout=0.4, seed=3)
    x = rng.normal(size=(B, T, D))
    dy = rng.normal(size=(B, T, H))

    def run():
        layer._rng = np.random.default_rng(3)
        return layer.forward(x, training=True, mask=mask)

    run()
    dx = layer.backward(dy)
    grads = dict(layer.grads)

    def loss():
        return float(np.sum(run() * dy))

    for key, value in layer.params.items():
        assert_grad_close(grads[key], numerical_grad(loss, value), key)
    assert_grad_close(dx, numerical_grad(loss, x), "dx")
