"""Gradients through the states of SimpleRNN, LSTM and GRU: into initial_state, and in from the
states that return_state returns, reading time forwards or backwards, returning sequences or
not; against PyTorch (h0 / c0 that collect gradients; go_backwards is PyTorch fed the reversed
sequence) and finite differences in float64.

With return_sequences=False the output is the last h, which return_state returns again: both
upstream gradients land on that one h, so PyTorch sees their sum as dL/dh_last."""
import numpy as np
import pytest

from bptt import layers, models, optimizers
from tests.helpers import assert_close, torch_oracle
from tests.helpers.layers import check_layer_by_finite_differences, forward_backward, random_weights

B, T, D, H = 3, 4, 2, 3

CELLS = {
    # name: (the layer, its PyTorch oracle, the oracle's options, state count)
    "SimpleRNN": (layers.SimpleRNN, torch_oracle.simple_rnn, {}, 1),
    "LSTM": (layers.LSTM, torch_oracle.lstm, {}, 2),
    "GRU": (layers.GRU, torch_oracle.gru, {}, 1),
    "GRU_reset_before": (lambda *a, **kw: layers.GRU(*a, reset_after=False, **kw), torch_oracle.gru,
                         {"reset_after": False}, 1),
}
# which ends of the states are used: initial states given, returned states with a gradient
STATE_USES = ["initial_and_returned", "initial_only", "returned_only"]


def make(cell, rng, dtype=np.float64, **kwargs):
    layer = CELLS[cell][0](H, **kwargs)
    layer.build((None, T, D))
    random_weights(layer, rng)
    layer.set_weights([w.astype(dtype) for w in layer.get_weights()])
    return layer


def case(cell, uses, return_sequences, rng, dtype=np.float64):
    """(x, initial states or None, the upstream gradient as the layer takes it)."""
    count = CELLS[cell][3]
    x = rng.normal(size=(B, T, D)).astype(dtype)
    initial = None
    if uses != "returned_only":
        initial = [rng.normal(size=(B, H)).astype(dtype) for _ in range(count)]
    dout = rng.normal(size=(B, T, H) if return_sequences else (B, H)).astype(dtype)
    if uses == "initial_only":
        return x, initial, dout
    return x, initial, [dout] + [rng.normal(size=(B, H)).astype(dtype) for _ in range(count)]


def pytorch(cell, layer, x, initial, dy, return_sequences, go_backwards):
    """The oracle's run on what the layer reads (time reversed for go_backwards), with the
    layer's upstream gradients put where they land."""
    _, oracle, options, count = CELLS[cell]
    dout, dstates = (dy[0], dy[1:]) if isinstance(dy, list) else (dy, [None] * count)
    kwargs = dict(options)
    if return_sequences:
        kwargs.update(dhs=dout, dh_last=dstates[0])
    else:
        kwargs.update(dh_last=dout if dstates[0] is None else dout + dstates[0])
    if count == 2:
        kwargs["dc_last"] = dstates[1]
    if initial is not None:
        kwargs["h0"] = initial[0]
        if count == 2:
            kwargs["c0"] = initial[1]
    weights = layer.get_weights() + ([None] if not layer.use_bias else [])
    x_seen = np.ascontiguousarray(x[:, ::-1]) if go_backwards else x
    ref = oracle(x_seen, *weights, **kwargs)
    if go_backwards:
        ref["dx"] = ref["dx"][:, ::-1]
    return ref


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("uses", STATE_USES)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_state_gradients_match_pytorch(cell, uses, go_backwards, return_sequences, float64, rng):
    count = CELLS[cell][3]
    return_state = uses != "initial_only"
    layer = make(cell, rng, return_sequences=return_sequences, return_state=return_state,
                 go_backwards=go_backwards)
    x, initial, dy = case(cell, uses, return_sequences, rng)
    out, dx, grads = forward_backward(layer, x, dy, initial_state=initial)
    ref = pytorch(cell, layer, x, initial, dy, return_sequences, go_backwards)

    output = out[0] if return_state else out
    assert_close(output, ref["hs"] if return_sequences else ref["h_last"], "output")
    if return_state:
        assert len(out) == 1 + count
        assert_close(out[1], ref["h_last"], "returned h")
        if count == 2:
            assert_close(out[2], ref["c_last"], "returned c")
    assert_close(dx, ref["dx"], "dx")
    for key in ("kernel", "recurrent_kernel", "bias"):
        assert_close(grads[key], ref[f"d{key}"], f"d{key}")
    if initial is not None:
        assert len(layer.initial_state_grads) == count
        assert_close(layer.initial_state_grads[0], ref["dh0"], "dh0")
        if count == 2:
            assert_close(layer.initial_state_grads[1], ref["dc0"], "dc0")


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("go_backwards", [False, True])
def test_state_gradients_in_float32(cell, go_backwards, rng):
    layer = make(cell, rng, np.float32, return_sequences=True, return_state=True,
                 go_backwards=go_backwards, use_bias=False)
    x, initial, dy = case(cell, "initial_and_returned", True, rng, np.float32)
    out, dx, grads = forward_backward(layer, x, dy, initial_state=initial)
    ref = pytorch(cell, layer, x, initial, dy, True, go_backwards)
    assert_close(out[0], ref["hs"], "hs")
    assert_close(dx, ref["dx"], "dx")
    assert_close(grads["recurrent_kernel"], ref["drecurrent_kernel"], "drecurrent_kernel")
    assert_close(layer.initial_state_grads[0], ref["dh0"], "dh0")
    if CELLS[cell][3] == 2:
        assert_close(layer.initial_state_grads[1], ref["dc0"], "dc0")


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("uses", STATE_USES)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_state_gradients_by_finite_differences(cell, uses, go_backwards, return_sequences,
                                                float64, rng):
    layer = make(cell, rng, return_sequences=return_sequences, return_state=uses != "initial_only",
                 go_backwards=go_backwards)
    x, initial, dy = case(cell, uses, return_sequences, rng)
    call = {} if initial is None else {"initial_state": initial}
    check_layer_by_finite_differences(layer, x, dy, **call)


@pytest.mark.parametrize("cell", ["SimpleRNN", "LSTM", "GRU", "GRU_reset_before"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_bidirectional_initial_state_gradients_by_finite_differences(cell, go_backwards, float64,
                                                                     rng):
    """Bidirectional(initial_state=[forward states..., backward states...]), returning its
    states: every gradient, the four (or two) initial states' included."""
    count = CELLS[cell][3]
    layer = layers.Bidirectional(CELLS[cell][0](H, return_sequences=True, return_state=True,
                                                go_backwards=go_backwards), merge_mode="mul")
    layer.build((None, T, D))
    random_weights(layer, rng)
    x = rng.normal(size=(B, T, D))
    initial = [rng.normal(size=(B, H)) for _ in range(2 * count)]
    dy = [rng.normal(size=(B, T, H))] + [rng.normal(size=(B, H)) for _ in range(2 * count)]
    check_layer_by_finite_differences(layer, x, dy, initial_state=initial)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("go_backwards", [False, True])
def test_encoder_states_start_the_decoder_in_a_model(cell, go_backwards, float64, rng):
    """Encoder-decoder: the encoder's returned states are the decoder's initial_state. Training
    one step with SGD moves the encoder's weights by exactly the gradient that flows back
    through those states (the encoder's output is not used otherwise), as PyTorch computes it."""
    count = CELLS[cell][3]
    layer_class, run, options, _ = CELLS[cell]

    def oracle(*args, **kwargs):
        return run(*args, **options, **kwargs)

    source, target = layers.Input((T, D)), layers.Input((T, D))
    encoder = layer_class(H, return_state=True, go_backwards=go_backwards)
    decoder = layer_class(H, return_sequences=True)
    states = encoder(source)[1:]
    model = models.Model([source, target], decoder(target, initial_state=states))
    for layer in (encoder, decoder):
        random_weights(layer, rng)
    learning_rate = 0.5
    model.compile(optimizer=optimizers.SGD(learning_rate=learning_rate), loss="mse")
    x_source, x_target = rng.normal(size=(B, T, D)), rng.normal(size=(B, T, D))
    y = rng.normal(size=(B, T, H))
    encoder_before, decoder_weights = encoder.get_weights(), decoder.get_weights()

    # PyTorch: the decoder from the encoder's last states, dL/d(those states) back into it
    encoder_out = oracle(x_source[:, ::-1].copy() if go_backwards else x_source, *encoder_before)
    initial = {"h0": encoder_out["h_last"]}
    if count == 2:
        initial["c0"] = encoder_out["c_last"]
    decoded = oracle(x_target, *decoder_weights, **initial)["hs"]
    dhs = 2 * (decoded - y) / y.size  # mse
    decoder_ref = oracle(x_target, *decoder_weights, **initial, dhs=dhs)
    back = {"dh_last": decoder_ref["dh0"]}
    if count == 2:
        back["dc_last"] = decoder_ref["dc0"]
    encoder_ref = oracle(x_source[:, ::-1].copy() if go_backwards else x_source, *encoder_before,
                         **back)

    model.train_on_batch([x_source, x_target], y)
    for key, before, after in zip(("kernel", "recurrent_kernel", "bias"), encoder_before,
                                  encoder.get_weights()):
        assert_close(after, before - learning_rate * encoder_ref[f"d{key}"], f"encoder {key}")
    for key, before, after in zip(("kernel", "recurrent_kernel", "bias"), decoder_weights,
                                  decoder.get_weights()):
        assert_close(after, before - learning_rate * decoder_ref[f"d{key}"], f"decoder {key}")
