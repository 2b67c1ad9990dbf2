"""Bidirectional and TimeDistributed: layers that wrap another layer.

Bidirectional runs a copy of the layer with go_backwards flipped, built from the wrapped layer's
config (as Keras does), puts its sequence back in forward time order, and merges the two:
    concat  [y_f, y_b] on the last axis      sum  y_f + y_b      mul  y_f * y_b
    ave     (y_f + y_b) / 2                  None [y_f, y_b] as a list
A stateful layer stays stateful inside: each direction keeps its own last states (forward's,
then backward's in `states`) and reset_states() zeroes both.
TimeDistributed applies its layer to every timestep at once, by folding time into the batch:
(B, T, ...) -> (B*T, ...) -> layer -> (B, T, ...).

Masks (Keras). Bidirectional gives both directions the same (B, T) mask; the backward one reads
it reversed with its input. When it returns sequences it makes both write zeros at the masked
steps (Keras forces zero_output_for_mask = return_sequences on the two layers), so every merge
mode gives zeros there; compute_mask passes the input mask on with return_sequences (one per
output with merge_mode=None), else None. TimeDistributed passes the mask on unchanged, and
folds it with the time axis for a wrapped layer whose forward takes a mask.
"""
import inspect

import numpy as np

from bptt.layers.base import Layer
from bptt.layers.recurrent import declare_batch_size

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _deserialize(config):
    from bptt.layers import deserialize

    return deserialize(config)


class Bidirectional(Layer):
    supports_masking = True

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
        batch_size = kwargs.pop("batch_size", None)
        super().__init__(**kwargs)
        declare_batch_size(self, batch_size)  # Keras 2: batch_size= beside input_shape=
        config = layer.get_config()
        self.forward_layer = type(layer).from_config({**config, "name": f"forward_{layer.name}"})
        if backward_layer is None:
            backward_config = {**config, "name": f"backward_{layer.name}",
                               "go_backwards": not config["go_backwards"]}
            backward_layer = type(layer).from_config(backward_config)
        self.backward_layer = backward_layer
        for inner in (self.forward_layer, self.backward_layer):
            # Keras: zeros at the masked steps of both directions when returning sequences
            if getattr(inner, "zero_output_for_mask", None) is not None:
                inner.zero_output_for_mask = inner.return_sequences
        if backward_layer.return_sequences != layer.return_sequences:
            raise ValueError("Bidirectional: forward and backward layers must agree on "
                             "return_sequences.")
        stateful = getattr(layer, "stateful", False)
        if getattr(backward_layer, "stateful", False) != stateful:
            raise ValueError(
                "Bidirectional: forward and backward layers must agree on stateful, got "
                f"{stateful} for the forward layer and "
                f"{getattr(backward_layer, 'stateful', False)} for the backward layer.")
        self.stateful = stateful
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

    def compute_mask(self, inputs, mask=None):
        """Keras': the input mask with return_sequences, else None; a pair of them with
        merge_mode=None; with return_state, None for every state, nested as the outputs are
        ([output mask(s), None, ...]). Keras returns no entries for the states, which leaves
        them unmasked all the same, and raises a TypeError for a stateful layer: not copied."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        if self.merge_mode is None:
            output_mask = [output_mask, output_mask]
        if self.return_state:
            count = len(self.forward_layer.compute_output_shape((None, None, None))) - 1
            return [output_mask] + [None] * (2 * count)
        return output_mask

    def __call__(self, x, training=False, initial_state=None, mask=None):
        from bptt.layers import symbolic

        if symbolic.any_symbolic(x, {"initial_state": initial_state}):
            masked = {} if mask is None else {"mask": mask}
            return symbolic.call(self, x, training=training, initial_state=initial_state,
                                 **masked)
        x = np.asarray(x)
        if not self.built:
            # A stateful layer takes the batch size of the array it is first called on (Keras).
            self.build((x.shape[0] if self.stateful else None,) + tuple(x.shape[1:]))
        if not training:
            return self.infer(x, initial_state=initial_state, mask=mask)
        return self.forward(x, training=training, initial_state=initial_state, mask=mask)

    # -- stateful ------------------------------------------------------------------------------
    @property
    def states(self):
        """The kept states, the forward layer's then the backward layer's (None: not stateful)."""
        if getattr(self.forward_layer, "states", None) and getattr(self.backward_layer, "states",
                                                                   None):
            return list(self.forward_layer.states) + list(self.backward_layer.states)
        return None

    def reset_states(self):
        """Zero both directions' kept states. Keras raises AttributeError for a layer that is
        not stateful; here that is a no-op, as for a plain recurrent layer, so a model can reset
        all of its layers in one call."""
        if self.stateful:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()

    reset_state = reset_states  # Keras 3's name; reset_states is its compatibility alias

    # -- forward / backward ----------------------------------------------------------------------
    def forward(self, x, training=False, initial_state=None, mask=None):
        return self._merge(*self._both(
            lambda layer, init: layer.forward(x, training=training, initial_state=init,
                                              **_masked(mask)),
            initial_state))

    def infer(self, x, initial_state=None, mask=None):
        """The two layers' inference passes (their fused kernels without a mask), merged; keeps
        no cache."""
        out = self._merge(*self._both(
            lambda layer, init: layer.infer(x, initial_state=init, **_masked(mask)),
            initial_state))
        self.cache = None
        return out

    @staticmethod
    def _split_states(initial_state):
        if initial_state is None:
            return None, None
        half = len(initial_state) // 2
        return initial_state[:half], initial_state[half:]

    def _both(self, run, initial_state):
        init_f, init_b = self._split_states(initial_state)
        return run(self.forward_layer, init_f), run(self.backward_layer, init_b)

    def _merge(self, y_f, y_b):
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
        if self.cache is None:
            raise RuntimeError(
                f"Bidirectional '{self.name}': backward needs the cache of a forward pass, and "
                "the last pass kept none (it ran in inference mode: predict, evaluate, or calling "
                "the layer). Run layer.forward(x, training=...) first.")
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


def _masked(mask):
    """The mask keyword for a wrapped layer's call: none at all without a mask, so a wrapped
    layer that takes no mask still runs."""
    return {} if mask is None else {"mask": mask}


class TimeDistributed(Layer):
    supports_masking = True

    def __init__(self, layer, **kwargs):
        if isinstance(layer, dict):
            layer = _deserialize(layer)
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed wraps a layer, e.g. "
                             f"TimeDistributed(Dense(10)), got {layer!r}.")
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

    def compute_mask(self, inputs, mask=None):
        """Keras' (its Layer default): the input mask, unchanged; the time axis stays."""
        return mask

    def _check_mask(self, x, mask):
        """Keras' checks: at least (batch, timesteps), the input's first two axes."""
        mask = np.asarray(mask)
        if mask.ndim < 2:
            raise ValueError(
                f"The `mask` passed to the TimeDistributed layer '{self.name}' must be at least "
                f"2-D (batch_size, timesteps), but it has {mask.ndim} dimension(s) with shape "
                f"{mask.shape}.")
        if mask.shape[:2] != x.shape[:2]:
            raise ValueError(
                f"The `mask` passed to the TimeDistributed layer '{self.name}' has shape "
                f"{mask.shape}, incompatible with the input shape {x.shape}: its first two "
                f"axes (batch size, timesteps) must be {x.shape[:2]}.")
        return mask

    def __call__(self, x, training=False, mask=None):
        if mask is None:
            return super().__call__(x, training=training)
        from bptt.layers import symbolic

        if symbolic.any_symbolic(x, {"mask": mask}):
            return symbolic.call(self, x, training=training, mask=mask)
        x = np.asarray(x)
        if not self.built:
            self.build((None,) + tuple(x.shape[1:]))
        return self.forward(x, training=True, mask=mask) if training else self.infer(x, mask=mask)

    def infer(self, x, mask=None):
        return self.forward(x, training=False, mask=mask)

    def forward(self, x, training=False, mask=None):
        self._check_rank(x.shape)
        batch, steps = x.shape[:2]
        inner = {}
        if mask is not None:
            mask = self._check_mask(x, mask)
            if "mask" in inspect.signature(self.layer.forward).parameters:
                # Keras hands the layer mask[:, t] at step t; folded, all steps at once
                inner["mask"] = mask.reshape((batch * steps,) + mask.shape[2:])
        y = self.layer.forward(x.reshape((batch * steps,) + x.shape[2:]), training=training,
                               **inner)
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
