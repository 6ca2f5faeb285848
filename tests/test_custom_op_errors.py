"""Custom operators given bad input (mx.operator, ops/custom.py): clear errors naming the op, the node and the
Python method, raised at the wait for errors inside forward and backward, and the engine stays usable after each.
"""
import numpy as np
import pytest

import dataflow as mx
from dataflow import autograd
from dataflow.base import MXNetError

import tests.custom_ops  # noqa: F401 - registers t_muladd


def _register_bad(name, prop_methods=None, op_methods=None):
    op_cls = type("Bad%sOp" % name.title(), (mx.operator.CustomOp,), dict(op_methods or {}))
    methods = {"create_operator": lambda self, ctx, shapes, dtypes: op_cls()}
    methods.update(prop_methods or {})
    return mx.operator.register(name)(type("Bad%sProp" % name.title(), (mx.operator.CustomOpProp,), methods))


def _copy_forward(self, is_train, req, in_data, out_data, aux):
    self.assign(out_data[0], req[0], in_data[0])


def _raise_in_forward(self, is_train, req, in_data, out_data, aux):
    raise ValueError("forward failed on purpose")


def _raise_in_backward(self, req, out_grad, in_data, out_data, in_grad, aux):
    raise KeyError("backward failed on purpose")


_register_bad("t_bad_count", {"list_outputs": lambda self: ["x", "y"],
                              "infer_shape": lambda self, s: (s, [s[0]], [])}, {"forward": _copy_forward})
_register_bad("t_bad_forward", op_methods={"forward": _raise_in_forward})
_register_bad("t_bad_backward", op_methods={"forward": _copy_forward, "backward": _raise_in_backward})
_register_bad("t_sparse", {"infer_storage_type": lambda self, st: (st, ["csr"], [])}, {"forward": _copy_forward})
_register_bad("t_bad_deps", {"declare_backward_dependency": lambda self, og, i, o: [99]},
              {"forward": _copy_forward})


def _engine_still_works():
    np.testing.assert_allclose((mx.nd.ones((2,)) + 1).asnumpy(), [2.0, 2.0])
    mx.nd.waitall()


def test_unknown_op_type():
    with pytest.raises(MXNetError, match="no custom operator is registered as .no_such_op."):
        mx.nd.Custom(mx.nd.ones((2,)), op_type="no_such_op")
    with pytest.raises(MXNetError, match=r"custom0.*no_such_op"):
        mx.sym.Custom(mx.sym.var("x"), op_type="no_such_op", name="custom0")
    with pytest.raises(MXNetError, match=r"op_type.*missing"):
        mx.nd.Custom(mx.nd.ones((2,)))
    _engine_still_works()


def test_infer_shape_returning_the_wrong_count():
    sym = mx.sym.Custom(mx.sym.var("x"), op_type="t_bad_count", name="badnode")
    with pytest.raises(MXNetError, match=r"badnode.*t_bad_count.*infer_shape.*1 output shapes, expected 2"):
        sym.infer_shape(x=(2, 3))
    with pytest.raises(MXNetError, match=r"t_bad_count.*infer_shape.*1 output shapes, expected 2"):
        mx.nd.Custom(mx.nd.ones((2, 3)), op_type="t_bad_count")
    _engine_still_works()


@pytest.mark.parametrize("shape", [(2, 3), (300, 100)], ids=["inline", "worker"])
def test_forward_raising_surfaces_at_the_wait(shape):
    y = mx.nd.Custom(mx.nd.ones(shape), op_type="t_bad_forward")
    with pytest.raises(MXNetError, match=r"t_bad_forward.*BadT_Bad_ForwardOp\.forward.*ValueError.*on purpose"):
        y.asnumpy()
    with pytest.raises(MXNetError, match="forward failed on purpose"):
        mx.nd.waitall()
    _engine_still_works()


def test_forward_raising_in_an_executor_names_the_node():
    ex = mx.sym.Custom(mx.sym.var("x"), op_type="t_bad_forward", name="mynode").simple_bind(mx.cpu(), x=(2,))
    ex.forward()
    with pytest.raises(MXNetError, match=r"mynode.*t_bad_forward.*forward.*on purpose"):
        ex.outputs[0].asnumpy()
    with pytest.raises(MXNetError):
        mx.nd.waitall()
    _engine_still_works()


def test_backward_raising_surfaces_at_the_wait():
    x = mx.nd.ones((2,))
    x.attach_grad()
    with autograd.record():
        y = mx.nd.Custom(x, op_type="t_bad_backward")
    y.backward()
    with pytest.raises(MXNetError, match=r"t_bad_backward.*backward.*KeyError.*on purpose"):
        x.grad.asnumpy()
    with pytest.raises(MXNetError):
        mx.nd.waitall()
    _engine_still_works()


def test_bad_backward_dependency_ids():
    x = mx.nd.ones((2,))
    x.attach_grad()
    with pytest.raises(MXNetError, match=r"t_bad_deps.*declare_backward_dependency.*\[99\]"):
        with autograd.record():
            y = mx.nd.Custom(x, op_type="t_bad_deps")
        y.backward()
    _engine_still_works()


def test_prop_init_raising_names_the_prop():
    with pytest.raises(MXNetError, match=r"t_muladd.*MulAddProp.__init__.*ValueError"):
        mx.nd.Custom(mx.nd.ones((2,)), mx.nd.ones((2,)), mx.nd.zeros((1,)), op_type="t_muladd", scale="abc")
    _engine_still_works()


def test_sparse_storage_types_are_refused():
    with pytest.raises(MXNetError, match=r"t_sparse.*infer_storage_type.*'csr'.*only 'default'"):
        mx.sym.Custom(mx.sym.var("x"), op_type="t_sparse")
    _engine_still_works()
