"""A list pushpull of engine arrays reduced over the workers in engine ops, overlapping the backward that writes them.

Note [overlapped reduction]
`reduce_async` is the bucketed list pushpull of Note [gradient buckets] (buckets.py) made asynchronous: it returns
once it has pushed, per bucket, two engine ops,
  pack   reads the bucket's gradient arrays, writes a token var: the local sums into the bucket's flat buffer, then
         hands the buffer to the communication thread (no waiting);
  unpack reads every pack's token and every array of the push, writes the bucket's output arrays (and the store's
         values): waits for the thread's sum and copies each key's part out.
A pack runs as soon as the backward push that finishes its gradients ends (a segmented backward publishes the last
layers' gradients first: Note [segmented backward] in scheduler/segments.py), so the allreduce of the last layers
runs on the wire while the earlier layers' backward computes. An unpack starts only after the whole backward and
every pack: the engine has one worker by default, and an unpack waiting on the network in it would hold up the
backward's next push, or a pack queued behind it whose allreduce comes first (a deadlock). Whatever reads a gradient
afterwards (the Trainer's update, an engine op) waits for its unpack as for any write.

MPI calls happen in one communication thread per process (`CommThread`), on a duplicate of the job's communicator:
collectives on one communicator must be called in the same order on every worker, and the engine may run the packs
of different buckets in different orders on different workers, while the calling thread goes on with collectives
of its own (a layout check, a barrier). The thread takes the buckets strictly in ticket order (tickets are handed out
in pushpull order, the same on every worker), each allreduce started non-blocking and waited for with comm.py's
deadline. A failure (a deadline passed: a worker died or hangs; a pack failed, so this worker skips a collective
the others run) breaks the thread: that bucket's unpack raises a KVStoreTimeout naming the bucket, and so does every
later one at once, so no engine op waits for ever; the errors reach the user through the engine like any op's.

When it pays: per step the reduction costs about 2k log2(N) a + 2 (N-1)/N S/B (ARCHITECTURE.md); overlapped, all
of it but the last bucket's hides behind the backward, as long as the backward of the earlier layers takes longer
than the reduction of the later ones and the cores that compute are not also the ones moving the bytes. On one
machine whose cores the workers' compute already fills (the `dist` bench here), MPI's copies through shared memory
compete with that compute, and there is little to win.
"""
import os
import threading

import numpy as np

from scheduler.engine import get_engine

from ..base import MXNetError
from . import buckets, comm


def enabled():
    """Whether dist stores reduce a list pushpull of CPU arrays asynchronously: DATAFLOW_KVSTORE_OVERLAP (1 or 0;
    default 1)."""
    raw = os.environ.get("DATAFLOW_KVSTORE_OVERLAP", "1")
    if raw not in ("0", "1"):
        raise MXNetError("DATAFLOW_KVSTORE_OVERLAP must be 0 or 1, got %r" % raw)
    return raw == "1"


def segment_bytes():
    """The gradient bytes per push of a segmented backward that suit the overlap: a bucket's (0 when it is off)."""
    return buckets.bucket_bytes() if enabled() else 0


def applies(group, arrays):
    """Whether a list pushpull of `arrays` (NDArrays) on `group` can run asynchronously: several workers, dense CPU
    arrays only."""
    return group.size > 1 and enabled() and all(a.context.device_type == "cpu" and a.stype == "default"
                                                for a in arrays)


class _Job:
    """One bucket's allreduce: submitted by its pack, reduced by the thread, read by its unpack."""
    __slots__ = ("n", "send", "what", "wire", "result", "error", "done")

    def __init__(self, n):
        self.n, self.send, self.what, self.wire, self.result, self.error = n, None, None, None, None, None
        self.done = threading.Event()

    def ready(self):
        return self.send is not None or self.error is not None


class CommThread:
    """The one thread of this process that runs the asynchronous buckets' allreduces, in ticket order."""

    def __init__(self, group):
        self._group = group
        # a collective: every worker creates its thread at the same pushpull (waited for with the deadline)
        self._comm, request = group._comm.Idup()
        group._wait(request, "starting the communication thread of the overlapped reduction")
        self._jobs = {}             # ticket -> _Job not reduced yet
        self._issued = 0            # tickets handed out
        self._next = 0              # the ticket whose allreduce runs next
        self._broken = None         # the error that broke the order, once one did
        self._cond = threading.Condition()
        threading.Thread(target=self._loop, name="dataflow-kvstore-comm", daemon=True).start()

    def ticket(self):
        """The job of the next allreduce in order (called in pushpull order, the same on every worker)."""
        with self._cond:
            job = self._jobs[self._issued] = _Job(self._issued)
            self._issued += 1
            return job

    def submit(self, job, send, what, wire=None):
        """Reduce the flat array `send` in `job` (`what` names it in errors), packed in `wire` when given."""
        with self._cond:
            job.send, job.what, job.wire = send, what, wire
            self._cond.notify_all()

    def fail(self, job, error):
        """`job` will never be submitted (its pack failed): this worker cannot take part in its allreduce."""
        with self._cond:
            job.what, job.error = "a bucket whose packing failed", error
            self._cond.notify_all()

    def result(self, job):
        """The sum of `job`'s allreduce (a new buffer), once it completed; raises what broke it."""
        seen, stalled = self._next, 0.0
        while not job.done.wait(1.0):
            stalled = 0.0 if self._next != seen else stalled + 1.0
            seen = self._next
            if stalled > comm._timeout():     # no bucket completed meanwhile: an earlier pack never ran here
                self._break(comm.KVStoreTimeout("KVStore: no bucket was reduced within %g s "
                                                "(DATAFLOW_KVSTORE_TIMEOUT) while waiting for bucket %d"
                                                % (comm._timeout(), job.n)))
        if job.error is not None:
            raise job.error
        return job.result

    def _break(self, error):
        """Fail every job not reduced yet, and every later one, with `error`."""
        with self._cond:
            self._broken = self._broken or error
            for job in self._jobs.values():
                if not job.done.is_set():
                    job.error = job.error or error
                    job.done.set()
            self._cond.notify_all()

    def _loop(self):
        group = self._group
        while True:
            with self._cond:
                while not (self._next in self._jobs and self._jobs[self._next].ready()):
                    self._cond.wait()
                job, broken = self._jobs[self._next], self._broken
            if job.error is None and broken is not None:
                job.error = comm.KVStoreTimeout("KVStore: %s was not reduced: an earlier bucket failed (%s)"
                                                % (job.what, broken))
            if job.error is None:
                try:
                    job.result = group.finish(group.start_allreduce(job.send, job.what, job.wire, self._comm))
                except BaseException as e:      # noqa: BLE001 - raised by the waiting unpack
                    job.error = e
            with self._cond:
                if job.error is not None:
                    self._broken = self._broken or job.error
                del self._jobs[self._next]
                self._next += 1
            job.send = None
            job.done.set()


_threads = {}
_threads_lock = threading.Lock()


def comm_thread(group):
    """The communication thread of `group` (an MPIGroup), started at its first use."""
    with _threads_lock:
        thread = _threads.get(id(group))
        if thread is None:
            thread = _threads[id(group)] = CommThread(group)
        return thread


def reduce_async(group, keys, values, outs, entries, fill, stored=None, wire=None):
    """Push the engine ops that sum each key's local sum over the workers into its `outs` (Note [overlapped
    reduction]). `values`: per key, the NDArrays whose local sum is pushed; `entries`: per key, (shape, dtype) of
    that sum; `fill(i, arrays, out)` writes key i's local sum of the numpy `arrays` into the flat array `out`;
    `stored`: per key, an NDArray that also receives the sum (the store's value), or None; `wire`: the packed form
    the buckets travel in (compression.TwoBitWire), or None."""
    group.check_same(buckets.signature(keys, entries), "the layout of a list push of %d keys" % len(keys))
    thread, engine = comm_thread(group), get_engine()
    plan = buckets.plan(entries, buckets.bucket_bytes())
    jobs, tokens = [thread.ticket() for _ in plan], [engine.new_var("kvstore bucket") for _ in plan]
    # an unpack reads every array and every pack's token: it starts once the backward and all packs are done, so it
    # never holds an engine worker waiting for a bucket whose pack is queued behind it
    after = tokens + list({id(a._var): a._var for arrays in values + outs for a in arrays}.values())
    for bucket, job, token in zip(plan, jobs, tokens):
        what = "the push of %s" % buckets.describe(keys, bucket)
        engine.push(_pack(thread, job, bucket, what, [values[s.index] for s in bucket.slots], fill, wire),
                    [a._var for s in bucket.slots for a in values[s.index]], [token], "pack " + what)
    for bucket, job in zip(plan, jobs):
        slots = bucket.slots
        targets = [outs[s.index] + ([stored[s.index]] if stored is not None else []) for s in slots]
        engine.push(_unpack(thread, job, slots, [entries[s.index][0] for s in slots], targets),
                    after, [a._var for arrays in targets for a in arrays], "unpack " + buckets.describe(keys, bucket))


def _pack(thread, job, bucket, what, arrays_per_slot, fill, wire):
    def run():
        try:
            flat = np.empty(bucket.size, bucket.dtype)
            for slot, arrays in zip(bucket.slots, arrays_per_slot):
                fill(slot.index, [a._data for a in arrays], flat[slot.offset:slot.offset + slot.size])
        except BaseException as e:
            thread.fail(job, e)
            raise
        thread.submit(job, flat, what, wire)
    return run


def _unpack(thread, job, slots, shapes, targets):
    def run():
        total = thread.result(job)
        for slot, shape, arrays in zip(slots, shapes, targets):
            part = total[slot.offset:slot.offset + slot.size].reshape(shape)
            for a in arrays:
                np.copyto(a._data, part, casting="unsafe")
    return run
