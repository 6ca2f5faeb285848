"""Op spec rows for ops/custom.py; see tests/op_specs.py. Import tests.op_specs, never this module first."""
SPECS = []

# Custom's inputs, outputs and maths come from a Python CustomOpProp registered at run time, so no fixed row fits.
EXEMPT = {
    "Custom": "its signature and maths come from a registered CustomOpProp; tested in tests/test_custom_op.py "
              "against built-in ops, numpy and MXNet fixtures",
    "_backward_Custom": "internal to Custom's gradient; tested through it in tests/test_custom_op.py",
}
