"""Record GluonCV 0.10.5 / GluonNLP 0.10.0 models that run on the contrib ops (issue 18) on MXNet 1.9.1, for
tests/test_gluon_models_contrib.py (run with the oracle's python):

    MXNET_MKLDNN_ENABLED=0 MXNET_SUBGRAPH_BACKEND=NONE OMP_NUM_THREADS=2 /work/mxvenv/bin/python \
        reference/gluon_models_contrib_fixtures.py

Parameters are not stored: both sides draw them with the recipe of tests/param_recipe.py (sorted names,
RandomState(0)); the fixture keeps MXNet's outputs (imperative; the script checks that hybridized ones agree),
sampled for the segmentation maps (`sample`).
`build` and `inputs` are what the test runs too, with `mx` = dataflow under install_as_mxnet(); nothing here imports
mxnet outside `main()`. Writes tests/fixtures/mxnet-1.9.1/gluon_models_contrib/{outputs.npz, models.json}.
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "mxnet-1.9.1", "gluon_models_contrib")
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from param_recipe import recipe_input, set_recipe_params, write_npz  # noqa: E402

# model -> input (N, C, H, W); BERT takes token ids, token types, valid lengths and masked positions
VISION = {name: (1, 3, 64, 64) for name in ("center_net_resnet18_v1b_voc", "yolo3_mobilenet1.0_coco",
                                            "fcn_resnet50_voc", "psp_resnet50_ade", "deeplab_resnet50_ade")}
# the segmentation models upsample to their crop size, and PSPNet's and DeepLab's pyramid branches need the input to
# be that size: a 64-pixel crop keeps them small
SEGMENTATION = {"fcn_resnet50_voc", "psp_resnet50_ade", "deeplab_resnet50_ade"}
BERT = "bert_12_768_12"
TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + ["tok%d" % i for i in range(27)]


def build(mx, name):
    """The model, initialised and given the recipe's parameters."""
    with mx.name.NameManager():
        if name == BERT:
            import gluonnlp as nlp
            vocab = nlp.vocab.BERTVocab(nlp.data.count_tokens(TOKENS[5:]))
            net = nlp.model.get_model(BERT, dataset_name=None, vocab=vocab, pretrained=False, use_pooler=True,
                                      use_decoder=True, use_classifier=True)[0]
        else:
            from gluoncv.model_zoo import get_model
            size = {"crop_size": 64, "base_size": 64} if name in SEGMENTATION else {}
            net = get_model(name, pretrained=False, pretrained_base=False, **size)
    net.initialize()
    net(*inputs(mx, name))                             # finish deferred initialisation
    set_recipe_params(net)
    return net


def inputs(mx, name):
    if name != BERT:
        return [mx.nd.array(recipe_input(VISION[name]))]
    rng = np.random.RandomState(1)
    ids = rng.randint(0, len(TOKENS), (2, 6)).astype(np.float32)
    types = rng.randint(0, 2, (2, 6)).astype(np.float32)
    return [mx.nd.array(a) for a in (ids, types, np.array([6, 4], np.float32), np.array([[1, 2], [0, 3]], np.float32))]


def outputs(net, xs):
    out = net(*xs)
    return [o.asnumpy() for o in (out if isinstance(out, (list, tuple)) else [out])]


def sample(name, value):
    """What the fixture keeps of an output: all of it, or for the segmentation maps (N, classes, 64, 64) every
    third class at every eighth pixel, plus the float64 sum and absolute sum of the whole map."""
    if name not in SEGMENTATION:
        return {"": value}
    whole = value.astype(np.float64)
    return {"": value[:, ::3, ::8, ::8], "_sum": np.array([whole.sum(), np.abs(whole).sum()])}


def main():
    import mxnet as mx
    arrays, info = {}, {}
    for name in list(VISION) + [BERT]:
        net = build(mx, name)
        xs = inputs(mx, name)
        imperative = outputs(net, xs)
        net.hybridize()
        for a, b in zip(outputs(net, xs), imperative):
            assert np.allclose(a, b, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(b).max())), name
        for k, value in enumerate(imperative):
            for suffix, part in sample(name, value).items():
                arrays["%s/out%d%s" % (name, k, suffix)] = part
        info[name] = {"prefix": net.prefix, "num_params": len(net.collect_params().keys()),
                      "outputs": [list(v.shape) for v in imperative]}
        print(name, info[name])
    os.makedirs(OUT, exist_ok=True)
    write_npz(os.path.join(OUT, "outputs.npz"), arrays)
    with open(os.path.join(OUT, "models.json"), "w") as fh:
        json.dump({"mxnet": mx.__version__, "models": info}, fh, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
