"""`mx.gluon`: imperative and hybridizable neural-network blocks, parameters, losses, training and data."""
from . import data, loss, nn, rnn, utils  # noqa: F401
from .block import Block, HybridBlock, SymbolBlock  # noqa: F401
from .parameter import Constant, DeferredInitializationError, Parameter, ParameterDict  # noqa: F401
from .trainer import Trainer  # noqa: F401
from . import contrib, model_zoo  # noqa: F401,E402  (contrib and the zoo build on the layers above)
