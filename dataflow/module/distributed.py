"""Module with a dist kvstore (Module.init_optimizer / update): the parameters broadcast from rank 0, and every
gradient summed over the contexts and the workers before the update (MXNet's kvstore semantics; the store:
dataflow/kvstore/). On several workers the sum runs in engine ops overlapping the executors' backward, cut into
pushes that publish the last layers' gradients first (Note [overlapped reduction] in dataflow/kvstore/overlap.py)."""
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
