"""The Python CustomOps the custom-operator tests run (test_custom_op.py, test_custom_op_errors.py), registered
on import: t_sigmoid, fx_softmax (the tutorial's softmax loss, under the name MXNet's fixture used), t_muladd (two
inputs, two outputs, an aux state) and t_scale.
"""
import numpy as np

import dataflow as mx

seen = {}       # what the callbacks were given, for the tests that check it


class Sigmoid(mx.operator.CustomOp):
    def forward(self, is_train, req, in_data, out_data, aux):
        seen.setdefault("sigmoid_is_train", []).append(is_train)
        self.assign(out_data[0], req[0], mx.nd.sigmoid(in_data[0]))

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        seen["sigmoid_backward_in_data"] = in_data
        y = out_data[0]
        self.assign(in_grad[0], req[0], out_grad[0] * y * (1 - y))


@mx.operator.register("t_sigmoid")
class SigmoidProp(mx.operator.CustomOpProp):
    """Backward needs only the output gradient and the output, as the declaration says."""

    def declare_backward_dependency(self, out_grad, in_data, out_data):
        return [out_grad[0], out_data[0]]

    def create_operator(self, ctx, in_shapes, in_dtypes):
        return Sigmoid()


class Softmax(mx.operator.CustomOp):
    """The softmax loss of MXNet's custom-operator tutorial (numpy inside)."""

    def forward(self, is_train, req, in_data, out_data, aux):
        x = in_data[0].asnumpy()
        y = np.exp(x - x.max(axis=1, keepdims=True))
        y /= y.sum(axis=1, keepdims=True)
        self.assign(out_data[0], req[0], mx.nd.array(y))

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        seen["softmax_backward"] = {"req": list(req), "out_grad": out_grad}
        label = in_data[1].asnumpy().ravel().astype(np.int64)
        y = out_data[0].asnumpy()
        y[np.arange(label.shape[0]), label] -= 1.0
        self.assign(in_grad[0], req[0], mx.nd.array(y))


@mx.operator.register("fx_softmax")       # the name the MXNet fixture used
class SoftmaxProp(mx.operator.CustomOpProp):
    def __init__(self, **kwargs):
        seen.setdefault("softmax_kwargs", []).append(kwargs)
        super().__init__(need_top_grad=False)

    def list_arguments(self):
        return ["data", "label"]

    def infer_shape(self, in_shape):
        return [in_shape[0], (in_shape[0][0],)], [in_shape[0]], []

    def create_operator(self, ctx, in_shapes, in_dtypes):
        seen.setdefault("softmax_create", []).append({"ctx": str(ctx), "in_shapes": in_shapes,
                                                      "in_dtypes": list(in_dtypes)})
        return Softmax()


class MulAdd(mx.operator.CustomOp):
    """Two inputs, two outputs (a*b*scale, a+b) and an aux state counting training forwards."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, is_train, req, in_data, out_data, aux):
        a, b = in_data
        self.assign(out_data[0], req[0], a * b * self.scale)
        self.assign(out_data[1], req[1], a + b)
        if is_train:
            aux[0][:] = aux[0] + 1

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        a, b = in_data
        g0, g1 = out_grad
        self.assign(in_grad[0], req[0], g0 * b * self.scale + g1)
        self.assign(in_grad[1], req[1], g0 * a * self.scale + g1)


@mx.operator.register("t_muladd")
class MulAddProp(mx.operator.CustomOpProp):
    def __init__(self, scale="1.0"):
        super().__init__(need_top_grad=True)
        self.scale = float(scale)

    def list_arguments(self):
        return ["a", "b"]

    def list_outputs(self):
        return ["prod", "sum"]

    def list_auxiliary_states(self):
        return ["count"]

    def infer_shape(self, in_shape):
        return [in_shape[0], in_shape[0]], [in_shape[0], in_shape[0]], [(1,)]

    def create_operator(self, ctx, in_shapes, in_dtypes):
        return MulAdd(self.scale)


class Scale(mx.operator.CustomOp):
    """Stateful: forward draws a random scale and keeps it on self for backward (like a custom dropout)."""
    _rng = np.random.RandomState(9)

    def forward(self, is_train, req, in_data, out_data, aux):
        self.scale = self._rng.uniform(0.5, 1.5, in_data[0].shape)
        seen.setdefault("scales", []).append(self.scale)
        self.assign(out_data[0], req[0], in_data[0] * mx.nd.array(self.scale))

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        self.assign(in_grad[0], req[0], out_grad[0] * mx.nd.array(self.scale))


@mx.operator.register("t_scale")
class ScaleProp(mx.operator.CustomOpProp):
    def create_operator(self, ctx, in_shapes, in_dtypes):
        return Scale()
