"""`mx.kv` / `mx.kvstore`: key-value stores for data-parallel training (base.py: `create` and the interface;
store.py: local/device/dist stores and horovod; comm.py: the MPI process group; compression.py: 2-bit;
buckets.py: a list push reduced in a few large allreduces)."""
from .base import KVStoreBase, TestStore, create, distributed, pushpull_all
from .store import Horovod, KVStore

__all__ = ["KVStore", "KVStoreBase", "TestStore", "Horovod", "create", "distributed", "pushpull_all"]
