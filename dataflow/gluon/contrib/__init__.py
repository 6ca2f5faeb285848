"""`mx.gluon.contrib`: MXNet's contributed Gluon layers (`contrib.nn`) and recurrent cells (`contrib.rnn`).
`estimator`, `cnn` and `data` of MXNet's contrib are not provided."""
from . import nn  # noqa: F401
from . import rnn  # noqa: F401
