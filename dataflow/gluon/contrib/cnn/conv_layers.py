"""`DeformableConvolution` (DCNv1) and `ModulatedDeformableConvolution` (DCNv2) layers, MXNet 1.9.1's signatures.

Each layer is two convolutions: a plain `Convolution` computing the sampling offsets from the input (parameters
`offset_weight`, `offset_bias`, initialised to zeros, so an untrained layer starts as an ordinary convolution), and
the deformable one (`deformable_conv_weight`, `deformable_conv_bias`) sampling the input at the moved taps. The
modulated layer's offset convolution also yields one mask channel per tap, `2 * sigmoid`, that scales each sample.

As in MXNet, the deformable weight's input channels are always inferred at the first forward (its shape keeps a 0
even when `in_channels` is given), the offset convolution keeps `num_group=groups`, and the deformable op node is
named `fwd` (so an exported graph names it `<prefix>fwd`).
"""
from ...nn.activations import Activation
from ...nn.conv_layers import _tuple, _weight_shape
from ...block import HybridBlock

__all__ = ["DeformableConvolution", "ModulatedDeformableConvolution"]


class _Deformable(HybridBlock):
    """What both layers share: their arguments, the offset convolution and the deformable op's arguments.
    `offset_per_tap` is how many offset channels each kernel tap of each deformable group takes (2: dy, dx; the
    modulated layer adds its mask: 3); MXNet registers the modulated layer's parameters in a different order."""

    offset_per_tap = 2
    deformable_params_first = False

    def __init__(self, channels, kernel_size, strides, padding, dilation, groups, num_deformable_group, layout,
                 use_bias, in_channels, activation, weight_initializer, bias_initializer,
                 offset_weight_initializer, offset_bias_initializer, offset_use_bias, op_name, adj, prefix, params):
        super().__init__(prefix=prefix, params=params)
        assert layout in ("NCHW", "NHWC"), "Only supports 'NCHW' and 'NHWC' layout for now"
        with self.name_scope():
            self._channels = channels
            self._in_channels = in_channels
            kernel_size = _tuple(kernel_size, 2, "kernel_size")
            n = len(kernel_size)
            strides, padding, dilation = (_tuple(v, n, what) for v, what in
                                          ((strides, "strides"), (padding, "padding"), (dilation, "dilation")))
            self._op_name = op_name
            taps = kernel_size[0] * kernel_size[1]
            self.offset_split_index = num_deformable_group * 2 * taps
            offset_channels = num_deformable_group * self.offset_per_tap * taps
            common = {"kernel": kernel_size, "stride": strides, "dilate": dilation, "pad": padding}
            self._kwargs_offset = dict(common, num_filter=offset_channels, num_group=groups,
                                       no_bias=not offset_use_bias, layout=layout)
            self._kwargs_deformable_conv = dict(common, num_filter=channels, num_group=groups,
                                                num_deformable_group=num_deformable_group, no_bias=not use_bias,
                                                layout=layout)
            if adj:
                self._kwargs_offset["adj"] = adj
                self._kwargs_deformable_conv["adj"] = adj
            # the offset convolution's weight is what Convolution infers from data (1, in_channels, 0, 0)
            offset_shape = _weight_shape("Convolution", layout, offset_channels, in_channels, groups, kernel_size)
            # MXNet's, whatever the layout; a list, which an exported graph writes as "[6, 0, 3, 3]" as MXNet's
            deformable_shape = [channels, 0] + list(kernel_size)

            def deformable_params():
                self.deformable_conv_weight = self.params.get("deformable_conv_weight", shape=deformable_shape,
                                                              init=weight_initializer, allow_deferred_init=True)
                self.deformable_conv_bias = self.params.get(
                    "deformable_conv_bias", shape=(channels,), init=bias_initializer,
                    allow_deferred_init=True) if use_bias else None

            def offset_params():
                self.offset_weight = self.params.get("offset_weight", shape=offset_shape,
                                                     init=offset_weight_initializer, allow_deferred_init=True)
                self.offset_bias = self.params.get(
                    "offset_bias", shape=(offset_channels,), init=offset_bias_initializer,
                    allow_deferred_init=True) if offset_use_bias else None

            for register in ((deformable_params, offset_params) if self.deformable_params_first
                             else (offset_params, deformable_params)):
                register()
            self.act = Activation(activation, prefix=activation + "_") if activation else None

    def _offset(self, F, x, offset_weight, offset_bias):
        biases = [] if offset_bias is None else [offset_bias]
        return F.Convolution(x, offset_weight, *biases, cudnn_off=True, **self._kwargs_offset)

    def _finish(self, act):
        return self.act(act) if self.act else act


class DeformableConvolution(_Deformable):
    """2-D deformable convolution v1 (Dai et al., 2017): the taps of each output position are moved by offsets
    that a convolution of the same geometry learns from the input, and sampled bilinearly.

    Inputs: data (batch, in_channels, height, width). Output: (batch, channels, out_height, out_width), with
    out_height = floor((height + 2 * padding[0] - dilation[0] * (kernel_size[0] - 1) - 1) / stride[0]) + 1.
    """

    def __init__(self, channels, kernel_size=(1, 1), strides=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1,
                 num_deformable_group=1, layout="NCHW", use_bias=True, in_channels=0, activation=None,
                 weight_initializer=None, bias_initializer="zeros",
                 offset_weight_initializer="zeros", offset_bias_initializer="zeros", offset_use_bias=True,
                 op_name="DeformableConvolution", adj=None, prefix=None, params=None):
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, num_deformable_group, layout,
                         use_bias, in_channels, activation, weight_initializer, bias_initializer,
                         offset_weight_initializer, offset_bias_initializer, offset_use_bias, op_name, adj, prefix,
                         params)

    def hybrid_forward(self, F, x, offset_weight, deformable_conv_weight, offset_bias=None, deformable_conv_bias=None):
        offset = self._offset(F, x, offset_weight, offset_bias)
        bias = {} if deformable_conv_bias is None else {"bias": deformable_conv_bias}
        return self._finish(F.contrib.DeformableConvolution(data=x, offset=offset, weight=deformable_conv_weight,
                                                            name="fwd", **bias, **self._kwargs_deformable_conv))

    def _alias(self):
        return "deformable_conv"

    def __repr__(self):
        # MXNet gives only DCNv1 a repr of its own; DCNv2 prints as any block (its children)
        kw = self._kwargs_deformable_conv
        s = "{name}({mapping}, kernel_size={kernel}, stride={stride}"
        if kw["pad"] != (0,) * len(kw["kernel"]):
            s += ", padding={pad}"
        if kw["dilate"] != (1,) * len(kw["kernel"]):
            s += ", dilation={dilate}"
        if kw["num_group"] != 1:
            s += ", groups={num_group}"
        if self.deformable_conv_bias is None:
            s += ", bias=False"
        if self.act:
            s += ", {}".format(self.act)
        s += ")"
        shape = self.deformable_conv_weight.shape
        return s.format(name=type(self).__name__, mapping="{0} -> {1}".format(shape[1] if shape[1] else None,
                                                                                shape[0]), **kw)


class ModulatedDeformableConvolution(_Deformable):
    """2-D modulated deformable convolution v2 (Zhu et al., 2018, https://arxiv.org/abs/1811.11168): as
    DeformableConvolution, and each moved sample is scaled by a learned mask, 2 * sigmoid of the offset
    convolution's last num_deformable_group * kh * kw channels (1 for an untrained layer)."""

    offset_per_tap = 3
    deformable_params_first = True

    def __init__(self, channels, kernel_size=(1, 1), strides=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1,
                 num_deformable_group=1, layout="NCHW", use_bias=True, in_channels=0, activation=None,
                 weight_initializer=None, bias_initializer="zeros",
                 offset_weight_initializer="zeros", offset_bias_initializer="zeros", offset_use_bias=True,
                 op_name="ModulatedDeformableConvolution", adj=None, prefix=None, params=None):
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, num_deformable_group, layout,
                         use_bias, in_channels, activation, weight_initializer, bias_initializer,
                         offset_weight_initializer, offset_bias_initializer, offset_use_bias, op_name, adj, prefix,
                         params)

    def hybrid_forward(self, F, x, offset_weight, deformable_conv_weight, offset_bias=None, deformable_conv_bias=None):
        offset = self._offset(F, x, offset_weight, offset_bias)
        moves = F.slice_axis(offset, axis=1, begin=0, end=self.offset_split_index)
        mask = F.sigmoid(F.slice_axis(offset, axis=1, begin=self.offset_split_index, end=None)) * 2
        bias = {} if deformable_conv_bias is None else {"bias": deformable_conv_bias}
        return self._finish(F.contrib.ModulatedDeformableConvolution(
            data=x, offset=moves, mask=mask, weight=deformable_conv_weight, name="fwd", **bias,
            **self._kwargs_deformable_conv))

    def _alias(self):
        return "modulated_deformable_conv"
