"""Basic layers: containers (Sequential, HybridSequential), Dense, Dropout, BatchNorm, InstanceNorm, LayerNorm,
Embedding, Flatten, Lambda and HybridLambda.

Each layer is a HybridBlock whose `hybrid_forward(F, ...)` calls the registry's ops through F (mx.nd or mx.sym),
with MXNet 1.9.1's constructor defaults, parameter names, op arguments and node names (`fwd`; ops MXNet leaves
unnamed keep their automatic names, e.g. `flatten0`), so a hybridized or exported net is node for node MXNet's
graph. `__repr__` prints what MXNet prints.
"""
import warnings

import numpy as np

from ... import autograd, ndarray as nd, symbol as sym
from ...ndarray.calls import BoundCall, BoundChain
from .. import sparse_grad
from ..block import Block, HybridBlock
from ..utils import _indent
from .activations import Activation

__all__ = ["Sequential", "HybridSequential", "Dense", "Dropout", "Embedding", "BatchNorm", "InstanceNorm",
           "LayerNorm", "Flatten", "Lambda", "HybridLambda", "Activation"]


def _children_repr(block):
    modstr = "\n".join("  (%s): %s" % (key, _indent(repr(child), 2)) for key, child in block._children.items())
    return "%s(\n%s\n)" % (type(block).__name__, modstr)


def _kwargs_repr(kwargs):
    return ", ".join("%s=%r" % (k, v) for k, v in kwargs.items())


class Sequential(Block):
    """Stacks Blocks sequentially.

    Examples
    --------
    >>> import dataflow as mx
    >>> net = mx.gluon.nn.Sequential()
    >>> with net.name_scope():
    ...     net.add(mx.gluon.nn.Dense(4, activation='relu'), mx.gluon.nn.Dense(2))
    >>> len(net), net[1].name.endswith('dense1')
    (2, True)
    """

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def add(self, *blocks):
        """Add blocks on top of the stack."""
        for block in blocks:
            self.register_child(block)

    def forward(self, x):
        for block in self._children.values():
            x = block(x)
        return x

    def __repr__(self):
        return _children_repr(self)

    def __getitem__(self, key):
        layers = list(self._children.values())[key]
        if isinstance(layers, list):
            net = type(self)(prefix=self._prefix)
            with net.name_scope():
                net.add(*layers)
            return net
        return layers

    def __len__(self):
        return len(self._children)

    def hybridize(self, active=True, **kwargs):
        """Hybridize the HybridBlock children (warns, as MXNet does, when all of them are HybridBlocks)."""
        if self._children and all(isinstance(c, HybridBlock) for c in self._children.values()):
            warnings.warn("All children of this Sequential layer '%s' are HybridBlocks. Consider using "
                          "HybridSequential for the best performance." % self.prefix, stacklevel=2)
        super().hybridize(active, **kwargs)


class HybridSequential(HybridBlock):
    """Stacks HybridBlocks sequentially.

    Examples
    --------
    >>> import dataflow as mx
    >>> with mx.name.NameManager():
    ...     net = mx.gluon.nn.HybridSequential()
    ...     with net.name_scope():
    ...         net.add(mx.gluon.nn.Dense(4, activation='relu'), mx.gluon.nn.Dense(2))
    >>> net
    HybridSequential(
      (0): Dense(None -> 4, Activation(relu))
      (1): Dense(None -> 2, linear)
    )
    """

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def add(self, *blocks):
        """Add blocks on top of the stack."""
        for block in blocks:
            self.register_child(block)

    def hybrid_forward(self, F, x):
        for block in self._children.values():
            x = block(x)
        return x

    def __repr__(self):
        return _children_repr(self)

    __getitem__ = Sequential.__getitem__
    __len__ = Sequential.__len__


class Dense(HybridBlock):
    """A fully connected layer: `activation(dot(x, weight.T) + bias)`.

    Parameters
    ----------
    units : int, the output size
    activation : str, optional, an Activation applied to the output
    use_bias : bool
    flatten : bool, flatten all but the first axis of the input (else apply to the last axis)
    dtype : str or numpy dtype of the parameters
    weight_initializer, bias_initializer : Initializer or str
    in_units : int, the input size (0: inferred at the first forward)
    """

    def __init__(self, units, activation=None, use_bias=True, flatten=True, dtype="float32",
                 weight_initializer=None, bias_initializer="zeros", in_units=0, **kwargs):
        super().__init__(**kwargs)
        self._flatten = flatten
        with self.name_scope():
            self._units = units
            self._in_units = in_units
            self.weight = self.params.get("weight", shape=(units, in_units), init=weight_initializer, dtype=dtype,
                                          allow_deferred_init=True)
            if use_bias:
                self.bias = self.params.get("bias", shape=(units,), init=bias_initializer, dtype=dtype,
                                            allow_deferred_init=True)
            else:
                self.bias = None
            self.act = Activation(activation, prefix=activation + "_") if activation is not None else None

    def hybrid_forward(self, F, x, weight, bias=None):
        act = self.act
        if F is nd:
            if act is not None and type(act) is Activation and not (
                    act._active or act._forward_pre_hooks or act._forward_hooks):
                chain = self._fc_act_call(bias is None, act)
                return chain(x, weight) if bias is None else chain(x, weight, bias)
            out = self._fc_call(bias is None)
            out = out(x, weight) if bias is None else out(x, weight, bias)
        else:
            out = F.FullyConnected(x, weight, bias, name="fwd", **self._fc_params(bias is None))
        return out if act is None else act(out)

    def _fc_params(self, no_bias):
        return dict(no_bias=no_bias, num_hidden=self._units, flatten=self._flatten)

    def _fc_call(self, no_bias):
        """This layer's `nd.FullyConnected` as a `BoundCall`, parsed once (imperative calls repeat it)."""
        bound = self.__dict__.get("_fc_bound")
        if bound is None or bound.params["no_bias"] is not no_bias:
            bound = self.__dict__["_fc_bound"] = BoundCall("FullyConnected", 2 if no_bias else 3,
                                                           **self._fc_params(no_bias))
        return bound

    def _fc_act_call(self, no_bias, act):
        """FullyConnected then the activation as a `BoundChain`: one engine push while autograd does not record
        (Note [chained calls] in ndarray/calls.py); the Activation block runs only when hooks or hybridizing
        make it more than its op."""
        kept = self.__dict__.get("_fc_act_bound")       # (no_bias, act, act_type, chain)
        if kept is None or kept[0] is not no_bias or kept[1] is not act or kept[2] != act._act_type:
            kept = self.__dict__["_fc_act_bound"] = (no_bias, act, act._act_type,
                                                     BoundChain(self._fc_call(no_bias), act.bound_call()))
        return kept[3]

    def __repr__(self):
        shape = self.weight.shape
        return "%s(%s -> %s, %s)" % (type(self).__name__, shape[1] if shape[1] else None, shape[0],
                                     self.act if self.act else "linear")


class Dropout(HybridBlock):
    """Dropout: in training, zero each element with probability `rate` and scale the rest by 1/(1-rate).

    Parameters
    ----------
    rate : float, the fraction of the input to drop
    axes : tuple of int, the axes on which the mask is shared (variational dropout)

    Examples
    --------
    >>> import dataflow as mx
    >>> drop = mx.gluon.nn.Dropout(0.5)
    >>> drop
    Dropout(p = 0.5, axes=())
    >>> drop(mx.nd.ones((2,))).asnumpy()         # not training: the identity
    array([1., 1.], dtype=float32)
    """

    def __init__(self, rate, axes=(), **kwargs):
        super().__init__(**kwargs)
        self._rate = rate
        self._axes = axes

    def hybrid_forward(self, F, x):
        if self._rate > 0:
            return F.Dropout(x, p=self._rate, axes=self._axes, name="fwd", cudnn_off=False)
        return F.identity(x)

    def __repr__(self):
        return "%s(p = %s, axes=%s)" % (type(self).__name__, self._rate, self._axes)


class _BatchNorm(HybridBlock):
    """BatchNorm's body; `fuse_relu` would select MXNet's fused contrib op, which is not in the registry."""

    def __init__(self, axis=1, momentum=0.9, epsilon=1e-5, center=True, scale=True, use_global_stats=False,
                 fuse_relu=False, beta_initializer="zeros", gamma_initializer="ones",
                 running_mean_initializer="zeros", running_variance_initializer="ones", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        if fuse_relu:
            raise NotImplementedError("BatchNorm with fuse_relu (contrib.BatchNormWithReLU) is not available")
        self._kwargs = {"axis": axis, "eps": epsilon, "momentum": momentum, "fix_gamma": not scale,
                        "use_global_stats": use_global_stats}
        self.fuse_relu = fuse_relu
        if in_channels != 0:
            self.in_channels = in_channels
        get = self.params.get
        self.gamma = get("gamma", grad_req="write" if scale else "null", shape=(in_channels,),
                         init=gamma_initializer, allow_deferred_init=True, differentiable=scale)
        self.beta = get("beta", grad_req="write" if center else "null", shape=(in_channels,),
                        init=beta_initializer, allow_deferred_init=True, differentiable=center)
        self.running_mean = get("running_mean", grad_req="null", shape=(in_channels,),
                                init=running_mean_initializer, allow_deferred_init=True, differentiable=False)
        self.running_var = get("running_var", grad_req="null", shape=(in_channels,),
                               init=running_variance_initializer, allow_deferred_init=True, differentiable=False)

    def cast(self, dtype):
        if np.dtype(dtype).name == "float16":       # the statistics stay float32 (the op's rule)
            dtype = "float32"
        super().cast(dtype)

    def hybrid_forward(self, F, x, gamma, beta, running_mean, running_var):
        return F.BatchNorm(x, gamma, beta, running_mean, running_var, name="fwd", **self._kwargs)

    def __repr__(self):
        in_channels = self.gamma.shape[0]
        return "%s(%s, in_channels=%s)" % (type(self).__name__, _kwargs_repr(self._kwargs),
                                           in_channels if in_channels else None)


class BatchNorm(_BatchNorm):
    """Batch normalization (Ioffe and Szegedy, 2014): normalise each channel by the batch statistics in
    training and by the running ones in inference. As in MXNet, `running_mean`/`running_var` are updated with
    `momentum` by the backward pass (a recorded forward alone leaves them), and without `scale` the layer's gamma
    is held at 1 by writing ones into it.

    Parameters
    ----------
    axis : int, default 1, the channel axis
    momentum : float, default 0.9
    epsilon : float, default 1e-5
    center : bool, add `beta` (else beta is fixed, grad_req 'null')
    scale : bool, multiply by `gamma` (else `fix_gamma`: gamma is held at 1)
    use_global_stats : bool, normalise by the running statistics in training too
    beta_initializer, gamma_initializer, running_mean_initializer, running_variance_initializer : Initializer
    in_channels : int, default 0 (inferred at the first forward)

    Examples
    --------
    >>> import dataflow as mx
    >>> with mx.name.NameManager():
    ...     bn = mx.gluon.nn.BatchNorm()
    >>> [p.split('_', 1)[1] for p in bn.collect_params()]
    ['gamma', 'beta', 'running_mean', 'running_var']
    >>> bn
    BatchNorm(axis=1, eps=1e-05, momentum=0.9, fix_gamma=False, use_global_stats=False, in_channels=None)
    """

    def __init__(self, axis=1, momentum=0.9, epsilon=1e-5, center=True, scale=True, use_global_stats=False,
                 beta_initializer="zeros", gamma_initializer="ones", running_mean_initializer="zeros",
                 running_variance_initializer="ones", in_channels=0, **kwargs):
        super().__init__(axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
                         use_global_stats=use_global_stats, fuse_relu=False, beta_initializer=beta_initializer,
                         gamma_initializer=gamma_initializer, running_mean_initializer=running_mean_initializer,
                         running_variance_initializer=running_variance_initializer, in_channels=in_channels,
                         **kwargs)


class Embedding(HybridBlock):
    """Maps integer indices to dense vectors: `out[..., :] = weight[index]`.

    Parameters
    ----------
    input_dim : int, the vocabulary size
    output_dim : int, the embedding size
    dtype : str, default 'float32'
    weight_initializer : Initializer
    sparse_grad : bool, the weight's gradient is a RowSparseNDArray of the rows seen (Note [row_sparse gradients]
        in gluon/sparse_grad.py)
    """

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None, sparse_grad=False,
                 **kwargs):
        super().__init__(**kwargs)
        grad_stype = "row_sparse" if sparse_grad else "default"
        self._kwargs = {"input_dim": input_dim, "output_dim": output_dim, "dtype": dtype,
                        "sparse_grad": sparse_grad}
        self.weight = self.params.get("weight", shape=(input_dim, output_dim), init=weight_initializer,
                                      dtype=dtype, allow_deferred_init=True, grad_stype=grad_stype)

    def hybrid_forward(self, F, x, weight):
        if self._kwargs["sparse_grad"] and isinstance(weight, nd.NDArray) and autograd.is_recording() \
                and self.weight.grad_req != "null":
            return sparse_grad.embedding(self.weight, x, weight, **self._kwargs)   # Note [row_sparse gradients]
        return F.Embedding(x, weight, name="fwd", **self._kwargs)

    def __repr__(self):
        return "%s(%s -> %s, %s)" % (type(self).__name__, self._kwargs["input_dim"], self._kwargs["output_dim"],
                                     self._kwargs["dtype"])


class Flatten(HybridBlock):
    """Flattens all but the first axis: (N, d1, ..., dk) -> (N, d1 * ... * dk)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def hybrid_forward(self, F, x):
        return F.flatten(x)

    def __repr__(self):
        return type(self).__name__


class InstanceNorm(HybridBlock):
    """Instance normalization (Ulyanov et al., 2016): each sample and channel normalised over its other axes.

    Parameters
    ----------
    axis : int, default 1, the channel axis
    epsilon : float, default 1e-5
    center : bool, default True, learn `beta`
    scale : bool, default False, learn `gamma`
    beta_initializer, gamma_initializer : Initializer
    in_channels : int, default 0 (inferred)
    """

    def __init__(self, axis=1, epsilon=1e-5, center=True, scale=False, beta_initializer="zeros",
                 gamma_initializer="ones", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"eps": epsilon, "axis": axis, "center": center, "scale": scale}
        self._axis = axis
        self._epsilon = epsilon
        self.gamma = self.params.get("gamma", grad_req="write" if scale else "null", shape=(in_channels,),
                                     init=gamma_initializer, allow_deferred_init=True)
        self.beta = self.params.get("beta", grad_req="write" if center else "null", shape=(in_channels,),
                                    init=beta_initializer, allow_deferred_init=True)

    def hybrid_forward(self, F, x, gamma, beta):
        if self._axis == 1:
            return F.InstanceNorm(x, gamma, beta, name="fwd", eps=self._epsilon)
        x = F.swapaxes(x, dim1=1, dim2=self._axis)
        return F.swapaxes(F.InstanceNorm(x, gamma, beta, name="fwd", eps=self._epsilon), dim1=1, dim2=self._axis)

    def __repr__(self):
        return "%s(%s, in_channels=%s)" % (type(self).__name__, _kwargs_repr(self._kwargs), self.gamma.shape[0])


class LayerNorm(HybridBlock):
    """Layer normalization (Ba et al., 2016): normalise over `axis` (default the last), then scale and shift.

    Parameters
    ----------
    axis : int, default -1
    epsilon : float, default 1e-5
    center, scale : bool, learn `beta` / `gamma`
    beta_initializer, gamma_initializer : Initializer
    in_channels : int, default 0 (inferred)
    """

    def __init__(self, axis=-1, epsilon=1e-5, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", in_channels=0, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._kwargs = {"eps": epsilon, "axis": axis, "center": center, "scale": scale}
        self._axis = axis
        self._epsilon = epsilon
        self._center = center
        self._scale = scale
        self.gamma = self.params.get("gamma", grad_req="write" if scale else "null", shape=(in_channels,),
                                     init=gamma_initializer, allow_deferred_init=True)
        self.beta = self.params.get("beta", grad_req="write" if center else "null", shape=(in_channels,),
                                    init=beta_initializer, allow_deferred_init=True)

    def hybrid_forward(self, F, data, gamma, beta):
        return F.LayerNorm(data, gamma=gamma, beta=beta, axis=self._axis, eps=self._epsilon)

    def __repr__(self):
        return "%s(%s, in_channels=%s)" % (type(self).__name__, _kwargs_repr(self._kwargs), self.gamma.shape[0])


class Lambda(Block):
    """Wraps a function (or the name of an `mx.nd` function) as a Block.

    Examples
    --------
    >>> import dataflow as mx
    >>> block = mx.gluon.nn.Lambda('tanh')
    >>> block
    Lambda(tanh)
    >>> mx.gluon.nn.Lambda(lambda x: x * 2)(mx.nd.ones((1,))).asnumpy()
    array([2.], dtype=float32)
    """

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            assert hasattr(nd, function), "Function name %s is not found in ndarray." % function
            self._func_impl = getattr(nd, function)
        elif callable(function):
            self._func_impl = function
        else:
            raise ValueError("Unrecognized function in lambda: {} of type {}".format(function, type(function)))

    def forward(self, *args):
        return self._func_impl(*args)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self._func_impl.__name__)


class HybridLambda(HybridBlock):
    """Wraps `function(F, x, *args)` (or the name of a function in both `mx.nd` and `mx.sym`) as a HybridBlock.

    Examples
    --------
    >>> import dataflow as mx
    >>> block = mx.gluon.nn.HybridLambda(lambda F, x: F.LeakyReLU(x, slope=0.1))
    >>> block
    HybridLambda(<lambda>)
    >>> block(mx.nd.array([-1.0])).asnumpy()
    array([-0.1], dtype=float32)
    """

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            assert hasattr(nd, function) and hasattr(sym, function), \
                "Function name %s is not found in symbol/ndarray." % function
            impls = {sym: getattr(sym, function), nd: getattr(nd, function)}
            self._func = lambda F, *args: impls[F](*args)
            self._func_name = function
        elif callable(function):
            self._func = function
            self._func_name = function.__name__
        else:
            raise ValueError("Unrecognized function in lambda: {} of type {}".format(function, type(function)))

    def hybrid_forward(self, F, x, *args):
        return self._func(F, x, *args)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self._func_name)
