"""Record GluonCV 0.10.5's box-op detection models on MXNet 1.9.1 for tests/test_gluon_detection_models.py (issue 18;
run with the oracle's python):

    MXNET_MKLDNN_ENABLED=0 MXNET_SUBGRAPH_BACKEND=NONE OMP_NUM_THREADS=2 /work/mxvenv/bin/python \
        reference/gluon_detection_models_fixtures.py

`ssd_512_mobilenet1.0_voc` and `faster_rcnn_resnet50_v1b_voc`, pretrained=False, pretrained_base=False, at the
smallest input sizes they run at (`SIZES`; Faster R-CNN with fewer region proposals, `RPN_PROPOSALS`). Parameters
are not stored: both sides draw them with the recipe of tests/param_recipe.py (sorted names, RandomState(0)); the
fixture keeps MXNet's outputs (class ids, scores, boxes; imperative, and the script checks that the hybridized ones
agree). `build` and `inputs` are what the test runs too, with `mx` = dataflow under install_as_mxnet(); nothing
here imports mxnet outside `main()`.
Writes tests/fixtures/mxnet-1.9.1/gluon_detection_models/{outputs.npz, models.json}.
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "mxnet-1.9.1", "gluon_detection_models")
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from param_recipe import recipe_input, set_recipe_params, write_npz  # noqa: E402

# model -> input (N, C, H, W): the smallest sizes at which each model runs on MXNet 1.9.1 (see main's probe)
SIZES = {"ssd_512_mobilenet1.0_voc": (1, 3, 32, 32), "faster_rcnn_resnet50_v1b_voc": (1, 3, 64, 64)}
RPN_PROPOSALS = {"faster_rcnn_resnet50_v1b_voc": (200, 16)}       # (test pre-NMS, test post-NMS)


def build(mx, name):
    """The model, initialised and given the recipe's parameters."""
    from gluoncv.model_zoo import get_model
    with mx.name.NameManager():
        net = get_model(name, pretrained=False, pretrained_base=False)
    if name in RPN_PROPOSALS:
        # fewer region proposals at test time than the model's 6000 -> 300, so that its second stage (ResNet's
        # layer4 per roi) stays small; get_model passes keywords on to the base network too, so they are set here
        pre, post = RPN_PROPOSALS[name]
        net.rpn._test_pre_nms, net.rpn._test_post_nms, net._rpn_test_post_nms = pre, post, post
    net.initialize()
    net(*inputs(mx, name))                             # finish deferred initialisation
    set_recipe_params(net)
    return net


def inputs(mx, name):
    return [mx.nd.array(recipe_input(SIZES[name]))]


def outputs(net, xs):
    out = net(*xs)
    return [o.asnumpy() for o in (out if isinstance(out, (list, tuple)) else [out])]


def main():
    import mxnet as mx
    arrays, info = {}, {}
    for name in SIZES:
        net = build(mx, name)
        xs = inputs(mx, name)
        imperative = outputs(net, xs)
        net.hybridize()
        for a, b in zip(outputs(net, xs), imperative):
            assert np.allclose(a, b, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(b).max())), name
        for k, value in enumerate(imperative):
            arrays["%s/out%d" % (name, k)] = value
        info[name] = {"prefix": net.prefix, "num_params": len(net.collect_params().keys()),
                      "input": list(SIZES[name]), "outputs": [list(v.shape) for v in imperative]}
        print(name, info[name])
    os.makedirs(OUT, exist_ok=True)
    write_npz(os.path.join(OUT, "outputs.npz"), arrays)
    with open(os.path.join(OUT, "models.json"), "w") as fh:
        json.dump({"mxnet": mx.__version__, "models": info}, fh, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
