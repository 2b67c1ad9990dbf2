"""Embedding: token ids (B, T) -> vectors (B, T, D), a row lookup in `embeddings` (V, D).

Backward scatters dy back into the rows that were looked up:
    dembeddings[ids[b, t]] += dy[b, t]
"""
import warnings

import numpy as np

from bptt.layers.base import Layer


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
        if mask_zero:
            raise NotImplementedError(
                "Embedding(mask_zero=True) is not supported: bptt layers do not propagate masks. "
                "Pad in front (pad_sequences' default, padding='pre') so the last steps are real."
            )
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = embeddings_initializer
        self.mask_zero = mask_zero

    def build(self, input_shape):
        self.add_weight("embeddings", (self.input_dim, self.output_dim),
                        self.embeddings_initializer)
        super().build(input_shape)

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
        return self.params["embeddings"][ids]  # (B, T, D)

    def backward(self, dy):
        ids = self.cache
        dembeddings = np.zeros_like(self.params["embeddings"])
        np.add.at(dembeddings, ids.reshape(-1), dy.reshape(-1, self.output_dim))
        self.grads["embeddings"] = dembeddings
        return None  # ids have no gradient

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": self.embeddings_initializer,
            "mask_zero": self.mask_zero,
        }
