"""`mx.kv` / `mx.kvstore`: key-value stores for data-parallel training (base.py: `create` and the interface;
store.py: local/device/dist stores and horovod; comm.py: the MPI process group; compression.py: 2-bit)."""
from .base import KVStoreBase, TestStore, create, distributed
from .store import Horovod, KVStore

__all__ = ["KVStore", "KVStoreBase", "TestStore", "Horovod", "create", "distributed"]
