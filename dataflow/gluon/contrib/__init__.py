"""`mx.gluon.contrib`: MXNet's contributed Gluon pieces: layers (`nn`, `cnn`), recurrent cells (`rnn`), the
`estimator` training loop and `data` samplers/datasets."""
from . import nn  # noqa: F401
from . import rnn  # noqa: F401
from . import cnn, data, estimator  # noqa: F401
