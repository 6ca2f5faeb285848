"""`Module` on one context: binding its one Executor (several contexts: data_parallel.py).

`simple_bind` with the data and label shapes and types, each argument's grad_req from MXNet's rule
(`executor_group.grad_req_dict`). With a `shared_module`, the executor is bound again onto the shared module's
parameter, gradient and aux arrays, so an update through either module changes the one set of parameters.
"""
from .executor_group import grad_req_dict


def bind(module, shared_module):
    """Bind the Executor for the module's input shapes; record its planned memory."""
    symbol = module._symbol
    shapes = {d.name: tuple(d.shape) for d in module._data_shapes}
    types = {d.name: d.dtype for d in module._data_shapes}
    for d in module._label_shapes or []:
        shapes[d.name] = tuple(d.shape)
        types[d.name] = d.dtype
    unknown = sorted(set(shapes) - set(symbol.list_inputs()))
    if unknown:
        raise ValueError("bind: %s %s not inputs of the symbol; its inputs are %s"
                         % (unknown, "is" if len(unknown) == 1 else "are", symbol.list_inputs()))
    grad_reqs = grad_req_dict(module._grad_req, symbol.list_arguments(), module._param_names,
                              module._fixed_param_names, [d.name for d in module._data_shapes], module.for_training,
                              module.inputs_need_grad)
    executor = symbol.simple_bind(module._context, grad_req=grad_reqs, type_dict=types, **shapes)
    if shared_module is not None:       # use the shared module's parameter arrays (and their gradients)
        params = set(module._param_names)
        source = shared_module._exec
        args = [source.arg_dict[n] if n in params else a for n, a in zip(executor._arg_names, executor.arg_arrays)]
        grads = [source.grad_dict[n] if n in params and g is not None else g
                 for n, g in zip(executor._arg_names, executor.grad_arrays)]
        executor = symbol.bind(module._context, args, grads, grad_reqs, source.aux_arrays)
    module._total_exec_bytes = executor.memory_stats()["planned"]
    return executor
