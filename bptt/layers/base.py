"""The contract every layer keeps.

    build(input_shape)            create self.params (Keras' names, Keras' order)
    forward(x, training) -> y     keep what backward needs in self.cache
    backward(dy) -> dx            fill self.grads (same keys as self.params); return dx
    infer(x) -> y                 forward(x, training=False) when no backward follows (predict,
                                  evaluate); may keep nothing (the recurrent layers' fused
                                  inference kernels), so a backward after it raises
    compute_output_shape(shape)   shapes with None for the batch (and free time) axes
    get_config() / from_config()  a flat dict of constructor arguments, and back

Layers are callable on arrays as in Keras: `layers.LSTM(4)(x)` builds on first use and runs
the forward pass in inference mode (`infer`: no backward may follow).
"""
import inspect
import itertools
import re
import warnings

import numpy as np

from bptt import backend

_NAME_COUNTERS = {}
_REGULARIZATION_ARGS = (
    "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
    "embeddings_regularizer", "beta_regularizer", "gamma_regularizer", "kernel_constraint",
    "recurrent_constraint", "bias_constraint", "embeddings_constraint", "beta_constraint",
    "gamma_constraint",
)


def _snake(name):
    """Keras' default layer names: SimpleRNN -> simple_rnn, Conv1D -> conv1d,
    MaxPooling1D -> max_pooling1d, TimeDistributed -> time_distributed."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", re.sub(r"\W+", "", name))
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix):
    counter = _NAME_COUNTERS.setdefault(prefix, itertools.count())
    index = next(counter)
    return prefix if index == 0 else f"{prefix}_{index}"



def check_weight_values(value, what):
    """A weight array to copy in holds real numbers (bools and ints are cast, as Keras casts
    them); text, objects and complex numbers are refused before anything changes."""
    dtype = np.asarray(value).dtype
    if not (np.issubdtype(dtype, np.number) or dtype == bool) \
            or np.issubdtype(dtype, np.complexfloating):
        raise ValueError(f"{what} must hold real numbers, got an array of dtype {dtype}.")

class Layer:
    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None,
                 batch_input_shape=None, **kwargs):
        for key in _REGULARIZATION_ARGS:  # Keras' options bptt does not have: None is fine
            if kwargs.pop(key, None) is not None:
                raise NotImplementedError(
                    f"{type(self).__name__}({key}=...) is not supported: bptt has no weight "
                    "regularizers or constraints. Leave it at None; for regularization use "
                    "Dropout / recurrent_dropout, or an optimizer's weight_decay (AdamW).")
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s) {sorted(kwargs)}; "
                "check the spelling against the Keras argument names."
            )
        cls = type(self)
        if callable(getattr(cls, "call", None)) and cls.forward is Layer.forward:
            raise NotImplementedError(
                f"{cls.__name__} is a Layer subclass with a `call` method only: bptt does not "
                "have layers defined by their forward computation alone, because it runs no "
                "autograd and every layer needs a hand-written backward. Build it from bptt's "
                "layers (Dense, Add, Multiply, Reshape, ...), or subclass Layer and write "
                "build(input_shape), forward(x, training) and backward(dy) (see "
                "bptt.layers.base).")
        self.name = name or unique_name(_snake(type(self).__name__))
        self.trainable = trainable
        self.dtype = dtype or backend.floatx()
        self.params = {}
        self.grads = {}
        self.cache = None
        self.built = False
        self.input_shape = None
        # Keras 2's way of declaring the model's input on its first layer, still accepted by
        # Keras 3's Sequential: LSTM(32, input_shape=(10, 4)).
        self.declared_input_shape = (
            (None,) + tuple(input_shape) if input_shape is not None
            else tuple(batch_input_shape) if batch_input_shape is not None else None)

    # -- to be written by each layer -------------------------------------------------------
    def build(self, input_shape):
        self.input_shape = tuple(input_shape)
        self.built = True

    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, dy):
        raise NotImplementedError

    def infer(self, x):
        """forward(x, training=False) when no backward follows (predict, evaluate); a layer may
        override it to skip what only backward needs."""
        return self.forward(x, training=False)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # -- masks (Keras 3's rules) ------------------------------------------------------------
    # A mask is a bool array (batch, time), True at real steps. A layer that supports masking
    # passes one on (compute_mask); a layer whose forward takes `mask=` also reads it; a mask
    # reaching a layer that does not support masking is dropped, with Keras' warning.
    supports_masking = False

    def compute_mask(self, inputs, mask=None):
        """The mask of this layer's output(s), from its input(s) and their mask."""
        return mask

    @classmethod
    def takes_mask(cls):
        """Whether forward (and infer) read a `mask=` argument."""
        cached = cls.__dict__.get("_takes_mask")
        if cached is None:
            cached = "mask" in inspect.signature(cls.forward).parameters
            cls._takes_mask = cached
        return cached

    # -- shared behaviour -------------------------------------------------------------------
    def __call__(self, x, training=False, **kwargs):
        from bptt.layers import symbolic

        if symbolic.any_symbolic(x, kwargs):
            return symbolic.call(self, x, training=training, **kwargs)
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected call argument(s) "
                            f"{sorted(kwargs)}.")
        x = np.asarray(x)
        if not self.built:
            self.build((None,) + tuple(x.shape[1:]))
        return self.forward(x, training=True) if training else self.infer(x)

    @property
    def output(self):
        """The symbolic output of this layer's first call in a functional graph (Keras'
        `layer.output`), e.g. Model(model.input, model.get_layer("lstm").output)."""
        node = self._first_node("output")
        return node.pack_outputs(node.outputs)

    @property
    def input(self):
        node = self._first_node("input")
        return node.outputs[0] if not node.inputs else node.pack_inputs(node.inputs)

    def _first_node(self, what):
        nodes = self.__dict__.get("_inbound_nodes") or []
        if not nodes:
            raise AttributeError(
                f"Layer '{self.name}' has never been called on a symbolic tensor and thus has "
                f"no defined {what}: call it on keras.Input(...) (or another layer's output) "
                "first.")
        return nodes[0]

    def add_weight(self, name, shape, initializer):
        from bptt import initializers

        if initializers.skipping():  # its value will be overwritten (load_model)
            self.params[name] = initializers.uninitialized(shape, self.dtype)
            return self.params[name]
        value = initializers.get(initializer)(tuple(shape), self.dtype, self.rng())
        self.params[name] = np.ascontiguousarray(value, dtype=self.dtype)
        return self.params[name]

    def rng(self):
        """This layer's generator if it was given a seed, else the global one."""
        return getattr(self, "_rng", None) or backend.global_rng()

    def zero_grads(self):
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}

    @property
    def weights(self):
        return list(self.params.values())

    @property
    def trainable_weights(self):
        return self.weights if self.trainable else []

    @property
    def non_trainable_weights(self):
        return [] if self.trainable else self.weights

    def weight_names(self):
        return [f"{self.name}/{key}" for key in self.params]

    def get_weights(self):
        return [value.copy() for value in self.params.values()]

    def set_weights(self, weights):
        """Copy `weights` in (Keras' order) after checking every shape; nothing changes on error."""
        weights = list(weights)
        expected = [value.shape for value in self.params.values()]
        if len(weights) != len(expected):
            raise ValueError(
                f"Layer '{self.name}' expects {len(expected)} weight arrays "
                f"(shapes {expected}), got {len(weights)}."
            )
        for key, target, new in zip(self.params, expected, weights):
            if np.shape(new) != target:
                raise ValueError(
                    f"Layer '{self.name}' weight '{key}' has shape {target}, "
                    f"got an array of shape {np.shape(new)}."
                )
            check_weight_values(new, f"Layer '{self.name}' weight '{key}'")
        for key, new in zip(list(self.params), weights):
            self.params[key][...] = np.asarray(new, dtype=self.params[key].dtype)

    def count_params(self):
        return int(sum(value.size for value in self.params.values()))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def output_mask(layer, inputs, mask):
    """What mask the output(s) of `layer` carry, by Keras 3's rules: compute_mask where the
    layer supports masking; otherwise none, with Keras' warning if a mask arrived."""
    if layer.supports_masking:
        return layer.compute_mask(inputs, mask)
    flat = mask if isinstance(mask, list) else [mask]
    if any(m is not None for m in flat):
        warnings.warn(
            f"Layer '{layer.name}' (of type {type(layer).__name__}) was passed an input with a "
            "mask attached to it. However, this layer does not support masking and will "
            "therefore destroy the mask information. Downstream layers will not see the mask.",
            stacklevel=3)
    return None
