"""The functional Model: the graph runs forward in order and backward in reverse, summing the
gradients of a tensor used twice and of a layer called twice; checked against the same model
built as Sequential, by finite differences in float64, and against what Keras 3.15 printed and
named (tests/data/keras_functional_facts.json, written by tests/data/make_keras_golden_functional.py).
"""
import json
from pathlib import Path

import numpy as np
import pytest

from bptt import layers, models, optimizers
from bptt.layers import base
from tests.helpers.gradcheck import assert_grad_close, numerical_grad

FACTS = json.loads((Path(__file__).parents[1] / "data" / "keras_functional_facts.json").read_text())


@pytest.fixture
def fresh_names(monkeypatch):
    """Layer names restart at 'lstm', 'dense', ... as they did in the Keras run."""
    monkeypatch.setattr(base, "_NAME_COUNTERS", {})


def _encoder_decoder():
    encoder_inputs = layers.Input((None, 6))
    _, h, c = layers.LSTM(8, return_state=True)(encoder_inputs)
    decoder_inputs = layers.Input((None, 7))
    seq, _, _ = layers.LSTM(8, return_sequences=True, return_state=True)(
        decoder_inputs, initial_state=[h, c])
    outputs = layers.Dense(7, activation="softmax")(seq)
    return models.Model([encoder_inputs, decoder_inputs], outputs)


def _shared_multi_input():
    first, second = layers.Input((5,), dtype="int32"), layers.Input((4,), dtype="int32")
    embed, gru = layers.Embedding(20, 6), layers.GRU(5)
    merged = layers.Concatenate()([gru(embed(first)), gru(embed(second))])
    main = layers.Dense(1, activation="sigmoid", name="main")(merged)
    aux = layers.Dense(3, activation="softmax", name="aux")(merged)
    return models.Model([first, second], [main, aux])


@pytest.mark.parametrize("case, build", [("encoder_decoder", _encoder_decoder),
                                         ("shared_multi_input", _shared_multi_input)])
def test_summary_layers_and_names_as_keras(case, build, fresh_names, capsys):
    model = build()
    facts = FACTS["cases"][case]
    assert [layer.name for layer in model.layers] == facts["layers"]
    assert model.output_names == facts["output_names"]
    model.summary()
    assert capsys.readouterr().out == facts["summary"]


def test_sequential_like_graph_prints_without_connected_to(fresh_names, capsys):
    inputs = layers.Input((7, 5))
    x = layers.RepeatVector(3)(layers.LSTM(8)(inputs))
    x = layers.LSTM(8, return_sequences=True)(x)
    model = models.Model(inputs, layers.TimeDistributed(layers.Dense(5, activation="softmax"))(x))
    model.summary()
    assert capsys.readouterr().out == FACTS["cases"]["repeatvector_seq2seq"]["summary"]


def test_multi_output_log_keys_and_weighted_total(rng, fresh_names):
    model = _shared_multi_input()
    model.compile(optimizer="adam", loss={"main": "binary_crossentropy",
                                          "aux": "sparse_categorical_crossentropy"},
                  loss_weights={"main": 1.0, "aux": 0.3},
                  metrics={"main": ["accuracy"], "aux": ["accuracy"]})
    x = [rng.integers(0, 20, (6, 5)), rng.integers(0, 20, (6, 4))]
    y = {"main": rng.integers(0, 2, (6, 1)).astype("float32"), "aux": rng.integers(0, 3, (6,))}
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(logs) == FACTS["cases"]["shared_multi_input"]["evaluate_keys"]
    assert logs["loss"] == pytest.approx(logs["main_loss"] + 0.3 * logs["aux_loss"], rel=1e-6)
    history = model.fit(x, y, epochs=1, batch_size=3, verbose=0, validation_split=0.5)
    assert sorted(history.history) == FACTS["cases"]["shared_multi_input"]["history_keys"]
    main, aux = model.predict(x, verbose=0)
    assert main.shape == (6, 1) and aux.shape == (6, 3)


def _sequential_twin(rng):
    stack = [layers.Embedding(30, 4), layers.LSTM(5, return_sequences=True), layers.GRU(3),
             layers.Dense(1, activation="sigmoid")]
    sequential = models.Sequential([layers.Input((6,))] + stack)
    inputs = layers.Input((6,))
    x = inputs
    for layer in [layers.Embedding(30, 4), layers.LSTM(5, return_sequences=True), layers.GRU(3),
                  layers.Dense(1, activation="sigmoid")]:
        x = layer(x)
    functional = models.Model(inputs, x)
    functional.set_weights(sequential.get_weights())
    return sequential, functional


def test_functional_trains_like_the_same_sequential(rng):
    sequential, functional = _sequential_twin(rng)
    x = rng.integers(0, 30, (8, 6))
    y = rng.integers(0, 2, (8, 1)).astype("float32")
    for model in (sequential, functional):
        model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy",
                      metrics=["accuracy"])
    np.testing.assert_allclose(functional.predict(x, verbose=0), sequential.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-7)
    for _ in range(3):
        assert functional.train_on_batch(x, y) == pytest.approx(sequential.train_on_batch(x, y),
                                                                rel=1e-5)
    for a, b in zip(functional.get_weights(), sequential.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _graph_with_everything():
    """A shared Dense on two inputs, a tensor feeding three layers, states passed from one LSTM
    to another, a merge of branches and two outputs."""
    first, second = layers.Input((4, 3)), layers.Input((4, 3))
    shared = layers.Dense(5, activation="tanh")
    a, b = shared(first), shared(second)
    _, h, c = layers.LSTM(4, return_state=True)(a)
    seq = layers.LSTM(4, return_sequences=True)(b, initial_state=[h, c])
    gru_out = layers.GRU(4)(layers.Add()([a, b]))
    joined = layers.Concatenate()([seq, a])
    out1 = layers.TimeDistributed(layers.Dense(2))(joined)
    out2 = layers.Multiply()([gru_out, h])
    return models.Model([first, second], [out1, out2])


def test_graph_gradients_by_finite_differences(rng, float64):
    model = _graph_with_everything()
    for weight in model.weights:
        weight[...] = rng.normal(0, 0.5, weight.shape)
    xs = [rng.normal(size=(3, 4, 3)), rng.normal(size=(3, 4, 3))]
    dys = [rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4))]

    def loss():
        outputs = model._forward_all(xs, training=False)
        return sum(float(np.sum(o * d)) for o, d in zip(outputs, dys))

    model._forward_all(xs, training=False)
    dxs = model._backward_all(dys, [False, False])
    analytic = [grad.copy() for grad, _ in model._trainable_pairs()]
    for grad, (_, value) in zip(analytic, model._trainable_pairs()):
        assert_grad_close(grad, numerical_grad(loss, value))
    for dx, x in zip(dxs, xs):
        assert_grad_close(dx, numerical_grad(loss, x), name="dx")


def test_a_layer_no_gradient_reaches_gets_zero_gradients(rng):
    inputs = layers.Input((3,))
    used, unused = layers.Dense(2), layers.Dense(2)
    out = used(inputs)
    side = unused(inputs)
    model = models.Model(inputs, [out, side])
    model.compile(optimizer="sgd", loss=["mse", None])
    before = unused.get_weights()
    model.fit(rng.normal(size=(4, 3)), [rng.normal(size=(4, 2)), rng.normal(size=(4, 2))],
              verbose=0, epochs=2)
    for a, b in zip(unused.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_nested_models_train_like_the_flat_model(rng):
    block = models.Sequential([layers.Dense(4, activation="tanh")], name="block")
    inner_in = layers.Input((4,))
    inner = models.Model(inner_in, layers.Dense(3)(inner_in), name="inner")
    inputs = layers.Input((5,))
    outputs = layers.Dense(1)(inner(block(inputs)))
    nested = models.Model(inputs, outputs)
    flat_in = layers.Input((5,))
    flat = models.Model(flat_in, layers.Dense(1)(layers.Dense(3)(
        layers.Dense(4, activation="tanh")(flat_in))))
    flat.set_weights(nested.get_weights())
    assert [type(layer).__name__ for layer in nested.layers] == \
        ["InputLayer", "Sequential", "Functional", "Dense"]
    x, y = rng.normal(size=(6, 5)), rng.normal(size=(6, 1))
    for model in (nested, flat):
        model.compile(optimizer=optimizers.SGD(0.1, momentum=0.5), loss="mse")
        for _ in range(3):
            model.train_on_batch(x, y)
    for a, b in zip(nested.get_weights(), flat.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_shared_submodel_sums_its_gradients(rng, float64):
    tower_in = layers.Input((3,))
    tower = models.Model(tower_in, layers.Dense(2, activation="tanh")(tower_in))
    left, right = layers.Input((3,)), layers.Input((3,))
    model = models.Model([left, right], layers.Subtract()([tower(left), tower(right)]))
    for weight in model.weights:
        weight[...] = rng.normal(0, 0.5, weight.shape)
    xs, dy = [rng.normal(size=(4, 3)), rng.normal(size=(4, 3))], rng.normal(size=(4, 2))

    def loss():
        return float(np.sum(model._forward_all(xs, training=False)[0] * dy))

    model._forward_all(xs, training=False)
    model._backward_all([dy], [False])
    for grad, value in model._trainable_pairs():
        assert_grad_close(grad.copy(), numerical_grad(loss, value))


def test_config_and_save_round_trip(tmp_path, rng):
    model = _encoder_decoder()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    xs = [rng.normal(size=(4, 5, 6)).astype("float32"), rng.normal(size=(4, 3, 7)).astype("float32")]
    y = np.eye(7, dtype="float32")[rng.integers(0, 7, (4, 3))]
    model.train_on_batch(xs, y)
    rebuilt = models.Model.from_config(model.get_config())
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    path = tmp_path / "translator.keras"
    model.save(path)
    loaded = models.load_model(path)
    assert type(loaded).__name__ == "Functional"
    np.testing.assert_allclose(loaded.predict(xs, verbose=0), model.predict(xs, verbose=0),
                               rtol=1e-6)
    assert loaded.train_on_batch(xs, y) == pytest.approx(model.train_on_batch(xs, y), rel=1e-5)


def test_dict_inputs_and_outputs(rng):
    tokens, extra = layers.Input((5,), name="tokens"), layers.Input((2,), name="extra")
    x = layers.Concatenate()([layers.LSTM(3)(layers.Embedding(10, 4)(tokens)), extra])
    model = models.Model({"tokens": tokens, "extra": extra},
                         {"score": layers.Dense(1, name="score")(x)})
    model.compile(optimizer="sgd", loss={"score": "mse"})
    x_in = {"extra": rng.normal(size=(4, 2)), "tokens": rng.integers(0, 10, (4, 5))}
    out = model.predict(x_in, verbose=0)
    assert set(out) == {"score"} and out["score"].shape == (4, 1)
    model.fit(x_in, {"score": rng.normal(size=(4, 1))}, verbose=0)


def test_errors_say_what_was_expected(rng):
    a, b = layers.Input((3,)), layers.Input((3,))
    dense = layers.Dense(2)
    out = dense(a)
    with pytest.raises(ValueError, match="Graph disconnected"):
        models.Model(a, layers.Add()([out, dense(b)]))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        dense(layers.Input((4,)))
    with pytest.raises(TypeError, match="mix of symbolic tensors"):
        layers.Add()([out, np.zeros((1, 2))])
    with pytest.raises(TypeError, match="Subclassed models"):
        class Mine(models.Model):
            def __init__(self):
                super().__init__()
        Mine()
    with pytest.raises(ValueError, match=r"expects 2 initial state"):
        layers.LSTM(2)(layers.Input((4, 3)), initial_state=[out])
    model = models.Model([a, b], layers.Add()([dense(a), dense(b)]))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="2 inputs"):
        model.fit([np.zeros((2, 3))] * 3, np.zeros((2, 2)), verbose=0)
    with pytest.raises(TypeError, match="Add"):
        out + out


def test_layer_output_builds_a_feature_model(rng):
    inputs = layers.Input((6, 3))
    seq = layers.LSTM(4, return_sequences=True, name="encoder")(inputs)
    model = models.Model(inputs, layers.Dense(1)(layers.GlobalAveragePooling1D()(seq)))
    features = models.Model(model.input, model.get_layer("encoder").output)
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    assert features.predict(x, verbose=0).shape == (2, 6, 4)
    assert model.get_layer("encoder").input is inputs
    with pytest.raises(AttributeError, match="never been called"):
        layers.Dense(2).output


def test_to_json_and_model_from_json_rebuild_the_architecture(rng):
    model = _shared_multi_input()
    rebuilt = models.model_from_json(model.to_json())
    assert type(rebuilt).__name__ == "Functional"
    assert [w.shape for w in rebuilt.get_weights()] == [w.shape for w in model.get_weights()]
    rebuilt.set_weights(model.get_weights())
    x = [rng.integers(0, 20, (3, 5)), rng.integers(0, 20, (3, 4))]
    for a, b in zip(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_regularizer_arguments_get_one_clear_refusal():
    layers.Dense(2, kernel_regularizer=None)  # Keras' default is fine
    with pytest.raises(NotImplementedError, match="no weight regularizers.*weight_decay"):
        layers.Dense(2, kernel_regularizer="l2")


def test_evaluate_lists_values_in_keras_order(rng):
    """Keras 3.15 (run on this model): loss, main_loss, zaux_loss, then main_accuracy,
    main_mae, zaux_mae sorted; one output: loss then its metrics in compile order."""
    inputs = layers.Input((3,))
    hidden = layers.Dense(4)(inputs)
    model = models.Model(inputs, [layers.Dense(1, activation="sigmoid", name="main")(hidden),
                                  layers.Dense(2, name="zaux")(hidden)])
    model.compile("sgd", loss={"main": "binary_crossentropy", "zaux": "mse"},
                  metrics={"main": ["accuracy", "mae"], "zaux": ["mae"]})
    x, y = rng.random((4, 3)), {"main": np.ones((4, 1)), "zaux": np.zeros((4, 2))}
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    order = ["loss", "main_loss", "zaux_loss", "main_accuracy", "main_mae", "zaux_mae"]
    assert model.evaluate(x, y, verbose=0) == [logs[name] for name in order]
    single = models.Model(inputs, layers.Dense(1, activation="sigmoid")(hidden))
    single.compile("sgd", "binary_crossentropy", metrics=["mae", "accuracy"])
    logs = single.evaluate(x, np.ones((4, 1)), verbose=0, return_dict=True)
    assert single.evaluate(x, np.ones((4, 1)), verbose=0) == \
        [logs["loss"], logs["mae"], logs["accuracy"]]
