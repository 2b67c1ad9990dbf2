"""Speed of the fused sequence kernels against the reference ops, float32, on the tutorial's model.

    python benchmarks/kernels_speed.py [--repeats N] [--skip-compile]

Prints, for the tutorial's LSTM(64) on 128-wide embeddings and LSTM(32) on top of it, T = 50,
batch 32 and 128:
  1. forward + backward of the whole sequence, reference (bptt.ops.lstm) vs fused
     (bptt.kernels.lstm) on one thread and with the batch rows split over two, and the ratio;
  2. the per-step recurrent GEMM (B, H) @ (H, 4H) as the fused loop runs it (numba's np.dot on
     SciPy's BLAS) at 1 and 2 BLAS threads, and NumPy's matmul on the same sizes, in GFLOP/s;
  3. the thread choices: fused forward + backward beside NumPy GEMMs for x @ kernel before and
     for dx, dkernel after (as the layer does them without numba's team; with it the layer
     keeps off NumPy's pool, see bptt.kernels.gemm), with the batch rows on 1 or 2 threads and
     SciPy's BLAS at 1 or 2 threads while the kernel runs: what NumPy's spinning workers cost;
  4. first-run compile cost per cell and dtype (a fresh NUMBA_CACHE_DIR, in a subprocess), and
     the cost of loading the cached kernels in a new process.

Timings are the minimum and the median of interleaved repeats: the minimum is the machine's
speed, the median shows noise from anything else running on the same cores.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

LAYERS = [(128, 64), (64, 32)]  # (D input features, H units): LSTM(64) on the embeddings, LSTM(32) on top
T = 50
BATCHES = [32, 128]


def timings(functions, repeats):
    """{name: (min ms, median ms)}, running the functions interleaved, each once per repeat."""
    for fn in functions.values():
        fn()  # warm up (and compile)
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: (1e3 * min(ts), 1e3 * float(np.median(ts))) for name, ts in times.items()}


def fmt(t):
    return f"{t[0]:8.3f} ms (median {t[1]:8.3f})"


def lstm_inputs(rng, B, D, H, dtype=np.float32):
    x = rng.normal(size=(T, B, D)).astype(dtype)  # (T, B, D)
    kernel = (rng.normal(size=(D, 4 * H)) / np.sqrt(D)).astype(dtype)  # (D, 4H)
    recurrent_kernel = (rng.normal(size=(H, 4 * H)) / np.sqrt(H)).astype(dtype)  # (H, 4H)
    xw = (x.reshape(T * B, D) @ kernel).reshape(T, B, 4 * H)  # (T, B, 4H)
    h0 = np.zeros((B, H), dtype)
    dhs = rng.normal(size=(T, B, H)).astype(dtype)  # (T, B, H)
    return x, kernel, recurrent_kernel, xw, h0, dhs


def configured(fn, threads, blas_threads=1):
    """fn run with the kernels' batch rows on `threads` threads and SciPy's BLAS at blas_threads."""
    from bptt.kernels import _common
    from bptt.kernels import threads as threads_model

    def run():
        saved = threads_model._REQUESTED, _common.KERNEL_BLAS_THREADS
        threads_model._REQUESTED, _common.KERNEL_BLAS_THREADS = threads, blas_threads
        try:
            return fn()
        finally:
            threads_model._REQUESTED, _common.KERNEL_BLAS_THREADS = saved
    return run


def sequence_speed(repeats):
    from bptt.kernels import lstm as fused
    from bptt.ops import lstm as reference

    print("1. LSTM forward + backward of the whole sequence, float32, T = 50;"
          " fused on 1 thread, and with the batch rows split over 2")
    rng = np.random.default_rng(0)
    for B in BATCHES:
        for D, H in LAYERS:
            _, _, U, xw, h0, dhs = lstm_inputs(rng, B, D, H)

            def run(module):
                def step():
                    _, _, cache = module.lstm_forward(xw, U, h0, h0)
                    module.lstm_backward(dhs, None, None, cache)
                return step

            def forward():
                fused.lstm_forward(xw, U, h0, h0)

            # Each setting alone: the reference's NumPy GEMMs (and the one-thread fused run's
            # drecurrent_kernel, on NumPy's BLAS there) leave NumPy's BLAS workers spinning on the
            # second core for ~0.1 s, which slows numba's team 10x in the split runs after them.
            t = timings({"reference": run(reference)}, max(3, repeats // 4))
            t.update(timings({"fused 1": configured(run(fused), 1),
                              "forward 1": configured(forward, 1)}, repeats))
            time.sleep(0.3)
            t.update(timings({"fused 2": configured(run(fused), 2),
                              "forward 2": configured(forward, 2)}, repeats))
            print(f"  B={B:3d} H={H:2d}: reference {fmt(t['reference'])}")
            for n in (1, 2):
                print(f"  {'':9s} fused, {n} thread{'s' if n > 1 else ' '}  {fmt(t[f'fused {n}'])}"
                      f"  forward {t[f'forward {n}'][0]:.3f}  x{t['reference'][0] / t[f'fused {n}'][0]:.1f}")


def gemm_speed(repeats):
    import numba

    from bptt.kernels._common import blas_threads

    @numba.njit(nogil=True)
    def per_step_gemms(h, recurrent_kernel, a, steps):
        for _ in range(steps):
            np.dot(h, recurrent_kernel, a)

    print("2. per-step GEMM (B, H) @ (H, 4H), float32, GFLOP/s (T = 50 calls)")
    rng = np.random.default_rng(0)
    for B in BATCHES:
        for _, H in LAYERS:
            h = rng.normal(size=(B, H)).astype(np.float32)
            U = rng.normal(size=(H, 4 * H)).astype(np.float32)
            a = np.empty((B, 4 * H), np.float32)
            flops = 2.0 * B * H * 4 * H * T

            def numba_at(n):
                def run():
                    with blas_threads(n):
                        per_step_gemms(h, U, a, T)
                return run

            def numpy_loop():
                for _ in range(T):
                    np.matmul(h, U, out=a)

            t = timings({"numba 1": numba_at(1), "numba 2": numba_at(2), "numpy": numpy_loop}, repeats)
            rates = "  ".join(f"{name}: {flops / (1e6 * v[0]):6.1f} (median {flops / (1e6 * v[1]):6.1f})"
                              for name, v in t.items())
            print(f"  B={B:3d} H={H:2d}: {rates}")


def thread_choice(repeats):
    from bptt.kernels import lstm as fused

    print("3. fused LSTM forward + backward inside a training step (NumPy GEMMs for x @ kernel")
    print("   before, dx and dkernel after, as the layer does): kernel threads x SciPy BLAS threads")
    rng = np.random.default_rng(0)
    configs = {"1 x 1": (1, 1), "1 x 2": (1, 2), "2 x 1": (2, 1)}
    for B in BATCHES:
        D, H = LAYERS[0]
        x, kernel, U, _, h0, dhs = lstm_inputs(rng, B, D, H)
        x2 = x.reshape(T * B, D)
        kernel_times = {name: [] for name in configs}

        def step(name):
            def run():
                xw = (x2 @ kernel).reshape(T, B, 4 * H)  # NumPy's pool, as the layer does it
                start = time.perf_counter()
                _, _, cache = fused.lstm_forward(xw, U, h0, h0)
                dxw, _, _, _ = fused.lstm_backward(dhs, None, None, cache)
                kernel_times[name].append(time.perf_counter() - start)
                dxw2 = dxw.reshape(T * B, 4 * H)
                x2.T @ dxw2, dxw2 @ kernel.T  # dkernel, dx on NumPy's pool
            return configured(run, *configs[name])

        t = timings({name: step(name) for name in configs}, repeats)
        for name in configs:
            v = kernel_times[name][1:]
            k = (1e3 * min(v), 1e3 * float(np.median(v)))
            print(f"  B={B:3d} H={H} {name}: kernels {fmt(k)}   whole step {fmt(t[name])}")


COMPILE_SCRIPT = r"""
import json, sys, time
import numpy as np
t0 = time.perf_counter()
from bptt.kernels import gru, lstm, simple_rnn
import_s = time.perf_counter() - t0
rng = np.random.default_rng(0)
T, B, H = 5, 3, 4
out = {"import": import_s}
def cell_calls(dtype):
    r = lambda *s: rng.normal(size=s).astype(dtype)
    def srnn():
        _, _, c = simple_rnn.simple_rnn_forward(r(T, B, H), r(H, H), r(B, H))
        simple_rnn.simple_rnn_backward(r(T, B, H), None, c)
    def lstm_():
        _, _, c = lstm.lstm_forward(r(T, B, 4 * H), r(H, 4 * H), r(B, H), r(B, H))
        lstm.lstm_backward(r(T, B, H), None, None, c)
    def gru_after():
        _, _, c = gru.gru_forward(r(T, B, 3 * H), r(H, 3 * H), r(3 * H), r(B, H), True)
        gru.gru_backward(r(T, B, H), None, c)
    def gru_before():
        _, _, c = gru.gru_forward(r(T, B, 3 * H), r(H, 3 * H), None, r(B, H), False)
        gru.gru_backward(r(T, B, H), None, c)
    return {"simple_rnn": srnn, "lstm": lstm_, "gru reset_after=True": gru_after,
            "gru reset_after=False": gru_before}
for dtype in (np.float32, np.float64):
    for name, fn in cell_calls(dtype).items():
        t0 = time.perf_counter(); fn(); first = time.perf_counter() - t0
        t0 = time.perf_counter(); fn(); second = time.perf_counter() - t0
        out[f"{name} {np.dtype(dtype).name}"] = first - second
json.dump(out, sys.stdout)
"""


def compile_cost():
    print("4. first call minus second call, per cell and dtype, seconds (fresh cache, then cached)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as cache_dir:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=root)
        runs = []
        for _ in range(2):
            done = subprocess.run([sys.executable, "-c", COMPILE_SCRIPT], env=env, check=True,
                                  capture_output=True, text=True)
            runs.append(json.loads(done.stdout))
    for name in runs[0]:
        print(f"  {name:32s} compile {runs[0][name]:6.2f}   from cache {runs[1][name]:6.3f}")
    total = sum(v for k, v in runs[0].items() if k != "import")
    print(f"  {'all cells, both dtypes':32s} compile {total:6.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--skip-compile", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; numpy {np.__version__}")
    sequence_speed(args.repeats)
    gemm_speed(args.repeats)
    thread_choice(args.repeats)
    if not args.skip_compile:
        compile_cost()


if __name__ == "__main__":
    main()
