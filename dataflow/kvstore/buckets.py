"""Gradient bucketing: the local sums of many keys reduced over the workers in a few large messages.

Note [gradient buckets]
A list push (`kv.pushpull([keys], [values])`, which Trainer and Module use for all their fresh gradients) packs the
keys' local sums, in the order given, into flat buffers, one dtype per buffer, each at most `bucket_bytes()` long
(a single array larger than that gets a buffer of its own; arrays are never split), and reduces each buffer with one
allreduce; each key is then updated (or replaced) from its part of the result, in bucket order (key order within a
dtype). An allreduce costs a latency `a` plus `n * b` for n bytes: with one message per parameter a ResNet-18 pays
62 latencies per step, with 4 MiB buckets 13. 4 MiB (DATAFLOW_KVSTORE_BUCKET_BYTES) is where the latency stops
mattering on the links this is meant for (`a` ~ 20-50 us on 10-25 Gb/s Ethernet, where 4 MiB takes 1.3-3.4 ms: `a`
is under 4%), while the buckets stay small enough to be reduced and unpacked while in cache: on one machine's
shared memory (2 processes, measured with ResNet-18's 44.7 MB of gradients) 25 and 64 MB buckets took 1.3x as long
as 4 MB ones, and per-key messages about as long; for the seed MLP (6 arrays, 0.7 MB) one bucket took 0.7x the time
of 6 messages. A bucket's non-blocking allreduce could run while the next is packed (`in_flight=2`, or all started
at once), but MPICH moves a collective only inside MPI calls, and neither measured faster here (all at once: 1.5x
slower, out of cache), so by default one bucket is reduced at a time (IN_FLIGHT). On several workers a list pushpull
of CPU arrays without an optimizer in the store (the Trainer's and Module's) uses the same buckets but reduces them
in engine ops overlapping the backward instead (Note [overlapped reduction] in overlap.py); `reduced` here serves
the other pushes.
The values are those of per-key pushes: MPI sums the same operands elementwise (on 2 workers bit for bit; on more,
MPI's algorithm, and so the order of a sum, may depend on the message size).

Workers must push the same keys with the same shapes in a list push, or the buffers would not line up: a bucketed
push first checks one signature of its layout over the workers (one 16-byte allreduce) and raises naming each
worker's keys when they differ.
"""
import collections
import os
from typing import NamedTuple

import numpy as np

from ..base import MXNetError

DEFAULT_BUCKET_BYTES = 4 << 20


def bucket_bytes():
    """The bucket size limit in bytes: DATAFLOW_KVSTORE_BUCKET_BYTES, default 4 MiB (Note [gradient buckets])."""
    raw = os.environ.get("DATAFLOW_KVSTORE_BUCKET_BYTES")
    if raw is None:
        return DEFAULT_BUCKET_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise MXNetError("DATAFLOW_KVSTORE_BUCKET_BYTES must be a positive number of bytes, got %r" % raw)
    return value


class Slot(NamedTuple):
    """Where entry `index` of a list push lies in its bucket's flat buffer."""
    index: int
    offset: int
    size: int


class Bucket(NamedTuple):
    dtype: np.dtype
    slots: tuple
    size: int           # elements

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize


def plan(entries, limit):
    """[Bucket] for `entries` = [(shape, dtype)], in the entries' order: per dtype, entries fill the open bucket of
    their dtype until the next one would take it past `limit` bytes; then that bucket closes and a new one opens.
    Buckets are listed by their last entry: the order in which they are complete when entries come in order."""
    done, open_ = [], {}
    for index, (shape, dtype) in enumerate(entries):
        dtype = np.dtype(dtype)
        size = int(np.prod(shape, dtype=np.int64))
        slots, used = open_.get(dtype, ((), 0))
        if slots and (used + size) * dtype.itemsize > limit:
            done.append(Bucket(dtype, slots, used))
            slots, used = (), 0
        open_[dtype] = (slots + (Slot(index, used, size),), used + size)
    done += [Bucket(dtype, slots, used) for dtype, (slots, used) in open_.items()]
    return sorted(done, key=lambda bucket: bucket.slots[-1].index)


def signature(keys, entries):
    """The layout of a list push as text, compared over the workers before its buckets are reduced."""
    return "; ".join("%r %s %s" % (k, tuple(shape), np.dtype(dtype).name) for k, (shape, dtype) in zip(keys, entries))


IN_FLIGHT = 1         # buckets reducing while the next is packed: more measured no faster (the Note)


def reduced(group, keys, entries, fill, limit=None, in_flight=None, wire=None):
    """Yield (i, key i's local sum summed over the workers of `group`) for the list push of `keys` whose local sums
    have (shape, dtype) `entries`, bucket by bucket, one allreduce each (Note [gradient buckets]). `fill(i, out)`
    writes key i's local sum into the flat array `out`; it is called when i's bucket is packed, while up to
    `in_flight - 1` earlier buckets reduce. The yielded arrays are views of the bucket's buffer. `wire`: the packed
    form the buckets travel in (compression.TwoBitWire), or None."""
    group.check_same(signature(keys, entries), "the layout of a list push of %d keys" % len(keys))
    in_flight = IN_FLIGHT if in_flight is None else in_flight
    started = collections.deque()
    for bucket in plan(entries, bucket_bytes() if limit is None else limit):
        flat = np.empty(bucket.size, bucket.dtype)
        for slot in bucket.slots:
            fill(slot.index, flat[slot.offset:slot.offset + slot.size])
        group.progress([s for _, s in started])        # MPI moves a started collective only inside its calls
        started.append((bucket, group.start_allreduce(flat, "the push of %s" % describe(keys, bucket), wire)))
        if len(started) >= in_flight:
            yield from _unpacked(group, entries, *started.popleft())
    while started:
        yield from _unpacked(group, entries, *started.popleft())


def allreduce(group, keys, entries, fill, limit=None, in_flight=None):
    """[key i's sum over the workers] of `reduced(...)`, as a list in the keys' order."""
    out = [None] * len(keys)
    for i, total in reduced(group, keys, entries, fill, limit, in_flight):
        out[i] = total
    return out


def _unpacked(group, entries, bucket, started):
    total = group.finish(started)
    for slot in bucket.slots:
        yield slot.index, total[slot.offset:slot.offset + slot.size].reshape(entries[slot.index][0])


def describe(keys, bucket):
    names = [repr(keys[s.index]) for s in bucket.slots]
    shown = ", ".join(names[:4]) + (", ... (%d keys)" % len(names) if len(names) > 4 else "")
    return ("key " if len(names) == 1 else "keys ") + shown + " (a %d-byte bucket)" % bucket.nbytes
