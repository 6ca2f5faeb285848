"""Activation layers: Activation, LeakyReLU, PReLU, ELU, SELU, Swish, GELU.

Each is a HybridBlock over one registry op (`Activation`, `LeakyReLU`, `sigmoid`), with MXNet 1.9.1's constructor,
block name and op node names, so that a traced or exported net is node for node the graph MXNet writes. Where
MXNet names no op node (ELU) the op keeps its automatic name (`elu0_leakyrelu0`), as MXNet's does.
"""
from ... import initializer, ndarray as nd
from ...ndarray.calls import BoundCall
from ..block import HybridBlock

__all__ = ["Activation", "LeakyReLU", "PReLU", "ELU", "SELU", "Swish", "GELU"]


class Activation(HybridBlock):
    """An activation function applied element-wise: `relu`, `sigmoid`, `tanh`, `softrelu` or `softsign`.

    The block is named after the function (`relu0_`), as in MXNet.

    Examples
    --------
    >>> import dataflow as mx
    >>> with mx.name.NameManager():
    ...     act = mx.gluon.nn.Activation('relu')
    >>> act.name, repr(act)
    ('relu0', 'Activation(relu)')
    >>> act(mx.nd.array([-1.0, 2.0])).asnumpy()
    array([0., 2.], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        self._act_type = activation
        super().__init__(**kwargs)

    def _alias(self):
        return self._act_type

    def hybrid_forward(self, F, x):
        if F is nd:
            return self.bound_call()(x)
        return F.Activation(x, act_type=self._act_type, name="fwd")

    def bound_call(self):
        """`nd.Activation` of this block as a `BoundCall`, parsed once (imperative calls repeat it)."""
        bound = self.__dict__.get("_act_call")
        if bound is None or bound.params["act_type"] != self._act_type:
            bound = self.__dict__["_act_call"] = BoundCall("Activation", 1, act_type=self._act_type)
        return bound

    def __repr__(self):
        return "Activation(%s)" % self._act_type


class LeakyReLU(HybridBlock):
    """Leaky ReLU: `x` for x > 0, `alpha * x` otherwise.

    Parameters
    ----------
    alpha : float, the slope for negative inputs (>= 0)

    Examples
    --------
    >>> import dataflow as mx
    >>> mx.gluon.nn.LeakyReLU(0.1)(mx.nd.array([-1.0, 2.0])).asnumpy()
    array([-0.1,  2. ], dtype=float32)
    >>> mx.gluon.nn.LeakyReLU(-1)
    Traceback (most recent call last):
    ...
    AssertionError: Slope coefficient for LeakyReLU must be no less than 0.
    """

    def __init__(self, alpha, **kwargs):
        assert alpha >= 0, "Slope coefficient for LeakyReLU must be no less than 0."
        super().__init__(**kwargs)
        self._alpha = alpha

    def hybrid_forward(self, F, x):
        return F.LeakyReLU(x, act_type="leaky", slope=self._alpha, name="fwd")

    def __repr__(self):
        return "LeakyReLU(%s)" % self._alpha


class PReLU(HybridBlock):
    """Parametric leaky ReLU: the negative slope `alpha` is learned, one per channel or one shared (the default).

    Parameters
    ----------
    alpha_initializer : Initializer, default Constant(0.25)
    in_channels : int, default 1, the number of slopes (channels, axis 1, or 1 for one shared slope)
    """

    def __init__(self, alpha_initializer=initializer.Constant(0.25), in_channels=1, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.alpha = self.params.get("alpha", shape=(in_channels,), init=alpha_initializer)

    def hybrid_forward(self, F, x, alpha):
        return F.LeakyReLU(x, gamma=alpha, act_type="prelu", name="fwd")


class ELU(HybridBlock):
    """Exponential linear unit: `x` for x > 0, `alpha * (exp(x) - 1)` otherwise (Clevert et al., 2016)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self._alpha = alpha

    def hybrid_forward(self, F, x):
        return F.LeakyReLU(x, act_type="elu", slope=self._alpha)


class SELU(HybridBlock):
    """Scaled exponential linear unit (Klambauer et al., 2017)."""

    def hybrid_forward(self, F, x):
        return F.LeakyReLU(x, act_type="selu", name="fwd")


class GELU(HybridBlock):
    """Gaussian error linear unit, `x * Phi(x)` with the erf form of the normal CDF (Hendrycks and Gimpel)."""

    def hybrid_forward(self, F, x):
        return F.LeakyReLU(x, act_type="gelu", name="fwd")


class Swish(HybridBlock):
    """Swish: `x * sigmoid(beta * x)` (Ramachandran et al., 2017).

    Examples
    --------
    >>> import dataflow as mx
    >>> mx.gluon.nn.Swish()(mx.nd.array([0.0, 1.0])).asnumpy().round(4)
    array([0.    , 0.7311], dtype=float32)
    """

    def __init__(self, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self._beta = beta

    def hybrid_forward(self, F, x):
        return x * F.sigmoid(self._beta * x, name="fwd")
