"""The tutorial's model in bptt, exactly as a user writes it (only the weights are set, so every
framework starts from the same ones).

    training step      model.train_on_batch(x, y)   (forward, loss, backward, Adam, accuracy)
    padded batch       the same model at T = 200, Embedding(mask_zero=False) against
                       Embedding(mask_zero=True) (skips the padding), train_on_batch
    one review         model.predict_on_batch(x1)
    predict            model.predict(x, batch_size=1000, verbose=0)
    LSTM layer         layers.LSTM(H, return_sequences=True): forward(x, training=True) and
                       backward(dy), which includes the input projection GEMM and dx
"""
import contextlib
import math
import time

import numpy as np

from benchmarks.workloads import common


class BpttWorkload(common.KerasAPIWorkload):
    name = "bptt"

    def load(self):
        import numba
        import scipy

        import bptt
        from bptt import layers, models

        self.layers, self.models = layers, models
        return {"bptt": bptt.__version__, "numpy": np.__version__, "numba": numba.__version__,
                "scipy": scipy.__version__, "kernels": bptt.get_kernels()}

    def tutorial_model(self, weights, maxlen, mask_zero=False):
        """The tutorial's model built for `maxlen` words, with `weights` (None: its own initial
        ones)."""
        layers, models = self.layers, self.models
        model = models.Sequential()
        model.add(layers.Embedding(input_dim=common.VOCAB, output_dim=common.EMBED,
                                   mask_zero=mask_zero))
        model.add(layers.LSTM(common.UNITS_1, return_sequences=True, dropout=common.DROPOUT))
        model.add(layers.LSTM(common.UNITS_2, return_sequences=False))
        model.add(layers.Dense(1, activation="sigmoid"))
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        model.build((None, maxlen))
        if weights is not None:
            model.set_weights(weights)
        return model

    def build(self, weights):
        self.model = self.tutorial_model(weights, common.MAXLEN)

    def padded_model(self, weights, x, y, lengths, skip):
        """Skipping padding is Embedding(mask_zero=True): the mask reaches both LSTMs, which
        hold their states over the padded steps, and LSTM(32) returns each row's last real
        step. `lengths` is not used: the mask comes from the ids."""
        model = self.tutorial_model(weights, x.shape[1], mask_zero=skip)
        return (lambda: model.train_on_batch(x, y)[0]), (lambda: model.predict_on_batch(x))

    def trainable_params(self):
        return int(self.model.count_params())

    def lstm_layer(self, T, B, D, H, rng):
        layer = self.layers.LSTM(H, return_sequences=True)
        layer.build((B, T, D))
        x = rng.standard_normal((B, T, D), dtype=np.float32)  # (B, T, D)
        dy = rng.standard_normal((B, T, H), dtype=np.float32)  # (B, T, H)

        def forward_backward():
            layer.forward(x, training=True)
            layer.backward(dy)
        return forward_backward

    def cmd_finite_check(self, batch, steps, warmup, reps, calls):
        """fit's NaN / inf check (benchmarks/finite_check.py): ms per training step with it on
        and off, alternating block by block (`reps` blocks of `steps` each way), then the
        check alone on the last step's gradients, us per call over `calls`."""
        from bptt import backend
        from bptt.models import finite

        before = backend.get_check_finite()
        batches = self._batches(batch, warmup + steps, 0)
        for x, y in batches[:warmup]:
            self.train_step(x, y)
        times = {True: [], False: []}
        try:
            for rep in range(reps):
                for check in ((True, False) if rep % 2 == 0 else (False, True)):
                    backend.set_check_finite(check)
                    start = time.perf_counter()
                    for x, y in batches[warmup:]:
                        self.train_step(x, y)
                    times[check].append(1e3 * (time.perf_counter() - start) / steps)
        finally:
            backend.set_check_finite(before)
        grads = [grad for grad, _ in self.model._trainable_pairs()]
        start = time.perf_counter()
        for _ in range(calls):
            finite.first_nonfinite(0.5, grads)
        check_us = 1e6 * (time.perf_counter() - start) / calls
        return {"on_ms": times[True], "off_ms": times[False], "check_us": check_us,
                "batch": batch, "steps": steps, "reps": reps}

    def matmul_peak(self, n, repeats):
        return numpy_matmul_peak(n, repeats)

    @contextlib.contextmanager
    def thread_limit(self, threads):
        from bptt import config
        from bptt.kernels import threads as threads_model

        before = threads_model._REQUESTED  # None (every core) unless set: restored as it was
        config.set_num_threads(threads)
        try:
            yield
        finally:
            config.set_num_threads(before)

    def threads(self):
        import numba

        from bptt.kernels import _common
        from bptt.kernels import threads as threads_model

        team = _common.team_threads()
        return {"kernel_threads (split work runs on up to)": threads_model.limit(),
                "affinity_cores": threads_model.cores(),
                "kernel_blas_threads (SciPy BLAS inside the time loop)": _common.KERNEL_BLAS_THREADS,
                "numba_threading_layer": numba.threading_layer(),
                "numba_threads": numba.get_num_threads(),
                "team (split work as one numba parallel region)": team,
                "min_work_per_thread": dict(threads_model.MIN_PER_THREAD),
                "blas": ("the layers' GEMMs split over the team, SciPy's OpenBLAS at 1 thread per "
                         "part; NumPy's pool unused" if team else
                         "NumPy's OpenBLAS runs the one-off GEMMs below batch 64")}


def numpy_matmul_peak(n, repeats):
    """Best float32 (n, n) @ (n, n) GFLOP/s of NumPy's BLAS at its default threads."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), np.float32)
    np.matmul(a, b, out=out)  # warm-up
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return {"n": n, "gflops": 2.0 * n ** 3 / best / 1e9, "best_ms": 1e3 * best, "repeats": repeats}


if __name__ == "__main__":
    common.main(BpttWorkload())
