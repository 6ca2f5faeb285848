"""Gluon layers and losses against MXNet 1.9.1: outputs against numpy, names, reprs and traced graphs against
the oracle, hybridized against imperative, deferred initialisation of the input channels.

`CASES` holds one row per layer configuration. Its `repr`, `params`, `out_shape` and `graph` fields were printed
by real MXNet 1.9.1 (the development oracle) for the same constructor call: `repr` before and after the first
forward, the parameters (name without prefix, shape, grad_req) after it, and the graph of `block(sym.var('data'))`
built under a fresh NameManager, one line per node as `_graph_lines` writes it (variables with their
attributes, minus the four that every variable carries). `REFS` gives each row's numpy reference (inference).
"""
import json
import math
import types
import warnings
from typing import NamedTuple

import numpy as np
import pytest

import dataflow as mx
from dataflow import autograd, nd
from dataflow.gluon import loss as gloss, nn
from tests import reference_conv

_SKIP_ATTRS = {"__dtype__", "__lr_mult__", "__storage_type__", "__wd_mult__"}


def _visible(out):
    """The visible output of a reference that also returns an op's hidden outputs."""
    return out[0] if isinstance(out, tuple) else out


@pytest.fixture(autouse=True)
def fresh_names():
    with mx.name.NameManager():
        yield


def _graph_lines(symbol):
    """One line per node: `name: attrs` for a variable with attributes, `name = Op(inputs) attrs` for an op;
    an input is `node[index]@version` (index and version shown when not 0)."""
    nodes = json.loads(symbol.tojson())["nodes"]

    def ref(entry):
        nid, index, version = entry
        return nodes[nid]["name"] + ("[%d]" % index if index else "") + ("@%d" % version if version else "")
    lines = []
    for node in nodes:
        attrs = " ".join("%s=%s" % kv for kv in sorted(node.get("attrs", {}).items()) if kv[0] not in _SKIP_ATTRS)
        if node["op"] == "null":
            if attrs:
                lines.append("%s: %s" % (node["name"], attrs))
        else:
            lines.append(("%s = %s(%s) %s" % (node["name"], node["op"], ", ".join(map(ref, node["inputs"])),
                                              attrs)).rstrip())
    return lines


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

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


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


def _input(key, seed=0):
    case = CASES[key]
    rs = np.random.RandomState(seed)
    if key == "Embedding":
        return rs.randint(0, 10, size=case.shape).astype(np.float32)
    return rs.uniform(-1, 1, size=case.shape).astype(np.float32)


def _setup(key, seed=0):
    """(block, input, {param name without prefix: numpy value}): initialised, with the parameters drawn from
    RandomState(seed) in sorted-name order (running variances in [0.5, 1.5))."""
    block = CASES[key].make()
    x = _input(key, seed)
    block.initialize()
    block(nd.array(x))
    rs = np.random.RandomState(seed + 1)
    values = {}
    params = block.collect_params()
    for name in sorted(params.keys()):
        low, high = (0.5, 1.5) if name.endswith("running_var") else (-1, 1)
        value = rs.uniform(low, high, size=params[name].shape).astype(np.float32)
        params[name].set_data(nd.array(value))
        values[name[len(block.prefix):]] = value
    return block, x, values


def test_every_case_has_a_reference():
    assert sorted(REFS) == sorted(CASES)


@pytest.mark.parametrize("key", list(CASES))
def test_layer_output_matches_numpy(key):
    block, x, params = _setup(key)
    got = block(nd.array(x)).asnumpy()
    want = REFS[key](x.astype(np.float64), {k: v.astype(np.float64) for k, v in params.items()})
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("key", list(CASES))
def test_names_repr_and_params_match_mxnet(key):
    case = CASES[key]
    block = case.make()
    before, after = case.repr if isinstance(case.repr, tuple) else (case.repr, case.repr)
    assert repr(block) == before
    block.initialize()
    out = block(nd.array(np.random.RandomState(0).randint(0, 10, size=case.shape)) if key == "Embedding"
                else nd.ones(case.shape))
    assert repr(block) == after
    assert out.shape == case.out_shape
    got = [(name[len(block.prefix):], p.shape, p.grad_req) for name, p in block.collect_params().items()]
    assert got == case.params
    assert all(name.startswith(block.prefix) for name in block.collect_params())


@pytest.mark.parametrize("key", HYBRID)
def test_traced_graph_matches_mxnet(key):
    block = CASES[key].make()
    with mx.name.NameManager():
        out = block(mx.sym.var("data"))
    assert _graph_lines(out) == CASES[key].graph


@pytest.mark.parametrize("key", [k for k in HYBRID if not k.startswith("Dropout")])
def test_hybridized_equals_imperative(key):
    """Inference and training mode (batch statistics, running-stat updates) through the cached Plan equal the
    op-by-op run; a second call of the Plan gives the same result."""
    imperative, x, _ = _setup(key)
    with mx.name.NameManager():
        hybrid, _, _ = _setup(key)
    hybrid.hybridize()
    x = nd.array(x)
    for mode in (autograd.predict_mode, autograd.train_mode, autograd.predict_mode):
        with mode():
            want = imperative(x).asnumpy()
            got = [hybrid(x).asnumpy() for _ in range(1 if mode is autograd.train_mode else 2)]
        for g in got:
            np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-6)
    for (name, p), q in zip(imperative.collect_params().items(), hybrid.collect_params().values()):
        if key == "BatchNorm_fixed" and name.endswith("gamma"):
            continue    # MXNet writes ones into a fixed gamma imperatively, not in a graph run outside record()
        np.testing.assert_allclose(q.data().asnumpy(), p.data().asnumpy(), rtol=1e-6, atol=1e-7, err_msg=name)


# ---- layer behaviour beyond one inference call --------------------------------------------------------------

def test_deferred_initialisation_infers_the_input_channels():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(8, 3, padding=1), nn.BatchNorm(), nn.Conv2DTranspose(4, 2, strides=2), nn.LayerNorm(),
                nn.Dense(5), nn.PReLU())
    net.initialize()
    conv, bn, deconv, ln, dense, prelu = net
    pending = [conv.weight, bn.gamma, bn.running_var, deconv.weight, ln.gamma, dense.weight]
    assert [p.shape for p in pending] == [(8, 0, 3, 3), (0,), (0,), (0, 4, 2, 2), (0,), (5, 0)]
    assert all(p.pending for p in pending) and not prelu.alpha.pending       # PReLU's shape is (in_channels,)
    with pytest.raises(mx.gluon.DeferredInitializationError):
        conv.weight.data()
    net(nd.ones((2, 3, 4, 4)))
    assert [p.shape for p in pending] == [(8, 3, 3, 3), (8,), (8,), (8, 4, 2, 2), (8,), (5, 4 * 8 * 8)]
    np.testing.assert_array_equal(bn.running_var.data().asnumpy(), np.ones(8))      # running_variance 'ones'
    assert not conv.bias.data().asnumpy().any()
    given = nn.Conv2D(8, 3, in_channels=3)
    assert given.weight.shape == (8, 3, 3, 3)
    given.initialize()
    assert given.weight.data().shape == (8, 3, 3, 3)


def test_batchnorm_training_uses_batch_statistics_and_updates_the_running_ones():
    block, x, P = _setup("BatchNorm")
    with autograd.record():
        y = block(nd.array(x))
    x64 = x.astype(np.float64)
    mean, var = x64.mean(axis=(0, 2, 3)), x64.var(axis=(0, 2, 3))
    c = lambda v: v.reshape(1, -1, 1, 1)         # noqa: E731
    want = (x64 - c(mean)) / np.sqrt(c(var) + 1e-5) * c(P["gamma"]) + c(P["beta"])
    np.testing.assert_allclose(y.asnumpy(), want, rtol=1e-5, atol=1e-5)
    # the running stats are updated by the backward, as in MXNet: the forward alone leaves them
    np.testing.assert_array_equal(block.running_mean.data().asnumpy(), P["running_mean"])
    np.testing.assert_array_equal(block.running_var.data().asnumpy(), P["running_var"])
    y.backward()
    # momentum 0.9
    np.testing.assert_allclose(block.running_mean.data().asnumpy(), 0.9 * P["running_mean"] + 0.1 * mean,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(block.running_var.data().asnumpy(), 0.9 * P["running_var"] + 0.1 * var,
                               rtol=1e-5, atol=1e-6)


def test_batchnorm_without_scale_and_center_trains_neither_gamma_nor_beta():
    block, x, _ = _setup("BatchNorm_fixed")
    assert block.gamma.grad_req == "null" and block.beta.grad_req == "null"
    block.gamma.grad_req = "write"          # not differentiable: stays 'null', as in MXNet
    assert block.gamma.grad_req == "null"


def test_dropout_drops_in_training_only():
    block = nn.Dropout(0.5)
    x = nd.ones((200, 50))
    np.testing.assert_array_equal(block(x).asnumpy(), x.asnumpy())
    with autograd.record():
        y = block(x).asnumpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert 0.4 < (y == 0).mean() < 0.6
    shared = nn.Dropout(0.5, axes=(1,))
    with autograd.train_mode():
        z = shared(x).asnumpy()
    assert (z == z[:, :1]).all()            # one draw per row, shared along axis 1


def test_prelu_learns_its_slope():
    block, x, P = _setup("PReLU_channels")
    with autograd.record():
        y = block(nd.array(x))
    y.backward()
    want = (x * (x <= 0)).sum(axis=(0, 2))          # d/d alpha_c of sum(y) = sum of x where x <= 0
    np.testing.assert_allclose(block.alpha.grad().asnumpy(), want, rtol=1e-5)


def test_constructor_errors_match_mxnet():
    with pytest.raises(AssertionError, match="Slope coefficient for LeakyReLU must be no less than 0."):
        nn.LeakyReLU(-0.1)
    with pytest.raises(AssertionError, match="Function name no_such_op is not found in ndarray."):
        nn.Lambda("no_such_op")
    with pytest.raises(AssertionError, match="Function name no_such_op is not found in symbol/ndarray."):
        nn.HybridLambda("no_such_op")
    with pytest.raises(AssertionError, match="Only supports 'NCHW' and 'NHWC' layout for now"):
        nn.Conv2D(4, 3, layout="NCW")
    with pytest.raises(AssertionError, match="kernel_size must be a number or a list of 2 ints"):
        nn.Conv2D(4, (3, 3, 3))
    with pytest.raises(AssertionError, match="Only NCHW and NHWC layouts are valid for 2D Pooling"):
        nn.MaxPool2D(layout="NCW")


@pytest.mark.parametrize("make, shape", [(lambda: nn.Conv2D(4, 3), (2, 3, 5)),
                                         (lambda: nn.MaxPool1D(), (2, 3, 4, 4)),
                                         (lambda: nn.Conv3DTranspose(2, 2), (1, 2, 3, 3))])
def test_a_wrong_input_rank_names_the_layer(make, shape):
    block = make()
    block.initialize()
    with pytest.raises(mx.base.MXNetError, match=block.name):
        block(nd.ones(shape))


def test_sequential_warns_when_it_could_be_hybrid():
    net = nn.Sequential()
    net.add(nn.Dense(2))
    with pytest.warns(UserWarning, match="Consider using HybridSequential"):
        net.hybridize()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.add(nn.Lambda("relu"))
        net.hybridize()


def test_nested_names_follow_mxnet():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(4, 3, activation="relu"), nn.Conv2D(4, 3), nn.MaxPool2D(), nn.AvgPool2D(), nn.Flatten(),
                nn.Activation("relu"), nn.Activation("tanh"), nn.Dense(2))
    assert [b.name for b in net] == [
        "hybridsequential0_conv0", "hybridsequential0_conv1", "hybridsequential0_pool0", "hybridsequential0_pool1",
        "hybridsequential0_flatten0", "hybridsequential0_relu0", "hybridsequential0_tanh0",
        "hybridsequential0_dense0"]
    assert net[0].act.name == "hybridsequential0_conv0_relu"


# ---- losses ---------------------------------------------------------------------------------------------------

def _log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _per_sample(v, reduce=np.mean, batch_axis=0):
    return reduce(np.moveaxis(v, batch_axis, 0).reshape(v.shape[batch_axis], -1), axis=1)


_RS = np.random.RandomState(7)
_PRED = _RS.uniform(-2, 2, size=(4, 5))
_REAL = _RS.uniform(-2, 2, size=(4, 5))
_BINARY = (_RS.uniform(size=(4, 5)) > 0.5).astype(np.float64)
_SIGNED = 2 * _BINARY - 1
_CLASS = _RS.randint(0, 5, size=(4,)).astype(np.float64)
_DIST = np.exp(_log_softmax(_RS.uniform(-1, 1, size=(4, 5))))
_PROB = _RS.uniform(0.05, 0.95, size=(4, 5))
_SW = _RS.uniform(0, 1, size=(4, 1))

# (loss, inputs, numpy reference of the per-sample loss)
LOSSES = {
    "L2": (lambda: gloss.L2Loss(), (_PRED, _REAL), lambda p, y: _per_sample(0.5 * (y - p) ** 2)),
    "L2_weighted": (lambda: gloss.L2Loss(weight=3.0), (_PRED, _REAL, _SW),
                    lambda p, y, s: _per_sample(1.5 * (y - p) ** 2 * s)),
    "L1_batch_axis_1": (lambda: gloss.L1Loss(batch_axis=1), (_PRED, _REAL),
                        lambda p, y: _per_sample(np.abs(y - p), batch_axis=1)),
    "SigmoidBCE": (lambda: gloss.SigmoidBCELoss(), (_PRED, _BINARY),
                   lambda p, y: _per_sample(-(y * np.log(_sigmoid(p)) + (1 - y) * np.log(1 - _sigmoid(p))))),
    "SigmoidBCE_from_sigmoid": (lambda: gloss.SigmoidBinaryCrossEntropyLoss(from_sigmoid=True), (_PROB, _BINARY),
                                lambda p, y: _per_sample(-(y * np.log(p) + (1 - y) * np.log(1 - p)))),
    "SoftmaxCE": (lambda: gloss.SoftmaxCrossEntropyLoss(), (_PRED, _CLASS),
                  lambda p, y: -_log_softmax(p)[np.arange(4), y.astype(int)]),
    "SoftmaxCE_weighted": (lambda: gloss.SoftmaxCELoss(weight=0.5), (_PRED, _CLASS, _SW),
                           lambda p, y, s: -0.5 * s[:, 0] * _log_softmax(p)[np.arange(4), y.astype(int)]),
    "SoftmaxCE_dense": (lambda: gloss.SoftmaxCrossEntropyLoss(sparse_label=False), (_PRED, _DIST),
                        lambda p, y: -(y * _log_softmax(p)).sum(axis=1)),
    "SoftmaxCE_axis0_logits": (lambda: gloss.SoftmaxCrossEntropyLoss(axis=0, from_logits=True, batch_axis=1),
                               (_log_softmax(_PRED, 0), np.array([0.0, 1.0, 2.0, 3.0, 1.0])),
                               lambda p, y: -p[y.astype(int), np.arange(5)]),
    "KLDiv": (lambda: gloss.KLDivLoss(), (_log_softmax(_PRED), _DIST),
              lambda p, y: _per_sample(y * (np.log(y + 1e-12) - p), np.sum)),
    "KLDiv_logits": (lambda: gloss.KLDivLoss(from_logits=False), (_PRED, _DIST),
                     lambda p, y: _per_sample(y * (np.log(y + 1e-12) - _log_softmax(p)), np.sum)),
    "Huber": (lambda: gloss.HuberLoss(rho=0.5), (_PRED, _REAL),
              lambda p, y: _per_sample(np.where(np.abs(y - p) > 0.5, np.abs(y - p) - 0.25, (y - p) ** 2))),
    "Hinge": (lambda: gloss.HingeLoss(), (_PRED, _SIGNED), lambda p, y: _per_sample(np.maximum(0, 1 - p * y))),
    "SquaredHinge": (lambda: gloss.SquaredHingeLoss(margin=2), (_PRED, _SIGNED),
                     lambda p, y: _per_sample(np.maximum(0, 2 - p * y) ** 2)),
    "Logistic": (lambda: gloss.LogisticLoss(), (_PRED, _SIGNED),
                 lambda p, y: _per_sample(np.log1p(np.exp(-p * y)))),
    "Logistic_binary": (lambda: gloss.LogisticLoss(label_format="binary"), (_PRED, _BINARY),
                        lambda p, y: _per_sample(np.log1p(np.exp(-p * (2 * y - 1))))),
    "Triplet": (lambda: gloss.TripletLoss(), (_PRED, _REAL, _PROB),
                lambda p, q, n: np.maximum(0, ((q - p) ** 2 - (n - p) ** 2).sum(axis=1) + 1)),
    "PoissonNLL": (lambda: gloss.PoissonNLLLoss(), (_PRED, _PROB), lambda p, t: np.mean(np.exp(p) - t * p)),
    "CosineEmbedding": (lambda: gloss.CosineEmbeddingLoss(), (_PRED, _REAL, np.array([1.0, -1.0, 1.0, -1.0])),
                        lambda a, b, y: np.where(y == 1, 1 - (a * b).sum(1) / np.linalg.norm(a, axis=1)
                                                 / np.linalg.norm(b, axis=1),
                                                 np.maximum(0, (a * b).sum(1) / np.linalg.norm(a, axis=1)
                                                            / np.linalg.norm(b, axis=1)))[:, None]),
}


@pytest.mark.parametrize("key", list(LOSSES))
def test_loss_matches_numpy_imperative_and_hybridized(key):
    make, inputs, ref = LOSSES[key]
    want = ref(*inputs)
    args = [nd.array(a) for a in inputs]
    block = make()
    got = block(*args).asnumpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    block.hybridize()
    np.testing.assert_allclose(block(*args).asnumpy(), got, rtol=1e-6, atol=1e-7)


def test_loss_gradient_of_softmax_cross_entropy():
    pred = nd.array(_PRED)
    pred.attach_grad()
    with autograd.record():
        loss = gloss.SoftmaxCrossEntropyLoss()(pred, nd.array(_CLASS))
    loss.backward()
    want = np.exp(_log_softmax(_PRED))
    want[np.arange(4), _CLASS.astype(int)] -= 1
    np.testing.assert_allclose(pred.grad.asnumpy(), want, rtol=1e-5, atol=1e-6)


# Printed by MXNet 1.9.1: repr and _graph_lines of loss(sym.var('pred'), sym.var('label'), ...).
LOSS_GRAPHS = [
    (lambda: gloss.SoftmaxCrossEntropyLoss(), 2, "SoftmaxCrossEntropyLoss(batch_axis=0, w=None)",
     ["softmaxcrossentropyloss0_log_softmax0 = log_softmax(pred) axis=-1",
      "softmaxcrossentropyloss0_pick0 = pick(softmaxcrossentropyloss0_log_softmax0, label) axis=-1 keepdims=True",
      "softmaxcrossentropyloss0__mulscalar0 = _mul_scalar(softmaxcrossentropyloss0_pick0) scalar=-1.0",
      "softmaxcrossentropyloss0_mean0 = mean(softmaxcrossentropyloss0__mulscalar0) axis=0 exclude=True"]),
    (lambda: gloss.SoftmaxCrossEntropyLoss(sparse_label=False, from_logits=True, weight=0.5), 2,
     "SoftmaxCrossEntropyLoss(batch_axis=0, w=0.5)",
     ["softmaxcrossentropyloss0_reshape_like0 = reshape_like(label, pred)",
      "softmaxcrossentropyloss0__mul0 = elemwise_mul(pred, softmaxcrossentropyloss0_reshape_like0)",
      "softmaxcrossentropyloss0_sum0 = sum(softmaxcrossentropyloss0__mul0) axis=-1 keepdims=True",
      "softmaxcrossentropyloss0__mulscalar0 = _mul_scalar(softmaxcrossentropyloss0_sum0) scalar=-1.0",
      "softmaxcrossentropyloss0__mulscalar1 = _mul_scalar(softmaxcrossentropyloss0__mulscalar0) scalar=0.5",
      "softmaxcrossentropyloss0_mean0 = mean(softmaxcrossentropyloss0__mulscalar1) axis=0 exclude=True"]),
    (lambda: gloss.L2Loss(), 3, "L2Loss(batch_axis=0, w=1.0)",
     ["l2loss0_reshape_like0 = reshape_like(label, pred)",
      "l2loss0__minus0 = elemwise_sub(l2loss0_reshape_like0, pred)",
      "l2loss0_square0 = square(l2loss0__minus0)",
      "l2loss0_broadcast_mul0 = broadcast_mul(l2loss0_square0, sample_weight)",
      "l2loss0__mulscalar0 = _mul_scalar(l2loss0_broadcast_mul0) scalar=0.5",
      "l2loss0_mean0 = mean(l2loss0__mulscalar0) axis=0 exclude=True"]),
    (lambda: gloss.HuberLoss(rho=0.5), 2, "HuberLoss(batch_axis=0, w=None)",
     ["huberloss0_reshape_like0 = reshape_like(label, pred)",
      "huberloss0__minus0 = elemwise_sub(huberloss0_reshape_like0, pred)",
      "huberloss0_abs0 = abs(huberloss0__minus0)",
      "huberloss0__greater_scalar0 = _greater_scalar(huberloss0_abs0) scalar=0.5",
      "huberloss0__minusscalar0 = _minus_scalar(huberloss0_abs0) scalar=0.25",
      "huberloss0_square0 = square(huberloss0_abs0)",
      "huberloss0__mulscalar0 = _mul_scalar(huberloss0_square0) scalar=1.0",
      "huberloss0_where0 = where(huberloss0__greater_scalar0, huberloss0__minusscalar0, huberloss0__mulscalar0)",
      "huberloss0_mean0 = mean(huberloss0_where0) axis=0 exclude=True"]),
    (lambda: gloss.KLDivLoss(from_logits=False, axis=1), 2, "KLDivLoss(batch_axis=0, w=None)",
     ["kldivloss0__plusscalar0 = _plus_scalar(label) scalar=1e-12",
      "kldivloss0_log0 = log(kldivloss0__plusscalar0)",
      "kldivloss0_log_softmax0 = log_softmax(pred) axis=1",
      "kldivloss0__minus0 = elemwise_sub(kldivloss0_log0, kldivloss0_log_softmax0)",
      "kldivloss0__mul0 = elemwise_mul(label, kldivloss0__minus0)",
      "kldivloss0_sum0 = sum(kldivloss0__mul0) axis=0 exclude=True"]),
]


@pytest.mark.parametrize("make, n_inputs, want_repr, want_graph", LOSS_GRAPHS)
def test_loss_repr_and_graph_match_mxnet(make, n_inputs, want_repr, want_graph):
    block = make()
    assert repr(block) == want_repr
    with mx.name.NameManager():
        out = block(*[mx.sym.var(n) for n in ("pred", "label", "sample_weight")[:n_inputs]])
    assert _graph_lines(out) == want_graph
