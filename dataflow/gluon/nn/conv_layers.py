"""Convolution and pooling layers: Conv1D/2D/3D, Conv1D/2D/3DTranspose, Max/AvgPool1D/2D/3D, the global
poolings, and ReflectionPad2D.

Constructors, defaults, op arguments (`kernel`, `stride`, `dilate`, `pad`, `num_filter`, `num_group`, `no_bias`,
`layout`; Pooling's `global_pool`, `pooling_convention` ...), block names (`conv0_`, `pool0_`) and `__repr__`
follow MXNet 1.9.1, so an exported net carries exactly MXNet's attributes. The weight's shape has 0 for the input
channels until the first forward infers them (deferred initialisation): `(channels, in_channels / groups,
*kernel)` for a convolution, `(in_channels, channels / groups, *kernel)` for a transposed one.
"""
from ops.errors import MXNetError

from ...base import numeric_types
from ...ndarray.ndarray import NDArray
from ..block import HybridBlock
from .activations import Activation

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
           "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
           "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D",
           "GlobalAvgPool3D", "ReflectionPad2D"]


def _tuple(value, n, what):
    """An int repeated n times, or the given sequence (checked to have n entries)."""
    if isinstance(value, numeric_types):
        return (value,) * n
    assert len(value) == n, "%s must be a number or a list of %d ints" % (what, n)
    return value


def _check_rank(block, x, ndim):
    """A readable error naming the layer when an NDArray input has the wrong rank for it."""
    if isinstance(x, NDArray) and x.ndim != ndim + 2:
        raise MXNetError("%s (%s): expected a %d-D input (batch, channel and %d spatial dims, layout %s), got "
                         "shape %s" % (block.name, type(block).__name__, ndim + 2, ndim, block._kwargs["layout"],
                                       tuple(x.shape)))


def _weight_shape(op_name, layout, channels, in_channels, groups, kernel):
    """The weight shape MXNet infers for this layer (0 where in_channels is still unknown)."""
    kernel = tuple(kernel)
    channel_last = layout.find("C") == len(layout) - 1
    if op_name == "Convolution":
        inner = in_channels // groups
        return (channels,) + (kernel + (inner,) if channel_last else (inner,) + kernel)
    inner = channels // groups
    return (in_channels,) + (kernel + (inner,) if channel_last else (inner,) + kernel)


class _Conv(HybridBlock):
    """The body of every (transposed) convolution layer: op `Convolution` or `Deconvolution`."""

    def __init__(self, channels, kernel_size, strides, padding, dilation, groups, layout, in_channels=0,
                 activation=None, use_bias=True, weight_initializer=None, bias_initializer="zeros",
                 op_name="Convolution", adj=None, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        with self.name_scope():
            self._channels = channels
            self._in_channels = in_channels
            n = len(kernel_size)
            strides = (strides,) * n if isinstance(strides, numeric_types) else strides
            padding = (padding,) * n if isinstance(padding, numeric_types) else padding
            dilation = (dilation,) * n if isinstance(dilation, numeric_types) else dilation
            self._op_name = op_name
            self._kwargs = {"kernel": kernel_size, "stride": strides, "dilate": dilation, "pad": padding,
                            "num_filter": channels, "num_group": groups, "no_bias": not use_bias, "layout": layout}
            if adj is not None:
                self._kwargs["adj"] = adj
            wshape = _weight_shape(op_name, layout, channels, in_channels, groups, kernel_size)
            self.weight = self.params.get("weight", shape=wshape, init=weight_initializer,
                                          allow_deferred_init=True)
            if use_bias:
                self.bias = self.params.get("bias", shape=(channels,), init=bias_initializer,
                                            allow_deferred_init=True)
            else:
                self.bias = None
            self.act = Activation(activation, prefix=activation + "_") if activation is not None else None

    def _alias(self):
        return "conv"

    def hybrid_forward(self, F, x, weight, bias=None):
        _check_rank(self, x, len(self._kwargs["kernel"]))
        op = getattr(F, self._op_name)
        if bias is None:
            act = op(x, weight, name="fwd", **self._kwargs)
        else:
            act = op(x, weight, bias, name="fwd", **self._kwargs)
        if self.act is not None:
            act = self.act(act)
        return act

    def __repr__(self):
        kw = self._kwargs
        n = len(kw["kernel"])
        s = "%s(%s -> %s, kernel_size=%s, stride=%s" % (type(self).__name__, self.weight.shape[1] or None,
                                                         self.weight.shape[0], kw["kernel"], kw["stride"])
        if kw["pad"] != (0,) * n:
            s += ", padding=%s" % (kw["pad"],)
        if kw["dilate"] != (1,) * n:
            s += ", dilation=%s" % (kw["dilate"],)
        # MXNet 1.9.1 looks for `out_pad` but stores `outpad`, so output_padding is never printed
        if kw["num_group"] != 1:
            s += ", groups=%s" % kw["num_group"]
        if self.bias is None:
            s += ", bias=False"
        if self.act:
            s += ", %s" % self.act
        return s + ")"


class Conv1D(_Conv):
    """1-D convolution over NCW input: `out = activation(conv(x, weight) + bias)`.

    Parameters
    ----------
    channels : int, the number of output channels (filters)
    kernel_size : int or tuple of 1 int
    strides, padding, dilation : int or tuple of 1 int
    groups : int, the number of channel groups
    layout : str, 'NCW'
    activation : str, optional, an Activation applied to the output
    use_bias : bool
    weight_initializer, bias_initializer : Initializer or str
    in_channels : int, default 0 (inferred at the first forward)
    """

    def __init__(self, channels, kernel_size, strides=1, padding=0, dilation=1, groups=1, layout="NCW",
                 activation=None, use_bias=True, weight_initializer=None, bias_initializer="zeros", in_channels=0,
                 **kwargs):
        assert layout == "NCW", "Only supports 'NCW' layout for now"
        kernel_size = _tuple(kernel_size, 1, "kernel_size")
        op_name = kwargs.pop("op_name", "Convolution")
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout, in_channels,
                         activation, use_bias, weight_initializer, bias_initializer, op_name, **kwargs)


class Conv2D(_Conv):
    """2-D convolution over NCHW input: `out = activation(conv(x, weight) + bias)`.

    Parameters are Conv1D's, with 2-tuples and layout 'NCHW' ('NHWC' is accepted, but the CPU ops run only the
    channel-first layouts).

    Examples
    --------
    >>> import dataflow as mx
    >>> with mx.name.NameManager():
    ...     conv = mx.gluon.nn.Conv2D(8, 3, padding=1)
    >>> conv
    Conv2D(None -> 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    >>> conv.weight.shape
    (8, 0, 3, 3)
    >>> conv.initialize()
    >>> conv(mx.nd.zeros((1, 3, 5, 5))).shape
    (1, 8, 5, 5)
    >>> conv.weight.shape
    (8, 3, 3, 3)
    """

    def __init__(self, channels, kernel_size, strides=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1,
                 layout="NCHW", activation=None, use_bias=True, weight_initializer=None, bias_initializer="zeros",
                 in_channels=0, **kwargs):
        assert layout in ("NCHW", "NHWC"), "Only supports 'NCHW' and 'NHWC' layout for now"
        kernel_size = _tuple(kernel_size, 2, "kernel_size")
        op_name = kwargs.pop("op_name", "Convolution")
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout, in_channels,
                         activation, use_bias, weight_initializer, bias_initializer, op_name, **kwargs)


class Conv3D(_Conv):
    """3-D convolution over NCDHW input; parameters are Conv1D's, with 3-tuples."""

    def __init__(self, channels, kernel_size, strides=(1, 1, 1), padding=(0, 0, 0), dilation=(1, 1, 1),
                 groups=1, layout="NCDHW", activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", in_channels=0, **kwargs):
        assert layout in ("NCDHW", "NDHWC"), "Only supports 'NCDHW' and 'NDHWC' layout for now"
        kernel_size = _tuple(kernel_size, 3, "kernel_size")
        op_name = kwargs.pop("op_name", "Convolution")
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout, in_channels,
                         activation, use_bias, weight_initializer, bias_initializer, op_name, **kwargs)


class Conv1DTranspose(_Conv):
    """1-D transposed convolution (op `Deconvolution`) over NCW input; `output_padding` adds to one side of the
    output. Other parameters are Conv1D's."""

    def __init__(self, channels, kernel_size, strides=1, padding=0, output_padding=0, dilation=1, groups=1,
                 layout="NCW", activation=None, use_bias=True, weight_initializer=None, bias_initializer="zeros",
                 in_channels=0, **kwargs):
        assert layout == "NCW", "Only supports 'NCW' layout for now"
        kernel_size = _tuple(kernel_size, 1, "kernel_size")
        output_padding = _tuple(output_padding, 1, "output_padding")
        op_name = kwargs.pop("op_name", "Deconvolution")
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout, in_channels,
                         activation, use_bias, weight_initializer, bias_initializer, op_name=op_name,
                         adj=output_padding, **kwargs)
        self.outpad = output_padding


class Conv2DTranspose(_Conv):
    """2-D transposed convolution (op `Deconvolution`) over NCHW input.

    Examples
    --------
    >>> import dataflow as mx
    >>> up = mx.gluon.nn.Conv2DTranspose(4, 3, strides=2, padding=1, output_padding=1, in_channels=2)
    >>> up.initialize()
    >>> up(mx.nd.zeros((1, 2, 5, 5))).shape
    (1, 4, 10, 10)
    """

    def __init__(self, channels, kernel_size, strides=(1, 1), padding=(0, 0), output_padding=(0, 0),
                 dilation=(1, 1), groups=1, layout="NCHW", activation=None, use_bias=True,
                 weight_initializer=None, bias_initializer="zeros", in_channels=0, **kwargs):
        assert layout in ("NCHW", "NHWC"), "Only supports 'NCHW' and 'NHWC' layout for now"
        kernel_size = _tuple(kernel_size, 2, "kernel_size")
        output_padding = _tuple(output_padding, 2, "output_padding")
        op_name = kwargs.pop("op_name", "Deconvolution")
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout, in_channels,
                         activation, use_bias, weight_initializer, bias_initializer, op_name=op_name,
                         adj=output_padding, **kwargs)
        self.outpad = output_padding


class Conv3DTranspose(_Conv):
    """3-D transposed convolution (op `Deconvolution`) over NCDHW input."""

    def __init__(self, channels, kernel_size, strides=(1, 1, 1), padding=(0, 0, 0), output_padding=(0, 0, 0),
                 dilation=(1, 1, 1), groups=1, layout="NCDHW", activation=None, use_bias=True,
                 weight_initializer=None, bias_initializer="zeros", in_channels=0, **kwargs):
        assert layout in ("NCDHW", "NDHWC"), "Only supports 'NCDHW' and 'NDHWC' layout for now"
        kernel_size = _tuple(kernel_size, 3, "kernel_size")
        output_padding = _tuple(output_padding, 3, "output_padding")
        op_name = kwargs.pop("op_name", "Deconvolution")
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout, in_channels,
                         activation, use_bias, weight_initializer, bias_initializer, op_name=op_name,
                         adj=output_padding, **kwargs)
        self.outpad = output_padding


# ---------------------------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------------------------


class _Pooling(HybridBlock):
    """The body of every pooling layer: op `Pooling` with MXNet's arguments (`ceil_mode` is
    `pooling_convention='full'`; the global poolings pass kernel 1 and `global_pool=True`)."""

    def __init__(self, pool_size, strides, padding, ceil_mode, global_pool, pool_type, layout,
                 count_include_pad=None, **kwargs):
        super().__init__(**kwargs)
        if strides is None:
            strides = pool_size
        if isinstance(strides, numeric_types):
            strides = (strides,) * len(pool_size)
        if isinstance(padding, numeric_types):
            padding = (padding,) * len(pool_size)
        self._kwargs = {"kernel": pool_size, "stride": strides, "pad": padding, "global_pool": global_pool,
                        "pool_type": pool_type, "layout": layout,
                        "pooling_convention": "full" if ceil_mode else "valid"}
        if count_include_pad is not None:
            self._kwargs["count_include_pad"] = count_include_pad

    def _alias(self):
        return "pool"

    def hybrid_forward(self, F, x):
        _check_rank(self, x, len(self._kwargs["kernel"]))
        return F.Pooling(x, name="fwd", **self._kwargs)

    def __repr__(self):
        kw = self._kwargs
        return ("%s(size=%s, stride=%s, padding=%s, ceil_mode=%s, global_pool=%s, pool_type=%s, layout=%s)"
                % (type(self).__name__, kw["kernel"], kw["stride"], kw["pad"], kw["pooling_convention"] == "full",
                   kw["global_pool"], kw["pool_type"], kw["layout"]))


_LAYOUTS = {1: ("NCW", "NWC"), 2: ("NCHW", "NHWC"), 3: ("NCDHW", "NDHWC")}


def _pool_args(pool_size, layout, n):
    assert layout in _LAYOUTS[n], "Only %s and %s layouts are valid for %dD Pooling" % (_LAYOUTS[n] + (n,))
    return _tuple(pool_size, n, "pool_size")


class MaxPool1D(_Pooling):
    """Max pooling over NCW input (`strides` defaults to `pool_size`; `ceil_mode` rounds the output size up)."""

    def __init__(self, pool_size=2, strides=None, padding=0, layout="NCW", ceil_mode=False, **kwargs):
        pool_size = _pool_args(pool_size, layout, 1)
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout, **kwargs)


class MaxPool2D(_Pooling):
    """Max pooling over NCHW input (`strides` defaults to `pool_size`; `ceil_mode` rounds the output size up).

    Examples
    --------
    >>> import dataflow as mx
    >>> pool = mx.gluon.nn.MaxPool2D(2)
    >>> pool(mx.nd.arange(16).reshape((1, 1, 4, 4))).asnumpy()
    array([[[[ 5.,  7.],
             [13., 15.]]]], dtype=float32)
    """

    def __init__(self, pool_size=(2, 2), strides=None, padding=0, layout="NCHW", ceil_mode=False, **kwargs):
        pool_size = _pool_args(pool_size, layout, 2)
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout, **kwargs)


class MaxPool3D(_Pooling):
    """Max pooling over NCDHW input."""

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding=0, ceil_mode=False, layout="NCDHW", **kwargs):
        pool_size = _pool_args(pool_size, layout, 3)
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout, **kwargs)


class AvgPool1D(_Pooling):
    """Average pooling over NCW input; `count_include_pad` counts the padding in the divisor."""

    def __init__(self, pool_size=2, strides=None, padding=0, layout="NCW", ceil_mode=False,
                 count_include_pad=True, **kwargs):
        pool_size = _pool_args(pool_size, layout, 1)
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout, count_include_pad,
                         **kwargs)


class AvgPool2D(_Pooling):
    """Average pooling over NCHW input; `count_include_pad` counts the padding in the divisor."""

    def __init__(self, pool_size=(2, 2), strides=None, padding=0, ceil_mode=False, layout="NCHW",
                 count_include_pad=True, **kwargs):
        pool_size = _pool_args(pool_size, layout, 2)
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout, count_include_pad,
                         **kwargs)


class AvgPool3D(_Pooling):
    """Average pooling over NCDHW input; `count_include_pad` counts the padding in the divisor."""

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding=0, ceil_mode=False, layout="NCDHW",
                 count_include_pad=True, **kwargs):
        pool_size = _pool_args(pool_size, layout, 3)
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout, count_include_pad,
                         **kwargs)


class GlobalMaxPool1D(_Pooling):
    """Max over the whole width: (N, C, W) -> (N, C, 1)."""

    def __init__(self, layout="NCW", **kwargs):
        _pool_args(1, layout, 1)
        super().__init__((1,), None, 0, True, True, "max", layout, **kwargs)


class GlobalMaxPool2D(_Pooling):
    """Max over the whole feature map: (N, C, H, W) -> (N, C, 1, 1)."""

    def __init__(self, layout="NCHW", **kwargs):
        _pool_args(1, layout, 2)
        super().__init__((1, 1), None, 0, True, True, "max", layout, **kwargs)


class GlobalMaxPool3D(_Pooling):
    """Max over the whole volume: (N, C, D, H, W) -> (N, C, 1, 1, 1)."""

    def __init__(self, layout="NCDHW", **kwargs):
        _pool_args(1, layout, 3)
        super().__init__((1, 1, 1), None, 0, True, True, "max", layout, **kwargs)


class GlobalAvgPool1D(_Pooling):
    """Mean over the whole width: (N, C, W) -> (N, C, 1)."""

    def __init__(self, layout="NCW", **kwargs):
        _pool_args(1, layout, 1)
        super().__init__((1,), None, 0, True, True, "avg", layout, **kwargs)


class GlobalAvgPool2D(_Pooling):
    """Mean over the whole feature map: (N, C, H, W) -> (N, C, 1, 1).

    Examples
    --------
    >>> import dataflow as mx
    >>> mx.gluon.nn.GlobalAvgPool2D()(mx.nd.ones((2, 3, 4, 4))).shape
    (2, 3, 1, 1)
    """

    def __init__(self, layout="NCHW", **kwargs):
        _pool_args(1, layout, 2)
        super().__init__((1, 1), None, 0, True, True, "avg", layout, **kwargs)


class GlobalAvgPool3D(_Pooling):
    """Mean over the whole volume: (N, C, D, H, W) -> (N, C, 1, 1, 1)."""

    def __init__(self, layout="NCDHW", **kwargs):
        _pool_args(1, layout, 3)
        super().__init__((1, 1, 1), None, 0, True, True, "avg", layout, **kwargs)


class ReflectionPad2D(HybridBlock):
    """Pads the two spatial axes of NCHW input by reflecting it at the border (`padding` pixels each side, or
    a `pad_width` 8-tuple as `mx.nd.pad` takes it)."""

    def __init__(self, padding=0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, numeric_types):
            padding = (0, 0, 0, 0, padding, padding, padding, padding)
        assert len(padding) == 8
        self._padding = padding

    def hybrid_forward(self, F, x):
        return F.pad(x, mode="reflect", pad_width=self._padding)
