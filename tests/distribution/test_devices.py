"""bptt.distribution.list_devices / get_device_count: Keras' listing, one CPU per MPI process;
DataParallel(devices=...) takes the whole list. (Under mpiexec the data-parallel run script
builds its DataParallel from list_devices(), so the multi-process tests use the listing of 2
and 3 processes.)"""
import sys

import pytest

from bptt import distribution


def test_one_process_is_one_cpu_device():
    assert distribution.list_devices() == ["cpu:0"]
    assert distribution.list_devices("CPU") == ["cpu:0"]
    assert distribution.get_device_count() == 1


def test_no_gpu_or_tpu_devices():
    assert distribution.list_devices("gpu") == []
    assert distribution.get_device_count("tpu") == 0


def test_an_unknown_device_type_is_refused():
    with pytest.raises(ValueError, match="'cpu', 'gpu', 'tpu' or None, got 'npu'"):
        distribution.list_devices("npu")


def test_without_mpi4py_the_job_is_this_process(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    assert distribution.list_devices() == ["cpu:0"]


def test_data_parallel_takes_the_listed_devices_and_refuses_a_subset_or_more():
    pytest.importorskip("mpi4py", reason="DataParallel needs mpi4py: pip install 'bptt[mpi]'")
    assert distribution.DataParallel(devices=distribution.list_devices()).num_processes == 1
    with pytest.raises(ValueError, match="2 devices for a job of 1 processes.*mpiexec -n 2"):
        distribution.DataParallel(devices=["cpu:0", "cpu:1"])


def test_keras_spelling_reaches_it():
    import bptt as keras

    assert keras.distribution.list_devices() == ["cpu:0"]
