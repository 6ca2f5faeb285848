"""Record MXNet 1.9.1's deformable convolutions for tests/test_deformable.py (run with the oracle's python):

    MXNET_MKLDNN_ENABLED=0 OMP_NUM_THREADS=2 /work/mxvenv/bin/python reference/deformable_fixtures.py

- op/<case>/...: `_contrib_ModulatedDeformableConvolution` (DCNv2) on random inputs, offsets reaching past the
  borders: the inputs and the output `out`. MXNet 1.9.1 has no CPU backward for this op ("only implemented in
  GPU"), so no gradients are recorded; the tests check ours against numeric gradients.
- layer/<case>/...: the Gluon layers `gluon.contrib.cnn.DeformableConvolution` / `ModulatedDeformableConvolution`
  with random offset weights and biases (so the taps move): input `x`, output `out` (imperative; the script checks
  that the hybridized output agrees) and, for DeformableConvolution only (see above), a head gradient `dy` and the
  gradients `grad_x` and `grad_<param>` by structured name;
  their parameters as MXNet saves them (`<case>.params`) and the hybridized layer's export (`<case>-symbol.json`,
  `<case>-0000.params`).
Writes tests/fixtures/mxnet-1.9.1/deformable/{arrays.npz, cases.json, *.params, *-symbol.json}.
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "mxnet-1.9.1", "deformable")
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from param_recipe import write_npz  # noqa: E402

OPS = {
    "basic": ((2, 4, 5, 6), {"kernel": (3, 3), "pad": (1, 1), "num_filter": 4}),
    "grouped": ((1, 4, 7, 6), {"kernel": (3, 2), "stride": (2, 1), "dilate": (1, 2), "pad": (1, 0),
                               "num_filter": 4, "num_group": 2, "num_deformable_group": 2, "no_bias": True}),
    "far": ((1, 2, 4, 4), {"kernel": (2, 2), "num_filter": 3}),
}
OFFSET_SCALE = {"basic": 1.0, "grouped": 1.5, "far": 3.0}      # "far": many taps past the border, some beyond -1

# case -> (layer class, constructor keywords, input shape)
LAYERS = {
    "dcn": ("DeformableConvolution", {"channels": 6, "kernel_size": 3, "padding": 1}, (2, 4, 6, 6)),
    "dcn_grouped": ("DeformableConvolution", {"channels": 4, "kernel_size": (3, 2), "strides": 2, "groups": 2,
                                              "num_deformable_group": 2, "use_bias": False, "in_channels": 4,
                                              "activation": "relu"}, (1, 4, 7, 6)),
    "mdcn": ("ModulatedDeformableConvolution", {"channels": 5, "kernel_size": 3, "padding": 1}, (2, 3, 5, 5)),
    "mdcn_nobias": ("ModulatedDeformableConvolution", {"channels": 4, "kernel_size": 2, "dilation": 2,
                                                       "offset_use_bias": False, "use_bias": False},
                    (1, 2, 6, 5)),
}


def record_op(mx, case, rng, arrays, meta):
    shape, kwargs = OPS[case]
    k = kwargs["kernel"]
    sym = mx.sym.contrib.ModulatedDeformableConvolution(mx.sym.var("data"), mx.sym.var("offset"),
                                                        mx.sym.var("mask"), name="m", **kwargs)
    taps = k[0] * k[1] * kwargs.get("num_deformable_group", 1)
    names = sym.list_arguments()
    stride, dilate, pad = (kwargs.get(key, d) for key, d in (("stride", (1, 1)), ("dilate", (1, 1)), ("pad", (0, 0))))
    hw = tuple((s + 2 * p - (d * (kk - 1) + 1)) // st + 1 for s, p, d, kk, st in zip(shape[2:], pad, dilate, k, stride))
    values = {"data": rng.uniform(-1, 1, shape),
              "offset": rng.uniform(-1, 1, (shape[0], 2 * taps) + hw) * OFFSET_SCALE[case],
              "mask": rng.uniform(0, 2, (shape[0], taps) + hw),
              "m_weight": rng.uniform(-1, 1, (kwargs["num_filter"], shape[1] // kwargs.get("num_group", 1)) + k),
              "m_bias": rng.uniform(-1, 1, (kwargs["num_filter"],))}
    inputs = [mx.nd.array(values[n].astype(np.float32)) for n in names]
    out = mx.nd.contrib.ModulatedDeformableConvolution(*inputs, **kwargs)
    for n, a in zip(names, inputs):
        arrays["op/%s/%s" % (case, n)] = a.asnumpy()
    arrays["op/%s/out" % case] = out.asnumpy()
    meta["op/" + case] = {"kwargs": kwargs, "arguments": names}


def record_layer(mx, case, rng, arrays, meta):
    cls_name, kwargs, shape = LAYERS[case]
    layer = getattr(mx.gluon.contrib.cnn, cls_name)(prefix=case + "_", **kwargs)
    layer.initialize(mx.init.Uniform(0.5))
    x = mx.nd.array(rng.uniform(-1, 1, shape).astype(np.float32))
    layer(x)                                                # finishes the deferred initialisation
    # the offset convolution initialises to zeros (every tap on its pixel): random values make the taps move
    layer.offset_weight.set_data(rng.uniform(-0.3, 0.3, layer.offset_weight.shape).astype(np.float32))
    if layer.offset_bias is not None:
        layer.offset_bias.set_data(rng.uniform(-0.5, 0.5, layer.offset_bias.shape).astype(np.float32))
    out = layer(x)
    structured = layer._collect_params_with_prefix()
    if cls_name == "DeformableConvolution":
        x.attach_grad()
        with mx.autograd.record():
            out = layer(x)
        dy = rng.uniform(-1, 1, out.shape).astype(np.float32)
        out.backward(mx.nd.array(dy))
        arrays["layer/%s/dy" % case] = dy
        arrays["layer/%s/grad_x" % case] = x.grad.asnumpy()
        for name, param in structured.items():
            arrays["layer/%s/grad_%s" % (case, name)] = param.grad().asnumpy()
    layer.save_parameters(os.path.join(OUT, case + ".params"))
    arrays["layer/%s/x" % case] = x.asnumpy()
    arrays["layer/%s/out" % case] = out.asnumpy()
    layer.hybridize()
    hybrid = layer(x).asnumpy()
    assert np.allclose(hybrid, out.asnumpy(), rtol=1e-5, atol=1e-5), case
    layer.export(os.path.join(OUT, case))
    meta["layer/" + case] = {"class": cls_name, "kwargs": kwargs, "params": sorted(structured),
                             "param_shapes": {n: list(p.shape) for n, p in structured.items()},
                             "repr": repr(layer)}


def main():
    import mxnet as mx
    os.makedirs(OUT, exist_ok=True)
    arrays, meta = {}, {"mxnet": mx.__version__}
    rng = np.random.RandomState(0)
    for case in OPS:
        record_op(mx, case, rng, arrays, meta)
    mx.random.seed(0)
    for case in LAYERS:
        record_layer(mx, case, rng, arrays, meta)
    write_npz(os.path.join(OUT, "arrays.npz"), arrays)
    with open(os.path.join(OUT, "cases.json"), "w") as fh:
        json.dump(meta, fh, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
