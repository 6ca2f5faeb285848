"""Op spec rows for the convolution and pooling ops; see tests/op_specs.py."""
SPECS = []
