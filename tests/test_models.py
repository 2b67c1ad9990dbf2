"""Sequential end to end: the whole model's loss and gradients against the same model in
PyTorch, the Keras training loop's behaviour, clear errors, reproducibility."""
import io
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch

from bptt import callbacks, converters, layers, models, optimizers
from bptt.utils import set_random_seed


def tutorial_model(vocab=30, embed=8, h1=6, h2=5, dropout=0.0):
    model = models.Sequential()
    model.add(layers.Embedding(input_dim=vocab, output_dim=embed))
    model.add(layers.LSTM(h1, return_sequences=True, dropout=dropout))
    model.add(layers.LSTM(h2, return_sequences=False))
    model.add(layers.Dense(1, activation="sigmoid"))
    return model


def toy_data(rng, n=40, steps=7, vocab=30):
    x = rng.integers(0, vocab, size=(n, steps))
    y = (x[:, -1] % 2).astype("float32")  # learnable from the last token
    return x, y


def torch_tutorial_model(model):
    """The same stack in PyTorch, with bptt's weights copied in."""
    emb, lstm1, lstm2, dense = model.layers
    t_emb = torch.nn.Embedding(*emb.params["embeddings"].shape).double()
    t_emb.weight.data = torch.tensor(emb.params["embeddings"])
    t_lstms = []
    for layer in (lstm1, lstm2):
        module = torch.nn.LSTM(layer.params["kernel"].shape[0], layer.units, batch_first=True)
        module = module.double()
        state = converters.lstm_keras_to_torch(*layer.get_weights())
        module.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
        t_lstms.append(module)
    t_dense = torch.nn.Linear(dense.params["kernel"].shape[0], 1).double()
    t_dense.weight.data = torch.tensor(dense.params["kernel"].T.copy())
    t_dense.bias.data = torch.tensor(dense.params["bias"])

    def forward(x):
        hs, _ = t_lstms[0](t_emb(torch.tensor(x)))
        hs, _ = t_lstms[1](hs)
        return torch.sigmoid(t_dense(hs[:, -1]))

    return forward, (t_emb, *t_lstms, t_dense)


def test_whole_model_loss_and_every_gradient_match_torch(float64, rng):
    """As llm.c's test_gpt2: one batch through the whole model, loss and all gradients vs PyTorch."""
    model = tutorial_model()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.5), loss="binary_crossentropy",
                  metrics=["accuracy"])
    x, y = toy_data(rng, n=6)
    model.build((None, x.shape[1]))
    before = model.get_weights()
    forward, modules = torch_tutorial_model(model)
    p = forward(x)
    loss = torch.nn.functional.binary_cross_entropy(p[:, 0], torch.tensor(y, dtype=torch.float64))
    loss.backward()
    np.testing.assert_allclose(model.predict(x, verbose=0), p.detach().numpy(), atol=1e-12)
    loss_value, accuracy = model.train_on_batch(x, y)
    assert abs(loss_value - loss.item()) < 1e-12
    assert accuracy == np.mean((p.detach().numpy()[:, 0] > 0.5) == y)
    # SGD: w_new = w - lr * grad, so the step reveals bptt's gradient for every weight.
    grads = [(b - a) / 0.5 for b, a in zip(before, model.get_weights())]
    t_emb, t_l1, t_l2, t_dense = modules
    expected = [t_emb.weight.grad.numpy()]
    for module in (t_l1, t_l2):
        named = dict(module.named_parameters())
        # Keras' one bias feeds both of torch's, so its gradient is either one (not their sum).
        bias_grad = named["bias_ih_l0"].grad.numpy()
        expected += converters.lstm_torch_to_keras(
            named["weight_ih_l0"].grad.numpy(), named["weight_hh_l0"].grad.numpy(), bias_grad,
            np.zeros_like(bias_grad))
    expected += [t_dense.weight.grad.numpy().T, t_dense.bias.grad.numpy()]
    assert len(grads) == len(expected) == 9
    for index, (actual, wanted) in enumerate(zip(grads, expected)):
        np.testing.assert_allclose(actual, wanted, atol=1e-10, err_msg=f"weight {index}")


def test_fit_history_validation_split_from_the_end(rng):
    set_random_seed(0)
    model = tutorial_model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x, y = toy_data(rng, n=50)
    history = model.fit(x, y, epochs=1, batch_size=8, validation_split=0.2, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    # Keras takes the validation set from the end, before shuffling: the last 10 of 50.
    val_loss, val_acc = model.evaluate(x[40:], y[40:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-6)
    assert history.history["val_accuracy"][0] == pytest.approx(val_acc, rel=1e-6)
    assert history.epoch == [0] and model.history is history


def test_fit_prints_keras_progress_bar(rng):
    model = tutorial_model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x, y = toy_data(rng, n=20)
    out = io.StringIO()
    with redirect_stdout(out):
        model.fit(x, y, epochs=2, batch_size=8, verbose=1)
    text = out.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "3/3" in text and "━" in text and "/step" in text
    assert " - accuracy: " in text and " - loss: " in text
    quiet = io.StringIO()
    with redirect_stdout(quiet):
        model.fit(x, y, epochs=1, verbose=0)
        model.evaluate(x, y, verbose=0)
    assert quiet.getvalue() == ""
    two = io.StringIO()
    with redirect_stdout(two):
        model.fit(x, y, epochs=1, batch_size=8, verbose=2)
    assert "3/3 - " in two.getvalue() and "━" not in two.getvalue()


def test_the_model_learns(rng):
    set_random_seed(1)
    model = tutorial_model()
    model.compile(optimizer=optimizers.Adam(learning_rate=0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])
    x, y = toy_data(rng, n=200)
    first = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert loss < first * 0.5 and accuracy > 0.9


def test_same_seed_same_run_bit_for_bit(rng):
    x, y = toy_data(rng, n=30)
    runs = []
    for _ in range(2):
        set_random_seed(42)
        model = tutorial_model(dropout=0.3)
        model.compile(optimizer="adam", loss="binary_crossentropy")
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        runs.append((model.get_weights(), history.history["loss"]))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]
    set_random_seed(43)
    other = tutorial_model(dropout=0.3)
    other.build((None, 7))
    assert not np.array_equal(other.get_weights()[0], runs[0][0][0])


def test_errors_are_clear_and_change_nothing(rng):
    model = tutorial_model(vocab=30)
    x, y = toy_data(rng, n=10)
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x, y, verbose=0)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    with pytest.raises(ValueError, match=r"x has 10.*y has 9"):
        model.fit(x, y[:-1], verbose=0)
    model.build((None, 7))
    before = model.get_weights()
    bad = x.copy()
    bad[-1, 3] = 31  # the very last batch holds the bad id
    with pytest.raises(ValueError, match=r"token id 31.*\[0, 30\)"):
        model.fit(bad, y, batch_size=2, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0


def test_stacking_errors_name_the_fix():
    model = models.Sequential([layers.Input(shape=(5, 3)), layers.LSTM(4)])
    with pytest.raises(ValueError, match="return_sequences=True"):
        model.add(layers.LSTM(2))
    assert len(model.layers) == 1  # the failed add left the model as it was
    with pytest.raises(ValueError, match="return_sequences=True"):
        model.add(layers.TimeDistributed(layers.Dense(2)))
    with pytest.raises(ValueError, match="return_state"):
        models.Sequential([layers.Input(shape=(5, 3)), layers.LSTM(4, return_state=True)])


def test_summary_shows_keras_parameter_counts(capsys):
    model = models.Sequential([
        layers.Input(shape=(50,)),
        layers.Embedding(input_dim=20000, output_dim=128),
        layers.LSTM(64, return_sequences=True, dropout=0.2),
        layers.LSTM(32, return_sequences=False),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.summary()
    text = capsys.readouterr().out
    # Keras' counts: Embedding V*D; LSTM 4*((D + H) * H + H); Dense (D + 1) * U.
    counts = [20000 * 128, 4 * ((128 + 64) * 64 + 64), 4 * ((64 + 32) * 32 + 32), 33]
    for count in counts:
        assert f"{count:,}" in text
    assert f"Total params: {sum(counts):,}" in text
    assert "(None, 50, 128)" in text and "(None, 50, 64)" in text and "(None, 32)" in text
    assert model.count_params() == sum(counts)


def test_batch_methods_and_evaluate_return_values(rng):
    model = tutorial_model()
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    x, y = toy_data(rng, n=12)
    assert len(model.train_on_batch(x, y)) == 2
    loss, acc = model.test_on_batch(x, y)
    assert model.predict_on_batch(x).shape == (12, 1)
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"accuracy", "loss"}
    only_loss = tutorial_model()
    only_loss.compile(optimizer="sgd", loss="mse")
    assert isinstance(only_loss.evaluate(x, y, verbose=0), float)


def test_class_weight_equals_sample_weight(rng):
    x, y = toy_data(rng, n=16)
    set_random_seed(5)
    a = tutorial_model()
    a.compile(optimizer="sgd", loss="binary_crossentropy")
    a.build((None, 7))
    b = tutorial_model()
    b.compile(optimizer="sgd", loss="binary_crossentropy")
    b.build((None, 7))
    b.set_weights(a.get_weights())
    a.fit(x, y, batch_size=4, epochs=1, class_weight={0: 1.0, 1: 3.0}, shuffle=False, verbose=0)
    b.fit(x, y, batch_size=4, epochs=1, sample_weight=np.where(y == 1, 3.0, 1.0), shuffle=False,
          verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    with pytest.raises(ValueError, match="class_weight"):
        a.fit(x, y, class_weight={0: 1.0}, verbose=0)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_callbacks(rng, tmp_path):
    x, y = toy_data(rng, n=20)
    model = tutorial_model()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="binary_crossentropy")
    stop = callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=1e-4)
    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[stop])
    assert len(history.history["loss"]) == 2  # no improvement with lr 0: stops after patience
    x_nan = x
    model.compile(optimizer=optimizers.SGD(learning_rate=1e30), loss="mse")
    history = model.fit(x_nan, y * 1e30, epochs=5, verbose=0, batch_size=4,
                        callbacks=[callbacks.TerminateOnNaN()])
    assert len(history.history.get("loss", [])) <= 1


def test_model_checkpoint_save_best_only_keeps_the_best_epochs_model(rng, tmp_path):
    """The file holds the model as it was at the end of the epoch with the lowest val_loss,
    not the last one: the weights a callback saw then, and predictions to match."""
    x, y = toy_data(rng, n=20)
    set_random_seed(3)
    model = tutorial_model()
    # a learning rate high enough that val_loss falls, then rises again
    model.compile(optimizer=optimizers.Adam(learning_rate=0.3), loss="binary_crossentropy")

    class Record(callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.weights = []

        def on_epoch_end(self, epoch, logs=None):
            self.weights.append(self.model.get_weights())

    record = Record()
    path = tmp_path / "best.bptt"
    history = model.fit(x, y, epochs=6, batch_size=5, verbose=0, validation_split=0.25,
                        callbacks=[record, callbacks.ModelCheckpoint(str(path),
                                                                       save_best_only=True)])
    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    assert 0 < best < len(val_loss) - 1, f"val_loss {val_loss}: the best epoch must be neither"
    loaded = models.load_model(str(path))
    for saved, then in zip(loaded.get_weights(), record.weights[best], strict=True):
        np.testing.assert_array_equal(saved, then)
    assert any(not np.array_equal(a, b) for a, b in zip(loaded.get_weights(), model.get_weights()))
    model.set_weights(record.weights[best])
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_early_stopping_restores_best_weights(rng):
    x, y = toy_data(rng, n=20)
    model = tutorial_model()
    model.compile(optimizer=optimizers.SGD(learning_rate=5.0), loss="binary_crossentropy")

    class Record(callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.weights = []

        def on_epoch_end(self, epoch, logs=None):
            self.weights.append((logs["loss"], self.model.get_weights()))

    record = Record()
    stop = callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    model.fit(x, y, epochs=6, verbose=0, callbacks=[record, stop])
    best_loss, best_weights = min(record.weights, key=lambda item: item[0])
    for a, b in zip(best_weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_validation_data_and_per_word_tagging_match_torch(float64, rng):
    """TimeDistributed(Dense(softmax)) with sparse_categorical_crossentropy: one label per word.
    The loss is the mean over every (review, word) of -log p[label], as PyTorch computes it."""
    model = models.Sequential([
        layers.Embedding(12, 4),
        layers.Bidirectional(layers.GRU(3, return_sequences=True)),
        layers.TimeDistributed(layers.Dense(3, activation="softmax")),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = rng.integers(0, 12, size=(10, 6))
    tags = x % 3
    y_pred = model.predict(x, verbose=0)
    assert y_pred.shape == (10, 6, 3)
    expected = torch.nn.functional.nll_loss(
        torch.log(torch.tensor(y_pred)).reshape(-1, 3), torch.tensor(tags).reshape(-1))
    loss, accuracy = model.evaluate(x, tags, verbose=0)
    assert loss == pytest.approx(expected.item(), rel=1e-10)
    assert accuracy == pytest.approx(np.mean(y_pred.argmax(-1) == tags))
    history = model.fit(x[:8], tags[:8], epochs=2, batch_size=4, verbose=0,
                        validation_data=(x[8:], tags[8:]))
    assert history.history["val_loss"][-1] == pytest.approx(
        model.evaluate(x[8:], tags[8:], verbose=0)[0], rel=1e-10)


def test_input_shape_on_the_first_layer_builds_the_model():
    """Keras 2's style, still accepted by Keras 3: LSTM(32, input_shape=(10, 4))."""
    model = models.Sequential([layers.LSTM(3, input_shape=(10, 4)), layers.Dense(1)])
    assert model.built and model.count_params() == 4 * ((4 + 3) * 3 + 3) + 4
    with pytest.raises(ValueError, match="return_sequences=True"):
        models.Sequential([layers.LSTM(3, input_shape=(10, 4)), layers.LSTM(2)])


def test_predict_and_evaluate_run_the_inference_path_with_the_same_numbers(rng):
    """predict / predict_on_batch / evaluate / model(x) skip the caches (bptt's inference
    kernels) and give what the training-capable forward gives; a backward after them raises."""
    model = tutorial_model(dropout=0.2)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x, y = toy_data(rng, n=45)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    expected = model._forward(x, training=False)
    np.testing.assert_allclose(model.predict(x, batch_size=20, verbose=0), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model(x), expected, rtol=1e-5, atol=1e-6)
    loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    manual = -np.mean(y * np.log(expected[:, 0]) + (1 - y) * np.log(1 - expected[:, 0]))
    np.testing.assert_allclose(loss, manual, rtol=1e-4)
    with pytest.raises(RuntimeError, match="inference mode"):
        model._backward(np.ones_like(expected), from_logits=False)
    model.train_on_batch(x, y)  # training after inference works as before


def test_one_review_through_the_stacked_lstm_pipeline_gives_the_layer_by_layer_numbers(rng, monkeypatch):
    """predict_on_batch on 1-3 reviews runs the Embedding's lookup and the two LSTMs as one
    pipelined call (LSTM.infer_with with lookup=) where bptt.kernels.lstm_stack applies; the
    numbers are those of the layers one by one."""
    from bptt import backend
    from bptt.kernels import lstm_stack

    model = tutorial_model()
    model.build((None, 7))
    x, _ = toy_data(rng, n=3)
    calls = []
    real = layers.LSTM.infer_with

    def counted(self, upper, inputs, **options):
        output = real(self, upper, inputs, **options)
        if isinstance(upper, layers.LSTM) and options.get("lookup") is not None:
            calls.append(output is not None)  # the Embedding's lookup inside the pipeline
        return output
    monkeypatch.setattr(layers.LSTM, "infer_with", counted)
    together = [model.predict_on_batch(x[:rows]) for rows in (1, 3)]
    fused = backend.get_kernels() == "fused"
    assert calls == [fused and lstm_stack.usable(1), fused and lstm_stack.usable(3)]
    monkeypatch.setattr(lstm_stack, "MAX_ROWS", 0)  # now layer by layer
    for rows, output in zip((1, 3), together):
        np.testing.assert_allclose(output, model.predict_on_batch(x[:rows]), rtol=1e-5, atol=1e-6)


class _Recorder(callbacks.Callback):
    """Writes down every hook Keras calls, with its batch index and the keys of its logs."""

    def __init__(self, stop_after=None):
        super().__init__()
        self.calls, self.stop_after = [], stop_after
        for hook in ("on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
                     "on_predict_begin", "on_predict_end", "on_predict_batch_begin",
                     "on_predict_batch_end", "on_epoch_end"):
            setattr(self, hook, self._recording(hook))

    def _recording(self, hook):
        def record(*args, logs=None):
            if args and isinstance(args[-1], dict):  # logs passed positionally
                *args, logs = args
            self.calls.append((hook, *args))
            self.logs = logs
            if self.stop_after is not None and args and args[0] == self.stop_after:
                self.model.stop_evaluating = self.model.stop_predicting = True
        return record


def test_evaluate_calls_keras_test_hooks_with_running_logs(rng):
    model = tutorial_model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x, y = toy_data(rng, n=25)
    recorder = _Recorder()
    logs = model.evaluate(x, y, batch_size=10, verbose=0, callbacks=[recorder], return_dict=True)
    assert recorder.calls == [("on_test_begin",), ("on_test_batch_begin", 0), ("on_test_batch_end", 0),
                              ("on_test_batch_begin", 1), ("on_test_batch_end", 1),
                              ("on_test_batch_begin", 2), ("on_test_batch_end", 2), ("on_test_end",)]
    assert recorder.logs == logs and set(logs) == {"loss", "accuracy"}


def test_predict_calls_keras_predict_hooks_with_each_batch_of_outputs(rng):
    model = tutorial_model()
    x, _ = toy_data(rng, n=25)
    outputs = []

    class Keep(callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            outputs.append(logs["outputs"])
    recorder = _Recorder()
    predictions = model.predict(x, batch_size=10, verbose=0, callbacks=[recorder, Keep()])
    assert [call[0] for call in recorder.calls] == (
        ["on_predict_begin"] + ["on_predict_batch_begin", "on_predict_batch_end"] * 3
        + ["on_predict_end"])
    assert [o.shape for o in outputs] == [(10, 1), (10, 1), (5, 1)]
    np.testing.assert_array_equal(np.concatenate(outputs), predictions)


def test_stop_evaluating_and_stop_predicting_end_the_loop_after_the_batch(rng):
    model = tutorial_model()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x, y = toy_data(rng, n=25)
    assert model.predict(x, batch_size=10, verbose=0, callbacks=[_Recorder(stop_after=0)]).shape == (10, 1)
    first_batch = model.evaluate(x[:10], y[:10], verbose=0)
    stopped = model.evaluate(x, y, batch_size=10, verbose=0, callbacks=[_Recorder(stop_after=0)])
    np.testing.assert_allclose(stopped, first_batch, rtol=1e-6)
    assert model.predict(x, batch_size=10, verbose=0).shape == (25, 1)  # the flag is reset


def test_fit_calls_the_test_hooks_around_its_validation(rng):
    model = tutorial_model()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x, y = toy_data(rng, n=30)
    recorder = _Recorder()
    model.fit(x[:20], y[:20], validation_data=(x[20:], y[20:]), epochs=2, batch_size=10,
              verbose=0, callbacks=[recorder])
    names = [call[0] for call in recorder.calls]
    per_epoch = ["on_test_begin", "on_test_batch_begin", "on_test_batch_end", "on_test_end",
                 "on_epoch_end"]
    assert names == per_epoch * 2
    assert "val_loss" in recorder.logs
