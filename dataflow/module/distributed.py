"""Module with a dist kvstore (Module.init_optimizer / update): the parameters broadcast from rank 0, and every
gradient summed over the contexts and the workers before the update (MXNet's kvstore semantics; the store:
dataflow/kvstore/). On several workers the sum runs in engine ops overlapping the executors' backward, cut into
pushes that publish the last layers' gradients first (Note [overlapped reduction] in dataflow/kvstore/overlap.py)."""
import os

from scheduler import segments

from .. import kvstore as kvs
from ..kvstore import overlap


def param_copies(module):
    """(index, [the parameter's array on each context], [its gradient on each context or None]) per parameter."""
    if module._group is not None:
        return [(i, list(w), list(g)) for i, (w, g) in
                enumerate(zip(module._group.param_arrays, module._group.grad_arrays))]
    return [(i, [module._exec.arg_dict[n]], [module._exec.grad_dict[n]]) for i, n in enumerate(module._param_names)]


def broadcast_params(module):
    """Every parameter from rank 0, on every worker and context (MXNet's init of the store)."""
    for index, copies, _ in param_copies(module):
        module._kvstore.broadcast(index, copies[0], out=copies)
    module._params_dirty = True
    if getattr(module._kvstore, "reduces_lists", False) and module._kvstore.num_workers > 1:
        segments.request(overlap.segment_bytes)


def reduce_gradients(module):
    """Each gradient summed over the contexts and the workers, into every copy: one list pushpull, last parameters
    first (the store buckets them)."""
    with_grads = [(index, grads) for index, _, grads in param_copies(module) if grads[0] is not None][::-1]
    kvs.pushpull_all(module._kvstore, [i for i, _ in with_grads], [g for _, g in with_grads])


# -- MXNet's update_on_kvstore, for a KVStore object of one process ----------------------------------------------------

def updates_in_store(module):
    """Whether the module's updates run in its kvstore (MXNet's update_on_kvstore): a 'local' or 'device' KVStore
    object given to init_optimizer, on one context, unless MXNET_UPDATE_ON_KVSTORE=0. The store then holds every
    parameter by name and runs the optimizer on each push, so `kv.row_sparse_pull(name, ...)` reads the updated
    rows (MXNet's sparse linear classification example)."""
    store = module._kvstore
    return (store is not None and module._group is None and not store.type.startswith("dist")
            and store.type != "horovod" and os.environ.get("MXNET_UPDATE_ON_KVSTORE", "1") != "0"
            and store.is_capable(kvs.KVStoreBase.OPTIMIZER))


def init_store(module):
    """Each parameter stored under its name, and the module's optimizer in the store."""
    for name in module._param_names:
        module._kvstore.init(name, module._exec.arg_dict[name])
    module._kvstore.set_optimizer(module._optimizer)


def update_in_store(module):
    """Push each gradient (the store updates its copy) and pull the dense parameters back; row_sparse ones stay
    until the user pulls their rows (`row_sparse_pull`, or `prepare` with a sparse_row_id_fn), as in MXNet."""
    store, args, grads = module._kvstore, module._exec.arg_dict, module._exec.grad_dict
    for index, name in enumerate(module._param_names):
        grad, weight = grads[name], args[name]
        if grad is None:
            continue
        if grad.stype == "default" and weight.stype == "default":
            store.pushpull(name, grad, out=weight, priority=-index)
        else:
            store.push(name, grad, priority=-index)
            if weight.stype == "default":
                store.pull(name, out=weight, priority=-index)


def pull_rows(module, row_ids):
    """`row_sparse_pull` of the rows `row_ids` ({parameter name: row ids}) into the module's parameters."""
    for index, (name, rows) in enumerate(row_ids.items()):
        module._kvstore.row_sparse_pull(name, module._exec.arg_dict[name], priority=-index, row_ids=rows)
