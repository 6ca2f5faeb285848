"""Op spec rows for the shape family (issue 4); see tests/op_specs.py."""
SPECS = []
