"""`mxnet` for the child processes of a program run by `python -m dataflow.run`.

`dataflow.run` puts the folder above this package on PYTHONPATH, so a child Python (a `multiprocessing` worker
started with `spawn`, a `subprocess` running another script) that imports mxnet gets dataflow too: this module
puts dataflow in its place and installs the alias for every `mxnet.X`.
"""
import sys

import dataflow

sys.modules[__name__] = dataflow    # the import system returns what sys.modules holds for the name
dataflow.install_as_mxnet()
