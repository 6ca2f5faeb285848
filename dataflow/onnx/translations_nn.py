"""Export translations of the neural-network layers: convolution, pooling, normalization, dense, activations,
softmax, embedding, dropout. Each is `fn(ctx, node, ins, outs)`: `ins` the ONNX names of the node's inputs,
`outs` the names its visible outputs must get; `ctx` is `export.ExportContext`."""
import math

import numpy as np

from ._table import exports


def _spatial(p, ndim):
    """(kernel, strides, dilations, pads as ONNX's begin+end) of a Convolution/Deconvolution/Pooling."""
    kernel = tuple(p.kernel)
    stride = tuple(p.stride) or (1,) * ndim
    dilate = tuple(getattr(p, "dilate", ()) or ()) or (1,) * ndim
    pad = tuple(p.pad) or (0,) * ndim
    return kernel, stride, dilate, list(pad) + list(pad)


def _check_layout(ctx, node):
    layout = getattr(node.params, "layout", None)
    if layout is not None and layout not in ("NCW", "NCHW", "NCDHW"):
        raise ctx.unsupported(node, "with layout %s: only channel-first layouts export" % layout)


@exports("Convolution")
def convolution(ctx, node, ins, outs):
    p = node.params
    _check_layout(ctx, node)
    kernel, stride, dilate, pads = _spatial(p, len(p.kernel))
    ctx.emit("Conv", ins[:2] if p.no_bias else ins[:3], outs, kernel_shape=list(kernel), strides=list(stride),
             dilations=list(dilate), pads=pads, group=p.num_group)


@exports("Deconvolution")
def deconvolution(ctx, node, ins, outs):
    p = node.params
    _check_layout(ctx, node)
    ndim = len(p.kernel)
    kernel, stride, dilate, _ = _spatial(p, ndim)
    in_size = ctx.shape(node.inputs[0])[2:]
    out_size = ctx.out_shape(node)[2:]
    if tuple(p.target_shape):
        # MXNet derives the padding from the target: total = full size - target, split (total+1)//2, adj total%2
        full = [s * (i - 1) + d * (k - 1) + 1 for s, i, d, k in zip(stride, in_size, dilate, kernel)]
        pad = [(f - t + 1) // 2 for f, t in zip(full, p.target_shape)]
    else:
        pad = list(p.pad) or [0] * ndim
    # the output padding that makes ONNX's size equal the inferred one covers both `adj` and `target_shape`
    adj = [o - (s * (i - 1) + d * (k - 1) + 1 - 2 * q)
           for o, s, i, d, k, q in zip(out_size, stride, in_size, dilate, kernel, pad)]
    ctx.emit("ConvTranspose", ins[:2] if p.no_bias else ins[:3], outs, kernel_shape=list(kernel),
             strides=list(stride), dilations=list(dilate), pads=pad + pad, output_padding=adj, group=p.num_group)


@exports("Pooling")
def pooling(ctx, node, ins, outs):
    p = node.params
    _check_layout(ctx, node)
    x = ins[0]
    ndim = len(ctx.shape(node.inputs[0])) - 2
    if p.global_pool:
        if p.pool_type == "max":
            ctx.emit("GlobalMaxPool", [x], outs)
        elif p.pool_type == "avg":
            ctx.emit("GlobalAveragePool", [x], outs)
        elif p.pool_type == "lp":
            ctx.emit("GlobalLpPool", [x], outs, p=int(p.p_value or 2))
        else:   # sum: the mean times the window
            size = int(np.prod(ctx.shape(node.inputs[0])[2:]))
            mean = ctx.op("GlobalAveragePool", x)
            ctx.emit("Mul", [mean, ctx.scalar_like(size, node.inputs[0])], outs)
        return
    kernel, stride, _, pads = _spatial(p, ndim)
    if p.pooling_convention not in ("valid", "full"):
        raise ctx.unsupported(node, "with pooling_convention=%r: only 'valid' and 'full' export"
                              % p.pooling_convention)
    common = dict(kernel_shape=list(kernel), strides=list(stride), pads=pads)
    if p.pooling_convention == "full":
        common["ceil_mode"] = 1
    if p.pool_type == "max":
        ctx.emit("MaxPool", [x], outs, **common)
    elif p.pool_type == "avg":
        include = p.count_include_pad is None or p.count_include_pad
        ctx.emit("AveragePool", [x], outs, count_include_pad=int(include), **common)
    elif p.pool_type == "lp":
        common.pop("ceil_mode", None)
        ctx.emit("LpPool", [x], outs, p=int(p.p_value or 2), **common)
    else:   # sum: the average including padding, times the window size
        mean = ctx.op("AveragePool", x, count_include_pad=1, **common)
        ctx.emit("Mul", [mean, ctx.scalar_like(int(np.prod(kernel)), node.inputs[0])], outs)


@exports("_contrib_AdaptiveAvgPooling2D")
def adaptive_avg_pooling(ctx, node, ins, outs):
    out_size = ctx.out_shape(node)[2:]
    if tuple(out_size) != (1, 1):
        raise ctx.unsupported(node, "with output_size %s: only output size 1 exports" % (out_size,))
    ctx.emit("GlobalAveragePool", ins[:1], outs)


@exports("BatchNorm")
def batch_norm(ctx, node, ins, outs):
    p = node.params
    if p.axis != 1 or p.output_mean_var:
        raise ctx.unsupported(node, "with axis=%d, output_mean_var=%s: ONNX normalizes axis 1, one output"
                              % (p.axis, p.output_mean_var))
    x, gamma, beta, mean, var = ins
    if p.fix_gamma:     # MXNet uses gamma = 1 whatever the parameter holds
        gamma = ctx.const(np.ones(ctx.shape(node.inputs[1]), dtype=ctx.dtype(node.inputs[1])), name="ones")
    ctx.emit("BatchNormalization", [x, gamma, beta, mean, var], outs[:1], epsilon=float(p.eps),
             momentum=float(p.momentum))


@exports("InstanceNorm")
def instance_norm(ctx, node, ins, outs):
    ctx.emit("InstanceNormalization", ins, outs, epsilon=float(node.params.eps))


def _per_axis(ctx, name, ndim, axis):
    """`name` (a 1-D per-channel tensor) reshaped to broadcast along `axis` of an `ndim`-D tensor."""
    axis = axis % ndim
    return ctx.op("Reshape", name, ctx.ints([-1] + [1] * (ndim - 1 - axis)))


@exports("LayerNorm")
def layer_norm(ctx, node, ins, outs):
    p = node.params
    if p.output_mean_var:
        raise ctx.unsupported(node, "with output_mean_var=True")
    x, gamma, beta = ins
    ndim = len(ctx.shape(node.inputs[0]))
    axis = p.axis % ndim
    mean = ctx.op("ReduceMean", x, axes=[axis], keepdims=1)
    centered = ctx.op("Sub", x, mean)
    var = ctx.op("ReduceMean", ctx.op("Mul", centered, centered), axes=[axis], keepdims=1)
    std = ctx.op("Sqrt", ctx.op("Add", var, ctx.scalar_like(p.eps, node.inputs[0])))
    normed = ctx.op("Div", centered, std)
    scaled = ctx.op("Mul", normed, _per_axis(ctx, gamma, ndim, axis))
    ctx.emit("Add", [scaled, _per_axis(ctx, beta, ndim, axis)], outs[:1])


@exports("L2Normalization")
def l2_normalization(ctx, node, ins, outs):
    p = node.params
    x = ins[0]
    ndim = len(ctx.shape(node.inputs[0]))
    axes = {"instance": list(range(1, ndim)), "channel": [1], "spatial": list(range(2, ndim))}[p.mode]
    sq = ctx.op("ReduceSum", ctx.op("Mul", x, x), ctx.ints(axes), keepdims=1)
    norm = ctx.op("Sqrt", ctx.op("Add", sq, ctx.scalar_like(p.eps, node.inputs[0])))
    ctx.emit("Div", [x, norm], outs)


@exports("LRN")
def lrn(ctx, node, ins, outs):
    p = node.params
    ctx.emit("LRN", ins, outs, alpha=float(p.alpha), beta=float(p.beta), bias=float(p.knorm), size=int(p.nsize))


@exports("FullyConnected")
def fully_connected(ctx, node, ins, outs):
    p = node.params
    x, w = ins[0], ins[1]
    shape = ctx.shape(node.inputs[0])
    if p.flatten or len(shape) <= 2:
        if len(shape) != 2:
            x = ctx.op("Flatten", x, axis=1)
        args = [x, w] if p.no_bias else [x, w, ins[2]]
        ctx.emit("Gemm", args, outs, transB=1)
        return
    y = ctx.op("MatMul", x, ctx.op("Transpose", w, perm=[1, 0]))
    if p.no_bias:
        ctx.emit("Identity", [y], outs)
    else:
        ctx.emit("Add", [y, ins[2]], outs)


_ACTIVATIONS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softrelu": "Softplus",
                "softsign": "Softsign"}


@exports("Activation")
def activation(ctx, node, ins, outs):
    kind = node.params.act_type
    if kind in _ACTIVATIONS:
        ctx.emit(_ACTIVATIONS[kind], ins, outs)
    else:
        raise ctx.unsupported(node, "with act_type=%r" % kind)


@exports("LeakyReLU")
def leaky_relu(ctx, node, ins, outs):
    p = node.params
    x = ins[0]
    kind = p.act_type
    if kind == "leaky":
        ctx.emit("LeakyRelu", [x], outs, alpha=float(p.slope))
    elif kind == "rrelu":   # inference: the mean slope
        ctx.emit("LeakyRelu", [x], outs, alpha=float((p.lower_bound + p.upper_bound) / 2))
    elif kind == "elu":
        ctx.emit("Elu", [x], outs, alpha=float(p.slope))
    elif kind == "selu":
        ctx.emit("Selu", [x], outs)     # ONNX's defaults are MXNet's alpha and lambda
    elif kind == "prelu":
        ndim = len(ctx.shape(node.inputs[0]))
        gamma = ins[1]
        if int(np.prod(ctx.shape(node.inputs[1]))) > 1 and ndim > 2:
            gamma = _per_axis(ctx, gamma, ndim, 1)
        ctx.emit("PRelu", [x, gamma], outs)
    elif kind == "gelu":    # opset 13 has no Gelu: 0.5 x (1 + erf(x / sqrt 2))
        erf = ctx.op("Erf", ctx.op("Div", x, ctx.scalar_like(math.sqrt(2.0), node.inputs[0])))
        half = ctx.op("Mul", x, ctx.scalar_like(0.5, node.inputs[0]))
        ctx.emit("Mul", [half, ctx.op("Add", erf, ctx.scalar_like(1.0, node.inputs[0]))], outs)
    else:
        raise ctx.unsupported(node, "with act_type=%r" % kind)


def _tempered(ctx, node, x):
    p = node.params
    if getattr(p, "use_length", False):
        raise ctx.unsupported(node, "with use_length=True")
    if getattr(p, "temperature", None) not in (None, 1.0):
        x = ctx.op("Div", x, ctx.scalar_like(p.temperature, node.inputs[0]))
    return x


@exports("softmax")
def softmax(ctx, node, ins, outs):
    ctx.emit("Softmax", [_tempered(ctx, node, ins[0])], outs, axis=node.params.axis)


@exports("log_softmax")
def log_softmax(ctx, node, ins, outs):
    ctx.emit("LogSoftmax", [_tempered(ctx, node, ins[0])], outs, axis=node.params.axis)


@exports("softmin")
def softmin(ctx, node, ins, outs):
    ctx.emit("Softmax", [ctx.op("Neg", _tempered(ctx, node, ins[0]))], outs, axis=node.params.axis)


def _softmax_over_rest(ctx, x, outs):
    """Softmax of each sample over all its other dimensions, keeping the shape."""
    flat = ctx.op("Softmax", ctx.op("Flatten", x, axis=1), axis=1)
    ctx.emit("Reshape", [flat, ctx.op("Shape", x)], outs)


@exports("SoftmaxOutput")
def softmax_output(ctx, node, ins, outs):
    p = node.params
    ndim = len(ctx.shape(node.inputs[0]))
    if p.multi_output:
        ctx.emit("Softmax", ins[:1], outs, axis=1)
    elif p.preserve_shape or ndim <= 2:
        ctx.emit("Softmax", ins[:1], outs, axis=-1)
    else:
        _softmax_over_rest(ctx, ins[0], outs)


@exports("SoftmaxActivation")
def softmax_activation(ctx, node, ins, outs):
    # instance: over the last axis (MXNet flattens to 2-D keeping the last dimension); channel: over axis 1
    ctx.emit("Softmax", ins, outs, axis=1 if node.params.mode == "channel" else -1)


@exports("LinearRegressionOutput", "MAERegressionOutput")
def regression_output(ctx, node, ins, outs):
    ctx.emit("Identity", ins[:1], outs)


@exports("LogisticRegressionOutput")
def logistic_regression_output(ctx, node, ins, outs):
    ctx.emit("Sigmoid", ins[:1], outs)


@exports("Dropout", "BlockGrad", "_copy", "MakeLoss")
def identity(ctx, node, ins, outs):
    if node.op.name == "Dropout" and node.params.mode == "always":
        raise ctx.unsupported(node, "with mode='always': it drops at inference too, which ONNX cannot repeat")
    ctx.emit("Identity", ins[:1], outs[:1])


@exports("Embedding")
def embedding(ctx, node, ins, outs):
    indices = ctx.op("Cast", ins[0], to=ctx.onnx.TensorProto.INT64)
    ctx.emit("Gather", [ins[1], indices], outs, axis=0)
