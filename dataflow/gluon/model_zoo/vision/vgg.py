"""VGG 11/13/16/19, with or without BatchNorm (Simonyan and Zisserman, 2014), as MXNet 1.9.1's model zoo."""
from ....context import cpu
from ....initializer import Xavier
from ... import nn
from ...block import HybridBlock
from ..model_store import load_pretrained

__all__ = ["VGG", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn", "get_vgg"]


class VGG(HybridBlock):
    """Stages of 3x3 convolutions (`layers[i]` of `filters[i]` channels, each optionally followed by BatchNorm,
    then relu), each stage max-pooled by 2; then two 4096-unit relu Dense layers with dropout and `classes`
    outputs."""

    def __init__(self, layers, filters, classes=1000, batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        assert len(layers) == len(filters)
        with self.name_scope():
            self.features = self._make_features(layers, filters, batch_norm)
            for _ in range(2):
                self.features.add(nn.Dense(4096, activation="relu", weight_initializer="normal",
                                           bias_initializer="zeros"), nn.Dropout(rate=0.5))
            self.output = nn.Dense(classes, weight_initializer="normal", bias_initializer="zeros")

    def _make_features(self, layers, filters, batch_norm):
        features = nn.HybridSequential(prefix="")
        for count, channels in zip(layers, filters):
            for _ in range(count):
                features.add(nn.Conv2D(channels, kernel_size=3, padding=1, bias_initializer="zeros",
                                       weight_initializer=Xavier(rnd_type="gaussian", factor_type="out",
                                                                 magnitude=2)))
                if batch_norm:
                    features.add(nn.BatchNorm())
                features.add(nn.Activation("relu"))
            features.add(nn.MaxPool2D(strides=2))
        return features

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


# num_layers: (convolutions per stage, channels per stage)
vgg_spec = {11: ([1, 1, 2, 2, 2], [64, 128, 256, 512, 512]),
            13: ([2, 2, 2, 2, 2], [64, 128, 256, 512, 512]),
            16: ([2, 2, 3, 3, 3], [64, 128, 256, 512, 512]),
            19: ([2, 2, 4, 4, 4], [64, 128, 256, 512, 512])}


def get_vgg(num_layers, pretrained=False, ctx=cpu(), root=None, **kwargs):
    """VGG with `num_layers` (11, 13, 16, 19); `batch_norm=True` adds BatchNorm. `pretrained` loads
    `<root>/vgg<n>[_bn]-<hash>.params` (root default `$MXNET_HOME/models`)."""
    layers, filters = vgg_spec[num_layers]
    net = VGG(layers, filters, **kwargs)
    if pretrained:
        load_pretrained(net, "vgg%d%s" % (num_layers, "_bn" if kwargs.get("batch_norm") else ""), ctx, root)
    return net


def _variant(num_layers, batch_norm):
    def constructor(**kwargs):
        if batch_norm:
            kwargs["batch_norm"] = True
        return get_vgg(num_layers, **kwargs)
    constructor.__name__ = constructor.__qualname__ = "vgg%d%s" % (num_layers, "_bn" if batch_norm else "")
    constructor.__doc__ = "VGG-%d%s; keyword arguments are get_vgg's." % (
        num_layers, " with BatchNorm" if batch_norm else "")
    return constructor


vgg11, vgg13, vgg16, vgg19 = (_variant(n, False) for n in (11, 13, 16, 19))
vgg11_bn, vgg13_bn, vgg16_bn, vgg19_bn = (_variant(n, True) for n in (11, 13, 16, 19))
