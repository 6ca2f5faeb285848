"""numba.cuda kernels: the `gpu` kernels of the registry's ops, attached by `register()`.

The op modules (ops/<family>.py) declare their CPU kernels; this package attaches GPU kernels to the same OpDefs
by name (`registry.get(name).gpu = kernel`) when a GPU context is first used (dataflow/context.py) or the CUDA
tests run, so importing dataflow never imports numba.cuda. A kernel has the CPU kernel's signature,
`kernel(ctx, p, inputs, outputs, req)`, with numba device arrays, and runs inside an engine op on the device's
stream (ops/cuda/common.py).

Where kernels come from:
- `NATIVE`: the KERNELS tables of ops/cuda/<family>.py (same snake_case names as ops/cpu/<family>.py);
- the elementwise family's builders: any op whose CPU kernel is `elementwise(f)`, `with_scalar(f)` or
  `math_kernel(f)` gets the CUDA template kernel of the same scalar function (ops/cuda/elemwise.py);
- every other op runs through the host (`host_fallback`: its inputs are copied to the host, the CPU kernel runs,
  the outputs and mutated aux inputs are copied back; correct, synchronous, slow). Each such op must have a line
  in `WITHOUT_CUDA_KERNEL` (or a family module's `WITHOUT`) saying why; tests/test_cuda_sim.py fails for an op with
  neither a CUDA kernel nor a reason.
"""
import numpy as np

from .. import registry
from ..registry import ADD, INPLACE, NULL, WRITE


# Ops without a CUDA kernel, and why. They run through `host_fallback`. Each family module may add its own
# backlog (`WITHOUT = {name: reason}`), merged in `without_cuda_kernel()`.
WITHOUT_CUDA_KERNEL = {name: "CTC's per-sequence alpha/beta recursions run through the host (ops/cpu/ctc.py)"
                       for name in ("CTCLoss", "_backward_CTCLoss")}
WITHOUT_CUDA_KERNEL["_fold_bn_scale"] = ("O(channels) per forward, beside a convolution's O(weights x pixels): runs "
                                       "through the host (ops/cpu/fold.py)")

_registered = None      # {op name: 'cuda' | 'host'} once registered


def _families():
    from . import conv, custom, elemwise, indexing, linalg, matrix, nn, norm, random, reduce, shape, update, vision
    from . import activation, adaptive_pooling, contrib_ops, control_flow, init, loss, rnn, rows, softmax, transformer
    from . import boxes, contrib_indexing, detection, image, numpy_ops, resize, sparse_ops
    return (elemwise, reduce, matrix, nn, activation, softmax, conv, shape, norm, indexing, rows, random, linalg,
            vision, update, custom, loss, init, adaptive_pooling, contrib_ops, transformer, control_flow, rnn,
            boxes, contrib_indexing, detection, resize, image, sparse_ops, numpy_ops)


def native_kernels():
    """op name -> CUDA kernel, from the family modules (importing them compiles nothing)."""
    table = {}
    for module in _families():
        table.update(module.KERNELS)
    return table


def without_cuda_kernel():
    """op name -> why it has no CUDA kernel yet: WITHOUT_CUDA_KERNEL and the family modules' backlogs."""
    table = dict(WITHOUT_CUDA_KERNEL)
    for module in _families():
        table.update(getattr(module, "WITHOUT", {}))
    return table


def tested_through_gradients():
    """Backward ops without a spec row whose CUDA kernels the simulator tests reach through a forward op's
    gradient (tests/cuda_cases.py)."""
    names = set()
    for module in _families():
        names |= set(getattr(module, "TESTED_THROUGH_GRADIENTS", ()))
    return names


def register():
    """Attach a GPU kernel to every registered op (once). Returns {op name: 'cuda' | 'host'}."""
    global _registered
    if _registered is not None:
        return _registered
    from . import elemwise
    native = native_kernels()
    kinds = {}
    for op in registry.all_ops():
        if op.gpu is not None:          # an op module that sets gpu= itself keeps its kernel
            kinds[op.name] = "host" if getattr(op.gpu, "host_fallback", False) else "cuda"
            continue
        kernel = native.get(op.name) or elemwise.kernel_for(op.cpu)
        if kernel is not None:
            kinds[op.name] = "cuda"
        elif op.cpu is not None:
            kernel = host_fallback(op)
            kinds[op.name] = "host"
        op.gpu = kernel
    _registered = kinds
    return kinds


def host_fallback(opdef):
    """A GPU kernel running `opdef`'s CPU kernel on host copies of its device arrays (inputs, outputs for ADD),
    then copying the outputs, and the inputs the op writes (aux states), back to the device."""
    from . import storage as gpu_storage

    def kernel(ctx, p, inputs, outputs, req):
        dev = gpu_storage.current_device()
        host_in = [gpu_storage.to_host(x, dev) for x in inputs]
        host_out = [gpu_storage.to_host(o, dev) if r == ADD else np.empty(o.shape, o.dtype)
                    for o, r in zip(outputs, req)]
        opdef.cpu(ctx, p, host_in, host_out, [WRITE if r == INPLACE else r for r in req])
        for o, h, r in zip(outputs, host_out, req):
            if r != NULL:
                gpu_storage.from_host(h, o, dev)
        for i in opdef.written_inputs(p):
            gpu_storage.from_host(host_in[i], inputs[i], dev)
    kernel.__name__ = "host_" + getattr(opdef.cpu, "__name__", opdef.name)
    kernel.host_fallback = True
    return kernel
