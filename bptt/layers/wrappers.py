"""Bidirectional and TimeDistributed: layers that wrap another layer.

Bidirectional runs a copy of the layer with go_backwards flipped, built from the wrapped layer's
config (as Keras does), puts its sequence back in forward time order, and merges the two:
    concat  [y_f, y_b] on the last axis      sum  y_f + y_b      mul  y_f * y_b
    ave     (y_f + y_b) / 2                  None [y_f, y_b] as a list
TimeDistributed applies its layer to every timestep at once, by folding time into the batch:
(B, T, ...) -> (B*T, ...) -> layer -> (B, T, ...).
"""
import numpy as np

from bptt.layers.base import Layer

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _deserialize(config):
    from bptt.layers import deserialize

    return deserialize(config)


class Bidirectional(Layer):
    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if isinstance(layer, dict):
            layer = _deserialize(layer)
        if isinstance(backward_layer, dict):
            backward_layer = _deserialize(backward_layer)
        if not hasattr(layer, "go_backwards"):
            raise ValueError(
                f"Bidirectional wraps a recurrent layer (SimpleRNN, LSTM, GRU), got {layer!r}."
            )
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Bidirectional merge_mode must be one of {MERGE_MODES}, "
                             f"got {merge_mode!r}.")
        super().__init__(**kwargs)
        config = layer.get_config()
        self.forward_layer = type(layer).from_config({**config, "name": f"forward_{layer.name}"})
        if backward_layer is None:
            backward_config = {**config, "name": f"backward_{layer.name}",
                               "go_backwards": not config["go_backwards"]}
            backward_layer = type(layer).from_config(backward_config)
        self.backward_layer = backward_layer
        if backward_layer.return_sequences != layer.return_sequences:
            raise ValueError("Bidirectional: forward and backward layers must agree on "
                             "return_sequences.")
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self._initial_weights = weights

    def build(self, input_shape):
        self.forward_layer.build(input_shape)
        self.backward_layer.build(input_shape)
        self.params = {f"forward/{k}": v for k, v in self.forward_layer.params.items()}
        self.params.update({f"backward/{k}": v for k, v in self.backward_layer.params.items()})
        super().build(input_shape)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def compute_output_shape(self, input_shape):
        out_f = self.forward_layer.compute_output_shape(input_shape)
        out_b = self.backward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            (out_f, *states_f), (out_b, *states_b) = out_f, out_b
            states = states_f + states_b
        if self.merge_mode == "concat":
            out = tuple(out_f[:-1]) + (out_f[-1] + out_b[-1],)
        elif self.merge_mode is None:
            out = [out_f, out_b]
        else:
            out = out_f
        return [out] + states if self.return_state else out

    def __call__(self, x, training=False, initial_state=None):
        from bptt.layers import symbolic

        if symbolic.any_symbolic(x, {"initial_state": initial_state}):
            return symbolic.call(self, x, training=training, initial_state=initial_state)
        x = np.asarray(x)
        if not self.built:
            self.build((None,) + tuple(x.shape[1:]))
        return self.forward(x, training=training, initial_state=initial_state)

    def forward(self, x, training=False, initial_state=None):
        init_f = init_b = None
        if initial_state is not None:
            half = len(initial_state) // 2
            init_f, init_b = initial_state[:half], initial_state[half:]
        y_f = self.forward_layer.forward(x, training=training, initial_state=init_f)
        y_b = self.backward_layer.forward(x, training=training, initial_state=init_b)
        states = []
        if self.return_state:
            (y_f, *states_f), (y_b, *states_b) = y_f, y_b
            states = states_f + states_b
        if self.return_sequences:
            y_b = y_b[:, ::-1]  # back to forward time order
        self.cache = (y_f, y_b)
        if self.merge_mode == "concat":
            out = np.concatenate([y_f, y_b], axis=-1)
        elif self.merge_mode == "sum":
            out = y_f + y_b
        elif self.merge_mode == "mul":
            out = y_f * y_b
        elif self.merge_mode == "ave":
            out = (y_f + y_b) / y_f.dtype.type(2)
        else:
            out = [y_f, y_b]
        return [out] + states if self.return_state else out

    def backward(self, dy):
        y_f, y_b = self.cache
        dstates = []
        if self.return_state:
            dy, *dstates = dy
        if self.merge_mode == "concat":
            units = y_f.shape[-1]
            dy_f, dy_b = dy[..., :units], dy[..., units:]
        elif self.merge_mode == "sum":
            dy_f = dy_b = dy
        elif self.merge_mode == "mul":
            dy_f, dy_b = dy * y_b, dy * y_f
        elif self.merge_mode == "ave":
            dy_f = dy_b = dy / dy.dtype.type(2)
        else:
            dy_f, dy_b = dy
        if self.return_sequences:
            dy_b = dy_b[:, ::-1]
        if self.return_state:
            half = len(dstates) // 2
            dy_f = [dy_f, *dstates[:half]]
            dy_b = [dy_b, *dstates[half:]]
        dx = self.forward_layer.backward(dy_f) + self.backward_layer.backward(dy_b)
        # the gradients of initial_state: the forward layer's states, then the backward one's
        self.initial_state_grads = (list(self.forward_layer.initial_state_grads or [])
                                    + list(self.backward_layer.initial_state_grads or []))
        self.grads = {f"forward/{k}": v for k, v in self.forward_layer.grads.items()}
        self.grads.update({f"backward/{k}": v for k, v in self.backward_layer.grads.items()})
        return dx

    def get_config(self):
        layer_config = self.forward_layer.get_config()
        layer_config["name"] = layer_config["name"].removeprefix("forward_")
        return {
            **super().get_config(),
            "layer": {"class_name": type(self.forward_layer).__name__, "config": layer_config},
            "merge_mode": self.merge_mode,
            "backward_layer": _serialize(self.backward_layer),
        }


class TimeDistributed(Layer):
    def __init__(self, layer, **kwargs):
        if isinstance(layer, dict):
            layer = _deserialize(layer)
        super().__init__(**kwargs)
        self.layer = layer

    def _check_rank(self, shape):
        if len(shape) < 3:
            raise ValueError(
                f"TimeDistributed '{self.name}' expects an input (batch, timesteps, ...) of rank "
                f">= 3, got shape {tuple(shape)}. Give the recurrent layer before it "
                "return_sequences=True so it outputs one vector per timestep."
            )

    def build(self, input_shape):
        self._check_rank(input_shape)
        self.layer.build((input_shape[0],) + tuple(input_shape[2:]))
        self.params = self.layer.params
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((input_shape[0],) + tuple(input_shape[2:]))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])

    def forward(self, x, training=False):
        self._check_rank(x.shape)
        batch, steps = x.shape[:2]
        y = self.layer.forward(x.reshape((batch * steps,) + x.shape[2:]), training=training)
        self.cache = (batch, steps)
        logits = getattr(self.layer, "logits", None)
        if logits is not None:
            self.logits = logits.reshape((batch, steps) + logits.shape[1:])
        return y.reshape((batch, steps) + y.shape[1:])

    def _fold(self, dy):
        batch, steps = self.cache
        return dy.reshape((batch * steps,) + dy.shape[2:])

    def _unfold(self, dx):
        batch, steps = self.cache
        return None if dx is None else dx.reshape((batch, steps) + dx.shape[1:])

    def backward(self, dy):
        dx = self.layer.backward(self._fold(dy))
        self.grads = self.layer.grads
        return self._unfold(dx)

    def backward_from_logits(self, dz):
        dx = self.layer.backward_from_logits(self._fold(dz))
        self.grads = self.layer.grads
        return self._unfold(dx)

    @property
    def activation(self):
        return getattr(self.layer, "activation", None)

    def get_config(self):
        return {**super().get_config(), "layer": _serialize(self.layer)}
