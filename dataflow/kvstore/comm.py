"""The process group a KVStore reduces over: one process (`Solo`), or the processes of an MPI job (`MPIGroup`).

Only MPI moves bytes between processes (mpi4py over the MPI the `dist` extra installs, `mpich`), never sockets of
our own. Every collective is started non-blocking and waited for with a deadline (`DATAFLOW_KVSTORE_TIMEOUT`
seconds, default 600), so a worker whose peer died or hangs fails with an error naming the operation and the key
instead of waiting for ever; `abort()` then ends the whole job (MPI_Abort), which is what an uncaught error in any
worker does (`install_abort_on_error`).
"""
import os
import sys
import time
import zlib

import numpy as np

from ..base import MXNetError


class KVStoreTimeout(MXNetError):
    """A collective did not complete in time: a worker died, hangs, or skipped an operation the others ran."""


class Solo:
    """One process: every collective is the identity."""
    rank, size = 0, 1

    def allreduce(self, array, what, wire=None):
        return np.array(array)          # a new array, as MPIGroup's

    def start_allreduce(self, array, what, wire=None):
        return np.array(array)

    def finish(self, started):
        return started

    def progress(self, started):
        pass

    def broadcast(self, array, what):
        return array

    def check_same(self, signature, what):
        pass

    def allgather_rows(self, indices, values, what):
        return indices, values

    def barrier(self):
        pass


def _timeout():
    return float(os.environ.get("DATAFLOW_KVSTORE_TIMEOUT", "600"))


class MPIGroup:
    """MPI_COMM_WORLD of the job this process belongs to."""

    def __init__(self):
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise MXNetError("a dist KVStore needs mpi4py and an MPI: pip install 'dataflow[dist]' (%s)" % e) from None
        self._mpi = MPI
        self._comm = MPI.COMM_WORLD
        self.rank, self.size = self._comm.Get_rank(), self._comm.Get_size()
        os.environ["DMLC_WORKER_ID"] = str(self.rank)          # what MXNet's ps-lite workers see (dataflow/launch.py)
        install_abort_on_error(self)

    def _wait(self, request, what):
        deadline = time.monotonic() + _timeout()
        spins = 0
        while not request.Test():
            spins += 1
            if spins > 1000:                 # short collectives finish while spinning; long ones sleep between tests
                time.sleep(1e-4 if spins < 20000 else 1e-3)
            if time.monotonic() > deadline:
                raise KVStoreTimeout("KVStore: %s did not complete on all %d workers within %g s "
                                     "(DATAFLOW_KVSTORE_TIMEOUT): a worker died, hangs, or did not run it"
                                     % (what, self.size, _timeout()))

    def allreduce(self, array, what, wire=None):
        """The elementwise sum of `array` over the workers (a new contiguous array)."""
        return self.finish(self.start_allreduce(array, what, wire))

    def start_allreduce(self, array, what, wire=None, comm=None):
        """Start summing `array` over the workers (on `comm`, default the job's communicator); `finish(started)`
        waits and returns the sum. `array` must not change until then. With a `wire` (compression.TwoBitWire, for
        flat float32 arrays of 2-bit values) the workers' packed forms are gathered and summed on arrival."""
        comm = self._comm if comm is None else comm
        if wire is not None:
            send = wire.encode(array)
            recv = np.empty((self.size, send.size), np.uint8)
            return _Started(comm.Iallgather(send, recv), send, recv, what, wire, array.size)
        send = np.ascontiguousarray(array)
        recv = np.empty_like(send)
        return _Started(comm.Iallreduce(send, recv, op=self._mpi.SUM), send, recv, what)

    def finish(self, started):
        self._wait(started.request, started.what)
        if started.wire is not None:
            return started.wire.decode_sum(started.recv, started.size)
        return started.recv

    def progress(self, started):
        """Let MPI move the collectives `started` (MPICH progresses them only inside MPI calls)."""
        for s in started:
            s.request.Test()

    def broadcast(self, array, what):
        """Rank 0's `array` on every worker."""
        buf = np.ascontiguousarray(array).copy()
        self._wait(self._comm.Ibcast(buf, root=0), what)
        return buf

    def check_same(self, signature, what):
        """Raise on every worker unless all of them passed the same `signature` (a str), naming each one's."""
        code = zlib.crc32(signature.encode())
        low = np.empty(2, np.int64)         # one reduction: min(code) and -max(code)
        self._wait(self._comm.Iallreduce(np.array([code, -code], np.int64), low, op=self._mpi.MIN), what)
        if low[0] != -low[1]:
            everyone = self._comm.allgather(signature)        # all alive: the reductions above completed
            raise MXNetError("KVStore: %s differs between the workers: %s"
                             % (what, "; ".join("rank %d: %s" % (r, s) for r, s in enumerate(everyone))))

    def allgather_rows(self, indices, values, what):
        """Every worker's rows, concatenated in rank order: (int64 indices, 2-D values with one row each); the
        workers' values must have the same width and dtype (a row_sparse push, Note [row_sparse pushes] in
        store.py)."""
        counts = np.empty(self.size, np.int64)
        self._wait(self._comm.Iallgather(np.array([len(indices)], np.int64), counts), what)
        total, width = int(counts.sum()), values.shape[1]
        all_ids = np.empty(total, np.int64)
        all_values = np.empty((total, width), values.dtype)
        self._wait(self._comm.Iallgatherv(np.ascontiguousarray(indices, np.int64), [all_ids, counts.tolist()]), what)
        self._wait(self._comm.Iallgatherv(np.ascontiguousarray(values), [all_values, (counts * width).tolist()]),
                   what)
        return all_ids, all_values

    def barrier(self):
        self._wait(self._comm.Ibarrier(), "barrier")

    def abort(self, code=1):
        self._comm.Abort(code)


class _Started:
    """A started non-blocking allreduce: its request, buffers (kept alive until it completes) and description; for a
    packed one, its wire form and number of values."""
    __slots__ = ("request", "send", "recv", "what", "wire", "size")

    def __init__(self, request, send, recv, what, wire=None, size=None):
        self.request, self.send, self.recv, self.what = request, send, recv, what
        self.wire, self.size = wire, size


_hooked = []


def install_abort_on_error(group):
    """Make an uncaught exception in this worker print its traceback and abort the whole MPI job, so the other
    workers stop at once instead of waiting in a collective (once per process)."""
    if _hooked:
        return
    _hooked.append(group)
    previous = sys.excepthook

    def hook(kind, value, tb):
        previous(kind, value, tb)
        sys.stderr.write("dataflow.kvstore: worker rank %d of %d failed (%s); aborting the job\n"
                         % (group.rank, group.size, kind.__name__))
        sys.stderr.flush()
        group.abort(1)

    sys.excepthook = hook


_world = []


def world(distributed):
    """The group of this process: the MPI job's for a distributed store (one per process), else `Solo`."""
    if not distributed:
        return Solo()
    if not _world:
        _world.append(MPIGroup())
    return _world[0]
