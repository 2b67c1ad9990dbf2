"""Embedding: token ids (B, T) -> vectors (B, T, D), a row lookup in `embeddings` (V, D).

Backward scatters dy back into the rows that were looked up (bptt.ops.embedding):
    dembeddings[ids[b, t]] += dy[b, t]

With the fused kernels (the default) the gradient is written into one (V, D) buffer the layer
keeps: each backward clears only the rows the previous one wrote and adds this batch's rows
(bptt.kernels.embedding), instead of allocating and zeroing V * D floats per step. So
`grads["embeddings"]` is the same array from step to step, holding the latest backward's
gradient: copy it to keep it past the next backward, and do not write into it (the next backward
clears only the rows it knows it wrote). With the reference kernels every backward returns a new
array.
"""
import warnings

import numpy as np

from bptt import backend
from bptt.layers.base import Layer
from bptt.ops import embedding as reference


class Embedding(Layer):
    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        mask_zero=False,
        **kwargs,
    ):
        if "input_length" in kwargs:
            kwargs.pop("input_length")
            warnings.warn(
                "Argument `input_length` is deprecated in Keras 3 and ignored here too; remove it.",
                stacklevel=2,
            )
        super().__init__(**kwargs)
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"Embedding expects a positive int `{arg}`, got {value!r}.")
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = embeddings_initializer
        self.mask_zero = mask_zero
        self._dembeddings = None  # (V, D) the fused backward's buffer, zero outside _rows_before
        self._rows_before = None  # (B, T) a copy of the ids the last fused backward wrote
        self._dsquares = None  # (V, D) the same for grad_squares
        self.grad_squares = {}
        self.grad_rows = {}  # (V,) bool: the rows the last fused backward looked up
        self.grad_lookups = {}  # (ids (N,), dy (N, D)) of the last backward

    def build(self, input_shape):
        self.add_weight("embeddings", (self.input_dim, self.output_dim),
                        self.embeddings_initializer)
        super().build(input_shape)

    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        """With mask_zero, id 0 is padding: the mask is True where the id is not 0 (Keras)."""
        return np.asarray(inputs) != 0 if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def check_ids(self, x):
        """Raise a clear error for ids that are not integers in [0, input_dim)."""
        x = np.asarray(x)
        if x.dtype.kind == "f":
            if not np.all(np.mod(x, 1) == 0):
                raise ValueError(
                    f"Embedding '{self.name}' expects integer token ids, got non-integer floats "
                    f"(dtype {x.dtype}). Encode text to ids first (bptt.datasets.imdb.encode)."
                )
        elif x.dtype.kind not in "iu":
            raise ValueError(
                f"Embedding '{self.name}' expects integer token ids, got dtype {x.dtype}."
            )
        if x.size:
            low, high = x.min(), x.max()
            if low < 0 or high >= self.input_dim:
                bad = low if low < 0 else high
                raise ValueError(
                    f"Embedding '{self.name}' got token id {int(bad)}, outside [0, input_dim) = "
                    f"[0, {self.input_dim}). Raise input_dim to at least {int(high) + 1}, or "
                    "load the data with num_words=input_dim so rarer words map to the "
                    "out-of-vocabulary id."
                )
        return x.astype(np.intp, copy=False)

    def forward(self, x, training=False):
        ids = self.check_ids(x)
        self.cache = ids
        if ids.ndim == 2:
            # (B, T, D) as the transposed view of a time-major (T, B, D) array: a recurrent layer
            # reads it by time step (its own transpose is then a contiguous read), and hands
            # back a gradient of that layout, which backward reads in place.
            return reference.embedding_forward(ids.T, self.params["embeddings"]).transpose(1, 0, 2)
        return reference.embedding_forward(ids, self.params["embeddings"])  # (B, ..., D)

    def infer(self, x):
        """The lookup in (B, T, D) order (the inference kernels read each sequence's steps in
        a row); no cache."""
        self.cache = None
        return reference.embedding_forward(self.check_ids(x), self.params["embeddings"])

    def backward(self, dy):
        """Fills grads['embeddings'] (repeats summed) and grad_squares['embeddings'] (the sum
        of each lookup's squared gradient, which Keras/TF's Adam and RMSprop use for g^2: see
        bptt.optimizers.base.RowGradient)."""
        ids = self.cache
        if ids is None:
            raise RuntimeError(
                f"Embedding '{self.name}': backward needs the cache of a forward pass, and the "
                "last pass kept none (it ran in inference mode). Run layer.forward(x) first."
            )
        embeddings = self.params["embeddings"]
        if backend.get_kernels() != "fused":
            self._dembeddings = None  # the buffers' rows are no longer tracked
            self.grads["embeddings"] = reference.embedding_backward(dy, ids, embeddings)
            self.grad_squares = {
                "embeddings": reference.embedding_backward_squares(dy, ids, embeddings)}
            self.grad_rows = {}
            self._keep_lookups(ids, dy)
            return None  # ids have no gradient
        from bptt.kernels.embedding import embedding_backward_with_squares_into

        buffer = self._dembeddings
        if buffer is None or buffer.shape != embeddings.shape or buffer.dtype != embeddings.dtype:
            buffer = np.zeros_like(embeddings, order="C")
            self._dsquares = np.zeros_like(embeddings, order="C")
            self._looked_up = np.zeros(len(embeddings), dtype=np.bool_)
            self._dembeddings, self._rows_before = buffer, np.empty(0, np.intp)  # nothing to clear
        # A copy of the ids: the caller may reuse its batch array before the next backward.
        rows = np.array(ids, dtype=np.intp, order="C")  # (B, T)
        dy = np.asarray(dy, dtype=embeddings.dtype)  # (B, T, D), any strides
        # One pass fills the gradient, its per-lookup squares and the looked-up rows (the
        # optimizer reads the squares only there: bptt.optimizers.base.RowGradient).
        self.grads["embeddings"], dsquares, looked_up = embedding_backward_with_squares_into(
            buffer, self._dsquares, self._looked_up, self._rows_before, rows, dy)
        self.grad_squares = {"embeddings": dsquares}
        self.grad_rows = {"embeddings": looked_up}
        self._rows_before = rows
        self._keep_lookups(rows, dy)
        return None  # ids have no gradient

    def _keep_lookups(self, ids, dy):
        """grad_lookups: each lookup's id and gradient row, which clipvalue clips one by one
        as TF does (bptt.optimizers.base.RowGradient)."""
        D = self.params["embeddings"].shape[1]
        self.grad_lookups = {"embeddings": (np.asarray(ids, dtype=np.intp).reshape(-1),
                                            np.asarray(dy).reshape(-1, D))}

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": self.embeddings_initializer,
            "mask_zero": self.mask_zero,
        }
