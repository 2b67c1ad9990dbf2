"""model.save / models.load_model round trips for every layer class in `bptt.layers`, each set
away from its defaults: the loaded model has every layer's config, predicts exactly what the
saved one predicts, and one more training step (same optimizer state, same random draws) leaves
both with the same weights, bit for bit.

The classes are read from the namespace: a layer added there without a case below fails
test_every_layer_class_has_a_case, naming it."""
import json

import numpy as np
import pytest

from bptt import backend, initializers, layers, models, optimizers
from bptt.layers import Input
from bptt.utils import set_random_seed

B, T, D = 4, 5, 3


def sequential(*stack, shape=(T, D)):
    return models.Sequential([Input(shape=shape), *stack])


def floats(rng, shape=(B, T, D)):
    return rng.normal(size=shape)


def ids(rng, vocab=10, steps=T):
    """Token ids with 0-padding at the start of some rows (for mask_zero)."""
    x = rng.integers(1, vocab, size=(B, steps))
    x[0, :2] = 0
    x[1, :1] = 0
    return x


def masked_steps(rng, value=0.0):
    """Float sequences whose first steps are all `value` in some rows (for Masking)."""
    x = floats(rng)
    x[0, :2] = value
    x[2, :1] = value
    return x


def two_branches(merge):
    """Two Dense branches of one input, merged by `merge`, then a Dense."""
    def build():
        inputs = Input((T, D))
        a = layers.Dense(4, activation="tanh")(inputs)
        b = layers.Dense(4)(inputs)
        return models.Model(inputs, layers.Dense(2)(layers.Flatten()(merge()([a, b]))))
    return build


def bidirectional_merge_none():
    inputs = Input((T, D))
    forward, backward = layers.Bidirectional(layers.LSTM(3, return_sequences=True),
                                             merge_mode=None)(inputs)
    return models.Model(inputs, [forward, layers.Dense(2)(backward)])


def lstm_returning_states():
    inputs = Input((T, D))
    out, h, c = layers.LSTM(3, return_state=True, go_backwards=True,
                            recurrent_activation="hard_sigmoid")(inputs)
    return models.Model(inputs, [out, layers.Dense(2)(layers.Concatenate()([h, c]))])


def gru_from_initial_state():
    inputs, state = Input((T, D)), Input((3,))
    out = layers.GRU(3, return_sequences=True, reset_after=False)(inputs, initial_state=state)
    return models.Model([inputs, state], out)


def bidirectional_returning_states():
    inputs = Input((T, D))
    out, *states = layers.Bidirectional(layers.LSTM(3, return_state=True), merge_mode="sum")(inputs)
    return models.Model(inputs, [out, layers.Dense(2)(layers.Concatenate()(states))])


def rnn_returning_states_under_a_mask():
    inputs = Input((T, D))
    out, h = layers.RNN(layers.GRUCell(3), return_state=True, return_sequences=True,
                        zero_output_for_mask=True)(layers.Masking()(inputs))
    return models.Model(inputs, [out, h])


def text_without_standardizing_or_splitting():
    vectorize = layers.TextVectorization(standardize=None, split=None, output_sequence_length=1)
    vectorize.adapt(["a", "b", "c d"])
    inputs = Input(shape=(1,), dtype="string")
    embedded = layers.Embedding(6, 2)(vectorize(inputs))
    return models.Model(inputs, layers.Dense(1)(layers.Flatten()(embedded)))


def text_model():
    vectorize = layers.TextVectorization(max_tokens=8, output_sequence_length=4,
                                         standardize="lower", split="whitespace")
    vectorize.adapt(["the cat sat", "the dog ran far", "a cat ran"])
    inputs = Input(shape=(1,), dtype="string")
    hidden = layers.SimpleRNN(3)(layers.Embedding(8, 3, mask_zero=True)(vectorize(inputs)))
    return models.Model(inputs, layers.Dense(1)(hidden))


TEXTS = np.array([["The cat sat"], ["dog ran"], ["a zebra"], ["cat cat cat far"]])

# name: (the classes it covers, a function making the model, a function making its input)
CASES = {
    "Dense": ({layers.Dense}, lambda: sequential(
        layers.Dense(4, activation="tanh", use_bias=False, kernel_initializer="he_normal"),
        layers.Dense(2, activation="softmax", bias_initializer="ones")), floats),
    "Dense_frozen": ({layers.Dense}, lambda: sequential(
        layers.Dense(4, trainable=False), layers.Dense(1)), floats),
    "initializer_objects_and_names": ({layers.Dense, layers.Bidirectional}, lambda: sequential(
        layers.Bidirectional(layers.LSTM(
            3, recurrent_initializer=initializers.Orthogonal(gain=0.5, seed=2),
            kernel_initializer=initializers.RandomNormal(stddev=0.3, seed=4), name="encoder")),
        layers.Dense(2, kernel_initializer=initializers.Constant(0.25), name="head")), floats),
    "Activation": ({layers.Activation}, lambda: sequential(
        layers.Dense(4), layers.Activation("sigmoid")), floats),
    "Dropout": ({layers.Dropout}, lambda: sequential(
        layers.Dense(4), layers.Dropout(0.4, noise_shape=(None, 1, 4)), layers.Dense(2)), floats),
    "Flatten": ({layers.Flatten}, lambda: sequential(layers.Flatten(), layers.Dense(2)), floats),
    "InputLayer": ({layers.InputLayer}, lambda: models.Sequential(
        [layers.InputLayer(shape=(T, D), name="sequence_in"), layers.Dense(2)]), floats),
    "Embedding_mask_zero": ({layers.Embedding}, lambda: sequential(
        layers.Embedding(10, 4, mask_zero=True, embeddings_initializer="normal"),
        layers.LSTM(3, return_sequences=True, zero_output_for_mask=True), layers.Dense(1),
        shape=(T,)), ids),
    "SimpleRNN": ({layers.SimpleRNN}, lambda: sequential(
        layers.SimpleRNN(3, activation="relu", go_backwards=True, return_sequences=True,
                         dropout=0.2, recurrent_dropout=0.3, kernel_initializer="he_uniform",
                         recurrent_initializer="glorot_normal", bias_initializer="ones"),
        layers.Dense(2)), floats),
    "LSTM": ({layers.LSTM}, lambda: sequential(
        layers.LSTM(3, go_backwards=True, recurrent_activation="hard_sigmoid", use_bias=False,
                    dropout=0.2, recurrent_dropout=0.1, kernel_initializer="lecun_normal",
                    recurrent_initializer="identity", return_sequences=True),
        layers.LSTM(2, unit_forget_bias=False, bias_initializer="ones", activation="relu"),
        layers.Dense(1)), floats),
    "LSTM_return_state": ({layers.LSTM, layers.Concatenate}, lstm_returning_states, floats),
    "GRU": ({layers.GRU}, lambda: sequential(
        layers.GRU(3, reset_after=False, activation="relu", recurrent_activation="hard_sigmoid",
                   go_backwards=True, dropout=0.3, recurrent_dropout=0.2,
                   kernel_initializer="orthogonal", bias_initializer="ones"),
        layers.Dense(1)), floats),
    # The states a stateful layer keeps are not in the file (nor in Keras' file): the test
    # resets them on both sides before comparing.
    "LSTM_stateful": ({layers.LSTM}, lambda: models.Sequential([
        Input(shape=(T, D), batch_size=B), layers.LSTM(3, stateful=True), layers.Dense(1)]),
        floats),
    "GRU_no_bias_initial_state": ({layers.GRU}, gru_from_initial_state,
                                  lambda rng: [floats(rng), floats(rng, (B, 3))]),
    "Bidirectional_concat": ({layers.Bidirectional}, lambda: sequential(
        layers.Bidirectional(layers.LSTM(3, return_sequences=True, go_backwards=True)),
        layers.Dense(1)), floats),
    "Bidirectional_sum": ({layers.Bidirectional}, lambda: sequential(
        layers.Bidirectional(layers.GRU(3, reset_after=False), merge_mode="sum"),
        layers.Dense(1)), floats),
    "Bidirectional_mul": ({layers.Bidirectional}, lambda: sequential(
        layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True, dropout=0.2),
                             merge_mode="mul"),
        layers.Dense(1)), floats),
    "Bidirectional_ave_backward_layer": ({layers.Bidirectional}, lambda: sequential(
        layers.Bidirectional(layers.LSTM(3),
                             backward_layer=layers.LSTM(3, go_backwards=True, activation="relu"),
                             merge_mode="ave"),
        layers.Dense(1)), floats),
    "Bidirectional_none": ({layers.Bidirectional}, bidirectional_merge_none, floats),
    "Bidirectional_masked": ({layers.Bidirectional, layers.Embedding}, lambda: sequential(
        layers.Embedding(10, 3, mask_zero=True),
        layers.Bidirectional(layers.GRU(2, return_sequences=True)), layers.Dense(1),
        shape=(T,)), ids),
    "Bidirectional_return_state": ({layers.Bidirectional}, bidirectional_returning_states, floats),
    "Bidirectional_stateful": ({layers.Bidirectional}, lambda: models.Sequential([
        Input((T, D), batch_size=B),
        layers.Bidirectional(layers.GRU(2, stateful=True, return_sequences=True)),
        layers.Dense(1)]), floats),
    "Bidirectional_RNN": ({layers.Bidirectional, layers.RNN}, lambda: sequential(
        layers.Bidirectional(layers.RNN(layers.LSTMCell(2), return_sequences=True)),
        layers.Dense(1)), floats),
    "TimeDistributed": ({layers.TimeDistributed}, lambda: sequential(
        layers.TimeDistributed(layers.Dense(2, activation="relu", use_bias=False)),
        layers.TimeDistributed(layers.Dense(1))), floats),
    "RNN_cells": ({layers.RNN, layers.LSTMCell}, lambda: sequential(
        layers.RNN(layers.LSTMCell(3, unit_forget_bias=False, recurrent_activation="hard_sigmoid"),
                   return_sequences=True, go_backwards=True, unroll=True),
        layers.Dense(1)), floats),
    "RNN_stacked": ({layers.RNN, layers.StackedRNNCells, layers.SimpleRNNCell, layers.GRUCell},
                    lambda: sequential(
        layers.RNN(layers.StackedRNNCells([layers.SimpleRNNCell(3, activation="relu"),
                                           layers.GRUCell(2, reset_after=False)])),
        layers.Dense(1)), floats),
    "RNN_list_of_cells": ({layers.RNN, layers.GRUCell, layers.LSTMCell}, lambda: sequential(
        layers.RNN([layers.GRUCell(3, use_bias=False), layers.LSTMCell(2, dropout=0.2)],
                   return_sequences=True),
        layers.Dense(1)), floats),
    "RNN_return_state_masked": ({layers.RNN, layers.Masking}, rnn_returning_states_under_a_mask,
                                lambda rng: masked_steps(rng, 0.0)),
    "Add": ({layers.Add}, two_branches(layers.Add), floats),
    "Subtract": ({layers.Subtract}, two_branches(layers.Subtract), floats),
    "Multiply": ({layers.Multiply}, two_branches(layers.Multiply), floats),
    "Average": ({layers.Average}, two_branches(layers.Average), floats),
    "Maximum": ({layers.Maximum}, two_branches(layers.Maximum), floats),
    "Minimum": ({layers.Minimum}, two_branches(layers.Minimum), floats),
    "Concatenate": ({layers.Concatenate}, two_branches(lambda: layers.Concatenate(axis=1)),
                    floats),
    "Dot": ({layers.Dot}, two_branches(lambda: layers.Dot(axes=2, normalize=True)), floats),
    "Dot_axes_pair": ({layers.Dot}, two_branches(lambda: layers.Dot(axes=(1, 1))), floats),
    "Cropping1D": ({layers.Cropping1D}, lambda: sequential(
        layers.Cropping1D((2, 1)), layers.LSTM(2), layers.Dense(1)), floats),
    "Permute": ({layers.Permute}, lambda: sequential(
        layers.Permute((2, 1)), layers.Dense(2)), floats),
    "RepeatVector": ({layers.RepeatVector}, lambda: sequential(
        layers.RepeatVector(4), layers.SimpleRNN(2), shape=(D,)),
        lambda rng: floats(rng, (B, D))),
    "Reshape": ({layers.Reshape}, lambda: sequential(
        layers.Reshape((D, T)), layers.Dense(2)), floats),
    "Reshape_inferred": ({layers.Reshape}, lambda: sequential(
        layers.Reshape((-1, 1)), layers.SimpleRNN(2)), floats),
    "UpSampling1D": ({layers.UpSampling1D}, lambda: sequential(
        layers.UpSampling1D(3), layers.GRU(2), layers.Dense(1)), floats),
    "ZeroPadding1D": ({layers.ZeroPadding1D}, lambda: sequential(
        layers.ZeroPadding1D((2, 1)), layers.SimpleRNN(2)), floats),
    "ZeroPadding1D_channels_first": ({layers.ZeroPadding1D}, lambda: sequential(
        layers.ZeroPadding1D(1, data_format="channels_first"), layers.Dense(1)), floats),
    "Conv1D_causal": ({layers.Conv1D}, lambda: sequential(
        layers.Conv1D(4, 2, padding="causal", dilation_rate=2, activation="relu",
                      use_bias=False, kernel_initializer="he_normal"),
        layers.Dense(1)), floats),
    "Conv1D_same_strided": ({layers.Conv1D}, lambda: sequential(
        layers.Conv1D(2, 3, strides=2, padding="same", bias_initializer="ones"),
        layers.Flatten(), layers.Dense(1)), floats),
    "MaxPooling1D": ({layers.MaxPooling1D}, lambda: sequential(
        layers.Dense(4), layers.MaxPooling1D(pool_size=3, strides=1, padding="same"),
        layers.Dense(1)), floats),
    "AveragePooling1D": ({layers.AveragePooling1D}, lambda: sequential(
        layers.Dense(4), layers.AveragePooling1D(2, strides=1), layers.Dense(1)), floats),
    "GlobalMaxPooling1D": ({layers.GlobalMaxPooling1D}, lambda: sequential(
        layers.Dense(4), layers.GlobalMaxPooling1D(keepdims=True), layers.Dense(1)), floats),
    "GlobalAveragePooling1D": ({layers.GlobalAveragePooling1D}, lambda: sequential(
        layers.Dense(4), layers.GlobalAveragePooling1D(), layers.Dense(1)), floats),
    "BatchNormalization": ({layers.BatchNormalization}, lambda: sequential(
        layers.Dense(4), layers.BatchNormalization(momentum=0.5, epsilon=0.01, center=False,
                                                   gamma_initializer="ones"),
        layers.Dense(1)), floats),
    "BatchNormalization_axis_1": ({layers.BatchNormalization}, lambda: sequential(
        layers.BatchNormalization(axis=1, scale=False), layers.Dense(1)), floats),
    "LayerNormalization_two_axes": ({layers.LayerNormalization}, lambda: sequential(
        layers.LayerNormalization(axis=[1, 2]), layers.Dense(1)), floats),
    "LayerNormalization": ({layers.LayerNormalization}, lambda: sequential(
        layers.Dense(4), layers.LayerNormalization(epsilon=0.01, scale=False,
                                                   beta_initializer="ones"),
        layers.Dense(1)), floats),
    "TimeDistributed_Dropout": ({layers.TimeDistributed, layers.Dropout}, lambda: sequential(
        layers.TimeDistributed(layers.Dropout(0.3)),
        layers.TimeDistributed(layers.Dense(1, activation="tanh"))), floats),
    "SpatialDropout1D": ({layers.SpatialDropout1D}, lambda: sequential(
        layers.Dense(4), layers.SpatialDropout1D(0.4), layers.Dense(1)), floats),
    "Masking": ({layers.Masking}, lambda: sequential(
        layers.Masking(mask_value=0.5), layers.LSTM(2), layers.Dense(1)),
        lambda rng: masked_steps(rng, 0.5)),
    "TextVectorization": ({layers.TextVectorization, layers.Embedding}, text_model,
                          lambda rng: TEXTS),
    "TextVectorization_whole_strings": (
        {layers.TextVectorization}, text_without_standardizing_or_splitting,
        lambda rng: np.array([["a"], ["c d"], ["zz"], ["b"]])),
}


def namespace_layer_classes():
    """Every Layer class `bptt.layers` exports (Keras' second names are the same classes)."""
    return {value for value in vars(layers).values()
            if isinstance(value, type) and issubclass(value, layers.Layer)
            and value is not layers.Layer}


def test_every_layer_class_has_a_case():
    covered = set().union(*(classes for classes, _, _ in CASES.values()))
    missing = sorted(cls.__name__ for cls in namespace_layer_classes() - covered)
    assert not missing, f"bptt.layers exports {missing} with no save/load case in {__file__}"


def as_json(config):
    """A config as the file holds it (tuples become lists)."""
    return json.loads(json.dumps(config))


def layer_configs(model):
    return {layer.name: as_json(layers.serialize(layer)) for layer in model.layers}


def targets(model, x, rng):
    """Random targets shaped like the model's outputs."""
    y = model.predict(x, verbose=0)
    if isinstance(y, list):
        return [rng.normal(size=output.shape) for output in y]
    return rng.normal(size=y.shape)


def reset_states(model):
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_states()


def train_step(model, x, y, seed):
    reset_states(model)
    set_random_seed(seed)  # the same dropout draws on both sides
    model.train_on_batch(x, y)


def assert_same_predictions(a, b, x):
    reset_states(a)
    reset_states(b)
    ya, yb = a.predict(x, verbose=0), b.predict(x, verbose=0)
    listed = lambda y: y if isinstance(y, list) else [y]  # noqa: E731
    for left, right in zip(listed(ya), listed(yb), strict=True):
        np.testing.assert_array_equal(left, right)


def assert_same_weights(a, b, when):
    assert len(a.get_weights()) == len(b.get_weights())
    for name, left, right in zip(a.weight_names(), a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(left, right, err_msg=f"{name} {when}")


def assert_same_optimizer_state(a, b):
    ours, theirs = a.optimizer.get_state(a.weights), b.optimizer.get_state(b.weights)
    assert sorted(ours) == sorted(theirs)
    for key in ours:
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)


@pytest.mark.parametrize("case", list(CASES))
def test_round_trip(case, tmp_path, rng):
    _, make_model, make_input = CASES[case]
    set_random_seed(7)
    model = make_model()
    x = make_input(rng)
    y = targets(model, x, rng)
    model.compile(optimizer=optimizers.Adam(learning_rate=0.05), loss="mse")
    train_step(model, x, y, seed=1)  # so that the optimizer has slots to save
    path = tmp_path / f"{case}.bptt"
    model.save(path)

    loaded = models.load_model(path)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert layer_configs(loaded) == layer_configs(model)
    assert as_json(loaded.get_config()) == as_json(model.get_config())
    assert_same_weights(loaded, model, "after loading")
    assert_same_optimizer_state(loaded, model)
    assert_same_predictions(loaded, model, x)

    train_step(model, x, y, seed=2)
    train_step(loaded, x, y, seed=2)
    assert_same_weights(loaded, model, "after one more training step")
    assert_same_optimizer_state(loaded, model)
    assert_same_predictions(loaded, model, x)


def test_a_float64_model_loads_as_float64_under_float32(tmp_path, rng, float64):
    """The layers' dtype is in the file: loading where floatx is float32 keeps float64."""
    model = sequential(layers.Bidirectional(layers.GRU(3, return_sequences=True)),
                       layers.Conv1D(2, 2), layers.Dense(1))
    model.compile(optimizer="adam", loss="mse")
    x = floats(rng)
    train_step(model, x, targets(model, x, rng), seed=1)
    model.save(tmp_path / "m.bptt")
    backend.set_floatx("float32")  # as in a new process (the fixture restores the setting)
    loaded = models.load_model(tmp_path / "m.bptt")
    assert {w.dtype for w in loaded.get_weights()} == {np.dtype(np.float64)}
    assert loaded.predict(x, verbose=0).dtype == np.float64
    assert_same_predictions(loaded, model, x)


SEEDED = {
    "Dropout": lambda: sequential(layers.Dense(4), layers.Dropout(0.4, seed=3), layers.Dense(1)),
    "SpatialDropout1D": lambda: sequential(layers.Dense(4), layers.SpatialDropout1D(0.4, seed=3),
                                           layers.Dense(1)),
    "LSTM": lambda: sequential(layers.LSTM(2, dropout=0.3, recurrent_dropout=0.2, seed=5),
                               layers.Dense(1)),
    "Bidirectional_GRU": lambda: sequential(
        layers.Bidirectional(layers.GRU(2, dropout=0.3, seed=5, return_sequences=True)),
        layers.Dense(1)),
}


@pytest.mark.parametrize("case", list(SEEDED))
def test_a_seeded_layer_draws_the_same_masks_after_loading(case, tmp_path, rng):
    """A layer's own seed is in the file: saved before any draw, the loaded copy trains as the
    saved one does, whatever the global seed. (Where the draws had got to is not saved, as in
    Keras: a copy saved after training starts again from the seed.)"""
    set_random_seed(7)
    model = SEEDED[case]()
    model.compile(optimizer=optimizers.Adam(learning_rate=0.05), loss="mse")
    x = floats(rng)
    y = targets(model, x, rng)
    model.save(tmp_path / "m.bptt")
    loaded = models.load_model(tmp_path / "m.bptt")
    train_step(model, x, y, seed=1)
    train_step(loaded, x, y, seed=2)  # another global seed: the layer's own one decides
    assert_same_weights(loaded, model, "after one training step")
