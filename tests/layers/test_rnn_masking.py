"""RNN(cell) and RNN over stacked cells with a (B, T) mask, as Keras masks them: the stack's
step is masked as a whole (every cell's states held, the top output repeated, or zero with
zero_output_for_mask), checked per row against the stack run alone on its real steps, and by
finite differences in float64."""
import numpy as np
import pytest

from bptt import layers
from tests.helpers.layers import check_layer_by_finite_differences, random_weights
from tests.layers.test_recurrent_masking import make_mask


def stacked(rng, features, **kwargs):
    layer = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2), layers.SimpleRNNCell(3)], **kwargs)
    layer.build((None, None, features))
    random_weights(layer, rng)
    return layer


STATES = [(3,), (3,), (2,), (3,)]  # h, c of the LSTMCell; h of the GRUCell; h of the SimpleRNNCell


@pytest.mark.parametrize("kind", ["post", "pre", "holes", "with_empty_row"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_each_row_of_a_stack_equals_its_real_steps_run_alone(kind, go_backwards, float64, rng):
    B, T, D = 4, 5, 2
    mask = make_mask(kind, B, T)
    layer = stacked(rng, D, return_sequences=True, return_state=True, go_backwards=go_backwards)
    x = rng.normal(size=(B, T, D))
    initial = [rng.normal(size=(B,) + s) for s in STATES]
    y, *nested = layer.infer(x, initial_state=initial, mask=mask)
    states = [nested[0][0], nested[0][1], nested[1], nested[2]]
    for b in range(B):
        row_initial = [s[b:b + 1] for s in initial]
        if not mask[b].any():
            np.testing.assert_array_equal(y[b], 0)
            for got, start in zip(states, row_initial):
                np.testing.assert_array_equal(got[b:b + 1], start)
            continue
        alone, *alone_nested = layer.infer(x[b:b + 1, mask[b]], initial_state=row_initial)
        alone_states = [alone_nested[0][0], alone_nested[0][1], alone_nested[1], alone_nested[2]]
        loop = mask[b, ::-1] if go_backwards else mask[b]
        seen = np.cumsum(loop) - 1  # per step of the loop: the last real step so far (-1: none)
        want = np.where(seen[:, None] >= 0, alone[0][np.maximum(seen, 0)], 0)
        np.testing.assert_allclose(y[b], want, atol=1e-13)
        for got, expected in zip(states, alone_states):
            np.testing.assert_allclose(got[b:b + 1], expected, atol=1e-13)


@pytest.mark.parametrize("kind", ["post", "pre", "with_empty_row"])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_masked_stack_gradients_match_finite_differences(kind, return_sequences, go_backwards,
                                                         zero_output_for_mask, float64, rng):
    B, T, D = 3, 4, 2
    mask = make_mask(kind, B, T)
    layer = stacked(rng, D, return_sequences=return_sequences, return_state=True,
                    go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask)
    x = rng.normal(size=(B, T, D))
    initial = [rng.normal(size=(B,) + s) for s in STATES]
    y_shape = (B, T, 3) if return_sequences else (B, 3)
    dstates = [rng.normal(size=(B,) + s) for s in STATES]
    dy = [rng.normal(size=y_shape), dstates[:2], dstates[2], dstates[3]]  # Keras' nesting
    check_layer_by_finite_differences(layer, x, dy, mask=mask, initial_state=initial)


def test_zero_output_for_mask_zeroes_the_stacks_output(rng):
    B, T, D = 3, 5, 2
    mask = make_mask("post", B, T)
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    sequences = stacked(rng, D, return_sequences=True, zero_output_for_mask=True)
    y = sequences(x, mask=mask)
    np.testing.assert_array_equal(y[~mask], 0)
    last = stacked(rng, D, zero_output_for_mask=True)
    np.testing.assert_array_equal(last(x, mask=mask)[~mask[:, -1]], 0)  # Keras: last step padded


@pytest.mark.parametrize("cell, cls", [(layers.LSTMCell, layers.LSTM), (layers.GRUCell, layers.GRU),
                                       (layers.SimpleRNNCell, layers.SimpleRNN)])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_rnn_of_one_cell_equals_its_layer_under_a_mask(cell, cls, go_backwards, rng):
    B, T, D, H = 3, 5, 2, 4
    mask = make_mask("holes", B, T)
    rnn = layers.RNN(cell(H), return_sequences=True, return_state=True, go_backwards=go_backwards)
    rnn.build((None, None, D))
    random_weights(rnn, rng)
    plain = cls(H, return_sequences=True, return_state=True, go_backwards=go_backwards)
    plain.build((None, None, D))
    plain.set_weights(rnn.get_weights())
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    for got, want in zip(rnn(x, mask=mask), plain(x, mask=mask)):
        np.testing.assert_array_equal(got, want)


def test_bidirectional_over_an_rnn_writes_zeros_at_masked_steps(float64, rng):
    B, T, D = 3, 4, 2
    mask = make_mask("with_empty_row", B, T)
    layer = layers.Bidirectional(layers.RNN([layers.GRUCell(2), layers.LSTMCell(2)],
                                            return_sequences=True))
    layer.build((None, None, D))
    random_weights(layer, rng)
    x = rng.normal(size=(B, T, D))
    y = layer.infer(x, mask=mask)
    np.testing.assert_array_equal(y[~mask], 0)
    check_layer_by_finite_differences(layer, x, rng.normal(size=y.shape), mask=mask)


@pytest.mark.parametrize("cells, count", [
    ([layers.LSTMCell(2)], 2), ([layers.SimpleRNNCell(2)], 1),
    ([layers.LSTMCell(2), layers.GRUCell(2)], 2),  # Keras: one None per cell of a stack
])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_rnn_compute_mask_as_keras(cells, count, return_sequences):
    mask = make_mask("pre", 2, 4)
    want = mask if return_sequences else None
    cell = cells[0] if len(cells) == 1 else cells
    assert layers.RNN(cell, return_sequences=return_sequences,
                      go_backwards=True).compute_mask(None, mask) is want
    got = layers.RNN(cell, return_sequences=return_sequences, return_state=True).compute_mask(None, mask)
    assert got[0] is want and got[1:] == [None] * count
    assert layers.RNN.supports_masking
