"""Record MXNet 1.9.1's custom-operator behaviour for tests/test_custom_op.py (run with the oracle's python).

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/custom_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/custom/{softmax.npz, behaviour.json, custom-symbol.json}; see the README there.
"""
import json
import os

import numpy as np

import mxnet as mx

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "custom")
rng = np.random.RandomState(20261206)
seen = {}       # what the callbacks were given, by the name of what we recorded


class Softmax(mx.operator.CustomOp):
    """The softmax loss of MXNet's custom-operator tutorial."""

    def forward(self, is_train, req, in_data, out_data, aux):
        seen.setdefault("forward_req", list(req))
        seen.setdefault("forward_is_train", []).append(bool(is_train))
        x = in_data[0].asnumpy()
        y = np.exp(x - x.max(axis=1, keepdims=True))
        y /= y.sum(axis=1, keepdims=True)
        self.assign(out_data[0], req[0], mx.nd.array(y))

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        seen.setdefault("backward_req", list(req))
        label = in_data[1].asnumpy().ravel().astype(np.int64)
        y = out_data[0].asnumpy()
        y[np.arange(label.shape[0]), label] -= 1.0
        self.assign(in_grad[0], req[0], mx.nd.array(y))


@mx.operator.register("fx_softmax")
class SoftmaxProp(mx.operator.CustomOpProp):
    def __init__(self, **kwargs):
        seen["init_kwargs"] = {k: [type(v).__name__, v] for k, v in kwargs.items()}
        super().__init__(need_top_grad=False)

    def list_arguments(self):
        return ["data", "label"]

    def infer_shape(self, in_shape):
        seen.setdefault("infer_shape_arg", [list(s) for s in in_shape])
        return [in_shape[0], (in_shape[0][0],)], [in_shape[0]], []

    def create_operator(self, ctx, in_shapes, in_dtypes):
        seen["create_operator"] = {"ctx": str(ctx), "in_shapes": [list(s) for s in in_shapes],
                                   "in_dtypes": [int(t) for t in in_dtypes]}
        return Softmax()


def main():
    os.makedirs(OUT, exist_ok=True)
    data = rng.uniform(-2, 2, (4, 5)).astype(np.float32)
    label = rng.randint(0, 5, (4,)).astype(np.float32)

    sym = mx.sym.Custom(mx.sym.var("data"), mx.sym.var("label"), op_type="fx_softmax", name="loss",
                        scale=2.5, flag=True, mode="fast")
    with open(os.path.join(OUT, "custom-symbol.json"), "w") as fh:
        fh.write(sym.tojson())
    ex = sym.simple_bind(mx.cpu(), data=data.shape, label=label.shape, grad_req={"data": "write", "label": "null"})
    ex.forward(is_train=True, data=mx.nd.array(data), label=mx.nd.array(label))
    ex.backward()
    out, grad = ex.outputs[0].asnumpy(), ex.grad_dict["data"].asnumpy()
    seen["list_arguments"] = sym.list_arguments()
    seen["list_outputs"] = sym.list_outputs()
    seen["infer_shape"] = [list(map(list, part)) for part in sym.infer_shape(data=(4, 5))]
    np.savez(os.path.join(OUT, "softmax.npz"), data=data, label=label, output=out, grad=grad)

    # grad_req 'add' reaches backward as req 'add'
    seen.pop("backward_req")
    ex = sym.simple_bind(mx.cpu(), data=data.shape, label=label.shape, grad_req={"data": "add", "label": "null"})
    ex.forward(is_train=True, data=mx.nd.array(data), label=mx.nd.array(label))
    ex.backward()
    ex.grad_dict["data"].wait_to_read()
    seen["backward_req_add"] = seen.pop("backward_req")

    with open(os.path.join(OUT, "behaviour.json"), "w") as fh:
        json.dump(seen, fh, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
