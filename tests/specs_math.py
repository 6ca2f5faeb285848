"""Op spec rows for the math family (issue 4); see tests/op_specs.py."""
SPECS = []
