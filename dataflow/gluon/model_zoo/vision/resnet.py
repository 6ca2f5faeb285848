"""ResNet V1 (He et al., 2015) and V2 with pre-activation (He et al., 2016), 18 to 152 layers.

Block layout and naming follow MXNet 1.9.1's model zoo exactly, so MXNet's parameter files load: the residual
blocks take `prefix=''` and create their layers without entering their own name scope, so a stage's layers are
numbered across its blocks (`resnetv10_stage1_conv0_` ... `resnetv10_stage1_conv3_`).
"""
from ....context import cpu
from ... import nn
from ...block import HybridBlock
from ..model_store import load_pretrained

__all__ = ["ResNetV1", "ResNetV2", "BasicBlockV1", "BasicBlockV2", "BottleneckV1", "BottleneckV2",
           "resnet18_v1", "resnet34_v1", "resnet50_v1", "resnet101_v1", "resnet152_v1",
           "resnet18_v2", "resnet34_v2", "resnet50_v2", "resnet101_v2", "resnet152_v2", "get_resnet"]


def _conv3x3(channels, stride, in_channels):
    return nn.Conv2D(channels, kernel_size=3, strides=stride, padding=1, use_bias=False, in_channels=in_channels)


def _projection_v1(channels, stride, in_channels):
    """The V1 shortcut when the shape changes: a strided 1x1 convolution and BatchNorm."""
    shortcut = nn.HybridSequential(prefix="")
    shortcut.add(nn.Conv2D(channels, kernel_size=1, strides=stride, use_bias=False, in_channels=in_channels))
    shortcut.add(nn.BatchNorm())
    return shortcut


class BasicBlockV1(HybridBlock):
    """Two 3x3 convolutions with BatchNorm; relu(body(x) + shortcut(x)). Used by resnet18/34 V1."""

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self.body = nn.HybridSequential(prefix="")
        self.body.add(_conv3x3(channels, stride, in_channels), nn.BatchNorm(), nn.Activation("relu"),
                      _conv3x3(channels, 1, channels), nn.BatchNorm())
        self.downsample = _projection_v1(channels, stride, in_channels) if downsample else None

    def hybrid_forward(self, F, x):
        shortcut = self.downsample(x) if self.downsample else x
        return F.Activation(shortcut + self.body(x), act_type="relu")


class BottleneckV1(HybridBlock):
    """1x1 (stride here) -> 3x3 -> 1x1 convolutions with BatchNorm, channels/4 inside. Used by resnet50+ V1."""

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        inner = channels // 4
        self.body = nn.HybridSequential(prefix="")
        self.body.add(nn.Conv2D(inner, kernel_size=1, strides=stride), nn.BatchNorm(), nn.Activation("relu"),
                      _conv3x3(inner, 1, inner), nn.BatchNorm(), nn.Activation("relu"),
                      nn.Conv2D(channels, kernel_size=1, strides=1), nn.BatchNorm())
        self.downsample = _projection_v1(channels, stride, in_channels) if downsample else None

    def hybrid_forward(self, F, x):
        shortcut = self.downsample(x) if self.downsample else x
        return F.Activation(self.body(x) + shortcut, act_type="relu")


class _PreActivationBlock(HybridBlock):
    """V2's forward: relu(bn1(x)) feeds conv1 and, when projected, the shortcut; each later conv sees relu(bn(.))
    of the previous output (`_later_layers`: its (bn, conv) pairs); the result is added to the shortcut."""

    def hybrid_forward(self, F, x):
        shortcut = x
        x = F.Activation(self.bn1(x), act_type="relu")
        if self.downsample:
            shortcut = self.downsample(x)
        x = self.conv1(x)
        for bn, conv in self._later_layers():
            x = conv(F.Activation(bn(x), act_type="relu"))
        return x + shortcut


class BasicBlockV2(_PreActivationBlock):
    """Pre-activation basic block: BN-relu-conv3x3 twice, plus the shortcut (from the activated input when it
    is projected). Used by resnet18/34 V2."""

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self.bn1 = nn.BatchNorm()
        self.conv1 = _conv3x3(channels, stride, in_channels)
        self.bn2 = nn.BatchNorm()
        self.conv2 = _conv3x3(channels, 1, channels)
        self.downsample = (nn.Conv2D(channels, 1, stride, use_bias=False, in_channels=in_channels)
                           if downsample else None)

    def _later_layers(self):
        return [(self.bn2, self.conv2)]


class BottleneckV2(_PreActivationBlock):
    """Pre-activation bottleneck: BN-relu before each of 1x1 -> 3x3 (stride here) -> 1x1. Used by resnet50+ V2."""

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        inner = channels // 4
        self.bn1 = nn.BatchNorm()
        self.conv1 = nn.Conv2D(inner, kernel_size=1, strides=1, use_bias=False)
        self.bn2 = nn.BatchNorm()
        self.conv2 = _conv3x3(inner, stride, inner)
        self.bn3 = nn.BatchNorm()
        self.conv3 = nn.Conv2D(channels, kernel_size=1, strides=1, use_bias=False)
        self.downsample = (nn.Conv2D(channels, 1, stride, use_bias=False, in_channels=in_channels)
                           if downsample else None)

    def _later_layers(self):
        return [(self.bn2, self.conv2), (self.bn3, self.conv3)]


def _make_stage(block, num_blocks, channels, stride, stage_index, in_channels):
    """`stage<i>_`: the first block changes stride/channels (projecting its shortcut if needed), the rest keep."""
    stage = nn.HybridSequential(prefix="stage%d_" % stage_index)
    with stage.name_scope():
        stage.add(block(channels, stride, channels != in_channels, in_channels=in_channels, prefix=""))
        for _ in range(num_blocks - 1):
            stage.add(block(channels, 1, False, in_channels=channels, prefix=""))
    return stage


def _add_stem_and_stages(features, block, layers, channels, thumbnail):
    """The stem (conv7x7/2, BN, relu, maxpool; a 3x3 stride-1 conv for thumbnails) and then the stages."""
    if thumbnail:
        features.add(_conv3x3(channels[0], 1, 0))
    else:
        features.add(nn.Conv2D(channels[0], 7, 2, 3, use_bias=False), nn.BatchNorm(), nn.Activation("relu"),
                     nn.MaxPool2D(3, 2, 1))
    for i, num_blocks in enumerate(layers):
        features.add(_make_stage(block, num_blocks, channels[i + 1], 1 if i == 0 else 2, i + 1, channels[i]))


class ResNetV1(HybridBlock):
    """ResNet V1. `layers`: blocks per stage; `channels`: the stem's then each stage's output channels;
    `thumbnail`: a 3x3 stride-1 stem for small (CIFAR-sized) images instead of conv7x7/2 + maxpool."""

    def __init__(self, block, layers, channels, classes=1000, thumbnail=False, **kwargs):
        super().__init__(**kwargs)
        assert len(layers) == len(channels) - 1
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            _add_stem_and_stages(self.features, block, layers, channels, thumbnail)
            self.features.add(nn.GlobalAvgPool2D())
            self.output = nn.Dense(classes, in_units=channels[-1])

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


class ResNetV2(HybridBlock):
    """ResNet V2 (pre-activation): the input first passes a BatchNorm without scale or shift; the features end
    with BN-relu, global pooling and Flatten. Arguments are ResNetV1's."""

    def __init__(self, block, layers, channels, classes=1000, thumbnail=False, **kwargs):
        super().__init__(**kwargs)
        assert len(layers) == len(channels) - 1
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            self.features.add(nn.BatchNorm(scale=False, center=False))
            _add_stem_and_stages(self.features, block, layers, channels, thumbnail)
            self.features.add(nn.BatchNorm(), nn.Activation("relu"), nn.GlobalAvgPool2D(), nn.Flatten())
            self.output = nn.Dense(classes, in_units=channels[-1])

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


# num_layers: (block kind, blocks per stage, channels of the stem and of each stage)
resnet_spec = {18: ("basic_block", [2, 2, 2, 2], [64, 64, 128, 256, 512]),
               34: ("basic_block", [3, 4, 6, 3], [64, 64, 128, 256, 512]),
               50: ("bottle_neck", [3, 4, 6, 3], [64, 256, 512, 1024, 2048]),
               101: ("bottle_neck", [3, 4, 23, 3], [64, 256, 512, 1024, 2048]),
               152: ("bottle_neck", [3, 8, 36, 3], [64, 256, 512, 1024, 2048])}
resnet_net_versions = [ResNetV1, ResNetV2]
resnet_block_versions = [{"basic_block": BasicBlockV1, "bottle_neck": BottleneckV1},
                         {"basic_block": BasicBlockV2, "bottle_neck": BottleneckV2}]


def get_resnet(version, num_layers, pretrained=False, ctx=cpu(), root=None, **kwargs):
    """ResNet `version` (1 or 2) with `num_layers` (18, 34, 50, 101, 152); `pretrained` loads
    `<root>/resnet<num_layers>_v<version>-<hash>.params` (root default `$MXNET_HOME/models`)."""
    assert num_layers in resnet_spec, "Invalid number of layers: %d. Options are %s" % (
        num_layers, str(resnet_spec.keys()))
    assert 1 <= version <= 2, "Invalid resnet version: %d. Options are 1 and 2." % version
    block_type, layers, channels = resnet_spec[num_layers]
    block = resnet_block_versions[version - 1][block_type]
    net = resnet_net_versions[version - 1](block, layers, channels, **kwargs)
    if pretrained:
        load_pretrained(net, "resnet%d_v%d" % (num_layers, version), ctx, root)
    return net


def _variant(version, num_layers):
    def constructor(**kwargs):
        return get_resnet(version, num_layers, **kwargs)
    constructor.__name__ = constructor.__qualname__ = "resnet%d_v%d" % (num_layers, version)
    constructor.__doc__ = ("ResNet-%d V%d; keyword arguments are get_resnet's (pretrained, ctx, root) and the "
                           "net's (classes, thumbnail)." % (num_layers, version))
    return constructor


resnet18_v1, resnet34_v1, resnet50_v1, resnet101_v1, resnet152_v1 = (_variant(1, n) for n in (18, 34, 50, 101, 152))
resnet18_v2, resnet34_v2, resnet50_v2, resnet101_v2, resnet152_v2 = (_variant(2, n) for n in (18, 34, 50, 101, 152))
