"""UpSampling: 'nearest' repeats each input's pixels (scaling every input to the first input's size times `scale`,
then concatenating or summing them); 'bilinear' is a depthwise deconvolution of data (arg0) with weight (arg1, of
shape (C, 1, k, k), k = 2 scale - scale % 2). Both need 4-D float input. Names, params and defaults are MXNet
1.9.1's.
"""
from .autodiff import apply
from .cpu import shape as cpu
from .elemwise import float_only, fmt, known, merge
from .errors import ShapeError
from .registry import Enum, Int, OpDef, register


def bilinear_kernel_size(scale):
    """(kernel, pad) of the depthwise deconvolution behind bilinear UpSampling (stride = scale)."""
    return 2 * scale - scale % 2, scale // 2


# bilinear: data (n, c, h, w), weight (c, 1, k, k) -> (n, c, h s, w s): a depthwise deconvolution with stride s,
# kernel k = 2s - s % 2, pad s // 2.
def _bilinear_shape(p, in_shapes, out_shapes):
    if p.num_args != 2:
        raise ShapeError("UpSampling: sample_type='bilinear' takes 2 inputs, data and weight (num_args=2), "
                         "got num_args=%d" % p.num_args)
    (data, weight), out = in_shapes, out_shapes[0]
    k, _ = bilinear_kernel_size(p.scale)
    if data is None and out is not None:
        data = (out[0], out[1], out[2] // p.scale, out[3] // p.scale)
    if data is None:
        return [data, weight], [out]
    if len(data) != 4:
        raise ShapeError("UpSampling: data must be 4-D (batch, channel, y, x), got %s" % fmt(data))
    n, c, h, w = data
    return [data, merge(weight, (c, 1, k, k))], [merge((n, c, h * p.scale, w * p.scale), out)]


def _up_shape(p, in_shapes, out_shapes):
    if p.scale < 1:
        raise ShapeError("UpSampling: scale=%d must be at least 1" % p.scale)
    if p.sample_type == "bilinear":
        return _bilinear_shape(p, in_shapes, out_shapes)
    ins, out = list(in_shapes), out_shapes[0]
    for i, s in enumerate(ins):
        if s is not None and len(s) != 4:
            raise ShapeError("UpSampling: input arg%d must be 4-D (batch, channel, y, x), got %s" % (i, fmt(s)))
    if ins[0] is None and out is not None and p.multi_input_mode == "sum":
        ins[0] = (out[0], out[1], out[2] // p.scale, out[3] // p.scale)
    if not all(s is not None and known(s) for s in ins):
        return ins, [out]
    n, c, h, w = ins[0]
    oh, ow = h * p.scale, w * p.scale
    channels = 0
    for i, (bn, bc, bh, bw) in enumerate(ins):
        if oh % bh or ow % bw or oh // bh != ow // bw or bn != n:
            raise ShapeError("UpSampling: input arg%d %s cannot be scaled to the output size (%d, %d) by one "
                             "integer factor (arg0 is %s)" % (i, fmt(ins[i]), oh, ow, fmt(ins[0])))
        if p.multi_input_mode == "sum" and bc != c:
            raise ShapeError("UpSampling: multi_input_mode='sum' needs equal channels, arg%d has %d, arg0 %d"
                             % (i, bc, c))
        channels += bc
    return ins, [merge((n, channels if p.multi_input_mode == "concat" else c, oh, ow), out)]


def _backward_up_shape(p, in_shapes, out_shapes):
    args = [merge(s, o) for s, o in zip(in_shapes[1:], out_shapes)]
    ins, outs = _up_shape(p, args, [in_shapes[0]])
    return [outs[0]] + ins, ins


# nearest: each input gets dy summed over its s x s blocks (in its channels); bilinear: the deconvolution's
# gradients, dx = dy correlated with the weight, dweight = dy correlated with x (per channel)
def _up_grad(p, ins, outs, dys):
    grads = apply("_backward_UpSampling", dys[0], *ins, **p.as_dict())
    return list(grads) if p.num_args > 1 else [grads]


_UP = dict(scale=Int(doc="Up sampling scale"),
           num_filter=Int(0, "Input filter. Only used by bilinear sample_type."),
           sample_type=Enum(("bilinear", "nearest"), doc="upsampling method"),
           multi_input_mode=Enum(("concat", "sum"), "concat", "How to handle multiple input: concatenate "
                                                              "along the channels, or add."),
           num_args=Int(doc="Number of inputs to be upsampled."),
           workspace=Int(512, "Tmp workspace for deconvolution (MB)"))
register(OpDef("UpSampling", variadic="num_args", params=_UP, infer_shape=_up_shape,
               infer_type=float_only("UpSampling"), cpu=cpu.upsampling,
               gradient=_up_grad,
               doc="Upsamples 4-D (NCHW) inputs: nearest-neighbour repetition, or bilinear (a depthwise "
                   "deconvolution with the given weight)."))
register(OpDef("_backward_UpSampling", params=_UP,
               arguments=lambda p: ["ograd"] + ["arg%d" % i for i in range(p.num_args)],
               outputs=lambda p: ["arg%d_grad" % i for i in range(p.num_args)],
               infer_shape=_backward_up_shape, infer_type=float_only("_backward_UpSampling"),
               cpu=cpu.backward_upsampling, doc="Backward of UpSampling (internal): dy summed over the blocks."))
