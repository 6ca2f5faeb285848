"""AMP's graph rewrite (MXNet's `ReducePrecision` pass behind `amp.convert_symbol`) and its undoing for JSON.

`reduce_precision` copies the graph in DFS post-order. It tracks, for each original output entry, a copy known to
be float32 (`fp32`) or in the target type (`low`); an input is cast only where its consumer needs the other type.

- float32 ops and excluded nodes read `fp32` copies; other non-variable inputs get `amp_cast` to float32 (variables
  are assumed float32 already); the outputs are float32.
- target-precision ops: the op's dtype rule, given the target type for input 0, says which inputs follow it; those
  are cast to the target type (an optional param with `cast_optional_params` stays as it is and is then converted
  offline), the rest and mutated inputs are left; the rule's output types are recorded.
- widest-type ops: with every input's type known, inputs go to float32 if any is float32, else to the target type;
  otherwise one `amp_multicast` over all inputs.
- conditional float32 ops (a param takes a listed value): as float32 ops, but variables are cast too.
- other ops keep their inputs; their output types follow their dtype rule when input 0's type is known.
Each graph output not known to be float32 is cast to float32. Casts are named `<producer><suffix>_amp_cast_<dtype>`,
the suffix being `_<output name>` for ops that name their outputs, `_<index>` for the others, and nothing for a
variable, as MXNet names them; one cast per entry and type is shared by all its consumers.
"""
import numpy as np

from ops import registry
from scheduler.graph import Entry, IndexedGraph, Node

# MXNet ops that name their outputs (FListOutputNames): their casts are suffixed `_output`, the others' `_0`.
_NAMED_OUTPUTS = {
    "Activation", "BatchNorm", "BatchNorm_v1", "Concat", "Convolution", "Convolution_v1", "Deconvolution",
    "Dropout", "Embedding", "FullyConnected", "GroupNorm", "InstanceNorm", "LRN", "LayerNorm", "LeakyReLU",
    "LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput", "Pooling", "Pooling_v1", "RNN",
    "SliceChannel", "SoftmaxActivation", "SoftmaxOutput", "UpSampling", "concat", "split", "SVMOutput",
    "MakeLoss", "L2Normalization", "ROIPooling", "SpatialTransformer", "BilinearSampler", "GridGenerator", "CTCLoss",
    "_contrib_SyncBatchNorm", "Crop", "IdentityAttachKLSparseReg", "Custom",
    # binary elementwise and broadcast ops name their output too (MXNet's binary op registration)
    "elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div", "_plus", "_minus", "_mul", "_div", "_Plus",
    "_Minus", "_Mul", "_Div", "_add", "_sub", "_grad_add", "broadcast_add", "broadcast_sub", "broadcast_mul",
    "broadcast_div", "broadcast_plus", "broadcast_minus", "broadcast_maximum", "broadcast_minimum",
    "broadcast_power", "broadcast_hypot", "broadcast_mod",
}


def _suffix(entry):
    node = entry.node
    if node.is_variable:
        return ""
    if node.op.name in _NAMED_OUTPUTS:
        return "_" + node.op.output_names(node.params)[entry.index]
    return "_%d" % entry.index


def _new_node(op_name, name, attrs, inputs):
    opdef = registry.get(op_name)
    return Node(opdef, name, attrs, opdef.parse_params(attrs, name), inputs)


def _key(entry):
    return (id(entry.node), entry.index)


def _out_types(node, in_types):
    """The op's dtype rule for `node` given some input dtypes (None = unknown): (inputs, outputs), or None when
    the rule refuses."""
    try:
        ins, outs = node.op.infer_type(node.params, list(in_types), [None] * node.num_outputs())
    except Exception:      # a rule refusing this combination: MXNet's FInferType returning false
        return None
    return [None if t is None else np.dtype(t) for t in ins], [None if t is None else np.dtype(t) for t in outs]


def _matches_condition(node, conditions):
    for param, values in conditions.get(node.op.name, {}).items():
        if param in node.attrs and node.attrs[param] in values:
            return True
    return False


def reduce_precision(heads, target, target_ops, fp32_ops, widest_ops, conditional, excluded, data_names,
                     cast_optional_params):
    """The rewritten graph's head entries. `target` is np.float16; `conditional` maps op -> {param: [values]}."""
    f32 = np.dtype(np.float32)
    target = np.dtype(target)
    target_name = target.name
    mirror = {}         # id(old node) -> new node
    fp32 = {}           # old entry key -> new entry known to be float32
    low = {}            # old entry key -> new entry known to be in the target type

    def copy_of(entry):
        return Entry(mirror[id(entry.node)], entry.index, entry.version)

    def cast(entry, dtype, table):
        key = _key(entry)
        if key not in table:
            name = "%s%s_amp_cast_%s" % (entry.node.name, _suffix(entry), dtype)
            table[key] = Entry(_new_node("amp_cast", name, {"dtype": dtype}, [copy_of(entry)]), 0, entry.version)
        return table[key]

    def as_float32(entry, cast_variables):
        if _key(entry) in fp32:
            return fp32[_key(entry)]
        if entry.node.is_variable and not cast_variables:
            return copy_of(entry)
        return cast(entry, "float32", fp32)

    def record_outputs(old, new, out_types):
        for i, t in enumerate(out_types):
            if t == target:
                low[(id(old), i)] = Entry(new, i)
            elif t == f32:
                fp32[(id(old), i)] = Entry(new, i)

    graph = IndexedGraph(heads)
    for old in graph.nodes:
        new = Node(old.op, old.name, old.attrs, old.params)
        new.version = old.version
        mirror[id(old)] = new
        if old.is_variable:
            continue
        op_name = old.op.name
        mutated = set(old.op.written_inputs(old.params))
        if op_name in fp32_ops or old.name in excluded:
            new.inputs = [as_float32(e, False) for e in old.inputs]
            record_outputs(old, new, [f32] * old.num_outputs())
        elif op_name in target_ops:
            typed = _out_types(old, [target] + [None] * (len(old.inputs) - 1))
            if typed is None:
                raise ValueError("amp: %s (%s) cannot run in %s" % (old.name, op_name, target_name))
            in_types, out_types = typed
            record_outputs(old, new, out_types)
            for i, e in enumerate(old.inputs):
                key = _key(e)
                if key in low:
                    new.inputs.append(low[key])
                elif ((cast_optional_params and e.node.is_variable and e.node.name not in data_names)
                      or i in mutated or in_types[i] not in (target, None)):
                    new.inputs.append(copy_of(e))
                    if cast_optional_params and e.node.is_variable:
                        low[key] = copy_of(e)
                else:
                    new.inputs.append(cast(e, target_name, low))
        elif op_name in widest_ops:
            known = all(_key(e) in low or _key(e) in fp32 for e in old.inputs)
            if not known:
                first = old.inputs[0]
                multicast = _new_node("amp_multicast", first.node.name + _suffix(first) + "_amp_multicast",
                                      {"num_outputs": str(len(old.inputs))}, [copy_of(e) for e in old.inputs])
                new.inputs = [Entry(multicast, i, e.version) for i, e in enumerate(old.inputs)]
            else:
                wide = any(_key(e) in fp32 for e in old.inputs)
                record_outputs(old, new, [f32 if wide else target] * old.num_outputs())
                if wide:
                    new.inputs = [as_float32(e, True) for e in old.inputs]
                else:
                    new.inputs = [low[_key(e)] for e in old.inputs]
        elif old.name not in excluded and _matches_condition(old, conditional):
            record_outputs(old, new, [f32] * old.num_outputs())
            new.inputs = [fp32[_key(e)] if _key(e) in fp32 else copy_of(e) if i in mutated
                          else cast(e, "float32", fp32) for i, e in enumerate(old.inputs)]
        else:
            if old.inputs and (_key(old.inputs[0]) in fp32 or _key(old.inputs[0]) in low):
                first = target if _key(old.inputs[0]) in low else f32
                typed = _out_types(old, [first] + [None] * (len(old.inputs) - 1))
                if typed is not None:
                    record_outputs(old, new, typed[1])
            new.inputs = [copy_of(e) for e in old.inputs]
    return [fp32[_key(e)] if _key(e) in fp32 else cast(e, "float32", fp32) for e in graph.head_entries]


def remove_amp_cast(heads):
    """Head entries of a copy of the graph where no node reads an amp_cast or amp_multicast output (it reads the
    input cast instead), as MXNet's `tojson(remove_amp_cast=True)` writes it: a cast that is a head stays."""
    mirror = {}

    def through(entry):
        node = entry.node
        while node.op is not None and node.op.name in ("amp_cast", "amp_multicast"):
            entry = node.inputs[entry.index if node.op.name == "amp_multicast" else 0]
            node = entry.node
        return Entry(mirror[id(node)], entry.index, entry.version)

    graph = IndexedGraph(heads)
    for old in graph.nodes:
        new = Node(old.op, old.name, old.attrs, old.params)
        new.version = old.version
        mirror[id(old)] = new
        new.inputs = [through(e) for e in old.inputs]
    return [Entry(mirror[id(e.node)], e.index, e.version) for e in graph.head_entries]
