"""SimpleRNN, LSTM and GRU layers against PyTorch (tests/helpers/torch_oracle.py) and finite
differences: outputs, and gradients for the input, initial states and every weight."""
import numpy as np
import pytest

from bptt import layers
from tests.helpers import torch_oracle
from tests.helpers.layers import check_layer_by_finite_differences, forward_backward, random_weights

TOL = {np.dtype("float32"): 1e-5, np.dtype("float64"): 1e-10}

CELLS = {
    "SimpleRNN": (layers.SimpleRNN, {}, torch_oracle.simple_rnn),
    "LSTM": (layers.LSTM, {}, torch_oracle.lstm),
    "GRU": (layers.GRU, {}, torch_oracle.gru),
    "GRU-reset_before": (layers.GRU, {"reset_after": False}, torch_oracle.gru),
}
SHAPES = [(1, 1, 1, 1), (2, 3, 4, 5), (3, 7, 2, 3)]  # (B, T, D, H): T=1, B=1, odd H


def _oracle(name, layer, x, **kwargs):
    cls, options, oracle = CELLS[name]
    weights = layer.get_weights()
    if options.get("reset_after") is False:
        kwargs["reset_after"] = False
    if name.startswith("GRU") and len(weights) == 2:
        weights.append(None)
    return oracle(x, *weights, **kwargs)


def _build(name, units, dtype, **kwargs):
    cls, options, _ = CELLS[name]
    layer = cls(units, **options, **kwargs)
    return layer


def _close(actual, expected, dtype, what):
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, rtol=TOL[dtype], atol=TOL[dtype] * scale,
                               err_msg=what)


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_layer_matches_torch(name, shape, return_sequences, go_backwards, floatx, rng):
    B, T, D, H = shape
    layer = _build(name, H, floatx, return_sequences=return_sequences, go_backwards=go_backwards)
    x = rng.normal(size=(B, T, D)).astype(floatx)
    layer.build((None, T, D))
    random_weights(layer, rng)
    dy = rng.normal(size=(B, T, H) if return_sequences else (B, H)).astype(floatx)
    y, dx, grads = forward_backward(layer, x, dy)

    # Keras' go_backwards: the layer reads time reversed and returns its outputs in that order.
    x_seen = x[:, ::-1].copy() if go_backwards else x
    kwargs = {"dhs": dy} if return_sequences else {"dh_last": dy}
    ref = _oracle(name, layer, x_seen, **kwargs)
    _close(y, ref["hs"] if return_sequences else ref["h_last"], floatx, "output")
    _close(dx, ref["dx"][:, ::-1] if go_backwards else ref["dx"], floatx, "dx")
    _close(grads["kernel"], ref["dkernel"], floatx, "dkernel")
    _close(grads["recurrent_kernel"], ref["drecurrent_kernel"], floatx, "drecurrent_kernel")
    _close(grads["bias"], ref["dbias"], floatx, "dbias")
    assert y.dtype == floatx and dx.dtype == floatx


@pytest.mark.parametrize("name", sorted(CELLS))
def test_return_state_and_initial_state_match_torch(name, floatx, rng):
    B, T, D, H = 2, 4, 3, 5
    layer = _build(name, H, floatx, return_sequences=True, return_state=True)
    layer.build((None, T, D))
    random_weights(layer, rng)
    x = rng.normal(size=(B, T, D)).astype(floatx)
    n_states = 2 if name == "LSTM" else 1
    initial = [rng.normal(size=(B, H)).astype(floatx) for _ in range(n_states)]
    dy = [rng.normal(size=(B, T, H)).astype(floatx)] + \
         [rng.normal(size=(B, H)).astype(floatx) for _ in range(n_states)]
    out = layer.forward(x, initial_state=initial)
    assert len(out) == 1 + n_states
    dx = layer.backward(dy)
    state_kwargs = {"h0": initial[0], "dhs": dy[0], "dh_last": dy[1]}
    if name == "LSTM":
        state_kwargs.update(c0=initial[1], dc_last=dy[2])
    ref = _oracle(name, layer, x, **state_kwargs)
    _close(out[0], ref["hs"], floatx, "hs")
    _close(out[1], ref["h_last"], floatx, "h")
    _close(dx, ref["dx"], floatx, "dx")
    _close(layer.initial_state_grads[0], ref["dh0"], floatx, "dh0")
    if name == "LSTM":
        _close(out[2], ref["c_last"], floatx, "c")
        _close(layer.initial_state_grads[1], ref["dc0"], floatx, "dc0")


@pytest.mark.parametrize("name", sorted(CELLS))
def test_input_dropout_matches_torch(name, float64, rng):
    """With dropout in training, the layer equals PyTorch fed x times the same mask: one (B, D)
    mask per sequence, shared by every step and gate (Keras 3 without recurrent_dropout)."""
    B, T, D, H = 3, 5, 4, 3
    layer = _build(name, H, float64, return_sequences=True, dropout=0.4, seed=1)
    layer.build((None, T, D))
    random_weights(layer, rng)
    x = rng.normal(size=(B, T, D))
    dy = rng.normal(size=(B, T, H))
    y, dx, grads = forward_backward(layer, x, dy, training=True)
    _, input_mask, recurrent_mask, _ = layer.cache
    assert input_mask.shape == (1, B, D) and recurrent_mask is None
    # Kept units are scaled by 1 / (1 - rate), dropped ones are 0.
    assert set(np.unique(input_mask)) == {0.0, 1 / 0.6}
    mask = input_mask[0][:, None, :]
    ref = _oracle(name, layer, x * mask, dhs=dy)
    _close(y, ref["hs"], np.dtype("float64"), "hs")
    _close(dx, ref["dx"] * mask, np.dtype("float64"), "dx")
    _close(grads["kernel"], ref["dkernel"], np.dtype("float64"), "dkernel")
    # In inference nothing is dropped.
    ref = _oracle(name, layer, x, dhs=dy)
    _close(layer.forward(x, training=False), ref["hs"], np.dtype("float64"), "inference")


def test_simple_rnn_recurrent_dropout_matches_torch(float64, rng):
    layer = layers.SimpleRNN(3, return_sequences=True, recurrent_dropout=0.5, seed=2)
    layer.build((None, 4, 2))
    random_weights(layer, rng)
    x, dy = rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 4, 3))
    y, dx, grads = forward_backward(layer, x, dy, training=True)
    recurrent_mask = layer.cache[2]
    assert recurrent_mask.shape == (2, 3)
    ref = torch_oracle.simple_rnn(x, *layer.get_weights(), dhs=dy, recurrent_mask=recurrent_mask)
    _close(y, ref["hs"], np.dtype("float64"), "hs")
    _close(grads["recurrent_kernel"], ref["drecurrent_kernel"], np.dtype("float64"), "drk")


@pytest.mark.parametrize("name", ["LSTM", "GRU", "GRU-reset_before"])
def test_recurrent_dropout_draws_one_mask_per_gate(name, float64, rng):
    """Keras 3 (implementation 1): with recurrent_dropout, each of the G gates gets its own input
    mask and its own mask on h_{t-1}. Checked by finite differences with the masks held fixed."""
    B, T, D, H = 2, 4, 3, 3
    layer = _build(name, H, float64, return_sequences=True, dropout=0.3, recurrent_dropout=0.4,
                   seed=3)
    layer.build((None, T, D))
    random_weights(layer, rng)
    x, dy = rng.normal(size=(B, T, D)), rng.normal(size=(B, T, H))
    layer.forward(x, training=True)
    _, input_mask, recurrent_mask, _ = layer.cache
    gates = layer.gates
    assert input_mask.shape == (gates, B, D) and recurrent_mask.shape == (gates, B, H)
    assert not all(np.array_equal(input_mask[0], m) for m in input_mask[1:])
    # Every forward draws the input masks, then the recurrent ones: hand back the same two.
    masks = iter([input_mask, recurrent_mask] * 1000)
    layer._dropout_mask = lambda rate, shape, dtype: next(masks)
    check_layer_by_finite_differences(layer, x, dy, training=True)


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_finite_differences(name, return_sequences, float64, rng):
    layer = _build(name, 3, float64, return_sequences=return_sequences, go_backwards=True)
    x = rng.normal(size=(2, 4, 3))
    layer.build((None, 4, 3))
    random_weights(layer, rng)
    dy = rng.normal(size=(2, 4, 3) if return_sequences else (2, 3))
    check_layer_by_finite_differences(layer, x, dy)


def test_use_bias_false_and_activations(float64, rng):
    for layer, oracle, kwargs in [
        (layers.SimpleRNN(3, activation="relu", use_bias=False), torch_oracle.simple_rnn,
         {"activation": "relu"}),
        (layers.LSTM(3, activation="relu", recurrent_activation="hard_sigmoid", use_bias=False),
         torch_oracle.lstm, {"activation": "relu", "recurrent_activation": "hard_sigmoid"}),
        (layers.GRU(3, recurrent_activation="hard_sigmoid", use_bias=False), torch_oracle.gru,
         {"recurrent_activation": "hard_sigmoid"}),
    ]:
        layer.build((None, 4, 2))
        random_weights(layer, rng)
        x = rng.normal(size=(2, 4, 2))
        dy = rng.normal(size=(2, 3))
        y, dx, grads = forward_backward(layer, x, dy)
        ref = oracle(x, *layer.get_weights(), None, dh_last=dy, **kwargs)
        _close(y, ref["h_last"], np.dtype("float64"), type(layer).__name__)
        _close(dx, ref["dx"], np.dtype("float64"), "dx")
        assert "bias" not in grads


def test_keras_weight_layout_and_defaults():
    lstm = layers.LSTM(64)
    lstm.build((None, 50, 128))
    shapes = [w.shape for w in lstm.get_weights()]
    assert shapes == [(128, 256), (64, 256), (256,)]
    bias = lstm.get_weights()[2]
    # unit_forget_bias: the forget gate (second block of H in i, f, c, o) starts at 1, rest 0.
    np.testing.assert_array_equal(bias[64:128], 1)
    np.testing.assert_array_equal(np.r_[bias[:64], bias[128:]], 0)
    # recurrent_initializer='orthogonal': U^T U = I for a square (H, H) block's columns.
    u = lstm.get_weights()[1]
    np.testing.assert_allclose(u @ u.T, np.eye(64), atol=1e-5)
    # kernel_initializer='glorot_uniform': |w| <= sqrt(6 / (fan_in + fan_out)).
    assert np.abs(lstm.get_weights()[0]).max() <= np.sqrt(6 / (128 + 256))
    gru = layers.GRU(5)
    gru.build((None, 7, 3))
    assert [w.shape for w in gru.get_weights()] == [(3, 15), (5, 15), (2, 15)]
    gru_before = layers.GRU(5, reset_after=False)
    gru_before.build((None, 7, 3))
    assert [w.shape for w in gru_before.get_weights()] == [(3, 15), (5, 15), (15,)]
    rnn = layers.SimpleRNN(4)
    rnn.build((None, 7, 3))
    assert [w.shape for w in rnn.get_weights()] == [(3, 4), (4, 4), (4,)]
    config = layers.LSTM(8).get_config()
    # Keras' documented defaults.
    for key, value in dict(activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                           kernel_initializer="glorot_uniform",
                           recurrent_initializer="orthogonal", bias_initializer="zeros",
                           unit_forget_bias=True, dropout=0.0, recurrent_dropout=0.0,
                           return_sequences=False, return_state=False,
                           go_backwards=False).items():
        assert config[key] == value, key
    assert layers.GRU(3).get_config()["reset_after"] is True


def test_callable_like_keras(rng):
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    assert layers.LSTM(4)(x).shape == (2, 4)
    assert layers.GRU(4, return_sequences=True)(x).shape == (2, 6, 4)
    out = layers.LSTM(4, return_state=True)(x)
    assert isinstance(out, list) and [o.shape for o in out] == [(2, 4)] * 3
    np.testing.assert_array_equal(out[0], out[1])  # the output is the last h
    out = layers.GRU(4, return_state=True, return_sequences=True)(x)
    assert [o.shape for o in out] == [(2, 6, 4), (2, 4)]


def test_rank_error_names_return_sequences():
    layer = layers.LSTM(4)
    with pytest.raises(ValueError, match="return_sequences=True"):
        layer.build((None, 32))
    with pytest.raises(ValueError, match=r"got shape \(3, 5\)"):
        layers.LSTM(2)(np.zeros((3, 5), "float32"))


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="units"):
        layers.LSTM(0)
    with pytest.raises(ValueError, match="dropout"):
        layers.GRU(3, dropout=1.5)
    with pytest.raises(TypeError, match="retrun_sequences"):
        layers.LSTM(3, retrun_sequences=True)
    with pytest.raises(ValueError, match="Unknown activation"):
        layers.SimpleRNN(3, activation="swishy")


def test_seeded_layers_are_reproducible(rng):
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    a = layers.LSTM(4, dropout=0.5, seed=7)
    b = layers.LSTM(4, dropout=0.5, seed=7)
    np.testing.assert_array_equal(a(x, training=True), b(x, training=True))


@pytest.fixture(params=["fused", "reference"])
def kernels_choice(request):
    from bptt import backend

    previous = backend.get_kernels()
    backend.set_kernels(request.param)
    yield request.param
    backend.set_kernels(previous)


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("B, T, D, H", [(1, 1, 1, 1), (3, 7, 2, 3), (40, 5, 3, 4)])
@pytest.mark.parametrize("return_sequences, return_state, go_backwards",
                         [(False, False, False), (True, False, True), (True, True, False),
                          (False, True, True)])
def test_infer_equals_forward_in_inference_mode(name, B, T, D, H, return_sequences, return_state,
                                                go_backwards, floatx, kernels_choice, rng):
    """infer (predict's path: the fused inference kernel where there is one) gives what
    forward(x, training=False) gives, also with initial states, and keeps no cache."""
    layer = _build(name, H, floatx, return_sequences=return_sequences, return_state=return_state,
                   go_backwards=go_backwards, dropout=0.3)
    layer.build((None, T, D))
    random_weights(layer, rng)
    x = rng.normal(size=(B, T, D)).astype(floatx)
    n_states = 2 if name == "LSTM" else 1
    for initial in (None, [rng.normal(size=(B, H)).astype(floatx) for _ in range(n_states)]):
        expected = layer.forward(x, training=False, initial_state=initial)
        actual = layer.infer(x, initial_state=initial)
        assert layer.cache is None
        expected = expected if return_state else [expected]
        actual = actual if return_state else [actual]
        assert len(actual) == len(expected)
        for index, (a, e) in enumerate(zip(actual, expected)):
            assert a.dtype == e.dtype and a.shape == e.shape
            _close(a, e, floatx, f"output {index}")


def test_backward_after_inference_raises_and_forward_restores_it(rng):
    layer = layers.LSTM(3, return_sequences=True)
    x = rng.normal(size=(2, 4, 5)).astype("float32")
    dy = np.ones((2, 4, 3), "float32")
    with pytest.raises(RuntimeError, match="inference mode"):
        layer.backward(dy)  # never run
    layer(x)  # calling a layer is inference, as in Keras
    with pytest.raises(RuntimeError, match="inference mode"):
        layer.backward(dy)
    layer.forward(x)
    assert layer.backward(dy).shape == x.shape
    layer.infer(x)
    with pytest.raises(RuntimeError, match="inference mode"):
        layer.backward(dy)


@pytest.mark.parametrize("B, T, D, H1, H2", [(1, 1, 1, 2, 1), (3, 7, 2, 5, 3), (1, 50, 16, 12, 4)])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_stacked_lstms_infer_together_as_one_after_the_other(B, T, D, H1, H2, return_sequences,
                                                            floatx, rng):
    """LSTM.infer_with (two stacked LSTMs in one pipelined call) gives what their infer calls
    give one after the other, and leaves neither a cache."""
    lower = layers.LSTM(H1, return_sequences=True, dtype=floatx.name)
    upper = layers.LSTM(H2, return_sequences=return_sequences, dtype=floatx.name)
    lower.build((None, T, D))
    upper.build((None, T, H1))
    random_weights(lower, rng)
    random_weights(upper, rng)
    x = rng.normal(size=(B, T, D)).astype(floatx)
    expected = upper.infer(lower.infer(x))
    lower.forward(x)  # caches that inference must drop
    upper.forward(lower.forward(x))
    actual = lower.infer_with(upper, x)
    if actual is None:
        pytest.skip("no fused pipeline here (reference kernels or a single numba thread)")
    assert lower.cache is None and upper.cache is None
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    _close(actual, expected, floatx, "output")


@pytest.mark.parametrize("change", ["go_backwards", "return_state", "upper_go_backwards", "gru",
                                    "lower_last_only", "many_rows", "reference"])
def test_stacked_lstms_run_one_by_one_where_the_pipeline_does_not_apply(change, rng):
    from bptt import backend
    from bptt.kernels import lstm_stack

    lower = layers.LSTM(4, return_sequences=change != "lower_last_only",
                        go_backwards=change == "go_backwards", return_state=change == "return_state")
    upper = (layers.GRU(3) if change == "gru"
             else layers.LSTM(3, go_backwards=change == "upper_go_backwards"))
    lower.build((None, 5, 2))
    upper.build((None, 5, 4))
    rows = lstm_stack.MAX_ROWS + 1 if change == "many_rows" else 1
    x = rng.normal(size=(rows, 5, 2)).astype("float32")
    previous = backend.get_kernels()
    backend.set_kernels("reference" if change == "reference" else "fused")
    try:
        assert lower.infer_with(upper, x) is None
    finally:
        backend.set_kernels(previous)


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_each_layer_trains_with_its_fused_kernel_where_selected(name, activation, kernels_setting):
    """A layer hands its time loop to bptt/kernels/<cell>.py when the fused kernels are selected
    and the kernel supports its options (SimpleRNN: tanh and relu; LSTM and GRU: Keras'
    defaults), and to bptt/ops/<cell>.py otherwise."""
    cls, options, _ = CELLS[name]
    layer = cls(3, **options, activation=activation)
    supported = activation == "tanh" or name == "SimpleRNN"
    for setting in ("fused", "reference"):
        kernels_setting(setting)
        forward, backward = layer.sequence_functions(per_gate_masks=False)
        fused = setting == "fused" and supported
        expected = f"bptt.{'kernels' if fused else 'ops'}.{cls.cell}"
        assert forward.__module__ == backward.__module__ == expected, (setting, forward.__module__)


@pytest.mark.parametrize("B, T", [(1, 1), (3, 7), (2, 50)])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_stacked_lstms_look_up_an_embeddings_ids_inside_the_pipeline(B, T, return_sequences,
                                                                     floatx, rng):
    """LSTM.infer_with(upper, ids, lookup=embedding) gives the three layers' infer calls one
    after the other, leaves no cache, and rejects bad ids with the Embedding's own error."""
    embedding = layers.Embedding(11, 6, dtype=floatx.name)
    lower = layers.LSTM(5, return_sequences=True, dtype=floatx.name)
    upper = layers.LSTM(3, return_sequences=return_sequences, dtype=floatx.name)
    embedding.build((None, T))
    lower.build((None, T, 6))
    upper.build((None, T, 5))
    random_weights(lower, rng)
    random_weights(upper, rng)
    ids = rng.integers(0, 11, size=(B, T))
    expected = upper.infer(lower.infer(embedding.infer(ids)))
    embedding.forward(ids)  # a cache that inference must drop
    actual = lower.infer_with(upper, ids, lookup=embedding)
    if actual is None:
        pytest.skip("no fused pipeline here (reference kernels or a single numba thread)")
    assert embedding.cache is None and lower.cache is None and upper.cache is None
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    _close(actual, expected, floatx, "output")
    ids[0, 0] = 11
    with pytest.raises(ValueError, match=r"token id 11.*\[0, 11\)"):
        lower.infer_with(upper, ids, lookup=embedding)


def test_a_lookup_that_does_not_fit_the_pipeline_runs_one_by_one(rng):
    embedding = layers.Embedding(11, 6)
    lower, upper = layers.LSTM(5, return_sequences=True), layers.LSTM(3)
    embedding.build((None, 4))
    lower.build((None, 4, 7))  # expects 7 features, the table gives 6
    upper.build((None, 4, 5))
    assert lower.infer_with(upper, rng.integers(0, 11, size=(1, 4)), lookup=embedding) is None
