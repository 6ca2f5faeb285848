"""Record MXNet 1.9.1's hybridized blocks whose outputs repeat a head or return an input or a parameter, the same
heads through a bound Executor, and a block with nested arguments (`model(x, [h, c])`) with its export, for
tests/test_hybrid_heads.py and tests/test_hybrid_nested.py (run with the oracle's python):

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/hybrid_blocks_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/hybrid_blocks/; see the README there. `build_heads(mx, mode)` and
`build_nested(mx)` are also what the tests run (loaded with `mx` = dataflow), so both sides build the same blocks.
Nothing here imports mxnet outside `main()`.
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mxnet-1.9.1",
                   "hybrid_blocks")
HEAD_MODES = ["repeat", "input", "input_and_repeat", "param", "param_repeat", "product"]


def build_heads(mx, mode):
    """A block `(x, s) -> outputs` whose outputs repeat a head, or are an input or a parameter as given."""
    class Heads(mx.gluon.HybridBlock):
        def __init__(self):
            super().__init__(prefix="heads_")
            with self.name_scope():
                self.w = self.params.get("w", shape=(3, 4))

        def hybrid_forward(self, F, x, s, w):
            y = F.relu(x) * 2
            if mode == "repeat":
                return y, y
            if mode == "input":
                return F.relu(x), s
            if mode == "input_and_repeat":
                return s, y, s, y
            if mode == "param":
                return w, x * w
            if mode == "product":
                return [x * w]
            return x * w, w, w
    block = Heads()
    block.initialize()
    block.w.set_data(mx.nd.array(np.arange(12, dtype=np.float32).reshape(3, 4) / 10 - 0.5))
    return block


def head_inputs():
    rs = np.random.RandomState(0)
    return rs.uniform(-1, 1, (3, 4)).astype(np.float32), rs.uniform(-1, 1, (3, 4)).astype(np.float32)


def build_nested(mx):
    """`model(x, [h, c]) -> (y, [y, c * 2])`: nested arguments and a repeated output, as an LSTM cell's."""
    class Nested(mx.gluon.HybridBlock):
        def __init__(self):
            super().__init__(prefix="nested_")
            with self.name_scope():
                self.dense = mx.gluon.nn.Dense(4, flatten=False, in_units=3)

        def hybrid_forward(self, F, x, states):
            h, c = states
            y = F.tanh(self.dense(x) + h)
            return y, [y, c * 2]
    block = Nested()
    block.initialize()
    block.dense.weight.set_data(mx.nd.array(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)))
    block.dense.bias.set_data(mx.nd.array(np.array([0.1, -0.2, 0.3, 0.0], dtype=np.float32)))
    return block


def nested_inputs():
    rs = np.random.RandomState(1)
    return [rs.uniform(-1, 1, shape).astype(np.float32) for shape in ((2, 3), (2, 4), (2, 4))]


def _record_heads(mx, arrays):
    x_np, s_np = head_inputs()
    for mode, hybrid in [(m, h) for m in HEAD_MODES for h in (True, False)]:
        block = build_heads(mx, mode)
        if hybrid:
            block.hybridize()
        else:
            mode += "_imperative"
        x, s = mx.nd.array(x_np), mx.nd.array(s_np)
        x.attach_grad()
        s.attach_grad()
        with mx.autograd.record():
            outs = block(x, s)
            total = sum((o * (k + 1)).sum() for k, o in enumerate(outs))      # head k's gradient is k + 1
        total.backward()
        for k, o in enumerate(outs):
            arrays["%s_out%d" % (mode, k)] = o.asnumpy()
        arrays["%s_x_grad" % mode] = x.grad.asnumpy()
        arrays["%s_s_grad" % mode] = s.grad.asnumpy()
        arrays["%s_w_grad" % mode] = block.w.grad().asnumpy()
        again = block(x, s)                                                    # the forward-only graph
        for k, o in enumerate(again):
            arrays["%s_predict%d" % (mode, k)] = o.asnumpy()


def _record_executor(mx, arrays):
    x_np, _ = head_inputs()
    x = mx.sym.var("x")
    y = mx.sym.relu(x) * 2
    for name, group in (("exec_repeat", [y, y]), ("exec_variable", [x, y, x])):
        sym = mx.sym.Group(group)
        grad = mx.nd.zeros((3, 4))
        ex = sym.bind(mx.cpu(), {"x": mx.nd.array(x_np)}, args_grad={"x": grad})
        outs = ex.forward(is_train=True)
        ex.backward([mx.nd.full((3, 4), k + 1.0) for k in range(len(group))])
        for k, o in enumerate(outs):
            arrays["%s_out%d" % (name, k)] = o.asnumpy()
        arrays["%s_x_grad" % name] = grad.asnumpy()


def _record_nested(mx, arrays, meta):
    block = build_nested(mx)
    block.hybridize()
    x, h, c = [mx.nd.array(a) for a in nested_inputs()]
    y, (h2, c2) = block(x, [h, c])
    arrays.update(nested_y=y.asnumpy(), nested_h=h2.asnumpy(), nested_c=c2.asnumpy())
    path = os.path.join(OUT, "nested")
    block.export(path)
    sym = mx.sym.load(path + "-symbol.json")
    meta["nested_arguments"] = sym.list_arguments()
    meta["nested_outputs"] = sym.list_outputs()
    imported = mx.gluon.SymbolBlock.imports(path + "-symbol.json", ["data0", "data1", "data2"],
                                            path + "-0000.params")
    outs = imported(x, h, c)
    meta["imported_output_count"] = len(outs)
    for k, o in enumerate(outs):
        arrays["imported_out%d" % k] = o.asnumpy()
    try:
        imported(x, [h, c])
        meta["imported_nested_call"] = "ok"
    except Exception as err:           # the file's inputs are flat: a nested call does not match
        meta["imported_nested_call"] = type(err).__name__
    data0, data1, data2 = (mx.sym.var(n) for n in ("data0", "data1", "data2"))
    nested = mx.gluon.SymbolBlock([sym[0], [sym[1], sym[2]]], [data0, [data1, data2]])
    nested.collect_params().load(path + "-0000.params")
    y, (h2, c2) = nested(x, [h, c])
    arrays.update(symbolblock_y=y.asnumpy(), symbolblock_h=h2.asnumpy(), symbolblock_c=c2.asnumpy())


def main():
    import mxnet as mx
    os.makedirs(OUT, exist_ok=True)
    arrays, meta = {}, {}
    _record_heads(mx, arrays)
    _record_executor(mx, arrays)
    _record_nested(mx, arrays, meta)
    np.savez(os.path.join(OUT, "cases.npz"), **arrays)
    with open(os.path.join(OUT, "cases.json"), "w") as fh:
        json.dump(meta, fh, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
