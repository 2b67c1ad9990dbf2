"""Starting the frameworks' worker processes, with the same environment, and talking to them.

Every framework runs in a process of its own (benchmarks/workloads/<framework>_model.py), so
none pays for another's imports, its peak RSS is its own, and each gets the same environment:

    MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824
        glibc keeps freed buffers instead of returning them to the kernel at once, so a
        training loop that frees and re-allocates the same large tensors every step stops
        page-faulting (PyTorch loses ~30% without it); the same for every framework.
    OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE unset (both together; --keep-openblas-env keeps them)
        so OpenBLAS picks its kernels for this CPU; the kernel that ran is reported per worker
        (threadpoolctl's `architecture`).
    PYTHONPATH += the repository root, so a Keras venv without bptt still finds `benchmarks`.
    TF_CPP_MIN_LOG_LEVEL=2 for Keras (log lines only).
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MALLOC = {"MALLOC_MMAP_THRESHOLD_": "1073741824", "MALLOC_TRIM_THRESHOLD_": "1073741824"}
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

MODULES = {"bptt": "benchmarks.workloads.bptt_model", "torch": "benchmarks.workloads.torch_model",
           "keras-tf": "benchmarks.workloads.keras_model",
           "keras-jax": "benchmarks.workloads.keras_model"}


class WorkerError(RuntimeError):
    pass


def environment(name, keep_openblas_env=False, extra=None):
    """The environment of a worker for framework `name`."""
    env = dict(os.environ, **MALLOC)
    if not keep_openblas_env:
        for var in OPENBLAS_VARS:
            env.pop(var, None)
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    if name.startswith("keras"):
        env["KERAS_BACKEND"] = "jax" if name == "keras-jax" else "tensorflow"
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(extra or {})
    return env


def _tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


class Worker:
    """A serving worker: one request at a time, each answered with one JSON line."""

    def __init__(self, name, python, data, log_path, env):
        self.name, self.log_path = name, log_path
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [python, "-m", MODULES[name], "serve", "--data", data], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1)
        self.pid = self.process.pid

    def request(self, cmd, **args):
        self.process.stdin.write(json.dumps({"cmd": cmd, "args": args}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise WorkerError(f"{self.name} worker died during {cmd}:\n{_tail(self.log_path)}")
        reply = json.loads(line)
        if not reply["ok"]:
            raise WorkerError(f"{self.name} worker failed in {cmd}:\n{reply['error']}")
        return reply["result"]

    def close(self):
        if self.process.poll() is None:
            try:
                self.request("exit")
            except (WorkerError, OSError, ValueError):
                pass
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def run_once(name, python, mode, data, log_path, env, *extra_args, timeout=600):
    """Run a worker in `mode` (rss, coldstart) in a fresh process: (its answer, wall seconds
    from spawn to exit)."""
    start = time.perf_counter()
    with open(log_path, "w") as log:
        done = subprocess.run([python, "-m", MODULES[name], mode, "--data", data, *extra_args],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True,
                              timeout=timeout)
    wall = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise WorkerError(f"{name} {mode} exited {done.returncode}:\n{_tail(log_path)}")
    reply = json.loads(lines[-1])
    if not reply["ok"]:
        raise WorkerError(f"{name} {mode} failed:\n{reply['error']}")
    return reply["result"], wall


PROBE = ("import importlib.util as u, json, sys; print(json.dumps({'python': sys.executable, "
         "**{m: u.find_spec(m) is not None for m in ('numpy', 'keras', 'tensorflow', 'jax', "
         "'torch', 'numba', 'scipy')}}))")


def probe(python):
    """Which packages an interpreter can import (without importing them), or None."""
    try:
        done = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, timeout=60)
        return json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        return None


def find_interpreters(keras_pythons):
    """{framework: python}: bptt and torch run on this interpreter; Keras on TensorFlow and on
    JAX on the first of this interpreter and `keras_pythons` that has keras and the backend."""
    found = {"bptt": sys.executable}
    here = probe(sys.executable) or {}
    if here.get("torch"):
        found["torch"] = sys.executable
    candidates = [sys.executable] + [p for p in keras_pythons if p]
    for name, backend in (("keras-tf", "tensorflow"), ("keras-jax", "jax")):
        for python in candidates:
            info = here if python == sys.executable else probe(python)
            if info and info.get("numpy") and info.get("keras") and info.get(backend):
                found[name] = python
                break
    return found
