"""MXNet 1.9.1's `gluon.contrib.nn` layers.

Constructors, defaults and names are MXNet's (the model zoo builds its branches from `HybridConcurrent` and
`Identity`, so their prefixes decide the zoo's parameter names). `SparseEmbedding` keeps MXNet's row_sparse
weight in the Trainer's kvstore (Note [row_sparse parameters] in gluon/parameter_sparse.py). One layer is
simplified, with the same maths:

- `SyncBatchNorm` runs in one process on one device, where synchronising statistics across devices is the
  identity: it is `BatchNorm` over axis 1 (the graph node is a `BatchNorm`, not `_contrib_SyncBatchNorm`).
"""
import warnings

from ... import nn
from .... import context, ndarray as nd
from ... import sparse_grad
from ...block import Block, HybridBlock

__all__ = ["Concurrent", "HybridConcurrent", "Identity", "SparseEmbedding", "SyncBatchNorm", "PixelShuffle1D",
           "PixelShuffle2D", "PixelShuffle3D"]


class Concurrent(nn.Sequential):
    """Feeds the input to every child and concatenates their outputs along `axis` (default -1).

    Examples
    --------
    >>> import dataflow as mx
    >>> net = mx.gluon.contrib.nn.Concurrent(axis=1)
    >>> net.add(mx.gluon.contrib.nn.Identity(), mx.gluon.nn.Lambda(lambda x: x * 2))
    >>> net(mx.nd.ones((1, 2))).asnumpy()
    array([[1., 1., 2., 2.]], dtype=float32)
    """

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def forward(self, x):
        return nd.concat(*[block(x) for block in self._children.values()], dim=self.axis)


class HybridConcurrent(nn.HybridSequential):
    """Feeds the input to every child HybridBlock and concatenates their outputs along `axis` (default -1)."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def hybrid_forward(self, F, x):
        return F.concat(*[block(x) for block in self._children.values()], dim=self.axis)


class Identity(HybridBlock):
    """Returns its input unchanged (the shortcut branch of a HybridConcurrent)."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def hybrid_forward(self, F, x):
        return x


class SparseEmbedding(Block):
    """Maps integer indices to dense vectors, as `nn.Embedding`, for vocabularies too large to hold on every worker:
    the weight and its gradient are row_sparse. Each forward pulls the rows it looks up from the Trainer's kvstore
    (`weight.row_sparse_data(x)`), so a Trainer must be created before the first forward; the gradient holds the
    rows looked up, and the Trainer's kvstore updates only those (Note [row_sparse parameters] in
    gluon/parameter_sparse.py).

    Parameters
    ----------
    input_dim : int, the vocabulary size
    output_dim : int, the embedding size
    dtype : str, default 'float32'
    weight_initializer : Initializer
    """

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"input_dim": input_dim, "output_dim": output_dim, "dtype": dtype, "sparse_grad": True}
        self.weight = self.params.get("weight", shape=(input_dim, output_dim), init=weight_initializer, dtype=dtype,
                                      grad_stype="row_sparse", stype="row_sparse")

    def forward(self, x):
        return sparse_grad.embedding(self.weight, x, self.weight.row_sparse_data(x), **self._kwargs)

    def __repr__(self):
        return "{}({input_dim} -> {output_dim}, {dtype})".format(type(self).__name__, **self._kwargs)


class SyncBatchNorm(nn.BatchNorm):
    """Batch normalization with statistics synchronised over `num_devices` devices (Zhang et al., 2018).

    In one process on one device the synchronised statistics are the batch's own, so this is `BatchNorm` over
    axis 1 with MXNet's SyncBatchNorm constructor and parameter names. `num_devices` is accepted and recorded.
    """

    def __init__(self, in_channels=0, num_devices=None, momentum=0.9, epsilon=1e-5, center=True, scale=True,
                 use_global_stats=False, beta_initializer="zeros", gamma_initializer="ones",
                 running_mean_initializer="zeros", running_variance_initializer="ones", **kwargs):
        super().__init__(axis=1, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
                         use_global_stats=use_global_stats, beta_initializer=beta_initializer,
                         gamma_initializer=gamma_initializer, running_mean_initializer=running_mean_initializer,
                         running_variance_initializer=running_variance_initializer, in_channels=in_channels,
                         **kwargs)
        if num_devices is None:
            warnings.warn("Caution using SyncBatchNorm: if not using all the GPUs, please mannually set "
                          "num_devices", UserWarning, stacklevel=2)
            num_devices = max(context.num_gpus(), 1)
        self.num_devices = num_devices

    def __repr__(self):
        kwargs = dict(self._kwargs, ndev=self.num_devices, key=self.prefix)
        kwargs.pop("axis")
        in_channels = self.gamma.shape[0]
        return "%s(%s, in_channels=%s)" % (type(self).__name__, ", ".join("%s=%r" % kv for kv in kwargs.items()),
                                           in_channels if in_channels else None)


def _factors(factor, n):
    """`factor` as an n-tuple of ints (an int is repeated)."""
    try:
        return (int(factor),) * n
    except TypeError:
        factors = tuple(int(f) for f in factor)
        assert len(factors) == n, "wrong length {}".format(len(factors))
        return factors


class PixelShuffle1D(HybridBlock):
    """Moves channel groups into the width: (N, f*C, W) -> (N, C, W*f), out[n, c, w*f + i] = x[n, c*f + i, w].

    Examples
    --------
    >>> import dataflow as mx
    >>> mx.gluon.contrib.nn.PixelShuffle1D(2)(mx.nd.zeros((1, 8, 3))).shape
    (1, 4, 6)
    """

    def __init__(self, factor):
        super().__init__()
        self._factor = int(factor)

    def hybrid_forward(self, F, x):
        f = self._factor
        x = F.reshape(x, (0, -4, -1, f, 0))      # (N, C, f, W)
        x = F.transpose(x, (0, 1, 3, 2))         # (N, C, W, f)
        return F.reshape(x, (0, 0, -3))          # (N, C, W*f)

    def __repr__(self):
        return "{}({})".format(type(self).__name__, self._factor)


class PixelShuffle2D(HybridBlock):
    """Moves channel groups into the image (Shi et al., 2016): (N, f1*f2*C, H, W) -> (N, C, H*f1, W*f2),
    out[n, c, h*f1 + i, w*f2 + j] = x[n, (c*f1 + i)*f2 + j, h, w].

    Examples
    --------
    >>> import dataflow as mx
    >>> mx.gluon.contrib.nn.PixelShuffle2D((2, 3))(mx.nd.zeros((1, 12, 3, 5))).shape
    (1, 2, 6, 15)
    """

    def __init__(self, factor):
        super().__init__()
        self._factors = _factors(factor, 2)

    def hybrid_forward(self, F, x):
        f1, f2 = self._factors
        x = F.reshape(x, (0, -4, -1, f1 * f2, 0, 0))    # (N, C, f1*f2, H, W)
        x = F.reshape(x, (0, 0, -4, f1, f2, 0, 0))      # (N, C, f1, f2, H, W)
        x = F.transpose(x, (0, 1, 4, 2, 5, 3))          # (N, C, H, f1, W, f2)
        return F.reshape(x, (0, 0, -3, -3))             # (N, C, H*f1, W*f2)

    def __repr__(self):
        return "{}({})".format(type(self).__name__, self._factors)


class PixelShuffle3D(HybridBlock):
    """Moves channel groups into the volume: (N, f1*f2*f3*C, D, H, W) -> (N, C, D*f1, H*f2, W*f3).

    Examples
    --------
    >>> import dataflow as mx
    >>> mx.gluon.contrib.nn.PixelShuffle3D((2, 3, 4))(mx.nd.zeros((1, 48, 3, 5, 7))).shape
    (1, 2, 6, 15, 28)
    """

    def __init__(self, factor):
        super().__init__()
        self._factors = _factors(factor, 3)

    def hybrid_forward(self, F, x):
        # a 7-D transpose would do it at once; MXNet's ops stop at 6 axes, so the factors move in one at a time
        f1, f2, f3 = self._factors
        x = F.reshape(x, (0, -4, -1, f1 * f2 * f3, 0, 0, 0))   # (N, C, f1*f2*f3, D, H, W)
        x = F.swapaxes(x, 2, 3)                                # (N, C, D, f1*f2*f3, H, W)
        x = F.reshape(x, (0, 0, 0, -4, f1, f2 * f3, 0, 0))     # (N, C, D, f1, f2*f3, H, W)
        x = F.reshape(x, (0, 0, -3, 0, 0, 0))                  # (N, C, D*f1, f2*f3, H, W)
        x = F.swapaxes(x, 3, 4)                                # (N, C, D*f1, H, f2*f3, W)
        x = F.reshape(x, (0, 0, 0, 0, -4, f2, f3, 0))          # (N, C, D*f1, H, f2, f3, W)
        x = F.reshape(x, (0, 0, 0, -3, 0, 0))                  # (N, C, D*f1, H*f2, f3, W)
        x = F.swapaxes(x, 4, 5)                                # (N, C, D*f1, H*f2, W, f3)
        return F.reshape(x, (0, 0, 0, 0, -3))                  # (N, C, D*f1, H*f2, W*f3)

    def __repr__(self):
        return "{}({})".format(type(self).__name__, self._factors)
