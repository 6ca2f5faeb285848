"""The optimizers of SVRGModule: `_SVRGOptimizer` wraps the optimizer the user chose and sends the keys of the
full gradients (`<param>_full`) to `_AssignmentOptimizer`, which copies the gradient into the weight (MXNet uses
those keys to sum full gradients in a distributed KVStore; dataflow has none, so only the wrapped optimizer runs).
"""
from ... import optimizer as opt

# the Optimizer base class's own parameters; the others given to _SVRGOptimizer belong to the wrapped optimizer
_BASE_PARAMS = ("rescale_grad", "param_idx2name", "wd", "clip_gradient", "learning_rate", "lr_scheduler", "sym",
                "begin_num_update", "multi_precision", "param_dict")


@opt.register
class _AssignmentOptimizer(opt.Optimizer):
    """weight[:] = grad."""

    def update(self, index, weight, grad, state):
        weight[:] = grad


@opt.register
class _SVRGOptimizer(opt.Optimizer):
    """`default_optimizer` (a name, made with these keyword arguments, or an Optimizer) for the parameters, an
    `_AssignmentOptimizer` for the `_full` keys."""

    def __init__(self, default_optimizer, **kwargs):
        super().__init__(**self._check_params(**kwargs))
        self.default_opt = opt.create(default_optimizer, **kwargs) if isinstance(default_optimizer, str) \
            else default_optimizer
        self.aux_opt = opt.create(_AssignmentOptimizer.__name__)

    @staticmethod
    def _check_params(**kwargs):
        """The keyword arguments the Optimizer base class takes."""
        return {key: value for key, value in kwargs.items() if key in _BASE_PARAMS}

    def _optimizer_of(self, index):
        return self.aux_opt if "full" in self._check_index(index) else self.default_opt

    def update(self, index, weight, grad, state):
        self._optimizer_of(index).update(index, weight, grad, state)

    def create_state(self, index, weight):
        return self._optimizer_of(index).create_state(index, weight)

    def _check_index(self, index):
        """The parameter name of `index` (an index of idx2name, or already a name)."""
        return index if index in self.idx2name.values() else self.idx2name[index]
