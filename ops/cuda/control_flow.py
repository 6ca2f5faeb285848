"""CUDA kernels of ops/control_flow.py: none. A control flow node runs its subgraph's Plan once per step and decides
in Python (how many steps, which branch), so its kernels run through the host (`host_fallback`), subgraph included."""
KERNELS = {}
_WHY = "runs its subgraph's CPU Plan once per step from Python (loop count and branch decided on the host)"
WITHOUT = {name: _WHY for name in ("_foreach", "_while_loop", "_cond",
                                    "_backward_foreach", "_backward_while_loop", "_backward_cond")}
