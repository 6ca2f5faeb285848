"""`mx.gluon.nn`: layers, and the Block classes they build on (as MXNet re-exports them here)."""
from ..block import Block, HybridBlock, SymbolBlock  # noqa: F401
from .activations import *  # noqa: F401,F403
from .basic_layers import *  # noqa: F401,F403
from .conv_layers import *  # noqa: F401,F403
from .extra_layers import *  # noqa: F401,F403
