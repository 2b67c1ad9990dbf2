"""Bad arguments to compile, fit, evaluate, predict, train_on_batch and set_weights get a
ValueError that names the argument, before anything changes: the weights, the optimizer (its
iterations and moments) and the compiled loss stay as they were."""
import numpy as np
import pytest

from bptt import callbacks, layers, models, optimizers


@pytest.fixture
def trained(rng):
    """A compiled model after one epoch, and its data."""
    net = models.Sequential([layers.Input((5,), dtype="int32"), layers.Embedding(20, 4),
                             layers.LSTM(3), layers.Dense(1, activation="sigmoid")])
    net.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x = rng.integers(0, 20, (16, 5))
    y = rng.integers(0, 2, (16, 1)).astype("float32")
    net.fit(x, y, batch_size=8, verbose=0)
    return net, x, y


def state(net):
    slots = [array.copy() for _, named in net.optimizer._slots.values()
             for array in named.values()]
    return (net.get_weights(), net.optimizer, net.optimizer.iterations, slots, net.loss)


def assert_unchanged(net, before):
    weights, optimizer, iterations, slots, loss = before
    after_weights, after_optimizer, after_iterations, after_slots, after_loss = state(net)
    assert after_optimizer is optimizer and after_iterations == iterations
    assert after_loss is loss
    for a, b in zip(after_weights + after_slots, weights + slots):
        np.testing.assert_array_equal(a, b)


BAD_FIT = [
    (dict(batch_size=0), "batch_size must be a positive int or None, got 0"),
    (dict(batch_size=-4), "batch_size must be a positive int or None, got -4"),
    (dict(batch_size=2.5), "batch_size must be a positive int or None, got 2.5"),
    (dict(batch_size="8"), "batch_size must be a positive int or None, got '8'"),
    (dict(epochs=2.5), "epochs must be an int >= 0, got 2.5"),
    (dict(epochs=-1), "epochs must be an int >= 0, got -1"),
    (dict(epochs=True), "epochs must be an int >= 0, got True"),
    (dict(initial_epoch=-1), "initial_epoch must be an int >= 0"),
    (dict(validation_split=0.25, validation_freq=0), "validation_freq must be a positive int"),
    (dict(validation_split="0.1"), r"validation_split must be a float in \[0, 1\)"),
    (dict(validation_split=1.0), r"validation_split must be a float in \[0, 1\)"),
    (dict(validation_split=-0.1), r"validation_split must be a float in \[0, 1\)"),
    (dict(validation_batch_size=0), "validation_batch_size must be a positive int"),
    (dict(shuffle="yes"), "shuffle must be True or False"),
    (dict(verbose=-1), "verbose must be 'auto', 0, 1 or 2"),
    (dict(verbose="loud"), "verbose must be 'auto', 0, 1 or 2"),
    (dict(callbacks="EarlyStopping"), "callbacks must be a list of callbacks"),
    (dict(callbacks=[len]), "Each callback must be a bptt.callbacks.Callback"),
    (dict(callbacks=7), "callbacks must be a list of callbacks"),
]


@pytest.mark.parametrize("bad, message", BAD_FIT)
def test_fit_refuses_bad_arguments_before_training(trained, bad, message):
    net, x, y = trained
    before = state(net)
    with pytest.raises(ValueError, match=message):
        net.fit(x, y, **{"verbose": 0, **bad})
    assert_unchanged(net, before)


def test_fit_takes_one_callback_not_in_a_list(trained):
    net, x, y = trained
    seen = []
    net.fit(x, y, verbose=0, callbacks=callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(epoch)))
    assert seen == [0]


@pytest.mark.parametrize("call", ["fit", "evaluate", "predict", "train_on_batch",
                                  "test_on_batch", "predict_on_batch"])
def test_empty_inputs_get_a_clear_error(trained, call):
    net, x, y = trained
    before = state(net)
    args = (x[:0],) if "predict" in call else (x[:0], y[:0])
    kwargs = {"verbose": 0} if call in ("fit", "evaluate", "predict") else {}
    with pytest.raises(ValueError, match=rf"{call} got no samples: x has shape \(0, 5\)"):
        getattr(net, call)(*args, **kwargs)
    assert_unchanged(net, before)


@pytest.mark.parametrize("weights", [-np.ones(16), np.full(16, np.nan), np.full(16, np.inf)])
def test_sample_weights_must_be_finite_and_not_negative(trained, weights):
    net, x, y = trained
    before = state(net)
    with pytest.raises(ValueError, match="sample_weight must be finite and >= 0"):
        net.fit(x, y, sample_weight=weights, verbose=0)
    with pytest.raises(ValueError, match="sample_weight must be finite and >= 0"):
        net.train_on_batch(x, y, sample_weight=weights)
    with pytest.raises(ValueError, match="sample_weight must be finite and >= 0"):
        net.evaluate(x, y, sample_weight=weights, verbose=0)
    assert_unchanged(net, before)


def test_a_zero_sample_weight_is_allowed(trained):
    net, x, y = trained
    weights = np.ones(16)
    weights[:4] = 0
    net.fit(x, y, sample_weight=weights, verbose=0)


def test_ragged_lists_point_to_pad_sequences(trained):
    net, _, _ = trained
    with pytest.raises(ValueError, match="pad_sequences"):
        net.fit([[1, 2, 3], [4]], [1, 0], verbose=0)
    with pytest.raises(ValueError, match="pad_sequences"):
        net.predict([[1, 2, 3], [4]], verbose=0)


@pytest.mark.parametrize("call", ["evaluate", "predict"])
@pytest.mark.parametrize("bad, message", [
    (dict(batch_size=0), "batch_size must be a positive int or None, got 0"),
    (dict(batch_size=-1), "batch_size must be a positive int or None, got -1"),
    (dict(steps=0), "steps must be a positive int or None, got 0"),
    (dict(verbose="x"), "verbose must be"),
])
def test_evaluate_and_predict_refuse_bad_arguments(trained, call, bad, message):
    net, x, y = trained
    args = (x,) if call == "predict" else (x, y)
    with pytest.raises(ValueError, match=message):
        getattr(net, call)(*args, **{"verbose": 0, **bad})


@pytest.mark.parametrize("bad, message", [
    (dict(loss="no_such_loss"), "Could not interpret loss identifier: 'no_such_loss'"),
    (dict(loss="mse", metrics=["no_such_metric"]),
     "Could not interpret metric identifier: 'no_such_metric'"),
    (dict(loss="mse", weighted_metrics=["no_such_metric"]), "no_such_metric"),
    (dict(loss="mse", optimizer="no_such_optimizer"), "no_such_optimizer"),
    (dict(loss="mse", optimizer=optimizers.Adam(beta_1=0.5), loss_weights="heavy"),
     "loss_weights"),
])
def test_a_failed_compile_keeps_the_trained_optimizer(trained, bad, message):
    net, x, y = trained
    before = state(net)
    with pytest.raises(ValueError, match=message):
        net.compile(**{"optimizer": "sgd", **bad})
    assert_unchanged(net, before)
    net.fit(x, y, verbose=0)  # and it still trains, with the optimizer it had
    assert net.optimizer is before[1] and net.optimizer.iterations == before[2] + 1  # one batch of 16


@pytest.mark.parametrize("bad_index", [0, 3])
def test_set_weights_refuses_text_before_changing_any_layer(trained, bad_index):
    net, _, _ = trained
    before = state(net)
    new = [w + 1 for w in net.get_weights()]
    new[bad_index] = np.full(new[bad_index].shape, "a")
    with pytest.raises(ValueError, match=rf"Weight {bad_index} of model .* must hold real "
                                         r"numbers, got an array of dtype <U1"):
        net.set_weights(new)
    assert_unchanged(net, before)


@pytest.mark.parametrize("weights", [{0: 1.0, 1: -2.0}, {0: 1.0, 1: float("nan")}, {0: "a", 1: 1}])
def test_class_weights_must_be_finite_and_not_negative(trained, weights):
    net, x, y = trained
    before = state(net)
    with pytest.raises(ValueError, match="class_weight must map each class to a finite number"):
        net.fit(x, y, class_weight=weights, verbose=0)
    assert_unchanged(net, before)


def test_text_targets_get_a_clear_error(trained):
    net, x, _ = trained
    before = state(net)
    with pytest.raises(ValueError, match=r"y must hold numbers, got dtype <U3.*np.unique"):
        net.fit(x, np.array(["pos", "neg"] * 8), verbose=0)
    assert_unchanged(net, before)


def test_input_shape_and_time_distributed_are_checked_when_made():
    with pytest.raises(ValueError, match=r"Input shape entries must be ints >= 0 or None.*\(-1,"):
        layers.Input(shape=(-1,))
    with pytest.raises(ValueError, match=r"Input shape entries.*'5'"):
        layers.Input(shape=(3, "5"))
    assert layers.Input(shape=(None, 4)).shape == (None, None, 4)  # the batch axis first
    with pytest.raises(ValueError, match=r"TimeDistributed wraps a layer.*got 3"):
        layers.TimeDistributed(3)


def test_saving_to_a_directory_says_so_before_writing(trained, tmp_path):
    net, _, _ = trained
    with pytest.raises(IsADirectoryError, match="is a directory: give a file path"):
        net.save(tmp_path)
    assert list(tmp_path.iterdir()) == []
