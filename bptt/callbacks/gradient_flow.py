"""GradientFlow: the gradient through time on a fixed batch, recorded while a model trains."""
import numbers

from bptt.callbacks.base import Callback


class GradientFlow(Callback):
    """Records bptt.diagnostics.gradient_flow(model, x, y) every `every` training batches.

    `flows` is {batches done: {layer: {"x", "h", "c": (T,)}}}: the mean |dL/dx_t|, |dL/dh_t|
    and (LSTM) |dL/dc_t| at each step on the fixed probe batch (x, y), from 0 (before the first
    update) and then after every `every`-th batch, counted across epochs. Each fit starts a new
    record. Training is unchanged: the probe runs without dropout, draws no random number, puts
    stateful layers' states back and is over before the next batch computes its gradients.
    """

    def __init__(self, x, y, every=100, sample_weight=None):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
            raise ValueError(f"GradientFlow(every=...) is the number of batches between two "
                             f"records, a positive integer; got {every!r}.")
        self.x, self.y, self.every, self.sample_weight = x, y, int(every), sample_weight
        self.flows = {}
        self._batches = 0

    def _record(self):
        from bptt.diagnostics import gradient_flow  # diagnostics imports the layers

        self.flows[self._batches] = gradient_flow(self.model, self.x, self.y, self.sample_weight)

    def on_train_begin(self, logs=None):
        self.flows, self._batches = {}, 0
        self._record()

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self._batches % self.every == 0:
            self._record()
