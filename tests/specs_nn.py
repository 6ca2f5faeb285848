"""Op spec rows for the neural-network ops (BatchNorm, Dropout, softmax, LeakyReLU, Concat, losses); see tests/op_specs.py."""
SPECS = []
