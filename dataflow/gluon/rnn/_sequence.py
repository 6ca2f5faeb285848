"""Sequences for `unroll`: one tensor with a time axis, or a list of per-step tensors, and the conversions
between them (MXNet's `_format_sequence`, `_mask_sequence_variable_length`, `_reverse_sequences`)."""
from ... import ndarray as nd_module
from ... import symbol as sym_module
from ...ndarray.ndarray import NDArray
from ...symbol import Symbol

tensor_types = (Symbol, NDArray)


def as_list(obj):
    return list(obj) if isinstance(obj, (list, tuple)) else [obj]


def split_steps(F, x, length, axis):
    """The `length` steps of x along `axis`, each without that axis, as a list."""
    if length == 1:
        return [F.squeeze(x, axis=axis)]
    return list(F.split(x, num_outputs=length, axis=axis, squeeze_axis=True))


def format_sequence(length, inputs, layout, merge, in_layout=None):
    """(inputs as one tensor if `merge` is True, as a list of steps if False, unchanged if None; the time axis;
    F; the batch size, 0 for Symbols)."""
    if inputs is None:
        raise ValueError("unroll(inputs=None) has been deprecated. Please create input variables outside unroll.")
    if layout not in ("NTC", "TNC") and ("T" not in layout or "N" not in layout):
        raise ValueError("unroll: invalid layout %r; the layout must name a time axis T and a batch axis N, "
                         "e.g. 'NTC' or 'TNC'" % (layout,))
    axis, batch_axis = layout.find("T"), layout.find("N")
    in_axis = in_layout.find("T") if in_layout is not None else axis
    batch_size = 0
    if isinstance(inputs, Symbol):
        F = sym_module
        if merge is False:
            if len(inputs.list_outputs()) != 1:
                raise ValueError("unroll doesn't allow grouped symbol as input. Please convert to list with "
                                 "list(inputs) first or let unroll handle splitting.")
            inputs = split_steps(F, inputs, length, in_axis)
    elif isinstance(inputs, NDArray):
        F = nd_module
        batch_size = inputs.shape[batch_axis]
        if merge is False:
            if length is not None and length != inputs.shape[in_axis]:
                raise ValueError("unroll: length=%d but the inputs have %d steps along axis %d (layout %s, shape %s)"
                                 % (length, inputs.shape[in_axis], in_axis, layout, inputs.shape))
            inputs = split_steps(F, inputs, inputs.shape[in_axis], in_axis)
    else:
        if length is not None and len(inputs) != length:
            raise ValueError("unroll: length=%d but %d input steps were given" % (length, len(inputs)))
        if isinstance(inputs[0], Symbol):
            F = sym_module
        else:
            F = nd_module
            batch_size = inputs[0].shape[0]
        if merge is True:
            inputs = F.stack(*inputs, axis=axis)
            in_axis = axis
    if isinstance(inputs, tensor_types) and axis != in_axis:
        inputs = F.swapaxes(inputs, dim1=axis, dim2=in_axis)
    return inputs, axis, F, batch_size


def mask_variable_length(F, data, length, valid_length, time_axis, merge):
    """Steps at or past each sequence's valid length set to zero; merged or as a list of steps."""
    if not isinstance(data, tensor_types):
        data = F.stack(*data, axis=time_axis)
    outputs = F.SequenceMask(data, sequence_length=valid_length, use_sequence_length=True, axis=time_axis)
    if not merge:
        outputs = split_steps(F, outputs, length, time_axis)
    return outputs


def reverse_sequences(sequences, length, valid_length=None):
    """The list of steps reversed in time; with `valid_length`, each sequence reversed within its own length."""
    if valid_length is None:
        return list(reversed(sequences))
    F = sym_module if isinstance(sequences[0], Symbol) else nd_module
    reversed_seq = F.SequenceReverse(F.stack(*sequences, axis=0), sequence_length=valid_length,
                                     use_sequence_length=True)
    return split_steps(F, reversed_seq, length, 0)


def last_valid_states(F, all_states, valid_length):
    """Per state, the value at each sequence's last valid step (all_states: one list of states per step)."""
    return [F.SequenceLast(F.stack(*per_step, axis=0), sequence_length=valid_length, use_sequence_length=True,
                           axis=0)
            for per_step in zip(*all_states)]
