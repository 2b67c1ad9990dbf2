"""SpatialDropout1D: Dropout that drops whole channels of a sequence.

Letters: B batch, T time, C channels.

In training, each sample keeps or drops each channel for every step at once:
    keep ~ Bernoulli(1 - rate)                          # (B, 1, C), Keras' noise shape
    y = x * keep / (1 - rate)                           # inverted dropout, (B, T, C)
In inference y = x. Neighbouring steps of a channel are strongly correlated after a Conv1D or an
Embedding, so dropping single values barely regularizes; dropping the whole channel does.
"""
from bptt.layers import _windows
from bptt.layers.core import Dropout


class SpatialDropout1D(Dropout):
    # Keras' signature: no noise_shape, and none of the base layer's other arguments.
    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, noise_shape=(None, 1, None), seed=seed, name=name, dtype=dtype)

    def compute_output_shape(self, input_shape):
        _windows.check_rank3(self, input_shape)
        return tuple(input_shape)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        super().build(input_shape)

    def forward(self, x, training=False):
        _windows.check_rank3(self, x.shape)
        return super().forward(x, training=training)

    def get_config(self):
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}
