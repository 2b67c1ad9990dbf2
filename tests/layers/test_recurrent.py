"""SimpleRNN, LSTM and GRU layers against PyTorch (tests/helpers/torch_oracle.py) and finite
differences: outputs, and gradients for the input, initial states and every weight."""
import numpy as np
import pytest

from bptt import layers
from tests.helpers import torch_oracle
from tests.helpers.gradcheck import assert_grad_close, numerical_grad
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
    _, input_mask, recurrent_mask, _, _ = layer.cache
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
    _, input_mask, recurrent_mask, _, _ = layer.cache
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


# -- stateful=True ---------------------------------------------------------------------------------
def _stateful_twins(name, B, D, H, rng, dtype=None, **kwargs):
    """A stateful layer built for batches of B, and a plain one with the same weights."""
    stateful = _build(name, H, dtype, stateful=True, **kwargs)
    stateful.build((B, None, D))
    random_weights(stateful, rng)
    plain = _build(name, H, dtype, **kwargs)
    plain.build((None, None, D))
    plain.set_weights(stateful.get_weights())
    return stateful, plain


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("mode", ["forward", "infer", "call"])
def test_stateful_three_calls_equal_one_long_sequence(name, mode, floatx, kernels_choice, rng):
    """The last states of each call start the next: three chunks of a sequence, one call each,
    give what one call on the whole sequence gives (training forward and inference alike)."""
    B, D, H = 3, 2, 4
    layer, plain = _stateful_twins(name, B, D, H, rng, return_sequences=True)
    x = rng.normal(size=(B, 9, D)).astype(floatx)
    run = {"forward": lambda chunk: layer.forward(chunk, training=True),
           "infer": layer.infer, "call": layer}[mode]
    chunks = [run(x[:, t:t + 3]) for t in (0, 3, 6)]
    _close(np.concatenate(chunks, axis=1), plain.forward(x), floatx, "sequence")
    # The kept states are the whole sequence's last states.
    plain.return_state = True
    _, *expected_states = plain.forward(x)
    assert len(layer.states) == len(expected_states)
    for kept, expected in zip(layer.states, expected_states):
        assert kept.shape == (B, H) and kept.dtype == floatx
        _close(kept, expected, floatx, "kept state")


def test_stateful_bidirectional_carries_each_directions_states(floatx, rng):
    """Bidirectional(stateful): each direction starts from its own last states of the call
    before: the same as a plain Bidirectional handed those states as initial_state. The forward
    direction alone is one long sequence run in pieces."""
    B, T, D, H = 2, 3, 2, 3
    for cell in (layers.SimpleRNN, layers.LSTM, layers.GRU):
        layer = layers.Bidirectional(cell(H, return_sequences=True, stateful=True),
                                     merge_mode=None)
        assert layer.stateful and layer.states is None
        layer.build((B, T, D))
        random_weights(layer, rng)
        plain = layers.Bidirectional(cell(H, return_sequences=True, return_state=True),
                                     merge_mode=None)
        plain.build((None, T, D))
        plain.set_weights(layer.get_weights())
        x = rng.normal(size=(B, 3 * T, D)).astype(floatx)
        states, forward_outputs = None, []
        for k in range(3):
            chunk = x[:, k * T:(k + 1) * T]
            y_f, y_b = layer(chunk) if k != 1 else layer.forward(chunk, training=True)
            (e_f, e_b), *states = plain.forward(chunk, initial_state=states)
            _close(y_f, e_f, floatx, f"{cell.__name__} forward direction, call {k}")
            _close(y_b, e_b, floatx, f"{cell.__name__} backward direction, call {k}")
            forward_outputs.append(y_f)
        for kept, expected in zip(layer.states, states):
            _close(kept, expected, floatx, "kept state")
        whole = cell(H, return_sequences=True)
        whole.build((None, 3 * T, D))
        whole.set_weights(layer.get_weights()[:len(whole.get_weights())])
        _close(np.concatenate(forward_outputs, axis=1), whole.forward(x), floatx, "long sequence")
        layer.reset_states()
        assert all(not state.any() for state in layer.states)
        layer.reset_state()  # Keras 3's name


@pytest.mark.parametrize("name", sorted(CELLS))
def test_reset_states_starts_again_from_zeros(name, rng):
    layer, plain = _stateful_twins(name, 2, 3, 4, rng)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    first = layer(x)
    assert not np.allclose(layer(x), first)  # the second call starts from the first one's states
    layer.reset_states()
    assert all(state.shape == (2, 4) and not state.any() for state in layer.states)
    np.testing.assert_array_equal(layer(x), first)
    layer.reset_state()  # Keras 3's name for the same
    np.testing.assert_array_equal(layer(x), first)
    np.testing.assert_allclose(first, plain(x), rtol=1e-6, atol=1e-6)
    plain.reset_states()  # not stateful: nothing to reset, as in Keras
    assert plain.states is None


@pytest.mark.parametrize("name", sorted(CELLS))
def test_explicit_initial_state_wins_over_the_kept_one(name, rng):
    layer, plain = _stateful_twins(name, 2, 3, 4, rng, return_state=True)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    layer(x)
    initial = [rng.normal(size=(2, 4)).astype("float32") for _ in layer.state_names]
    out, *last = layer(x, initial_state=initial)
    expected, *expected_last = plain(x, initial_state=initial)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
    for kept, value in zip(layer.states, expected_last):  # and its last states are kept
        np.testing.assert_allclose(kept, value, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_stateful_gradient_stops_at_the_batch_boundary(name, float64, rng):
    """Truncated BPTT: on the second call the carried states are constants. The analytic
    gradients equal central differences of the second call's loss with the carried states held
    fixed, and differ from those of the loss through both calls (so the check can tell)."""
    B, T, D, H = 2, 3, 2, 3
    layer, _ = _stateful_twins(name, B, D, H, rng, return_sequences=True)
    x1, x2 = rng.normal(size=(B, T, D)), rng.normal(size=(B, T, D))
    dy = rng.normal(size=(B, T, H))
    layer.forward(x1, training=True)
    carried = [state.copy() for state in layer.states]
    y, dx, grads = forward_backward(layer, x2, dy, training=True)
    assert layer.initial_state_grads is not None  # computed, never passed to the call before

    def loss():
        layer.states = [state.copy() for state in carried]
        return float(np.sum(layer.forward(x2, training=True) * dy))

    for key, value in layer.params.items():
        assert_grad_close(grads[key], numerical_grad(loss, value), name=key)
    assert_grad_close(dx, numerical_grad(loss, x2), name="dx")

    def loss_through_both_calls():
        layer.reset_states()
        layer.forward(x1, training=True)
        return float(np.sum(layer.forward(x2, training=True) * dy))

    through = numerical_grad(loss_through_both_calls, layer.params["recurrent_kernel"])
    assert not np.allclose(through, grads["recurrent_kernel"], rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("wrapped", [False, True])
def test_stateful_batch_size_errors(wrapped, rng):
    def make(**kwargs):
        layer = layers.LSTM(4, stateful=True, **kwargs)
        return layers.Bidirectional(layer) if wrapped else layer

    # Keras' error when the batch size is unknown, with the ways to give it.
    layer = make()
    with pytest.raises(ValueError, match=r"batch size must be static.*\(None, 5, 3\).*"
                                         r"batch_shape=.*batch_size="):
        layer.build((None, 5, 3))
    assert not layer.built  # checked before anything changed
    layer = make()
    layer.build((2, 5, 3))
    layer(np.zeros((2, 5, 3), "float32"))
    for call in (lambda x: layer(x), lambda x: layer.forward(x, training=True),
                 lambda x: layer.infer(x)):
        with pytest.raises(ValueError, match=r"Expected batch size: 2, received batch size: 3.*"
                                             r"batch_size=2.*drop the remainder"):
            call(np.zeros((3, 5, 3), "float32"))
    # Called on an array first, the layer takes that array's batch size (as Keras' eager call).
    layer = make()
    layer(np.zeros((3, 5, 3), "float32"))
    with pytest.raises(ValueError, match="Expected batch size: 3, received batch size: 2"):
        layer(np.zeros((2, 5, 3), "float32"))


def test_stateful_batch_size_declared_as_in_keras(rng):
    from bptt import models

    x = rng.normal(size=(4, 5, 3)).astype("float32")
    declared = [
        [layers.Input(batch_shape=(4, 5, 3)), layers.GRU(2, stateful=True)],
        [layers.Input(shape=(5, 3), batch_size=4), layers.GRU(2, stateful=True)],
        [layers.GRU(2, stateful=True, batch_input_shape=(4, 5, 3))],  # Keras 2
        [layers.GRU(2, stateful=True, batch_size=4, input_shape=(5, 3))],  # Keras 2
    ]
    for stack in declared:
        model = models.Sequential(stack)
        gru = model.layers[-1]
        assert [state.shape for state in gru.states] == [(4, 2)]
        first = model.predict(x, batch_size=4, verbose=0)
        assert not np.allclose(model.predict(x, batch_size=4, verbose=0), first)
        gru.reset_states()
        np.testing.assert_array_equal(model.predict(x, batch_size=4, verbose=0), first)
    with pytest.raises(ValueError, match="input_shape"):
        layers.GRU(2, stateful=True, batch_size=4)
    model = models.Sequential([layers.GRU(2, stateful=True)])  # no batch size anywhere
    with pytest.raises(ValueError, match="batch size must be static"):
        model.predict(x, verbose=0)


@pytest.mark.parametrize("which", ["lower", "upper"])
def test_stateful_lstms_never_take_the_pipeline_from_zero_states(which, kernels_setting, rng):
    """Sequential's predict runs two stacked LSTMs as one pipelined call from zero states:
    not when either is stateful. Two predictions on the halves of a sequence then equal one on
    the whole sequence."""
    from bptt import models

    kernels_setting("fused")
    B, T, D = 1, 4, 3
    model = models.Sequential([layers.Input(batch_shape=(B, T, D)),
                               layers.LSTM(5, return_sequences=True, stateful=True),
                               layers.LSTM(3, stateful=True)])
    lower, upper = model.layers
    for layer in (lower, upper):
        random_weights(layer, rng)
    x = rng.normal(size=(B, 2 * T, D)).astype("float32")
    assert lower.infer_with(upper, x[:, :T]) is None
    model.predict(x[:, :T], verbose=0)
    second = model.predict(x[:, T:], verbose=0)
    plain_lower = layers.LSTM(5, return_sequences=True)
    plain_upper = layers.LSTM(3)
    plain_lower.build((None, 2 * T, D))
    plain_upper.build((None, 2 * T, 5))
    plain_lower.set_weights(lower.get_weights())
    plain_upper.set_weights(upper.get_weights())
    np.testing.assert_allclose(second, plain_upper.infer(plain_lower.infer(x)), rtol=1e-5,
                               atol=1e-6)
    single = layers.LSTM(5, return_sequences=True, stateful=which == "lower")
    other = layers.LSTM(3, stateful=which == "upper")
    single.build((B, T, D))
    other.build((B, T, 5))
    assert single.infer_with(other, x[:, :T]) is None


@pytest.mark.parametrize("name", sorted(CELLS))
def test_stateful_config_round_trip(name):
    layer = _build(name, 3, None, stateful=True, return_sequences=True)
    config = layer.get_config()
    assert config["stateful"] is True
    assert _build(name, 3, None).get_config()["stateful"] is False
    clone = type(layer).from_config(config)
    assert clone.stateful and clone.get_config() == config
