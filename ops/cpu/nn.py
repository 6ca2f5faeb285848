"""CPU kernels of the neural-network family: FullyConnected, Activation, SoftmaxOutput, LinearRegressionOutput.

Forward only; the gradients come with the gradient rules. Transcendental math goes through ops/cpu/vmath.py
(vectorised float32; numpy for other dtypes).
"""
import numpy as np

from . import vmath
from .common import F16, F32, assign, copy_view, store, ufunc
from .elemwise import relu
from .matrix import gemm


def fully_connected(ctx, p, inputs, outputs, req):
    """out = data @ weight.T + bias over data as (n, k) (flatten) or (..., k) (flatten=False)."""
    x, w = inputs[0], inputs[1]
    x2 = x.reshape(x.shape[0], -1) if p.flatten else x.reshape(-1, x.shape[-1])

    bias = None if p.no_bias else inputs[2]
    store(outputs[0], req[0], lambda dst: gemm(x2, w.T, dst.reshape(-1, p.num_hidden), bias))


def activation(ctx, p, inputs, outputs, req):
    if p.act_type == "relu":
        ufunc(relu, inputs, outputs[0], req[0])
    else:
        store(outputs[0], req[0], lambda dst: vmath.apply(p.act_type, inputs[0], dst))


def softmax(x, axis, dst):
    """dst = softmax of x along axis, computed in x's dtype (float16 in float32) without overflow."""
    if x.dtype == F16:
        x = x.astype(F32)
    e = x - x.max(axis=axis, keepdims=True)
    vmath.apply("exp", e, e)
    e /= e.sum(axis=axis, keepdims=True)
    np.copyto(dst, e, casting="unsafe")


def softmax_output(ctx, p, inputs, outputs, req):
    """Softmax over (n, k, rest) axis 1 (multi_output), the last axis (preserve_shape), else over (n, rest)."""
    x = inputs[0]
    if p.multi_output:
        shape, axis = (x.shape[0], x.shape[1], -1), 1
    elif p.preserve_shape:
        shape, axis = (-1, x.shape[-1]), 1
    else:
        shape, axis = (x.shape[0], -1), 1
    xs = x.reshape(shape)
    store(outputs[0], req[0], lambda dst: softmax(xs, axis, dst.reshape(xs.shape)))


def linear_regression_output(ctx, p, inputs, outputs, req):
    """Forward is the identity on data (the label only enters the gradient)."""
    copy_view(inputs[0], outputs[0], req[0])


# ---- ops the gradient pass uses --------------------------------------------------------------------------------
def add_n(ctx, p, inputs, outputs, req):
    """out = inputs[0] + inputs[1] + ..., summed left to right in out's dtype (float16 rounds each step, integers
    wrap, as MXNet's ElementwiseSum does)."""
    def compute(dst):
        if len(inputs) == 1:
            np.copyto(dst, inputs[0])
            return
        np.add(inputs[0], inputs[1], out=dst)
        for x in inputs[2:]:
            np.add(dst, x, out=dst)
    store(outputs[0], req[0], compute)


def zeros_like(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], 0)


def ones_like(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], 1)


def block_grad(ctx, p, inputs, outputs, req):
    """Identity (the gradient is what BlockGrad stops)."""
    copy_view(inputs[0], outputs[0], req[0])
