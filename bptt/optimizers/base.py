"""The optimizer base class: Keras 3's clipping, weight decay, iterations, state and config.

An optimizer updates NumPy arrays in place (the arrays keep their identity, so a layer's
`params` dict never has to be rebuilt) and owns all of its state: one dict of slots per
variable, keyed by `id(variable)` with a reference to the variable kept so the id cannot be
reused. Slots are created lazily on a variable's first update, in that variable's dtype.

One `apply_gradients` call, as Keras' `BaseOptimizer.apply` does it:

    1. drop (grad, var) pairs whose grad is None (with a warning)
    2. clip: clipnorm        g = g * c / max(||g||, c)          each gradient by its own norm
             global_clipnorm g = g * c * min(1/N, 1/c)          N the norm of all gradients
                                                                (NaN everywhere if N is inf/NaN)
             clipvalue       g = clip(g, -c, c)
             (bptt.optimizers.clipping; an embedding's gradient as TF's slices: RowGradient)
    3. weight decay (decoupled): w = w - w * weight_decay * lr
    4. the optimizer's update_step for each variable (t = iterations + 1): its rule is in
       sgd.py, adam.py or rmsprop.py
    5. iterations += 1

Arithmetic is done in the variable's dtype, scalars included (float32 stays float32), in place,
with two scratch buffers per dtype sized for the largest variable.

The NumPy `_update_step` of each optimizer is the reference. With the fused kernels selected
(`bptt.set_kernels("fused")`, the default) steps 3 and 4 run instead as one compiled pass per
variable (bptt.kernels.sgd / adam / rmsprop: the same operations in the same order, so the same
numbers; tests/kernels/test_{sgd,adam,rmsprop}.py hold them to it). Adam is memory-bound: the
reference's dozen passes over the tutorial's 2.6 M weights took ~10 ms a step, the fused one ~2.
Clipping (step 2) stays in NumPy; a variable that is not a C-contiguous float32/float64 array
takes the reference.
"""
import numbers
import warnings
from typing import NamedTuple

import numpy as np

from bptt import backend, checks
from bptt.optimizers import clipping, schedules


class RowGradient(NamedTuple):
    """An embedding's gradient as Keras on TensorFlow hands it to the optimizer.

    TensorFlow passes the gradient of a table lookup as IndexedSlices: one slice per lookup,
    repeats of an id kept apart. Keras' Adam and RMSprop square the gradient (g^2 in v's
    update) slice by slice and only then add the repeats up, so a row looked up k times in the
    batch enters v with sum_k g_k^2 where the summed gradient would give (sum_k g_k)^2; m and
    the weights use the summed gradient. bptt does the same, so its numbers are Keras/TF's
    (tests/test_keras_golden.py). SGD, being linear, sees no difference.

    Clipping sees the slices too, as in TF: bptt.optimizers.clipping.
    """

    summed: np.ndarray  # (V, D) the gradient, repeats added up
    squares: np.ndarray  # (V, D) sum over repeats of each lookup's gradient squared
    rows: np.ndarray = None  # (V,) bool: the rows looked up; elsewhere squares == summed^2 == 0
    lookups: tuple = None  # (ids (N,), dy (N, D)): each lookup's gradient, for clipvalue

_FUSED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # what the compiled updates take


class Optimizer:
    """The base class: clipping, weight decay, iteration count, state, config.

    Subclasses set `_default_name`, list their hyperparameters in `get_config`, say which
    slots a variable needs in `_slot_names`, and write `_update_step`.
    """

    _default_name = "optimizer"

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        clip_args = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(value is not None for value in clip_args.values()) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                + ", ".join(f"{key}={value}" for key, value in clip_args.items())
            )
        unsupported = {
            "use_ema": (use_ema, False),
            "loss_scale_factor": (loss_scale_factor, None),
            "gradient_accumulation_steps": (gradient_accumulation_steps, None),
        }
        for key, (value, default) in unsupported.items():
            if value != default:
                raise NotImplementedError(
                    f"{type(self).__name__}: `{key}={value!r}` is a Keras option bptt does not "
                    f"implement; leave it at its default ({default!r})."
                )
        owner = type(self).__name__
        for key, value in clip_args.items():
            checks.positive(value, key, owner, optional=True)
        checks.not_negative(weight_decay, "weight_decay", owner, optional=True)
        self.name = name or self._default_name
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.iterations = 0
        self._slots = {}  # id(variable) -> (variable, {slot name: array like variable})
        self._scratch = {}  # dtype -> [flat buffer, flat buffer]

    # -- learning rate -----------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The current learning rate as a float: a schedule's at the current `iterations`, a
        callable's result (called with no arguments), or the number."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            return float(lr(self.iterations))
        return float(lr()) if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):
            self._learning_rate = value
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            self._learning_rate = checks.not_negative(value, "learning_rate", type(self).__name__)
        else:
            raise ValueError(
                "Argument `learning_rate` should be a float, a LearningRateSchedule or a "
                f"callable that takes no arguments. Received instead: learning_rate={value!r}"
            )

    # -- the public step ---------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Update each variable in place from its gradient; returns the new `iterations`."""
        pairs = list(grads_and_vars)
        if not pairs:
            return self.iterations
        kept = [(g, v) for g, v in pairs if g is not None]
        if not kept:
            raise ValueError("No gradients provided for any variable.")
        if len(kept) < len(pairs):
            missing = [i for i, (g, _) in enumerate(pairs) if g is None]
            warnings.warn(
                f"Gradients do not exist for the variables at positions {missing} when "
                "minimizing the loss; they are left unchanged."
            )
        grads, variables, squares, lookups = [], [], [], []
        for i, (grad, variable) in enumerate(kept):
            square = lookup = None
            if isinstance(grad, RowGradient):
                square = (np.asarray(grad.squares, dtype=variable.dtype), grad.rows)
                grad, lookup = grad.summed, grad.lookups
            squares.append(square)
            lookups.append(lookup)
            if not isinstance(variable, np.ndarray) or variable.dtype.kind != "f":
                raise TypeError(
                    f"Variable {i} must be a floating-point numpy array updated in place; got "
                    f"{type(variable).__name__} of dtype {getattr(variable, 'dtype', None)}."
                )
            grad = np.asarray(grad, dtype=variable.dtype)
            if grad.shape != variable.shape:
                raise ValueError(
                    f"Gradient {i} has shape {grad.shape} but its variable has shape "
                    f"{variable.shape}; they must be equal."
                )
            grads.append(grad)
            variables.append(variable)

        grads, squares = self._clip_gradients(grads, squares, lookups)
        lr = self.learning_rate
        # Fused (bptt.kernels): decay and update in one compiled pass per variable; it equals
        # the NumPy steps below (tests/kernels/test_adam.py), which stay the reference.
        fused = [self._fusable(variable) for variable in variables]
        if self.weight_decay is not None:
            for variable, is_fused in zip(variables, fused):
                if is_fused:
                    continue  # decayed inside the fused update
                dt = variable.dtype.type
                tmp = self._buffer(variable, 0)
                np.multiply(variable, dt(self.weight_decay), out=tmp)
                tmp *= dt(lr)
                variable -= tmp
        for grad, variable, square, is_fused in zip(grads, variables, squares, fused):
            if is_fused:
                self._fused_update_step(np.ascontiguousarray(grad), variable,
                                        self._slots_for(variable), lr, square)
            else:  # the reference reads the squares everywhere (== g^2 off the looked-up rows)
                self._update_step(grad, variable, self._slots_for(variable), lr,
                                  None if square is None else square[0])
        self.iterations += 1
        return self.iterations

    def apply(self, grads, trainable_variables):
        """Keras' other spelling: `apply(grads, variables)`."""
        return self.apply_gradients(zip(grads, trainable_variables))

    def build(self, var_list):
        """Create the slots of every variable now (they are otherwise made on first update)."""
        for variable in var_list:
            self._slots_for(variable)

    # -- clipping ----------------------------------------------------------------------------
    def _clips(self):
        """Whether _clip_gradients changes gradients (any clipping is set)."""
        return any(c and c > 0 for c in (self.clipnorm, self.global_clipnorm, self.clipvalue))

    def _clip_gradients(self, grads, squares, lookups):
        """(grads, squares) clipped as Keras does (bptt.optimizers.clipping), as copies."""
        return clipping.clip(grads, squares, lookups, clipnorm=self.clipnorm,
                             global_clipnorm=self.global_clipnorm, clipvalue=self.clipvalue)

    # -- state -------------------------------------------------------------------------------
    def _slot_names(self):
        """Names of the per-variable slots, in Keras' order."""
        return ()

    def _slots_for(self, variable):
        entry = self._slots.get(id(variable))
        if entry is None:
            entry = (variable, {name: np.zeros_like(variable) for name in self._slot_names()})
            self._slots[id(variable)] = entry
        return entry[1]

    def _buffer(self, variable, index):
        """Scratch space shaped like `variable` (a view of a flat buffer reused every step)."""
        buffers = self._scratch.get(variable.dtype)
        if buffers is None or buffers[0].size < variable.size:
            buffers = [np.empty(variable.size, dtype=variable.dtype) for _ in range(2)]
            self._scratch[variable.dtype] = buffers
        return buffers[index][: variable.size].reshape(variable.shape)

    def get_state(self, var_list):
        """The optimizer's state as flat arrays: 'iterations' and '<i>/<slot>' for the i-th
        variable of `var_list` (variables never updated have no entries yet)."""
        state = {"iterations": np.asarray(self.iterations, dtype=np.int64)}
        for i, variable in enumerate(var_list):
            entry = self._slots.get(id(variable))
            if entry is None:
                continue
            for name, value in entry[1].items():
                state[f"{i}/{name}"] = value.copy()
        return state

    def set_state(self, var_list, state):
        """Restore what `get_state(var_list)` returned, for the same variables in the same order."""
        if "iterations" not in state:
            raise ValueError(f"{type(self).__name__}.set_state: the state has no 'iterations'.")
        known = {"iterations"}
        slot_names = self._slot_names()
        for i, variable in enumerate(var_list):
            keys = [f"{i}/{name}" for name in slot_names]
            known.update(keys)
            present = [key in state for key in keys]
            if not any(present):
                self._slots.pop(id(variable), None)
                continue
            if not all(present):
                missing = [key for key, ok in zip(keys, present) if not ok]
                raise ValueError(f"{type(self).__name__}.set_state: missing {missing} in state.")
            slots = {}
            for name, key in zip(slot_names, keys):
                value = np.array(state[key], dtype=variable.dtype)
                if value.shape != variable.shape:
                    raise ValueError(
                        f"{type(self).__name__}.set_state: '{key}' has shape {value.shape} but "
                        f"variable {i} has shape {variable.shape}."
                    )
                slots[name] = value
            self._slots[id(variable)] = (variable, slots)
        unknown = sorted(set(state) - known)
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.set_state: unexpected entries {unknown}; expected "
                f"'iterations' and '<i>/<slot>' with slots {list(slot_names)} for "
                f"{len(var_list)} variables. Was the state saved by another optimizer?"
            )
        self.iterations = int(np.asarray(state["iterations"]))

    # -- config ------------------------------------------------------------------------------
    def get_config(self):
        return {
            "name": self.name,
            "learning_rate": (schedules.serialize(self._learning_rate)
                              if isinstance(self._learning_rate, schedules.LearningRateSchedule)
                              else self._learning_rate),
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config):
        if isinstance(config.get("learning_rate"), dict):  # a schedule, as Keras saves one
            config = {**config, "learning_rate": schedules.deserialize(config["learning_rate"])}
        return cls(**config)

    def _update_step(self, grad, variable, slots, lr, grad_square=None):
        raise NotImplementedError

    # -- the fused update (bptt.kernels), when selected ------------------------------------------
    _has_fused_update = False  # subclasses with a kernel set True and write _fused_update_step

    def _fusable(self, variable):
        """Whether this variable's update runs in a compiled kernel: kernels are 'fused', the
        optimizer has one, the variable is float32/float64, and it and its slots are
        C-contiguous (the kernel updates flat views of them in place). Anything else takes the
        NumPy reference, `_update_step`."""
        if not self._has_fused_update or backend.get_kernels() != "fused":
            return False
        if variable.dtype not in _FUSED_DTYPES:
            return False
        if not variable.flags.c_contiguous or not variable.flags.writeable:
            return False
        return all(slot.flags.c_contiguous for slot in self._slots_for(variable).values())

    def _fused_update_step(self, grad, variable, slots, lr, grad_square=None):
        """`_update_step` with the weight decay in front of it, in one compiled pass; grad is
        C-contiguous and in the variable's dtype; grad_square None or (squares, rows) of a
        RowGradient."""
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self.learning_rate}>"


def flush_subnormals(slot):
    """Set the entries of `slot` below the smallest normal float to zero, in place.

    TensorFlow runs its CPU kernels with subnormals flushed to zero, so Keras' optimizer slots
    never hold one. Without the flush, an embedding row the batches stop looking up sees its m
    shrink by beta_1 = 0.9 a step into subnormals within a few hundred steps, where every
    arithmetic operation on it costs ~20x: the update of the tutorial's 20,000-row table went
    from ~2 ms to ~37 ms."""
    tiny = np.finfo(slot.dtype).tiny
    np.copyto(slot, 0, where=np.abs(slot) < tiny)
