"""`Module` on several contexts (`context=[mx.cpu(0), mx.cpu(1)]`): the parts of Module that differ.

The module binds a `DataParallelExecutorGroup` (executor_group.py): each context runs its slice of every batch;
outputs, input gradients and metrics are merged over the slices. Updates follow MXNet's kvstore semantics without
a kvstore: with `kvstore` 'local'/'device' (the default) the gradients are summed over the contexts and one
update is applied to every copy of a parameter (MXNet updates on the kvstore and pulls the weights back); with
`kvstore=None` each context is updated from its own gradient with its own optimizer state, so the copies drift
apart. `get_params` averages the copies, as MXNet does.
"""
from .. import optimizer as opt
from .. import ndarray as nd
from .executor_group import DataParallelExecutorGroup


def bind(module, shared_module):
    """Bind one executor per context for the module's input shapes."""
    shared = shared_module._group if shared_module is not None else None
    group = DataParallelExecutorGroup(
        module._symbol, module._contexts, module._work_load_list, module._data_shapes, module._label_shapes,
        module._param_names, module.for_training, module.inputs_need_grad, shared_group=shared,
        logger=module.logger, fixed_param_names=module._fixed_param_names, grad_req=module._grad_req,
        state_names=module._state_names)
    module._group = group
    module._total_exec_bytes = group._total_exec_bytes
    return group.execs[0]


def init_updaters(module, kvstore):
    """One updater for the summed gradients (a kvstore), or one per context (kvstore None)."""
    module._aggregate = kvstore is not None
    count = 1 if module._aggregate else len(module._contexts)
    module._updaters = [module._updater] + [opt.get_updater(module._optimizer) for _ in range(count - 1)]


def update(module):
    """One optimizer step from the gradients of every context (see the module docstring)."""
    group = module._group
    indices, grads, weights = [], [], []
    for index, (copies, grad_copies) in enumerate(zip(group.param_arrays, group.grad_arrays)):
        if grad_copies[0] is None:
            continue
        indices.append(index)
        grads.append(grad_copies)
        weights.append(copies)
    if not indices:
        return
    if not getattr(module, "_aggregate", True):
        for k, updater in enumerate(module._updaters):
            updater(indices, [g[k] for g in grads], [w[k] for w in weights])
        return
    home = module._contexts[0]
    if module._kvstore is not None:      # Module.update's pushpull left the sum in every copy
        summed = [copies[0] for copies in grads]
    else:
        summed = [nd.add_n(*[g.as_in_context(home) for g in copies]) for copies in grads]
    module._updaters[0](indices, summed, [w[0] for w in weights])
    for copies in weights:
        for other in copies[1:]:
            copies[0].copyto(other)
