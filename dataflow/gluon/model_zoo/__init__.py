"""`mx.gluon.model_zoo`: MXNet 1.9.1's predefined vision models (`vision`) and their pretrained parameter
files (`model_store`)."""
from . import model_store, vision  # noqa: F401
