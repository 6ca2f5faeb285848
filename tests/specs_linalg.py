"""Op spec rows for the linalg family (issue 4); see tests/op_specs.py."""
SPECS = []
