"""Keras' device listing, where each MPI process of the job is one CPU device.

    list_devices(device_type=None)      ["cpu:0", ..., "cpu:<processes - 1>"]: the job's global
                                        devices, as Keras lists them ("type:id"); [] for "gpu"
                                        or "tpu", which bptt does not run on
    get_device_count(device_type=None)  len(list_devices(device_type))

So Keras' data-parallel recipe reads the same in bptt:

    devices = distribution.list_devices()
    distribution.set_distribution(distribution.DataParallel(devices=devices))

Without mpi4py the job is this one process: ["cpu:0"].
"""

_TYPES = ("cpu", "gpu", "tpu")


def _processes():
    from bptt.distribution.mpi import Communicator

    try:
        return Communicator().size
    except ImportError:  # no mpi4py: no other process can have been started with this one
        return 1


def list_devices(device_type=None):
    """The job's devices, one CPU per process, formatted "cpu:<rank>" as Keras formats them."""
    kind = "cpu" if device_type is None else str(device_type).lower()
    if kind not in _TYPES:
        raise ValueError(f"list_devices expects device_type 'cpu', 'gpu', 'tpu' or None, got "
                         f"{device_type!r}.")
    return [f"cpu:{rank}" for rank in range(_processes())] if kind == "cpu" else []


def get_device_count(device_type=None):
    """How many devices list_devices gives."""
    return len(list_devices(device_type))
