"""The one training loop: compile, fit, evaluate, predict and the *_on_batch methods, for
Sequential and the functional Model alike.

A model kind writes four hooks over lists (one array per model input / output):
    _forward_all(xs, training) -> ys      keeps the caches a backward needs
    _infer_all(xs) -> ys                  keeps nothing (predict, evaluate)
    _backward_all(douts, from_logits)     douts: one gradient (or None) per output
    _output_logits(i) -> array or None    the pre-activation behind output i, when its loss
                                          can be computed from it (as Keras on TensorFlow does)
and names its inputs and outputs (`input_names`, `output_names`).

Losses, loss weights and metrics follow Keras 3's compile: one loss for every output, or one per
output (list or dict by output name); the total is sum(loss_weight * loss); with several losses
each also appears in the logs as '<output>_loss', and metrics of output 'o' as 'o_<metric>'.
Every input check runs before a weight changes: a call that raises leaves weights and optimizer
state as they were.
"""
import functools
import threading
import warnings

import numpy as np

from bptt import backend, callbacks as callbacks_module, data_adapter, losses, metrics
from bptt import distribution as distribution_module
from bptt import optimizers
from bptt.metrics import get as get_metric
from bptt.models import arguments, finite
from bptt.distribution import metrics as distributed_metrics, sharding
from bptt.distribution import training as distributed
from bptt.layers.base import Layer, check_weight_values, unique_name
from bptt.models.compile_args import (Slot, logits_activation, loss_weights_per_output,
                                      losses_per_output, metrics_per_output)
from bptt.progbar import Progbar

def one_call_at_a_time(method):
    """A model method that runs alone: calls from several threads on one model wait for each
    other. A model keeps per-call state on itself and its layers (each layer's cache for the
    backward, the last outputs' masks and logits, the metrics' running totals), so two calls
    at once would mix them; one after the other, each gets what it would get alone. (The
    kernels of one call already use every core.) Re-entrant: a callback may call the model."""
    @functools.wraps(method)
    def alone(self, *args, **kwargs):
        with self._call_lock:
            return method(self, *args, **kwargs)
    return alone


class Trainer(Layer):
    def __init__(self, name=None, trainable=True, prefix="model"):
        super().__init__(name=name or unique_name(prefix), trainable=trainable)
        self._call_lock = threading.RLock()
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False  # a callback may set these to end fit / evaluate / predict
        self.stop_evaluating = False
        self.stop_predicting = False
        self.history = None
        self.metrics = []
        self._slots = []
        self._losses = []
        self._loss_weights = []
        self._compile_args = {}

    # -- hooks a model kind writes -------------------------------------------------------------
    input_names = ()
    output_names = ()
    _outputs_are_dict = False  # Model(inputs, {"name": tensor, ...})

    def _forward_all(self, xs, training):
        raise NotImplementedError

    def _infer_all(self, xs):
        raise NotImplementedError

    def _backward_all(self, douts, from_logits):
        raise NotImplementedError

    def _output_logits(self, index):
        return None

    def _output_mask(self, index):
        """The mask output `index` carried in the last pass (losses and metrics skip its masked
        steps, as Keras'), or None."""
        masks = getattr(self, "_output_masks", None)
        return masks[index] if masks else None

    def _check_inputs(self, xs, what, check_ids):
        """Build if needed and check the input arrays against the model (before any change)."""

    def _unique_layers(self):
        raise NotImplementedError

    def _output_shapes(self):
        return [None] * len(self.output_names)

    # -- compile -------------------------------------------------------------------------------
    @one_call_at_a_time
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='binary_crossentropy'.")
        names = list(self.output_names)
        resolved = losses_per_output(loss, names, losses.get, self._outputs_are_dict)
        weights = loss_weights_per_output(loss_weights, names)
        for what, spec in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if spec is not None and not isinstance(spec, (list, tuple, dict)):
                raise ValueError(f"Expected `{what}` argument to be a list, tuple, or dict. "
                                 f"Received instead: {what}={spec!r} of type {type(spec)}")
            for specs in metrics_per_output(spec, names):  # an unknown name fails here, not in fit
                for item in specs:
                    get_metric(item)
        self.optimizer = optimizers.get(optimizer)
        self._losses, self._loss_weights = resolved, weights
        self.loss = resolved[0] if len(resolved) == 1 else loss
        self._compile_args = {"loss": loss, "loss_weights": loss_weights, "metrics": metrics,
                              "weighted_metrics": weighted_metrics}
        self._metric_specs = (metrics, weighted_metrics)
        self.metrics, self._slots = [], []
        self.compiled = True

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(
                f"You must call model.compile(optimizer=..., loss=...) before model.{what}()."
            )

    def _build_metrics(self):
        """Metric objects, resolved per output as Keras resolves 'accuracy' (from shapes)."""
        if not self._slots and any(spec for spec in self._metric_specs):
            names, shapes = list(self.output_names), self._output_shapes()
            counts = {}
            for weighted, spec in zip((False, True), self._metric_specs):
                for index, specs in enumerate(metrics_per_output(spec, names)):
                    for item in specs:
                        metric = metrics.get(item, loss=self._losses[index],
                                             output_shape=shapes[index])
                        name = metric.name if len(names) == 1 else f"{names[index]}_{metric.name}"
                        if name in counts:
                            counts[name] += 1
                            name = (f"{name.removesuffix(metric.name)}weighted_{metric.name}"
                                    if weighted and counts[name] == 2 else f"{name}_{counts[name] - 1}")
                        counts.setdefault(name, 1)
                        self._slots.append(Slot(index, metric, name, weighted))
            self.metrics = [slot.metric for slot in self._slots]
        for slot in self._slots:
            slot.metric.reset_state()

    # -- one step ------------------------------------------------------------------------------
    def _losses_and_grads(self, ys, outputs, sws, scale=None):
        """(total loss, per-output unweighted losses, d total / d output, from_logits flags);
        with `scale`, the gradients are scaled by it (a process's share of a global batch)."""
        total, parts, douts, from_logits = 0.0, [], [], []
        for index, (loss, weight) in enumerate(zip(self._losses, self._loss_weights)):
            if loss is None:
                parts.append(None), douts.append(None), from_logits.append(False)
                continue
            sw = sws[index] if sws is not None else None
            mask = self._output_mask(index)
            logits = self._output_logits(index) if logits_activation(loss) else None
            if logits is not None:
                value, dout = loss.value_and_grad_logits(ys[index], logits, sw, mask=mask)
            else:
                value, dout = loss.value_and_grad(ys[index], outputs[index], sw, mask=mask)
            value = float(value)
            if weight is not None:
                dout = dout * dout.dtype.type(weight)
            if scale is not None:
                dout = dout * dout.dtype.type(scale)
            total += value if weight is None else value * weight
            parts.append(value), douts.append(dout), from_logits.append(logits is not None)
        return total, parts, douts, from_logits

    def _trainable_pairs(self, names=None):
        """(gradient, weight) of every trainable weight; with a list `names`, each one's name
        is appended to it, in the same order."""
        pairs = []
        if not self.trainable:
            return pairs
        for layer in self._unique_layers():
            if isinstance(layer, Trainer):
                pairs.extend(layer._trainable_pairs(names))
            elif layer.trainable:
                pairs.extend(layer_gradient_pairs(layer, names))
        return pairs

    def _train_step(self, xs, ys, sws):
        """One step: (total loss, per-output losses, None), or, where the loss or a gradient is
        not finite (bptt.models.finite), the same with what is not, and the step not applied.
        Data-parallel (bptt.distribution): this process's shard of the batch, its gradients
        weighted by its share of the rows and summed over the processes before the update."""
        dist = distribution_module.active()
        shard = None if dist is None else distributed.shard(dist, len(xs[0]))
        if shard is not None:
            xs, ys, sws = shard.take(xs), shard.take(ys), shard.take(sws)
        with sharding.drawing(shard):
            outputs = self._forward_all(xs, training=True)
        total, parts, douts, from_logits = self._losses_and_grads(
            ys, outputs, sws, scale=None if shard is None else shard.weight)
        self._backward_all(douts, from_logits)
        pairs = self._trainable_pairs()
        if shard is not None:
            total, parts = distributed.sum_losses(dist, shard, total, parts)
            pairs = distributed.sum_gradients(dist, pairs)
        problem = None
        if backend.get_check_finite():
            found = finite.first_nonfinite(total, [grad for grad, _ in pairs])
            if found is not None:
                names = []
                self._trainable_pairs(names)
                problem = finite.describe(found, total, names)
        if problem is None:
            self.optimizer.apply_gradients(pairs)
        self._update_metrics(ys, outputs, sws, shard)
        return total, parts, problem

    def _test_step(self, xs, ys, sws):
        dist = distribution_module.active()
        shard = None if dist is None else distributed.shard(dist, len(xs[0]))
        if shard is not None:
            xs, ys, sws = shard.take(xs), shard.take(ys), shard.take(sws)
        outputs = self._infer_all(xs)
        total, parts, _, _ = self._losses_and_grads(ys, outputs, sws)
        if shard is not None:
            total, parts = distributed.sum_losses(dist, shard, total, parts)
        self._update_metrics(ys, outputs, sws, shard)
        return total, parts

    def _update_metrics(self, ys, outputs, sws, shard=None):
        if shard is not None and shard.rows == 0:  # a stand-in row: resolve, count nothing
            with distributed_metrics.uncounted([slot.metric for slot in self._slots]):
                self._update_metrics(ys, outputs, sws)
            return
        # As Keras: compile(metrics=...) ignore sample_weight; weighted_metrics use it.
        for slot in self._slots:
            sw = sws[slot.output] if (slot.weighted and sws is not None) else None
            mask = self._output_mask(slot.output)
            extra = {} if mask is None else {"mask": mask}
            if sw is not None:
                extra["sample_weight"] = sw
            slot.metric.update_state(ys[slot.output], outputs[slot.output], **extra)

    # -- running means over batches (Keras' loss trackers, weighted by batch size) -------------
    def _new_totals(self):
        return {"loss": [0.0, 0]} | {name: [0.0, 0] for name in self._loss_names()}

    def _loss_names(self):
        active = [i for i, loss in enumerate(self._losses) if loss is not None]
        if len(active) < 2:
            return []
        return [f"{self.output_names[i]}_loss" for i in active]

    def _add_to_totals(self, totals, total, parts, count):
        totals["loss"][0] += total * count
        totals["loss"][1] += count
        names = iter(self._loss_names())
        if self._loss_names():
            for part in parts:
                if part is not None:
                    entry = totals[next(names)]
                    entry[0] += part * count
                    entry[1] += count

    def _logs(self, totals):
        logs = {name: (value / count if count else 0.0) for name, (value, count) in totals.items()}
        dist = distribution_module.active()
        if dist is None:
            logs.update({slot.log_name: float(slot.metric.result()) for slot in self._slots})
        else:  # the result over every process's rows
            logs.update({slot.log_name: distributed_metrics.global_result(
                dist.communicator, slot.metric) for slot in self._slots})
        return dict(sorted(logs.items()))

    def _ordered(self, logs):
        """evaluate()'s list, in Keras 3's order: loss; the metrics whose own name is their log
        key (one output), in compile order; each output's loss; then the other keys sorted
        (with several outputs, 'main_accuracy' and the like)."""
        names = ["loss"]
        for name in [slot.metric.name for slot in self._slots] + self._loss_names():
            if name in logs and name not in names:
                names.append(name)
        names += sorted(key for key in logs if key not in names)
        values = [logs[name] for name in names]
        return values[0] if len(values) == 1 else values

    # -- data ------------------------------------------------------------------------------------
    def _prepare(self, x, y=None, sample_weight=None, what="fit", check_ids=True):
        """Arrays as lists (one per input / output), checked, before anything changes."""
        xs = data_adapter.as_list(x, list(self.input_names), "x")
        ys = None if y is None else data_adapter.as_list(y, list(self.output_names), "y")
        sws = None if sample_weight is None else data_adapter.as_list(
            sample_weight, list(self.output_names), "sample_weight", repeat=True)
        data_adapter.check_lengths(xs, ys, sws)
        arguments.nonempty(xs, what)
        arguments.targets(ys)
        arguments.sample_weights(sws)
        self._check_inputs(xs, what, check_ids)
        return xs, ys, sws

    def _batches(self, data, what, batch_size, shuffle=False, steps=None, check_ids=True):
        """A BatchSource over (xs, ys, sws) arrays or over a dataset (generator, PyDataset,
        tf.data.Dataset), each batch checked as it comes."""
        if data_adapter.is_dataset(data[0]):
            if any(item is not None for item in data[1:]):
                raise ValueError(
                    f"{what}: when x is a dataset, generator or PyDataset it yields the targets "
                    "itself; do not pass y or sample_weight as well.")
            prepare = (lambda batch: self._prepare(*batch, what=what, check_ids=check_ids))
            return data_adapter.DatasetBatches(data[0], prepare, steps, shuffle)
        if steps is not None:
            raise ValueError(f"{what}: steps is for datasets and generators; with arrays, pick "
                             "the samples by slicing them (e.g. x[:steps * batch_size]).")
        arrays = self._prepare(*data, what=what, check_ids=check_ids)
        return data_adapter.ArrayBatches(arrays, batch_size or 32, shuffle)

    # -- fit / evaluate / predict ------------------------------------------------------------------
    @one_call_at_a_time
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        self._require_compiled("fit")
        arguments.fit_arguments(batch_size, epochs, verbose, validation_split, shuffle,
                                initial_epoch, steps_per_epoch, validation_steps,
                                validation_batch_size, validation_freq)
        dataset = data_adapter.is_dataset(x)
        if y is None and not dataset:
            raise ValueError("fit needs targets: model.fit(x, y, ...), or a dataset / generator "
                             "that yields (x, y) batches.")
        if dataset and validation_split:
            raise ValueError("validation_split is only supported for NumPy arrays, not for "
                             "datasets or generators: pass validation_data=(x_val, y_val).")
        if class_weight is not None and sample_weight is not None:
            raise ValueError("Pass either class_weight or sample_weight to fit, not both.")
        train = self._batches((x, y, sample_weight), "fit", batch_size, shuffle, steps_per_epoch)
        if class_weight is not None:
            train.class_weight(class_weight)
        dist = distribution_module.active()
        if dist is not None:
            distributed.start_fit(dist, self)
        val = None
        if validation_data is not None:
            if data_adapter.is_dataset(validation_data):
                val = self._batches((validation_data, None, None), "validation_data", None,
                                    steps=validation_steps)
            else:
                if len(validation_data) not in (2, 3):
                    raise ValueError("validation_data must be (x_val, y_val) or (x_val, y_val, "
                                     f"sample_weight), got {len(validation_data)} items.")
                val = self._batches(tuple(validation_data) + (None,) * (3 - len(validation_data)),
                                    "validation_data", validation_batch_size or batch_size)
        elif validation_split:
            val = train.split_validation(validation_split, validation_batch_size or batch_size)
        verbose = _chief_verbose(verbose)
        history = callbacks_module.History()
        extra = [callbacks_module.ProgbarLogger(verbose)] if verbose else []
        cbs = callbacks_module.CallbackList(_chief_callbacks(callbacks) + extra + [history], self,
                                            {"epochs": epochs, "steps": train.steps,
                                             "verbose": verbose})
        self.history = history
        self.stop_training = False
        self._build_metrics()
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            self._build_metrics()
            cbs.on_epoch_begin(epoch)
            totals, logs = self._new_totals(), {}
            for step, (xs, ys, sws) in enumerate(train.epoch()):
                cbs.on_train_batch_begin(step)
                total, parts, problem = self._train_step(xs, ys, sws)
                self._add_to_totals(totals, total, parts, len(xs[0]))
                logs = self._logs(totals)
                if problem is not None:
                    self._stop_on_nonfinite(f"fit stopped at epoch {epoch + 1}, batch {step + 1} "
                                            f"(batch index {step})", problem)
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_batches(val, callbacks=cbs)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end()
        return history

    @staticmethod
    def _check_loop_arguments(batch_size, steps, verbose):
        arguments.count(batch_size, "batch_size", optional=True)
        arguments.count(steps, "steps", optional=True)
        arguments.verbose(verbose)

    def _stop_on_nonfinite(self, where, problem):
        """A step's loss or gradient was NaN or inf: it was not applied, so the weights are
        those of the last finite step; say so, and end fit after this batch."""
        self.stop_training = True
        warnings.warn(f"{where}: {problem}. The step was not applied: the weights are those "
                      f"after the last finite step. {finite.LIKELY_CAUSES}", RuntimeWarning,
                      stacklevel=3)

    def _evaluate_batches(self, source, progbar=None, callbacks=None):
        """The test loop of evaluate and of fit's validation, with Keras' test hooks."""
        cbs = callbacks or callbacks_module.CallbackList([], self, {})
        self._build_metrics()
        self.stop_evaluating = False
        cbs.on_test_begin()
        totals = self._new_totals()
        for step, (xs, ys, sws) in enumerate(source.epoch()):
            cbs.on_test_batch_begin(step)
            total, parts = self._test_step(xs, ys, sws)
            self._add_to_totals(totals, total, parts, len(xs[0]))
            logs = self._logs(totals)
            if progbar is not None:
                progbar.update(step + 1, logs, finalize=False)
            cbs.on_test_batch_end(step, logs)
            if self.stop_evaluating:
                break
        logs = self._logs(totals)
        if progbar is not None:
            progbar.update(progbar.target, logs, finalize=True)
        cbs.on_test_end(logs)
        return logs

    @one_call_at_a_time
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        self._require_compiled("evaluate")
        self._check_loop_arguments(batch_size, steps, verbose)
        if y is None and not data_adapter.is_dataset(x):
            raise ValueError("evaluate needs targets: model.evaluate(x, y).")
        source = self._batches((x, y, sample_weight), "evaluate", batch_size, steps=steps)
        verbose = _chief_verbose(verbose)
        progbar = Progbar(source.steps or 1, verbose=verbose,
                          stateless_metrics=set()) if verbose else None
        cbs = callbacks_module.CallbackList(_chief_callbacks(callbacks), self,
                                            {"epochs": 1, "steps": source.steps,
                                             "verbose": verbose})
        logs = self._evaluate_batches(source, progbar, cbs)
        return logs if return_dict else self._ordered(logs)

    @one_call_at_a_time
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        self._check_loop_arguments(batch_size, steps, verbose)
        source = self._batches((x, None, None), "predict", batch_size, steps=steps,
                               check_ids=False)
        verbose = _chief_verbose(verbose)
        progbar = Progbar(source.steps or 1, verbose=verbose,
                          stateless_metrics=set()) if verbose else None
        cbs = callbacks_module.CallbackList(_chief_callbacks(callbacks), self,
                                            {"epochs": 1, "steps": source.steps,
                                             "verbose": verbose})
        self.stop_predicting = False
        dist = distribution_module.active()
        cbs.on_predict_begin()
        batches = []
        for step, (xs, _, _) in enumerate(source.epoch(targets=False)):
            cbs.on_predict_batch_begin(step)
            if dist is None:
                batches.append(self._infer_all(xs))
            else:  # this process's rows (none, for a stand-in row); gathered below
                shard = distributed.shard(dist, len(xs[0]))
                outputs = self._infer_all(shard.take(xs))
                batches.append([output[:shard.rows] for output in outputs])
            if progbar is not None:
                progbar.update(step + 1, finalize=False)
            cbs.on_predict_batch_end(step, {"outputs": self._pack_outputs(batches[-1])})
            if self.stop_predicting:
                break
        if progbar is not None:
            progbar.update(progbar.target, finalize=True)
        cbs.on_predict_end()
        if dist is not None:
            batches = distributed.gather_predictions(dist, batches)
        if not batches:
            raise ValueError("predict got no data: the dataset or generator yielded no batch.")
        return self._pack_outputs([np.concatenate(parts, axis=0) for parts in zip(*batches)])

    def _pack_outputs(self, outputs):
        """One array for one output, else a list (a dict when the model's outputs were)."""
        return outputs[0] if len(outputs) == 1 else list(outputs)

    @one_call_at_a_time
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._require_compiled("train_on_batch")
        xs, ys, sws = self._prepare(x, y, sample_weight, "train_on_batch")
        if class_weight is not None:
            sws = data_adapter.class_weights_for(ys, class_weight)
        self._build_metrics()
        totals = self._new_totals()
        total, parts, problem = self._train_step(xs, ys, sws)
        if problem is not None:
            self._stop_on_nonfinite("train_on_batch", problem)
        self._add_to_totals(totals, total, parts, len(xs[0]))
        logs = self._logs(totals)
        return logs if return_dict else self._ordered(logs)

    @one_call_at_a_time
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        xs, ys, sws = self._prepare(x, y, sample_weight, "test_on_batch")
        self._build_metrics()
        totals = self._new_totals()
        total, parts = self._test_step(xs, ys, sws)
        self._add_to_totals(totals, total, parts, len(xs[0]))
        logs = self._logs(totals)
        return logs if return_dict else self._ordered(logs)

    @one_call_at_a_time
    def predict_on_batch(self, x):
        xs, _, _ = self._prepare(x, what="predict_on_batch", check_ids=False)
        return self._pack_outputs(self._infer_all(xs))

    @one_call_at_a_time
    def reset_states(self):
        """Zero the states of every stateful layer inside (Keras 2's Model.reset_states)."""
        for layer in self._unique_layers():
            reset = getattr(layer, "reset_states", None)
            if callable(reset):  # a layer that is not stateful has nothing to reset
                reset()

    # -- weights ---------------------------------------------------------------------------------
    @property
    def layers(self):
        return list(self._unique_layers())

    @property
    def weights(self):
        return [w for layer in self._unique_layers() for w in layer.weights]

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for layer in self._unique_layers() for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for layer in self._unique_layers() for w in layer.non_trainable_weights]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    @one_call_at_a_time
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
            check_weight_values(new, f"Weight {index} of model '{self.name}'")
        start = 0
        for layer in self._unique_layers():
            count = len(layer.weights)
            if count:
                layer.set_weights(weights[start:start + count])
            start += count

    def weight_names(self):
        return [name for layer in self._unique_layers() for name in layer.weight_names()]

    def count_params(self):
        return sum(layer.count_params() for layer in self._unique_layers())

    def get_layer(self, name=None, index=None):
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only "
                                 f"has {len(layers)} layers.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in layers]}.")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        from bptt.summary import summary_text

        (print_fn or print)(summary_text(self, line_length))

    def to_json(self, **kwargs):
        import json

        from bptt.layers import serialize

        return json.dumps(serialize(self), **kwargs)

    @one_call_at_a_time
    def save(self, filepath, overwrite=True):
        from bptt import saving

        if distribution_module.is_chief():  # data-parallel: rank 0 writes, the others wait
            saving.save_model(self, filepath)
        distribution_module.barrier()

    @one_call_at_a_time
    def save_weights(self, filepath, overwrite=True):
        from bptt import saving

        if distribution_module.is_chief():
            saving.save_weights(self, filepath)
        distribution_module.barrier()

    @one_call_at_a_time
    def load_weights(self, filepath):
        from bptt import saving

        saving.load_weights(self, filepath)


def _chief_verbose(verbose):
    """fit's, evaluate's and predict's verbose: 'auto' is 1; data-parallel, only rank 0
    prints."""
    verbose = 1 if verbose == "auto" else verbose
    return verbose if distribution_module.is_chief() else 0


def _chief_callbacks(callbacks):
    """The callbacks of this process: data-parallel, those that write files of their own
    (CSVLogger, PlotHistory, or any with `chief_only = True`) run on rank 0 alone.
    ModelCheckpoint runs everywhere, deciding alike from the same logs; model.save writes on
    rank 0 only."""
    callbacks = _as_list(callbacks)
    if distribution_module.is_chief():
        return callbacks
    writers = (callbacks_module.CSVLogger, callbacks_module.PlotHistory)
    return [c for c in callbacks
            if not (isinstance(c, writers) or getattr(c, "chief_only", False))]


def _as_list(callbacks):
    """fit's, evaluate's and predict's `callbacks`: None, one callback, or a list of them."""
    if callbacks is None:
        return []
    if isinstance(callbacks, callbacks_module.Callback):
        return [callbacks]
    if isinstance(callbacks, (list, tuple)):
        return list(callbacks)
    raise ValueError("callbacks must be a list of callbacks, e.g. callbacks=[EarlyStopping()], "
                     f"got {callbacks!r}.")


def layer_gradient_pairs(layer, names=None):
    """(gradient, weight) for every trainable weight of a layer; an Embedding's gradient comes
    as Keras on TensorFlow hands it over (optimizers.RowGradient). With a list `names`, each
    weight's name ('layer/key') is appended to it."""
    squares = getattr(layer, "grad_squares", {})
    rows = getattr(layer, "grad_rows", {})
    lookups = getattr(layer, "grad_lookups", {})
    frozen = getattr(layer, "non_trainable", ())
    pairs = []
    for key, value in layer.params.items():
        if key in frozen:
            continue
        grad = layer.grads[key]
        if key in squares:
            grad = optimizers.RowGradient(grad, squares[key], rows.get(key), lookups.get(key))
        pairs.append((grad, value))
        if names is not None:
            names.append(f"{layer.name}/{key}")
    return pairs
