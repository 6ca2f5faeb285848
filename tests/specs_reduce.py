"""Op spec rows for the reduce family (issue 4); see tests/op_specs.py."""
SPECS = []
