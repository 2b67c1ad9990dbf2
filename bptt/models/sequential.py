"""Sequential: a stack of layers, one input and one output.

    model = models.Sequential([...]) or model.add(layer)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=32, validation_split=0.1)

The training loop (fit, evaluate, predict, the *_on_batch methods) is bptt.models.training's,
shared with the functional Model. Sequential adds the stack: `add` / `pop`, building from the
first input shape it sees, an inference pass that runs two stacked LSTMs (and the Embedding
in front of them) as one pipelined call, and a training pass that projects a small vocabulary's
table rows for the LSTM behind its Embedding (bptt.layers.lookup_training).
"""
import numpy as np

from bptt.layers import LSTM, Embedding, InputLayer, Layer, deserialize, serialize
from bptt.layers import lookup_inference, lookup_training, symbolic
from bptt.layers.base import output_mask
from bptt.layers.masking import Masking
from bptt.models.functional import Model
from bptt.models.training import Trainer, logits_activation, one_call_at_a_time


class Sequential(Model):
    def __init__(self, layers=None, trainable=True, name=None):
        Trainer.__init__(self, name=name, trainable=trainable, prefix="sequential")
        self._layers = []
        self._input_layer = None
        self.built = False
        self._caches_kept = False  # whether the last pass was _forward, so _backward may follow
        for layer in layers or []:
            self.add(layer)

    # -- structure ------------------------------------------------------------------------
    input_names = ("input",)
    output_names = ("output",)

    def _unique_layers(self):
        return self._layers

    def _output_shapes(self):
        return [getattr(self, "output_shape", None)]

    def add(self, layer):
        if symbolic.is_symbolic(layer) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer  # Sequential([Input(shape=...), ...]) as in Keras 3
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
                self._build_added()
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
            shape = self._build_layer(layer, shape)
        self._build_input_shape = tuple(input_shape)
        self.output_shape = shape
        self.built = bool(self._layers)
        self._built_layers = len(self._layers)

    @staticmethod
    def _build_layer(layer, shape):
        """Build one layer of the stack on the shape below it; its output shape."""
        if not layer.built:
            layer.build(shape)
        shape = layer.compute_output_shape(shape)
        if isinstance(shape, list):
            raise ValueError(
                f"Layer '{layer.name}' returns several arrays (return_state=True or "
                "merge_mode=None); a Sequential model needs one output per layer."
            )
        return shape

    def _build_added(self):
        """Build after `add`: only the new layer when the stack below it is built as it
        stands (so adding n layers takes time in n), else the whole stack."""
        if self.built and getattr(self, "_built_layers", None) == len(self._layers) - 1:
            self.output_shape = self._build_layer(self._layers[-1], self.output_shape)
            self._built_layers = len(self._layers)
        else:
            self.build(self._input_layer.input_shape)

    def _ensure_built(self, x):
        if not self.built or any(not layer.built for layer in self._layers):
            self.build((None,) + tuple(x.shape[1:]))

    # -- forward, loss, backward --------------------------------------------------------------
    def _forward(self, x, training):
        self._caches_kept = True
        layers, index, mask = self._layers, 0, None
        while index < len(layers):
            layer = layers[index]
            if isinstance(layer, Embedding) and index + 1 < len(layers):
                # the LSTM's input projection made from the table's rows, where that pays
                output = lookup_training.forward(layer, layers[index + 1], x, mask)
                if output is not None:
                    x, index = output, index + 2
                    continue
            x, mask = self._call(layer, x, mask, training=training)
            index += 1
        self._output_masks = [mask]
        return x

    @staticmethod
    def _call(layer, x, mask, training=None):
        """One layer, forward (training given) or inference, and the mask its output carries."""
        kwargs = {"mask": mask} if mask is not None and layer.takes_mask() else {}
        y = layer.infer(x, **kwargs) if training is None else \
            layer.forward(x, training=training, **kwargs)
        return y, output_mask(layer, x, mask)

    def _infer(self, x):
        """The forward pass when no backward follows (predict, evaluate): layers keep no cache.
        Two stacked LSTMs may run as one pipelined call (LSTM.infer_with), with the lookup of
        an Embedding in front of them inside it."""
        self._caches_kept = False
        layers, index, mask = self._layers, 0, None
        while index < len(layers):
            layer = layers[index]
            if (mask is not None or getattr(layer, "mask_zero", False)
                    or isinstance(layer, Masking)):
                x, mask = self._call(layer, x, mask)  # masked steps: one layer at a time
                index += 1
                continue
            if (isinstance(layer, Embedding) and index + 2 < len(layers)
                    and isinstance(layers[index + 1], LSTM)):
                output = layers[index + 1].infer_with(layers[index + 2], x, lookup=layer)
                if output is not None:
                    x, index = output, index + 3
                    continue
            if isinstance(layer, Embedding) and index + 1 < len(layers):
                output = lookup_inference.infer(layer, layers[index + 1], x)
                if output is not None:
                    x, index = output, index + 2
                    continue
            together = getattr(layer, "infer_with", None)
            output = together(layers[index + 1], x) if together and index + 1 < len(layers) else None
            if output is not None:
                x, index = output, index + 2
            else:
                x, index = layer.infer(x), index + 1
        self._output_masks = [mask]
        return x

    def _uses_logits(self):
        last = self._layers[-1]
        activation = logits_activation(self.loss)
        return (activation is not None and getattr(last, "activation", None) == activation
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
        grad = dout  # returned: the gradient of the input (None below an Embedding)
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
        return grad

    def _forward_all(self, xs, training):
        return [self._forward(xs[0], training)]

    def _infer_all(self, xs):
        return [self._infer(xs[0])]

    def _backward_all(self, douts, from_logits):
        return [self._backward(douts[0], from_logits[0])]

    def _output_logits(self, index):
        return self._layers[-1].logits if self._uses_logits() else None

    # -- checks before anything changes ----------------------------------------------------------
    def _check_inputs(self, xs, what, check_ids):
        """check_ids=False where no weight can change before the Embedding checks its ids itself
        (predict): the check then runs once, not twice."""
        x = xs[0]
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

    @one_call_at_a_time
    def __call__(self, x, training=False, **kwargs):
        if symbolic.any_symbolic(x, kwargs):
            return symbolic.call(self, x, training=training, **kwargs)
        x = np.asarray(x)
        self._ensure_built(x)
        return self._forward(x, training=True) if training else self._infer(x)

    # -- the layer contract, so a Sequential can be called inside another model ---------------
    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def forward(self, x, training=False):
        return self._forward(x, training)

    def infer(self, x):
        return self._infer(x)

    def backward(self, dy):
        return self._backward(dy, False)

    # -- config --------------------------------------------------------------------------------
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
