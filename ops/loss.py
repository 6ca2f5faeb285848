"""Loss heads without a softmax: MakeLoss, make_loss and SVMOutput, with their `_backward_*` ops.

Each is the identity in the forward pass; its gradient ignores the head gradient (a loss ends the graph), as
MXNet's do. (SoftmaxOutput and the regression outputs are in ops/softmax.py, softmax_cross_entropy in ops/norm.py.)

Facts checked on MXNet 1.9.1 (native CPU kernels):
- MakeLoss: float types only; output "output". The gradient is grad_scale, divided by (normalization) nothing
  (null), the first dim of data flattened to 2-D, i.e. prod(shape[:-1]) (batch), or the number of elements
  greater than valid_thresh, at least 1 (valid).
- make_loss: any dtype; output "loss"; the gradient is ones.
- SVMOutput: data (..., k), label data.shape[:-1] (values truncated to integers; a label outside [0, k) marks no
  column). With x = data, for the label column and every other column (MXNet's svm_output.cc):
  L1 (use_linear): -(margin > x) * c          and  (margin > -x) * c;
  L2:              -2 (margin - x) c if margin > x, else 0   and   2 (margin + x) c if margin > -x, else 0;
  c = regularization_coefficient. The label gets no gradient.
"""
from .autodiff import apply
from .cpu import loss as cpu
from .elemwise import float_only, like_inputs, merge, same_shape_rule, types_like_inputs
from .registry import Bool, Enum, Float, OpDef, register, same_dtype


# ---- MakeLoss, make_loss --------------------------------------------------------------------------------------
_MAKE_LOSS = dict(grad_scale=Float(1.0, "Gradient scale as a supplement to unary and binary operators"),
                  valid_thresh=Float(0.0, "clip each element in the array to 0 when it is less than "
                                          "``valid_thresh``. This is used when ``normalization`` is set to "
                                          "``'valid'``."),
                  normalization=Enum(("batch", "null", "valid"), "null",
                                     "If this is set to null, the output gradient will not be normalized. If this "
                                     "is set to batch, the output gradient will be divided by the batch size. If "
                                     "this is set to valid, the output gradient will be divided by the number of "
                                     "valid input elements."))


def _make_loss_grad(p, ins, outs, dys):
    return [apply("_backward_MakeLoss", outs[0], **p.as_dict())]


register(OpDef("MakeLoss", params=_MAKE_LOSS, infer_shape=same_shape_rule, infer_type=float_only("MakeLoss"),
               inplace=((0, 0),), gradient=_make_loss_grad, cpu=cpu.identity,
               doc="Make your own loss function in network construction: the identity forward; backward, a "
                   "gradient of grad_scale (normalized as `normalization` says) whatever the head gradient."))
register(OpDef("_backward_MakeLoss", params=_MAKE_LOSS, arguments=("output",), outputs=("data_grad",),
               infer_shape=like_inputs(0), infer_type=types_like_inputs(0), cpu=cpu.backward_make_loss,
               doc="Backward of MakeLoss (internal)."))


def _ones_grad(p, ins, outs, dys):
    return [apply("ones_like", ins[0])]


register(OpDef("make_loss", outputs=("loss",), infer_shape=same_shape_rule, inplace=((0, 0),),
               gradient=_ones_grad, cpu=cpu.identity,
               doc="Make your own loss function in network construction: the identity forward; its gradient is "
                   "ones whatever the head gradient."))


# ---- SVMOutput ---------------------------------------------------------------------------------------------------
_SVM = dict(margin=Float(1.0, "The loss function penalizes outputs that lie outside this margin. Default margin "
                              "is 1."),
            regularization_coefficient=Float(1.0, "Regularization parameter for the SVM. This balances the "
                                                  "tradeoff between coefficient size and error."),
            use_linear=Bool(False, "Whether to use L1-SVM objective. L2-SVM objective is used by default."))


# data (..., k), label data.shape[:-1], out like data (also the backward's (output, label) -> data_grad)
def _svm_shape(p, in_shapes, out_shapes):
    data = merge(in_shapes[0], out_shapes[0])
    if data is None:
        return [data, in_shapes[1]], [data]
    return [data, tuple(data[:-1])], [data]


def _svm_grad(p, ins, outs, dys):
    return [apply("_backward_SVMOutput", outs[0], ins[1], **p.as_dict()), None]


register(OpDef("SVMOutput", params=_SVM, arguments=("data", "label"), infer_shape=_svm_shape,
               infer_type=float_only("SVMOutput"), gradient=_svm_grad, cpu=cpu.identity,
               doc="Computes support vector machine based transformation of the input: the identity forward; "
                   "backward, the gradient of the L2-SVM (or L1-SVM with use_linear) hinge loss on the labels."))
register(OpDef("_backward_SVMOutput", params=_SVM, arguments=("output", "label"), outputs=("data_grad",),
               infer_shape=_svm_shape,
               infer_type=float_only("_backward_SVMOutput", same_dtype), cpu=cpu.backward_svm_output,
               doc="Backward of SVMOutput (internal)."))
