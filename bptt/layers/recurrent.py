"""SimpleRNN, LSTM and GRU layers: Keras' arguments, shapes and weight layout.

Letters: B batch, T time, D input features, H units, G gates (1, 4 or 3).

A layer does three things and keeps nothing else clever:
1. transposes the batch-major input (B, T, D) once to time-major (T, B, D), reversing time
   for go_backwards and applying the input dropout mask (one per sequence, as Keras);
2. projects every timestep in one GEMM: xw = x @ kernel + bias      # (T, B, G*H)
3. hands the time loop to the whole-sequence functions of bptt.kernels (reference or fused).
Backward runs the same three steps in reverse.

stateful=True (Keras): the layer is built for a fixed batch size and keeps the last states of
every call, in training and in inference alike, as the initial states of the next call, row i
to row i, until reset_states(). They enter the next call as constants, so the gradient stops at
the batch boundary (truncated BPTT). An explicit initial_state=[...] still wins.

Masking (Keras): mask (B, T) bool, True at a real step, transposed with the input and reversed
with it for go_backwards. A masked step holds the states and repeats the last output (zeros
before a row's first real step; bptt/ops/simple_rnn.py has the rule), so return_sequences=False
returns the output of the last real step, zeros for an all-padding row, whose states stay the
initial states. zero_output_for_mask=True (Keras' RNN argument; Bidirectional sets it when it
returns sequences) writes zeros at the masked steps instead. The mask goes to the sequence
functions, fused or reference, which read it inside their time loops; a masked call in inference
runs forward (the fused `<cell>_inference` kernels take no mask). compute_mask passes the input
mask on unchanged with return_sequences (not reversed for go_backwards, as Keras), else None.
"""
import numpy as np


from bptt import backend, checks, kernels
from bptt.distribution import sharding
from bptt.layers.base import Layer
from bptt.ops import activations

_UNSUPPORTED_IF_SET = (
    "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
    "kernel_constraint", "recurrent_constraint", "bias_constraint",
)
_IGNORED = ("unroll", "use_cudnn", "implementation", "time_major")  # speed hints only


def _pop_keras_extras(layer_name, kwargs):
    for key in _UNSUPPORTED_IF_SET:
        if kwargs.pop(key, None) is not None:
            raise NotImplementedError(
                f"{layer_name}({key}=...) is not supported by bptt; leave it at None."
            )
    for key in _IGNORED:
        kwargs.pop(key, None)
    return kwargs


# -- checks shared with the generic RNN layer (bptt/layers/rnn.py) ------------------------------
def check_rank(layer, shape):
    if len(shape) != 3:
        hint = (
            " The layer before it returns only its last output: give that recurrent layer "
            "return_sequences=True so it outputs the whole sequence (batch, timesteps, units)."
            if len(shape) == 2 else ""
        )
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' expects a 3-D input (batch, timesteps, "
            f"features), got shape {tuple(shape)}.{hint}"
        )


def declare_batch_size(layer, batch_size):
    """Keras 2 declared a stateful model's batch size on its first layer:
    LSTM(8, stateful=True, batch_size=4, input_shape=(10, 3))."""
    if batch_size is None:
        return
    if layer.declared_input_shape is None:
        raise ValueError(
            f"{type(layer).__name__}(batch_size={batch_size}) declares the model's input "
            "together with input_shape=(timesteps, features); give both, or start the model "
            f"with keras.Input(shape=(timesteps, features), batch_size={batch_size})."
        )
    layer.declared_input_shape = (int(batch_size),) + tuple(layer.declared_input_shape[1:])


def stateful_batch_size(layer, input_shape):
    """The fixed batch size a stateful layer is built for; Keras' error when there is none."""
    if input_shape[0] is None:
        raise ValueError(
            "When using `stateful=True` in a RNN, the batch size must be static. Found dynamic "
            f"batch size: sequence.shape={tuple(input_shape)}. {type(layer).__name__} "
            f"'{layer.name}' keeps one state per row of the batch: give the model a fixed batch "
            "size, e.g. keras.Input(batch_shape=(4, timesteps, features)) or "
            "keras.Input(shape=(timesteps, features), batch_size=4) (Keras 2: "
            "batch_input_shape=(4, timesteps, features) on the first layer)."
        )
    return int(input_shape[0])


def time_major_mask(layer, mask, x_shape, go_backwards):
    """A (B, T) mask (Keras also takes (B, T, 1); nonzero is True) -> (T, B) bool, C-contiguous,
    in the order the time loop reads the steps (reversed for go_backwards)."""
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if mask.shape != tuple(x_shape[:2]):
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' takes a mask of shape (batch, timesteps) = "
            f"{tuple(x_shape[:2])} for its input of shape {tuple(x_shape)}, got a mask of shape "
            f"{mask.shape}. The mask says which steps are real (True) and which are padding "
            "(False): e.g. x_ids != 0 for sequences padded with 0.")
    mask_tm = mask.astype(bool).T  # (T, B)
    return np.ascontiguousarray(mask_tm[::-1] if go_backwards else mask_tm)


def rnn_compute_mask(layer, mask, state_count):
    """Keras' RNN.compute_mask: the input mask (the first, if several) when returning
    sequences, else None; with return_state one None per state after it."""
    if isinstance(mask, (list, tuple)):
        mask = mask[0] if mask else None
    output_mask = mask if layer.return_sequences else None
    return [output_mask] + [None] * state_count if layer.return_state else output_mask


def check_stateful_batch(layer, expected, batch):
    if batch != expected:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' is stateful: row i of each batch continues "
            "row i of the batch before it, so every batch must have the batch size the layer "
            f"was built for. Expected batch size: {expected}, received batch size: {batch}. "
            f"Pass batch_size={expected} to fit / evaluate / predict and drop the remainder "
            f"(x[:len(x) // {expected} * {expected}]), or build the model for another batch "
            "size (keras.Input(batch_shape=...))."
        )


class _Recurrent(Layer):
    cell = None        # name of the ops / kernels module
    gates = 1          # G: how many blocks of H columns the kernel has
    state_names = ("h",)
    supports_masking = True

    def __init__(self, units, activation, recurrent_activation, use_bias, kernel_initializer,
                 recurrent_initializer, bias_initializer, dropout, recurrent_dropout, seed,
                 return_sequences, return_state, go_backwards, stateful=False, **kwargs):
        batch_size = kwargs.pop("batch_size", None)
        # Keras' RNN argument, which its SimpleRNN / LSTM / GRU take through **kwargs
        zero_output_for_mask = kwargs.pop("zero_output_for_mask", False)
        super().__init__(**_pop_keras_extras(type(self).__name__, kwargs))
        declare_batch_size(self, batch_size)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"{type(self).__name__} expects a positive int `units`, got {units!r}.")
        for arg, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            checks.in_range(rate, arg, 0, 1, owner=type(self).__name__)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = bool(stateful)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.states = None  # stateful: the (B, H) arrays the next call starts from
        self.initial_state_grads = None

    # -- shapes and weights -----------------------------------------------------------------
    def _check_rank(self, shape):
        check_rank(self, shape)

    def build(self, input_shape):
        self._check_rank(input_shape)
        # A stateful layer needs its batch size: checked before anything changes.
        batch = stateful_batch_size(self, input_shape) if self.stateful else None
        features, width = input_shape[-1], self.gates * self.units
        self.add_weight("kernel", (features, width), self.kernel_initializer)
        self.add_weight("recurrent_kernel", (self.units, width), self.recurrent_initializer)
        if self.use_bias:
            self.build_bias()
        super().build(input_shape)
        if self.stateful:
            self._zero_states(batch)

    def build_bias(self):
        self.add_weight("bias", (self.gates * self.units,), self.bias_initializer)

    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        out = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [out] + [(batch, self.units)] * len(self.state_names)
        return out

    def compute_mask(self, inputs, mask=None):
        """Keras': the input mask with return_sequences (unreversed for go_backwards, so the
        reversed outputs and their mask do not line up: Keras' quirk, kept), else None; with
        return_state, [output mask, None per state]."""
        return rnn_compute_mask(self, mask, len(self.state_names))

    # -- the three bias / op hooks each cell fills in -----------------------------------------
    def input_bias(self):
        return self.params["bias"] if self.use_bias else None

    def run_forward(self, xw, states, recurrent_mask, mask=None):
        """-> (the outputs (T, B, H), the last states, the op's cache); mask (T, B) or None."""
        raise NotImplementedError

    def run_backward(self, dhs, dstates_last, cache):
        """-> (dxw, dinitial_states); fills self.grads['recurrent_kernel'] (and bias parts)."""
        raise NotImplementedError

    def sequence_functions(self, per_gate_masks):
        return kernels.sequence_functions(
            self.cell, per_gate_masks=per_gate_masks, activation=self.activation,
            recurrent_activation=self.recurrent_activation,
        )

    # -- stateful: the last states of one call start the next ----------------------------------
    def _zero_states(self, batch):
        # New arrays, never a write into the old ones: a forward's cache may still hold them.
        self.states = [np.zeros((batch, self.units), dtype=self.dtype) for _ in self.state_names]

    def reset_states(self):
        """Zero the kept states of a stateful layer (Keras' reset_states); nothing otherwise."""
        if self.states is not None:
            self._zero_states(self.states[0].shape[0])

    reset_state = reset_states  # Keras 3's name; reset_states is its compatibility alias

    def _keep_states(self, last_states):
        """stateful: the last states start the next call (copies: a kernel may reuse its
        buffers)."""
        if self.stateful:
            self.states = [np.array(state, dtype=self.states[0].dtype) for state in last_states]

    # -- forward / backward -------------------------------------------------------------------
    def _dropout_mask(self, rate, shape, dtype):
        # shape: (masks, B, features). Data-parallel: drawn for the global batch, rows kept.
        keep = sharding.uniform(self.rng(), shape, batch_axis=1) >= rate
        return keep.astype(dtype) / dtype.type(1 - rate)

    def _initial_states(self, initial_state, batch, dtype):
        if self.stateful:
            check_stateful_batch(self, self.states[0].shape[0], batch)
            if initial_state is None:
                # Constants of this call: no gradient flows into the batch before (truncated BPTT).
                return [np.ascontiguousarray(state, dtype=dtype) for state in self.states]
        if initial_state is None:
            return [np.zeros((batch, self.units), dtype=dtype) for _ in self.state_names]
        states = [initial_state] if isinstance(initial_state, np.ndarray) else list(initial_state)
        if len(states) != len(self.state_names):
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects {len(self.state_names)} initial "
                f"state(s) {list(self.state_names)}, got {len(states)}."
            )
        out = []
        for name, state in zip(self.state_names, states):
            state = np.asarray(state)
            if state.shape != (batch, self.units):
                raise ValueError(
                    f"{type(self).__name__} '{self.name}' initial state '{name}' must have shape "
                    f"(batch, units) = {(batch, self.units)}, got {state.shape}."
                )
            out.append(np.ascontiguousarray(state, dtype=dtype))
        return out

    def __call__(self, x, training=False, initial_state=None, mask=None):
        from bptt.layers import symbolic

        if symbolic.any_symbolic(x, {"initial_state": initial_state}):
            masked = {} if mask is None else {"mask": mask}
            return symbolic.call(self, x, training=training, initial_state=initial_state,
                                 **masked)
        x = np.asarray(x)
        self._check_rank(x.shape)
        if not self.built:
            # Called on an array, a stateful layer takes that array's batch size, as Keras' does.
            self.build((x.shape[0] if self.stateful else None,) + tuple(x.shape[1:]))
        if not training:
            return self.infer(x, initial_state=initial_state, mask=mask)
        return self.forward(x, training=training, initial_state=initial_state, mask=mask)

    def _check_input(self, x):
        self._check_rank(x.shape)
        kernel = self.params["kernel"]
        if x.shape[-1] != kernel.shape[0]:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' was built for {kernel.shape[0]} input "
                f"features, got input of shape {x.shape}."
            )

    def _outputs(self, output, last_states):
        return [output, *last_states] if self.return_state else output

    def infer(self, x, initial_state=None, mask=None):
        """The forward pass in inference mode when no backward follows: the fused
        `<cell>_inference` kernel (no cache, no (T, B, G*H) projection kept) where there is one
        and no mask, else forward(x, training=False). Either way self.cache is cleared, so a
        backward after it raises instead of using a stale cache."""
        x = np.asarray(x)
        inference = self.inference_function() if mask is None else None
        if inference is None:
            output = self.forward(x, training=False, initial_state=initial_state, mask=mask)
            self.cache = None
            return output
        self._check_input(x)
        kernel = self.params["kernel"]
        states = self._initial_states(initial_state, x.shape[0], kernel.dtype)
        self.cache = None
        ys, last_states = inference(
            x, kernel, self.input_bias(), self.params["recurrent_kernel"], *states,
            go_backwards=self.go_backwards, return_sequences=self.return_sequences,
            activation=self.activation, recurrent_activation=self.recurrent_activation)
        self._keep_states(last_states)
        return self._outputs(ys if self.return_sequences else last_states[0], list(last_states))

    def inference_function(self):
        return kernels.inference_function(self.cell, activation=self.activation,
                                          recurrent_activation=self.recurrent_activation)

    def forward(self, x, training=False, initial_state=None, mask=None):
        self._check_input(x)
        kernel = self.params["kernel"]
        dtype = kernel.dtype
        batch = x.shape[0]
        mask_tm = None if mask is None else time_major_mask(self, mask, x.shape, self.go_backwards)
        states = self._initial_states(initial_state, batch, dtype)
        input_mask = recurrent_mask = None
        # Keras 3: with recurrent_dropout, LSTM and GRU draw one mask per gate for the inputs and
        # for h_{t-1} (their "implementation 1"); otherwise one input mask serves every gate.
        masks = self.gates if (training and self.recurrent_dropout > 0 and self.gates > 1) else 1
        if training and self.dropout > 0:
            input_mask = self._dropout_mask(self.dropout, (masks, batch, x.shape[-1]), dtype)
        if training and self.recurrent_dropout > 0:
            recurrent_mask = self._dropout_mask(self.recurrent_dropout,
                                                (masks, batch, self.units), dtype)
            if masks == 1:
                recurrent_mask = recurrent_mask[0]  # (B, H)
        # Forward and backward must run the same implementation: pick it once, here. Fused and
        # reference functions alike take the mask.
        self.functions = self.sequence_functions(
            per_gate_masks=recurrent_mask is not None and recurrent_mask.ndim == 3)
        self._note_numpy_loop()
        shared_mask = input_mask[0] if input_mask is not None and len(input_mask) == 1 else None
        x_in = self._time_major(x, dtype, shared_mask)  # (T, B, D), times the shared mask
        xw = self._project(x_in, input_mask)  # (T, B, G*H), with the input bias
        hs, last_states, op_cache = self.run_forward(xw, states, recurrent_mask, mask_tm)
        self.cache = (x_in, input_mask, recurrent_mask, mask_tm, op_cache)
        self._keep_states(last_states)
        if mask_tm is None:
            output = hs.transpose(1, 0, 2) if self.return_sequences else last_states[0]
            return self._outputs(output, last_states)
        if self.zero_output_for_mask:
            hs = np.where(mask_tm[:, :, None], hs, hs.dtype.type(0))  # (T, B, H)
        # Keras' last output: the last step's output (the last real one's, repeated; zeros for
        # an all-padding row, or with zero_output_for_mask when the last step is padding)
        output = hs.transpose(1, 0, 2) if self.return_sequences else hs[-1]
        return self._outputs(output, last_states)

    def _note_numpy_loop(self):
        """A reference time loop under fused kernels (options no fused kernel takes) runs
        NumPy products, which may wake NumPy's BLAS pool: say so (kernels.numpy_blas_ran), so
        that split work keeps off numba's team while NumPy's workers may still spin."""
        if backend.get_kernels() == "fused" and self.functions[0].__module__.startswith("bptt.ops."):
            kernels.numpy_blas_ran()

    def _time_major(self, x, dtype, mask):
        """x (B, T, D) -> (T, B, D) C-contiguous in dtype, reversed in time for go_backwards,
        times `mask` (B, D) when given: the input of the projection, made in one pass over x
        (and kept for the backward's dkernel = x_in^T dxw)."""
        x = np.asarray(x)
        if x.dtype != dtype:
            x = x.astype(dtype)  # cast first: the mask multiplies in the weights' dtype
        x_tm = x.transpose(1, 0, 2)  # (T, B, D) a view
        if self.go_backwards:
            x_tm = x_tm[::-1]
        if mask is None:
            return np.ascontiguousarray(x_tm)
        return np.multiply(x_tm, mask, out=np.empty(x_tm.shape, dtype))

    def _project(self, x_in, input_mask):
        """xw = (x * mask) @ kernel + input bias, one 2-D GEMM for all steps; x_in (T, B, D)
        already carries a mask shared by all gates; per gate block with per-gate masks (Keras'
        recurrent_dropout)."""
        kernel = self.params["kernel"]
        bias = self.input_bias()
        steps, batch, features = x_in.shape
        if input_mask is None or len(input_mask) == 1:
            projection, _ = kernels.projection_functions(batch)
            xw = projection(x_in.reshape(steps * batch, features), kernel, bias)  # (T*B, G*H)
            return xw.reshape(steps, batch, -1)
        units = self.units
        blocks = [(x_in * mask).reshape(steps * batch, features) @ kernel[:, g * units:(g + 1) * units]
                  for g, mask in enumerate(input_mask)]
        xw = np.concatenate(blocks, axis=-1).reshape(steps, batch, -1)
        if bias is not None:
            xw += bias
        return xw

    def _project_backward(self, x_in, input_mask, dxw):
        """(dkernel, dx_tm, dxw summed over steps and rows) for xw = (x * mask) @ kernel + bias,
        x_in as _project had it; the last is the input bias's gradient. x_in may instead be
        the rows of an Embedding's table (bptt.layers.lookup_training.ProjectedRows), which
        does this backward itself."""
        kernel = self.params["kernel"]
        if not isinstance(x_in, np.ndarray):
            return x_in.project_backward(dxw, kernel)
        steps, batch, width = dxw.shape
        features = x_in.shape[-1]
        dxw2 = dxw.reshape(steps * batch, width)  # (T*B, G*H)
        if input_mask is None or len(input_mask) == 1:
            _, projection_backward = kernels.projection_functions(batch)
            dkernel, dx2, dbias = projection_backward(
                x_in.reshape(steps * batch, features), dxw2, kernel,
                None if input_mask is None else input_mask[0])
            return dkernel, dx2.reshape(steps, batch, features), dbias
        units = self.units
        dkernel = np.empty_like(kernel)
        dx_tm = np.zeros_like(x_in)
        for g, mask in enumerate(input_mask):
            block = slice(g * units, (g + 1) * units)
            dkernel[:, block] = (x_in * mask).reshape(steps * batch, -1).T @ dxw2[:, block]
            dx_tm += (dxw2[:, block] @ kernel[:, block].T).reshape(steps, batch, features) * mask
        return dkernel, dx_tm, dxw2.sum(axis=0)

    def backward(self, dy):
        if self.cache is None:
            raise RuntimeError(
                f"{type(self).__name__} '{self.name}': backward needs the cache of a forward "
                "pass, and the last pass kept none (it ran in inference mode: predict, evaluate, "
                "test_on_batch, or calling the layer). Run layer.forward(x, training=...) first."
            )
        x_in, input_mask, _, mask_tm, op_cache = self.cache
        dstates = [None] * len(self.state_names)
        if self.return_state:
            dy, *dstates = dy
        if self.return_sequences:
            dhs = np.ascontiguousarray(dy.transpose(1, 0, 2))  # (T, B, H)
        elif mask_tm is None:
            dhs = None
            dstates[0] = dy if dstates[0] is None else dstates[0] + dy  # the output is h_T
        else:
            dhs = np.zeros(mask_tm.shape + (self.units,), dtype=dy.dtype)  # (T, B, H)
            dhs[-1] = dy  # the output is the last step's output, not the last state
        if mask_tm is not None and self.zero_output_for_mask:
            dhs = np.where(mask_tm[:, :, None], dhs, dhs.dtype.type(0))
        self._note_numpy_loop()
        dxw, self.initial_state_grads = self.run_backward(dhs, dstates, op_cache)
        self.grads["kernel"], dx_tm, dinput_bias = self._project_backward(x_in, input_mask, dxw)
        if self.use_bias:
            self.accumulate_bias_grad(dinput_bias)
        if self.go_backwards:
            dx_tm = dx_tm[::-1]
        return dx_tm.transpose(1, 0, 2)

    def accumulate_bias_grad(self, dinput_bias):
        self.grads["bias"] = dinput_bias

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "recurrent_initializer": self.recurrent_initializer,
            "bias_initializer": self.bias_initializer,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "zero_output_for_mask": self.zero_output_for_mask,
        }


def _masked(mask):
    """The mask keyword for the sequence functions: none without a mask."""
    return {} if mask is None else {"mask": mask}


class SimpleRNN(_Recurrent):
    """h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)."""

    cell = "simple_rnn"

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 seed=None, **kwargs):
        super().__init__(units, activation, "sigmoid", use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, dropout, recurrent_dropout,
                         seed, return_sequences, return_state, go_backwards, stateful, **kwargs)

    def sequence_functions(self, per_gate_masks):
        # The cell has one activation: the base class's recurrent_activation is not its option.
        return kernels.sequence_functions(self.cell, per_gate_masks=per_gate_masks,
                                          activation=self.activation)

    def run_forward(self, xw, states, recurrent_mask, mask=None):
        forward, _ = self.functions
        hs, h_last, cache = forward(xw, self.params["recurrent_kernel"], states[0],
                                    activation=self.activation, recurrent_mask=recurrent_mask,
                                    **_masked(mask))
        return hs, [h_last], cache

    def run_backward(self, dhs, dstates_last, cache):
        _, backward = self.functions
        dxw, drecurrent_kernel, dh0 = backward(dhs, dstates_last[0], cache)
        self.grads["recurrent_kernel"] = drecurrent_kernel
        return dxw, [dh0]


class LSTM(_Recurrent):
    """Keras' LSTM; gate order i, f, c, o in kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,).

    Equations: see bptt/ops/lstm.py.
    """

    cell = "lstm"
    gates = 4
    state_names = ("h", "c")

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, seed=None, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, dropout, recurrent_dropout,
                         seed, return_sequences, return_state, go_backwards, stateful, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    def build_bias(self):
        super().build_bias()
        if self.unit_forget_bias:
            # Keras: bias = [init(H), ones(H), init(2H)]: start with the forget gate open.
            units = self.units
            self.params["bias"][units:2 * units] = 1

    def infer_with(self, upper, x, lookup=None):
        """upper.infer(self.infer(x)) in one call of the fused two-layer pipeline
        (bptt.kernels.lstm_stack: the two time loops on two cores, a step apart) where it
        applies: `upper` an LSTM fed by this one's whole sequence, both fused, from zero states
        (neither stateful), forward in time, neither returning states, a batch of up to 16
        sequences. With `lookup`,
        an Embedding in front: x are its token ids, looked up inside the pipeline, i.e.
        upper.infer(self.infer(lookup.infer(x))). None where it does not apply: the caller then
        runs the layers one by one (and gets their errors)."""
        if not (isinstance(upper, LSTM) and self.built and upper.built and self.return_sequences
                and not (self.go_backwards or upper.go_backwards or self.return_state
                         or upper.return_state or self.stateful or upper.stateful)):
            return None
        x = np.asarray(x)
        kernel, upper_kernel = self.params["kernel"], upper.params["kernel"]
        if lookup is not None:
            table = lookup.params.get("embeddings") if lookup.built else None
            if (table is None or x.ndim != 2 or table.shape[1] != kernel.shape[0]
                    or table.dtype != kernel.dtype):
                return None
        elif x.ndim != 3 or x.shape[-1] != kernel.shape[0]:
            return None
        if upper_kernel.shape[0] != self.units or upper_kernel.dtype != kernel.dtype:
            return None
        pipeline = kernels.stack_function(self.cell, x.shape[0], lookup=lookup is not None)
        if pipeline is None or self.inference_function() is None or upper.inference_function() is None:
            return None
        weights = ((kernel, self.input_bias(), self.params["recurrent_kernel"]),
                   (upper_kernel, upper.input_bias(), upper.params["recurrent_kernel"]))
        if lookup is not None:
            inputs = (lookup.check_ids(x), table)  # the Embedding's own check and error
            lookup.cache = None
        else:
            inputs = (x.astype(kernel.dtype, copy=False),)
        self.cache = upper.cache = None
        ys, (h_last, _), _ = pipeline(*inputs, *weights, return_sequences=upper.return_sequences)
        return ys if upper.return_sequences else h_last

    def run_forward(self, xw, states, recurrent_mask, mask=None):
        forward, _ = self.functions
        hs, (h_last, c_last), cache = forward(
            xw, self.params["recurrent_kernel"], states[0], states[1],
            activation=self.activation, recurrent_activation=self.recurrent_activation,
            recurrent_mask=recurrent_mask, **_masked(mask))
        return hs, [h_last, c_last], cache

    def run_backward(self, dhs, dstates_last, cache):
        _, backward = self.functions
        dxw, drecurrent_kernel, dh0, dc0 = backward(dhs, dstates_last[0], dstates_last[1], cache)
        self.grads["recurrent_kernel"] = drecurrent_kernel
        return dxw, [dh0, dc0]

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": self.recurrent_activation,
                "unit_forget_bias": self.unit_forget_bias}


class GRU(_Recurrent):
    """Keras' GRU; gate order z, r, h. With reset_after=True (the default) the bias is (2, 3H):
    row 0 is added to x @ kernel, row 1 to h @ recurrent_kernel (PyTorch's form). With
    reset_after=False it is (3H,). Equations: see bptt/ops/gru.py.
    """

    cell = "gru"
    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 reset_after=True, seed=None, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, dropout, recurrent_dropout,
                         seed, return_sequences, return_state, go_backwards, stateful, **kwargs)
        self.reset_after = reset_after

    def build_bias(self):
        if self.reset_after:
            self.add_weight("bias", (2, 3 * self.units), self.bias_initializer)
        else:
            super().build_bias()

    def input_bias(self):
        if not self.use_bias:
            return None
        return self.params["bias"][0] if self.reset_after else self.params["bias"]

    def recurrent_bias(self):
        if not self.reset_after:
            return None
        if self.use_bias:
            return self.params["bias"][1]
        return np.zeros(3 * self.units, dtype=self.params["kernel"].dtype)

    def sequence_functions(self, per_gate_masks):
        return kernels.sequence_functions(
            self.cell, per_gate_masks=per_gate_masks, activation=self.activation,
            recurrent_activation=self.recurrent_activation, reset_after=self.reset_after,
        )

    def run_forward(self, xw, states, recurrent_mask, mask=None):
        forward, _ = self.functions
        hs, h_last, cache = forward(
            xw, self.params["recurrent_kernel"], self.recurrent_bias(), states[0],
            reset_after=self.reset_after, activation=self.activation,
            recurrent_activation=self.recurrent_activation, recurrent_mask=recurrent_mask,
            **_masked(mask))
        return hs, [h_last], cache

    def run_backward(self, dhs, dstates_last, cache):
        _, backward = self.functions
        dxw, drecurrent_kernel, drecurrent_bias, dh0 = backward(dhs, dstates_last[0], cache)
        self.grads["recurrent_kernel"] = drecurrent_kernel
        self._drecurrent_bias = drecurrent_bias
        return dxw, [dh0]

    def accumulate_bias_grad(self, dinput_bias):
        if self.reset_after:
            self.grads["bias"] = np.stack([dinput_bias, self._drecurrent_bias])
        else:
            self.grads["bias"] = dinput_bias

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": self.recurrent_activation,
                "reset_after": self.reset_after}
