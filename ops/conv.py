"""Convolution, Deconvolution and Pooling (1-D, 2-D and 3-D, NC* layouts; Pooling also N*C), and their backward
ops.

Shape rules follow MXNet 1.9.1 (checked against it): Convolution infers weight (num_filter, C / num_group,
*kernel) and bias (num_filter,) from data, and each output dim is floor((x + 2 * pad - dilate * (k - 1) - 1) /
stride) + 1. Deconvolution's weight is (C, num_filter / num_group, *kernel) and its output dim
stride * (x - 1) + dilate * (k - 1) + 1 - 2 * pad + adj, or target_shape (pad and adj then derived from it).
Pooling's output dim is floor((x + 2 * pad - k) / stride) + 1 (`valid`), with ceil (`full`), ceil(x / stride)
(`same`: 1-D, no padding), or 1 (global_pool). Unknown dims of data are filled back from the output where that is
exact (batch always; spatial dims for unit stride) and channels from the weight.

Each op has a `_backward_<Op>` op (MXNet's names) that its gradient rule adds to the graph; the kernels, im2col +
GEMM for the convolutions and direct loops for pooling, are in ops/cpu/conv.py and ops/cpu/pooling.py.
"""
from . import autodiff
from .cpu import adaptive_pooling as cpu_adaptive
from .cpu import conv as cpu
from .cpu import pooling as cpu_pooling
from .elemwise import float_only, fmt, like_inputs, merge, types_like_inputs
from .errors import ShapeError
from .registry import Bool, Enum, Int, OpDef, OptBool, OptEnum, OptInt, Shape, register

# ---------------------------------------------------------------------------------------------------------------
# Params: MXNet's optional enums and booleans ("None" in JSON attrs)
# ---------------------------------------------------------------------------------------------------------------


_CPU_LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}
_CONV_LAYOUTS = ("NCDHW", "NCHW", "NCW", "NDHWC", "NHWC")
_POOL_LAYOUTS = ("NCDHW", "NCHW", "NCW", "NDHWC", "NHWC", "NWC")
_CUDNN_TUNE = ("fastest", "limited_workspace", "off")


def _conv_params(extra=(), workspace=1024, no_bias=False):
    """Convolution's params, with Deconvolution's extra ones (adj, target_shape) after pad."""
    params = dict(kernel=Shape(doc="Convolution kernel size: (w,), (h, w) or (d, h, w)"),
                  stride=Shape((), "Convolution stride: (w,), (h, w) or (d, h, w). Defaults to 1 for each "
                                   "dimension."),
                  dilate=Shape((), "Convolution dilate: (w,), (h, w) or (d, h, w). Defaults to 1 for each "
                                   "dimension."),
                  pad=Shape((), "Zero pad for convolution: (w,), (h, w) or (d, h, w). Defaults to no padding."))
    params.update(extra)
    params.update(num_filter=Int(doc="Convolution filter(channel) number"),
                  num_group=Int(1, "Number of group partitions."),
                  workspace=Int(workspace, "Maximum temporary workspace allowed (MB); unused on CPU here."),
                  no_bias=Bool(no_bias, "Whether to disable bias parameter."),
                  cudnn_tune=OptEnum(_CUDNN_TUNE, None, "Whether to pick convolution algo by running performance "
                                                        "test (GPU only; ignored)."),
                  cudnn_off=Bool(False, "Turn off cudnn for this layer (ignored)."),
                  layout=OptEnum(_CONV_LAYOUTS, None, "Set layout for input, output and weight. Empty for default "
                                                      "layout: NCW for 1d, NCHW for 2d and NCDHW for 3d. Only the "
                                                      "default layouts are supported on CPU."))
    return params


# ---------------------------------------------------------------------------------------------------------------
# Shared checks
# ---------------------------------------------------------------------------------------------------------------

def _check_layout(op, layout, nd, channel_last=False):
    if layout is None:
        return
    if channel_last and layout in _CHANNEL_LAST:
        if len(layout) != nd + 2:
            raise ShapeError("%s: layout=%s does not match a %d-D kernel" % (op, layout, nd))
        return
    if layout not in _CPU_LAYOUTS.values():
        raise ShapeError("%s: layout=%s is not supported on CPU (MXNet runs channel-last layouts on GPU only); "
                         "use %s" % (op, layout, _CPU_LAYOUTS.get(nd, "NCW, NCHW or NCDHW")))
    if len(layout) != nd + 2:
        raise ShapeError("%s: layout=%s does not match a %d-D kernel (data %s)" % (op, layout, nd, _CPU_LAYOUTS[nd]))


def _check_window(op, p, names, nd):
    """kernel has 1-3 positive dims; the per-dim params in `names` are () or have kernel's rank (positive where
    they must be)."""
    if not 1 <= nd <= 3:
        raise ShapeError("%s: kernel=%s must have 1, 2 or 3 dims (1-D, 2-D or 3-D), got %d"
                         % (op, tuple(p.kernel), nd))
    if any(k < 1 for k in p.kernel):
        raise ShapeError("%s: incorrect kernel size: kernel=%s" % (op, tuple(p.kernel)))
    for name in names:
        value = getattr(p, name)
        if value and len(value) != nd:
            raise ShapeError("%s: %s=%s must have the same number of dimensions as kernel=%s"
                             % (op, name, tuple(value), tuple(p.kernel)))
        lowest = 1 if name in ("stride", "dilate") else 0
        if any(v < lowest for v in value):
            raise ShapeError("%s: incorrect %s: %s=%s (each must be >= %d)" % (op, name, name, tuple(value), lowest))


def _check_data(op, data, nd, what="kernel"):
    if data is not None and len(data) != nd + 2:
        raise ShapeError("%s: data should be %dD (batch, channel, %s) for a %d-D %s, got shape %s"
                         % (op, nd + 2, ("x", "y, x", "d, y, x")[nd - 1], nd, what, fmt(data)))


def _per_dim(p, name, nd, default):
    return tuple(getattr(p, name)) or (default,) * nd


def _filters(op, p):
    if p.num_filter < 1:
        raise ShapeError("%s: num_filter must be >= 1, got %d" % (op, p.num_filter))
    if p.num_group < 1:
        raise ShapeError("%s: num_group must be >= 1, got %d" % (op, p.num_group))
    if p.num_filter % p.num_group:
        raise ShapeError("%s: num_filter=%d must be divisible by num_group=%d"
                         % (op, p.num_filter, p.num_group))


def _channels(op, c, groups, data):
    if c and c % groups:
        raise ShapeError("%s: data channels %d (data %s) must be divisible by num_group=%d"
                         % (op, c, fmt(data), groups))


def _known_rank(shape, rank):
    return shape if shape is not None and len(shape) == rank else None


# ---------------------------------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------------------------------

def _conv_setup(op, p, extra=()):
    nd = len(p.kernel)
    _check_window(op, p, ("stride", "dilate", "pad") + tuple(extra), nd)
    _check_layout(op, p.layout, nd)
    _filters(op, p)
    stride, pad = _per_dim(p, "stride", nd, 1), _per_dim(p, "pad", nd, 0)
    dk = tuple(d * (k - 1) + 1 for d, k in zip(_per_dim(p, "dilate", nd, 1), p.kernel))
    return nd, stride, pad, dk


# Per spatial dim: o = floor((x + 2 * pad - dk) / stride) + 1 with dk = dilate * (k - 1) + 1; weight
# (num_filter, C / num_group, *kernel), bias (num_filter,). Back from the output: batch, and x = o - 1 + dk - 2 * pad
# where stride is 1; channels from the weight (C = weight[1] * num_group).
def _conv_shape(p, in_shapes, out_shapes):
    nd, stride, pad, dk = _conv_setup("Convolution", p)
    if in_shapes[0] is None and out_shapes[0] is None:
        # as MXNet: before data's rank is known only the bias follows (from num_filter alone)
        return list(in_shapes[:2]) + [(p.num_filter,)] * (len(in_shapes) - 2), list(out_shapes)
    data, weight = in_shapes[0], _known_rank(in_shapes[1], nd + 2)
    _check_data("Convolution", data, nd)
    out = _known_rank(out_shapes[0], nd + 2)
    g, nf = p.num_group, p.num_filter
    d = list(data) if data is not None else [0] * (nd + 2)
    d[0] = d[0] or (out[0] if out else 0)
    d[1] = d[1] or (weight[1] * g if weight else 0)
    for i in range(nd):
        if not d[2 + i] and out and out[2 + i] and stride[i] == 1:
            d[2 + i] = max(out[2 + i] - 1 + dk[i] - 2 * pad[i], 0)
    _channels("Convolution", d[1], g, data)
    spatial = []
    for i in range(nd):
        x = d[2 + i]
        if x and dk[i] > x + 2 * pad[i]:
            raise ShapeError("Convolution: kernel size exceeds input: dilated kernel %d > %d (data %s, pad=%s)"
                             % (dk[i], x + 2 * pad[i], fmt(data), tuple(p.pad)))
        spatial.append((x + 2 * pad[i] - dk[i]) // stride[i] + 1 if x else 0)
    data = tuple(d) if any(d) or data is not None else None
    ins = [data, (nf, d[1] // g) + tuple(p.kernel)] + ([] if p.no_bias else [(nf,)])
    return ins, [merge((d[0], nf) + tuple(spatial), out_shapes[0])]


# Per sample n and group g, with col = im2col(x[n]) (C/g * prod(kernel) rows per group):  y[n]_g = W_g @ col_g + b_g.
# dx[n] = col2im(W_g.T @ dy[n]_g) (the transposed convolution of dy);  dW_g = sum_n dy[n]_g @ col_g.T;
# db = sum of dy over the batch and spatial dims.
def _conv_grad(p, ins, outs, dys):
    return autodiff.apply("_backward_Convolution", dys[0], ins[0], ins[1], **p.as_dict())


# ---------------------------------------------------------------------------------------------------------------
# Deconvolution
# ---------------------------------------------------------------------------------------------------------------

# Per spatial dim: o = stride * (x - 1) + dk - 2 * pad + adj (adj < stride), or o = target_shape when that is set
# (then the cut from the full size s * (x - 1) + dk is split into pad = ceil(cut / 2) and adj = cut % 2, and
# must be >= 0, with adj < stride). weight (C, num_filter / num_group, *kernel), bias (num_filter,).
# Back from the output (no target_shape): x = (o - dk + 2 * pad - adj) / stride + 1 where that divides exactly.
def _deconv_shape(p, in_shapes, out_shapes):
    op = "Deconvolution"
    nd, stride, pad, dk = _conv_setup(op, p, ("adj", "target_shape"))
    if in_shapes[0] is None and out_shapes[0] is None:
        # as MXNet: before data's rank is known only the bias follows (from num_filter alone)
        return list(in_shapes[:2]) + [(p.num_filter,)] * (len(in_shapes) - 2), list(out_shapes)
    adj = _per_dim(p, "adj", nd, 0)
    target = tuple(p.target_shape) if any(p.target_shape) else None
    if target is not None and not all(target):
        raise ShapeError("%s: target_shape=%s must be all positive (or all 0 for none)" % (op, target))
    for i in range(nd):
        if target is None and adj[i] >= stride[i]:
            raise ShapeError("%s: adj=%s must be smaller than stride=%s" % (op, tuple(p.adj), stride))
    data, weight = in_shapes[0], _known_rank(in_shapes[1], nd + 2)
    _check_data(op, data, nd)
    out = _known_rank(out_shapes[0], nd + 2)
    g, nf = p.num_group, p.num_filter
    d = list(data) if data is not None else [0] * (nd + 2)
    d[0] = d[0] or (out[0] if out else 0)
    d[1] = d[1] or (weight[0] if weight else 0)
    for i in range(nd):
        if not d[2 + i] and out and out[2 + i] and target is None:
            num = out[2 + i] - dk[i] + 2 * pad[i] - adj[i]
            d[2 + i] = num // stride[i] + 1 if num >= 0 and num % stride[i] == 0 else 0
    _channels(op, d[1], g, data)
    spatial = []
    for i in range(nd):
        x = d[2 + i]
        if not x:
            spatial.append(target[i] if target else 0)
            continue
        full = stride[i] * (x - 1) + dk[i]
        if target is not None:
            if target[i] > full:
                raise ShapeError("%s: target_shape=%s is too big: at most %d along dim %d for data %s"
                                 % (op, target, full, i, fmt(data)))
            if (full - target[i]) % 2 > stride[i] - 1:
                raise ShapeError("%s: target_shape=%s cannot be reached with stride=%s: the size %d along dim %d "
                                 "needs an odd cut, i.e. adj=1 >= stride" % (op, target, stride, full, i))
            spatial.append(target[i])
        else:
            o = full - 2 * pad[i] + adj[i]
            if o < 1:
                raise ShapeError("%s: output size %d along dim %d is not positive (data %s, kernel=%s, pad=%s)"
                                 % (op, o, i, fmt(data), tuple(p.kernel), tuple(p.pad)))
            spatial.append(o)
    data = tuple(d) if any(d) or data is not None else None
    ins = [data, (d[1], nf // g) + tuple(p.kernel)] + ([] if p.no_bias else [(nf,)])
    return ins, [merge((d[0], nf) + tuple(spatial), out_shapes[0])]


# The transpose of Convolution, with col = im2col(dy[n]) (the output side is unfolded):  y[n] = col2im(W_g.T @ x[n]_g).
# dx[n]_g = W_g @ col_g (a convolution of dy);  dW_g = sum_n x[n]_g @ col_g.T;  db = sum of dy over batch and space.
def _deconv_grad(p, ins, outs, dys):
    return autodiff.apply("_backward_Deconvolution", dys[0], ins[0], ins[1], **p.as_dict())


# ---------------------------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------------------------

def _pool_nd(p, data, out):
    if p.global_pool:
        shape = data if data is not None else out
        return len(shape) - 2 if shape is not None else (len(p.kernel) or None)
    return len(p.kernel)


_CHANNEL_LAST = ("NWC", "NHWC", "NDHWC")


def _nc(shape):
    """A channel-last shape (N, spatial..., C) as channel-first (N, C, spatial...); None stays None."""
    return None if shape is None else (shape[0], shape[-1]) + tuple(shape[1:-1])


def _nlast(shape):
    return None if shape is None else (shape[0],) + tuple(shape[2:]) + (shape[1],)


# Channel-last layouts (NWC, NHWC, NDHWC) pool the same windows over the spatial dims: the rule runs on the
# channel-first view of the shapes (the CPU kernel does the same with the data).
def _pool_shape(p, in_shapes, out_shapes):
    if p.layout in _CHANNEL_LAST:
        ins, outs = _pool_shape_nc(p, [_nc(s) for s in in_shapes], [_nc(s) for s in out_shapes])
        return [_nlast(s) for s in ins], [_nlast(s) for s in outs]
    return _pool_shape_nc(p, in_shapes, out_shapes)


# Per spatial dim (k, s, p the kernel, stride, pad): valid o = floor((x + 2p - k) / s) + 1; full o = ceil((x + 2p -
# k) / s) + 1; same o = ceil(x / s) (1-D, pad 0); global_pool o = 1 (kernel, stride and pad ignored). k <= x + 2p.
# Back from the output: batch and channels; x = o - 1 + k - 2p where the stride is 1 (x = o for same).
def _pool_shape_nc(p, in_shapes, out_shapes):
    op = "Pooling"
    data, out = in_shapes[0], out_shapes[0]
    nd = _pool_nd(p, data, out)
    if nd is None:
        return list(in_shapes), list(out_shapes)
    if not p.global_pool:
        if nd == 0:
            raise ShapeError("%s: kernel is required unless global_pool=True" % op)
        _check_window(op, p, ("stride", "pad"), nd)
    elif not 1 <= nd <= 3:
        raise ShapeError("%s: data should be 3D, 4D or 5D (batch, channel, spatial...), got %s" % (op, fmt(data)))
    _check_layout(op, p.layout, nd, channel_last=True)
    if p.pool_type == "lp" and p.p_value not in (1, 2, 3):
        raise ShapeError("%s: pool_type='lp' needs p_value 1, 2 or 3, got p_value=%s" % (op, p.p_value))
    same = p.pooling_convention == "same" and not p.global_pool
    if same and (nd != 1 or any(p.pad)):
        raise ShapeError("%s: pooling_convention='same' supports 1-D pooling without pad only (kernel=%s, pad=%s)"
                         % (op, tuple(p.kernel), tuple(p.pad)))
    _check_data(op, data, nd, "pooling")
    if in_shapes[0] is None and out_shapes[0] is None:     # as MXNet: nothing to infer from yet
        return list(in_shapes), list(out_shapes)
    out = _known_rank(out, nd + 2)
    kernel = tuple(p.kernel) if not p.global_pool else (0,) * nd
    stride, pad = _per_dim(p, "stride", nd, 1), _per_dim(p, "pad", nd, 0)
    d = list(data) if data is not None else [0] * (nd + 2)
    d[0] = d[0] or (out[0] if out else 0)
    d[1] = d[1] or (out[1] if out else 0)
    spatial = []
    for i in range(nd):
        if not d[2 + i] and out and out[2 + i] and stride[i] == 1 and not p.global_pool:
            d[2 + i] = out[2 + i] if same else max(out[2 + i] - 1 + kernel[i] - 2 * pad[i], 0)
        x = d[2 + i]
        if p.global_pool:
            spatial.append(1)
        elif not x:
            spatial.append(0)
        elif same:
            spatial.append(-(-x // stride[i]))
        else:
            if kernel[i] > x + 2 * pad[i]:
                raise ShapeError("%s: kernel size (%d) exceeds input (%d padded to %d): data %s, kernel=%s, pad=%s"
                                 % (op, kernel[i], x, x + 2 * pad[i], fmt(data), tuple(p.kernel), tuple(p.pad)))
            span = x + 2 * pad[i] - kernel[i]
            steps = span // stride[i] if p.pooling_convention == "valid" else -(-span // stride[i])
            spatial.append(steps + 1)
    data = tuple(d) if any(d) or data is not None else None
    return [data], [merge((d[0], d[1]) + tuple(spatial), out_shapes[0])] * len(out_shapes)


# max: dx[the first input in the window equal to y] += dy (ties: the first max, row-major, as MXNet);
# avg: dx[window] += dy / area, area as in the forward (the window clipped to the padded input, or to the input
# with count_include_pad=False); sum: dx[window] += dy; lp: dx[window] += dy * (x / y) ** (p_value - 1).
def _pool_grad(p, ins, outs, dys):
    return [autodiff.apply("_backward_Pooling", dys[0], ins[0], outs[0], **p.as_dict())]


# ---------------------------------------------------------------------------------------------------------------
# Backward ops: inputs (out_grad, the forward's data and weight / output), outputs the forward inputs' gradients
# ---------------------------------------------------------------------------------------------------------------

def _conv_backward_shape(forward_rule):
    """(out_grad, data, weight) -> (data_grad, weight_grad[, bias_grad]): the gradients have their inputs' shapes."""
    def rule(p, in_shapes, out_shapes):
        dy = in_shapes[0]
        fwd_ins = [merge(in_shapes[1], out_shapes[0]), merge(in_shapes[2], out_shapes[1])] + list(out_shapes[2:])
        ins, outs = forward_rule(p, fwd_ins, [dy])
        return [outs[0], ins[0], ins[1]], list(ins)
    return rule


# (out_grad, data, output) -> data_grad, shaped like data; out_grad is shaped like output.
def _pool_backward_shape(p, in_shapes, out_shapes):
    dy = merge(in_shapes[0], in_shapes[2])
    ins, outs = _pool_shape(p, [merge(in_shapes[1], out_shapes[0])], [dy])
    return [outs[0], ins[0], outs[0]], [ins[0]]


def _with_bias(names, bias):
    return lambda p: list(names) + ([] if p.no_bias else [bias])


# ---------------------------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------------------------

_CONV_DOC = ("Compute *N*-D convolution on *(N+2)*-D input: out = conv(data, weight) + bias, with weight "
             "(num_filter, channel / num_group, *kernel). Supports 1-D, 2-D and 3-D kernels.")
_DECONV_DOC = ("Computes 1-D, 2-D or 3-D transposed convolution (aka fractionally strided convolution) of the "
               "input tensor; weight (channel, num_filter / num_group, *kernel).")
_DECONV_EXTRA = dict(adj=Shape((), "Adjustment for output shape: (w,), (h, w) or (d, h, w). Ignored when "
                                   "target_shape is set."),
                     target_shape=Shape((), "Shape of the output tensor: (w,), (h, w) or (d, h, w)."))

register(OpDef("Convolution", aliases=("_npx_convolution",), params=_conv_params(),
               arguments=_with_bias(["data", "weight"], "bias"), infer_shape=_conv_shape,
               infer_type=float_only("Convolution"), gradient=_conv_grad, cpu=cpu.convolution,
               per_sample=lambda p, t: ((0,), (0,)), doc=_CONV_DOC))

register(OpDef("_backward_Convolution", params=_conv_params(), arguments=("out_grad", "data", "weight"),
               outputs=_with_bias(["data_grad", "weight_grad"], "bias_grad"),
               infer_shape=_conv_backward_shape(_conv_shape),
               infer_type=float_only("_backward_Convolution"), cpu=cpu._backward_convolution,
               doc="Gradients of Convolution with respect to data, weight and bias."))

register(OpDef("Deconvolution", aliases=("_npx_deconvolution",),
               params=_conv_params(_DECONV_EXTRA, workspace=512, no_bias=True),
               arguments=_with_bias(["data", "weight"], "bias"), infer_shape=_deconv_shape,
               infer_type=float_only("Deconvolution"), gradient=_deconv_grad, cpu=cpu.deconvolution,
               doc=_DECONV_DOC))

register(OpDef("_backward_Deconvolution", params=_conv_params(_DECONV_EXTRA, workspace=512, no_bias=True),
               arguments=("out_grad", "data", "weight"), outputs=_with_bias(["data_grad", "weight_grad"], "bias_grad"),
               infer_shape=_conv_backward_shape(_deconv_shape), infer_type=float_only("_backward_Deconvolution"),
               cpu=cpu._backward_deconvolution,
               doc="Gradients of Deconvolution with respect to data, weight and bias."))

_POOL_PARAMS = dict(
    kernel=Shape((), "Pooling kernel size: (y, x) or (d, y, x)"),
    pool_type=Enum(("avg", "lp", "max", "sum"), "max", "Pooling type to be applied."),
    global_pool=Bool(False, "Ignore kernel size, do global pooling based on current input feature map."),
    cudnn_off=Bool(False, "Turn off cudnn pooling and use MXNet pooling operator (ignored)."),
    pooling_convention=Enum(("full", "same", "valid"), "valid", "Pooling convention to be applied."),
    stride=Shape((), "Stride: for pooling (y, x) or (d, y, x). Defaults to 1 for each dimension."),
    pad=Shape((), "Pad for pooling: (y, x) or (d, y, x). Defaults to no padding."),
    p_value=OptInt(None, "Value of p for Lp pooling, can be 1, 2 or 3, required for Lp Pooling."),
    count_include_pad=OptBool(None, "Only used for AvgPool, specify whether to count padding elements for average "
                                    "calculation. Defaults to true."),
    layout=OptEnum(_POOL_LAYOUTS, None, "Set layout for input and output. Empty for default layout: NCW for 1d, "
                                        "NCHW for 2d and NCDHW for 3d."))

def _pool_outputs(p):
    # MXNet's pip build (oneDNN) gives max pooling over channel-first data a hidden workspace output, which
    # exported files count in node_row_ptr; we keep the slot (nothing reads it) so files match.
    return ["output", "mask"] if p.pool_type == "max" and p.layout in (None, "NCW", "NCHW", "NCDHW") else ["output"]


register(OpDef("Pooling", aliases=("_npx_pooling",), params=_POOL_PARAMS, infer_shape=_pool_shape,
               outputs=_pool_outputs, num_visible_outputs=lambda p: 1,
               infer_type=float_only("Pooling"), gradient=_pool_grad, cpu=cpu_pooling.pooling,
               per_sample=lambda p, t: ((0,), tuple(range(len(_pool_outputs(p))))),
               doc="Performs pooling on the input: max, average (avg), sum or Lp pooling over windows of 1-D, 2-D "
                   "or 3-D data, or over all of it (global_pool)."))

register(OpDef("_backward_Pooling", params=_POOL_PARAMS, arguments=("out_grad", "data", "output"),
               outputs=("data_grad",), infer_shape=_pool_backward_shape, infer_type=float_only("_backward_Pooling"),
               cpu=cpu_pooling._backward_pooling, per_sample=lambda p, t: ((0, 1, 2), (0,)),
               doc="Gradient of Pooling with respect to data."))


# ---------------------------------------------------------------------------------------------------------------
# _contrib_AdaptiveAvgPooling2D (mx.nd.contrib.AdaptiveAvgPooling2D, GluonCV's SE blocks)
# ---------------------------------------------------------------------------------------------------------------

def _adaptive_size(p):
    """(OH, OW) from output_size: one int is square; MXNet 1.9.1 treats () and any other length as (1, 1)."""
    size = p.output_size
    if len(size) == 1:
        return size[0], size[0]
    return tuple(size) if len(size) == 2 else (1, 1)


# data (N, C, H, W) -> (N, C, OH, OW)
def _adaptive_shape(p, in_shapes, out_shapes):
    data, out = in_shapes[0], out_shapes[0]
    for shape in (data, out):
        if shape is not None and len(shape) != 4:
            raise ShapeError("_contrib_AdaptiveAvgPooling2D: data must be 4-D (N, C, H, W), got %s" % fmt(shape))
    oh, ow = _adaptive_size(p)
    if oh < 1 or ow < 1:
        raise ShapeError("_contrib_AdaptiveAvgPooling2D: output_size=%s must be positive" % (p.output_size,))
    head = merge(None if data is None else tuple(data[:2]), None if out is None else tuple(out[:2]))
    if head is None:
        return [data], [out]
    return [head + (tuple(data[2:]) if data is not None else (0, 0))], [head + (oh, ow)]


def _adaptive_grad(p, ins, outs, dys):
    return [autodiff.apply("_backward_contrib_AdaptiveAvgPooling2D", dys[0], ins[0], **p.as_dict())]


_ADAPTIVE = dict(output_size=Shape((), "int (output size) or a tuple of int for output (height, width)."))
register(OpDef("_contrib_AdaptiveAvgPooling2D", params=_ADAPTIVE, infer_shape=_adaptive_shape,
               infer_type=float_only("_contrib_AdaptiveAvgPooling2D"), gradient=_adaptive_grad,
               cpu=cpu_adaptive.adaptive_avg_pooling,
               doc="Applies a 2D adaptive average pooling over a 4D input (NCHW): output cell (i, j) averages rows "
                   "floor(i*H/OH) .. ceil((i+1)*H/OH) and the columns likewise. One int in output_size gives a "
                   "square output; () gives 1x1."))
register(OpDef("_backward_contrib_AdaptiveAvgPooling2D", params=_ADAPTIVE, arguments=("out_grad", "data"),
               outputs=("data_grad",), infer_shape=like_inputs(1),
               infer_type=types_like_inputs(1), cpu=cpu_adaptive.backward_adaptive_avg_pooling,
               doc="Gradient of AdaptiveAvgPooling2D with respect to data."))
