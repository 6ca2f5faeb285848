"""`DeformableConvolution` and `ModulatedDeformableConvolution` with MXNet's signatures.

Their ops (`_contrib_DeformableConvolution`, `_contrib_ModulatedDeformableConvolution`) are not in dataflow's
op library yet, so constructing either layer raises an MXNetError naming the missing op, rather than building a
block that would fail later, inside a forward pass. Once the op is registered the layer still refuses: its
parameters and forward are not written yet (the error then says so).
"""
from ops import registry
from ops.errors import MXNetError

from ...block import HybridBlock

__all__ = ["DeformableConvolution", "ModulatedDeformableConvolution"]


def _refuse(layer, op_name):
    if not registry.exists(op_name):
        raise MXNetError("gluon.contrib.cnn.%s needs the operator '%s', which dataflow does not provide "
                         "(mx.nd.contrib.%s does not exist)" % (layer, op_name, op_name[len("_contrib_"):]))
    raise MXNetError("gluon.contrib.cnn.%s is not implemented in dataflow (its operator '%s' is: "
                     "mx.nd.contrib.%s)" % (layer, op_name, op_name[len("_contrib_"):]))


class DeformableConvolution(HybridBlock):
    """2-D deformable convolution (Dai et al., 2017), MXNet's signature; not available (see the module doc)."""

    def __init__(self, channels, kernel_size=(1, 1), strides=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1,
                 num_deformable_group=1, layout="NCHW", use_bias=True, in_channels=0, activation=None,
                 weight_initializer=None, bias_initializer="zeros",
                 offset_weight_initializer="zeros", offset_bias_initializer="zeros", offset_use_bias=True,
                 op_name="DeformableConvolution", adj=None, prefix=None, params=None):
        _refuse(type(self).__name__, "_contrib_DeformableConvolution")


class ModulatedDeformableConvolution(HybridBlock):
    """2-D modulated deformable convolution (DCNv2), MXNet's signature; not available (see the module doc)."""

    def __init__(self, channels, kernel_size=(1, 1), strides=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1,
                 num_deformable_group=1, layout="NCHW", use_bias=True, in_channels=0, activation=None,
                 weight_initializer=None, bias_initializer="zeros",
                 offset_weight_initializer="zeros", offset_bias_initializer="zeros", offset_use_bias=True,
                 op_name="ModulatedDeformableConvolution", adj=None, prefix=None, params=None):
        _refuse(type(self).__name__, "_contrib_ModulatedDeformableConvolution")
