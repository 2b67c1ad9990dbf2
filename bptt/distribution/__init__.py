"""Data-parallel training over MPI, with Keras 3's distribution API where it fits.

    from bptt import distribution
    distribution.set_distribution(distribution.DataParallel())
    model.fit(x, y, batch_size=128)      # launched as: mpiexec -n 4 python -m mpi4py train.py

Every process runs the same script on the same data. Each step, every process takes its shard
of the global batch (batch_size rows in all, cut in contiguous pieces: bptt.distribution.
sharding), computes the gradients of its rows, the gradients are added up over the processes in
place (one Allreduce of one flat buffer, after a small one of the embedding rows looked up:
bptt.distribution.gradients) and every process applies
the same optimizer step, so all hold the same weights. With the same batch size and seed the
weights equal one process's to float32 round-off: each shard's gradient is weighted by its
rows / batch rows, shuffling is drawn by every process from the same seeded generator, and a
dropout mask is drawn for the whole batch and sliced.

At the start of fit, rank 0's weights and random generator go to every process, so an unseeded
script trains consistently. evaluate shards each batch and adds up the loss and the metrics;
predict shards and gathers, returning every row, in order, on every process. Rank 0 alone
prints progress and writes files (model.save, save_weights, ModelCheckpoint, CSVLogger,
PlotHistory); the others wait for it.

The MPI pieces need mpi4py (pip install 'bptt[mpi]'). Run as one process (no mpiexec),
DataParallel is plain training. Limits: stateful recurrent layers are refused (their states
belong to batch rows); with losses reduced as 'sum' or 'mean_with_sample_weight', or
masked outputs, the weighting by rows is not the one-process mean; clipvalue is refused (it
clips each embedding lookup, which does not travel).
"""
from bptt.distribution.devices import get_device_count, list_devices
from bptt.distribution.mpi import INSTALL, Communicator, import_mpi

_DISTRIBUTION = None


class DataParallel:
    """Every process holds all the weights and trains on its shard of each batch.

    Args (Keras 3's, for the same code to read the same):
        device_mesh: not used here; each MPI process is one device.
        devices: None, or every device of the job (list_devices()): one per MPI process; a
            subset is refused, since every process of the job trains.
        auto_shard_dataset: True (Keras' default): each process takes its rows of every batch.
            False is not supported: bptt shards the global batch itself.
    """

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if not auto_shard_dataset:
            raise ValueError("DataParallel(auto_shard_dataset=False) is not supported: every "
                             "process reads the same data and takes its rows of each batch. "
                             "Leave auto_shard_dataset=True.")
        self.device_mesh, self.devices = device_mesh, devices
        self.auto_shard_dataset = auto_shard_dataset
        self.communicator = Communicator()
        if devices is not None and len(devices) != self.communicator.size:
            raise ValueError(
                f"DataParallel(devices=...) got {len(devices)} devices for a job of "
                f"{self.communicator.size} processes: bptt trains on one device per MPI process, "
                f"all of them. Pass distribution.list_devices(), leave devices out, or start "
                f"{len(devices)} processes (mpiexec -n {len(devices)}).")
        self._gradient_sum = None  # bptt.distribution.gradients.GradientSum, made in fit

    @property
    def num_processes(self):
        return self.communicator.size

    @property
    def process_id(self):
        return self.communicator.rank

    def __repr__(self):
        return (f"DataParallel(process {self.process_id} of {self.num_processes})")


def set_distribution(value):
    """Train with `value` (a DataParallel) from now on; None goes back to one process."""
    global _DISTRIBUTION
    if value is not None and not isinstance(value, DataParallel):
        raise ValueError("set_distribution expects a bptt.distribution.DataParallel() or None, "
                         f"got {value!r}.")
    _DISTRIBUTION = value


def distribution():
    """The distribution set by set_distribution, or None."""
    return _DISTRIBUTION


def active():
    """The distribution when it spans several processes, else None (plain training)."""
    if _DISTRIBUTION is not None and _DISTRIBUTION.num_processes > 1:
        return _DISTRIBUTION
    return None


def process_id():
    """This process's rank (0 without a distribution)."""
    return _DISTRIBUTION.process_id if _DISTRIBUTION is not None else 0


def num_processes():
    """How many processes train together (1 without a distribution)."""
    return _DISTRIBUTION.num_processes if _DISTRIBUTION is not None else 1


def is_chief():
    """True on the process that prints and writes files (rank 0), and without a
    distribution."""
    return process_id() == 0


__all__ = ["DataParallel", "set_distribution", "distribution", "process_id", "num_processes",
           "is_chief", "list_devices", "get_device_count", "INSTALL", "import_mpi"]


def barrier():
    """Wait for every process (data-parallel), e.g. for rank 0 to finish writing a file."""
    dist = active()
    if dist is not None:
        dist.communicator.barrier()


__all__.append("barrier")

_KERAS_ONLY = ("ModelParallel", "DeviceMesh", "LayoutMap", "TensorLayout", "distribute_tensor",
               "initialize")


def __getattr__(name):
    if name in _KERAS_ONLY:
        raise AttributeError(
            f"keras.distribution.{name} is not in bptt: bptt.distribution has DataParallel "
            "only (every process holds every weight), with its processes started by mpiexec.")
    raise AttributeError(f"module 'bptt.distribution' has no attribute {name!r}")
