"""`DataParallelExecutorGroup`: one Executor per context, each running a slice of the batch (MXNet's
`mx.module.executor_group`).

The batch is cut along each input's batch axis (its layout's 'N', axis 0 by default) into `slices` in proportion
to `workload` (`_split_input_slice`); executor i is bound (`simple_bind`) with the sliced shapes on `contexts[i]`.
`forward` copies each input slice into its executor, `backward` runs every executor, and outputs or input
gradients are concatenated back along the batch axis when `merge_multi_context`. The arrays libraries reach for
are lists per argument with one entry per executor: `param_arrays`, `grad_arrays`, `aux_arrays`, `state_arrays`,
`input_grad_arrays`, and `data_arrays`/`label_arrays` of `(slice, array)` pairs.

`Module` runs one Executor itself; `Module._exec_group` shows it as a one-context group (`of_executor`) so code
written against MXNet's Module internals (`mod._exec_group.execs[0]`, `.param_arrays`) finds what it expects.
"""
import logging
from collections import OrderedDict

from .. import context as ctx
from .. import ndarray as nd
from ..io import DataDesc

__all__ = ["DataParallelExecutorGroup"]


def _split_input_slice(batch_size, work_load_list):
    """Slices of [0, batch_size) in proportion to `work_load_list` (rounded; the last one takes the rest).
    ValueError when a slice would be empty."""
    total = sum(work_load_list)
    sizes = [round(load * batch_size / total) for load in work_load_list]
    if sum(sizes) < batch_size:
        sizes[-1] += batch_size - sum(sizes)
    slices, end = [], 0
    for size in sizes:
        begin = int(min(end, batch_size))
        end = int(min(begin + size, batch_size))
        if begin >= end:
            raise ValueError("Too many slices. Some splits are empty.")
        slices.append(slice(begin, end))
    return slices


def _load_general(data, targets, major_axis):
    """Copy each source array into its targets: whole (a target NDArray, or a list of per-device sources), or the
    slice of each `(slice, array)` target along the batch axis."""
    for source, target, axis in zip(data, targets, major_axis):
        if isinstance(target, nd.NDArray):
            source.copyto(target)
        elif isinstance(source, (list, tuple)):
            for src, dst in zip(source, target):
                src.copyto(dst)
        else:
            for where, dst in target:
                whole = axis < 0 or (where.start == 0 and source.shape[axis] == where.stop)
                if whole:
                    source.copyto(dst)
                elif axis == 0:
                    source[where.start:where.stop].copyto(dst)
                else:
                    nd.slice_axis(source, axis=axis, begin=where.start, end=where.stop).copyto(dst)


def _load_data(batch, targets, major_axis):
    """Load `batch.data` (or, for a list of batches, one batch per device) into the data targets."""
    if isinstance(batch, list):
        per_device = [[b.data[i] for b in batch] for i in range(len(targets))]
        _load_general(per_device, [[dst for _, dst in t] for t in targets], major_axis)
    else:
        _load_general(batch.data, targets, major_axis)


def _load_label(batch, targets, major_axis):
    """Load `batch.label` (or, for a list of batches, one batch per device) into the label targets."""
    if isinstance(batch, list):
        per_device = [[b.label[i] for b in batch] for i in range(len(targets))]
        _load_general(per_device, [[dst for _, dst in t] for t in targets], major_axis)
    else:
        _load_general(batch.label, targets, major_axis)


def _merge_multi_context(outputs, major_axis):
    """One array per output: the devices' arrays concatenated along the batch axis (the first device's array when
    the output has no batch axis)."""
    merged = []
    for arrays, axis in zip(outputs, major_axis):
        if axis >= 0 and len(arrays) > 1:
            merged.append(nd.concat(*[a.as_in_context(arrays[0].context) for a in arrays], dim=axis))
        else:
            merged.append(arrays[0])
    return merged


def _prepare_group2ctxs(group2ctxs, ctx_len):
    """`group2ctxs` as one {ctx_group: context} dict (or None) per device."""
    if group2ctxs is None:
        return [None] * ctx_len
    if isinstance(group2ctxs, list):
        assert len(group2ctxs) == ctx_len, "length of group2ctxs should be %d" % ctx_len
        return group2ctxs
    if isinstance(group2ctxs, dict):
        per_device = [{} for _ in range(ctx_len)]
        for group, where in group2ctxs.items():
            where = [where] * ctx_len if isinstance(where, ctx.Context) else list(where)
            if len(where) == 1:
                where = where * ctx_len
            assert len(where) == ctx_len, "length of group2ctxs[%s] should be %d or 1" % (group, ctx_len)
            for i in range(ctx_len):
                per_device[i][group] = where[i]
        return per_device
    raise AssertionError("group2ctxs should be list of dict of str to context, or dict of str to context or list "
                         "of context")


def grad_req_dict(grad_req, arg_names, param_names, fixed_param_names, data_names, for_training, inputs_need_grad):
    """grad_req per argument (MXNet's rule): parameters get `grad_req` ('null' when fixed), data inputs only
    with inputs_need_grad, the others (labels, states) 'null'; not training, all 'null'. A list gives one per
    argument; a dict overrides the default 'write'."""
    if not for_training:
        grad_req = "null"
    if isinstance(grad_req, (list, tuple)):
        assert len(grad_req) == len(arg_names)
        return dict(zip(arg_names, grad_req))
    if not isinstance(grad_req, (str, dict)):
        raise ValueError("grad_req must be one of str, list, tuple, or dict.")
    default = grad_req if isinstance(grad_req, str) else "write"
    reqs = {}
    for name in arg_names:
        if name in param_names:
            reqs[name] = "null" if name in fixed_param_names else default
        elif name in data_names:
            reqs[name] = default if inputs_need_grad else "null"
        else:
            reqs[name] = "null"
    if isinstance(grad_req, dict):
        reqs.update(grad_req)
    return reqs


class DataParallelExecutorGroup:
    """Executors of one symbol on several contexts, each running its slice of every batch.

    Parameters
    ----------
    symbol : Symbol
    contexts : list of Context
    workload : list of numbers, the share of the batch of each context (None: equal shares)
    data_shapes, label_shapes : lists of DataDesc or (name, shape) (label_shapes may be None)
    param_names : the arguments that are parameters
    for_training : bind with gradients
    inputs_need_grad : also compute the gradients of the data inputs
    shared_group : a group whose parameter arrays (and gradients) this one uses (bucketing)
    logger, fixed_param_names, grad_req, state_names, group2ctxs : as for `Module`
    """

    def __init__(self, symbol, contexts, workload, data_shapes, label_shapes, param_names, for_training,
                 inputs_need_grad, shared_group=None, logger=logging, fixed_param_names=None, grad_req="write",
                 state_names=None, group2ctxs=None):
        self._setup(symbol, contexts, workload, _descs(data_shapes), param_names, for_training, inputs_need_grad,
                    logger, fixed_param_names, grad_req, state_names, group2ctxs)
        self.shared_data_arrays = (shared_group.shared_data_arrays if shared_group is not None
                                   else [{} for _ in self.contexts])
        self.bind_exec(data_shapes, label_shapes, shared_group)

    @classmethod
    def of_executor(cls, executor, symbol, context, data_shapes, label_shapes, param_names, for_training,
                    inputs_need_grad, fixed_param_names=None, grad_req="write", state_names=None):
        """A one-context group around an Executor bound elsewhere (how `Module` shows its executor)."""
        group = cls.__new__(cls)
        group._setup(symbol, [context], None, _descs(data_shapes), param_names, for_training, inputs_need_grad,
                     logging, fixed_param_names, grad_req, state_names, None)
        group.shared_data_arrays = [{}]
        group._adopt([executor], _descs(data_shapes), _descs(label_shapes))
        return group

    def _setup(self, symbol, contexts, workload, data_shapes, param_names, for_training, inputs_need_grad, logger,
               fixed_param_names, grad_req, state_names, group2ctxs):
        self.symbol = symbol
        self.contexts = list(contexts)
        self.workload = list(workload) if workload is not None else [1] * len(self.contexts)
        self.param_names = list(param_names)
        self.arg_names = symbol.list_arguments()
        self.aux_names = symbol.list_auxiliary_states()
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self.logger = logger
        self.fixed_param_names = list(fixed_param_names or [])
        self.state_names = list(state_names or [])
        self.group2ctxs = _prepare_group2ctxs(group2ctxs, len(self.contexts))
        self.grad_req = grad_req_dict(grad_req, self.arg_names, self.param_names, self.fixed_param_names,
                                      [d.name for d in data_shapes], for_training, inputs_need_grad)
        self._total_exec_bytes = 0
        self.batch_size = None
        self.slices = None
        self.execs = []
        self._default_execs = None
        self.data_arrays = self.label_arrays = self.param_arrays = self.state_arrays = None
        self.grad_arrays = self.aux_arrays = self.input_grad_arrays = None
        self.data_shapes = self.label_shapes = self.data_names = self.label_names = None
        self.data_layouts = self.label_layouts = None
        self.output_names = symbol.list_outputs()
        self.num_outputs = len(self.output_names)
        self.output_layouts = [DataDesc.get_batch_axis(symbol[i].attr("__layout__"))
                               for i in range(self.num_outputs)]

    # -- binding ---------------------------------------------------------------------------------------------------
    def decide_slices(self, data_shapes):
        """The batch axis of each input; sets `batch_size` and `slices` from the first input with one."""
        assert len(data_shapes) > 0
        major_axis = [DataDesc.get_batch_axis(getattr(d, "layout", None)) for d in data_shapes]
        for (name, shape), axis in zip(data_shapes, major_axis):
            if axis == -1:
                continue
            if self.batch_size is not None:
                assert shape[axis] == self.batch_size, ("all data must have the same batch size: batch_size = %d, "
                                                        "but %s has shape %s" % (self.batch_size, name, shape))
            else:
                self.batch_size = shape[axis]
                self.slices = _split_input_slice(self.batch_size, self.workload)
        return major_axis

    def bind_exec(self, data_shapes, label_shapes, shared_group=None, reshape=False):
        """Bind (or, with `reshape`, reshape) one executor per context for these input shapes."""
        assert reshape or not self.execs
        data_shapes, label_shapes = _descs(data_shapes), _descs(label_shapes)
        self.batch_size = None
        self.data_layouts = self.decide_slices(data_shapes)
        if label_shapes is not None:
            self.label_layouts = self.decide_slices(label_shapes)
        for i in range(len(self.contexts)):
            data_i = self._sliced_shape(data_shapes, i, self.data_layouts)
            label_i = self._sliced_shape(label_shapes, i, self.label_layouts) if label_shapes is not None else []
            if reshape:
                self.execs[i] = self._default_execs[i].reshape(partial_shaping=True, allow_up_sizing=True,
                                                               **dict(data_i + label_i))
            else:
                self.execs.append(self._bind_ith_exec(i, data_i, label_i, shared_group))
        self._adopt(self.execs, data_shapes, label_shapes)

    def _adopt(self, execs, data_shapes, label_shapes):
        self.execs = execs
        self.data_shapes = data_shapes
        self.label_shapes = label_shapes
        self.data_names = [d.name for d in data_shapes]
        self.label_names = [d.name for d in label_shapes] if label_shapes is not None else None
        if self.data_layouts is None:
            self.batch_size = None
            self.data_layouts = self.decide_slices(data_shapes)
            if label_shapes is not None:
                self.label_layouts = self.decide_slices(label_shapes)
        self._collect_arrays()

    def reshape(self, data_shapes, label_shapes):
        """Switch every executor to new input shapes (parameters shared)."""
        if data_shapes == self.data_shapes and label_shapes == self.label_shapes:
            return
        if self._default_execs is None:
            self._default_execs = list(self.execs)
        self.bind_exec(data_shapes, label_shapes, reshape=True)

    def _bind_ith_exec(self, i, data_shapes, label_shapes, shared_group):
        """simple_bind executor i on its sliced shapes; with `shared_group`, rebind on that group's parameter
        arrays."""
        context = self.contexts[i]
        shapes = dict(data_shapes)
        types = {d.name: d.dtype for d in data_shapes}
        if label_shapes:
            shapes.update(dict(label_shapes))
            types.update({d.name: d.dtype for d in label_shapes})
        reqs = {name: self.grad_req.get(name, "null") for name in self.arg_names}
        executor = self.symbol.simple_bind(context, grad_req=reqs, type_dict=types, group2ctx=self.group2ctxs[i],
                                           **shapes)
        if shared_group is not None:
            source = shared_group.execs[i]
            args = [source.arg_dict[n] if n in self.param_names else a
                    for n, a in zip(self.arg_names, executor.arg_arrays)]
            grads = [source.grad_dict.get(n) if n in self.param_names and g is not None else g
                     for n, g in zip(self.arg_names, executor.grad_arrays)]
            executor = self.symbol.bind(context, args, grads, reqs, source.aux_arrays)
        self._total_exec_bytes += executor.memory_stats()["planned"]
        return executor

    def _sliced_shape(self, shapes, i, major_axis):
        """`shapes` with the batch axis cut to executor i's slice."""
        sliced = []
        for desc, axis in zip(shapes, major_axis):
            shape = list(desc.shape)
            if axis >= 0:
                shape[axis] = self.slices[i].stop - self.slices[i].start
            sliced.append(DataDesc(desc.name, tuple(shape), desc.dtype, desc.layout))
        return sliced

    def _collect_arrays(self):
        """The per-argument lists of the executors' arrays (see the module docstring)."""
        execs = self.execs
        slices = self.slices or [slice(i, i + 1) for i in range(len(execs))]
        self.data_arrays = [[(slices[i], e.arg_dict[name]) for i, e in enumerate(execs)]
                            for name, _ in self.data_shapes]
        self.state_arrays = [[e.arg_dict[name] for e in execs] for name in self.state_names]
        self.label_arrays = None if self.label_shapes is None else \
            [[(slices[i], e.arg_dict[name]) for i, e in enumerate(execs)] for name, _ in self.label_shapes]
        param_index = [i for i, name in enumerate(self.arg_names) if name in self.param_names]
        self.param_arrays = [[e.arg_arrays[i] for e in execs] for i in param_index]
        self.grad_arrays = [[e.grad_arrays[i] for e in execs] for i in param_index] if self.for_training else None
        self.input_grad_arrays = [[e.grad_arrays[self.arg_names.index(name)] for e in execs]
                                  for name, _ in self.data_shapes if name in self.arg_names] \
            if self.inputs_need_grad else None
        self.aux_arrays = [[e.aux_arrays[i] for e in execs] for i in range(len(self.aux_names))]

    # -- parameters ------------------------------------------------------------------------------------------------
    def set_params(self, arg_params, aux_params, allow_extra=False):
        """Copy the parameters into every executor."""
        for executor in self.execs:
            executor.copy_params_from(arg_params, aux_params, allow_extra_params=allow_extra)

    def get_params(self, arg_params, aux_params):
        """Write the devices' average of each parameter and aux state into `arg_params` / `aux_params` (in place)."""
        for names, blocks, targets in ((self.param_names, self.param_arrays, arg_params),
                                       (self.aux_names, self.aux_arrays, aux_params)):
            for name, block in zip(names, blocks):
                mean = nd.add_n(*[w.copyto(ctx.cpu()) for w in block]) / len(block)
                mean.astype(targets[name].dtype).copyto(targets[name])

    # -- computation -----------------------------------------------------------------------------------------------
    def forward(self, data_batch, is_train=None):
        """Load the batch's slices into the executors and run their forward passes."""
        _load_data(data_batch, self.data_arrays, self.data_layouts)
        if is_train is None:
            is_train = self.for_training
        first = data_batch[0] if isinstance(data_batch, list) else data_batch
        if self.label_arrays is not None and first is not None and first.label:
            _load_label(data_batch, self.label_arrays, self.label_layouts)
        for executor in self.execs:
            executor.forward(is_train=is_train)

    def backward(self, out_grads=None):
        """Run every executor's backward pass, each with its slice of `out_grads` (for outputs that are not
        losses)."""
        assert self.for_training, "re-bind with for_training=True to run backward"
        out_grads = [] if out_grads is None else out_grads
        for i, (executor, where) in enumerate(zip(self.execs, self.slices)):
            grads = []
            for grad, axis in zip(out_grads, self.output_layouts):
                if axis >= 0:
                    grads.append(nd.slice_axis(grad, axis=axis, begin=where.start, end=where.stop)
                                 .as_in_context(self.contexts[i]))
                else:
                    grads.append(grad.copyto(self.contexts[i]))
            executor.backward(out_grads=grads or None)     # [] means "none given" (loss outputs)

    def get_output_shapes(self):
        """(name, shape) of each output with the whole batch."""
        shapes = []
        for name, out, axis in zip(self.output_names, self.execs[0].outputs, self.output_layouts):
            shape = list(out.shape)
            if axis >= 0:
                shape[axis] = self.batch_size
            shapes.append((name, tuple(shape)))
        return shapes

    def get_outputs(self, merge_multi_context=True, begin=0, end=None):
        """Outputs [begin, end) of the last forward: merged over devices, or [[out_dev0, out_dev1, ...], ...]."""
        end = self.num_outputs if end is None else end
        outputs = [[e.outputs[i] for e in self.execs] for i in range(begin, end)]
        return _merge_multi_context(outputs, self.output_layouts[begin:end]) if merge_multi_context else outputs

    def get_states(self, merge_multi_context=True):
        """The state arrays, [[state_dev0, ...], ...] (merging is not supported, as in MXNet)."""
        assert not merge_multi_context, "merge_multi_context=True is not supported for get_states yet."
        return self.state_arrays

    def set_states(self, states=None, value=None):
        """Set the states from per-device arrays, or every state to the scalar `value`."""
        if states is not None:
            assert value is None, "Only one of states & value can be specified."
            _load_general(states, self.state_arrays, (0,) * len(states))
        else:
            assert value is not None, "At least one of states & value must be specified."
            for arrays in self.state_arrays:
                for array in arrays:
                    array[:] = value

    def get_input_grads(self, merge_multi_context=True):
        """The gradients of the data inputs (bound with inputs_need_grad)."""
        assert self.inputs_need_grad
        if merge_multi_context:
            return _merge_multi_context(self.input_grad_arrays, self.data_layouts)
        return self.input_grad_arrays

    def update_metric(self, eval_metric, labels, pre_sliced):
        """Update `eval_metric` with each device's outputs and its slice of `labels` (or, `pre_sliced`, its own
        labels)."""
        for i, (executor, where) in enumerate(zip(self.execs, self.slices)):
            if pre_sliced:
                device_labels = labels[i]
            else:
                device_labels = []
                for label, axis in zip(labels, self.label_layouts):
                    if axis == 0:
                        device_labels.append(label[where])
                    elif axis > 0:
                        device_labels.append(nd.slice_axis(label, axis=axis, begin=where.start, end=where.stop)
                                             .as_in_context(label.context))
                    else:
                        device_labels.append(label)
            eval_metric.update_dict(OrderedDict(zip(self.label_names, device_labels)),
                                    OrderedDict(zip(self.output_names, executor.outputs)))

    def install_monitor(self, mon):
        """Install the Monitor `mon` on every executor."""
        for executor in self.execs:
            mon.install(executor)


def _descs(shapes):
    """A list of DataDesc from DataDescs or (name, shape) pairs (None stays None)."""
    if shapes is None:
        return None
    return [d if isinstance(d, DataDesc) else DataDesc(*d) for d in shapes]
