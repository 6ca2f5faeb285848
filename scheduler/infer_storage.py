"""Storage-type inference: which entries of a graph are 'default' (dense), 'row_sparse' or 'csr', MXNet 1.9.1's
FInferStorageType as one forward pass beside shape and dtype inference (scheduler/infer.py).

Note [storage-type rules]
~~~~~~~~~~~~~~~~~~~~~~~~~
`FORWARD` maps an op name to a rule `(params, input stypes) -> output stypes` for the storage types the op has a
sparse kernel for (the kernels are dataflow/ndarray/sparse_ops.py's; tests/test_sparse_symbol.py runs every rule
against them, so the two cannot drift apart). A rule returns None when the op has no kernel for those storage types:
then MXNet's storage fallback applies (dense copies, dense outputs, its warning), and `infer_storage` lists the node
in `fallback`. An op without a rule is dense: a node of it with a sparse input is a fallback too.

`GRADIENT` maps an op name to a rule `(params, input stypes) -> {input position: gradient stype}` for the inputs
whose gradient MXNet computes sparse: the weight of `dot(csr, w)` (`dot(csr.T, dy)` stores only the rows of the
columns csr has), the weight of `Embedding(sparse_grad=True)` and of `SparseEmbedding`, the inputs of sparse +
sparse, the data of `_sparse_retain` and of `_square_sum`, the input of `cast_storage` (the stype it casts to), and
the input of the zero-preserving unary ops whose derivative keeps zeros. A variable's gradient is sparse when every
consumer gives it a gradient of one sparse storage type (their sum keeps it); otherwise dense.
"""
from ops.errors import GraphError

DEFAULT, ROW_SPARSE, CSR = "default", "row_sparse", "csr"
STYPES = (DEFAULT, ROW_SPARSE, CSR)
STYPE_IDS = {DEFAULT: 0, ROW_SPARSE: 1, CSR: 2}        # MXNet's NDArrayStorageType, as `__storage_type__` holds it

# unary ops with f(0) == 0: the output keeps the input's storage type (the one list: dataflow/ndarray/sparse_ops.py
# maps these ops' sparse kernels from it)
ZERO_PRESERVING = ("abs", "sign", "sqrt", "square", "relu", "sin", "tanh", "negative", "log1p", "expm1", "floor",
                   "ceil", "rint", "round", "trunc", "fix", "arcsin", "arctan", "sinh", "arcsinh", "arctanh", "tan",
                   "radians", "degrees", "cbrt")
# reductions with sparse kernels and a dense result (the other unary ops, f(0) != 0, fall back to dense)
SPARSE_TO_DENSE = ("sum", "mean", "norm")

FORWARD = {}
GRADIENT = {}


def _rule(table, *names):
    def register(function):
        for name in names:
            table[name] = function
        return function
    return register


@_rule(FORWARD, "dot")
def _dot(p, ins):
    lhs, rhs = ins
    forward = getattr(p, "forward_stype", None)
    if lhs == CSR and rhs in (DEFAULT, ROW_SPARSE) and not p.transpose_b:
        out = ROW_SPARSE if p.transpose_a else DEFAULT
    elif lhs == DEFAULT and rhs == CSR:
        out = CSR
    elif (lhs, rhs) in ((ROW_SPARSE, DEFAULT), (DEFAULT, ROW_SPARSE)):
        out = DEFAULT
    else:
        return None
    return [forward or out]


@_rule(FORWARD, "elemwise_add", "_plus", "_add", "elemwise_sub", "_minus", "_sub")
def _add(p, ins):
    lhs, rhs = ins
    if lhs == rhs:
        return [lhs]
    return [DEFAULT] if DEFAULT in ins else None       # sparse +- dense is dense; csr +- row_sparse falls back


@_rule(FORWARD, "elemwise_mul", "_mul")
def _mul(p, ins):
    lhs, rhs = ins
    if lhs == rhs:
        return [lhs]
    if DEFAULT in ins:
        return [lhs if rhs == DEFAULT else rhs]     # sparse * dense keeps the sparse operand's storage type
    return None


@_rule(FORWARD, "broadcast_mul", "broadcast_div")
def _broadcast_mul(p, ins):
    lhs, rhs = ins
    return [CSR] if (lhs, rhs) == (CSR, DEFAULT) else None


@_rule(FORWARD, "_mul_scalar", "_div_scalar", "clip", "zeros_like", "_contrib_round_ste", "_contrib_sign_ste",
       *ZERO_PRESERVING)
def _same(p, ins):
    return [ins[0]]


@_rule(FORWARD, *SPARSE_TO_DENSE)
def _to_dense(p, ins):
    return [DEFAULT]


@_rule(FORWARD, "add_n", "ElementWiseSum")
def _add_n(p, ins):
    return [ROW_SPARSE] if all(s == ROW_SPARSE for s in ins) else [DEFAULT]


@_rule(FORWARD, "slice")
def _slice(p, ins):
    return [CSR] if ins[0] == CSR else None


@_rule(FORWARD, "_maximum", "_minimum", "_hypot")
def _union(p, ins):
    lhs, rhs = ins
    return [lhs] if lhs == rhs != DEFAULT else None     # f(0, 0) == 0: rsp o rsp = rsp, csr o csr = csr


@_rule(FORWARD, "cast_storage")
def _cast_storage(p, ins):
    return [p.stype]


@_rule(FORWARD, "_sparse_retain")
def _retain(p, ins):
    return [ROW_SPARSE] if ins == [ROW_SPARSE, DEFAULT] else None


@_rule(FORWARD, "_square_sum")
def _square_sum(p, ins):
    axis = tuple(p.axis or ())
    if ins[0] != ROW_SPARSE or p.exclude or axis not in ((0,), (1,), (-1,), (-2,)):
        return None
    return [ROW_SPARSE] if axis[0] % 2 == 1 and p.keepdims else [DEFAULT]


@_rule(FORWARD, "FullyConnected")
def _fully_connected(p, ins):
    return [DEFAULT] if ins[0] == CSR and all(s == DEFAULT for s in ins[1:]) else None


# zero-preserving ops whose gradient keeps the input's sparse storage type (f' is 0 where x is 0, or f is linear)
SAME_STYPE_GRADIENT = ("abs", "sign", "square", "relu", "negative", "floor", "ceil", "rint", "round", "trunc", "fix",
                       "_mul_scalar", "_div_scalar")


@_rule(GRADIENT, *SAME_STYPE_GRADIENT)
def _same_gradient(p, ins):
    return {0: ins[0]} if ins[0] != DEFAULT else {}


@_rule(GRADIENT, "elemwise_add", "_plus", "_add", "elemwise_sub", "_minus", "_sub")
def _add_gradient(p, ins):
    return {0: ins[0], 1: ins[1]} if ins[0] == ins[1] != DEFAULT else {}


@_rule(GRADIENT, "add_n", "ElementWiseSum")
def _add_n_gradient(p, ins):
    return dict.fromkeys(range(len(ins)), ROW_SPARSE) if all(s == ROW_SPARSE for s in ins) else {}


@_rule(GRADIENT, "dot")
def _dot_gradient(p, ins):
    return {1: ROW_SPARSE} if ins[0] == CSR and not p.transpose_a and not p.transpose_b else {}


@_rule(GRADIENT, "Embedding")
def _embedding_gradient(p, ins):
    return {1: ROW_SPARSE} if getattr(p, "sparse_grad", False) else {}


@_rule(GRADIENT, "_contrib_SparseEmbedding")
def _sparse_embedding_gradient(p, ins):
    return {1: ROW_SPARSE}      # MXNet's SparseEmbedding: Embedding with sparse_grad=True, whatever its param says


def is_sparse_embedding(node):
    """Whether `node` is an embedding lookup whose weight gradient is row_sparse (the sparse executor lifts it)."""
    return node.op.name == "_contrib_SparseEmbedding" or (node.op.name == "Embedding" and node.params.sparse_grad)


@_rule(GRADIENT, "_square_sum")
def _square_sum_gradient(p, ins):
    return {0: ROW_SPARSE} if ins[0] == ROW_SPARSE else {}      # 2 * x * dy: zero where x stores no row


@_rule(GRADIENT, "cast_storage")
def _cast_storage_gradient(p, ins):
    return {0: p.stype} if p.stype != DEFAULT else {}      # MXNet's: the output's storage type


@_rule(GRADIENT, "_sparse_retain")
def _retain_gradient(p, ins):
    return {0: ROW_SPARSE} if ins[0] == ROW_SPARSE else {}


class StorageTypes:
    """The result of `infer_storage`: `entries` (eid -> stype), `fallback` (node ids running on dense copies,
    MXNet's storage fallback) and `gradients` (argument variable name -> the stype of its gradient)."""

    def __init__(self, entries, fallback, gradients):
        self.entries, self.fallback, self.gradients = entries, fallback, gradients


def variable_stype(node):
    """The storage type a variable declares (`mx.sym.var(stype=...)`): its `__storage_type__` attr."""
    value = node.attrs.get("__storage_type__")
    if value is None:
        return DEFAULT
    for name, number in STYPE_IDS.items():
        if value in (name, str(number)):
            return name
    raise GraphError("variable %r: unknown __storage_type__ %r (MXNet's are %s)"
                     % (node.name, value, ", ".join("%d (%s)" % (n, name) for name, n in STYPE_IDS.items())))


def infer_storage(graph, known=None):
    """Storage types of every entry of the IndexedGraph `graph` (a forward graph); `known`: variable name -> stype
    (MXNet's stype_dict, or the bound arrays' storage types), over what the variables declare."""
    known = known or {}
    stypes, fallback = {}, []
    consumers = {}          # variable nid -> [(node, input position)]
    row = graph.node_row_ptr
    for nid, node in enumerate(graph.nodes):
        if node.is_variable:
            stype = known.get(node.name) or variable_stype(node)
            if stype not in STYPES:
                raise ValueError("storage type %r of %r is not one of %s" % (stype, node.name, STYPES))
            stypes[row[nid]] = stype
            continue
        ins = [stypes[eid] for eid in graph.inputs[nid]]
        rule = FORWARD.get(node.op.name)
        outs = rule(node.params, ins) if rule is not None else None
        if outs is None:
            outs = [DEFAULT] * node.num_outputs()
            if any(s != DEFAULT for s in ins):
                fallback.append(nid)
        for k, stype in enumerate(outs):
            stypes[row[nid] + k] = stype
        for pos, entry in enumerate(node.inputs):
            if entry.node.is_variable:
                consumers.setdefault(graph.nid[id(entry.node)], []).append((node, ins, pos))
    for entry in graph.head_entries:        # a variable that is an output gets a dense head gradient
        if entry.node.is_variable:
            consumers.setdefault(graph.nid[id(entry.node)], []).append(None)
    gradients = {}
    for nid in graph.argument_nodes:
        uses = consumers.get(nid, [])
        kinds = {DEFAULT if use is None else _gradient_stype(*use) for use in uses}
        gradients[graph.nodes[nid].name] = kinds.pop() if len(kinds) == 1 else DEFAULT
    return StorageTypes(stypes, fallback, gradients)


def _gradient_stype(node, ins, pos):
    rule = GRADIENT.get(node.op.name)
    return rule(node.params, ins).get(pos, DEFAULT) if rule is not None else DEFAULT
