"""Helpers of the Gluon layer and loss tests (test_gluon_layers.py, test_gluon_losses.py): a traced graph as text
lines, as MXNet 1.9.1's were printed for their fixtures, and the numpy sigmoid the references use."""
import json

import numpy as np

_SKIP_ATTRS = {"__dtype__", "__lr_mult__", "__storage_type__", "__wd_mult__"}


def graph_lines(symbol):
    """One line per node: `name: attrs` for a variable with attributes, `name = Op(inputs) attrs` for an op;
    an input is `node[index]@version` (index and version shown when not 0)."""
    nodes = json.loads(symbol.tojson())["nodes"]

    def ref(entry):
        nid, index, version = entry
        return nodes[nid]["name"] + ("[%d]" % index if index else "") + ("@%d" % version if version else "")
    lines = []
    for node in nodes:
        attrs = " ".join("%s=%s" % kv for kv in sorted(node.get("attrs", {}).items()) if kv[0] not in _SKIP_ATTRS)
        if node["op"] == "null":
            if attrs:
                lines.append("%s: %s" % (node["name"], attrs))
        else:
            lines.append(("%s = %s(%s) %s" % (node["name"], node["op"], ", ".join(map(ref, node["inputs"])),
                                              attrs)).rstrip())
    return lines


def sigmoid(x):
    return 1 / (1 + np.exp(-x))
