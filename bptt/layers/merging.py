"""Merge layers: a list of inputs in, one output (Keras' keras.layers.merging).

Letters: B batch, K the axis Dot sums over, P / Q the other axes of Dot's two inputs.

The contract takes lists: build / compute_output_shape get a list of shapes, forward a list of
arrays, and backward returns a list with one gradient per input, in order.

Elementwise layers broadcast as Keras does: an input of lower rank gets size-1 axes inserted
right after the batch axis until every rank is equal, then on each non-batch axis the sizes must
be equal or one of them 1; batch sizes must be equal. An input stretched along an axis gets dy
summed over that axis.

    Add       y = x_1 + ... + x_n            dx_i = dy
    Subtract  y = x_1 - x_2                  dx_1 = dy, dx_2 = -dy
    Multiply  y = x_1 * ... * x_n            dx_i = dy * prod_{j != i} x_j
    Average   y = (x_1 + ... + x_n) / n      dx_i = dy / n
    Maximum   y = max_i x_i                  dx_i = dy where x_i is the first largest, else 0
    Minimum   y = min_i x_i                  likewise with the first smallest

On a tie the first input takes the whole gradient, as TensorFlow's gradient of Keras' left fold
maximum(maximum(x_1, x_2), x_3) does.

Concatenate joins the inputs along `axis` and splits dy there. Dot is Keras' batch_dot (see its
docstring). The lowercase functions (add, concatenate, dot, ...) build the layer and call it.
"""
import numbers

import numpy as np

from bptt.layers.base import Layer


def _is_eager(x):
    return isinstance(x, (np.ndarray, np.generic, numbers.Number))


def _check_list(name, shapes):
    if not isinstance(shapes, (list, tuple)) or not shapes or not all(
            isinstance(s, (list, tuple)) for s in shapes):
        raise ValueError(
            f"A merge layer should be called on a list of inputs. Received: "
            f"input_shape={shapes} (not a list of shapes); call it as {name}(...)([x1, x2]).")
    return [tuple(s) for s in shapes]


def _batch_size(shapes):
    sizes = {s[0] for s in shapes if s} - {None}
    if len(sizes) > 1:
        raise ValueError(f"Cannot merge tensors with different batch sizes. Received tensors "
                         f"with shapes {shapes}.")
    return sizes.pop() if sizes else None


def _elementwise_shape(shape1, shape2):
    """Keras' broadcast of two shapes without the batch axis, aligned on the right."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return tuple(shape1)
    out = list(shape1[:len(shape1) - len(shape2)])
    for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1 or i == j:
            out.append(j if i == 1 else i)
        else:
            raise ValueError(
                f"Inputs have incompatible shapes. Received shapes {tuple(shape1)} and "
                f"{tuple(shape2)} (without the batch axis): each axis needs equal sizes or a "
                "size of 1; an input of lower rank gets size-1 axes after the batch axis.")
    return tuple(out)


def _sum_to(grad, shape):
    """grad (the broadcast output's shape) summed back over the axes where `shape` has 1."""
    axes = tuple(i for i, (s, g) in enumerate(zip(shape, grad.shape)) if s == 1 and g != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad.copy()


class Merge(Layer):
    """What every multi-input layer shares: the list checks and calling it on a list of arrays.

    compute_output_shape is the one place a subclass validates shapes: build and forward call it.
    """

    min_inputs, max_inputs = 1, None
    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        """Keras' rule for Add, Subtract, Multiply, Average, Maximum, Minimum: a step is real if
        it is real in any input; no mask if any input has none."""
        if mask is None or any(m is None for m in mask):
            return None
        return np.logical_or.reduce([np.asarray(m, dtype=bool) for m in mask])

    def __call__(self, inputs, training=False, **kwargs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A merge layer should be called on a list of inputs. Received: inputs of type "
                f"{type(inputs).__name__}; call it as {type(self).__name__}(...)([x1, x2]).")
        if not all(_is_eager(x) for x in inputs):
            return super().__call__(list(inputs), training=training, **kwargs)
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected call argument(s) "
                            f"{sorted(kwargs)}.")
        inputs = [np.asarray(x) for x in inputs]
        if not self.built:
            self.build([(None,) + x.shape[1:] if x.ndim else () for x in inputs])
        return self.forward(inputs, training=True) if training else self.infer(inputs)

    def _validate(self, shapes):
        """The shapes as a list of tuples, after checking it is a list of the right length."""
        shapes = _check_list(type(self).__name__, shapes)
        count = len(shapes)
        if count < self.min_inputs or (self.max_inputs is not None and count > self.max_inputs):
            exactly = (f"exactly {self.min_inputs}" if self.min_inputs == self.max_inputs
                       else f"at least {self.min_inputs}")
            raise ValueError(
                f"A `{type(self).__name__}` layer should be called on {exactly} inputs. "
                f"Received {count}: input_shape={shapes}.")
        return shapes

    def _inputs(self, inputs):
        """The list of arrays in the layer's float dtype, their shapes checked."""
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"`{type(self).__name__}.forward` takes a list of arrays, got "
                             f"{type(inputs).__name__}.")
        xs = [np.asarray(x).astype(self.dtype, copy=False) for x in inputs]
        self.compute_output_shape([x.shape for x in xs])
        return xs

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.input_shape = self._validate(input_shape)
        self.built = True


class _Elementwise(Merge):
    """y = op(x_1, ..., x_n) elementwise with Keras' broadcasting; subclasses give the op."""

    def compute_output_shape(self, input_shape):
        shapes = self._validate(input_shape)
        if any(len(s) == 0 for s in shapes):
            raise ValueError(f"`{type(self).__name__}` needs inputs with a batch axis, got shapes "
                             f"{shapes}.")
        batch = _batch_size(shapes)
        out = shapes[0][1:]
        for shape in shapes[1:]:
            out = _elementwise_shape(out, shape[1:])
        return (batch,) + out

    def forward(self, inputs, training=False):
        xs = self._inputs(inputs)
        ndim = max(x.ndim for x in xs)
        # Keras' rank rule: (B, D) meets (B, T, D) as (B, 1, D).
        expanded = [x.reshape(x.shape[:1] + (1,) * (ndim - x.ndim) + x.shape[1:]) for x in xs]
        y, aux = self._merge(expanded)
        self.cache = ([x.shape for x in xs], expanded, aux)
        return y

    def backward(self, dy):
        shapes, xs, aux = self.cache
        grads = self._merge_backward(dy, xs, aux)
        return [_sum_to(np.broadcast_to(g, dy.shape), x.shape).reshape(shape)
                for g, x, shape in zip(grads, xs, shapes)]


class Add(_Elementwise):
    def _merge(self, xs):
        y = xs[0].copy()
        for x in xs[1:]:
            y = y + x  # not +=: a later input may broadcast y to a larger shape
        return y, None

    def _merge_backward(self, dy, xs, aux):
        return [dy] * len(xs)


class Subtract(_Elementwise):
    min_inputs = max_inputs = 2

    def _merge(self, xs):
        return xs[0] - xs[1], None

    def _merge_backward(self, dy, xs, aux):
        return [dy, -dy]


class Multiply(_Elementwise):
    def _merge(self, xs):
        y = xs[0].copy()
        for x in xs[1:]:
            y = y * x
        return y, None

    def _merge_backward(self, dy, xs, aux):
        # prod_{j != i} x_j as (product before i) * (product after i): no division, so zeros
        # in the inputs are fine.
        one = np.ones((), dtype=dy.dtype)
        before, after = [one], [one]
        for x in xs[:-1]:
            before.append(before[-1] * x)
        for x in xs[:0:-1]:
            after.append(after[-1] * x)
        return [dy * b * a for b, a in zip(before, after[::-1])]


class Average(_Elementwise):
    def _merge(self, xs):
        return Add._merge(self, xs)[0] / xs[0].dtype.type(len(xs)), None

    def _merge_backward(self, dy, xs, aux):
        return [dy / dy.dtype.type(len(xs))] * len(xs)


class Maximum(_Elementwise):
    pick = staticmethod(np.argmax)  # the first index on a tie

    def _merge(self, xs):
        stacked = np.stack(np.broadcast_arrays(*xs))  # (n, B, ...)
        winner = self.pick(stacked, axis=0)  # (B, ...)
        return np.take_along_axis(stacked, winner[None], axis=0)[0], winner

    def _merge_backward(self, dy, xs, winner):
        return [np.where(winner == i, dy, 0).astype(dy.dtype, copy=False) for i in range(len(xs))]


class Minimum(Maximum):
    pick = staticmethod(np.argmin)


class Concatenate(Merge):
    """y = the inputs joined along `axis`; backward hands each input its slice of dy."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def compute_output_shape(self, input_shape):
        shapes = self._validate(input_shape)
        message = ("A `Concatenate` layer requires inputs with matching shapes except for the "
                   f"concatenation axis. Received: input_shape={shapes}")
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1:
            raise ValueError(f"{message}: their ranks differ.")
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(f"`Concatenate` got axis={self.axis} for inputs of rank {rank} "
                             f"(shapes {shapes}); the axis must be in [{-rank}, {rank}).")
        axis = self.axis % rank
        for d in range(rank):
            known = {s[d] for s in shapes} - {None}
            if d != axis and len(known) > 1:
                raise ValueError(f"{message}: axis {d} has sizes {[s[d] for s in shapes]}.")
        out = list(shapes[0])  # Keras takes the other axes from the first input
        sizes = [s[axis] for s in shapes]
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        """Keras' rule: each mask spread over its input's shape (all True for an input with
        none), joined along `axis`, then any() over the last axis."""
        if mask is None or all(m is None for m in mask):
            return None
        spread = []
        for x, m in zip(inputs, mask):
            shape = np.shape(x)
            if m is None:
                spread.append(np.ones(shape, dtype=bool))
            else:
                m = np.asarray(m, dtype=bool)
                spread.append(np.broadcast_to(m[..., None], shape) if m.ndim < len(shape) else m)
        return np.concatenate(spread, axis=self.axis).any(axis=-1)

    def forward(self, inputs, training=False):
        xs = self._inputs(inputs)
        axis = self.axis % xs[0].ndim
        self.cache = (axis, [x.shape[axis] for x in xs])
        return np.concatenate(xs, axis=axis)

    def backward(self, dy):
        axis, sizes = self.cache
        return [part.copy() for part in np.split(dy, np.cumsum(sizes)[:-1], axis=axis)]

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


# Keras' backend.epsilon(): the norm is floored here, so a zero vector maps to zero.
EPSILON = 1e-7


def _l2_normalize(x, axis):
    """x / max(|x|, eps) along `axis`, and what its backward needs."""
    square_sum = np.sum(x * x, axis=axis, keepdims=True)
    inv_norm = 1 / np.sqrt(np.maximum(square_sum, EPSILON ** 2))
    x_unit = x * inv_norm
    return x_unit, (x_unit, inv_norm, square_sum > EPSILON ** 2)


def _l2_normalize_backward(dx_unit, cache, axis):
    # u = x / |x|: dx = (du - u <du, u>) / |x|; where the floor holds, |x| is the constant eps.
    x_unit, inv_norm, above_floor = cache
    projection = np.sum(dx_unit * x_unit, axis=axis, keepdims=True)
    return (dx_unit - np.where(above_floor, x_unit * projection, 0)) * inv_norm


class Dot(Merge):
    """Keras' batch_dot of two inputs over one axis each, optionally of unit vectors.

    With x1's axes moved to (B, P..., K) and x2's to (B, K, Q...), P and Q flattened:
        y[b, p, q] = sum_k x1[b, p, k] * x2[b, k, q]       # (B, P..., Q...), (B, 1) if rank 1
        dx1 = dy @ x2^T,  dx2 = x1^T @ dy                   # per batch row
    normalize=True first maps each input to x / max(|x|, eps) along its axis.
    """

    min_inputs = max_inputs = 2

    def compute_mask(self, inputs, mask=None):
        return None  # as Keras: a dot product's output carries no mask

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, (int, np.integer)):
            if not isinstance(axes, (list, tuple)):
                raise TypeError("Invalid type for argument `axes`: it should be a list or an int. "
                                f"Received: axes={axes}")
            if len(axes) != 2:
                raise ValueError("Invalid format for argument `axes`: it should contain two "
                                 f"elements. Received: axes={axes}")
            if not all(isinstance(a, (int, np.integer)) for a in axes):
                raise ValueError("Invalid format for argument `axes`: list elements should be "
                                 f"integers. Received: axes={axes}")
        self.axes = axes
        self.normalize = normalize

    def _axes(self, shape1, shape2):
        """The summed axis of each input, non-negative."""
        if len(shape1) < 2 or len(shape2) < 2:
            raise ValueError("Cannot do batch_dot on inputs with rank < 2. Received inputs with "
                             f"shapes {shape1} and {shape2}.")
        pair = self.axes if isinstance(self.axes, (list, tuple)) else (self.axes, self.axes)
        axes = []
        for axis, shape in zip(pair, (shape1, shape2)):
            if not -len(shape) <= axis < len(shape):
                raise ValueError(f"`Dot` got axes={self.axes}, out of range for inputs of shapes "
                                 f"{shape1} and {shape2}.")
            axes.append(int(axis) % len(shape))
        if 0 in axes:
            raise ValueError(f"Cannot perform batch_dot over axis 0 (the batch axis); got "
                             f"axes={self.axes} for shapes {shape1} and {shape2}. If your inputs "
                             "are not batched, add a batch axis with x[None].")
        return axes

    def compute_output_shape(self, input_shape):
        shape1, shape2 = self._validate(input_shape)
        axis1, axis2 = self._axes(shape1, shape2)
        if None not in (shape1[0], shape2[0]) and shape1[0] != shape2[0]:
            raise ValueError("Cannot do batch_dot on inputs with different batch sizes. "
                             f"Received inputs with shapes {shape1} and {shape2}.")
        size1, size2 = shape1[axis1], shape2[axis2]
        if None not in (size1, size2) and size1 != size2:
            raise ValueError(f"Incompatible input shapes: axis values {size1} (at axis {axis1}) "
                             f"!= {size2} (at axis {axis2}). Full input shapes: {shape1}, "
                             f"{shape2}")
        out = shape1[:axis1] + shape1[axis1 + 1:] + tuple(
            s for i, s in enumerate(shape2) if i not in (0, axis2))
        return out + (1,) if len(out) == 1 else out

    def forward(self, inputs, training=False):
        x1, x2 = self._inputs(inputs)
        axis1, axis2 = self._axes(x1.shape, x2.shape)
        norm1 = norm2 = None
        if self.normalize:
            x1, norm1 = _l2_normalize(x1, axis1)
            x2, norm2 = _l2_normalize(x2, axis2)
        x1_moved = np.moveaxis(x1, axis1, -1)  # (B, P..., K)
        x2_moved = np.moveaxis(x2, axis2, 1)  # (B, K, Q...)
        B, K = x1.shape[0], x1.shape[axis1]
        x1_flat = x1_moved.reshape(B, int(np.prod(x1_moved.shape[1:-1])), K)  # (B, P, K)
        x2_flat = x2_moved.reshape(B, K, int(np.prod(x2_moved.shape[2:])))  # (B, K, Q)
        y = np.matmul(x1_flat, x2_flat)  # (B, P, Q)
        self.cache = (x1_flat, x2_flat, x1_moved.shape, x2_moved.shape, (axis1, axis2),
                      (norm1, norm2))
        out_shape = x1_moved.shape[:-1] + x2_moved.shape[2:]
        return y.reshape(out_shape if len(out_shape) > 1 else (B, 1))

    def backward(self, dy):
        x1_flat, x2_flat, x1_shape, x2_shape, (axis1, axis2), (norm1, norm2) = self.cache
        dy_flat = dy.reshape(x1_flat.shape[0], x1_flat.shape[1], x2_flat.shape[2])  # (B, P, Q)
        dx1_flat = np.matmul(dy_flat, x2_flat.transpose(0, 2, 1))  # (B, P, K)
        dx2_flat = np.matmul(x1_flat.transpose(0, 2, 1), dy_flat)  # (B, K, Q)
        dx1 = np.moveaxis(dx1_flat.reshape(x1_shape), -1, axis1)
        dx2 = np.moveaxis(dx2_flat.reshape(x2_shape), 1, axis2)
        if self.normalize:
            dx1 = _l2_normalize_backward(dx1, norm1, axis1)
            dx2 = _l2_normalize_backward(dx2, norm2, axis2)
        return [np.ascontiguousarray(dx1), np.ascontiguousarray(dx2)]

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def concatenate(inputs, axis=-1, **kwargs):
    """Keras' `layers.concatenate`: Concatenate(axis, **kwargs)(inputs)."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Keras' `layers.dot`: Dot(axes, normalize, **kwargs)(inputs)."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)


def add(inputs, **kwargs):
    """Keras' `layers.add`: Add(**kwargs)(inputs)."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)

