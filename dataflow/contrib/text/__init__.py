"""`mx.contrib.text`: counting text tokens (`utils`), indexing them (`vocab.Vocabulary`) and their vectors
(`embedding`: from files, composed; MXNet's downloadable GloVe/fastText files are not provided).
"""
from . import embedding, utils, vocab  # noqa: F401
