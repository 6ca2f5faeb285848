"""`mx.kv.create`, the KVStore interface every store implements, and the registry of store classes.

MXNet 1.9.1's `KVStoreBase`: a class decorated with `KVStoreBase.register` is created by `create(name)` under its
lower-cased class name, before the built-in types. The built-in types are dataflow's `KVStore`
(local, device, dist_sync, dist_device_sync, dist_async) and `Horovod` (allreduce without a store), both in
store.py.
"""
import warnings

from ..base import MXNetError


class KVStoreBase:
    """A key-value store for data-parallel training (MXNet's abstract interface)."""

    OPTIMIZER = "optimizer"
    kv_registry = {}

    def broadcast(self, key, value, out, priority=0):
        """Write rank 0's `value` into every array of `out`."""
        raise NotImplementedError()

    def pushpull(self, key, value, out=None, priority=0):
        """Push `value` (summed over its arrays and the workers) and pull the result into `out` (`value` if None)."""
        raise NotImplementedError()

    def set_optimizer(self, optimizer):
        """Apply `optimizer` to each pushed value in the store."""
        raise NotImplementedError()

    def is_capable(self, capability):
        """Whether the store supports `capability` (`KVStoreBase.OPTIMIZER`: updates in the store)."""
        raise NotImplementedError()

    def save_optimizer_states(self, fname, dump_optimizer=False):
        raise NotImplementedError()

    def load_optimizer_states(self, fname):
        raise NotImplementedError()

    @property
    def type(self):
        raise NotImplementedError()

    @property
    def rank(self):
        raise NotImplementedError()

    @property
    def num_workers(self):
        raise NotImplementedError()

    @staticmethod
    def register(klass):
        """Register a KVStore class: `create(klass.__name__.lower())` then makes one."""
        if not isinstance(klass, type):
            raise TypeError("KVStoreBase.register takes a class, got %r" % (klass,))
        name = klass.__name__.lower()
        if name in KVStoreBase.kv_registry:
            old = KVStoreBase.kv_registry[name]
            warnings.warn("WARNING: New kvstore %s.%s is overriding existing kvstore %s.%s"
                          % (klass.__module__, klass.__name__, old.__module__, old.__name__), stacklevel=2)
        KVStoreBase.kv_registry[name] = klass
        return klass


@KVStoreBase.register
class TestStore(KVStoreBase):
    """MXNet's store for tests: one process, no state; pushpull sums the given arrays."""

    def broadcast(self, key, value, out, priority=0):
        for o in out if isinstance(out, list) else [out]:
            o[:] = value

    def pushpull(self, key, value, out=None, priority=0):
        values = value if isinstance(value, list) else [value]
        ctx = values[0].context
        total = values[0].copyto(ctx)
        for v in values[1:]:
            total += v.as_in_context(ctx)
        for o in (values if out is None else out if isinstance(out, list) else [out]):
            o[:] = total

    @staticmethod
    def is_capable(capability):
        return _capability(capability, optimizer=False)

    @property
    def type(self):
        return "teststore"

    @property
    def rank(self):
        return 0

    @property
    def num_workers(self):
        return 1

    def set_optimizer(self, optimizer):
        raise NotImplementedError("teststore does not update in the store (is_capable('optimizer') is False)")


def _capability(capability, optimizer):
    if capability.lower() == KVStoreBase.OPTIMIZER:
        return optimizer
    raise ValueError("Unknown capability: {}".format(capability))


BUILT_IN = ("local", "device", "nccl", "dist_sync", "dist_device_sync", "dist_async", "horovod")


def create(name="local"):
    """Create a KVStore.

    name : 'local' or 'device' (one process: values pushed from several contexts are summed), 'nccl' (the same as
        'device' here), 'dist_sync' / 'dist_device_sync' (processes started by `python -m dataflow.launch` or
        `mpiexec`: every worker's push is summed before the update, as MXNet's servers do), 'dist_async' (runs as
        dist_sync, see store.py), 'horovod' (allreduce without a store), or the lower-cased name of a class
        registered with `KVStoreBase.register`.
    """
    if not isinstance(name, str):
        raise TypeError("name must be a string")
    name = name.lower()
    if name in KVStoreBase.kv_registry:
        return KVStoreBase.kv_registry[name]()
    if name not in BUILT_IN:
        raise MXNetError("Unknown KVStore type %r: expected one of %s or a name registered with "
                         "KVStoreBase.register" % (name, ", ".join(BUILT_IN)))
    from . import store
    return store.Horovod() if name == "horovod" else store.KVStore(name)


def pushpull_all(store, keys, values):
    """Sum each key's arrays over the workers into those arrays (Trainer's and Module's gradient reduction): one
    list `pushpull`, reduced in buckets, on dataflow's stores (Note [gradient buckets] in buckets.py); one call per
    key, with MXNet's priority `-key`, on a registered store class, which may not take a list of keys."""
    if getattr(store, "reduces_lists", False):
        if keys:
            store.pushpull(list(keys), list(values))
        return
    for key, arrays in zip(keys, values):
        store.pushpull(key, arrays, priority=-key)


def distributed(kvstore):
    """The store a Trainer or Module reduces through over the workers: the KVStore object given, or a new one for a
    dist or 'horovod' name; None for 'local', 'device' and None, whose summing over one process's contexts needs no
    store object."""
    if isinstance(kvstore, KVStoreBase):
        return kvstore
    if isinstance(kvstore, str) and (kvstore.lower().startswith("dist") or kvstore.lower() == "horovod"):
        return create(kvstore)
    return None
