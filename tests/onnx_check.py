"""Shared by the ONNX tests: random parameters for a Symbol, its forward in dataflow, and the exported model's
outputs in onnxruntime (the independent truth)."""
import numpy as np

import dataflow as mx


def random_params(sym, data, rs, label=None):
    """{name: NDArray} for every argument and aux state of `sym` that `data` does not give."""
    shapes = {k: v.shape for k, v in data.items()}
    arg_shapes, _, aux_shapes = sym.infer_shape(**shapes)
    params = {}
    for name, shape in zip(sym.list_arguments() + sym.list_auxiliary_states(), arg_shapes + aux_shapes):
        if name in data or name == label:
            continue
        if name.endswith(("var", "gamma")):
            value = rs.uniform(0.5, 1.5, shape)
        else:
            value = rs.normal(0, 1.0 / np.sqrt(max(1, int(np.prod(shape[1:])))), shape)
        params[name] = mx.nd.array(value.astype(np.float32))
    return params


def forward(sym, data, params):
    """dataflow's inference outputs of `sym` (loss labels filled with zeros)."""
    shapes = {k: v.shape for k, v in data.items()}
    arg_shapes, _, _ = sym.infer_shape(**shapes, **{k: v.shape for k, v in params.items()})
    args = {}
    for name, shape in zip(sym.list_arguments(), arg_shapes):
        if name in data:
            args[name] = mx.nd.array(data[name], dtype=data[name].dtype)
        elif name in params:
            args[name] = params[name]
        else:
            args[name] = mx.nd.zeros(shape)
    aux = {name: params[name] for name in sym.list_auxiliary_states()}
    exe = sym.bind(mx.cpu(), args, aux_states=aux, grad_req="null")
    return [o.asnumpy() for o in exe.forward(is_train=False)]


def run_onnx(path, data):
    import onnx
    import onnxruntime as ort
    onnx.checker.check_model(onnx.load(path))
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, data)


def assert_exports_equal(sym, data, tmp_path, rs=None, params=None, dynamic=False, rtol=1e-4, atol=1e-5,
                         more=()):
    """Export `sym` with random (or given) parameters and check onnxruntime's outputs equal dataflow's, for
    `data` and, with `dynamic=True`, for each batch of `more` too. Returns the file's path."""
    rs = rs or np.random.RandomState(0)
    params = params if params is not None else random_params(sym, data, rs, label=_label(sym))
    path = str(tmp_path / "model.onnx")
    order = [n for n in sym.list_inputs() if n in data]     # the model's data inputs, in graph order
    mx.onnx.export_model(sym, params, [data[n].shape for n in order], [data[n].dtype for n in order],
                         onnx_file_path=path, dynamic=dynamic)
    for feed in [data, *more]:
        want = forward(sym, feed, params)
        got = run_onnx(path, feed)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
    return path


def _label(sym):
    return sym.get_internals()[len(sym.get_internals()) - 1].name + "_label"
