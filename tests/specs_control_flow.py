"""Control flow ops (ops/control_flow.py): no generic rows. Their inputs, outputs and rules depend on the subgraphs
they hold, which only tracing a Python function makes; tests/test_control_flow.py checks each against its unrolled
equivalent (forward and gradients), against MXNet 1.9.1's files, and hybridized."""
SPECS = []

_WHY = "holds traced subgraphs; checked against unrolled loops and MXNet's files in tests/test_control_flow.py"
EXEMPT = {name: _WHY for name in ("_foreach", "_while_loop", "_cond",
                                  "_backward_foreach", "_backward_while_loop", "_backward_cond")}
