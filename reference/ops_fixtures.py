"""Record MXNet 1.9.1's answers for the ops whose exact semantics are subtle (tests/test_new_ops.py reads them).

Run with the oracle's interpreter, from the repository root:

    /work/mxvenv/bin/python reference/ops_fixtures.py      # --out DIR to write elsewhere

Writes tests/fixtures/mxnet-1.9.1/ops/*.npz (inputs, params and MXNet's outputs and gradients) and
structure.json (output counts and dtype rules); see the README there. Native CPU kernels (oneDNN off), inputs from
numpy.random.RandomState. This script imports mxnet; the project and its tests never do.
"""
import argparse
import io
import json
import os
import zipfile

os.environ["MXNET_MKLDNN_ENABLED"] = "0"
os.environ["MXNET_SUBGRAPH_BACKEND"] = "NONE"
os.environ["MXNET_STORAGE_FALLBACK_LOG_VERBOSE"] = "0"

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402

nd = mx.nd


def save_npz(path, arrays):
    """np.savez with a fixed zip timestamp, so that a rerun writes identical bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.save(buf, np.asarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def grads(fn, inputs, dy, differentiable):
    """MXNet's outputs of fn(*inputs) and the gradients of the `differentiable` inputs for head gradient dy."""
    arrays = [nd.array(x, dtype=x.dtype) for x in inputs]
    for i in differentiable:
        arrays[i].attach_grad()
    with mx.autograd.record():
        out = fn(*arrays)
    head = out[0] if isinstance(out, (list, tuple)) else out
    head.backward(nd.array(dy, dtype=head.dtype))
    outs = [o.asnumpy() for o in out] if isinstance(out, (list, tuple)) else [out.asnumpy()]
    return outs, [arrays[i].grad.asnumpy() for i in differentiable]


def group_norm(rs):
    x = rs.randn(2, 6, 3, 2).astype(np.float32)
    gamma, beta = rs.randn(3).astype(np.float32), rs.randn(3).astype(np.float32)
    dy = rs.randn(*x.shape).astype(np.float32)
    (out, mean, std), (dx, dgamma, dbeta) = grads(
        lambda a, g, b: nd.GroupNorm(a, g, b, num_groups=3, eps=1e-3, output_mean_var=True), [x, gamma, beta], dy,
        [0, 1, 2])
    return dict(x=x, gamma=gamma, beta=beta, dy=dy, out=out, mean=mean, std=std, dx=dx, dgamma=dgamma, dbeta=dbeta)


def adaptive_pooling(rs):
    x = rs.randn(2, 3, 7, 5).astype(np.float32)
    dy = rs.randn(2, 3, 3, 2).astype(np.float32)
    (out32,), (dx,) = grads(lambda a: nd.contrib.AdaptiveAvgPooling2D(a, output_size=(3, 2)), [x], dy, [0])
    return dict(x=x, dy=dy, out_3x2=out32, dx_3x2=dx,
                out_8x9=nd.contrib.AdaptiveAvgPooling2D(nd.array(x), output_size=(8, 9)).asnumpy(),
                out_4=nd.contrib.AdaptiveAvgPooling2D(nd.array(x), output_size=4).asnumpy(),
                out_default=nd.contrib.AdaptiveAvgPooling2D(nd.array(x)).asnumpy())


def softmin(rs):
    x = rs.randn(3, 4).astype(np.float32)
    dy = rs.randn(3, 4).astype(np.float32)
    (out,), (dx,) = grads(lambda a: nd.softmin(a, axis=0, temperature=2.0), [x], dy, [0])
    return dict(x=x, dy=dy, out=out, dx=dx, out_default=nd.softmin(nd.array(x)).asnumpy())


LINSPACE = [(0, 1, 5, True, "float32"), (0, 1, 5, False, "float32"), (2, 3, 1, True, "float32"),
            (2, 3, 1, False, "float64"), (0.5, 10.7, 4, True, "int32"), (-0.5, -10.7, 4, True, "int32"),
            (1, 0, 7, False, "float64"), (0.1, 0.7, 7, True, "float32"), (-3, 3, 6, False, "int64")]


def linspace(rs):
    out = {}
    for i, (start, stop, num, endpoint, dtype) in enumerate(LINSPACE):
        out["case%d" % i] = nd.linspace(start, stop, num, endpoint=endpoint, dtype=dtype).asnumpy()
    return out


MAKE_LOSS = [{}, dict(grad_scale=2.0), dict(normalization="batch"), dict(normalization="valid"),
             dict(normalization="valid", valid_thresh=0.5), dict(normalization="batch", grad_scale=0.5)]


def make_loss(rs):
    x = np.array([[[0.2, -1, 0.7], [0, 3, 0.5]], [[1, 2, -3], [0.5, 0.5, 0.6]]], np.float32)
    out = dict(x=x)
    for i, kw in enumerate(MAKE_LOSS):
        (_,), (dx,) = grads(lambda a, kw=kw: nd.MakeLoss(a, **kw), [x], 3 * np.ones_like(x), [0])
        out["dx%d" % i] = dx
    (_,), (dx,) = grads(lambda a: nd.make_loss(a * 2), [x], 3 * np.ones_like(x), [0])
    out["make_loss_dx"] = dx
    return out


SVM = [{}, dict(use_linear=True), dict(margin=0.5, regularization_coefficient=2.0),
       dict(use_linear=True, margin=0.5, regularization_coefficient=2.0)]


def svm(rs):
    x = (rs.randn(5, 4) * 1.5).astype(np.float32)
    label = np.array([0, 3, 1.7, 4, -1], np.float32)        # a fraction truncates, 4 and -1 are no column
    x3 = rs.randn(2, 3, 2).astype(np.float32)
    label3 = np.array([[0, 1, 1], [1, 0, 1]], np.float32)
    out = dict(x=x, label=label, x3=x3, label3=label3)
    for i, kw in enumerate(SVM):
        (y,), (dx,) = grads(lambda a, b, kw=kw: nd.SVMOutput(a, b, **kw), [x, label], 3 * np.ones_like(x), [0])
        out["out%d" % i], out["dx%d" % i] = y, dx
    (_,), (dx,) = grads(lambda a, b: nd.SVMOutput(a, b), [x3, label3], np.ones_like(x3), [0])
    out["dx_3d"] = dx
    return out


def roi_pooling(rs):
    x = rs.randn(2, 3, 9, 8).astype(np.float32)
    rois = np.array([[0, 0, 0, 7, 8], [1, 2.4, 3.6, 11, 13], [1, 5, 6, 1, 2], [0, -4, -3, 3, 2], [3, 0, 0, 4, 4],
                     [1, 14, 16, 30, 30], [0, 1, 1, 3.5, 2.5]], np.float32)
    dy = rs.randn(len(rois), 3, 3, 2).astype(np.float32)
    (out,), (dx,) = grads(lambda a, r: nd.ROIPooling(a, r, pooled_size=(3, 2), spatial_scale=0.5), [x, rois], dy,
                          [0])
    return dict(x=x, rois=rois, dy=dy, out=out, dx=dx)


def spatial(rs):
    x = rs.randn(2, 3, 6, 7).astype(np.float32)
    loc = (np.array([1, 0, 0, 0, 1, 0]) + rs.uniform(-0.4, 0.4, (2, 6))).astype(np.float32)
    dy = rs.randn(2, 3, 4, 5).astype(np.float32)
    (st,), (st_dx, st_dloc) = grads(lambda a, b: nd.SpatialTransformer(
        a, b, target_shape=(4, 5), transform_type="affine", sampler_type="bilinear"), [x, loc], dy, [0, 1])
    dgrid = rs.randn(2, 2, 4, 5).astype(np.float32)
    (affine,), (affine_dloc,) = grads(lambda b: nd.GridGenerator(b, transform_type="affine", target_shape=(4, 5)),
                                      [loc], dgrid, [0])
    flow = rs.uniform(-2, 2, (2, 2, 4, 5)).astype(np.float32)
    (warp,), (warp_dflow,) = grads(lambda f: nd.GridGenerator(f, transform_type="warp"), [flow], dgrid, [0])
    grid = rs.uniform(-1.2, 1.2, (2, 2, 4, 5)).astype(np.float32)
    (bs,), (bs_dx, bs_dgrid) = grads(lambda a, g: nd.BilinearSampler(a, g), [x, grid], dy, [0, 1])
    return dict(x=x, loc=loc, dy=dy, st=st, st_dx=st_dx, st_dloc=st_dloc, dgrid=dgrid, affine=affine,
                affine_dloc=affine_dloc, flow=flow, warp=warp, warp_dflow=warp_dflow, grid=grid, bs=bs, bs_dx=bs_dx,
                bs_dgrid=bs_dgrid)


AMP_MULTICAST = [("float16", "float32"), ("float32", "float64"), ("float16", "float64"), ("float16", "int32"),
                 ("int32", "float64"), ("float16", "float16"), ("float64", "float32", "float16")]
AMP_CAST = [("float32", "float16"), ("float32", "int32"), ("float16", "float32"), ("float16", "int32"),
            ("float64", "float16"), ("float64", "int32"), ("int32", "float16"), ("int8", "float32")]


def structure():
    """Output counts (node_row_ptr steps), visible outputs and the AMP dtype rules."""
    v = mx.sym.var
    symbols = {
        "GroupNorm": mx.sym.GroupNorm(v("d"), num_groups=2, output_mean_var=True),
        "softmin": mx.sym.softmin(v("d")), "MakeLoss": mx.sym.MakeLoss(v("d")), "make_loss": mx.sym.make_loss(v("d")),
        "SVMOutput": mx.sym.SVMOutput(v("d")),
        "ROIPooling": mx.sym.ROIPooling(v("d"), v("r"), pooled_size=(2, 3), spatial_scale=0.5),
        "SpatialTransformer": mx.sym.SpatialTransformer(v("d"), v("l"), target_shape=(3, 4), transform_type="affine",
                                                        sampler_type="bilinear"),
        "GridGenerator": mx.sym.GridGenerator(v("l"), transform_type="affine", target_shape=(3, 4)),
        "BilinearSampler": mx.sym.BilinearSampler(v("d"), v("g")),
        "AdaptiveAvgPooling2D": mx.sym.contrib.AdaptiveAvgPooling2D(v("d"), output_size=2),
        "amp_multicast": mx.sym.amp_multicast(v("a"), v("b"), num_outputs=2),
        "linspace": mx.sym.linspace(0, 1, 3),
    }
    out = {}
    for name, s in symbols.items():
        graph = json.loads(s.tojson())
        out[name] = dict(list_outputs=s.list_outputs(), list_arguments=s.list_arguments(),
                         node_row_ptr=graph["node_row_ptr"], op=graph["nodes"][-1]["op"],
                         attrs=graph["nodes"][-1].get("attrs", {}))
    multicast = []
    for dts in AMP_MULTICAST:
        for narrow in (False, True):
            outs = nd.amp_multicast(*[nd.array([1.3, 2], dtype=d) for d in dts], num_outputs=len(dts),
                                    cast_narrow=narrow)
            multicast.append(dict(inputs=list(dts), cast_narrow=narrow, outputs=[np.dtype(o.dtype).name for o in outs]))
    casts = [dict(input=a, dtype=b, output=np.dtype(nd.amp_cast(nd.array([1.5, 2], dtype=a), dtype=b).dtype).name)
             for a, b in AMP_CAST]
    out["amp_multicast_dtypes"] = multicast
    out["amp_cast_dtypes"] = casts
    out["linspace_cases"] = [list(c) for c in LINSPACE]
    out["make_loss_cases"] = MAKE_LOSS
    out["svm_cases"] = SVM
    return out


def main():
    parser = argparse.ArgumentParser()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--out", default=os.path.join(here, "tests", "fixtures", "mxnet-1.9.1", "ops"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for i, fn in enumerate((group_norm, adaptive_pooling, softmin, linspace, make_loss, svm, roi_pooling, spatial)):
        save_npz(os.path.join(args.out, fn.__name__ + ".npz"), fn(np.random.RandomState(i)))
    with open(os.path.join(args.out, "structure.json"), "w") as f:
        json.dump(structure(), f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
