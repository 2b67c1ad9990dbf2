"""Keras' generic RNN layer over the built-in cells, and the cells.

Letters: B batch, T time, D input features, H units.

    RNN(LSTMCell(32))                        the same layer as LSTM(32)
    RNN([LSTMCell(32), GRUCell(16)])         two cells stacked in one layer (StackedRNNCells)

Keras runs any cell step by step, `cell.call(x_t, states) -> (y_t, new_states)`, and lets
automatic differentiation find the backward pass. bptt has none: every backward is written by
hand, for the maths it knows. So an RNN here takes SimpleRNNCell, LSTMCell and GRUCell (or a
list of them), and runs each cell's whole sequence with the matching layer (SimpleRNN, LSTM,
GRU: the same reference ops and fused kernels, forward, backward and inference). A cell holds
its Keras arguments and its weights; the RNN makes one such layer per cell that shares the
cell's weight arrays and random generator.

Stacked cells. Keras' StackedRNNCells calls its cells in turn at every step: the output of cell
k at step t is the input of cell k+1 at step t, and nothing cell k computes depends on cell
k+1. Running cell 0 over the whole sequence, then cell 1 over cell 0's outputs, and so on,
gives the same numbers: that is what happens here. With go_backwards Keras reverses the input
once, before the first cell; here the first cell's layer reads the input backwards and the
cells above read its (reversed) output as it comes.

States. return_state returns the output, then each cell's last states in Keras' nesting
(measured on Keras 3.15.1): a cell whose state_size is a list (LSTMCell: [h, c]) gives a list,
a cell with one state (SimpleRNNCell, GRUCell) gives the array itself; one cell alone gives
its states flat, as LSTM(return_state=True) does:

    RNN(LSTMCell(4), return_state=True)(x)                  -> [y, h, c]
    RNN([LSTMCell(4), GRUCell(3)], return_state=True)(x)    -> [y, [h_0, c_0], h_1]

initial_state takes that nesting or the same arrays flat ([h_0, c_0, h_1]); the functional
graph passes them flat. stateful=True keeps them all (flat, in that order) between calls.

Masking. Keras masks the stack's step as a whole: at a masked step every cell's states are
held and the stack's output repeats (or is zero, zero_output_for_mask). Each cell's layer here
gets the same mask, in the order it reads the steps: cell k+1's computation at a masked step
is thrown away whatever cell k wrote there, so the numbers and their gradients are Keras'.
"""
import numpy as np

from bptt.layers.base import Layer, unique_name
from bptt.layers.recurrent import (GRU, LSTM, SimpleRNN, check_rank, check_stateful_batch,
                                   declare_batch_size, rnn_compute_mask, stateful_batch_size)

_LAYER_ARGUMENTS = (  # Keras' cell arguments bptt's layers check (set: not supported) or ignore
    "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
    "recurrent_constraint", "bias_constraint", "implementation",
)
_SEQUENCE_KEYS = ("name", "trainable", "dtype", "return_sequences", "return_state",
                  "go_backwards", "stateful", "zero_output_for_mask")


def _flatten(values):
    if isinstance(values, (list, tuple)):
        return [leaf for item in values for leaf in _flatten(item)]
    return [values]


def _unsupported_cell(cell):
    return TypeError(
        f"bptt's RNN takes SimpleRNNCell, LSTMCell or GRUCell (or a list of them, stacked), got "
        f"{cell!r}. Keras runs any cell with a `call` method step by step and differentiates it "
        "automatically; bptt has no automatic differentiation: each backward pass is written "
        "by hand for the cells it knows. Build the model from those cells, or from the "
        "SimpleRNN, LSTM and GRU layers.")


class _Cell(Layer):
    """One step of a recurrent layer: Keras' arguments and the weights, run by RNN(cell)."""

    layer_class = None
    default_name = None

    def __init__(self, units, options, kwargs):
        extras = {key: kwargs.pop(key) for key in _LAYER_ARGUMENTS if key in kwargs}
        kwargs["name"] = kwargs.get("name") or unique_name(self.default_name)
        super().__init__(**kwargs)
        # The layer this cell's maths lives in: it checks the arguments, makes the weights (with
        # Keras' initializers), and runs one step when the cell is called on its own.
        self._layer = self.layer_class(units, **options, **extras, return_state=True,
                                       name=self.name, dtype=self.dtype)
        self.units = self._layer.units
        self.state_names = self._layer.state_names
        config = self._layer.get_config()
        self._option_keys = [key for key in config if key not in _SEQUENCE_KEYS]
        for key in self._option_keys:
            setattr(self, key, config[key])
        self.output_size = self.units

    @property
    def state_size(self):
        """Keras': a list of sizes for a cell with several states, else one int."""
        sizes = [self.units] * len(self.state_names)
        return sizes if len(sizes) > 1 else sizes[0]

    def build(self, input_shape):
        """input_shape: one step's, (B, D)."""
        self._layer.build((input_shape[0], None, input_shape[-1]))
        self.params = self._layer.params
        super().build(input_shape)

    def sequence_layer(self, **sequence_options):
        """A SimpleRNN / LSTM / GRU that runs this cell over whole sequences, on this cell's
        weight arrays and random generator (so a seed draws the same weights, then the same
        dropout masks, as the layer with that seed)."""
        config = {**self._layer.get_config(), **sequence_options}
        layer = self.layer_class.from_config(config)
        layer._rng = self._layer._rng
        layer.params = self.params
        layer.input_shape = self._layer.input_shape
        layer.built = True
        return layer

    def get_initial_state(self, batch_size=None):
        return [np.zeros((batch_size, self.units), self.dtype) for _ in self.state_names]

    def __call__(self, inputs, states=None, training=False):
        """One step, as Keras' `cell(x_t, states)`: x_t (B, D) -> (y_t (B, H), new_states).
        new_states is a list for LSTMCell or when `states` is a list, else one array. Inference
        unless training=True; no backward follows a step on its own."""
        from bptt.layers import symbolic

        if symbolic.any_symbolic(inputs, {"states": states}):
            raise TypeError(f"{type(self).__name__} is one step of a recurrent layer: call "
                            f"RNN({type(self).__name__}(...)) on symbolic tensors.")
        x = np.asarray(inputs)
        if x.ndim != 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' takes one step (batch, "
                             f"features), got shape {x.shape}; RNN(cell) runs whole sequences.")
        if not self.built:
            self.build((None, x.shape[-1]))
        as_list = isinstance(states, (list, tuple))
        initial = None if states is None else (list(states) if as_list else [states])
        if training:
            output, *new_states = self._layer.forward(x[:, None], training=True,
                                                      initial_state=initial)
        else:
            output, *new_states = self._layer.infer(x[:, None], initial_state=initial)
        self._layer.cache = None
        if len(new_states) == 1 and not as_list:
            return output, new_states[0]
        return output, new_states

    def forward(self, x, training=False):
        raise TypeError(f"{type(self).__name__} is one step of a recurrent layer, not a layer "
                        f"of a model: wrap it, RNN({type(self).__name__}(...)), or use the "
                        f"{self.layer_class.__name__} layer.")

    def get_config(self):
        return {**super().get_config(), **{key: getattr(self, key) for key in self._option_keys}}


class SimpleRNNCell(_Cell):
    layer_class = SimpleRNN
    default_name = "simple_rnn_cell"

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        super().__init__(units, dict(
            activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed), kwargs)


class LSTMCell(_Cell):
    layer_class = LSTM
    default_name = "lstm_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(units, dict(
            activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed), kwargs)


class GRUCell(_Cell):
    layer_class = GRU
    default_name = "gru_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", dropout=0.0, recurrent_dropout=0.0, reset_after=True,
                 seed=None, **kwargs):
        super().__init__(units, dict(
            activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, dropout=dropout,
            recurrent_dropout=recurrent_dropout, reset_after=reset_after, seed=seed), kwargs)


def _as_cell(cell):
    if isinstance(cell, dict):
        from bptt.layers import deserialize

        cell = deserialize(cell)
    if not isinstance(cell, _Cell):
        raise _unsupported_cell(cell)
    return cell


class StackedRNNCells(Layer):
    """Keras' stack of cells run as one: the output of each cell is the input of the next."""

    def __init__(self, cells, **kwargs):
        kwargs["name"] = kwargs.get("name") or unique_name("stacked_rnn_cells")
        super().__init__(**kwargs)
        if isinstance(cells, (_Cell, dict)) or not list(cells):
            raise ValueError(f"StackedRNNCells takes a non-empty list of cells, got {cells!r}.")
        self.cells = [_as_cell(cell) for cell in cells]
        names = [cell.name for cell in self.cells]
        if len(set(names)) != len(names):
            raise ValueError(f"StackedRNNCells: the cells' names {names} must differ; they name "
                             "the weights (leave `name` unset for automatic names).")

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        return self.cells[-1].units

    def build(self, input_shape):
        """input_shape: one step's, (B, D); each cell above takes the units of the one below."""
        features = input_shape[-1]
        for cell in self.cells:
            if not cell.built:
                cell.build((input_shape[0], features))
            features = cell.units
        self.params = {f"{cell.name}/{key}": value for cell in self.cells
                       for key, value in cell.params.items()}
        super().build(input_shape)

    def get_initial_state(self, batch_size=None):
        states = [cell.get_initial_state(batch_size) for cell in self.cells]
        return [s if len(s) > 1 else s[0] for s in states]

    def __call__(self, inputs, states, training=False):
        """One step through every cell, as Keras' StackedRNNCells.call."""
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            inputs, cell_states = cell(inputs, cell_states, training=training)
            new_states.append(cell_states)
        return inputs, new_states

    def forward(self, x, training=False):
        raise TypeError("StackedRNNCells is one step of a stack of cells: wrap it, "
                        "RNN(StackedRNNCells([...])) or RNN([cell, ...]).")

    def get_config(self):
        return {**super().get_config(),
                "cells": [{"class_name": type(cell).__name__, "config": cell.get_config()}
                          for cell in self.cells]}


class RNN(Layer):
    """Keras' RNN over SimpleRNNCell, LSTMCell, GRUCell or a stack of them (StackedRNNCells)."""

    supports_masking = True

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, dict):
            from bptt.layers import deserialize

            cell = deserialize(cell)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(list(cell))
        if not isinstance(cell, (_Cell, StackedRNNCells)):
            raise _unsupported_cell(cell)
        batch_size = kwargs.pop("batch_size", None)
        super().__init__(**kwargs)
        declare_batch_size(self, batch_size)
        self.cell = cell
        self.cells = list(cell.cells) if isinstance(cell, StackedRNNCells) else [cell]
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = bool(stateful)
        self.unroll = unroll  # a speed hint for a symbolic loop: nothing to unroll here
        self.zero_output_for_mask = zero_output_for_mask
        self.states = None  # stateful: every cell's states, flat
        self.initial_state_grads = None
        self._layers = []  # one SimpleRNN / LSTM / GRU per cell, built with the RNN

    @property
    def state_size(self):
        return self.cell.state_size

    def state_count(self):
        """How many state arrays initial_state takes, flat (the functional graph asks)."""
        return sum(len(cell.state_names) for cell in self.cells)

    # -- shapes and weights -----------------------------------------------------------------------
    def build(self, input_shape):
        check_rank(self, input_shape)
        # A stateful layer needs its batch size: checked before anything changes.
        batch = stateful_batch_size(self, input_shape) if self.stateful else None
        if not self.cell.built:
            self.cell.build((input_shape[0], input_shape[-1]))  # a stack builds its cells
        features = input_shape[-1]
        for cell in self.cells:
            if cell.params["kernel"].shape[0] != features:
                raise ValueError(
                    f"RNN '{self.name}': cell '{cell.name}' was built for "
                    f"{cell.params['kernel'].shape[0]} input features, gets {features}.")
            features = cell.units
        last = len(self.cells) - 1
        self._layers = [
            cell.sequence_layer(return_sequences=self.return_sequences or k < last,
                                return_state=True, go_backwards=self.go_backwards and k == 0,
                                stateful=False)
            for k, cell in enumerate(self.cells)]
        self.params = {self._key(cell, key): value for cell in self.cells
                       for key, value in cell.params.items()}
        super().build(input_shape)
        if self.stateful:
            self._zero_states(batch)

    def _key(self, cell, key):
        """One cell's weights keep their names (kernel, recurrent_kernel, bias); stacked cells'
        are prefixed with the cell's name (lstm_cell/kernel, gru_cell/kernel, ...)."""
        return f"{cell.name}/{key}" if isinstance(self.cell, StackedRNNCells) else key

    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        units = self.cells[-1].units
        out = (batch, steps, units) if self.return_sequences else (batch, units)
        if not self.return_state:
            return out
        return [out, *self._nest([[(batch, cell.units)] * len(cell.state_names)
                                  for cell in self.cells])]

    def compute_mask(self, inputs, mask=None):
        """Keras': the input mask with return_sequences (unreversed for go_backwards), else
        None; with return_state one None per entry of state_size (per cell for a stack)."""
        sizes = self.state_size
        return rnn_compute_mask(self, mask, len(sizes) if isinstance(sizes, list) else 1)

    # -- states: Keras' nesting and the flat list ---------------------------------------------
    def _nest(self, per_cell):
        if not isinstance(self.cell, StackedRNNCells):
            return list(per_cell[0])
        return [list(states) if len(states) > 1 else states[0] for states in per_cell]

    def _per_cell(self, states, what):
        """Flat or Keras-nested states (None entries: zeros / no gradient) -> a list per cell."""
        counts = [len(cell.state_names) for cell in self.cells]
        states = [states] if isinstance(states, np.ndarray) else list(states)
        if len(states) == len(self.cells) and isinstance(self.cell, StackedRNNCells):
            states = [item if isinstance(item, (list, tuple)) else [item] * (count if item is None
                                                                           else 1)
                      for item, count in zip(states, counts)]
            if [len(item) for item in states] == counts:
                return [list(item) for item in states]
        flat = _flatten(states)
        if len(flat) != sum(counts):
            layout = ", then ".join(f"{list(cell.state_names)} of '{cell.name}'"
                                    for cell in self.cells)
            raise ValueError(f"RNN '{self.name}' expects {sum(counts)} {what} ({layout}), "
                             f"got {len(flat)}.")
        flat = iter(flat)
        return [[next(flat) for _ in range(count)] for count in counts]

    def _zero_states(self, batch):
        self.states = [np.zeros((batch, cell.units), cell.dtype) for cell in self.cells
                       for _ in cell.state_names]

    def reset_states(self):
        """Zero the kept states of a stateful layer (Keras' reset_states); nothing otherwise."""
        if self.states is not None:
            self._zero_states(self.states[0].shape[0])

    reset_state = reset_states  # Keras 3's name; reset_states is its compatibility alias

    # -- forward / backward ---------------------------------------------------------------------
    def __call__(self, x, training=False, initial_state=None, mask=None):
        from bptt.layers import symbolic

        if isinstance(initial_state, (list, tuple)):
            initial_state = _flatten(initial_state)  # the graph takes Keras' nesting flat
        if symbolic.any_symbolic(x, {"initial_state": initial_state}):
            masked = {} if mask is None else {"mask": mask}
            return symbolic.call(self, x, training=training, initial_state=initial_state,
                                 **masked)
        x = np.asarray(x)
        check_rank(self, x.shape)
        if not self.built:
            self.build((x.shape[0] if self.stateful else None,) + tuple(x.shape[1:]))
        if not training:
            return self.infer(x, initial_state=initial_state, mask=mask)
        return self.forward(x, training=training, initial_state=initial_state, mask=mask)

    def forward(self, x, training=False, initial_state=None, mask=None):
        output = self._run(x, initial_state, mask, lambda layer, h, initial, m: layer.forward(
            h, training=training, initial_state=initial, mask=m))
        self.cache = True  # what backward needs is in the cells' layers
        return output

    def infer(self, x, initial_state=None, mask=None):
        """Inference through the cells' layers' own infer (their fused kernels when there is
        no mask); no cache."""
        output = self._run(x, initial_state, mask, lambda layer, h, initial, m: layer.infer(
            h, initial_state=initial, mask=m))
        self.cache = None
        return output

    def _layer_masks(self, mask):
        """Each cell's layer's mask, (B, T) in the order that layer reads its input: the first
        reads x (backwards for go_backwards), the ones above read the output below as it comes,
        already reversed."""
        if mask is None:
            return [None] * len(self._layers)
        above = mask[:, ::-1] if self.go_backwards else mask
        return [mask] + [above] * (len(self._layers) - 1)

    def _run(self, x, initial_state, mask, run):
        x = np.asarray(x)
        check_rank(self, x.shape)
        if self.stateful:
            check_stateful_batch(self, self.states[0].shape[0], x.shape[0])
            if initial_state is None:
                initial_state = self.states  # constants of this call: truncated BPTT
        starts = ([None] * len(self.cells) if initial_state is None
                  else self._per_cell(initial_state, "initial states"))
        if mask is not None:
            mask = np.asarray(mask)
            if mask.ndim == 3 and mask.shape[-1] == 1:
                mask = mask[..., 0]  # Keras' (B, T, 1); the layers check the shape
        # zero_output_for_mask (Bidirectional sets it after build) shapes the stack's output
        for k, layer in enumerate(self._layers):
            layer.zero_output_for_mask = self.zero_output_for_mask and k == len(self._layers) - 1
        h, last_states = x, []
        for layer, start, layer_mask in zip(self._layers, starts, self._layer_masks(mask)):
            h, *last = run(layer, h, start, layer_mask)  # (B, T, H) below the top cell
            last_states.append(last)
        if self.stateful:  # copies: a kernel may reuse its buffers
            self.states = [np.array(state) for states in last_states for state in states]
        return [h, *self._nest(last_states)] if self.return_state else h

    def backward(self, dy):
        if self.cache is None:
            raise RuntimeError(
                f"RNN '{self.name}': backward needs the cache of a forward pass, and the last "
                "pass kept none (it ran in inference mode: predict, evaluate, or calling the "
                "layer). Run layer.forward(x, training=...) first.")
        if self.return_state:
            dy, *dstates = dy
            dstates = self._per_cell(dstates, "state gradients")
        else:
            dstates = [[None] * len(cell.state_names) for cell in self.cells]
        for layer, dlast in zip(reversed(self._layers), reversed(dstates)):
            dy = layer.backward([dy, *dlast])  # the gradient of the cell below's outputs
        self.grads = {self._key(cell, key): value for cell, layer in zip(self.cells, self._layers)
                      for key, value in layer.grads.items()}
        self.initial_state_grads = [grad for layer in self._layers
                                    for grad in layer.initial_state_grads]
        return dy

    def get_config(self):
        return {
            **super().get_config(),
            "cell": {"class_name": type(self.cell).__name__, "config": self.cell.get_config()},
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }
