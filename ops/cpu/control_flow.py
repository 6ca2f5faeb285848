"""CPU kernels of ops/control_flow.py: each runs its node's subgraphs, one Plan run per step.

`Runner` binds one subgraph for given input shapes and dtypes through the scheduler's entry point
(`scheduler.build.lower` -> `Lowered.plan`, interpreted) — with the gradient steps after the forward ones when the
backward needs it — and points the plan's inputs at each step's arrays (a data slice is a view: nothing is copied
in). The kernels decide the steps in Python: how many (data length, the while condition, at most max_iterations) and
which branch.

Note [saved forward values]. A training forward (`ctx.is_train` in a graph that computes gradients) runs each step
on the runner with gradient steps, forward range only, and copies into the node's hidden `reserve` output what that
runner's gradient steps read from the step: the entries computed by forward steps (`Runner.saved`) and the loop
states of the step (`Runner.saved_inputs`, those of them the gradient steps read). The reserve is a header — an int64
telling how many steps were saved (a while loop's trip count; for `_cond` the branch's subgraph index), -1 when
nothing was — then one slot per step (`_Reserve`). The backward then runs only each step's gradient range, in
reverse order, after copying the step's slot back into the entries it came from: at the boundary between a plan's
forward and gradient steps, exactly those entries are alive, so this restores the state the gradient steps expect.
Where nothing was saved (an inference forward, a subgraph without gradients), the backward recomputes: the forward
steps again for the states, then each step's forward and gradient ranges in reverse order. A slot holds each value
in as many reserve elements as it has, the reserve's dtype being the widest saved (the shape rule cannot know the
dtypes), so a value starts at a multiple of its own itemsize.

Gradients of the inputs every step reads (weights) add up over the steps: where the plan allows, the gradient steps
add straight into the runner's `sums` (req ADD); the states' gradients carry to the step before.
"""
import functools
import math

import numpy as np

from ..errors import MXNetError, ShapeError
from ..registry import ADD, NULL, OpContext

HEADER = 8      # reserve elements before the slots: at least the 8 bytes of the int64 header whatever the dtype


def foreach_inputs(p):
    """Per node input of a `_foreach`, its position among the subgraph's inputs: data, states, then the rest."""
    return list(p.in_data_locs) + list(p.in_state_locs) + list(p.remain_locs)


def while_var_inputs(p):
    """Per loop variable of a `_while_loop`, the node input holding its initial value."""
    return [p.func_input_locs[loc] for loc in p.func_var_locs]


def backward_reads(lowered):
    """(eids of forward entries computed by op nodes, positions of subgraph inputs) that the gradient steps of the
    lowered subgraph read: what one step must keep from its forward for its backward."""
    g = lowered.graph
    forward_entries = g.node_row_ptr[len(lowered.forward.nodes)]     # the forward's eids come first
    op_nids = [nid for nid, node in enumerate(g.nodes) if node.op is not None]
    read = {eid for nid in op_nids[lowered.n_forward:] for eid in g.inputs[nid] if eid < forward_entries}
    position = {g.node_row_ptr[nid]: k for k, nid in enumerate(lowered.forward.arg_nodes)}
    return sorted(read - set(position)), sorted(position[eid] for eid in read if eid in position)


def lower_with_gradients(subgraph, shapes=None, dtypes=None):
    """The subgraph lowered with the gradients of every input (`shapes`/`dtypes` per input, None: not inferred)."""
    from scheduler.build import lower
    from scheduler.graph import Entry, Node
    g = subgraph.graph
    variables = [Entry(g.nodes[nid]) for nid in g.arg_nodes]
    head_grads = [Entry(Node(None, "_head_grad%d" % i)) for i in range(len(subgraph.outputs))]
    names = [v.node.name for v in variables]
    infer = shapes is not None
    lowered = lower(subgraph.outputs, dict(zip(names, shapes or ())), dict(zip(names, dtypes or ())),
                    wrt=variables, head_grads=head_grads, infer=infer)
    return lowered, variables, head_grads


class Runner:
    """One subgraph bound for given input shapes and dtypes. `forward(ctx, inputs)` points the plan at the given
    arrays (no copy: a step only reads them) and runs the forward steps; with `backward`, `backward(ctx, inputs,
    head_grads, saved)` runs the gradient steps (after `forward`, or after `saved` values were copied back). The
    outputs and `grads` (per input, zeros where none flows) are arrays of the runner's own, valid until its next
    run. For the inputs at positions `summed` (a loop's weights: their gradient is the sum over the steps), the
    gradient steps add into `sums[position]` (zeroed by `zero_sums`) rather than writing `grads`, where the plan
    can bind that gradient to it (req ADD: a GEMM adds for free); `sums` is None at the other positions."""

    def __init__(self, subgraph, shapes, dtypes, backward, summed=()):
        from scheduler.build import lower
        from scheduler.graph import Entry
        from scheduler.plan import bind_outputs
        if backward:
            lowered, variables, head_grads = lower_with_gradients(subgraph, shapes, dtypes)
        else:
            g = subgraph.graph
            variables, head_grads = [Entry(g.nodes[nid]) for nid in g.arg_nodes], []
            names = [v.node.name for v in variables]
            lowered = lower(subgraph.outputs, dict(zip(names, shapes)), dict(zip(names, dtypes)))
        lowered.check_complete("subgraph of %s" % ", ".join(e.node.name for e in subgraph.outputs))
        self.n_forward = lowered.n_forward
        self._eids = [lowered.eid(e) for e in variables + head_grads]      # what a run binds, in its order
        bound = {eid: np.empty(lowered.shapes[eid], lowered.dtypes[eid]) for eid in self._eids}
        self._own = dict(bound)         # what `unbind` points the plan back at
        head_eids = [lowered.eid(h) for h in subgraph.outputs]
        self.outputs = [np.empty(lowered.shapes[e], lowered.dtypes[e]) for e in head_eids]
        copies, _ = bind_outputs(head_eids, self.outputs, bound, segment="forward")
        read = {eid for eids in lowered.graph.inputs for eid in eids} | set(head_eids)
        self.grads = [np.zeros(shape, dtype) for shape, dtype in zip(shapes, dtypes)]
        self.sums, grad_eids, grad_arrays, req = [None] * len(shapes), [], [], {}
        for loc, eid in enumerate(lowered.gradients):
            if eid is None:
                continue
            if loc in summed and eid not in bound and eid not in read:     # nothing else reads or holds it
                self.sums[loc] = bound[eid] = np.zeros(shapes[loc], dtypes[loc])
                req[eid] = ADD
            else:
                grad_eids.append(eid)
                grad_arrays.append(self.grads[loc])
        more, _ = bind_outputs(grad_eids, grad_arrays, bound, segment="backward")
        self.plan = lowered.plan(bound, copies + more, req, compile=False)
        self.saved, self.saved_inputs = backward_reads(lowered) if backward else ((), ())
        self.saved_specs = [(tuple(lowered.shapes[e]), np.dtype(lowered.dtypes[e]).str) for e in self.saved]

    def _bind(self, arrays):
        plan_arrays = self.plan.arrays
        for eid, array in zip(self._eids, arrays, strict=True):
            if array is not None and plan_arrays[eid] is not array:
                self.plan.rebind(eid, np.ascontiguousarray(array))

    def forward(self, ctx, inputs):
        self._bind(list(inputs) + [None] * (len(self._eids) - len(inputs)))
        self.plan.run(_subgraph_context(ctx), 0, self.n_forward, "forward")
        return self.outputs

    def save(self, views):
        """Copy the entries the gradient steps read into `views` (one per `saved`)."""
        arrays = self.plan.arrays
        for eid, view in zip(self.saved, views, strict=True):
            np.copyto(view, arrays[eid])

    def backward(self, ctx, inputs, head_grads, saved=None):
        """The gradient steps for `head_grads` (inputs None: left as bound); `saved`: the values `save` gave, copied
        back first (None: the forward just ran)."""
        self._bind(list(inputs) + list(head_grads))
        if saved is not None:
            arrays = self.plan.arrays
            for eid, value in zip(self.saved, saved, strict=True):
                np.copyto(arrays[eid], value)
        self.plan.run(_subgraph_context(ctx), self.n_forward, None, "backward")
        return self.grads

    def zero_sums(self):
        for total in self.sums:
            if total is not None:
                total[...] = 0

    def unbind(self):
        arrays = self.plan.arrays
        for eid, own in self._own.items():
            if arrays[eid] is not own:
                self.plan.rebind(eid, own)


def _subgraph_context(ctx):
    """A subgraph's steps run as MXNet runs them (an imperative CachedOp): training as the node, and gradients
    computed (a fixed gamma is written with ones even in a graph without gradients, as MXNet does)."""
    return ctx if ctx.computes_gradients else OpContext(is_train=ctx.is_train)


class _Reserve:
    """The hidden `reserve` output (Note [saved forward values]): header, then `slots` slots of equal size."""

    def __init__(self, array, slots):
        self.array = array
        self.bytes = array.view(np.uint8)
        self.stride = (array.size - HEADER) // slots if slots else 0

    @property
    def count(self):
        return int(self.bytes[:8].view(np.int64)[0])

    @count.setter
    def count(self, value):
        self.bytes[:8].view(np.int64)[0] = value

    def fits(self, specs):
        """Whether a slot holds values of these (shape, dtype) `specs` (each in as many elements as it has)."""
        return sum(_elements(s) for s, _ in specs) <= self.stride and \
            all(np.dtype(t).itemsize <= self.array.itemsize for _, t in specs)

    def slot(self, index, specs):
        """Views of slot `index` holding values of the (shape, dtype) `specs`, in order."""
        base, data = (HEADER + index * self.stride) * self.array.itemsize, self.bytes
        return [data[base + start:base + stop].view(dtype).reshape(shape)
                for start, stop, dtype, shape in _layout(self.array.itemsize, tuple(specs))]


@functools.lru_cache(maxsize=256)
def _layout(itemsize, specs):
    """(first byte, end byte, dtype, shape) within a slot of each (shape, dtype) in `specs`: each value starts at a
    reserve element, so at a multiple of its own itemsize (never above the reserve's)."""
    layout, offset = [], 0
    for shape, dtype in specs:
        dtype = np.dtype(dtype)
        layout.append((offset, offset + _elements(shape) * dtype.itemsize, dtype, shape))
        offset += _elements(shape) * itemsize
    return tuple(layout)


def _elements(shape):
    return math.prod(shape)


def slot_size(values):
    """Reserve elements one step's saved values take (the shape rule's share of Note [saved forward values])."""
    return sum(_elements(s) for s in values)


def _store(out, value, req):
    if req == NULL:
        return
    if req == ADD:
        out += value
    else:
        np.copyto(out, value)


def _saving(ctx, sub):
    """Whether this forward saves for the backward: training, gradients computed, and a subgraph that has them."""
    return ctx.is_train and ctx.computes_gradients and sub.backward_reads() is not None


def _runner(sub, arrays, backward, summed=()):
    return sub.runner([x.shape for x in arrays], [x.dtype for x in arrays], backward, summed)


def _add_sums(runner, grads, feeds):
    """After the last step: each summed gradient the runner kept (`Runner.sums`) into the node input's gradient
    (`feeds`: subgraph position -> node input)."""
    for loc, total in enumerate(runner.sums):
        if total is not None:
            grads[feeds[loc]] += total


# ---------------------------------------------------------------------------------------------------------------
# _foreach
# ---------------------------------------------------------------------------------------------------------------

def _foreach_step_inputs(p, inputs, i, states):
    """The subgraph's inputs at step i: data slices (views), the states, the other node inputs."""
    sub_in = [None] * len(inputs)
    for k, loc in enumerate(foreach_inputs(p)):
        sub_in[loc] = inputs[k]
    for k, loc in enumerate(p.in_data_locs):
        sub_in[loc] = inputs[k][i]
    for j, loc in enumerate(p.in_state_locs):
        sub_in[loc] = states[j]
    return sub_in


def _slot_of(reserve, index, runner, sub_in, state_locs):
    """Views of slot `index` for the runner's saved entries, then for the states (subgraph positions `state_locs`)
    its gradient steps read; and those states' positions."""
    locs = [loc for loc in state_locs if loc in runner.saved_inputs]
    specs = runner.saved_specs + [(sub_in[loc].shape, sub_in[loc].dtype.str) for loc in locs]
    if not reserve.fits(specs):
        raise MXNetError("the reserve of a control flow node holds %d elements of %s per step, a step saves %s "
                         "(internal)" % (reserve.stride, reserve.array.dtype, specs))
    return reserve.slot(index, specs), locs


def _save_step(reserve, index, runner, sub_in, state_locs):
    """After a step's forward: what its gradient steps read, into slot `index` (Note [saved forward values])."""
    views, locs = _slot_of(reserve, index, runner, sub_in, state_locs)
    n = len(runner.saved)
    runner.save(views[:n])
    for view, loc in zip(views[n:], locs):
        np.copyto(view, sub_in[loc])


def _saved_step(reserve, index, runner, sub_in, state_locs):
    """(the step's subgraph inputs with its states from slot `index`, None where the gradient steps read none; the
    views of its saved entries) for `Runner.backward`."""
    views, locs = _slot_of(reserve, index, runner, sub_in, state_locs)
    n, sub_in = len(runner.saved), list(sub_in)
    for loc in state_locs:
        sub_in[loc] = None
    for view, loc in zip(views[n:], locs):
        sub_in[loc] = view
    return sub_in, views[:n]


def foreach(ctx, p, inputs, outputs, req):
    sub = p.subgraphs[0]
    n_out, n_data, n_state = p.num_out_data, len(p.in_data_locs), len(p.in_state_locs)
    length = inputs[0].shape[0] if n_data else 0
    reserve = _Reserve(outputs[-1], length)
    saving = _saving(ctx, sub)
    states = [np.array(s) for s in inputs[n_data:n_data + n_state]]
    stacked = [np.empty(o.shape, o.dtype) for o in outputs[:n_out]]
    summed = p.remain_locs if saving else ()       # the runner the backward takes (one plan for both)
    for i in range(length):
        sub_in = _foreach_step_inputs(p, inputs, i, states)
        runner = _runner(sub, sub_in, saving, summed)
        outs = runner.forward(ctx, sub_in)
        if saving:
            _save_step(reserve, i, runner, sub_in, p.in_state_locs)
        for dst, o in zip(stacked, outs[:n_out]):
            dst[i] = o
        states = [np.array(o) for o in outs[n_out:]]
    reserve.count = length if saving else -1
    for out, value, r in zip(outputs[:-1], stacked + states, req[:-1], strict=True):
        _store(out, value, r)


def foreach_backward(ctx, p, inputs, outputs, req):
    sub = p.subgraphs[0]
    n_in = len(outputs)
    fwd, dys, reserve = inputs[:n_in], inputs[n_in:-1], inputs[-1]
    n_out, n_data, n_state = p.num_out_data, len(p.in_data_locs), len(p.in_state_locs)
    length = fwd[0].shape[0] if n_data else 0
    reserve = _Reserve(reserve, length)
    grads = [np.zeros(x.shape, x.dtype) for x in fwd]
    carry = [np.asarray(d) for d in dys[n_out:]]
    state_inputs = fwd[n_data:n_data + n_state]
    if reserve.count == length:
        steps = None
    else:       # nothing saved: the forward again, for each step's states
        steps, states = [], [np.array(s) for s in state_inputs]
        for i in range(length):
            sub_in = _foreach_step_inputs(p, fwd, i, states)
            steps.append(sub_in)
            states = [np.array(o) for o in _runner(sub, sub_in, False).forward(ctx, sub_in)[n_out:]]
    runner = None
    for i in reversed(range(length)):
        heads = [d[i] for d in dys[:n_out]] + carry
        sub_in = _foreach_step_inputs(p, fwd, i, state_inputs) if steps is None else steps[i]
        if runner is None:      # every step has the same shapes: one runner
            runner = _runner(sub, sub_in, True, p.remain_locs)
            runner.zero_sums()
        if steps is None:       # the states come from the slot
            sub_in, saved = _saved_step(reserve, i, runner, sub_in, p.in_state_locs)
            step_grads = runner.backward(ctx, sub_in, heads, saved)
        else:
            runner.forward(ctx, sub_in)
            step_grads = runner.backward(ctx, sub_in, heads)
        for k, loc in enumerate(foreach_inputs(p)):
            if k < n_data:
                grads[k][i] = step_grads[loc]
            elif k >= n_data + n_state and runner.sums[loc] is None:
                grads[k] += step_grads[loc]
        carry = [np.array(step_grads[loc]) for loc in p.in_state_locs]      # on to the step before
    if runner is not None:
        feeds = {loc: k for k, loc in enumerate(foreach_inputs(p))}
        _add_sums(runner, grads, feeds)
    for j in range(n_state):
        grads[n_data + j][...] = carry[j]
    for out, value, r in zip(outputs, grads, req, strict=True):
        _store(out, value, r)


# ---------------------------------------------------------------------------------------------------------------
# _while_loop
# ---------------------------------------------------------------------------------------------------------------

def _func_inputs(p, values):
    return [values[k] for k in p.func_input_locs]


def _condition(ctx, p, values):
    sub_in = [values[k] for k in p.cond_input_locs]
    (pred,) = _runner(p.subgraphs[0], sub_in, False).forward(ctx, sub_in)
    return bool(pred.size and pred.ravel()[0])


def _while_summed(p):
    """The func subgraph's inputs other than the loop variables: their gradients add up over the steps."""
    return [loc for loc in range(len(p.func_input_locs)) if loc not in set(p.func_var_locs)]


def while_loop(ctx, p, inputs, outputs, req):
    func_g = p.subgraphs[1]
    n_out = p.num_out_data
    reserve = _Reserve(outputs[-1], p.max_iterations)
    saving = _saving(ctx, func_g)
    values, var_inputs = list(inputs), while_var_inputs(p)
    stacked = [np.zeros(out.shape, out.dtype) for out in outputs[:n_out]]   # padding rows: zeros (MXNet: undefined)
    summed = _while_summed(p) if saving else ()      # the runner the backward takes (one plan for both)
    steps = 0
    while steps < p.max_iterations and _condition(ctx, p, values):
        sub_in = _func_inputs(p, values)
        runner = _runner(func_g, sub_in, saving, summed)
        outs = runner.forward(ctx, sub_in)
        if saving:
            _save_step(reserve, steps, runner, sub_in, p.func_var_locs)
        for dst, o in zip(stacked, outs[:n_out]):
            dst[steps] = o
        values = list(values)
        for j, k in enumerate(var_inputs):
            values[k] = np.array(outs[n_out + j])
        steps += 1
    reserve.count = steps if saving else -1
    for out, value, r in zip(outputs[:-1], stacked + [values[k] for k in var_inputs], req[:-1], strict=True):
        _store(out, value, r)


def while_loop_backward(ctx, p, inputs, outputs, req):
    n_in = len(outputs)
    fwd, dys, reserve = inputs[:n_in], inputs[n_in:-1], inputs[-1]
    n_out, func_g = p.num_out_data, p.subgraphs[1]
    reserve = _Reserve(reserve, p.max_iterations)
    var_inputs, var_locs = while_var_inputs(p), set(p.func_var_locs)
    if reserve.count >= 0:
        count, steps = reserve.count, None
    else:       # nothing saved: run the loop again, keeping each step's inputs
        steps, values = [], list(fwd)
        while len(steps) < p.max_iterations and _condition(ctx, p, values):
            steps.append(_func_inputs(p, values))
            outs = _runner(func_g, steps[-1], False).forward(ctx, steps[-1])
            values = list(values)
            for j, k in enumerate(var_inputs):
                values[k] = np.array(outs[n_out + j])
        count = len(steps)
    grads = [np.zeros(x.shape, x.dtype) for x in fwd]
    carry = [np.asarray(d) for d in dys[n_out:]]
    runner = None
    for s in reversed(range(count)):
        heads = [d[s] for d in dys[:n_out]] + carry
        sub_in = _func_inputs(p, fwd) if steps is None else steps[s]
        if runner is None:      # every step has the same shapes: one runner
            runner = _runner(func_g, sub_in, True, _while_summed(p))
            runner.zero_sums()
        if steps is None:       # the loop variables come from the slot
            sub_in, saved = _saved_step(reserve, s, runner, sub_in, p.func_var_locs)
            step_grads = runner.backward(ctx, sub_in, heads, saved)
        else:
            runner.forward(ctx, sub_in)
            step_grads = runner.backward(ctx, sub_in, heads)
        carry = [np.array(step_grads[loc]) for loc in p.func_var_locs]       # on to the step before
        for loc, k in enumerate(p.func_input_locs):
            if loc not in var_locs and runner.sums[loc] is None:
                grads[k] += step_grads[loc]
    if runner is not None:
        _add_sums(runner, grads, p.func_input_locs)
    for j, k in enumerate(var_inputs):
        grads[k] += carry[j]
    for out, value, r in zip(outputs, grads, req, strict=True):
        _store(out, value, r)


# ---------------------------------------------------------------------------------------------------------------
# _cond
# ---------------------------------------------------------------------------------------------------------------

def _cond_branch(ctx, p, inputs):
    """Index of the subgraph (1: then, 2: else) the predicate picks."""
    sub_in = [inputs[k] for k in p.cond_input_locs]
    (pred,) = _runner(p.subgraphs[0], sub_in, False).forward(ctx, sub_in)
    if pred.size != 1:
        raise ShapeError("_cond: the predicate must be a scalar (one element), got shape %s" % (pred.shape,))
    return 1 if pred.ravel()[0] else 2


def _branch_inputs(p, inputs, branch):
    return [inputs[k] for k in (p.then_input_locs if branch == 1 else p.else_input_locs)]


def cond(ctx, p, inputs, outputs, req):
    branch = _cond_branch(ctx, p, inputs)
    sub = p.subgraphs[branch]
    reserve = _Reserve(outputs[-1], 1)
    saving = _saving(ctx, sub)
    sub_in = _branch_inputs(p, inputs, branch)
    runner = _runner(sub, sub_in, saving)
    outs = runner.forward(ctx, sub_in)
    if saving:
        _save_step(reserve, 0, runner, sub_in, ())
    reserve.count = branch if saving else -1
    for out, value, r in zip(outputs[:-1], outs, req[:-1], strict=True):
        _store(out, value, r)


def cond_backward(ctx, p, inputs, outputs, req):
    n_in = len(outputs)
    fwd, dys, reserve = inputs[:n_in], inputs[n_in:-1], _Reserve(inputs[-1], 1)
    saved = reserve.count in (1, 2)
    branch = reserve.count if saved else _cond_branch(ctx, p, fwd)
    sub_in = _branch_inputs(p, fwd, branch)
    runner = _runner(p.subgraphs[branch], sub_in, True)
    if saved:
        step_grads = runner.backward(ctx, sub_in, list(dys), _saved_step(reserve, 0, runner, sub_in, ())[1])
    else:
        runner.forward(ctx, sub_in)
        step_grads = runner.backward(ctx, sub_in, list(dys))
    grads = [np.zeros(x.shape, x.dtype) for x in fwd]
    for loc, k in enumerate(p.then_input_locs if branch == 1 else p.else_input_locs):
        grads[k] += step_grads[loc]
    for out, value, r in zip(outputs, grads, req, strict=True):
        _store(out, value, r)
