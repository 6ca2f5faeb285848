"""The Gluon layer configurations test_gluon_layers.py runs, with what MXNet 1.9.1 printed for them.

`CASES` holds one row per layer configuration. Its `repr`, `params`, `out_shape` and `graph` fields were printed
by real MXNet 1.9.1 (the development oracle) for the same constructor call: `repr` before and after the first
forward, the parameters (name without prefix, shape, grad_req) after it, and the graph of `block(sym.var('data'))`
built under a fresh NameManager, one line per node as `graph_lines` (tests/gluon_helpers.py) writes it (variables
with their attributes, minus the four that every variable carries). `REFS` gives each row's numpy reference
(inference).
"""
import math
import types
from typing import NamedTuple

import numpy as np

from dataflow.gluon import nn
from tests import reference_conv
from tests.gluon_helpers import sigmoid as _sigmoid


def _visible(out):
    """The visible output of a reference that also returns an op's hidden outputs."""
    return out[0] if isinstance(out, tuple) else out


class Case(NamedTuple):
    make: object            # () -> Block
    shape: tuple            # the input shape
    out_shape: tuple
    repr: object            # str, or (before the first forward, after it)
    params: list            # [(name without the prefix, shape, grad_req)]
    graph: list = None      # _graph_lines of block(sym.var('data')); None for a Block


# Printed by MXNet 1.9.1 for these constructor calls (see the module docstring).
CASES = {
    'Dense': Case(lambda: nn.Dense(5, activation="tanh"),
        (2, 6), out_shape=(2, 5),
        repr=('Dense(None -> 5, Activation(tanh))',
              'Dense(6 -> 5, Activation(tanh))'),
        params=[('weight', (5, 6), 'write'), ('bias', (5,), 'write')],
        graph=['dense0_weight: __shape__=(5, 0)',
               'dense0_bias: __init__=zeros __shape__=(5,)',
               'dense0_fwd = FullyConnected(data, dense0_weight, dense0_bias) flatten=True no_bias=False '
               'num_hidden=5',
               'dense0_tanh_fwd = Activation(dense0_fwd) act_type=tanh']),
    'Dense_nobias_noflatten': Case(lambda: nn.Dense(3, use_bias=False, flatten=False, in_units=4),
        (2, 5, 4), out_shape=(2, 5, 3),
        repr='Dense(4 -> 3, linear)',
        params=[('weight', (3, 4), 'write')],
        graph=['dense0_weight: __shape__=(3, 4)',
               'dense0_fwd = FullyConnected(data, dense0_weight) flatten=False no_bias=True num_hidden=3']),
    'Dropout': Case(lambda: nn.Dropout(0.3),
        (2, 3, 4), out_shape=(2, 3, 4),
        repr='Dropout(p = 0.3, axes=())',
        params=[],
        graph=['dropout0_fwd = Dropout(data) axes=() cudnn_off=False p=0.3']),
    'Dropout_zero': Case(lambda: nn.Dropout(0.0),
        (2, 3, 4), out_shape=(2, 3, 4),
        repr='Dropout(p = 0.0, axes=())',
        params=[],
        graph=['dropout0_identity0 = _copy(data)']),
    'BatchNorm': Case(lambda: nn.BatchNorm(),
        (2, 3, 4, 4), out_shape=(2, 3, 4, 4),
        repr=('BatchNorm(axis=1, eps=1e-05, momentum=0.9, fix_gamma=False, use_global_stats=False, '
              'in_channels=None)',
              'BatchNorm(axis=1, eps=1e-05, momentum=0.9, fix_gamma=False, use_global_stats=False, '
              'in_channels=3)'),
        params=[('gamma', (3,), 'write'),
                ('beta', (3,), 'write'),
                ('running_mean', (3,), 'null'),
                ('running_var', (3,), 'null')],
        graph=['batchnorm0_gamma: __init__=ones __shape__=(0,)',
               'batchnorm0_beta: __init__=zeros __shape__=(0,)',
               'batchnorm0_running_mean: __init__=zeros __shape__=(0,)',
               'batchnorm0_running_var: __init__=ones __shape__=(0,)',
               'batchnorm0_fwd = BatchNorm(data, batchnorm0_gamma, batchnorm0_beta, '
               'batchnorm0_running_mean@1, batchnorm0_running_var@1) axis=1 eps=1e-05 fix_gamma=False '
               'momentum=0.9 use_global_stats=False']),
    'BatchNorm_fixed': Case(lambda: nn.BatchNorm(axis=1, center=False, scale=False, in_channels=3),
        (2, 3, 5), out_shape=(2, 3, 5),
        repr='BatchNorm(axis=1, eps=1e-05, momentum=0.9, fix_gamma=True, use_global_stats=False, '
             'in_channels=3)',
        params=[('gamma', (3,), 'null'),
                ('beta', (3,), 'null'),
                ('running_mean', (3,), 'null'),
                ('running_var', (3,), 'null')],
        graph=['batchnorm0_gamma: __init__=ones __shape__=(3,)',
               'batchnorm0_beta: __init__=zeros __shape__=(3,)',
               'batchnorm0_running_mean: __init__=zeros __shape__=(3,)',
               'batchnorm0_running_var: __init__=ones __shape__=(3,)',
               'batchnorm0_fwd = BatchNorm(data, batchnorm0_gamma, batchnorm0_beta, '
               'batchnorm0_running_mean@1, batchnorm0_running_var@1) axis=1 eps=1e-05 fix_gamma=True '
               'momentum=0.9 use_global_stats=False']),
    'BatchNorm_axis': Case(lambda: nn.BatchNorm(axis=-1, momentum=0.5, epsilon=1e-3),
        (4, 2, 3), out_shape=(4, 2, 3),
        repr=('BatchNorm(axis=-1, eps=0.001, momentum=0.5, fix_gamma=False, use_global_stats=False, '
              'in_channels=None)',
              'BatchNorm(axis=-1, eps=0.001, momentum=0.5, fix_gamma=False, use_global_stats=False, '
              'in_channels=3)'),
        params=[('gamma', (3,), 'write'),
                ('beta', (3,), 'write'),
                ('running_mean', (3,), 'null'),
                ('running_var', (3,), 'null')],
        graph=['batchnorm0_gamma: __init__=ones __shape__=(0,)',
               'batchnorm0_beta: __init__=zeros __shape__=(0,)',
               'batchnorm0_running_mean: __init__=zeros __shape__=(0,)',
               'batchnorm0_running_var: __init__=ones __shape__=(0,)',
               'batchnorm0_fwd = BatchNorm(data, batchnorm0_gamma, batchnorm0_beta, '
               'batchnorm0_running_mean@1, batchnorm0_running_var@1) axis=-1 eps=0.001 fix_gamma=False '
               'momentum=0.5 use_global_stats=False']),
    'Conv1D': Case(lambda: nn.Conv1D(4, 3, strides=2, padding=1),
        (2, 3, 8), out_shape=(2, 4, 4),
        repr=('Conv1D(None -> 4, kernel_size=(3,), stride=(2,), padding=(1,))',
              'Conv1D(3 -> 4, kernel_size=(3,), stride=(2,), padding=(1,))'),
        params=[('weight', (4, 3, 3), 'write'), ('bias', (4,), 'write')],
        graph=['conv0_weight: __shape__=(4, 0, 3)',
               'conv0_bias: __init__=zeros __shape__=(4,)',
               'conv0_fwd = Convolution(data, conv0_weight, conv0_bias) dilate=(1,) kernel=(3,) layout=NCW'
               ' no_bias=False num_filter=4 num_group=1 pad=(1,) stride=(2,)']),
    'Conv2D': Case(lambda: nn.Conv2D(4, (3, 2), padding=1, dilation=2, activation="relu", use_bias=False),
        (2, 3, 6, 6), out_shape=(2, 4, 4, 6),
        repr=('Conv2D(None -> 4, kernel_size=(3, 2), stride=(1, 1), padding=(1, 1), dilation=(2, 2), '
              'bias=False, Activation(relu))',
              'Conv2D(3 -> 4, kernel_size=(3, 2), stride=(1, 1), padding=(1, 1), dilation=(2, 2), '
              'bias=False, Activation(relu))'),
        params=[('weight', (4, 3, 3, 2), 'write')],
        graph=['conv0_weight: __shape__=(4, 0, 3, 2)',
               'conv0_fwd = Convolution(data, conv0_weight) dilate=(2, 2) kernel=(3, 2) layout=NCHW '
               'no_bias=True num_filter=4 num_group=1 pad=(1, 1) stride=(1, 1)',
               'conv0_relu_fwd = Activation(conv0_fwd) act_type=relu']),
    'Conv2D_groups': Case(lambda: nn.Conv2D(4, 3, strides=(2, 1), groups=2, in_channels=2),
        (1, 2, 7, 5), out_shape=(1, 4, 3, 3),
        repr='Conv2D(1 -> 4, kernel_size=(3, 3), stride=(2, 1), groups=2)',
        params=[('weight', (4, 1, 3, 3), 'write'), ('bias', (4,), 'write')],
        graph=['conv0_weight: __shape__=(4, 1, 3, 3)',
               'conv0_bias: __init__=zeros __shape__=(4,)',
               'conv0_fwd = Convolution(data, conv0_weight, conv0_bias) dilate=(1, 1) kernel=(3, 3) '
               'layout=NCHW no_bias=False num_filter=4 num_group=2 pad=(0, 0) stride=(2, 1)']),
    'Conv3D': Case(lambda: nn.Conv3D(2, 2),
        (1, 2, 3, 4, 4), out_shape=(1, 2, 2, 3, 3),
        repr=('Conv3D(None -> 2, kernel_size=(2, 2, 2), stride=(1, 1, 1))',
              'Conv3D(2 -> 2, kernel_size=(2, 2, 2), stride=(1, 1, 1))'),
        params=[('weight', (2, 2, 2, 2, 2), 'write'), ('bias', (2,), 'write')],
        graph=['conv0_weight: __shape__=(2, 0, 2, 2, 2)',
               'conv0_bias: __init__=zeros __shape__=(2,)',
               'conv0_fwd = Convolution(data, conv0_weight, conv0_bias) dilate=(1, 1, 1) kernel=(2, 2, 2) '
               'layout=NCDHW no_bias=False num_filter=2 num_group=1 pad=(0, 0, 0) stride=(1, 1, 1)']),
    'Conv1DTranspose': Case(lambda: nn.Conv1DTranspose(4, 3),
        (2, 3, 5), out_shape=(2, 4, 7),
        repr=('Conv1DTranspose(4 -> 0, kernel_size=(3,), stride=(1,))',
              'Conv1DTranspose(4 -> 3, kernel_size=(3,), stride=(1,))'),
        params=[('weight', (3, 4, 3), 'write'), ('bias', (4,), 'write')],
        graph=['conv0_weight: __shape__=(0, 4, 3)',
               'conv0_bias: __init__=zeros __shape__=(4,)',
               'conv0_fwd = Deconvolution(data, conv0_weight, conv0_bias) adj=(0,) dilate=(1,) kernel=(3,)'
               ' layout=NCW no_bias=False num_filter=4 num_group=1 pad=(0,) stride=(1,)']),
    'Conv2DTranspose': Case(lambda: nn.Conv2DTranspose(4, 3, strides=2, padding=1, output_padding=1),
        (2, 3, 4, 4), out_shape=(2, 4, 8, 8),
        repr=('Conv2DTranspose(4 -> 0, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))',
              'Conv2DTranspose(4 -> 3, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))'),
        params=[('weight', (3, 4, 3, 3), 'write'), ('bias', (4,), 'write')],
        graph=['conv0_weight: __shape__=(0, 4, 3, 3)',
               'conv0_bias: __init__=zeros __shape__=(4,)',
               'conv0_fwd = Deconvolution(data, conv0_weight, conv0_bias) adj=(1, 1) dilate=(1, 1) '
               'kernel=(3, 3) layout=NCHW no_bias=False num_filter=4 num_group=1 pad=(1, 1) stride=(2, 2)']),
    'Conv3DTranspose': Case(lambda: nn.Conv3DTranspose(2, 2, strides=2),
        (1, 2, 2, 3, 3), out_shape=(1, 2, 4, 6, 6),
        repr=('Conv3DTranspose(2 -> 0, kernel_size=(2, 2, 2), stride=(2, 2, 2))',
              'Conv3DTranspose(2 -> 2, kernel_size=(2, 2, 2), stride=(2, 2, 2))'),
        params=[('weight', (2, 2, 2, 2, 2), 'write'), ('bias', (2,), 'write')],
        graph=['conv0_weight: __shape__=(0, 2, 2, 2, 2)',
               'conv0_bias: __init__=zeros __shape__=(2,)',
               'conv0_fwd = Deconvolution(data, conv0_weight, conv0_bias) adj=(0, 0, 0) dilate=(1, 1, 1) '
               'kernel=(2, 2, 2) layout=NCDHW no_bias=False num_filter=2 num_group=1 pad=(0, 0, 0) '
               'stride=(2, 2, 2)']),
    'MaxPool1D': Case(lambda: nn.MaxPool1D(),
        (2, 3, 8), out_shape=(2, 3, 4),
        repr='MaxPool1D(size=(2,), stride=(2,), padding=(0,), ceil_mode=False, global_pool=False, '
             'pool_type=max, layout=NCW)',
        params=[],
        graph=['pool0_fwd = Pooling(data) global_pool=False kernel=(2,) layout=NCW pad=(0,) pool_type=max '
               'pooling_convention=valid stride=(2,)']),
    'MaxPool2D': Case(lambda: nn.MaxPool2D(3, 2, 1, ceil_mode=True),
        (2, 3, 6, 6), out_shape=(2, 3, 4, 4),
        repr='MaxPool2D(size=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=True, global_pool=False, '
             'pool_type=max, layout=NCHW)',
        params=[],
        graph=['pool0_fwd = Pooling(data) global_pool=False kernel=(3, 3) layout=NCHW pad=(1, 1) '
               'pool_type=max pooling_convention=full stride=(2, 2)']),
    'MaxPool3D': Case(lambda: nn.MaxPool3D(),
        (1, 2, 4, 4, 4), out_shape=(1, 2, 2, 2, 2),
        repr='MaxPool3D(size=(2, 2, 2), stride=(2, 2, 2), padding=(0, 0, 0), ceil_mode=False, '
             'global_pool=False, pool_type=max, layout=NCDHW)',
        params=[],
        graph=['pool0_fwd = Pooling(data) global_pool=False kernel=(2, 2, 2) layout=NCDHW pad=(0, 0, 0) '
               'pool_type=max pooling_convention=valid stride=(2, 2, 2)']),
    'AvgPool1D': Case(lambda: nn.AvgPool1D(3),
        (2, 3, 8), out_shape=(2, 3, 2),
        repr='AvgPool1D(size=(3,), stride=(3,), padding=(0,), ceil_mode=False, global_pool=False, '
             'pool_type=avg, layout=NCW)',
        params=[],
        graph=['pool0_fwd = Pooling(data) count_include_pad=True global_pool=False kernel=(3,) layout=NCW '
               'pad=(0,) pool_type=avg pooling_convention=valid stride=(3,)']),
    'AvgPool2D': Case(lambda: nn.AvgPool2D(count_include_pad=False, padding=1),
        (2, 3, 5, 5), out_shape=(2, 3, 3, 3),
        repr='AvgPool2D(size=(2, 2), stride=(2, 2), padding=(1, 1), ceil_mode=False, global_pool=False, '
             'pool_type=avg, layout=NCHW)',
        params=[],
        graph=['pool0_fwd = Pooling(data) count_include_pad=False global_pool=False kernel=(2, 2) '
               'layout=NCHW pad=(1, 1) pool_type=avg pooling_convention=valid stride=(2, 2)']),
    'AvgPool3D': Case(lambda: nn.AvgPool3D(strides=1),
        (1, 2, 3, 3, 3), out_shape=(1, 2, 2, 2, 2),
        repr='AvgPool3D(size=(2, 2, 2), stride=(1, 1, 1), padding=(0, 0, 0), ceil_mode=False, '
             'global_pool=False, pool_type=avg, layout=NCDHW)',
        params=[],
        graph=['pool0_fwd = Pooling(data) count_include_pad=True global_pool=False kernel=(2, 2, 2) '
               'layout=NCDHW pad=(0, 0, 0) pool_type=avg pooling_convention=valid stride=(1, 1, 1)']),
    'GlobalMaxPool1D': Case(lambda: nn.GlobalMaxPool1D(),
        (2, 3, 8), out_shape=(2, 3, 1),
        repr='GlobalMaxPool1D(size=(1,), stride=(1,), padding=(0,), ceil_mode=True, global_pool=True, '
             'pool_type=max, layout=NCW)',
        params=[],
        graph=['pool0_fwd = Pooling(data) global_pool=True kernel=(1,) layout=NCW pad=(0,) pool_type=max '
               'pooling_convention=full stride=(1,)']),
    'GlobalAvgPool1D': Case(lambda: nn.GlobalAvgPool1D(),
        (2, 3, 8), out_shape=(2, 3, 1),
        repr='GlobalAvgPool1D(size=(1,), stride=(1,), padding=(0,), ceil_mode=True, global_pool=True, '
             'pool_type=avg, layout=NCW)',
        params=[],
        graph=['pool0_fwd = Pooling(data) global_pool=True kernel=(1,) layout=NCW pad=(0,) pool_type=avg '
               'pooling_convention=full stride=(1,)']),
    'GlobalMaxPool2D': Case(lambda: nn.GlobalMaxPool2D(),
        (2, 3, 5, 5), out_shape=(2, 3, 1, 1),
        repr='GlobalMaxPool2D(size=(1, 1), stride=(1, 1), padding=(0, 0), ceil_mode=True, '
             'global_pool=True, pool_type=max, layout=NCHW)',
        params=[],
        graph=['pool0_fwd = Pooling(data) global_pool=True kernel=(1, 1) layout=NCHW pad=(0, 0) '
               'pool_type=max pooling_convention=full stride=(1, 1)']),
    'GlobalAvgPool2D': Case(lambda: nn.GlobalAvgPool2D(),
        (2, 3, 5, 5), out_shape=(2, 3, 1, 1),
        repr='GlobalAvgPool2D(size=(1, 1), stride=(1, 1), padding=(0, 0), ceil_mode=True, '
             'global_pool=True, pool_type=avg, layout=NCHW)',
        params=[],
        graph=['pool0_fwd = Pooling(data) global_pool=True kernel=(1, 1) layout=NCHW pad=(0, 0) '
               'pool_type=avg pooling_convention=full stride=(1, 1)']),
    'GlobalAvgPool3D': Case(lambda: nn.GlobalAvgPool3D(),
        (1, 2, 2, 3, 3), out_shape=(1, 2, 1, 1, 1),
        repr='GlobalAvgPool3D(size=(1, 1, 1), stride=(1, 1, 1), padding=(0, 0, 0), ceil_mode=True, '
             'global_pool=True, pool_type=avg, layout=NCDHW)',
        params=[],
        graph=['pool0_fwd = Pooling(data) global_pool=True kernel=(1, 1, 1) layout=NCDHW pad=(0, 0, 0) '
               'pool_type=avg pooling_convention=full stride=(1, 1, 1)']),
    'ReflectionPad2D': Case(lambda: nn.ReflectionPad2D(1),
        (1, 2, 3, 3), out_shape=(1, 2, 5, 5),
        repr='ReflectionPad2D(\n\n)',
        params=[],
        graph=['reflectionpad2d0_pad0 = Pad(data) mode=reflect pad_width=(0, 0, 0, 0, 1, 1, 1, 1)']),
    'Flatten': Case(lambda: nn.Flatten(),
        (2, 3, 2, 2), out_shape=(2, 12),
        repr='Flatten',
        params=[],
        graph=['flatten0_flatten0 = Flatten(data)']),
    'Embedding': Case(lambda: nn.Embedding(10, 4),
        (2, 3), out_shape=(2, 3, 4),
        repr='Embedding(10 -> 4, float32)',
        params=[('weight', (10, 4), 'write')],
        graph=['embedding0_weight: __shape__=(10, 4)',
               'embedding0_fwd = Embedding(data, embedding0_weight) dtype=float32 input_dim=10 '
               'output_dim=4 sparse_grad=False']),
    'Activation': Case(lambda: nn.Activation("sigmoid"),
        (2, 5), out_shape=(2, 5),
        repr='Activation(sigmoid)',
        params=[],
        graph=['sigmoid0_fwd = Activation(data) act_type=sigmoid']),
    'LeakyReLU': Case(lambda: nn.LeakyReLU(0.1),
        (2, 5), out_shape=(2, 5),
        repr='LeakyReLU(0.1)',
        params=[],
        graph=['leakyrelu0_fwd = LeakyReLU(data) act_type=leaky slope=0.1']),
    'PReLU': Case(lambda: nn.PReLU(),
        (2, 5), out_shape=(2, 5),
        repr='PReLU(\n\n)',
        params=[('alpha', (1,), 'write')],
        graph=['prelu0_alpha: __init__=["constant", {"value": 0.25}] __shape__=(1,)',
               'prelu0_fwd = LeakyReLU(data, prelu0_alpha) act_type=prelu']),
    'PReLU_channels': Case(lambda: nn.PReLU(in_channels=3),
        (2, 3, 4), out_shape=(2, 3, 4),
        repr='PReLU(\n\n)',
        params=[('alpha', (3,), 'write')],
        graph=['prelu0_alpha: __init__=["constant", {"value": 0.25}] __shape__=(3,)',
               'prelu0_fwd = LeakyReLU(data, prelu0_alpha) act_type=prelu']),
    'ELU': Case(lambda: nn.ELU(alpha=0.5),
        (2, 5), out_shape=(2, 5),
        repr='ELU(\n\n)',
        params=[],
        graph=['elu0_leakyrelu0 = LeakyReLU(data) act_type=elu slope=0.5']),
    'SELU': Case(lambda: nn.SELU(),
        (2, 5), out_shape=(2, 5),
        repr='SELU(\n\n)',
        params=[],
        graph=['selu0_fwd = LeakyReLU(data) act_type=selu']),
    'Swish': Case(lambda: nn.Swish(beta=2.0),
        (2, 5), out_shape=(2, 5),
        repr='Swish(\n\n)',
        params=[],
        graph=['swish0__mulscalar0 = _mul_scalar(data) scalar=2.0',
               'swish0_fwd = sigmoid(swish0__mulscalar0)',
               'swish0__mul0 = elemwise_mul(data, swish0_fwd)']),
    'GELU': Case(lambda: nn.GELU(),
        (2, 5), out_shape=(2, 5),
        repr='GELU(\n\n)',
        params=[],
        graph=['gelu0_fwd = LeakyReLU(data) act_type=gelu']),
    'LayerNorm': Case(lambda: nn.LayerNorm(),
        (2, 3, 5), out_shape=(2, 3, 5),
        repr=('LayerNorm(eps=1e-05, axis=-1, center=True, scale=True, in_channels=0)',
              'LayerNorm(eps=1e-05, axis=-1, center=True, scale=True, in_channels=5)'),
        params=[('gamma', (5,), 'write'), ('beta', (5,), 'write')],
        graph=['layernorm0_gamma: __init__=ones __shape__=(0,)',
               'layernorm0_beta: __init__=zeros __shape__=(0,)',
               'layernorm0_layernorm0 = LayerNorm(data, layernorm0_gamma, layernorm0_beta) axis=-1 '
               'eps=1e-05']),
    'LayerNorm_axis': Case(lambda: nn.LayerNorm(axis=1, epsilon=1e-3, in_channels=3),
        (2, 3, 4), out_shape=(2, 3, 4),
        repr='LayerNorm(eps=0.001, axis=1, center=True, scale=True, in_channels=3)',
        params=[('gamma', (3,), 'write'), ('beta', (3,), 'write')],
        graph=['layernorm0_gamma: __init__=ones __shape__=(3,)',
               'layernorm0_beta: __init__=zeros __shape__=(3,)',
               'layernorm0_layernorm0 = LayerNorm(data, layernorm0_gamma, layernorm0_beta) axis=1 '
               'eps=0.001']),
    'InstanceNorm': Case(lambda: nn.InstanceNorm(scale=True),
        (2, 3, 5), out_shape=(2, 3, 5),
        repr=('InstanceNorm(eps=1e-05, axis=1, center=True, scale=True, in_channels=0)',
              'InstanceNorm(eps=1e-05, axis=1, center=True, scale=True, in_channels=3)'),
        params=[('gamma', (3,), 'write'), ('beta', (3,), 'write')],
        graph=['instancenorm0_gamma: __init__=ones __shape__=(0,)',
               'instancenorm0_beta: __init__=zeros __shape__=(0,)',
               'instancenorm0_fwd = InstanceNorm(data, instancenorm0_gamma, instancenorm0_beta) eps=1e-05']),
    'HybridLambda': Case(lambda: nn.HybridLambda("tanh"),
        (2, 5), out_shape=(2, 5),
        repr='HybridLambda(tanh)',
        params=[],
        graph=['hybridlambda0_tanh0 = tanh(data)']),
    'HybridLambda_fn': Case(lambda: nn.HybridLambda(lambda F, x: F.LeakyReLU(x, slope=0.1)),
        (2, 5), out_shape=(2, 5),
        repr='HybridLambda(<lambda>)',
        params=[],
        graph=['hybridlambda0_leakyrelu0 = LeakyReLU(data) slope=0.1']),
    'Lambda': Case(lambda: nn.Lambda("tanh"),
        (2, 5), out_shape=(2, 5),
        repr='Lambda(tanh)',
        params=[]),
}


# ---- numpy references (inference mode), float64 ------------------------------------------------------------

def _channel(v, ndim, axis):
    shape = [1] * ndim
    shape[axis] = -1
    return v.reshape(shape)


def _batch_norm(x, P, axis, eps, fixed_gamma=False):
    """(x - running_mean) / sqrt(running_var + eps) * gamma + beta per channel (gamma held at 1 if fixed)."""
    c = lambda v: _channel(v, x.ndim, axis)      # noqa: E731
    gamma = np.ones_like(P["gamma"]) if fixed_gamma else P["gamma"]
    return (x - c(P["running_mean"])) / np.sqrt(c(P["running_var"]) + eps) * c(gamma) + c(P["beta"])


def _normalize(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(((x - mean) ** 2).mean(axis=axes, keepdims=True) + eps)


def _conv_p(kernel, stride=None, pad=None, dilate=None, groups=1, adj=None):
    n = len(kernel)
    return types.SimpleNamespace(kernel=kernel, stride=stride or (1,) * n, pad=pad or (0,) * n,
                                 dilate=dilate or (1,) * n, num_group=groups, adj=adj or (0,) * n, target_shape=())


def _conv(p):
    return lambda x, P: reference_conv.convolution(p, x, P["weight"], P.get("bias"))


def _deconv(p):
    return lambda x, P: reference_conv.deconvolution(p, x, P["weight"], P.get("bias"))


def _pool(kernel, pool_type, stride, pad=None, convention="valid", count_include_pad=None):
    p = types.SimpleNamespace(kernel=kernel, pool_type=pool_type, stride=stride, pad=pad or (0,) * len(kernel),
                              pooling_convention=convention, global_pool=False, count_include_pad=count_include_pad,
                              p_value=None)
    return lambda x, P: _visible(reference_conv.pooling(p, x))


_SELU_ALPHA, _SELU_LAMBDA = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
_erf = np.vectorize(math.erf)

REFS = {
    "Dense": lambda x, P: np.tanh(x.reshape(len(x), -1) @ P["weight"].T + P["bias"]),
    "Dense_nobias_noflatten": lambda x, P: x @ P["weight"].T,
    "Dropout": lambda x, P: x,
    "Dropout_zero": lambda x, P: x,
    "BatchNorm": lambda x, P: _batch_norm(x, P, 1, 1e-5),
    "BatchNorm_fixed": lambda x, P: _batch_norm(x, P, 1, 1e-5, fixed_gamma=True),
    "BatchNorm_axis": lambda x, P: _batch_norm(x, P, -1, 1e-3),
    "Conv1D": _conv(_conv_p((3,), stride=(2,), pad=(1,))),
    "Conv2D": lambda x, P: np.maximum(_conv(_conv_p((3, 2), pad=(1, 1), dilate=(2, 2)))(x, P), 0),
    "Conv2D_groups": _conv(_conv_p((3, 3), stride=(2, 1), groups=2)),
    "Conv3D": _conv(_conv_p((2, 2, 2))),
    "Conv1DTranspose": _deconv(_conv_p((3,))),
    "Conv2DTranspose": _deconv(_conv_p((3, 3), stride=(2, 2), pad=(1, 1), adj=(1, 1))),
    "Conv3DTranspose": _deconv(_conv_p((2, 2, 2), stride=(2, 2, 2))),
    "MaxPool1D": _pool((2,), "max", (2,)),
    "MaxPool2D": _pool((3, 3), "max", (2, 2), (1, 1), convention="full"),
    "MaxPool3D": _pool((2, 2, 2), "max", (2, 2, 2)),
    "AvgPool1D": _pool((3,), "avg", (3,)),
    "AvgPool2D": _pool((2, 2), "avg", (2, 2), (1, 1), count_include_pad=False),
    "AvgPool3D": _pool((2, 2, 2), "avg", (1, 1, 1)),
    "GlobalMaxPool1D": lambda x, P: x.max(axis=2, keepdims=True),
    "GlobalAvgPool1D": lambda x, P: x.mean(axis=2, keepdims=True),
    "GlobalMaxPool2D": lambda x, P: x.max(axis=(2, 3), keepdims=True),
    "GlobalAvgPool2D": lambda x, P: x.mean(axis=(2, 3), keepdims=True),
    "GlobalAvgPool3D": lambda x, P: x.mean(axis=(2, 3, 4), keepdims=True),
    "ReflectionPad2D": lambda x, P: np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)], mode="reflect"),
    "Flatten": lambda x, P: x.reshape(len(x), -1),
    "Embedding": lambda x, P: P["weight"][x.astype(int)],
    "Activation": lambda x, P: _sigmoid(x),
    "LeakyReLU": lambda x, P: np.where(x > 0, x, 0.1 * x),
    "PReLU": lambda x, P: np.where(x > 0, x, P["alpha"] * x),
    "PReLU_channels": lambda x, P: np.where(x > 0, x, P["alpha"].reshape(1, 3, 1) * x),
    "ELU": lambda x, P: np.where(x > 0, x, 0.5 * np.expm1(x)),
    "SELU": lambda x, P: _SELU_LAMBDA * np.where(x > 0, x, _SELU_ALPHA * np.expm1(x)),
    "Swish": lambda x, P: x * _sigmoid(2.0 * x),
    "GELU": lambda x, P: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
    "LayerNorm": lambda x, P: _normalize(x, -1, 1e-5) * P["gamma"] + P["beta"],
    "LayerNorm_axis": lambda x, P: (_normalize(x, 1, 1e-3) * P["gamma"].reshape(1, 3, 1)
                                    + P["beta"].reshape(1, 3, 1)),
    "InstanceNorm": lambda x, P: (_normalize(x, 2, 1e-5) * P["gamma"].reshape(1, 3, 1)
                                  + P["beta"].reshape(1, 3, 1)),
    "HybridLambda": lambda x, P: np.tanh(x),
    "HybridLambda_fn": lambda x, P: np.where(x > 0, x, 0.1 * x),
    "Lambda": lambda x, P: np.tanh(x),
}
HYBRID = [k for k, c in CASES.items() if c.graph is not None]
