"""Sequential: a stack of layers, trained by running it forward, the loss, and back.

    model = models.Sequential([...]) or model.add(layer)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=32, validation_split=0.1)

`fit`, `evaluate`, `predict`, the *_on_batch methods, `summary`, `get_weights` /
`set_weights`, `save` / `load_model` follow Keras 3. Every input check runs before a weight
changes: a call that raises leaves weights and optimizer state as they were.
"""
import numpy as np

from bptt import backend, callbacks as callbacks_module, data_adapter, losses, metrics
from bptt import optimizers
from bptt.layers import LSTM, Embedding, InputLayer, Layer, deserialize, serialize
from bptt.layers.base import unique_name
from bptt.progbar import Progbar
from bptt.summary import summary_text

# Which activation a crossentropy reads its logits from (Keras' TensorFlow backend does the same:
# it takes the logits behind a sigmoid/softmax output instead of clipping probabilities).
_LOGITS_ACTIVATION = {
    losses.BinaryCrossentropy: "sigmoid",
    losses.CategoricalCrossentropy: "softmax",
    losses.SparseCategoricalCrossentropy: "softmax",
}


class Sequential:
    def __init__(self, layers=None, trainable=True, name=None):
        self.name = name or unique_name("sequential")
        self.trainable = trainable
        self._layers = []
        self._input_layer = None
        self.built = False
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False  # a callback may set these to end fit / evaluate / predict
        self.stop_evaluating = False
        self.stop_predicting = False
        self.history = None
        self._metric_specs = []
        self.metrics = []
        self._caches_kept = False  # whether the last pass was _forward, so _backward may follow
        for layer in layers or []:
            self.add(layer)

    # -- structure ------------------------------------------------------------------------
    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("Input must be the first thing added to a Sequential model.")
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a bptt layer, got {layer!r} "
                            f"({type(layer).__name__}).")
        declared = not self._layers and self._input_layer is None and layer.declared_input_shape
        if declared:
            self._input_layer = InputLayer(batch_shape=layer.declared_input_shape)
        self._layers.append(layer)
        if self._input_layer is not None:
            try:
                self.build(self._input_layer.input_shape)
            except Exception:
                self._layers.pop()  # nothing half-changed
                if declared:
                    self._input_layer = None
                raise

    def pop(self):
        return self._layers.pop()

    def build(self, input_shape=None):
        """Build every layer from the input shape (batch axis first, may be None)."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("Sequential.build needs an input shape, e.g. (None, 50), or an "
                                 "Input layer first.")
            input_shape = self._input_layer.input_shape
        shape = tuple(input_shape)
        for layer in self._layers:
            if not layer.built:
                layer.build(shape)
            shape = layer.compute_output_shape(shape)
            if isinstance(shape, list):
                raise ValueError(
                    f"Layer '{layer.name}' returns several arrays (return_state=True or "
                    "merge_mode=None); a Sequential model needs one output per layer."
                )
        self._build_input_shape = tuple(input_shape)
        self.output_shape = shape
        self.built = bool(self._layers)

    def _ensure_built(self, x):
        if not self.built or any(not layer.built for layer in self._layers):
            self.build((None,) + tuple(x.shape[1:]))

    # -- compile ----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='binary_crossentropy'.")
        if loss_weights is not None or weighted_metrics is not None:
            raise NotImplementedError("loss_weights and weighted_metrics are not supported.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        self._metric_specs = list(metrics or [])
        self.metrics = []
        self.compiled = True

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(
                f"You must call model.compile(optimizer=..., loss=...) before model.{what}()."
            )

    def _build_metrics(self, y):
        """Metric objects, resolved as Keras resolves 'accuracy' (from the loss and shapes)."""
        if not self.metrics and self._metric_specs:
            shape = getattr(self, "output_shape", None)
            self.metrics = [metrics.get(spec, loss=self.loss, output_shape=shape)
                            for spec in self._metric_specs]
        for metric in self.metrics:
            metric.reset_state()

    # -- forward, loss, backward --------------------------------------------------------------
    def _forward(self, x, training):
        self._caches_kept = True
        for layer in self._layers:
            x = layer.forward(x, training=training)
        return x

    def _infer(self, x):
        """The forward pass when no backward follows (predict, evaluate): layers keep no cache.
        Two stacked LSTMs may run as one pipelined call (LSTM.infer_with), with the lookup of
        an Embedding in front of them inside it."""
        self._caches_kept = False
        layers, index = self._layers, 0
        while index < len(layers):
            layer = layers[index]
            if (isinstance(layer, Embedding) and index + 2 < len(layers)
                    and isinstance(layers[index + 1], LSTM)):
                output = layers[index + 1].infer_with(layers[index + 2], x, lookup=layer)
                if output is not None:
                    x, index = output, index + 3
                    continue
            together = getattr(layer, "infer_with", None)
            output = together(layers[index + 1], x) if together and index + 1 < len(layers) else None
            if output is not None:
                x, index = output, index + 2
            else:
                x, index = layer.infer(x), index + 1
        return x

    def _uses_logits(self):
        last = self._layers[-1]
        activation = _LOGITS_ACTIVATION.get(type(self.loss))
        return (activation is not None and not self.loss.from_logits
                and getattr(last, "activation", None) == activation
                and hasattr(last, "backward_from_logits"))

    def _loss_and_grad(self, y, y_pred, sample_weight):
        if self._uses_logits():
            return self.loss.value_and_grad_logits(y, self._layers[-1].logits, sample_weight), True
        return self.loss.value_and_grad(y, y_pred, sample_weight), False

    def _backward(self, dout, from_logits, on_layer=None):
        """Back through the stack; on_layer(layer, dx) sees what each layer passes down."""
        if not self._caches_kept:
            raise RuntimeError(
                f"Model '{self.name}': a backward pass needs the caches of _forward(x, training), "
                "and the last pass kept none (it ran in inference mode: predict, evaluate, "
                "test_on_batch or model(x))."
            )
        grad = dout
        for index in range(len(self._layers) - 1, -1, -1):
            layer = self._layers[index]
            if from_logits and index == len(self._layers) - 1:
                grad = layer.backward_from_logits(grad)
            else:
                grad = layer.backward(grad)
            if on_layer is not None:
                on_layer(layer, grad)
            if grad is None:
                break

    def _trainable_pairs(self):
        pairs = []
        for layer in self._layers:
            if layer.trainable and self.trainable:
                squares = getattr(layer, "grad_squares", {})
                rows = getattr(layer, "grad_rows", {})
                lookups = getattr(layer, "grad_lookups", {})
                for key, value in layer.params.items():
                    grad = layer.grads[key]
                    if key in squares:  # an embedding: as Keras on TensorFlow hands it over
                        grad = optimizers.RowGradient(grad, squares[key], rows.get(key),
                                                      lookups.get(key))
                    pairs.append((grad, value))
        return pairs

    def _train_step(self, x, y, sample_weight):
        y_pred = self._forward(x, training=True)
        (loss_value, dout), from_logits = self._loss_and_grad(y, y_pred, sample_weight)
        self._backward(dout, from_logits)
        self.optimizer.apply_gradients(self._trainable_pairs())
        self._update_metrics(y, y_pred)
        return float(loss_value)

    def _update_metrics(self, y, y_pred):
        # As Keras: compile(metrics=...) are not weighted by sample_weight or class_weight.
        for metric in self.metrics:
            metric.update_state(y, y_pred)

    def _test_step(self, x, y, sample_weight):
        y_pred = self._infer(x)
        if self._uses_logits():
            loss_value, _ = self.loss.value_and_grad_logits(y, self._layers[-1].logits,
                                                            sample_weight)
        else:
            loss_value, _ = self.loss.value_and_grad(y, y_pred, sample_weight)
        self._update_metrics(y, y_pred)
        return float(loss_value)

    # -- checks before anything changes ----------------------------------------------------------
    def _prepare(self, x, y=None, sample_weight=None, what="fit", check_ids=True):
        """check_ids=False where no weight can change before the Embedding checks its ids itself
        (predict): the check then runs once, not twice."""
        x = data_adapter.as_array(x, "x")
        y = data_adapter.as_array(y, "y")
        sample_weight = data_adapter.as_array(sample_weight, "sample_weight")
        data_adapter.check_lengths(x, y, sample_weight)
        if not self._layers:
            raise ValueError("The model has no layers: add some with model.add(...).")
        self._ensure_built(x)
        first = self._layers[0]
        if check_ids and isinstance(first, Embedding):
            first.check_ids(x)
        expected = tuple(self._build_input_shape[1:])
        if tuple(x.shape[1:]) != expected and None not in expected:
            raise ValueError(
                f"{what}: the model expects inputs of shape (batch, {', '.join(map(str, expected))})"
                f", got x of shape {x.shape}."
            )
        return x, y, sample_weight

    # -- fit / evaluate / predict ---------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        self._require_compiled("fit")
        _refuse_steps(steps_per_epoch=steps_per_epoch, validation_steps=validation_steps)
        if y is None:
            raise ValueError("fit needs targets: model.fit(x, y, ...).")
        x, y, sample_weight = self._prepare(x, y, sample_weight, "fit")
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("Pass either class_weight or sample_weight to fit, not both.")
            sample_weight = data_adapter.class_weights_to_sample_weights(y, class_weight)
        val = None
        if validation_data is not None:
            if len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be (x_val, y_val) or "
                                 f"(x_val, y_val, sample_weight), got {len(validation_data)} items.")
            val = self._prepare(*validation_data, what="validation_data")
        elif validation_split:
            (x, y, sample_weight), val = data_adapter.split_validation(
                [x, y, sample_weight], validation_split)
        batch_size = batch_size or 32
        verbose = 1 if verbose == "auto" else verbose
        steps = data_adapter.steps_for(len(x), batch_size)
        history = callbacks_module.History()
        extra = [callbacks_module.ProgbarLogger(verbose)] if verbose else []
        cbs = callbacks_module.CallbackList(list(callbacks or []) + extra + [history], self,
                                            {"epochs": epochs, "steps": steps, "verbose": verbose})
        self.history = history
        self.stop_training = False
        self._build_metrics(y)
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            self._build_metrics(y)
            cbs.on_epoch_begin(epoch)
            order = backend.global_rng().permutation(len(x)) if shuffle else None
            loss_sum, seen = 0.0, 0
            logs = {}
            for step, index in enumerate(data_adapter.batch_slices(len(x), batch_size, order)):
                sw = None if sample_weight is None else sample_weight[index]
                cbs.on_train_batch_begin(step)
                batch_loss = self._train_step(x[index], y[index], sw)
                count = len(x[index])
                loss_sum += batch_loss * count
                seen += count
                logs = self._logs(loss_sum / seen)
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_arrays(*val, validation_batch_size or batch_size,
                                                 callbacks=cbs)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end()
        return history

    def _logs(self, loss_value):
        logs = {metric.name: float(metric.result()) for metric in self.metrics}
        logs["loss"] = float(loss_value)
        return dict(sorted(logs.items()))

    def _evaluate_arrays(self, x, y, sample_weight, batch_size, progbar=None, callbacks=None):
        """The test loop of evaluate and of fit's validation, with Keras' test hooks."""
        cbs = callbacks or callbacks_module.CallbackList([], self, {})
        self._build_metrics(y)
        self.stop_evaluating = False
        cbs.on_test_begin()
        loss_sum, seen = 0.0, 0
        for step, index in enumerate(data_adapter.batch_slices(len(x), batch_size)):
            sw = None if sample_weight is None else sample_weight[index]
            cbs.on_test_batch_begin(step)
            count = len(x[index])
            loss_sum += self._test_step(x[index], y[index], sw) * count
            seen += count
            logs = self._logs(loss_sum / seen)
            if progbar is not None:
                progbar.update(step + 1, logs)
            cbs.on_test_batch_end(step, logs)
            if self.stop_evaluating:
                break
        logs = self._logs(loss_sum / seen)
        cbs.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        self._require_compiled("evaluate")
        _refuse_steps(steps=steps)
        if y is None:
            raise ValueError("evaluate needs targets: model.evaluate(x, y).")
        x, y, sample_weight = self._prepare(x, y, sample_weight, "evaluate")
        batch_size = batch_size or 32
        verbose = 1 if verbose == "auto" else verbose
        steps = data_adapter.steps_for(len(x), batch_size)
        progbar = Progbar(steps, verbose) if verbose else None
        cbs = callbacks_module.CallbackList(callbacks or [], self,
                                            {"epochs": 1, "steps": steps, "verbose": verbose})
        logs = self._evaluate_arrays(x, y, sample_weight, batch_size, progbar, cbs)
        return logs if return_dict else self._flatten(logs)

    def _flatten(self, logs):
        values = [logs["loss"]] + [logs[metric.name] for metric in self.metrics]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        _refuse_steps(steps=steps)
        x, _, _ = self._prepare(x, what="predict", check_ids=False)
        batch_size = batch_size or 32
        verbose = 1 if verbose == "auto" else verbose
        steps = data_adapter.steps_for(len(x), batch_size)
        progbar = Progbar(steps, verbose) if verbose else None
        cbs = callbacks_module.CallbackList(callbacks or [], self,
                                            {"epochs": 1, "steps": steps, "verbose": verbose})
        self.stop_predicting = False
        cbs.on_predict_begin()
        outputs = []
        for step, index in enumerate(data_adapter.batch_slices(len(x), batch_size)):
            cbs.on_predict_batch_begin(step)
            outputs.append(self._infer(x[index]))
            if progbar is not None:
                progbar.update(step + 1)
            cbs.on_predict_batch_end(step, {"outputs": outputs[-1]})
            if self.stop_predicting:
                break
        cbs.on_predict_end()
        return np.concatenate(outputs, axis=0)

    def __call__(self, x, training=False):
        x = np.asarray(x)
        self._ensure_built(x)
        return self._forward(x, training=True) if training else self._infer(x)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._require_compiled("train_on_batch")
        x, y, sample_weight = self._prepare(x, y, sample_weight, "train_on_batch")
        if class_weight is not None:
            sample_weight = data_adapter.class_weights_to_sample_weights(y, class_weight)
        self._build_metrics(y)
        logs = self._logs(self._train_step(x, y, sample_weight))
        return logs if return_dict else self._flatten(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        x, y, sample_weight = self._prepare(x, y, sample_weight, "test_on_batch")
        self._build_metrics(y)
        logs = self._logs(self._test_step(x, y, sample_weight))
        return logs if return_dict else self._flatten(logs)

    def predict_on_batch(self, x):
        x, _, _ = self._prepare(x, what="predict_on_batch", check_ids=False)
        return self._infer(x)

    # -- weights, config, summary, saving ---------------------------------------------------------
    @property
    def weights(self):
        return [w for layer in self._layers for w in layer.weights]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        weights = list(weights)
        expected = [w.shape for w in self.weights]
        if len(weights) != len(expected):
            raise ValueError(f"Model '{self.name}' has {len(expected)} weight arrays, "
                             f"got {len(weights)}.")
        for index, (shape, new) in enumerate(zip(expected, weights)):
            if np.shape(new) != shape:
                raise ValueError(f"Weight {index} of model '{self.name}' has shape {shape}, "
                                 f"got {np.shape(new)}.")
        start = 0
        for layer in self._layers:
            count = len(layer.params)
            layer.set_weights(weights[start:start + count])
            start += count

    def count_params(self):
        return sum(layer.count_params() for layer in self._layers)

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No layer named {name!r}; layers: {[l.name for l in self._layers]}.")

    def get_config(self):
        layers = [serialize(layer) for layer in self._layers]
        if self._input_layer is not None:
            layers.insert(0, serialize(self._input_layer))
        config = {"name": self.name, "trainable": self.trainable, "layers": layers}
        if self.built:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config["layers"]:
            model.add(deserialize(layer_config))
        if config.get("build_input_shape") is not None and not model.built:
            model.build(tuple(config["build_input_shape"]))
        return model

    def summary(self, line_length=None, print_fn=None):
        (print_fn or print)(summary_text(self, line_length))

    def save(self, filepath):
        from bptt import saving

        saving.save_model(self, filepath)

    def save_weights(self, filepath):
        from bptt import saving

        saving.save_weights(self, filepath)

    def load_weights(self, filepath):
        from bptt import saving

        saving.load_weights(self, filepath)


def _refuse_steps(**steps):
    for name, value in steps.items():
        if value is not None:
            raise NotImplementedError(
                f"{name}={value!r} is not supported: bptt runs over whole arrays. Slice the "
                "arrays instead (e.g. x[:steps * batch_size])."
            )


def load_model(filepath, compile=True):
    """Load a model written by `model.save(path)`: architecture, weights, compile settings."""
    from bptt import saving

    return saving.load_model(filepath, compile=compile)

