"""RNN over SimpleRNNCell, LSTMCell, GRUCell and stacks of them: against the matching layers on
the same weights, against PyTorch's multi-layer nn.RNN / nn.LSTM / nn.GRU, and by finite
differences; Keras' weight order, state nesting, configs and errors."""
import numpy as np
import pytest
import torch

from bptt import converters, layers
from tests.helpers.gradcheck import assert_grad_close, numerical_grad
from tests.helpers.layers import random_weights

TOL = {np.dtype("float32"): 1e-6, np.dtype("float64"): 1e-12}

CELLS = {  # name: (cell, layer, options)
    "SimpleRNN": (layers.SimpleRNNCell, layers.SimpleRNN, {}),
    "LSTM": (layers.LSTMCell, layers.LSTM, {}),
    "GRU": (layers.GRUCell, layers.GRU, {}),
    "GRU-reset_before": (layers.GRUCell, layers.GRU, {"reset_after": False}),
}


def _flat(value):
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flat(item)]
    return [value]


def _close(actual, expected, dtype, what):
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, rtol=TOL[dtype], atol=TOL[dtype] * scale,
                               err_msg=what)


def _normal(rng, shapes, dtype):
    return [rng.normal(size=shape).astype(dtype) for shape in shapes]


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("return_sequences, go_backwards", [(False, False), (True, True)])
def test_rnn_over_one_cell_is_the_layer(name, return_sequences, go_backwards, floatx, rng):
    """RNN(LSTMCell(H)) runs LSTM(H)'s maths: the same weights (names, shapes, order), outputs,
    states, and gradients of the input, the initial states and every weight."""
    cell_cls, layer_cls, options = CELLS[name]
    B, T, D, H = 3, 5, 2, 4
    rnn = layers.RNN(cell_cls(H, **options), return_sequences=return_sequences,
                     return_state=True, go_backwards=go_backwards)
    layer = layer_cls(H, **options, return_sequences=return_sequences, return_state=True,
                      go_backwards=go_backwards)
    rnn.build((None, T, D))
    layer.build((None, T, D))
    random_weights(rnn, rng)
    assert list(rnn.params) == list(layer.params)
    layer.set_weights(rnn.get_weights())
    x = rng.normal(size=(B, T, D)).astype(floatx)
    n = len(layer.state_names)
    initial = _normal(rng, [(B, H)] * n, floatx)
    dy = _normal(rng, [(B, T, H) if return_sequences else (B, H)] + [(B, H)] * n, floatx)
    got, expected = rnn.forward(x, initial_state=initial), layer.forward(x, initial_state=initial)
    assert len(got) == 1 + n
    for index, (a, e) in enumerate(zip(got, expected)):
        _close(a, e, floatx, f"output {index}")
    _close(rnn.backward(dy), layer.backward(dy), floatx, "dx")
    for key in layer.params:
        _close(rnn.grads[key], layer.grads[key], floatx, key)
    for a, e in zip(rnn.initial_state_grads, layer.initial_state_grads):
        _close(a, e, floatx, "initial state gradient")
    for a, e in zip(rnn.infer(x), layer.infer(x)):  # inference: the layer's fused kernel
        _close(a, e, floatx, "infer")
    assert rnn.cache is None


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_a_seeded_cell_draws_the_layers_weights_and_dropout_masks(name):
    cell_cls, layer_cls, _ = CELLS[name]
    x = np.random.default_rng(0).normal(size=(2, 6, 3)).astype("float32")
    rnn = layers.RNN(cell_cls(4, dropout=0.3, recurrent_dropout=0.2, seed=5))
    layer = layer_cls(4, dropout=0.3, recurrent_dropout=0.2, seed=5)
    np.testing.assert_array_equal(rnn(x, training=True), layer(x, training=True))
    for a, b in zip(rnn.get_weights(), layer.get_weights()):
        np.testing.assert_array_equal(a, b)


STACKS = [("LSTM", "GRU", "SimpleRNN"), ("GRU-reset_before", "LSTM")]


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("return_sequences, go_backwards", [(False, False), (True, True)])
def test_stacked_cells_are_the_stack_of_layers(stack, return_sequences, go_backwards, float64,
                                               rng):
    """RNN([cell_0, cell_1, ...]) gives what the layers give stacked, every lower one returning
    its whole sequence; with go_backwards the first reads the input backwards and the others
    read its output as it comes (Keras reverses the input once)."""
    B, T, D = 2, 4, 3
    units = [3, 2, 4][:len(stack)]
    rnn = layers.RNN([CELLS[n][0](h, **CELLS[n][2]) for n, h in zip(stack, units)],
                     return_sequences=return_sequences, return_state=True,
                     go_backwards=go_backwards)
    rnn.build((None, T, D))
    random_weights(rnn, rng)
    cells = rnn.cell.cells
    assert list(rnn.params) == [f"{c.name}/{k}" for c in cells for k in c.params]
    assert [w.shape for w in rnn.get_weights()] == [w.shape for c in cells for w in c.weights]
    stacked, features, weights = [], D, rnn.get_weights()
    for k, (n, h) in enumerate(zip(stack, units)):
        _, layer_cls, options = CELLS[n]
        layer = layer_cls(h, **options, return_state=True, go_backwards=go_backwards and k == 0,
                          return_sequences=return_sequences or k < len(stack) - 1)
        layer.build((None, T, features))
        layer.set_weights(weights[:len(layer.params)])
        weights, features = weights[len(layer.params):], h
        stacked.append(layer)
    x = rng.normal(size=(B, T, D))
    counts = [len(layer.state_names) for layer in stacked]
    initial = [_normal(rng, [(B, h)] * c, np.float64) for h, c in zip(units, counts)]
    dstates = [_normal(rng, [(B, h)] * c, np.float64) for h, c in zip(units, counts)]
    dy = rng.normal(size=(B, T, units[-1]) if return_sequences else (B, units[-1]))
    # Keras' nesting: a list for a cell with two states, the array for a cell with one.
    nest = [s if len(s) > 1 else s[0] for s in dstates]
    out = rnn.forward(x, initial_state=[s if len(s) > 1 else s[0] for s in initial])
    assert len(out) == 1 + len(stack)
    for item, count in zip(out[1:], counts):
        assert isinstance(item, list) == (count > 1)
    h, expected_states = x, []
    for layer, start in zip(stacked, initial):
        h, *last = layer.forward(h, initial_state=start)
        expected_states.append(last)
    for a, e in zip(_flat(out), [h] + _flat(expected_states)):
        _close(a, e, np.dtype("float64"), "forward")
    dx = rnn.backward([dy, *nest])
    d = dy
    for layer, dlast in zip(reversed(stacked), reversed(dstates)):
        d = layer.backward([d, *dlast])
    _close(dx, d, np.dtype("float64"), "dx")
    for cell, layer in zip(cells, stacked):
        for key in layer.params:
            _close(rnn.grads[f"{cell.name}/{key}"], layer.grads[key], np.dtype("float64"), key)
    for a, e in zip(rnn.initial_state_grads, _flat([l.initial_state_grads for l in stacked])):
        _close(a, e, np.dtype("float64"), "initial state gradient")
    # Flat initial states are the same states.
    _close(rnn.forward(x, initial_state=_flat(initial))[0], out[0], np.dtype("float64"), "flat")


TORCH = {"SimpleRNN": (torch.nn.RNN, converters.simple_rnn_keras_to_torch,
                       converters.simple_rnn_torch_to_keras),
         "LSTM": (torch.nn.LSTM, converters.lstm_keras_to_torch, converters.lstm_torch_to_keras),
         "GRU": (torch.nn.GRU, converters.gru_keras_to_torch, converters.gru_torch_to_keras)}


@pytest.mark.parametrize("name", sorted(TORCH))
@pytest.mark.parametrize("B, T, D, H", [(1, 1, 1, 1), (3, 5, 2, 3)])
def test_two_stacked_cells_match_torch_num_layers_2(name, B, T, D, H, float64, rng):
    module_cls, to_torch, to_keras = TORCH[name]
    cell_cls = CELLS[name][0]
    rnn = layers.RNN([cell_cls(H), cell_cls(H)], return_sequences=True, return_state=True)
    rnn.build((None, T, D))
    random_weights(rnn, rng)
    per_cell = [[c.params[k] for k in c.params] for c in rnn.cell.cells]
    module = module_cls(D, H, num_layers=2, batch_first=True).double()
    state = {}
    for layer_index, weights in enumerate(per_cell):
        state.update(to_torch(*weights, suffix=f"_l{layer_index}"))
    module.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    n = 2 if name == "LSTM" else 1
    x = rng.normal(size=(B, T, D))
    initial = [rng.normal(size=(2, B, H)) for _ in range(n)]  # torch's (layers, B, H)
    dy = rng.normal(size=(B, T, H))
    dlast = [rng.normal(size=(2, B, H)) for _ in range(n)]

    x_t = torch.tensor(x, requires_grad=True)
    initial_t = [torch.tensor(s, requires_grad=True) for s in initial]
    hs, last = module(x_t, tuple(initial_t) if n == 2 else initial_t[0])
    last = list(last) if n == 2 else [last]
    loss = (hs * torch.tensor(dy)).sum() + sum((s * torch.tensor(d)).sum()
                                              for s, d in zip(last, dlast))
    loss.backward()

    def by_cell(arrays):  # [h (2, B, H), c] -> Keras' nesting per cell
        return [[a[k] for a in arrays] if n == 2 else arrays[0][k] for k in range(2)]

    out = rnn.forward(x, initial_state=by_cell(initial))
    dx = rnn.backward([dy, *by_cell(dlast)])
    f64 = np.dtype("float64")
    _close(out[0], hs.detach().numpy(), f64, "hs")
    for a, e in zip(_flat(out[1:]), _flat(by_cell([s.detach().numpy() for s in last]))):
        _close(a, e, f64, "last states")
    _close(dx, x_t.grad.numpy(), f64, "dx")
    for a, e in zip(rnn.initial_state_grads,
                    _flat(by_cell([s.grad.numpy() for s in initial_t]))):
        _close(a, e, f64, "initial state gradients")
    params = dict(module.named_parameters())
    for layer_index, cell in enumerate(rnn.cell.cells):
        grads = [params[f"{key}_l{layer_index}"].grad.numpy()
                 for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        expected = to_keras(*grads) if name == "GRU" else to_keras(*grads, gradients=True)
        for key, e in zip(cell.params, expected):
            _close(rnn.grads[f"{cell.name}/{key}"], e, f64, f"cell {layer_index} {key}")


@pytest.mark.parametrize("stack", [("LSTM",), ("GRU", "LSTM"), ("SimpleRNN", "GRU-reset_before")])
def test_finite_differences(stack, float64, rng):
    """Every weight, the input and the initial states, through the output and every state."""
    B, T, D = 2, 3, 2
    cells = [CELLS[n][0](3, **CELLS[n][2]) for n in stack]
    rnn = layers.RNN(cells if len(cells) > 1 else cells[0], return_sequences=True,
                     return_state=True, go_backwards=True)
    rnn.build((None, T, D))
    random_weights(rnn, rng)
    x = rng.normal(size=(B, T, D))
    initial = [rng.normal(size=(B, 3)) for _ in range(rnn.state_count())]
    out = rnn.forward(x, initial_state=initial)
    dy = [rng.normal(size=a.shape) for a in _flat(out)]
    dx = rnn.backward(dy)  # the state gradients flat: the graph hands them over so
    grads = {key: value.copy() for key, value in rnn.grads.items()}
    state_grads = [g.copy() for g in rnn.initial_state_grads]

    def loss():
        out = _flat(rnn.forward(x, initial_state=initial))
        return sum(float(np.sum(a * d)) for a, d in zip(out, dy))

    for key, value in rnn.params.items():
        assert_grad_close(grads[key], numerical_grad(loss, value), name=key)
    assert_grad_close(dx, numerical_grad(loss, x), name="dx")
    for index, (state, grad) in enumerate(zip(initial, state_grads)):
        assert_grad_close(grad, numerical_grad(loss, state), name=f"initial state {index}")


def test_keras_weight_order_and_structure():
    rnn = layers.RNN([layers.LSTMCell(4), layers.GRUCell(3)])
    rnn.build((None, 6, 5))
    # Keras 3.15: each cell's kernel, recurrent_kernel, bias, cell after cell (209 parameters
    # for input 3; here input 5).
    assert [w.shape for w in rnn.get_weights()] == [(5, 16), (4, 16), (16,),
                                                    (4, 9), (3, 9), (2, 9)]
    assert rnn.count_params() == 5 * 16 + 4 * 16 + 16 + 4 * 9 + 3 * 9 + 2 * 9
    bias = rnn.get_weights()[2]  # LSTMCell's unit_forget_bias, as the layer's
    np.testing.assert_array_equal(bias[4:8], 1)
    assert rnn.compute_output_shape((None, 6, 5)) == (None, 3)
    rnn = layers.RNN([layers.LSTMCell(4), layers.GRUCell(3)], return_sequences=True,
                     return_state=True)
    assert rnn.compute_output_shape((None, 6, 5)) == [(None, 6, 3), [(None, 4), (None, 4)],
                                                      (None, 3)]
    assert layers.RNN(layers.LSTMCell(4), return_state=True).compute_output_shape(
        (None, 6, 5)) == [(None, 4), (None, 4), (None, 4)]
    assert layers.LSTMCell(4).state_size == [4, 4] and layers.GRUCell(4).state_size == 4
    assert layers.StackedRNNCells([layers.LSTMCell(4), layers.GRUCell(3)]).state_size == [[4, 4], 3]


def test_symbolic_calls_return_keras_nesting():
    """Shapes measured on Keras 3.15.1 (tests/data/keras_functional_facts.json)."""
    from bptt.layers import symbolic

    def shapes(value):
        if isinstance(value, (list, tuple)):
            return [shapes(item) for item in value]
        return list(value.shape)

    x = layers.Input((5, 3))
    assert shapes(layers.RNN([layers.LSTMCell(4), layers.GRUCell(3)], return_state=True)(x)) \
        == [[None, 3], [[None, 4], [None, 4]], [None, 3]]
    assert shapes(layers.RNN(layers.LSTMCell(4), return_state=True)(x)) == [[None, 4]] * 3
    assert shapes(layers.RNN([layers.LSTMCell(4), layers.GRUCell(3)])(x)) == [None, 3]
    # initial_state in Keras' nesting: the graph keeps it flat.
    h, c, g = layers.Input((4,)), layers.Input((4,)), layers.Input((3,))
    rnn = layers.RNN([layers.LSTMCell(4), layers.GRUCell(3)])
    y = rnn(x, initial_state=[[h, c], g])
    assert symbolic.is_symbolic(y) and y.node.states == [h, c, g]


@pytest.mark.parametrize("stacked", [False, True])
def test_config_round_trip(stacked, rng):
    cell = ([layers.GRUCell(3, reset_after=False, dropout=0.1, seed=2), layers.LSTMCell(2)]
            if stacked else layers.LSTMCell(3, recurrent_activation="hard_sigmoid",
                                            unit_forget_bias=False))
    rnn = layers.RNN(cell, return_sequences=True, go_backwards=True, unroll=True)
    config = rnn.get_config()
    assert config["cell"]["class_name"] == ("StackedRNNCells" if stacked else "LSTMCell")
    for key, value in dict(return_sequences=True, return_state=False, go_backwards=True,
                           stateful=False, unroll=True, zero_output_for_mask=False).items():
        assert config[key] == value, key
    clone = layers.deserialize(layers.serialize(rnn))
    assert isinstance(clone, layers.RNN) and clone.get_config() == config
    x = rng.normal(size=(2, 4, 5)).astype("float32")
    rnn.build((None, 4, 5))
    clone.build((None, 4, 5))
    clone.set_weights(rnn.get_weights())
    np.testing.assert_array_equal(clone(x), rnn(x))
    cell_config = layers.GRUCell(3).get_config()
    for key in ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                "recurrent_initializer", "bias_initializer", "dropout", "recurrent_dropout",
                "reset_after", "seed", "name"):
        assert key in cell_config, key
    assert "return_sequences" not in cell_config
    assert layers.GRUCell.from_config(cell_config).get_config() == cell_config


def test_custom_cells_are_refused_with_the_reason():
    class MinimalRNNCell:  # (a Layer subclass with only `call` is refused by Layer itself)
        def __init__(self, units):
            self.units = self.state_size = units

        def call(self, inputs, states):
            return inputs, states

    for cell in (MinimalRNNCell(3), [layers.LSTMCell(3), MinimalRNNCell(3)]):
        with pytest.raises(TypeError, match=r"SimpleRNNCell, LSTMCell or GRUCell.*written by "
                                            r"hand"):
            layers.RNN(cell)
    with pytest.raises(TypeError, match="RNN"):
        layers.RNN(layers.LSTM(3))  # a layer is not a cell


def test_bad_arguments_and_inputs(rng):
    with pytest.raises(ValueError, match="units"):
        layers.LSTMCell(0)
    with pytest.raises(ValueError, match="dropout"):
        layers.GRUCell(3, dropout=1.5)
    with pytest.raises(TypeError, match="retrun_sequences"):
        layers.LSTMCell(3, retrun_sequences=True)
    with pytest.raises(NotImplementedError, match="kernel_regularizer"):
        layers.SimpleRNNCell(3, kernel_regularizer="l2")
    with pytest.raises(ValueError, match="non-empty list"):
        layers.StackedRNNCells([])
    with pytest.raises(ValueError, match="names"):
        layers.RNN([layers.LSTMCell(2, name="a"), layers.GRUCell(2, name="a")])
    rnn = layers.RNN([layers.LSTMCell(2), layers.GRUCell(2)])
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    with pytest.raises(ValueError, match=r"expects 3 initial states.*\['h', 'c'\]"):
        rnn(x, initial_state=[np.zeros((2, 2), "float32")] * 2)
    with pytest.raises(ValueError, match="return_sequences=True"):
        rnn(np.zeros((2, 3), "float32"))
    with pytest.raises(TypeError, match=r"RNN\(LSTMCell"):
        from bptt import models
        models.Sequential([layers.Input((4, 3)), layers.LSTMCell(2)]).predict(x, verbose=0)


@pytest.mark.parametrize("stack", [("LSTM",), ("LSTM", "GRU")])
def test_stateful_rnn_carries_every_cells_states(stack, rng):
    cells = [CELLS[n][0](3) for n in stack]
    rnn = layers.RNN(cells if len(cells) > 1 else cells[0], return_sequences=True, stateful=True)
    with pytest.raises(ValueError, match="batch size must be static"):
        rnn.build((None, 4, 2))
    rnn.build((2, None, 2))
    random_weights(rnn, rng)
    plain = layers.RNN.from_config({**rnn.get_config(), "stateful": False})
    plain.build((None, None, 2))
    plain.set_weights(rnn.get_weights())
    x = rng.normal(size=(2, 9, 2)).astype("float32")
    pieces = [rnn(x[:, :3]), rnn.forward(x[:, 3:6], training=True), rnn.infer(x[:, 6:])]
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), plain(x), rtol=1e-5, atol=1e-6)
    assert len(rnn.states) == rnn.state_count()
    with pytest.raises(ValueError, match="Expected batch size: 2, received batch size: 3"):
        rnn(np.zeros((3, 3, 2), "float32"))
    rnn.reset_states()
    assert all(not s.any() for s in rnn.states)
    np.testing.assert_allclose(rnn(x[:, :3]), pieces[0], rtol=1e-6)
    rnn.reset_state()
    np.testing.assert_allclose(rnn(x[:, :3]), pieces[0], rtol=1e-6)


def test_a_cell_called_alone_runs_one_step(rng):
    """cell(x_t, states) -> (y_t, new_states), as Keras' cells: one step of the layer."""
    x = rng.normal(size=(2, 3)).astype("float32")
    lstm_cell, gru_cell = layers.LSTMCell(4), layers.GRUCell(4)
    h, c = _normal(rng, [(2, 4), (2, 4)], np.float32)
    y, (h1, c1) = lstm_cell(x, [h, c])
    layer = layers.LSTM(4, return_state=True)
    layer.build((None, 1, 3))
    layer.set_weights(lstm_cell.get_weights())
    expected = layer(x[:, None], initial_state=[h, c])
    for a, e in zip((y, h1, c1), expected):
        np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-6)
    y, state = gru_cell(x, h)
    assert isinstance(state, np.ndarray) and np.array_equal(state, y)
    y, states = gru_cell(x, [h])
    assert isinstance(states, list) and len(states) == 1


def test_bidirectional_rnn_is_bidirectional_layer(float64, rng):
    wrapped = layers.Bidirectional(layers.RNN(layers.GRUCell(3), return_sequences=True))
    layer = layers.Bidirectional(layers.GRU(3, return_sequences=True))
    wrapped.build((None, 4, 2))
    layer.build((None, 4, 2))
    random_weights(wrapped, rng)
    layer.set_weights(wrapped.get_weights())
    x, dy = rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 4, 6))
    _close(wrapped.forward(x), layer.forward(x), np.dtype("float64"), "y")
    _close(wrapped.backward(dy), layer.backward(dy), np.dtype("float64"), "dx")
    for key in layer.grads:
        _close(wrapped.grads[key], layer.grads[key], np.dtype("float64"), key)


def test_trains_in_a_sequential_model(rng):
    from bptt import models

    model = models.Sequential([layers.Input((5, 3)),
                               layers.RNN([layers.LSTMCell(4), layers.GRUCell(3)]),
                               layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = rng.normal(size=(16, 5, 3)), rng.normal(size=(16, 1))
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, batch_size=4, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before
