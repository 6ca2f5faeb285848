"""The zoo workload's models in PyTorch, built to the layer structure of MXNet 1.9.1's gluon.model_zoo.vision
(torchvision is not installed, and its ResNet v1.5 strides the 3x3 convolution where Gluon's v1 strides the first
1x1): resnet18_v1, resnet50_v1, mobilenet1.0, mobilenetv2_1.0. densenet121 and inceptionv3 are not written here
(`MODELS` says which are). Imported by bench/peers/torch_runner.py only."""


def _conv_bn(nn, cin, cout, kernel, stride=1, pad=0, groups=1, bias=False, act="relu"):
    """Conv2d + BatchNorm2d (+ ReLU / ReLU6 / nothing): Gluon's conv, BatchNorm, Activation sequence."""
    layers = [nn.Conv2d(cin, cout, kernel, stride, pad, groups=groups, bias=bias), nn.BatchNorm2d(cout)]
    if act == "relu":
        layers.append(nn.ReLU())
    elif act == "relu6":
        layers.append(nn.ReLU6())
    return nn.Sequential(*layers)


def _resnet_v1(torch, bottleneck, layers, channels, classes):
    nn = torch.nn

    class Block(nn.Module):
        """BasicBlockV1 (two 3x3) or BottleneckV1 (1x1 strided, 3x3, 1x1; its body convolutions have a bias)."""

        def __init__(self, cin, cout, stride):
            super().__init__()
            if bottleneck:
                mid = cout // 4
                self.body = nn.Sequential(_conv_bn(nn, cin, mid, 1, stride, bias=True),
                                          _conv_bn(nn, mid, mid, 3, 1, 1),
                                          _conv_bn(nn, mid, cout, 1, bias=True, act=None))
            else:
                self.body = nn.Sequential(_conv_bn(nn, cin, cout, 3, stride, 1),
                                          _conv_bn(nn, cout, cout, 3, 1, 1, act=None))
            self.downsample = _conv_bn(nn, cin, cout, 1, stride, act=None) if cin != cout else None

        def forward(self, x):
            residual = x if self.downsample is None else self.downsample(x)
            return torch.relu(self.body(x) + residual)

    stages = [_conv_bn(nn, 3, channels[0], 7, 2, 3), nn.MaxPool2d(3, 2, 1)]
    for i, n in enumerate(layers):
        stride = 1 if i == 0 else 2
        blocks = [Block(channels[i], channels[i + 1], stride)]
        blocks += [Block(channels[i + 1], channels[i + 1], 1) for _ in range(n - 1)]
        stages.append(nn.Sequential(*blocks))
    return nn.Sequential(*stages, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels[-1], classes))


def _mobilenet_v1(torch, classes):
    nn = torch.nn
    dw_channels = [32, 64] + [128] * 2 + [256] * 2 + [512] * 6 + [1024]
    channels = [64] + [128] * 2 + [256] * 2 + [512] * 6 + [1024] * 2
    strides = [1, 2] * 3 + [1] * 5 + [2, 1]
    layers = [_conv_bn(nn, 3, 32, 3, 2, 1)]
    for dwc, c, s in zip(dw_channels, channels, strides):
        layers += [_conv_bn(nn, dwc, dwc, 3, s, 1, groups=dwc), _conv_bn(nn, dwc, c, 1)]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, classes))


def _mobilenet_v2(torch, classes):
    nn = torch.nn

    class LinearBottleneck(nn.Module):
        def __init__(self, cin, cout, t, stride):
            super().__init__()
            self.shortcut = stride == 1 and cin == cout
            self.out = nn.Sequential(_conv_bn(nn, cin, cin * t, 1, act="relu6"),
                                     _conv_bn(nn, cin * t, cin * t, 3, stride, 1, groups=cin * t, act="relu6"),
                                     _conv_bn(nn, cin * t, cout, 1, act=None))

        def forward(self, x):
            y = self.out(x)
            return y + x if self.shortcut else y

    in_group = [32] + [16] + [24] * 2 + [32] * 3 + [64] * 4 + [96] * 3 + [160] * 3
    out_group = [16] + [24] * 2 + [32] * 3 + [64] * 4 + [96] * 3 + [160] * 3 + [320]
    ts = [1] + [6] * 16
    strides = [1, 2] * 2 + [1, 1, 2] + [1] * 6 + [2] + [1] * 3
    layers = [_conv_bn(nn, 3, 32, 3, 2, 1, act="relu6")]
    layers += [LinearBottleneck(i, o, t, s) for i, o, t, s in zip(in_group, out_group, ts, strides)]
    layers += [_conv_bn(nn, 320, 1280, 1, act="relu6"), nn.AdaptiveAvgPool2d(1),
               nn.Conv2d(1280, classes, 1, bias=False), nn.Flatten()]
    return nn.Sequential(*layers)


MODELS = {
    "resnet18_v1": lambda torch, classes: _resnet_v1(torch, False, [2, 2, 2, 2], [64, 64, 128, 256, 512], classes),
    "resnet50_v1": lambda torch, classes: _resnet_v1(torch, True, [3, 4, 6, 3], [64, 256, 512, 1024, 2048], classes),
    "mobilenet1.0": _mobilenet_v1,
    "mobilenetv2_1.0": _mobilenet_v2,
}
NOT_WRITTEN = "not written in the PyTorch runner (torchvision is not installed; only ResNet v1 and MobileNet v1/v2 are)"
