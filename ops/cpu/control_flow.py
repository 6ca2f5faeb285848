"""CPU kernels of ops/control_flow.py: each runs its node's subgraphs, one Plan run per step.

`Runner` binds one subgraph for given input shapes and dtypes through the scheduler's entry point
(`scheduler.build.lower` -> `Lowered.plan`, interpreted) — with the gradient nodes and head-gradient inputs when the
backward needs it — and each `run` points the plan's inputs at that step's arrays (a data slice is a view: nothing is
copied in) and runs it. The kernels decide the steps in Python: how many (data length, the while condition, at most
max_iterations) and which branch. Backward kernels run the forward steps again to get each step's states, then each
step's forward and backward in reverse order, carrying the states' gradients back and summing the gradients of the
inputs every step reads.
"""
import numpy as np

from ..errors import ShapeError
from ..registry import ADD, NULL


def foreach_inputs(p):
    """Per node input of a `_foreach`, its position among the subgraph's inputs: data, states, then the rest."""
    return list(p.in_data_locs) + list(p.in_state_locs) + list(p.remain_locs)


def while_var_inputs(p):
    """Per loop variable of a `_while_loop`, the node input holding its initial value."""
    return [p.func_input_locs[loc] for loc in p.func_var_locs]


class Runner:
    """One subgraph bound for given input shapes and dtypes: `run(ctx, inputs, head_grads)` points the plan at the
    given arrays (no copy: a step only reads them) and runs it once; the outputs (and, with `backward`, the
    gradients of the inputs, zeros where none flows) are arrays of the runner's own, valid until the next run."""

    def __init__(self, subgraph, shapes, dtypes, backward):
        from scheduler.build import lower
        from scheduler.graph import Entry, Node
        from scheduler.plan import bind_outputs
        g = subgraph.graph
        variables = [Entry(g.nodes[nid]) for nid in g.arg_nodes]
        names = [v.node.name for v in variables]
        heads = subgraph.outputs
        head_grads = [Entry(Node(None, "_head_grad%d" % i)) for i in range(len(heads))] if backward else []
        lowered = lower(heads, dict(zip(names, shapes)), dict(zip(names, dtypes)),
                        wrt=variables if backward else (), head_grads=head_grads)
        lowered.check_complete("subgraph of %s" % ", ".join(e.node.name for e in heads))
        self._eids = [lowered.eid(e) for e in variables + head_grads]      # what `run` binds, in its order
        bound = {eid: np.empty(lowered.shapes[eid], lowered.dtypes[eid]) for eid in self._eids}
        self._own = dict(bound)         # what `unbind` points the plan back at
        head_eids = [lowered.eid(h) for h in heads]
        self.outputs = [np.empty(lowered.shapes[e], lowered.dtypes[e]) for e in head_eids]
        result_eids, results = list(head_eids), list(self.outputs)
        self.grads = []
        for eid, shape, dtype in zip(lowered.gradients, shapes, dtypes):
            self.grads.append(np.zeros(shape, dtype))
            if eid is not None:
                result_eids.append(eid)
                results.append(self.grads[-1])
        copies, _ = bind_outputs(result_eids, results, bound, segment=None)
        self.plan = lowered.plan(bound, copies, compile=False)

    def run(self, ctx, inputs, head_grads=()):
        arrays = self.plan.arrays
        for eid, array in zip(self._eids, [*inputs, *head_grads], strict=True):
            if arrays[eid] is not array:
                self.plan.rebind(eid, np.ascontiguousarray(array))
        self.plan.run(ctx)
        return self.outputs

    def unbind(self):
        arrays = self.plan.arrays
        for eid, own in self._own.items():
            if arrays[eid] is not own:
                self.plan.rebind(eid, own)


def _store(out, value, req):
    if req == NULL:
        return
    if req == ADD:
        out += value
    else:
        np.copyto(out, value)


def _foreach_steps(ctx, p, inputs):
    """Run the forward steps; yields (step, subgraph inputs, runner outputs) after each step."""
    sub = p.subgraphs[0]
    n_data, n_state = len(p.in_data_locs), len(p.in_state_locs)
    length = inputs[0].shape[0] if n_data else 0
    values = [None] * len(inputs)
    for k, loc in enumerate(foreach_inputs(p)):
        values[loc] = inputs[k]
    states = [np.array(s) for s in inputs[n_data:n_data + n_state]]
    for i in range(length):
        sub_in = list(values)
        for k in range(n_data):
            sub_in[p.in_data_locs[k]] = inputs[k][i]
        for j in range(n_state):
            sub_in[p.in_state_locs[j]] = states[j]
        runner = sub.runner([x.shape for x in sub_in], [x.dtype for x in sub_in], False)
        outs = runner.run(ctx, sub_in)
        yield i, sub_in, outs
        states = [np.array(o) for o in outs[p.num_out_data:]]


def foreach(ctx, p, inputs, outputs, req):
    n_out = p.num_out_data
    n_data, n_state = len(p.in_data_locs), len(p.in_state_locs)
    final = [np.array(s) for s in inputs[n_data:n_data + n_state]]
    stacked = [np.empty(o.shape, o.dtype) for o in outputs[:n_out]]
    for i, _, outs in _foreach_steps(ctx, p, inputs):
        for dst, o in zip(stacked, outs[:n_out]):
            dst[i] = o
        final = [np.array(o) for o in outs[n_out:]]
    for out, value, r in zip(outputs, stacked + final, req, strict=True):
        _store(out, value, r)


def foreach_backward(ctx, p, inputs, outputs, req):
    sub = p.subgraphs[0]
    n_in = len(foreach_inputs(p))
    fwd, dys = inputs[:n_in], inputs[n_in:]
    n_out, n_data = p.num_out_data, len(p.in_data_locs)
    n_state = len(p.in_state_locs)
    steps = [sub_in for _, sub_in, _ in _foreach_steps(ctx, p, fwd)]      # views of the data, fresh state copies
    grads = [np.zeros(x.shape, x.dtype) for x in fwd]
    carry = [np.asarray(d) for d in dys[n_out:]]
    for i in reversed(range(len(steps))):
        sub_in = steps[i]
        runner = sub.runner([x.shape for x in sub_in], [x.dtype for x in sub_in], True)
        runner.run(ctx, sub_in, [d[i] for d in dys[:n_out]] + carry)
        for k, loc in enumerate(foreach_inputs(p)):
            g = runner.grads[loc]
            if k < n_data:
                grads[k][i] = g
            elif k >= n_data + n_state:         # the states' gradients go on to the step before
                grads[k] += g
        carry = [np.array(runner.grads[loc]) for loc in p.in_state_locs]
    for j in range(n_state):
        grads[n_data + j][...] = carry[j]
    for out, value, r in zip(outputs, grads, req, strict=True):
        _store(out, value, r)


def _run_sub(ctx, sub, values, locs, head_grads=None):
    sub_in = [values[k] for k in locs]
    runner = sub.runner([x.shape for x in sub_in], [x.dtype for x in sub_in], head_grads is not None)
    return runner, runner.run(ctx, sub_in, head_grads or ())


def _while_steps(ctx, p, inputs):
    """The node inputs seen by each step that ran (loop vars replaced by their values then), and the outputs."""
    cond_g, func_g = p.subgraphs
    values = list(inputs)
    var_inputs = while_var_inputs(p)
    steps, step_outs = [], []
    while len(steps) < p.max_iterations:
        _, (pred,) = _run_sub(ctx, cond_g, values, p.cond_input_locs)
        if not pred.size or not pred.ravel()[0]:
            break
        _, outs = _run_sub(ctx, func_g, values, p.func_input_locs)
        steps.append(values)
        step_outs.append([np.array(o) for o in outs[:p.num_out_data]])
        values = list(values)
        for j, k in enumerate(var_inputs):
            values[k] = np.array(outs[p.num_out_data + j])
    return steps, step_outs, values


def while_loop(ctx, p, inputs, outputs, req):
    steps, step_outs, final = _while_steps(ctx, p, inputs)
    n_out = p.num_out_data
    for i, out in enumerate(outputs[:n_out]):
        if req[i] == NULL:
            continue
        stacked = np.zeros(out.shape, out.dtype)     # MXNet leaves the padding undefined; here it is zeros
        for s, outs in enumerate(step_outs):
            stacked[s] = outs[i]
        _store(out, stacked, req[i])
    for j, k in enumerate(while_var_inputs(p)):
        _store(outputs[n_out + j], final[k], req[n_out + j])


def while_loop_backward(ctx, p, inputs, outputs, req):
    n_in = len(outputs)
    fwd, dys = inputs[:n_in], inputs[n_in:]
    n_out = p.num_out_data
    _, func_g = p.subgraphs
    steps, _, _ = _while_steps(ctx, p, fwd)
    var_inputs = while_var_inputs(p)
    grads = [np.zeros(x.shape, x.dtype) for x in fwd]
    carry = [np.asarray(d) for d in dys[n_out:]]
    var_locs = set(p.func_var_locs)
    for s in reversed(range(len(steps))):
        runner, _ = _run_sub(ctx, func_g, steps[s], p.func_input_locs, [d[s] for d in dys[:n_out]] + carry)
        carry = [np.array(runner.grads[loc]) for loc in p.func_var_locs]       # on to the step before
        for loc, k in enumerate(p.func_input_locs):
            if loc not in var_locs:
                grads[k] += runner.grads[loc]
    for j, k in enumerate(var_inputs):
        grads[k] += carry[j]
    for out, value, r in zip(outputs, grads, req, strict=True):
        _store(out, value, r)


def _cond_branch(ctx, p, inputs):
    """(subgraph, its locs) of the branch the predicate picks."""
    _, (pred,) = _run_sub(ctx, p.subgraphs[0], inputs, p.cond_input_locs)
    if pred.size != 1:
        raise ShapeError("_cond: the predicate must be a scalar (one element), got shape %s" % (pred.shape,))
    if pred.ravel()[0]:
        return p.subgraphs[1], p.then_input_locs
    return p.subgraphs[2], p.else_input_locs


def cond(ctx, p, inputs, outputs, req):
    sub, locs = _cond_branch(ctx, p, inputs)
    _, outs = _run_sub(ctx, sub, inputs, locs)
    for out, value, r in zip(outputs, outs, req, strict=True):
        _store(out, value, r)


def cond_backward(ctx, p, inputs, outputs, req):
    n_in = len(outputs)
    fwd, dys = inputs[:n_in], inputs[n_in:]
    sub, locs = _cond_branch(ctx, p, fwd)
    runner, _ = _run_sub(ctx, sub, fwd, locs, list(dys))
    grads = [np.zeros(x.shape, x.dtype) for x in fwd]
    for loc, k in enumerate(locs):
        grads[k] += runner.grads[loc]
    for out, value, r in zip(outputs, grads, req, strict=True):
        _store(out, value, r)
