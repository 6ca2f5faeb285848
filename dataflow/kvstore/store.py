"""dataflow's KVStore: MXNet's local/device stores in one process, and its dist_* stores over an MPI job.

A store holds one array per key. `push` sums the arrays it is given (one per context; each first 2-bit quantised
when compression is on), then, in a dist store, sums that over the workers (MPI allreduce); then either the
optimizer set with `set_optimizer` updates the stored value with the sum (`updater(key, sum, stored)`), or the
sum replaces it. `pull` copies the stored value out. These are MXNet's numbers.

Note [row_sparse pushes]
A key pushed as RowSparseNDArrays (row_sparse gradients) stays row_sparse: the contexts' rows are summed as one array
of the rows any of them holds, and a dist store gathers every worker's rows (indices and values, `allgather_rows`) to
every worker and sums them again, so the optimizer updates only the rows some worker pushed (lazily, as MXNet's
servers), and nothing of the size of the whole weight moves. 2-bit compression does not apply to them (MXNet's
compression is for dense gradients). `row_sparse_pull` copies out only the rows asked for.

Note [dist without servers]
MXNet's dist stores keep the values on parameter servers, which sum the workers' pushes and run the optimizer. Here
every worker keeps the whole store and runs the optimizer itself on the allreduced sum: the same values, on every
worker, with no server processes (so `save_optimizer_states` works in a dist store too). `init` takes rank 0's
value (after checking that every worker gave the same shape and dtype). `dist_async` runs synchronously as well: a
synchronous schedule is one of the orders MXNet's asynchronous servers may apply the updates in, so its guarantee
("no two updates of a weight at the same time, order not guaranteed") holds, but workers wait for each other.
"""
import numpy as np

from ops.cpu.sparse_update import sum_rows

from .. import ndarray as nd
from .. import optimizer as opt
from ..base import MXNetError
from ..ndarray.sparse import _rsp
from ..util import atomic_write
from . import buckets, comm, compression, overlap
from .base import KVStoreBase, _capability


def _pairs(key, value, what):
    """[(key, [arrays])] from MXNet's argument forms: one key with an array or a list (one per context), or a
    list of keys with one array or list per key. Keys are all ints or all strs."""
    if isinstance(key, (list, tuple)):
        keys = list(key)
        values = value if isinstance(value, (list, tuple)) else None
        if values is None or len(values) != len(keys):
            raise MXNetError("KVStore.%s: %d keys need a list of %d values, got %r"
                             % (what, len(keys), len(keys), type(value).__name__))
    else:
        keys, values = [key], [value]
    if not all(isinstance(k, str) for k in keys) and not all(isinstance(k, (int, np.integer)) for k in keys):
        raise MXNetError("KVStore.%s: inconsistent types of keys detected (use all int or all str): %r" % (what, keys))
    pairs = []
    for k, v in zip(keys, values):
        arrays = list(v) if isinstance(v, (list, tuple)) else [v]
        if not arrays or not all(isinstance(a, nd.NDArray) for a in arrays):
            raise MXNetError("KVStore.%s: the value of key %r must be an NDArray or a list of NDArrays, got %r"
                             % (what, k, v))
        pairs.append((k if isinstance(k, str) else int(k), arrays))
    return pairs


class _OverGroup(KVStoreBase):
    """What every store over a process group (`self._group`, comm.py) answers alike."""

    @property
    def rank(self):
        return self._group.rank

    @property
    def num_workers(self):
        return self._group.size

    def barrier(self):
        """Wait until every worker reached this barrier."""
        self._group.barrier()

    _barrier = barrier


class KVStore(_OverGroup):
    """A 'local', 'device' ('nccl'), 'dist_sync', 'dist_device_sync' or 'dist_async' store (see the module's note)."""

    reduces_lists = True        # a list push reduces its keys in buckets (base.pushpull_all)

    def __init__(self, kind="local"):
        self._type = kind
        self._group = comm.world(kind.startswith("dist"))
        self._store = {}
        self._updater = None
        self._compression = None

    # ---- MXNet's API ------------------------------------------------------------------------------------------
    def init(self, key, value):
        """Store the initial value of each key (rank 0's, in a dist store). A key is initialised once."""
        for k, arrays in _pairs(key, value, "init"):
            if k in self._store:
                raise MXNetError("KVStore.init: duplicate init of key %r" % (k,))
            data = arrays[0].asnumpy()
            self._group.check_same("init of key %r: shape %s, dtype %s" % (k, data.shape, data.dtype),
                                   "the init of key %r" % (k,))
            self._store[k] = nd.array(self._group.broadcast(data, "the init of key %r" % (k,)), dtype=data.dtype)

    def push(self, key, value, priority=0):
        """Sum each key's arrays (and, in a dist store, the workers' sums), then update the stored value with the
        optimizer, or replace it. A key pushed as RowSparseNDArrays only is summed as one (Note [row_sparse
        pushes]), so the optimizer's update stays lazy (dataflow/optimizer/sparse.py); other keys are summed dense."""
        pairs = _pairs(key, value, "push")
        for k, arrays in pairs:
            self._stored(k, arrays, "push")
        sparse = [(k, arrays) for k, arrays in pairs if all(a.stype == "row_sparse" for a in arrays)]
        for k, arrays in sparse:
            self._apply(k, self._row_sparse_total(k, arrays), self._store[k])
        if len(sparse) < len(pairs):
            self._push_dense([(k, arrays) for k, arrays in pairs if any(a.stype != "row_sparse" for a in arrays)])

    def _apply(self, key, summed, stored):
        """The optimizer's update of the stored value with the pushed sum, or the sum replacing it."""
        if self._updater is not None:
            self._updater(key, summed, stored)
        else:
            summed.copyto(stored)

    def _row_sparse_total(self, key, arrays):
        """The sum of a key's RowSparseNDArrays over the contexts and, in a dist store, the workers: each worker's
        rows (indices and values) gathered to every worker, rows repeated summed (Note [row_sparse pushes])."""
        local = _row_sparse_sum(arrays)
        if self._group.size == 1:
            return local
        local.wait_to_read()
        shape, dtype = local.shape, np.dtype(local.dtype)
        self._group.check_same("row_sparse push of key %r: shape %s, dtype %s" % (key, shape, dtype),
                               "the row_sparse push of key %r" % (key,))
        width = int(np.prod(shape[1:]))
        ids, values = self._group.allgather_rows(local._indices, local._data.reshape(len(local._indices), width),
                                                 "the row_sparse push of key %r" % (key,))
        rows, data = sum_rows(ids, values)
        return _rsp(data.reshape((len(rows),) + tuple(shape[1:])), rows, shape, local.context)

    def _push_dense(self, pairs):
        stores = [self._store[k] for k, _ in pairs]
        wire = self._wire(pairs)
        if self._group.size > 1 and len(pairs) > 1:         # Note [gradient buckets]
            totals = buckets.reduced(self._group, [k for k, _ in pairs],
                                     [(arrays[0].shape, self._sum_dtype(arrays)) for _, arrays in pairs],
                                     lambda i, out: self._local_sum(*pairs[i], out=out), wire=wire)
        else:
            totals = ((i, self._group.allreduce(self._local_sum(k, arrays), "the push of key %r" % (k,), wire)
                       .reshape(arrays[0].shape)) for i, (k, arrays) in enumerate(pairs))
        for i, total in totals:         # a new array, or part of one, that nothing else holds: wrapped, not copied
            stored = stores[i]
            self._apply(pairs[i][0], nd.NDArray(total if total.dtype == stored.dtype else total.astype(stored.dtype)),
                        stored)

    def pull(self, key, out=None, priority=0, ignore_sparse=True):
        """Copy each key's stored value into its array(s)."""
        if out is None:
            raise MXNetError("KVStore.pull: out must be given")
        for k, arrays in _pairs(key, out, "pull"):
            stored = self._stored(k, arrays, "pull")
            for a in arrays:
                stored.copyto(a)

    def pushpull(self, key, value, out=None, priority=0):
        """`push(key, value)` then `pull(key, out)`, into `value` when `out` is None. A list of keys in a dist store
        without an optimizer returns once engine ops doing it are pushed (Note [overlapped reduction]); a key of
        RowSparseNDArrays only gets just the summed rows (Note [row_sparse pushes])."""
        if self._updater is None:
            rest = self._pushpull_row_sparse(key, value, out)
            if rest is None:
                return
            key, value, out = rest
        if isinstance(key, (list, tuple)) and key and self._updater is None:
            pairs = _pairs(key, value, "pushpull")
            outs = [a for _, a in (pairs if out is None else _pairs(key, out, "pushpull"))]
            if overlap.applies(self._group, [a for _, arrays in pairs for a in arrays] + [a for o in outs for a in o]):
                stores = [self._stored(k, arrays, "push") for k, arrays in pairs]
                for (k, _), targets in zip(pairs, outs):
                    self._stored(k, targets, "pull")
                overlap.reduce_async(self._group, [k for k, _ in pairs], [a for _, a in pairs], outs,
                                     [(a[0].shape, self._sum_dtype(a)) for _, a in pairs],
                                     lambda i, values, into: self._sum_of(pairs[i][0], values, into), stores,
                                     self._wire(pairs))
                return
        self.push(key, value, priority)
        self.pull(key, value if out is None else out, priority)

    def _pushpull_row_sparse(self, key, value, out):
        """Reduce the keys whose values and outputs are all RowSparseNDArrays (the sum replaces the stored value, as
        a push without optimizer), writing the summed rows into the outputs; return the (key, value, out) left for
        the dense path, or None when none is left."""
        pairs = _pairs(key, value, "pushpull")
        outs = [a for _, a in (pairs if out is None else _pairs(key, out, "pushpull"))]
        sparse = [all(a.stype == "row_sparse" for a in arrays + targets) for (_, arrays), targets in zip(pairs, outs)]
        if not any(sparse):
            return key, value, out
        for (k, arrays), targets, is_sparse in zip(pairs, outs, sparse):
            if is_sparse:
                stored = self._stored(k, arrays + targets, "pushpull")
                total = self._row_sparse_total(k, arrays)
                total.copyto(stored)
                for o in targets:
                    if o is not total:
                        total.copyto(o)
        rest = [i for i, is_sparse in enumerate(sparse) if not is_sparse]
        if not rest:
            return None
        return ([pairs[i][0] for i in rest], [pairs[i][1] for i in rest],
                None if out is None else [outs[i] for i in rest])

    def broadcast(self, key, value, out, priority=0):
        """`init(key, value)` (rank 0's value) then `pull(key, out)`."""
        self.init(key, value)
        self.pull(key, out, priority)

    def row_sparse_pull(self, key, out=None, priority=0, row_ids=None):
        """Pull only the rows in `row_ids` (sorted, duplicates dropped) into `out`: a RowSparseNDArray then holds
        just those rows, as MXNet's; a dense `out` gets them with the other rows 0."""
        if out is None or row_ids is None:
            raise MXNetError("KVStore.row_sparse_pull: out and row_ids must be given")
        pairs = _pairs(key, out, "row_sparse_pull")
        ids = row_ids if isinstance(row_ids, list) else [row_ids]
        flat_outs = [(k, a) for k, arrays in pairs for a in arrays]
        if len(ids) == 1:
            ids = ids * len(flat_outs)
        if len(ids) != len(flat_outs):
            raise MXNetError("KVStore.row_sparse_pull: %d row_ids for %d outputs" % (len(ids), len(flat_outs)))
        for (k, a), rows in zip(flat_outs, ids):
            stored = _host_values(self._stored(k, [a], "row_sparse_pull"))
            rows = np.unique(rows.asnumpy().astype(np.int64))
            if rows.size and (rows[0] < 0 or rows[-1] >= stored.shape[0]):
                raise MXNetError("KVStore.row_sparse_pull: row id out of range [0, %d) for key %r"
                                 % (stored.shape[0], k))
            if a.stype == "row_sparse":
                a.wait_to_write()
                a._set_storage(stored[rows].astype(a.dtype), [rows])
                continue
            dense = np.zeros_like(stored)
            dense[rows] = stored[rows]
            a[:] = dense

    def _replace(self, key, value):
        """Give an initialised key a new value (a Trainer's parameter set or loaded: Note [row_sparse weights] in
        gluon/trainer.py), keeping the optimizer's states."""
        stored = self._stored(key, [value], "replace")
        self._store[key] = nd.array(value.asnumpy(), dtype=stored.dtype)

    def set_gradient_compression(self, compression_params):
        """Quantise pushed gradients (MXNet's {'type': '2bit', 'threshold': t}); for 'device' and dist stores."""
        if "device" not in self._type and "dist" not in self._type and self._type != "nccl":
            raise MXNetError("Gradient compression is not supported for this type of kvstore (%s)" % self._type)
        self._compression = compression.create(compression_params)

    def set_optimizer(self, optimizer):
        """Run `optimizer` on every push (in every worker of a dist store: see Note [dist without servers])."""
        self._set_updater(opt.get_updater(optimizer))

    def is_capable(self, capability):
        return _capability(capability, optimizer=True)

    def save_optimizer_states(self, fname, dump_optimizer=False):
        """Write the optimizer's states (and the optimizer when `dump_optimizer`) to `fname`, atomically."""
        atomic_write(fname, self._need_updater("save_optimizer_states").get_states(dump_optimizer))

    def load_optimizer_states(self, fname):
        """Load what `save_optimizer_states` wrote (read without running code from the file)."""
        updater = self._need_updater("load_optimizer_states")
        with open(fname, "rb") as f:
            updater.set_states(f.read())

    @property
    def type(self):
        return self._type

    def _set_updater(self, updater):
        """Call `updater(key, pushed_sum, stored)` on each push instead of replacing the stored value."""
        self._updater = updater

    # ---- helpers -------------------------------------------------------------------------------------------
    def _stored(self, key, arrays, what):
        stored = self._store.get(key)
        if stored is None:
            raise MXNetError("KVStore.%s: key %r has not been initialized (call init first)" % (what, key))
        for a in arrays:
            if a.shape != stored.shape:
                raise MXNetError("KVStore.%s: key %r holds shape %s, got an array of shape %s"
                                 % (what, key, stored.shape, a.shape))
        return stored

    def _local_sum(self, key, arrays, out=None):
        """The sum of `arrays` (each 2-bit quantised first when compression is on), in the first one's dtype: a new
        array, or written into the flat array `out`."""
        return self._sum_of(key, _values(arrays), out)

    def _sum_of(self, key, values, out=None):
        """`_local_sum` of the numpy arrays `values`, whose writes are done."""
        if self._compression is not None:
            values = [self._compression(key, slot, v) for slot, v in enumerate(values)]
        return _sum(values, out)

    def _wire(self, pairs):
        """The packed 2-bit wire form when compression is on and every key comes from one context (its local sum
        is then 2-bit values: compression.py), else None (float32 on the wire)."""
        if self._compression is None or not all(len(arrays) == 1 for _, arrays in pairs):
            return None
        return self._compression.wire

    def _sum_dtype(self, arrays):
        return np.dtype(np.float32) if self._compression is not None else np.dtype(arrays[0].dtype)

    def _need_updater(self, what):
        if self._updater is None:
            raise MXNetError("KVStore.%s: this store has no optimizer (call set_optimizer first)" % what)
        return self._updater


def _host_values(array):
    """The values of a dense array as numpy, without copying a CPU array (read them, never write them)."""
    if array.context.device_type == "gpu":
        return array.asnumpy()
    array.wait_to_read()
    return array._data


def _row_sparse_sum(arrays):
    """The sum of RowSparseNDArrays as one (the rows of all of them, summed where they repeat)."""
    if len(arrays) == 1:
        return arrays[0]
    for a in arrays:
        a.wait_to_read()
    shape = arrays[0].shape
    rows, data = sum_rows(np.concatenate([a._indices for a in arrays]),
                          np.concatenate([a._data.reshape(len(a._indices), -1) for a in arrays]))
    return _rsp(data.reshape((len(rows),) + tuple(shape[1:])), rows, shape, arrays[0].context)


def _sum(values, out=None):
    """The sum of the numpy arrays `values` in the first one's dtype, written into the flat array `out`, or else
    `values[0]` itself when it is the only one (so never write into the result), or a new array."""
    if out is not None:
        out[...] = values[0].reshape(-1)
        for v in values[1:]:
            out += v.reshape(-1)
        return out
    if len(values) == 1:
        return values[0]
    total = values[0].copy()
    for v in values[1:]:
        total += v
    return total


def _values(arrays):
    """The arrays' values as numpy arrays, once their pending writes are done: a CPU array's own buffer (read it,
    never write it: it is the caller's gradient), a copy of a GPU array's, a sparse array's dense copy."""
    out = []
    for a in arrays:
        if a.context.device_type == "gpu" or a.stype != "default":
            out.append(a.asnumpy())
        else:
            a.wait_to_read()
            out.append(a._data)
    return out


class Horovod(_OverGroup):
    """`mx.kv.create('horovod')`: allreduce and broadcast over the MPI job, without a store or an optimizer, as
    Horovod's MXNet KVStore (`pushpull` sums; Trainer then updates locally with update_on_kvstore=False)."""

    reduces_lists = True

    def __init__(self):
        self._group = comm.world(True)

    def broadcast(self, key, value, out, priority=0):
        data = value.asnumpy()
        self._group.check_same("broadcast of key %r: shape %s, dtype %s" % (key, data.shape, data.dtype),
                               "the broadcast of key %r" % (key,))
        data = self._group.broadcast(data, "the broadcast of key %r" % (key,))
        for o in out if isinstance(out, list) else [out]:
            o[:] = data

    def pushpull(self, key, value, out=None, priority=0):
        """Sum each key's arrays over the contexts and the workers, into its arrays, or into `out` (one array or
        list per key, as `value`); a list of keys is reduced in buckets (Note [gradient buckets])."""
        pairs = _pairs(key, value, "pushpull")
        outs = [arrays for _, arrays in (pairs if out is None else _pairs(key, out, "pushpull"))]
        keys = [k for k, _ in pairs]
        if isinstance(key, (list, tuple)) and overlap.applies(
                self._group, [a for _, arrays in pairs for a in arrays] + [a for o in outs for a in o]):
            overlap.reduce_async(self._group, keys, [a for _, a in pairs], outs,
                                 [(a[0].shape, a[0].dtype) for _, a in pairs], lambda i, values, into: _sum(values,
                                                                                                           into))
            return
        if self._group.size > 1 and len(pairs) > 1:
            totals = buckets.allreduce(self._group, keys, [(a[0].shape, a[0].dtype) for _, a in pairs],
                                       lambda i, into: _sum(_values(pairs[i][1]), into))
        else:
            totals = [self._group.allreduce(_sum(_values(arrays)), "the pushpull of key %r" % (k,))
                      for k, arrays in pairs]
        for total, targets in zip(totals, outs):
            summed = nd.NDArray(total)      # MPI's result buffer, or part of one: wrapped, not copied
            for o in targets:
                summed.copyto(o)

    def is_capable(self, capability):
        return _capability(capability, optimizer=False)

    def set_optimizer(self, optimizer):
        raise MXNetError("the horovod KVStore does not run optimizers (is_capable('optimizer') is False); "
                         "use gluon.Trainer(..., update_on_kvstore=False)")

    @property
    def type(self):
        return "horovod"

    @property
    def local_rank(self):
        return self._group.rank
