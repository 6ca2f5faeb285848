"""`mx.contrib.amp`: the names of MXNet's automatic mixed precision module, without the feature.

AMP (float16/bfloat16 autocasting of ops, dynamic loss scaling) is not implemented by dataflow. Libraries read
`amp._amp_initialized` at import or in their forward passes (GluonNLP's attention cells), so the module exists with
AMP off; every entry point that would turn it on or use it raises MXNetError saying so (amp.py).
"""
from . import amp, lists  # noqa: F401
from .amp import *  # noqa: F401,F403
from .amp import __all__  # noqa: F401
