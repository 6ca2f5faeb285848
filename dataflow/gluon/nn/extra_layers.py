"""Layers over ops that arrived after the basic set: GroupNorm."""
from ..block import HybridBlock

__all__ = ["GroupNorm"]


class GroupNorm(HybridBlock):
    """Group normalization (Wu and He, 2018): the channels of (N, C, ...) input are split into `num_groups`
    groups, each sample's group is normalised over its channels and other axes, then scaled and shifted.

    As in MXNet 1.x, `gamma` and `beta` hold one value per group, shape `(num_groups,)`.

    Parameters
    ----------
    num_groups : int, default 1
    epsilon : float, default 1e-5
    center : bool, default True, learn `beta`
    scale : bool, default True, learn `gamma`
    beta_initializer, gamma_initializer : Initializer
    """

    def __init__(self, num_groups=1, epsilon=1e-5, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._kwargs = {"eps": epsilon, "num_groups": num_groups, "center": center, "scale": scale}
        self._num_groups = num_groups
        self._epsilon = epsilon
        self.gamma = self.params.get("gamma", grad_req="write" if scale else "null", shape=(num_groups,),
                                     init=gamma_initializer, allow_deferred_init=True)
        self.beta = self.params.get("beta", grad_req="write" if center else "null", shape=(num_groups,),
                                    init=beta_initializer, allow_deferred_init=True)

    def hybrid_forward(self, F, data, gamma, beta):
        return F.GroupNorm(data, gamma=gamma, beta=beta, num_groups=self._num_groups, eps=self._epsilon)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % kv for kv in self._kwargs.items()))
