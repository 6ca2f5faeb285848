"""Op spec rows for the convolution and pooling ops; see tests/op_specs.py.

References are in tests/reference_conv.py. Golden shapes and error cases were checked on MXNet 1.9.1 (native CPU
kernels), except where a case says it is ours (shapes MXNet does not infer, or inputs it crashes on). Samplers keep
shapes tiny: the gradient checks take two forwards per input element. Pooling inputs are distinct values (a
shuffled grid), so max pooling has no ties and its gradient no kinks; Lp pooling gets positive values (its
gradient divides by the output).
"""
import numpy as np
from hypothesis import strategies as st

from ops.errors import DTypeError, ParamError
from tests import reference_conv as R
from tests.op_specs import FLOATS, Err, OpSpec, Shp, array

_TOL = {"float32": (1e-5, 1e-4), "float16": (4e-3, 4e-3)}
_BAD_INT = dict(dtypes=("int32", None, None), exc=DTypeError, match="int32")


def _maybe(draw, attrs, key, value, default):
    """Put key in attrs when it is not the default, or sometimes anyway (both spellings must work)."""
    if value != default or draw(st.booleans()):
        attrs[key] = value


def _nd(draw):
    return draw(st.sampled_from([1, 1, 2, 2, 2, 3]))


def _window_params(draw, nd, max_stride=2, max_pad=1):
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, max_stride)) for _ in range(nd))
    dilate = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    pad = tuple(draw(st.integers(0, max_pad)) for _ in range(nd))
    return kernel, stride, dilate, pad


def _conv_attrs(draw, nd, kind):
    kernel, stride, dilate, pad = _window_params(draw, nd, max_stride=3 if kind == "deconv" else 2)
    groups = draw(st.sampled_from([1, 1, 2]))
    channels, filters = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    no_bias = draw(st.booleans())
    attrs = {"kernel": kernel, "num_filter": filters}
    _maybe(draw, attrs, "stride", stride, (1,) * nd)
    _maybe(draw, attrs, "dilate", dilate, (1,) * nd)
    _maybe(draw, attrs, "num_group", groups, 1)
    _maybe(draw, attrs, "no_bias", no_bias, kind == "deconv")
    return attrs, kernel, stride, dilate, pad, channels


def _side(draw, nd, least):
    top = 5 if nd < 3 else 3
    return tuple(draw(st.integers(max(1, lo), max(1, lo) + top - 1)) for lo in least)


def conv_sample(draw, dtype, backward=False):
    nd = _nd(draw)
    attrs, kernel, _, dilate, pad, c = _conv_attrs(draw, nd, "conv")
    _maybe(draw, attrs, "pad", pad, (0,) * nd)
    dk = [d * (k - 1) + 1 for d, k in zip(dilate, kernel)]
    spatial = _side(draw, nd, [k - 2 * q for k, q in zip(dk, pad)])
    n = draw(st.integers(1, 2))
    p = _Params(attrs, "conv")
    x = array(draw, dtype, (n, c) + spatial, "unit")
    w = array(draw, dtype, (attrs["num_filter"], c // p.num_group) + kernel, "unit")
    ins = [x, w] + ([] if p.no_bias else [array(draw, dtype, (attrs["num_filter"],), "unit")])
    if backward:
        dy = array(draw, dtype, (n, attrs["num_filter"]) + R.conv_out_dims(p, spatial), "unit")
        return attrs, [dy, x, w]
    return attrs, ins


def deconv_sample(draw, dtype, backward=False):
    nd = _nd(draw)
    attrs, kernel, stride, dilate, _, c = _conv_attrs(draw, nd, "deconv")
    n = draw(st.integers(1, 2))
    spatial = _side(draw, nd, [1] * nd)
    full = [s * (x - 1) + d * (k - 1) + 1 for s, x, d, k in zip(stride, spatial, dilate, kernel)]
    if draw(st.integers(0, 3)) == 0:               # target_shape: any size the stride's adj can reach
        target = tuple(draw(st.sampled_from([t for t in range(1, f + 1) if (f - t) % 2 <= s - 1]))
                       for f, s in zip(full, stride))
        attrs["target_shape"] = target
    else:
        pad = tuple(draw(st.integers(0, (f - 1) // 2)) for f in full)
        adj = tuple(draw(st.integers(0, s - 1)) for s in stride)
        _maybe(draw, attrs, "pad", pad, (0,) * nd)
        _maybe(draw, attrs, "adj", adj, (0,) * nd)
    p = _Params(attrs, "deconv")
    f = attrs["num_filter"]
    x = array(draw, dtype, (n, c) + spatial, "unit")
    w = array(draw, dtype, (c, f // p.num_group) + kernel, "unit")
    ins = [x, w] + ([] if p.no_bias else [array(draw, dtype, (f,), "unit")])
    if backward:
        dy = array(draw, dtype, (n, f) + R.deconv_out_dims(p, spatial), "unit")
        return attrs, [dy, x, w]
    return attrs, ins


class _Params:
    """The few parsed values the samplers need (the registry parses the real params in the tests)."""

    def __init__(self, attrs, kind):
        self.kernel = attrs.get("kernel", ())
        self.stride, self.dilate = attrs.get("stride", ()), attrs.get("dilate", ())
        self.pad, self.adj = attrs.get("pad", ()), attrs.get("adj", ())
        self.target_shape = attrs.get("target_shape", ())
        self.num_group = attrs.get("num_group", 1)
        self.no_bias = attrs.get("no_bias", kind == "deconv")
        self.global_pool = attrs.get("global_pool", False)
        self.pooling_convention = attrs.get("pooling_convention", "valid")
        self.pool_type = attrs.get("pool_type", "max")
        self.p_value = attrs.get("p_value")
        self.count_include_pad = attrs.get("count_include_pad")


def _distinct(draw, dtype, shape, positive):
    """Distinct values k/4 (exact in float16): a shuffled grid, away from 0 (and > 0 when positive)."""
    size = int(np.prod(shape))
    order = np.array(draw(st.permutations(range(size))), np.float64)
    values = (order + 1) / 4 if positive else (order - size / 2 + 0.5) / 4
    return values.reshape(shape).astype(dtype)


def pool_sample(draw, dtype, backward=False):
    nd = _nd(draw)
    pool_type = draw(st.sampled_from(["max", "avg", "sum", "lp"]))
    attrs = {"pool_type": pool_type} if pool_type != "max" or draw(st.booleans()) else {}
    if pool_type == "lp":
        attrs["p_value"] = draw(st.integers(1, 3))
    if pool_type == "avg" and draw(st.booleans()):
        attrs["count_include_pad"] = draw(st.booleans())
    if draw(st.integers(0, 4)) == 0:
        attrs["global_pool"] = True
        spatial = _side(draw, nd, [1] * nd)
        if draw(st.booleans()):
            attrs["kernel"] = (1,) * nd          # ignored
    else:
        # Windows never empty: pad < kernel, and for `full` a stride that cannot skip past the input.
        conventions = ["valid", "full"] + (["same"] if nd == 1 else [])
        convention = draw(st.sampled_from(conventions))
        kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
        pad = tuple(0 if convention == "same" else draw(st.integers(0, k - 1)) for k in kernel)
        top = [k - q if convention == "full" else 3 for k, q in zip(kernel, pad)]
        stride = tuple(draw(st.integers(1, t)) for t in top)
        attrs["kernel"] = kernel
        _maybe(draw, attrs, "stride", stride, (1,) * nd)
        _maybe(draw, attrs, "pad", pad, (0,) * nd)
        _maybe(draw, attrs, "pooling_convention", convention, "valid")
        spatial = _side(draw, nd, [k - 2 * q for k, q in zip(kernel, pad)])
    x = _distinct(draw, dtype, (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial, pool_type == "lp")
    if not backward:
        return attrs, [x]
    p = _Params(attrs, "pool")
    y = R.pooling(p, x)
    y = y[0] if isinstance(y, tuple) else y         # the visible output (max pooling also has a hidden one)
    dy = array(draw, dtype, y.shape, "unit")
    return attrs, [dy, x, y]


def _backward(sample):
    return lambda draw, dtype: sample(draw, dtype, backward=True)


# ---------------------------------------------------------------------------------------------------------------
# Golden shapes (MXNet 1.9.1 unless marked ours)
# ---------------------------------------------------------------------------------------------------------------

def _conv(**kw):
    return dict(kernel=(3, 3), num_filter=4, **kw)


_CONV_SHAPES = (
    Shp(_conv(), ((2, 3, 7, 7), None, None), ((2, 4, 5, 5),), want_ins=((2, 3, 7, 7), (4, 3, 3, 3), (4,))),
    Shp(_conv(stride=(2, 2), pad=(1, 1), dilate=(2, 2)), ((2, 3, 7, 7), None, None), ((2, 4, 3, 3),),
        want_ins=((2, 3, 7, 7), (4, 3, 3, 3), (4,))),
    Shp(dict(kernel=(3,), num_filter=4, stride=(2,), pad=(1,)), ((2, 3, 7), None, None), ((2, 4, 4),),
        want_ins=((2, 3, 7), (4, 3, 3), (4,))),
    Shp(dict(kernel=(3, 3), num_filter=6, num_group=2, no_bias=True), ((2, 4, 7, 7), None), ((2, 6, 5, 5),),
        want_ins=((2, 4, 7, 7), (6, 2, 3, 3))),
    Shp(dict(kernel=(3, 3, 3), num_filter=6), ((2, 4, 5, 7, 7), None, None), ((2, 6, 3, 5, 5),),
        want_ins=((2, 4, 5, 7, 7), (6, 4, 3, 3, 3), (6,))),
    Shp(dict(kernel=(3, 3), num_filter=6, stride=(3, 3)), ((2, 4, 8, 8), None, None), ((2, 6, 2, 2),),
        want_ins=((2, 4, 8, 8), (6, 4, 3, 3), (6,))),
    Shp(dict(kernel=(3, 3), num_filter=6, layout="NCHW"), ((2, 4, 7, 7), None, None), ((2, 6, 5, 5),),
        want_ins=((2, 4, 7, 7), (6, 4, 3, 3), (6,))),
    # ours: data filled back from the output (batch, unit-stride dims) and the weight (channels)
    Shp(_conv(pad=(1, 1)), (None, (4, 3, 3, 3), None), ((2, 4, 5, 5),), outs=((2, 4, 5, 5),),
        want_ins=((2, 3, 5, 5), (4, 3, 3, 3), (4,))),
    Shp(_conv(stride=(2, 1)), ((0, 3, 0, 0), None, None), ((2, 4, 0, 5),), outs=((2, 4, 0, 5),),
        want_ins=((2, 3, 0, 7), (4, 3, 3, 3), (4,))),
)

_DECONV_SHAPES = (
    Shp(dict(kernel=(3, 3), num_filter=5), ((2, 3, 4, 4), None), ((2, 5, 6, 6),),
        want_ins=((2, 3, 4, 4), (3, 5, 3, 3))),
    Shp(dict(kernel=(3, 3), num_filter=5, no_bias=False), ((2, 3, 4, 4), None, None), ((2, 5, 6, 6),),
        want_ins=((2, 3, 4, 4), (3, 5, 3, 3), (5,))),
    Shp(dict(kernel=(3, 3), num_filter=5, stride=(2, 2), pad=(1, 1), adj=(1, 1)), ((2, 3, 4, 4), None),
        ((2, 5, 8, 8),), want_ins=((2, 3, 4, 4), (3, 5, 3, 3))),
    Shp(dict(kernel=(3, 3), num_filter=5, stride=(2, 2), target_shape=(8, 8)), ((2, 3, 4, 4), None),
        ((2, 5, 8, 8),), want_ins=((2, 3, 4, 4), (3, 5, 3, 3))),
    Shp(dict(kernel=(3, 3), num_filter=5, stride=(2, 2), target_shape=(9, 8)), ((2, 3, 4, 4), None),
        ((2, 5, 9, 8),), want_ins=((2, 3, 4, 4), (3, 5, 3, 3))),
    Shp(dict(kernel=(3, 3), num_filter=5, stride=(2, 2), pad=(1, 1), target_shape=(8, 8)), ((2, 3, 4, 4), None),
        ((2, 5, 8, 8),), want_ins=((2, 3, 4, 4), (3, 5, 3, 3))),
    Shp(dict(kernel=(3, 3), num_filter=5, stride=(2, 2), target_shape=(3, 3)), ((2, 3, 4, 4), None),
        ((2, 5, 3, 3),), want_ins=((2, 3, 4, 4), (3, 5, 3, 3))),
    Shp(dict(kernel=(3, 3), num_filter=6, num_group=2, dilate=(2, 2)), ((2, 4, 4, 4), None), ((2, 6, 8, 8),),
        want_ins=((2, 4, 4, 4), (4, 3, 3, 3))),
    Shp(dict(kernel=(3,), num_filter=6, stride=(3,), adj=(2,)), ((2, 4, 4), None), ((2, 6, 14),),
        want_ins=((2, 4, 4), (4, 6, 3))),
    Shp(dict(kernel=(3, 3, 3), num_filter=6, stride=(2, 2, 2), target_shape=(9, 9, 9)), ((2, 4, 4, 4, 4), None),
        ((2, 6, 9, 9, 9),), want_ins=((2, 4, 4, 4, 4), (4, 6, 3, 3, 3))),
    # ours: data filled back from the output where the stride divides exactly
    Shp(dict(kernel=(3,), num_filter=6, stride=(3,), adj=(2,)), (None, (4, 6, 3)), ((2, 6, 14),),
        outs=((2, 6, 14),), want_ins=((2, 4, 4), (4, 6, 3))),
)

_POOL_SHAPES = tuple(Shp(attrs, (data,), (out,)) for data, attrs, out in [
    ((2, 3, 7, 7), dict(kernel=(3, 3)), (2, 3, 5, 5)),
    ((2, 3, 7, 7), dict(kernel=(3, 3), stride=(2, 2)), (2, 3, 3, 3)),
    ((2, 3, 7, 7), dict(kernel=(3, 3), stride=(2, 2), pooling_convention="full"), (2, 3, 3, 3)),
    ((2, 3, 8, 8), dict(kernel=(3, 3), stride=(2, 2), pooling_convention="full"), (2, 3, 4, 4)),
    ((2, 3, 8), dict(kernel=(3,), stride=(2,), pad=(1,)), (2, 3, 4)),
    ((2, 3, 8), dict(kernel=(3,), stride=(2,), pad=(1,), pooling_convention="full"), (2, 3, 5)),
    ((2, 3, 5), dict(kernel=(1,), stride=(3,), pooling_convention="full"), (2, 3, 3)),
    ((2, 3, 7, 7), dict(kernel=(3, 3), global_pool=True), (2, 3, 1, 1)),
    ((2, 3, 7, 7), dict(global_pool=True), (2, 3, 1, 1)),
    ((2, 3, 7), dict(global_pool=True), (2, 3, 1)),
    ((2, 3, 7, 7, 7), dict(global_pool=True, pool_type="avg"), (2, 3, 1, 1, 1)),
    ((2, 3, 7, 7), dict(global_pool=True, pooling_convention="full", pad=(1, 1)), (2, 3, 1, 1)),
    ((2, 3, 7, 7), dict(kernel=(8, 8), pad=(1, 1)), (2, 3, 2, 2)),
    ((2, 3, 7, 7), dict(kernel=(3, 3), pad=(2, 2)), (2, 3, 9, 9)),
    ((2, 3, 7, 7), dict(kernel=(3, 3), pad=(3, 3)), (2, 3, 11, 11)),
    ((2, 3, 7, 7, 7), dict(kernel=(3, 3, 3), stride=(2, 2, 2), pooling_convention="full"), (2, 3, 3, 3, 3)),
    ((2, 3, 7, 7), dict(kernel=(3, 3), pool_type="lp", p_value=2), (2, 3, 5, 5)),
    # MXNet 1.9.1 computes `same` only when given pad=(0, 0, 0) (pad=() trips an index check); ours takes both
    ((2, 3, 5), dict(kernel=(3,), stride=(2,), pooling_convention="same"), (2, 3, 3)),
]) + (
    # ours: batch and channels filled back from the output, spatial dims where the stride is 1
    Shp(dict(kernel=(3, 3), pad=(1, 1)), (None,), ((2, 3, 7, 7),), outs=((2, 3, 7, 7),), want_ins=((2, 3, 7, 7),)),
    Shp(dict(global_pool=True), (None,), ((2, 3, 1, 1),), outs=((2, 3, 1, 1),), want_ins=((2, 3, 0, 0),)),
)

_CONV_BWD_SHAPES = (   # ours: gradients shaped like the forward inputs
    Shp(_conv(), ((2, 4, 5, 5), (2, 3, 7, 7), None), ((2, 3, 7, 7), (4, 3, 3, 3), (4,)),
        want_ins=((2, 4, 5, 5), (2, 3, 7, 7), (4, 3, 3, 3))),
    Shp(dict(kernel=(3,), num_filter=4, no_bias=True), (None, (2, 3, 7), (4, 3, 3)), ((2, 3, 7), (4, 3, 3)),
        want_ins=((2, 4, 5), (2, 3, 7), (4, 3, 3))),
)
_DECONV_BWD_SHAPES = (
    Shp(dict(kernel=(3, 3), num_filter=5, stride=(2, 2), target_shape=(8, 8)), (None, (2, 3, 4, 4), None),
        ((2, 3, 4, 4), (3, 5, 3, 3)), want_ins=((2, 5, 8, 8), (2, 3, 4, 4), (3, 5, 3, 3))),
)
_POOL_BWD_SHAPES = (
    Shp(dict(kernel=(2, 2), stride=(2, 2)), (None, (2, 3, 6, 6), None), ((2, 3, 6, 6),),
        want_ins=((2, 3, 3, 3), (2, 3, 6, 6), (2, 3, 3, 3))),
)

# ---------------------------------------------------------------------------------------------------------------
# Error cases (messages: MXNet's facts, our words)
# ---------------------------------------------------------------------------------------------------------------

_D = ((1, 2, 5, 5), None, None)
_CONV_ERRORS = (
    Err(_conv(), ((1, 2, 2, 5), None, None), match=r"kernel size exceeds input.*\[1,2,2,5\]"),
    Err(dict(kernel=(3, 3), num_filter=4, dilate=(3, 1)), _D, match=r"dilated kernel 7 > 5"),
    Err(_conv(layout="NHWC"), _D, match=r"layout=NHWC.*not supported"),
    Err(_conv(layout="NCW"), _D, match=r"layout=NCW does not match a 2-D kernel"),
    Err(_conv(layout="HWCN"), exc=ParamError, match=r"HWCN.*layout"),
    Err({"kernel": (3, 3)}, exc=ParamError, match=r"num_filter.*missing"),
    Err({"num_filter": 4}, exc=ParamError, match=r"kernel.*missing"),
    Err(_conv(num_group=2), ((1, 3, 5, 5), None, None), match=r"channels 3 .*\[1,3,5,5\].*num_group=2"),
    Err(dict(kernel=(3, 3), num_filter=3, num_group=2), _D, match=r"num_filter=3 .*num_group=2"),
    Err(dict(kernel=(3, 3), num_filter=0), _D, match=r"num_filter must be >= 1"),
    Err(_conv(stride=(2,)), _D, match=r"stride=\(2,\).*kernel=\(3, 3\)"),
    Err(_conv(pad=(1,)), _D, match=r"pad=\(1,\).*kernel=\(3, 3\)"),
    Err(dict(kernel=(0, 3), num_filter=4), _D, match=r"incorrect kernel size.*\(0, 3\)"),
    Err(_conv(stride=(0, 1)), _D, match=r"stride=\(0, 1\)"),
    Err(dict(kernel=(3,), num_filter=4), _D, match=r"data should be 3D.*\[1,2,5,5\]"),
    Err(dict(kernel=(3, 3, 3, 3), num_filter=4), match=r"kernel=\(3, 3, 3, 3\) must have 1, 2 or 3 dims"),
    Err(_conv(), **_BAD_INT),
)

_DECONV_ERRORS = (
    Err(dict(kernel=(3, 3), num_filter=5, stride=(2, 2), pad=(1, 1), adj=(2, 2)), ((2, 3, 4, 4), None),
        match=r"adj=\(2, 2\).*stride=\(2, 2\)"),
    Err(dict(kernel=(3, 3), num_filter=5, stride=(2, 2), target_shape=(20, 20)), ((2, 3, 4, 4), None),
        match=r"target_shape=\(20, 20\) is too big.*at most 9"),
    Err(dict(kernel=(3, 3), num_filter=5, target_shape=(5, 5)), ((2, 3, 4, 4), None),
        match=r"target_shape=\(5, 5\) cannot be reached with stride=\(1, 1\)"),
    Err(dict(kernel=(3, 3), num_filter=5, stride=(2, 2), target_shape=(8,)), ((2, 3, 4, 4), None),
        match=r"target_shape=\(8,\).*kernel=\(3, 3\)"),
    Err(dict(kernel=(3, 3), num_filter=5, stride=(2, 2), target_shape=(0, 8)), ((2, 3, 4, 4), None),
        match=r"target_shape=\(0, 8\) must be all positive"),
    Err(dict(kernel=(3,), num_filter=6, pad=(5,)), ((2, 4, 4), None), match=r"output size -4 .*pad=\(5,\)"),
    Err(dict(kernel=(3, 3), num_filter=4, num_group=2), ((2, 3, 4, 4), None),
        match=r"channels 3 .*num_group=2"),
    Err(dict(kernel=(3, 3), num_filter=5, num_group=2), ((2, 4, 4, 4), None), match=r"num_filter=5 .*num_group=2"),
    Err(dict(kernel=(3, 3), num_filter=6, layout="NHWC"), ((2, 4, 4, 4), None), match=r"layout=NHWC"),
    Err({"kernel": (3, 3)}, exc=ParamError, match=r"num_filter.*missing"),
    Err(dict(kernel=(3, 3), num_filter=2), dtypes=("int32", None), exc=DTypeError, match="int32"),
)

_POOL_ERRORS = (
    Err(dict(kernel=(8, 8)), ((2, 3, 7, 7),), match=r"kernel size \(8\) exceeds input \(7 padded to 7\)"),
    Err({}, ((2, 3, 7, 7),), match=r"kernel is required unless global_pool"),
    Err(dict(kernel=(3,)), ((2, 3, 7, 7),), match=r"data should be 3D.*\[2,3,7,7\]"),
    Err(dict(kernel=(3, 3), stride=(2,)), ((2, 3, 7, 7),), match=r"stride=\(2,\)"),
    Err(dict(kernel=(3, 3), layout="NCW"), ((2, 3, 7, 7),), match=r"layout=NCW does not match a 2-D kernel"),
    Err(dict(kernel=(3, 3), pool_type="lp"), ((2, 3, 7, 7),), match=r"p_value 1, 2 or 3, got p_value=None"),
    Err(dict(kernel=(3, 3), pool_type="lp", p_value=4), ((2, 3, 7, 7),), match=r"p_value=4"),
    Err(dict(kernel=(3, 3), stride=(2, 2), pooling_convention="same"), ((2, 3, 8, 8),),
        match=r"'same' supports 1-D pooling without pad"),
    Err(dict(kernel=(3,), pad=(1,), pooling_convention="same"), ((2, 3, 8),), match=r"pad=\(1,\)"),
    Err(dict(kernel=(3, 3), pool_type="median"), exc=ParamError, match=r"median.*pool_type"),
    Err(dict(kernel=(3, 3), count_include_pad="maybe"), exc=ParamError, match=r"maybe.*count_include_pad"),
    Err(dict(kernel=(0, 3)), ((2, 3, 7, 7),), match=r"incorrect kernel size"),
    Err(dict(global_pool=True), ((2, 3),), match=r"data should be 3D, 4D or 5D.*\[2,3\]"),
    Err(dict(kernel=(3, 3)), dtypes=("int32",), exc=DTypeError, match="int32"),
)

# ---------------------------------------------------------------------------------------------------------------
# The rows
# ---------------------------------------------------------------------------------------------------------------

def adaptive_pool_sample(draw, dtype, backward=False):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    size = draw(st.sampled_from([(), (1,), (2,), (3,), (2, 3), (5, 4), (7, 2)]))
    attrs = {"output_size": size} if size or draw(st.booleans()) else {}
    x = array(draw, dtype, shape)
    if not backward:
        return attrs, [x]
    oh, ow = (size[0], size[0]) if len(size) == 1 else size if len(size) == 2 else (1, 1)
    return attrs, [array(draw, dtype, shape[:2] + (oh, ow)), x]


SPECS = [
    OpSpec("Convolution", R.convolution, conv_sample, dtypes=FLOATS, aliases=("_npx_convolution",), tol=_TOL,
           grad=True,
           attrs=(({"kernel": "(3, 3)", "num_filter": "8", "no_bias": "True", "layout": "None",
                    "cudnn_tune": "None", "workspace": "1024", "cudnn_off": "False", "stride": "(2, 2)"},
                   {"kernel": (3, 3), "num_filter": 8, "no_bias": True, "layout": None, "cudnn_tune": None,
                    "workspace": 1024, "cudnn_off": False, "stride": (2, 2), "pad": (), "num_group": 1}),
                  ({"kernel": "[3]", "num_filter": "2", "layout": "NCW", "cudnn_tune": "fastest"},
                   {"kernel": (3,), "layout": "NCW", "cudnn_tune": "fastest"})),
           errors=_CONV_ERRORS, shapes=_CONV_SHAPES),
    OpSpec("_backward_Convolution", R.backward_convolution, _backward(conv_sample), dtypes=FLOATS, tol=_TOL,
           shapes=_CONV_BWD_SHAPES),
    OpSpec("Deconvolution", R.deconvolution, deconv_sample, dtypes=FLOATS, aliases=("_npx_deconvolution",),
           tol=_TOL, grad=True,
           attrs=(({"kernel": "(4, 4)", "num_filter": "3", "stride": "(2, 2)", "target_shape": "(8, 8)",
                    "adj": "()"},
                   {"kernel": (4, 4), "num_filter": 3, "no_bias": True, "workspace": 512,
                    "target_shape": (8, 8), "adj": ()}),),
           errors=_DECONV_ERRORS, shapes=_DECONV_SHAPES),
    OpSpec("_backward_Deconvolution", R.backward_deconvolution, _backward(deconv_sample), dtypes=FLOATS,
           tol=_TOL, shapes=_DECONV_BWD_SHAPES),
    OpSpec("Pooling", R.pooling, pool_sample, dtypes=FLOATS, aliases=("_npx_pooling",), grad=True,
           tol={"float32": (1e-6, 1e-6), "float16": (2e-3, 2e-3)},
           attrs=(({"kernel": "(2, 2)", "pool_type": "avg", "count_include_pad": "False", "p_value": "None",
                    "pooling_convention": "full", "global_pool": "0"},
                   {"kernel": (2, 2), "pool_type": "avg", "count_include_pad": False, "p_value": None,
                    "pooling_convention": "full", "global_pool": False, "stride": (), "layout": None}),
                  ({"kernel": "(3,)", "count_include_pad": "None", "p_value": "2", "pool_type": "lp"},
                   {"count_include_pad": None, "p_value": 2, "pool_type": "lp"})),
           errors=_POOL_ERRORS, shapes=_POOL_SHAPES),
    OpSpec("_backward_Pooling", R.backward_pooling, _backward(pool_sample), dtypes=FLOATS,
           tol={"float32": (1e-6, 1e-6), "float16": (2e-3, 2e-3)}, shapes=_POOL_BWD_SHAPES),
    # golden shapes from MXNet 1.9.1: () and a 3-tuple give 1x1; the values are checked against its fixture in
    # tests/test_new_ops.py
    OpSpec("_contrib_AdaptiveAvgPooling2D", R.adaptive_avg_pooling, adaptive_pool_sample, dtypes=FLOATS, grad=True,
           attrs=(({"output_size": "2"}, {"output_size": (2,)}), ({"output_size": "(2, 3)"}, {"output_size": (2, 3)})),
           errors=(Err({}, ((2, 3, 4),), match=r"4-D.*\[2,3,4\]"),
                   Err({}, dtypes=("int32",), exc=DTypeError, match="int32")),
           shapes=(Shp({}, ((2, 1, 5, 7),), ((2, 1, 1, 1),)), Shp({"output_size": 3}, ((2, 1, 5, 7),), ((2, 1, 3, 3),)),
                   Shp({"output_size": (2, 3)}, ((2, 1, 5, 7),), ((2, 1, 2, 3),)),
                   Shp({"output_size": (2, 3, 4)}, ((2, 1, 5, 7),), ((2, 1, 1, 1),)),
                   Shp({"output_size": (8, 9)}, ((2, 1, 5, 7),), ((2, 1, 8, 9),)))),
    OpSpec("_backward_contrib_AdaptiveAvgPooling2D", R.backward_adaptive_avg_pooling,
           _backward(adaptive_pool_sample), dtypes=FLOATS, tol={"float32": (1e-6, 1e-6), "float16": (2e-3, 2e-3)}),
]
