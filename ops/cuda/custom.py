"""CUDA kernels of ops/custom.py: none. A custom op is a Python callback computing with NDArrays, so both ops run
through the host (`host_fallback`): the CustomOp sees CPU NDArrays wrapping host copies of the device buffers."""
KERNELS = {}
WITHOUT = {
    "Custom": "a Python callback (CustomOp.forward) over NDArrays; it runs on host copies of the device arrays",
    "_backward_Custom": "a Python callback (CustomOp.backward) over NDArrays; it runs on host copies of the device "
                        "arrays",
}
