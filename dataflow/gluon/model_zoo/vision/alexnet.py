"""AlexNet, the one-GPU variant of "One weird trick..." (Krizhevsky, 2014), as MXNet 1.9.1's model zoo builds it."""
from ....context import cpu
from ... import nn
from ...block import HybridBlock
from ..model_store import load_pretrained

__all__ = ["AlexNet", "alexnet"]


class AlexNet(HybridBlock):
    """Five convolutions (three max-pooled) and two 4096-unit relu Dense layers with dropout, then `classes`
    outputs. The first Dense infers its input size, so any input of 63x63 pixels or more runs."""

    def __init__(self, classes=1000, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            with self.features.name_scope():
                # (channels, kernel, stride, padding, max-pool after)
                for channels, kernel, stride, padding, pool in ((64, 11, 4, 2, True), (192, 5, 1, 2, True),
                                                                (384, 3, 1, 1, False), (256, 3, 1, 1, False),
                                                                (256, 3, 1, 1, True)):
                    self.features.add(nn.Conv2D(channels, kernel_size=kernel, strides=stride, padding=padding,
                                                activation="relu"))
                    if pool:
                        self.features.add(nn.MaxPool2D(pool_size=3, strides=2))
                self.features.add(nn.Flatten())
                for _ in range(2):
                    self.features.add(nn.Dense(4096, activation="relu"), nn.Dropout(0.5))
            self.output = nn.Dense(classes)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def alexnet(pretrained=False, ctx=cpu(), root=None, **kwargs):
    """AlexNet; `pretrained` loads `<root>/alexnet-<hash>.params` (root default `$MXNET_HOME/models`)."""
    net = AlexNet(**kwargs)
    if pretrained:
        load_pretrained(net, "alexnet", ctx, root)
    return net
