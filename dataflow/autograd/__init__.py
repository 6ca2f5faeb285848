"""`mx.autograd`: record imperative NDArray operations and differentiate them.

- state.py: the recording/training flags and their scopes (`record`, `pause`, `train_mode`, `predict_mode`).
- tape.py: the recorded graph (values kept on the nodes), `mark_variables`, `get_symbol`.
- differentiate.py: `backward` and `grad` (higher order with `create_graph=True`).
- backward_plans.py: the planned backward, kept per recorded graph signature across steps (`cache_info`).
- function.py: `Function`, an operation with a user-written backward.

Examples
--------
>>> import dataflow as mx
>>> x = mx.nd.array([1.0, 2.0, 3.0])
>>> x.attach_grad()
>>> with mx.autograd.record():
...     y = x * x + 1
>>> y.backward()
>>> x.grad.asnumpy()
array([2., 4., 6.], dtype=float32)
"""
from .differentiate import backward, grad, grad_and_loss
from .function import Function
from .state import (is_recording, is_training, pause, predict_mode, record, set_recording, set_training,
                    train_mode)
from .tape import Recorded, entry_of, get_symbol, mark_variables, record_op

__all__ = ["Function", "Recorded", "backward", "entry_of", "get_symbol", "grad", "grad_and_loss", "is_recording",
           "is_training", "mark_variables", "pause", "predict_mode", "record", "record_op", "set_recording",
           "set_training", "train_mode"]
