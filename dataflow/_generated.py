"""MXNet's generated-op modules (`ndarray.gen_op`, `symbol.gen_contrib`, ...) as views of dataflow's front ends.

MXNet writes `gen_<sub>.py` files with one function per C++ op; dataflow generates its front-end functions at
import (`dataflow/frontend.py::populate`) into `mx.nd`, `mx.nd.contrib`, ... Each `gen_*` module here re-exports
the functions routed to its namespace (`route(op name)`), the very same objects, so `mx.nd.gen_op.dot is
mx.nd.dot`. `gen_op` and `gen__internal` also list the legacy top-level aliases the front end adds.
"""
from ops import registry

from .frontend import LEGACY_ALIASES, route


def export_ops(namespace, front_end, submodule):
    """Put into `namespace` (a gen module's globals) every function of `front_end` routed to `submodule`
    (None: the top level; '_internal' keeps full names); returns their names, sorted."""
    source = front_end if submodule is None else getattr(front_end, submodule, None)
    names = set()
    if source is not None:
        for op_name, _ in registry.all_names():
            routed, short = route(op_name)
            if routed == submodule and hasattr(source, short):
                names.add(short)
        if submodule is None:
            names.update(alias for alias in LEGACY_ALIASES if hasattr(source, alias))
    for name in names:
        namespace[name] = getattr(source, name)
    return sorted(names)
