"""bptt against PyTorch (and Keras) on the tutorial's model: speed, memory, start-up.

    python -m benchmarks.run [--quick] [--keras-python PATH ...] [--no-scaling] [--threads N]

The model: Embedding(20000, 128), LSTM(64, return_sequences=True, dropout=0.2), LSTM(32),
Dense(1, sigmoid); Adam (Keras' defaults, eps=1e-7 in PyTorch too); binary cross-entropy;
T = 50; data bptt.datasets.imdb.load_data(num_words=20000, maxlen=50). The parent loads the
data and draws the initial weights once (bptt, seed 0) into one .npz; every framework's worker
(benchmarks/workloads/, its own process and environment, see benchmarks/workers.py) reads that
file, so all train on the same arrays from the same weights, and each asserts 2,621,857
trainable parameters.

Measured (each repetition: untimed warm-up calls, then N calls timed together; the frameworks
interleaved repetition by repetition, their order rotated; reported as median (min-max)):
    training step, batch 32 and 128   ms/step over N consecutive batches of x_train
    one review, batch 1               ms/call, N reviews of x_test one at a time
    one review every 20 ms            median ms of N such calls, each after a 20 ms sleep (a
                                      service answering requests: threads that went idle)
    predict 5,000 reviews             ms for x_test[:5000] at batch_size=1000
    peak RSS                          VmHWM of a fresh process that imports, builds and trains
                                      200 steps at batch 32
    first run                         seconds to import + build + first training step in a fresh
                                      process; bptt with an empty NUMBA_CACHE_DIR (compiles its
                                      kernels), then again with that cache warm
    scaling                           one LSTM layer forward + backward over T x H, see scaling.py
    thread scaling                    training batch 128 and predict 5,000 at 1, 2, 4, ... threads
                                      up to the cores present, see thread_scaling.py
    NaN / inf check (bptt)            fit's check of each step's loss and gradients: its time on
                                      a step's gradients over a batch-32 step's, and steps with /
                                      without it, see finite_check.py
    skipping padding (bptt, PyTorch)  ms/step on one batch of 32 reviews post-padded to 200 ids
                                      (padded_batch), padding computed against skipped (bptt:
                                      Embedding(mask_zero=False / True); PyTorch: plain /
                                      pack_padded_sequence), back to back in one worker; each
                                      rep's skipped / computed ratio (target: bptt's <= 1.15)

Keras runs when an interpreter has keras and its backend: this one, or those given with
--keras-python (or $BPTT_BENCH_KERAS_PYTHON, separated by ':'); TensorFlow and JAX each get a
worker when found. Results: benchmarks/results/<date>.json and latest.json; the markdown table
is printed at the end (git keeps latest.json only). --quick writes only
benchmarks/results/latest-quick.json.
"""
import argparse
import datetime
import hashlib
import itertools
import os
import platform
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run as a file too

from benchmarks import contention, finite_check, scaling, thread_scaling, workers  # noqa: E402
from benchmarks.workloads.common import PADDED_BATCH, PADDED_LEN, PADDING_MODES  # noqa: E402
from benchmarks.report import (TARGETS, first_run_row, padding_rows,  # noqa: E402
                               results_table, rss_row, summary, timed_row, write)

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")

OUTPUT_CHECK = 256  # reviews predicted from the initial weights to check the models agree

SETTINGS = {
    "full": {
        "train_b32": {"batch": 32, "steps": 30, "warmup": 3, "reps": 7},
        "train_b128": {"batch": 128, "steps": 12, "warmup": 2, "reps": 7},
        "latency_b1": {"calls": 500, "warmup": 20, "reps": 7},
        "latency_spaced": {"calls": 40, "warmup": 5, "pause_s": 0.02, "reps": 5},
        "predict_5k": {"count": 5000, "batch_size": 1000, "warmup": 1, "reps": 5},
        "train_padding": {"steps": 10, "warmup": 2, "reps": 7},
        "peak_rss": {"steps": 200, "batch": 32},
        "first_run": {"batch": 32, "reps": 2},
        "scaling": {"t_grid": scaling.T_GRID, "h_grid": scaling.H_GRID, "reps": 3,
                    "min_seconds": 0.2},
        "contention": {"threshold": 0.2, "retries": 3, "wait_budget_s": 120.0, "wait_each_s": 15.0},
        "thread_scaling": {"train_b128": {"batch": 128, "steps": 8, "warmup": 2},
                           "predict_5k": {"count": 5000, "batch_size": 1000, "warmup": 1},
                           "reps": 3},
        "finite_check": {"batch": 32, "steps": 20, "warmup": 3, "reps": 6, "calls": 500},
    },
    "quick": {
        "train_b32": {"batch": 32, "steps": 5, "warmup": 2, "reps": 2},
        "train_b128": {"batch": 128, "steps": 3, "warmup": 2, "reps": 2},
        "latency_b1": {"calls": 100, "warmup": 10, "reps": 2},
        "latency_spaced": {"calls": 10, "warmup": 2, "pause_s": 0.02, "reps": 1},
        "predict_5k": {"count": 5000, "batch_size": 1000, "warmup": 1, "reps": 1},
        "train_padding": {"steps": 2, "warmup": 2, "reps": 1},
        "peak_rss": {"steps": 20, "batch": 32},
        "first_run": {"batch": 32, "reps": 1},
        "scaling": {"t_grid": (25, 100), "h_grid": (32, 128), "reps": 1, "min_seconds": 0.02},
        "contention": {"threshold": 0.2, "retries": 1, "wait_budget_s": 10.0, "wait_each_s": 5.0},
        "thread_scaling": {"train_b128": {"batch": 128, "steps": 2, "warmup": 1},
                           "predict_5k": {"count": 5000, "batch_size": 1000, "warmup": 1},
                           "reps": 1},
        "finite_check": {"batch": 32, "steps": 3, "warmup": 1, "reps": 2, "calls": 50},
    },
}


def log(*args):
    print(*args, flush=True)


# --- the machine and the data ------------------------------------------------------------------

def machine():
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "nproc": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
            "loadavg_start": os.getloadavg()}
    try:
        with open("/proc/cpuinfo") as f:
            lines = f.read().splitlines()
        field = {}
        for line in lines:
            key, _, value = line.partition(":")
            field.setdefault(key.strip(), value.strip())
        info["cpu"] = field.get("model name", "unknown")
        info["cpu_family_model_stepping"] = [field.get(k) for k in ("cpu family", "model",
                                                                     "stepping")]
        flags = field.get("flags", "").split()
        info["cpu_flags"] = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16",
                                         "amx_tile") if f in flags]
        with open("/proc/meminfo") as f:
            kib = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
        info["memory_gib"] = round(kib / 2 ** 20, 1)
    except (OSError, StopIteration, ValueError):
        info.setdefault("cpu", platform.processor() or "unknown")
    return info


def prepare_data(path):
    """The arrays and initial weights every framework gets, written once to `path`."""
    import numpy as np

    from bptt import layers, models
    from bptt.datasets import imdb
    from bptt.utils import set_random_seed

    (x_train, y_train), (x_test, _) = imdb.load_data(num_words=20000, maxlen=50)
    set_random_seed(0)
    model = models.Sequential()  # only to draw Keras-style initial weights
    model.add(layers.Embedding(input_dim=20000, output_dim=128))
    model.add(layers.LSTM(64, return_sequences=True, dropout=0.2))
    model.add(layers.LSTM(32, return_sequences=False))
    model.add(layers.Dense(1, activation="sigmoid"))
    model.build((None, 50))
    arrays = {"x_train": np.ascontiguousarray(x_train, np.int32),
              "y_train": np.ascontiguousarray(y_train, np.float32),
              "x_test": np.ascontiguousarray(x_test, np.int32)}
    arrays.update({f"w{i}": w for i, w in enumerate(model.get_weights())})
    padded, padded_info = padded_batch()
    np.savez(path, **arrays, **padded)
    digest = hashlib.sha256()
    for key in ("x_train", "y_train", "x_test"):
        digest.update(arrays[key].tobytes())
    return {"x_train": list(x_train.shape), "x_test": list(x_test.shape),
            "dtype_x": "int32", "dtype_y": "float32", "sha256": digest.hexdigest(),
            "weights": [list(w.shape) for w in model.get_weights()], "padded_batch": padded_info}


def padded_batch():
    """The batch that measures the cost of skipping padding: the first PADDED_BATCH reviews of
    imdb.load_data(num_words=20000, maxlen=PADDED_LEN), each review as load_data gives it (its
    last 200 ids when longer), post-padded: load_data pads with 0 in front, and its ids are moved
    to the start of the row, zeros after, because pack_padded_sequence takes each row's first
    `length` steps. Keras' mask works either way; one layout serves both frameworks."""
    import numpy as np

    from bptt.datasets import imdb

    (x, y), _ = imdb.load_data(num_words=20000, maxlen=PADDED_LEN)
    x, y = x[:PADDED_BATCH], y[:PADDED_BATCH]  # (B, T) pre-padded
    lengths = np.count_nonzero(x, axis=1)  # word ids start at 1: only padding reads 0
    x_post = np.zeros_like(x)  # (B, T)
    for row, length in enumerate(lengths):
        ids = x[row, PADDED_LEN - length:]
        if length == 0 or not np.all(ids != 0) or np.any(x[row, :PADDED_LEN - length]):
            raise ValueError(f"review {row} of imdb.load_data(maxlen={PADDED_LEN}) is not a run "
                             "of ids after zeros; expected load_data's front padding")
        x_post[row, :length] = ids
    info = {"reviews": f"x_train[:{PADDED_BATCH}] of imdb.load_data(num_words=20000, "
                       f"maxlen={PADDED_LEN})", "layout": "post-padded (ids first, then 0)",
            "shape": list(x_post.shape), "lengths": lengths.tolist(),
            "lengths_min_median_max": [int(lengths.min()), float(np.median(lengths)),
                                       int(lengths.max())],
            "padding_share": 1.0 - float(lengths.sum()) / x_post.size}
    return ({"x_pad": np.ascontiguousarray(x_post, np.int32),
             "y_pad": np.ascontiguousarray(y, np.float32),
             "lengths_pad": lengths.astype(np.int64)}, info)


# --- the measurements --------------------------------------------------------------------------

def interleaved(pool, cmd, reps, args, errors, referee, variants=None):
    """({entry: [ms per rep]}, {entry: [foreign cores per rep]}): each rep asks every entry
    once, in an order rotated rep by rep. An entry is a framework, or a variant of one:
    variants = {entry: (framework, extra args)}."""
    entries = {name: (name, {}) for name in pool}
    entries.update({k: v for k, v in (variants or {}).items() if v[0] in pool})
    values, foreign = {name: [] for name in entries}, {name: [] for name in entries}
    for rep in range(reps):
        names = list(entries)
        order = names[rep % len(names):] + names[:rep % len(names)]
        for entry in order:
            if entry not in entries:
                continue  # its framework failed earlier in this rep
            name, extra = entries[entry]
            time.sleep(0.05)  # let the previous worker's spinning threads go to sleep
            worker = pool[name]
            try:
                answer, watch = referee.measure(
                    lambda: worker.request(cmd, **args, **extra), [worker.pid])
            except workers.WorkerError as error:
                errors.setdefault(name, str(error))
                log(f"  {name} failed, dropped:\n{error}")
                pool.pop(name).close()
                for gone in [e for e, (n, _) in entries.items() if n == name]:
                    entries.pop(gone)
                    values.pop(gone)
                    foreign.pop(gone)
                if not pool:
                    return values, foreign
                continue
            values[entry].append(answer["ms"])
            foreign[entry].append(watch["foreign_cores"])
    return values, foreign


# PyTorch's single-review latency is measured at its default threads and at one thread, and the
# faster of the two is the baseline: on this model at batch 1 one thread is faster (its threads'
# hand-offs cost more than they share), and the comparison is with PyTorch at its best.
TORCH_ONE_THREAD = "torch (1 thread)"
VARIANTS = {key: {TORCH_ONE_THREAD: ("torch", {"threads": 1})}
            for key in ("latency_b1", "latency_spaced")}


def first_run(interpreters, data, tmp, env_of, settings, errors, referee):
    """bptt: cold (an empty NUMBA_CACHE_DIR: it compiles its kernels) then cached (the same
    directory again); the others: a fresh process. Returns (runs, a warm numba cache dir)."""
    out, warm_cache = {}, None
    caches = itertools.count()

    def attempt(name, extra, fresh_cache=False):
        if fresh_cache:  # every attempt, a retry included, must find the cache empty
            extra["NUMBA_CACHE_DIR"] = os.path.join(tmp, f"numba-cache-{next(caches)}")
        return workers.run_once(name, interpreters[name], "coldstart", data,
                                os.path.join(tmp, f"{name}-coldstart.log"), env_of(name, extra),
                                "--batch", str(settings["batch"]))

    for _ in range(settings["reps"]):
        bptt_cache = {}
        runs = [("bptt", "cold", bptt_cache, True), ("bptt", "cached", bptt_cache, False)]
        runs += [(name, "fresh process", {}, False) for name in interpreters if name != "bptt"]
        cold_done = False
        for name, kind, extra, fresh in runs:
            if kind == "cached" and not cold_done:
                continue  # the cold run failed: no cache to reuse
            try:
                (result, wall), watch = referee.measure(lambda: attempt(name, extra, fresh))
            except (workers.WorkerError, OSError) as error:
                errors.setdefault(f"{name} first run", str(error))
                log(f"  {name} failed:\n{error}")
                continue
            result["wall_from_spawn_s"] = wall
            result["foreign_cores"] = watch["foreign_cores"]
            out.setdefault(name, {}).setdefault(kind, []).append(result)
            cold_done = cold_done or kind == "cold"
            if kind == "cached":
                warm_cache = extra["NUMBA_CACHE_DIR"]
            log(f"  {name:9s} {kind:13s} import {result['import_s']:.2f} s, build "
                f"{result['build_s']:.2f} s, first step {result['first_step_s']:.2f} s, second "
                f"{result['second_step_s']:.3f} s; total {result['total_s']:.2f} s")
    return out, warm_cache


def peak_rss(interpreters, data, logs, env_of, settings, numba_cache, errors):
    out = {}
    for name in interpreters:
        extra = {}
        if name == "bptt" and numba_cache:  # warm: compiled by the first-run measurement
            extra = {"NUMBA_CACHE_DIR": numba_cache}
        try:
            result, wall = workers.run_once(
                name, interpreters[name], "rss", data, os.path.join(logs, f"{name}-rss.log"),
                env_of(name, extra), "--steps", str(settings["steps"]),
                "--batch", str(settings["batch"]))
        except (workers.WorkerError, OSError) as error:
            errors.setdefault(f"{name} peak RSS", str(error))
            log(f"  {name} failed:\n{error}")
            continue
        result["wall_s"] = wall
        out[name] = result
        log(f"  {name:9s} peak {result['peak_rss_kib'] / 1024:7.1f} MiB (after import and build "
            f"{result['rss_after_setup_kib'] / 1024:7.1f} MiB)")
    return out


# --- main --------------------------------------------------------------------------------------

def start_workers(interpreters, data, tmp, env_of, report):
    pool = {}
    for name, python in interpreters.items():
        worker = workers.Worker(name, python, data, os.path.join(tmp, f"{name}.log"), env_of(name))
        try:
            info = worker.request("setup", data=data)
            info["outputs"] = worker.request("outputs", count=OUTPUT_CHECK)
            info["checks"] = worker.request("checks")
        except workers.WorkerError as error:
            report["errors"][name] = str(error)
            log(f"{name}: setup failed, left out:\n{error}")
            worker.close()
            continue
        info["python"] = python
        report["frameworks"][name] = info
        pool[name] = worker
        log(f"  {name:9s} ready in {info['setup_s']:.1f} s: {info['versions']}")
    return pool


def same_function(report, tolerance=1e-4):
    """Max |p - p_bptt| over x_test[:OUTPUT_CHECK] from the same initial weights, per framework."""
    frameworks = report["frameworks"]
    if "bptt" not in frameworks:
        return {}
    reference = frameworks["bptt"]["outputs"]
    check = {}
    for name, info in frameworks.items():
        outputs = info.pop("outputs")
        if name != "bptt":
            diff = max(abs(a - b) for a, b in zip(outputs, reference))
            check[name] = {"max_abs_diff_vs_bptt": diff, "same": diff <= tolerance}
            log(f"  {name:9s} predictions from the same weights: max |p - p_bptt| = {diff:.1e}"
                + ("" if diff <= tolerance else "  NOT THE SAME FUNCTION"))
    return {"reviews": OUTPUT_CHECK, "tolerance": tolerance, "frameworks": check}


def timed_sections(pool, settings, report, referee):
    """The four timed rows, every framework interleaved rep by rep."""
    for key, cmd in (("train_b32", "train"), ("train_b128", "train"),
                     ("latency_b1", "latency"), ("latency_spaced", "latency"),
                     ("predict_5k", "predict")):
        params = dict(settings[key])
        reps = params.pop("reps")
        log(f"{key}: {reps} reps of {params}")
        values, foreign = interleaved(pool, cmd, reps, params, report["errors"], referee,
                                      VARIANTS.get(key))
        row = timed_row(values, TARGETS[key])
        for name, value in row["values"].items():
            value["foreign_cores"] = foreign[name]
            value["contended_reps"] = sum(f is not None and f > referee.threshold
                                          for f in foreign[name])
            log(f"  {name:9s} {value['text']} ms"
                + (f"  ({value['contended_reps']} reps disturbed)" if value["contended_reps"] else ""))
        report["results"][key] = row
    for name, worker in pool.items():
        try:
            report["frameworks"][name]["after_runs"] = worker.request("info")
        except workers.WorkerError as error:
            report["errors"].setdefault(f"{name} info", str(error))


def padding_section(pool, settings, report, referee):
    """The cost of skipping padding, bptt and PyTorch: in each repetition every framework
    (order rotated) trains on the padded batch with the padding computed and with it skipped,
    back to back in its one worker (which goes first alternates rep by rep)."""
    params = dict(settings)
    reps = params.pop("reps")
    names = [n for n in ("bptt", "torch") if n in pool]
    log(f"train_padding: {PADDED_BATCH} reviews post-padded to {PADDED_LEN}, computed against "
        f"skipped, {reps} reps of {params}")
    info = {"batch": report["data"]["padded_batch"], "frameworks": {}}
    report["padding"] = info

    def drop(name, what, error):
        report["errors"].setdefault(f"{name} padded batch", str(error))
        log(f"  {name} failed in {what}, dropped:\n{error}")
        pool.pop(name).close()
        names.remove(name)

    for name in list(names):
        try:
            info["frameworks"][name] = pool[name].request("padding_setup")
        except workers.WorkerError as error:
            drop(name, "padding_setup", error)
    if "bptt" in info["frameworks"]:  # the same function per mode, from the same weights
        reference = info["frameworks"]["bptt"]["outputs"]
        for name, answer in info["frameworks"].items():
            if name != "bptt":
                answer["max_abs_diff_vs_bptt"] = diff = {
                    mode: max(abs(a - b) for a, b in zip(answer["outputs"][mode], reference[mode]))
                    for mode in PADDING_MODES}
                log(f"  {name:9s} padded batch from the same weights: max |p - p_bptt| = "
                    + ", ".join(f"{d:.1e} {mode}" for mode, d in diff.items()))
    values = {name: {mode: [] for mode in PADDING_MODES} for name in names}
    foreign = {name: {mode: [] for mode in PADDING_MODES} for name in names}
    for rep in range(reps):
        order = names[rep % len(names):] + names[:rep % len(names)] if names else []
        for name in order:
            worker = pool[name]
            try:
                for mode in PADDING_MODES[::1 if rep % 2 == 0 else -1]:
                    time.sleep(0.05)  # let the previous worker's spinning threads go to sleep
                    answer, watch = referee.measure(
                        lambda: worker.request("train_padding", mode=mode, **params), [worker.pid])
                    values[name][mode].append(answer["ms"])
                    foreign[name][mode].append(watch["foreign_cores"])
            except workers.WorkerError as error:
                drop(name, "train_padding", error)
                values.pop(name), foreign.pop(name)
    rows = padding_rows(values, foreign, referee.threshold)
    for key, row in rows.items():
        for name, value in row["values"].items():
            disturbed = value["contended_reps"]
            log(f"  {key:17s} {name:9s} {value['text']}"
                + (f"  ({disturbed} reps disturbed)" if disturbed else ""))
    report["results"].update(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a ~1-minute smoke run")
    parser.add_argument("--keras-python", action="append", default=[],
                        help="an interpreter with keras (+ tensorflow or jax); may repeat")
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--threads", type=int, default=None,
                        help="run everything on the first N cores this process may use (an "
                             "N-core machine); the thread-scaling rows go up to N")
    parser.add_argument("--keep-openblas-env", action="store_true",
                        help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the workers")
    parser.add_argument("--output-dir", default=RESULTS)
    args = parser.parse_args(argv)
    settings = SETTINGS["quick" if args.quick else "full"]
    allowed = sorted(os.sched_getaffinity(0))
    if args.threads is not None:
        if not 1 <= args.threads <= len(allowed):
            sys.exit(f"--threads expects 1 to {len(allowed)} (the cores this process may use), "
                     f"got {args.threads}.")
        os.sched_setaffinity(0, allowed[:args.threads])  # every worker inherits it
    started, wall_start = datetime.datetime.now(datetime.timezone.utc), time.perf_counter()

    keras_pythons = args.keras_python + os.environ.get("BPTT_BENCH_KERAS_PYTHON", "").split(":")
    interpreters = workers.find_interpreters([] if args.no_keras else keras_pythons)
    if "torch" not in interpreters:
        sys.exit("PyTorch is not installed here: pip install -e '.[bench]' (torch==2.13.0).")
    for python in args.keras_python:
        if python not in interpreters.values():
            log(f"warning: {python} has no keras with tensorflow or jax (or another one came first)")

    def env_of(name, extra=None):
        return workers.environment(name, args.keep_openblas_env, extra)

    referee = contention.Referee(**settings["contention"])
    report = {"date": started.isoformat(timespec="seconds"), "quick": args.quick,
              "argv": sys.argv[1:], "machine": dict(machine(), threads_arg=args.threads,
                                                    affinity_cores=sorted(os.sched_getaffinity(0))),
              "settings": settings,
              "environment": {
                  "set_in_every_worker": workers.MALLOC,
                  "openblas_vars_before": {v: os.environ.get(v) for v in workers.OPENBLAS_VARS},
                  "openblas_vars_in_workers": "kept" if args.keep_openblas_env else "unset",
                  "thread_vars": {v: os.environ.get(v) for v in (
                      "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                      "NUMBA_NUM_THREADS", "BPTT_KERNELS")}},
              "interpreters": interpreters, "frameworks": {}, "errors": {}, "results": {}}
    log(f"# bptt benchmarks ({'quick' if args.quick else 'full'}) on {report['machine'].get('cpu')},"
        f" {report['machine']['affinity']} cores")
    log("frameworks: " + ", ".join(f"{n} ({p})" for n, p in interpreters.items()))
    busy = contention.wait_quiet(settings["contention"]["wait_each_s"])
    report["machine"]["busy_cores_at_start"] = busy
    if busy is not None and busy > referee.threshold:
        log(f"warning: {busy:.2f} cores busy with other programs; disturbed reps are retried")

    with tempfile.TemporaryDirectory(prefix="bptt-bench-") as tmp:
        data = os.path.join(tmp, "data.npz")
        report["data"] = prepare_data(data)
        pool = start_workers(interpreters, data, tmp, env_of, report)
        report["same_function"] = same_function(report)
        try:
            timed_sections(pool, settings, report, referee)
            for name in [n for n in pool if n not in ("bptt", "torch")]:
                pool.pop(name).close()  # the padded batch and scaling: bptt against PyTorch only
            padding_section(pool, settings["train_padding"], report, referee)
            if "bptt" in pool:
                log("NaN / inf check of each training step: bptt with it on and off")
                try:
                    report["finite_check"] = finite_check.run(pool["bptt"],
                                                              settings["finite_check"], log=log)
                except workers.WorkerError as error:
                    report["errors"]["bptt finite check"] = str(error)
                    log(f"  bptt failed:\n{error}")
            if {"bptt", "torch"} <= set(pool):
                log("thread scaling: training batch 128 and predict 5,000 at each thread count")
                report["thread_scaling"] = thread_scaling.run(
                    pool, len(os.sched_getaffinity(0)), settings["thread_scaling"],
                    lambda pool, cmd, reps, params: interleaved(pool, cmd, reps, params,
                                                                report["errors"], referee),
                    summary, log=log)
            if not args.no_scaling and {"bptt", "torch"} <= set(pool):
                log("scaling: one LSTM layer forward + backward, interleaved")
                report["scaling"] = scaling.run({n: pool[n] for n in ("bptt", "torch")}, referee,
                                                log=log, **settings["scaling"])
        finally:
            for worker in pool.values():
                worker.close()

        log("first run: fresh processes")
        runs, numba_cache = first_run(interpreters, data, tmp, env_of, settings["first_run"],
                                       report["errors"], referee)
        report["first_run"] = runs
        report["results"]["first_run"] = first_run_row(runs, referee.threshold)
        log("peak RSS: fresh processes")
        rss = peak_rss(interpreters, data, tmp, env_of, settings["peak_rss"], numba_cache,
                       report["errors"])
        report["results"]["peak_rss"] = rss_row(rss, settings["peak_rss"])

    results = report["results"]
    columns = [n for n in ("bptt", "torch", "keras-tf", "keras-jax")
               if any(n in row.get("values", {}) for row in results.values())]
    if "keras-tf" not in columns:  # the README's table always has the Keras/TF column
        columns.insert(min(2, len(columns)), "keras-tf")
    report["table_markdown"] = results_table(results, columns)
    if "scaling" in report:
        report["scaling_markdown"] = scaling.markdown(report["scaling"])
    if "thread_scaling" in report:
        report["thread_scaling_markdown"] = thread_scaling.markdown(report["thread_scaling"])
    if "finite_check" in report:
        report["finite_check_markdown"] = finite_check.markdown(report["finite_check"])
    report["contention"] = referee.report()
    report["machine"]["loadavg_end"] = os.getloadavg()
    report["duration_s"] = time.perf_counter() - wall_start
    names = write(report, args.output_dir, args.quick, started.strftime("%Y%m%dT%H%M%SZ"))

    log("")
    log(report["table_markdown"])
    for key in ("thread_scaling_markdown", "finite_check_markdown", "scaling_markdown"):
        if key in report:
            log("")
            log(report[key])
    log("")
    c = report["contention"]
    log(f"other programs on the CPUs: {c['retried']} reps retried, {c['kept_contended']} kept "
        f"disturbed (over {c['threshold_cores']} cores), {c['waited_s']} s waited")
    if "†" in report["table_markdown"]:
        log("WARNING: rows marked † kept repetitions disturbed by other programs on the CPUs; "
            "rerun on an idle machine before quoting them")
    if report["errors"]:
        log("errors: " + ", ".join(report["errors"]))
    log(f"{report['duration_s']:.0f} s; written {' and '.join(names)} in {args.output_dir}")


if __name__ == "__main__":
    main()
