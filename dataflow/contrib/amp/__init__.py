"""`mx.contrib.amp`: MXNet's automatic mixed precision (float16 casts of ops and graphs, dynamic loss scaling).

amp.py holds the entry points, loss_scaler.py the dynamic loss scaler, reduce_precision.py the graph rewrite of
`convert_symbol`, lists/ MXNet's op lists.
"""
from . import amp, lists, loss_scaler  # noqa: F401
from .amp import *  # noqa: F401,F403
from .amp import __all__  # noqa: F401
