"""CTCLoss (`mx.nd.CTCLoss`, `ctc_loss`, `contrib.CTCLoss`): the connectionist temporal classification loss.

Inputs: data (T, N, C) activations (softmax is applied inside), label (N, L), and, with `use_data_lengths` /
`use_label_lengths`, data_lengths (N,) and label_lengths (N,). `blank_label='first'`: class 0 is the blank and
labels are padded with 0; `'last'`: class C-1 is the blank and labels are padded with -1 (gluon.loss.CTCLoss).
Output: the loss per sequence (N,); a hidden second output holds d loss / d data, computed with the loss as MXNet
does, and the gradient multiplies it by the head gradient. Checked against MXNet 1.9.1
(tests/fixtures/mxnet-1.9.1/semantics/ctc.npz).
"""
from .autodiff import apply
from .cpu import ctc as cpu
from .elemwise import fmt
from .errors import DTypeError, ShapeError
from .registry import Bool, Enum, OpDef, register

_CTC = dict(use_data_lengths=Bool(False, "Whether the data lenghts are decided by `data_lengths`. If false, the "
                                         "lengths are equal to the max sequence length."),
            use_label_lengths=Bool(False, "Whether the label lenghts are decided by `label_lengths`, or derived "
                                          "from `padding_mask`. If false, the lengths are derived from the first "
                                          "occurrence of the value of `padding_mask`. The value of `padding_mask` "
                                          "is ``0`` when first CTC label is reserved for blank, and ``-1`` when "
                                          "last label is reserved for blank. See `blank_label`."),
            blank_label=Enum(("first", "last"), "first", "Set the label that is reserved for blank label.If "
                                                          "\"first\", 0-th label is reserved, and label values for "
                                                          "tokens in the vocabulary are between ``1`` and "
                                                          "``alphabet_size-1``, and the padding mask is ``-1``. If "
                                                          "\"last\", last label value ``alphabet_size-1`` is "
                                                          "reserved for blank label instead, and label values for "
                                                          "tokens in the vocabulary are between ``0`` and "
                                                          "``alphabet_size-2``, and the padding mask is ``0``."))


def _arguments(p):
    return ["data", "label"] + (["data_lengths"] if p.use_data_lengths else []) + \
        (["label_lengths"] if p.use_label_lengths else [])


# data (T, N, C), label (N, L) with L <= T -> loss (N,), hidden gradient (T, N, C); lengths (N,) are not inferred.
def _ctc_shape(p, in_shapes, out_shapes):
    data, label = in_shapes[0], in_shapes[1]
    if data is None:
        data = out_shapes[1]
    if data is None:
        return list(in_shapes), list(out_shapes)
    if len(data) != 3:
        raise ShapeError("CTCLoss: data must be 3-D (sequence length, batch, alphabet size), got %s" % fmt(data))
    if label is not None:
        if len(label) != 2:
            raise ShapeError("CTCLoss: label must be 2-D (batch, max label length), got %s" % fmt(label))
        if data[0] and label[1] and label[1] > data[0]:
            raise ShapeError("CTCLoss: The max number of labels cannot exceed the maximum sequence length of the "
                             "data (label %s, data %s)" % (fmt(label), fmt(data)))
        if data[1] and label[0] and data[1] != label[0]:
            raise ShapeError("CTCLoss: The batch size for the labels and data arrays must be the same (label %s, "
                             "data %s)" % (fmt(label), fmt(data)))
    for name, shape in zip(_arguments(p)[2:], in_shapes[2:]):
        if shape is not None and (len(shape) != 1 or (shape[0] and data[1] and shape[0] != data[1])):
            raise ShapeError("CTCLoss: %s must be a vector of the batch size %d, got %s" % (name, data[1],
                                                                                           fmt(shape)))
    return [data] + list(in_shapes[1:]), [(data[1],), data]


def _ctc_type(p, in_types, out_types):
    data = in_types[0] if in_types[0] is not None else out_types[0]
    if data is None:
        return list(in_types), list(out_types)
    if data.kind != "f":
        raise DTypeError("CTCLoss: data must be floating point, not %s" % data.name)
    return [data] + list(in_types[1:]), [data, data]


def _ctc_grad(p, ins, outs, dys):
    grads = [None] * len(ins)
    if dys[0] is not None:
        grads[0] = apply("_backward_CTCLoss", dys[0], outs[1])
    return grads


register(OpDef("CTCLoss", aliases=("ctc_loss", "_contrib_CTCLoss", "_contrib_ctc_loss"), params=_CTC,
               arguments=_arguments, outputs=("output0", "output1"), num_visible_outputs=lambda p: 1,
               infer_shape=_ctc_shape, infer_type=_ctc_type, gradient=_ctc_grad, cpu=cpu.ctc_loss,
               doc="Connectionist Temporal Classification Loss: the negative log probability of each label "
                   "sequence given the activations, summed over all alignments."))


def _backward_shape(p, in_shapes, out_shapes):
    grad = in_shapes[1] if in_shapes[1] is not None else out_shapes[0]
    return [None if grad is None else (grad[1],), grad], [grad]


def _backward_type(p, in_types, out_types):
    t = in_types[1] if in_types[1] is not None else out_types[0]
    return [t, t], [t]


register(OpDef("_backward_CTCLoss", arguments=("ograd", "grad"), outputs=("data_grad",),
               infer_shape=_backward_shape, infer_type=_backward_type, cpu=cpu.backward_ctc_loss,
               doc="Gradient of CTCLoss: its stored gradient times the head gradient (internal)."))
