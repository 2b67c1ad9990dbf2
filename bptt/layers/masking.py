"""Masking: marks the timesteps whose features all equal `mask_value` as padding.

    mask[b, t] = any(x[b, t, :] != mask_value)        # (B, T), True at real steps
    y = x * mask[..., None]                           # masked steps become zeros, as in Keras

The layers after it read the mask (recurrent layers hold their state through masked steps;
losses and metrics skip them), exactly as with Embedding(mask_zero=True).
"""
import numpy as np

from bptt.layers.base import Layer


class Masking(Layer):
    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def _mask(self, x):
        return np.any(np.asarray(x) != self.mask_value, axis=-1)  # (B, T)

    def compute_mask(self, inputs, mask=None):
        return self._mask(inputs)

    def forward(self, x, training=False):
        x = np.asarray(x)
        if x.dtype.kind != "f" or x.dtype != self.dtype:
            x = x.astype(self.dtype)
        keep = self._mask(x)[..., None].astype(x.dtype)  # (B, T, 1)
        self.cache = keep
        return x * keep

    def backward(self, dy):
        return dy * self.cache

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
