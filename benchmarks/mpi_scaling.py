"""Data-parallel training over MPI: throughput of the tutorial's model on P processes, the time
of the per-step gradient Allreduce, and a model of where more processes pay.

    flock /tmp/bptt-cpu.lock mpiexec -n 2 python -m mpi4py benchmarks/mpi_scaling.py
    flock /tmp/bptt-cpu.lock python benchmarks/mpi_scaling.py        # P = 1, and t(b) for the model
    python benchmarks/mpi_scaling.py --report                        # the table and predictions

The model is examples/sentiment.py's (Embedding(20000, 128), LSTM(64, return_sequences=True,
dropout=0.2), LSTM(32), Dense(1, sigmoid); Adam) on reviews of 50 word ids drawn at random
(the speed does not depend on which words). Each process gets cores // P threads (bptt.config.
set_num_threads and NUMBA / OpenMP / OpenBLAS threads), so P processes never oversubscribe
the cores. A fit of `--steps` global batches is timed after a warm-up fit; the Allreduce is
timed alone on the same flat gradient buffer that fit sums each step, between barriers.
Results go to benchmarks/results/mpi_scaling_P<P>.json (rank 0 writes).
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run as a file too

from benchmarks.workloads.bptt_model import BpttWorkload  # noqa: E402
from benchmarks.workloads.common import MAXLEN  # noqa: E402

RESULTS = Path(__file__).with_name("results")


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", default="32,128", help="global batch sizes")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per batch size")
    parser.add_argument("--reps", type=int, default=20, help="timed Allreduce calls")
    parser.add_argument("--shard-sizes", default="4,8,16,32,64,128",
                        help="with one process: step times t(b) for the model of scaling")
    parser.add_argument("--report", action="store_true",
                        help="read the results files, print the table and the predictions")
    return parser.parse_args()


def world():
    """(rank, size, MPI or None): one process without mpi4py or mpiexec."""
    try:
        from mpi4py import MPI
    except ImportError:
        return 0, 1, None
    return MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size(), MPI


def limit_threads(MPI, size):
    """(cores this process may use, threads to give it), set for every pool before NumPy and
    Numba start theirs: mpiexec binds each process to its own cores (then all of them), else
    the processes on this machine share its cores."""
    cores = len(os.sched_getaffinity(0))
    local = 1
    if MPI is not None and size > 1:
        local = MPI.COMM_WORLD.Split_type(MPI.COMM_TYPE_SHARED).Get_size()
    bound = cores < (os.cpu_count() or cores)
    threads = cores if bound else max(1, cores // local)
    for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                 "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(threads))
    return cores, threads


def tutorial_model():
    """examples/sentiment.py's model, as benchmarks.workloads builds it, with its own weights."""
    workload = BpttWorkload()
    workload.load()
    return workload.tutorial_model(None, MAXLEN)


def reviews(rows, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    return rng.integers(1, 20000, size=(rows, MAXLEN)), rng.integers(0, 2, size=rows).astype("float32")


def timed_fit(model, batch, steps, barrier):
    """Seconds per global step of fit over `steps` batches, after a 3-step warm-up."""
    x, y = reviews(batch * steps)
    model.fit(x[:3 * batch], y[:3 * batch], batch_size=batch, epochs=1, verbose=0)
    from bptt import distribution

    summing = getattr(distribution.distribution(), "_gradient_sum", None)
    if summing is not None:  # count the timed steps only
        summing.steps, summing.floats, summing.seconds = 0, 0, 0.0
    barrier()
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    barrier()
    return (time.perf_counter() - start) / steps


def timed_allreduce(MPI, buffer, reps):
    """Median seconds of one in-place Allreduce of `buffer`, every process starting together."""
    times = []
    for _ in range(reps + 2):
        MPI.COMM_WORLD.Barrier()
        start = time.perf_counter()
        MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:])


def measure(args):
    rank, size, MPI = world()
    cores, threads = limit_threads(MPI, size)
    import numpy as np

    from bptt import config, distribution
    from bptt.utils import set_random_seed

    config.set_num_threads(threads)
    if MPI is not None:
        distribution.set_distribution(distribution.DataParallel())
    barrier = MPI.COMM_WORLD.Barrier if (MPI is not None and size > 1) else (lambda: None)
    set_random_seed(0)
    out = {"processes": size, "cores": cores, "threads_per_process": threads,
           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "batches": {}}
    for batch in [int(b) for b in args.batches.split(",")]:
        model = tutorial_model()
        step = timed_fit(model, batch, args.steps, barrier)
        row = {"step_ms": 1e3 * step, "samples_per_s": batch / step}
        summing = getattr(distribution.distribution(), "_gradient_sum", None)
        if size > 1 and summing is not None and summing.steps:
            floats = summing.floats // summing.steps  # per step of the timed fit
            row["sent_floats_per_step"] = floats
            row["allreduce_in_fit_ms"] = 1e3 * summing.seconds / summing.steps
            row["allreduce_alone_ms"] = 1e3 * timed_allreduce(
                MPI, np.zeros(floats, np.float32), args.reps)
            dense = 2 * 20000 * 128 + sum(w.size for w in model.get_weights()[1:]) + 20000
            row["dense_floats"] = dense
            row["dense_allreduce_alone_ms"] = 1e3 * timed_allreduce(
                MPI, np.zeros(dense, np.float32), args.reps)
            distribution.distribution()._gradient_sum = None  # counts afresh for the next batch
        out["batches"][batch] = row
    if size == 1:  # t(b): a one-thread process's step at the shard sizes P processes would run
        config.set_num_threads(1)
        out["step_ms_at_batch"] = {}
        for b in [int(v) for v in args.shard_sizes.split(",")]:
            out["step_ms_at_batch"][b] = 1e3 * timed_fit(tutorial_model(), b, args.steps,
                                                         barrier)
    if rank == 0:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"mpi_scaling_P{size}.json"
        path.write_text(json.dumps(out, indent=1))
        print(json.dumps(out, indent=1))


def ring_allreduce_s(floats, processes, bandwidth, latency):
    """A ring Allreduce: 2 (P-1) messages of floats / P each way, at bandwidth (bytes/s)."""
    if processes == 1:
        return 0.0
    return 2 * (processes - 1) * (latency + 4 * floats / processes / bandwidth)


def report():
    one = json.loads((RESULTS / "mpi_scaling_P1.json").read_text())
    two = json.loads((RESULTS / "mpi_scaling_P2.json").read_text())
    t = {int(b): ms / 1e3 for b, ms in one["step_ms_at_batch"].items()}
    sizes = sorted(t)
    slope = (t[sizes[-1]] - t[sizes[0]]) / (sizes[-1] - sizes[0])  # t(b) = t0 + slope * b
    t0 = t[sizes[0]] - slope * sizes[0]
    print(f"one process, one thread: t(b) = {1e3 * t0:.1f} ms + {1e3 * slope:.3f} ms per row "
          f"(from b = {sizes[0]} and {sizes[-1]}; measured: " + ", ".join(
              f"{b}: {1e3 * t[b]:.1f}" for b in sizes) + " ms)")
    print("\n| global batch | P | threads each | samples/s | step (ms) | floats sent a step "
          "| Allreduce in fit (ms) | same Allreduce alone (ms) | dense table alone (ms) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for result in (one, two):
        for batch, row in result["batches"].items():
            print(f"| {batch} | {result['processes']} | {result['threads_per_process']} | "
                  f"{row['samples_per_s']:.0f} | {row['step_ms']:.1f} | "
                  f"{row.get('sent_floats_per_step', 0):,} | "
                  f"{row.get('allreduce_in_fit_ms', 0):.1f} | "
                  f"{row.get('allreduce_alone_ms', 0):.1f} | "
                  f"{row.get('dense_allreduce_alone_ms', 0):.1f} |")
    print("\nThe model against the 2-process measurement: t(B/2) + the Allreduce measured in fit")
    for batch, row in two["batches"].items():
        predicted = t0 + slope * int(batch) / 2 + row["allreduce_in_fit_ms"] / 1e3
        print(f"  batch {batch}: predicted {1e3 * predicted:.1f} ms a step, measured "
              f"{row['step_ms']:.1f} ms ({row['step_ms'] / 1e3 / predicted:.2f}x)")
    print("\nPredicted: t(B/P) on one thread per process plus a ring Allreduce of the floats "
          "sent (2 (P-1) messages of S/P floats, 20 us each + size / bandwidth); speed-up "
          "against one process on one thread:")
    print("\n| global batch | P | link | compute (ms) | Allreduce (ms) | samples/s | speed-up |")
    print("|---|---|---|---|---|---|---|")
    for batch, row in two["batches"].items():
        batch = int(batch)
        floats = row["sent_floats_per_step"]
        here = 4 * floats / (row["allreduce_alone_ms"] / 1e3)  # P = 2: 2 messages of S / 2
        links = {f"shared memory ({here / 1e9:.1f} GB/s, measured)": here,
                 "10 Gbit/s Ethernet": 1.25e9, "100 Gbit/s InfiniBand": 12.5e9}
        alone = batch / (t0 + slope * batch)
        for processes in (8, 64):
            compute = t0 + slope * max(batch / processes, 1)
            for name, link in links.items():
                reduce = ring_allreduce_s(floats, processes, link, 20e-6)
                rate = batch / (compute + reduce)
                print(f"| {batch} | {processes} | {name} | {1e3 * compute:.1f} | "
                      f"{1e3 * reduce:.1f} | {rate:.0f} | {rate / alone:.1f}x |")


if __name__ == "__main__":
    parsed = arguments()
    sys.exit(report() if parsed.report else measure(parsed))
