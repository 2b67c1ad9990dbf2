"""What one training step costs, layer by layer: weights, FLOPs and the activations BPTT keeps.

    cost(model, timesteps, batch)   -> Cost; print(it) shows a table, .rows() gives dicts

Letters: B batch, T time, N = B*T rows, D input features, H units, G gate blocks (SimpleRNN 1,
LSTM 4, GRU 3), U a Dense layer's units.

What is counted, and how:
- weights: the layer's trainable and non-trainable arrays (as count_params), and their bytes.
- forward / backward FLOPs: the matrix products, a multiply-add counting 2 FLOPs, plus the bias
  additions (forward) and the bias gradients' sums (backward), one FLOP per element, and the
  Embedding's gradient scatter-add, one FLOP per element. A recurrent layer per step of a batch:

      forward   xw = x @ kernel + bias              2*N*D*GH + N*GH
                h_{t-1} @ recurrent_kernel          2*N*H*GH       (GRU reset_after: + N*3H bias)
      backward  dkernel = x^T dxw, dx = dxw kernel^T   2 * 2*N*D*GH, + N*GH for dbias
                drecurrent_kernel, dh_{t-1}         2 * 2*N*H*GH   (GRU reset_after: + N*3H)

  so a step's backward is about twice its forward (the input's gradient is counted even for the
  first layer, because bptt computes it). A Dense layer: 2*N*D*U + N*U forward,
  2 * 2*N*D*U + N*U backward.
- elementwise: the gate arithmetic and activations, forward and backward together, counted
  apart from the FLOPs because they are not multiply-adds. Per unit and step, read off the
  equations in bptt/ops (a sigmoid or tanh counts 1): SimpleRNN 2 + 4, LSTM 13 + 23, GRU 14 + 18;
  an activation or a dropout mask 1 forward and 2 backward per element. An estimate: a fused
  kernel may do a few more or fewer.
- activations: the bytes of the arrays a layer's cache holds after a training forward, for the
  backward (in the model's dtype; token ids as np.intp), not counting its weights, and not
  counting an array the layer before already keeps (a recurrent layer reads the sequence of the
  recurrent layer below in place). For the fused kernels (bptt.set_kernels("fused"), the
  default) an LSTM keeps x (T, B, D), h0, c0 (B, H), the h, c and tanh(c) of every step
  (T, B, H) each and its four gates (T, B, 4H); a GRU keeps x, h0, h, its three gates (T, B, 3H),
  the recurrent h-block (T, B, H) and a (3, H, H) copy of its recurrent kernel in gate blocks;
  a SimpleRNN keeps x, h0 and h. The reference kernels keep no tanh(c) (LSTM) and no kernel
  copy (GRU). Dropout adds its masks. A Dense layer keeps its output and its pre-activation
  (one array when linear), an Activation layer its output and its input, an Embedding the ids.
  Counted without a Keras mask (mask_zero / Masking), which adds a (T, B) bool mask and a
  (T, B, H) output array per recurrent layer.

The LSTM's forget gate saves no memory: BPTT keeps f_t for every step (a quarter of the gate
cache), because dc_{t-1} = dc_t * f_t needs it. A GRU has three gate blocks against an LSTM's
four: exactly 25% fewer kernel and recurrent-kernel weights at the same sizes (its reset_after
bias is 6H against the LSTM's 4H).

A layer this module does not know gets a row with its weights and "?" elsewhere; the totals
then leave it out and say so.
"""
from dataclasses import asdict, dataclass, field
from typing import Optional

import numpy as np

from bptt import backend
from bptt.layers.core import Activation, Dense, Dropout, Flatten, InputLayer
from bptt.layers.embedding import Embedding
from bptt.layers.recurrent import GRU, LSTM, _Recurrent
from bptt.layers.reshaping import Reshape
from bptt.layers.wrappers import Bidirectional, TimeDistributed

# Elementwise operations per unit and step, forward + backward (see the module docstring).
_CELL_ELEMENTWISE = {"simple_rnn": 2 + 4, "lstm": 13 + 23, "gru": 14 + 18}
_ACTIVATION_ELEMENTWISE = 1 + 2
_INTP_BYTES = np.dtype(np.intp).itemsize


@dataclass
class LayerCost:
    """One layer's cost for one training step; None where the layer is not known."""
    name: str
    kind: str
    weights: int
    weight_bytes: int
    forward_flops: Optional[int] = None
    backward_flops: Optional[int] = None
    elementwise: Optional[int] = None
    activation_bytes: Optional[int] = None
    note: str = ""
    # whether the layer's cache holds its output, so that the layer above keeps it for free,
    # and the output's memory order: "time" ((T, B, ...) in memory, as a recurrent layer's h,
    # which the recurrent layer above reads in place) or "batch"
    keeps_output: bool = field(default=False, repr=False)
    layout: str = field(default="batch", repr=False)

    @property
    def known(self):
        return self.forward_flops is not None


class Cost:
    """The rows of cost(), their totals (known layers only), a table and a dict form."""

    COLUMNS = ("name", "kind", "weights", "weight_bytes", "forward_flops", "backward_flops",
               "elementwise", "activation_bytes")

    def __init__(self, layers, timesteps, batch, dtype):
        self.layers, self.timesteps, self.batch, self.dtype = layers, timesteps, batch, dtype
        self.unknown = [row.name for row in layers if not row.known]
        known = [row for row in layers if row.known]
        self.total = LayerCost(
            "total", "", sum(row.weights for row in layers),
            sum(row.weight_bytes for row in layers),
            sum(row.forward_flops for row in known), sum(row.backward_flops for row in known),
            sum(row.elementwise for row in known), sum(row.activation_bytes for row in known),
            note="excluding " + ", ".join(self.unknown) if self.unknown else "")

    def rows(self):
        """[{column: value}] per layer, then the totals' row (name 'total')."""
        hidden = ("keeps_output", "layout")
        return [{key: value for key, value in asdict(row).items() if key not in hidden}
                for row in self.layers + [self.total]]

    def __getitem__(self, name):
        for row in self.layers + [self.total]:
            if row.name == name:
                return row
        raise KeyError(f"No layer named {name!r}; the layers are {[r.name for r in self.layers]}.")

    def __str__(self):
        header = ["layer", "weights", "fwd FLOPs", "bwd FLOPs", "elementwise", "activations"]
        lines = [[f"{row.name} ({row.kind})" if row.kind else row.name, f"{row.weights:,}",
                  _count(row.forward_flops), _count(row.backward_flops), _count(row.elementwise),
                  _bytes(row.activation_bytes)] for row in self.layers + [self.total]]
        widths = [max(len(cells[i]) for cells in lines + [header]) for i in range(len(header))]

        def line(cells):
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths)))

        out = [f"One training step: batch {self.batch}, {self.timesteps} timesteps, {self.dtype}",
               line(header), line(["-" * w for w in widths])]
        out += [line(cells) for cells in lines[:-1]]
        out += [line(["-" * w for w in widths]), line(lines[-1])]
        notes = [f"{row.name}: {row.note}" for row in self.layers + [self.total] if row.note]
        return "\n".join(out + notes)

    __repr__ = __str__


def _count(value):
    return "?" if value is None else f"{value / 1e6:,.1f} M" if value >= 1e5 else f"{value:,}"


def _bytes(value):
    if value is None:
        return "?"
    return f"{value / 2**20:,.2f} MiB" if value >= 2**16 else f"{value:,} B"


def cost(model, timesteps, batch):
    """Weights, FLOPs and kept activations per layer for one training step of `batch`
    sequences of `timesteps` steps (forward and backward). The model must be built."""
    for value, what in ((timesteps, "timesteps"), (batch, "batch")):
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"cost() takes a positive int `{what}`, got {value!r}.")
    if not getattr(model, "built", False):
        raise ValueError(
            "cost() needs a built model, to know its input shape: call model.build((None, "
            f"{timesteps})) for token ids (or (None, {timesteps}, features)), or start the model "
            "with keras.Input(...).")
    rows, dtype = [], None
    kept, layout = False, "batch"  # whether the layer below keeps its output; its memory order
    for layer, shape in _layer_inputs(model, int(timesteps), int(batch)):
        dtype = dtype or np.dtype(layer.dtype)
        row = _layer_cost(layer, shape, kept, layout)
        rows.append(row)
        kept, layout = row.keeps_output, row.layout
    return Cost(rows, int(timesteps), int(batch), str(dtype or backend.floatx()))


def _layer_inputs(model, timesteps, batch):
    """(layer, its input shape at this batch and time) in the order the model runs them."""
    build_shape = getattr(model, "_build_input_shape", None)
    if build_shape is not None:  # a Sequential: propagate the shape through the stack
        shape = _at(build_shape, timesteps, batch, replace_time=True)
        for layer in model.layers:
            yield layer, shape
            shape = tuple(layer.compute_output_shape(shape))
        return
    for layer in model.layers:  # a functional model: each layer's own built input shape
        if isinstance(layer, InputLayer) or layer.input_shape is None:
            continue
        yield layer, _at(layer.input_shape, timesteps, batch, replace_time=False)


def _at(shape, timesteps, batch, replace_time):
    shape = list(shape)
    shape[0] = batch
    if len(shape) > 1 and (replace_time or shape[1] is None):
        shape[1] = timesteps
    return tuple(shape)


def _weights(layer):
    return (layer.count_params(),
            int(sum(value.nbytes for value in layer.params.values())))


def _layer_cost(layer, shape, input_kept, layout="batch"):
    weights, weight_bytes = _weights(layer)
    row = LayerCost(layer.name, type(layer).__name__, weights, weight_bytes)
    itemsize = np.dtype(layer.dtype).itemsize
    if isinstance(layer, _Recurrent):
        return _recurrent(layer, row, shape, itemsize, input_kept, layout)
    if isinstance(layer, Embedding):
        rows = int(np.prod(shape))
        row.forward_flops, row.elementwise = 0, 0
        row.backward_flops = rows * layer.output_dim  # the gradient rows, added into the table
        row.activation_bytes = rows * _INTP_BYTES  # the token ids
        row.layout = "time" if len(shape) == 2 else "batch"  # a view of a (T, B, D) lookup
        return row
    if isinstance(layer, Dense):
        return _dense(layer, row, shape, itemsize, input_kept)
    if isinstance(layer, TimeDistributed):
        # it folds (B, T) into one axis: a copy, unless the input is batch-major already
        inner = _layer_cost(layer.layer, (shape[0] * shape[1],) + tuple(shape[2:]),
                            input_kept if layout == "batch" else False)
        if not inner.known:
            return row
        row.forward_flops, row.backward_flops = inner.forward_flops, inner.backward_flops
        row.elementwise, row.activation_bytes = inner.elementwise, inner.activation_bytes
        row.keeps_output, row.kind = inner.keeps_output, f"TimeDistributed({inner.kind})"
        return row
    if isinstance(layer, Bidirectional):
        return _bidirectional(layer, row, shape, itemsize, input_kept, layout)
    if isinstance(layer, Dropout):
        elements = int(np.prod(shape))
        noise = shape if layer.noise_shape is None else tuple(
            s if n is None else n for s, n in zip(shape, layer.noise_shape))
        row.forward_flops = row.backward_flops = 0
        row.elementwise = _ACTIVATION_ELEMENTWISE * elements if layer.rate > 0 else 0
        row.activation_bytes = int(np.prod(noise)) * itemsize if layer.rate > 0 else 0
        row.layout = layout
        return row
    if isinstance(layer, Activation):
        elements = int(np.prod(shape))
        row.forward_flops = row.backward_flops = 0
        row.elementwise = _ACTIVATION_ELEMENTWISE * elements
        # its output, and its input as the logits (free when the layer below keeps it)
        row.activation_bytes = (1 if input_kept else 2) * elements * itemsize
        row.keeps_output, row.layout = True, layout  # the output has its input's memory order
        return row
    if isinstance(layer, (InputLayer, Flatten, Reshape)):
        row.forward_flops = row.backward_flops = row.elementwise = row.activation_bytes = 0
        # a view of its input (a reshape copies a time-major one)
        passes = isinstance(layer, InputLayer) or layout == "batch"
        row.keeps_output = input_kept if passes else False
        row.layout = layout if isinstance(layer, InputLayer) else "batch"
        return row
    row.note = "not known to bptt.diagnostics.cost: FLOPs and activations not counted"
    return row


def _dense(layer, row, shape, itemsize, input_kept):
    rows, features, units = int(np.prod(shape[:-1])), shape[-1], layer.units
    bias = rows * units if layer.use_bias else 0
    row.forward_flops = 2 * rows * features * units + bias
    row.backward_flops = 2 * 2 * rows * features * units + bias
    linear = layer.activation == "linear"
    row.elementwise = 0 if linear else _ACTIVATION_ELEMENTWISE * rows * units
    # y, and the pre-activation z kept as the layer's logits (one array when linear), and its
    # input x unless the layer below keeps it
    outputs = (1 if linear else 2) * rows * units
    row.activation_bytes = (outputs + (0 if input_kept else rows * features)) * itemsize
    row.keeps_output = True
    return row


def _recurrent(layer, row, shape, itemsize, input_kept, layout, go_backwards=None):
    batch, steps, features = shape[0], shape[1], shape[-1]
    units, gates = layer.units, layer.gates
    width, rows = gates * units, batch * steps
    reset_after = isinstance(layer, GRU) and layer.reset_after
    bias = rows * width if layer.use_bias else 0
    recurrent_bias = rows * width if reset_after else 0  # added on h @ U at every step
    row.forward_flops = (2 * rows * features * width + bias
                         + 2 * rows * units * width + recurrent_bias)
    row.backward_flops = (2 * 2 * rows * features * width + bias
                          + 2 * 2 * rows * units * width + recurrent_bias)
    row.elementwise = _CELL_ELEMENTWISE[layer.cell] * rows * units
    if layer.dropout > 0:
        row.elementwise += _ACTIVATION_ELEMENTWISE * rows * features
    row.activation_bytes = _recurrent_cache_elements(layer, batch, steps, features, input_kept,
                                                     layout, go_backwards) * itemsize
    row.keeps_output, row.layout = True, "time"  # the output is the kept h (all steps, or last)
    if isinstance(layer, GRU):
        row.kind = f"GRU(reset_after={layer.reset_after})"
    return row


def _recurrent_cache_elements(layer, batch, steps, features, input_kept, layout, go_backwards=None):
    """How many elements the layer's cache holds after a training forward (no Keras mask)."""
    units, gates, rows = layer.units, layer.gates, batch * steps
    go_backwards = layer.go_backwards if go_backwards is None else go_backwards
    per_gate = layer.recurrent_dropout > 0 and gates > 1  # Keras' one mask per gate
    masks = gates if per_gate else 1
    forward = layer.sequence_functions(per_gate_masks=per_gate)[0]  # as the layer's forward picks
    fused = forward.__module__.startswith("bptt.kernels.")
    # x in time-major order: read in place from a recurrent layer below, else a copy (made
    # anyway when one dropout mask multiplies it; one mask per gate multiplies each block)
    shared = (input_kept and layout == "time" and not go_backwards
              and (layer.dropout == 0 or per_gate))
    elements = 0 if shared else rows * features
    if layer.dropout > 0:
        elements += masks * batch * features
    if layer.recurrent_dropout > 0:
        elements += masks * batch * units
    states = len(layer.state_names)
    elements += states * batch * units  # the initial states
    elements += rows * units  # h of every step
    if isinstance(layer, LSTM):
        elements += rows * units + rows * 4 * units  # c of every step, the four gates
        if fused:
            elements += rows * units  # tanh(c) of every step
    elif isinstance(layer, GRU):
        elements += rows * 3 * units  # the three gates
        if fused or layer.reset_after:
            elements += rows * units  # the recurrent h-block of every step
        if fused:
            elements += 3 * units * units  # the recurrent kernel in gate blocks
    return elements


def _bidirectional(layer, row, shape, itemsize, input_kept, layout):
    parts = [_recurrent(sub, LayerCost(sub.name, "", 0, 0), shape, itemsize, input_kept, layout,
                        go_backwards=sub.go_backwards)
             for sub in (layer.forward_layer, layer.backward_layer)]
    row.forward_flops = sum(part.forward_flops for part in parts)
    row.backward_flops = sum(part.backward_flops for part in parts)
    row.elementwise = sum(part.elementwise for part in parts)
    row.activation_bytes = sum(part.activation_bytes for part in parts)
    if layer.merge_mode in ("sum", "mul", "ave"):
        out = shape[0] * layer.forward_layer.units * (shape[1] if layer.return_sequences else 1)
        row.elementwise += _ACTIVATION_ELEMENTWISE * out
    row.kind = f"Bidirectional({type(layer.forward_layer).__name__})"
    row.keeps_output = False  # the merged output is a new array nobody keeps
    return row
