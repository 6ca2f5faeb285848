"""Record MXNet 1.9.1's numpy-mode Symbol side for tests/test_numpy_symbol.py.

Run with the oracle venv: `/work/mxvenv/bin/python reference/numpy_sym_fixtures.py`. Writes under
tests/fixtures/mxnet-1.9.1/numpy_sym/:

- convnet-symbol.json / convnet-0000.params / convnet.npz: a Gluon HybridSequential (Conv2D+relu, MaxPool2D,
  BatchNorm, Dense+sigmoid, Dropout, Dense) built, hybridized and exported under `npx.set_np()`; the npz holds
  the input `x` and MXNet's output `y` (inference).
- npfn-symbol.json / npfn-0000.params / npfn.npz: a HybridBlock whose hybrid_forward calls `F.np.*` / `F.npx.*`
  and numpy-semantics operators, so the JSON has MXNet's `_np_*` / `_npi_*` / `_npx_*` op names; the npz holds
  `x` and the four outputs `y0`..`y3`.
- npbcast-symbol.json / npbcast-0000.params / npbcast.npz: a HybridBlock (no parameters) of NumPy's broadcasting
  functions on Symbols (matmul with broadcast batch axes, where with broadcasting and a number, broadcast_to to
  more axes, comparisons, linalg.norm along an axis, true division), hybridized; the npz holds the inputs `x`,
  `x1` and the outputs `y0`..`y4` (`y2` bool).
- npx_list.npy-bytes / npx_dict.npy-bytes: the bytes `npx.save` writes for a list and a dict of arrays, a
  zero-dim one included; npx_values.npz holds the arrays saved.
"""
import json
import os

os.environ.setdefault("MXNET_MKLDNN_ENABLED", "0")

import numpy as onp  # noqa: E402
from mxnet import np, npx  # noqa: E402
from mxnet.gluon import nn  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "numpy_sym")


class NpFunctions(nn.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.w = self.params.get("w", shape=(4, 3))
            self.b = self.params.get("b", shape=(3,))

    def hybrid_forward(self, F, x, w, b):
        h = F.npx.relu(F.np.dot(x, w) + b)
        h = h * 2 - 1.5
        h = F.np.tanh(h) / 3 + F.np.exp(-h)
        s = F.np.sum(h, axis=1, keepdims=True)
        h = h.reshape(-1, 3).T
        h = F.np.concatenate([h, F.np.maximum(h, 0.2)], axis=0)
        h = F.npx.softmax(h, axis=-1) + F.np.mean(h) + F.npx.sigmoid(h).sum()
        return F.np.transpose(h), s, F.np.sqrt(F.np.abs(h)).max(axis=0), F.npx.log_softmax(h) * F.np.square(s.T)


class NpBroadcasting(nn.HybridBlock):
    def hybrid_forward(self, F, x, y):
        product = F.np.matmul(x, y)
        batched = F.np.matmul(F.np.expand_dims(y.T, 0), F.np.swapaxes(x, 1, 2))
        mask = product > 0.1
        picked = F.np.where(mask, product, F.np.broadcast_to(y[0], (2, 3, 5)))
        clipped = F.np.where(x[:, :, :1] > 0, x, 0.0)
        return picked, batched, mask, clipped, F.np.linalg.norm(x, axis=-1) / 2


def record_net(net, name, x, rs, *more):
    net.initialize()
    net(x, *more)      # deferred shapes
    for p in net.collect_params().values():
        low = 0.5 if p.name.endswith("running_var") else -0.8      # a variance is positive
        p.set_data(np.array(rs.uniform(low, 0.8 if low < 0 else 1.5, p.shape).astype("float32")))
    net.hybridize()
    ys = net(x, *more)
    ys = ys if isinstance(ys, (list, tuple)) else [ys]
    net.export(os.path.join(OUT, name))
    arrays = {"x": x.asnumpy()}
    arrays.update({"x%d" % i: m.asnumpy() for i, m in enumerate(more, 1)})
    arrays.update({"y%d" % i: y.asnumpy() for i, y in enumerate(ys)})
    onp.savez(os.path.join(OUT, name + ".npz"), **arrays)


def main():
    os.makedirs(OUT, exist_ok=True)
    npx.set_np()
    rs = onp.random.RandomState(7)
    conv = nn.HybridSequential(prefix="convnet_")
    with conv.name_scope():
        conv.add(nn.Conv2D(4, kernel_size=3, padding=1, activation="relu"), nn.MaxPool2D(2), nn.BatchNorm(),
                 nn.Dense(8, activation="sigmoid"), nn.Dropout(0.5), nn.Dense(3))
    record_net(conv, "convnet", np.array(rs.uniform(-1, 1, (2, 1, 6, 6)).astype("float32")), rs)
    record_net(NpFunctions(prefix="npfn_"), "npfn", np.array(rs.uniform(-1, 1, (2, 4)).astype("float32")), rs)

    values = {"scalar": np.array(2.5), "matrix": np.array(rs.uniform(-1, 1, (2, 3)).astype("float32")),
              "ints": np.array([3, -1, 7], dtype="int64")}
    npx.save(os.path.join(OUT, "npx_list.bytes"), list(values.values()))
    npx.save(os.path.join(OUT, "npx_dict.bytes"), values)
    onp.savez(os.path.join(OUT, "npx_values.npz"), **{k: v.asnumpy() for k, v in values.items()})
    loaded = npx.load(os.path.join(OUT, "npx_list.bytes"))
    with open(os.path.join(OUT, "npx_loaded.json"), "w") as fh:
        json.dump({"types": [type(a).__module__ + "." + type(a).__name__ for a in loaded],
                   "shapes": [list(a.shape) for a in loaded]}, fh, indent=1)

    rs = onp.random.RandomState(8)
    record_net(NpBroadcasting(prefix="npbcast_"), "npbcast", np.array(rs.uniform(-1, 1, (2, 3, 4)).astype("float32")),
               rs, np.array(rs.uniform(-1, 1, (4, 5)).astype("float32")))


if __name__ == "__main__":
    main()
