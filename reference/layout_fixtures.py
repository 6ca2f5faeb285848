"""Record MXNet 1.9.1's module layout and the behaviour of its small helpers, for tests/test_layout.py (run with
the oracle's python):

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/layout_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/layout/{layout.json, behaviour.json, executor_group.npz}; see the README there.
"""
import inspect
import json
import os
import warnings

import numpy as np

import mxnet as mx
from mxnet.gluon import utils as gutils
from mxnet.executor_manager import _split_input_slice
from mxnet.module.executor_group import DataParallelExecutorGroup

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mxnet-1.9.1", "layout")
PACKAGE = os.path.dirname(mx.__file__)
rng = np.random.RandomState(20261206)

# modules whose public names the tests compare, and the functions/classes whose signatures they compare
NAMED_MODULES = ["base", "util", "registry", "context", "runtime", "gluon.utils", "gluon.data.dataloader",
                 "module.executor_group", "gluon.nn"]
SIGNATURES = {
    "base": ["py_str", "c_str", "c_str_array", "c_array", "_as_list", "data_dir", "data_dir_default",
             "classproperty", "with_metaclass"],
    "util": ["is_np_shape", "set_np_shape", "np_shape", "use_np_shape", "is_np_array", "np_array", "use_np_array",
             "use_np", "set_np", "reset_np", "getenv", "setenv", "get_gpu_count", "get_gpu_memory", "set_module"],
    "registry": ["get_registry", "get_register_func", "get_alias_func", "get_create_func"],
    "context": ["Context", "cpu", "gpu", "cpu_pinned", "num_gpus", "gpu_memory_info", "current_context"],
    "runtime": ["feature_list", "Features"],
    "gluon.utils": ["split_data", "split_and_load", "clip_global_norm", "check_sha1", "download", "replace_file",
                    "_get_repo_url", "_get_repo_file_url", "shape_is_known", "_brief_print_list", "_indent"],
    "gluon.data.dataloader": ["default_batchify_fn", "default_mp_batchify_fn", "_as_in_context", "DataLoader",
                              "_MultiWorkerIter", "_worker_fn", "_thread_worker_fn", "_worker_initializer",
                              "worker_loop_v1", "fetcher_loop_v1", "_MultiWorkerIterV1", "DataLoaderV1"],
    "module.executor_group": ["DataParallelExecutorGroup", "_load_general", "_load_data", "_load_label",
                              "_merge_multi_context", "_prepare_group2ctxs"],
}


def module_tree():
    names = []
    for root, _, files in os.walk(PACKAGE):
        for f in files:
            if not f.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(root, f), PACKAGE)[:-3].replace(os.sep, ".")
            rel = rel[:-len(".__init__")] if rel.endswith(".__init__") else ("" if rel == "__init__" else rel)
            if rel and not rel.startswith("tools."):     # tools/ are scripts, not importable modules
                names.append(rel)
    return sorted(names)


def signature(obj):
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    params = [p for p in sig.parameters.values() if p.name != "self"]
    return [[p.name, str(p.kind), None if p.default is inspect.Parameter.empty else default_repr(p.default)]
            for p in params]


def default_repr(value):
    """repr of a default, without the address a function's repr carries (so a second run writes the same file)."""
    return "<function %s>" % value.__name__ if inspect.isfunction(value) else repr(value)


def layout():
    named = {}
    for mod_name in NAMED_MODULES:
        mod = __import__("mxnet." + mod_name, fromlist=["_"])
        named[mod_name] = sorted(n for n in dir(mod) if not n.startswith("__"))
    sigs = {m: {n: signature(getattr(__import__("mxnet." + m, fromlist=["_"]), n)) for n in names}
            for m, names in SIGNATURES.items()}
    group_attrs = sorted(n for n in dir(DataParallelExecutorGroup) if not n.startswith("__"))
    return {"modules": module_tree(), "names": named, "signatures": sigs,
            "executor_group_methods": group_attrs, "top_level": sorted(n for n in dir(mx) if not n.startswith("__"))}


def error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return [type(e).__name__, str(e)]
    return None


def behaviour():
    b = {}
    b["features"] = [[f.name, bool(f.enabled)] for f in mx.runtime.feature_list()]
    b["features_repr_head"] = repr(mx.runtime.Features())[:40]
    b["feature_unknown_error"] = error_of(lambda: mx.runtime.Features().is_enabled("NOPE"))
    b["version"] = mx.__version__
    # split_data: slice shapes, and the even-split error
    cases = [((5, 2), 2, 0), ((10, 3), 3, 0), ((4, 7), 3, 1), ((6, 2), 3, 0), ((3, 4), 3, 0), ((2, 3), 3, 0)]
    b["split_data"] = []
    for shape, n, axis in cases:
        data = mx.nd.array(np.arange(np.prod(shape)).reshape(shape))
        uneven = error_of(lambda data=data, n=n, axis=axis: gutils.split_data(data, n, axis, even_split=False)) or \
            [s.asnumpy().tolist() for s in gutils.split_data(data, n, axis, even_split=False)]
        even = error_of(lambda data=data, n=n, axis=axis: gutils.split_data(data, n, axis)) or \
            [s.asnumpy().tolist() for s in gutils.split_data(data, n, axis)]
        b["split_data"].append({"shape": shape, "num_slice": n, "batch_axis": axis, "uneven": uneven, "even": even})
    b["split_and_load_one_ctx"] = [s.asnumpy().tolist() for s in
                                   gutils.split_and_load(np.arange(6).reshape(3, 2), [mx.cpu(0)])]
    b["split_and_load_two_ctx"] = [[s.asnumpy().tolist(), str(s.context)] for s in
                                   gutils.split_and_load(np.arange(6).reshape(3, 2), [mx.cpu(0), mx.cpu(1)],
                                                         even_split=False)]
    # clip_global_norm
    arrays = [rng.uniform(-2, 2, (3, 4)).astype(np.float32), rng.uniform(-2, 2, (5,)).astype(np.float32)]
    nds = [mx.nd.array(a) for a in arrays]
    norm = gutils.clip_global_norm(nds, 1.0)
    b["clip_global_norm"] = {"inputs": [a.tolist() for a in arrays], "max_norm": 1.0, "returned": float(norm),
                             "outputs": [a.asnumpy().tolist() for a in nds]}
    nds = [mx.nd.array(a) for a in arrays]
    norm = gutils.clip_global_norm(nds, 100.0, check_isfinite=False)
    b["clip_global_norm_large"] = {"returned_type": type(norm).__name__, "returned_shape": list(norm.shape),
                                   "outputs_equal_inputs": all(np.array_equal(a, n.asnumpy())
                                                               for a, n in zip(arrays, nds))}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gutils.clip_global_norm([mx.nd.array([np.inf, 1.0])], 1.0)
    b["clip_global_norm_inf_warning"] = [str(w.message) for w in caught]
    # repo urls
    os.environ.pop("MXNET_GLUON_REPO", None)
    b["repo_url_default"] = gutils._get_repo_url()
    b["repo_file_url_default"] = gutils._get_repo_file_url("gluon/dataset/mnist", "train-images-idx3-ubyte.gz")
    os.environ["MXNET_GLUON_REPO"] = "https://example.org/mirror"
    b["repo_url_env"] = gutils._get_repo_url()
    del os.environ["MXNET_GLUON_REPO"]
    b["shape_is_known"] = {str(s): gutils.shape_is_known(s) for s in [None, (), (2, 3), (0, 3), (2, 0)]}
    b["brief_print_list"] = [gutils._brief_print_list(list(range(n))) for n in (3, 7, 10)]
    # util switches
    u = mx.util
    seq = [u.is_np_shape(), u.set_np_shape(True), u.is_np_shape(), u.set_np_shape(False), u.is_np_shape()]
    with u.np_shape(True):
        seq.append(u.is_np_shape())
    seq.append(u.is_np_shape())
    u.set_np()
    seq += [u.is_np_shape(), u.is_np_array()]
    seq.append(error_of(lambda: u.set_np_shape(False)))
    u.reset_np()
    seq += [u.is_np_shape(), u.is_np_array()]
    seq.append(error_of(lambda: u.set_np(shape=False, array=True)))
    seq.append(error_of(lambda: u.use_np(3)))
    b["np_switches"] = seq
    b["getenv_unset"] = u.getenv("DATAFLOW_SURELY_UNSET_VARIABLE")
    # registry
    b["registry_unregistered_error"] = error_of(lambda: mx.optimizer.create("nosuchopt"))
    # executor-group slices
    b["split_input_slice"] = []
    for batch, work in [(6, [1, 2]), (10, [1, 1, 1]), (7, [3, 1]), (2, [1, 1, 1])]:
        got = error_of(lambda batch=batch, work=work: _split_input_slice(batch, work)) or \
            [[s.start, s.stop] for s in _split_input_slice(batch, work)]
        b["split_input_slice"].append([batch, work, got])
    b["data_dir_default_tail"] = os.path.relpath(mx.base.data_dir_default(), os.path.expanduser("~"))
    return b


def executor_group():
    """A two-context group (cpu(0), cpu(1), workload [1, 2]) over FullyConnected -> SoftmaxOutput: its slices,
    arrays, outputs, gradients and get_params after one forward/backward."""
    data = mx.sym.var("data")
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(data, num_hidden=3, name="fc"), name="softmax")
    data_shapes = [mx.io.DataDesc("data", (6, 4))]
    label_shapes = [mx.io.DataDesc("softmax_label", (6,))]
    group = DataParallelExecutorGroup(net, [mx.cpu(0), mx.cpu(1)], [1, 2], data_shapes, label_shapes,
                                      ["fc_weight", "fc_bias"], for_training=True, inputs_need_grad=True)
    w = rng.uniform(-1, 1, (3, 4)).astype(np.float32)
    bias = rng.uniform(-1, 1, (3,)).astype(np.float32)
    group.set_params({"fc_weight": mx.nd.array(w), "fc_bias": mx.nd.array(bias)}, {})
    x = rng.uniform(-1, 1, (6, 4)).astype(np.float32)
    y = np.array([0, 1, 2, 1, 0, 2], np.float32)
    group.forward(mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)]))
    group.backward()
    arrays = {"w": w, "b": bias, "x": x, "y": y,
              "output": group.get_outputs()[0].asnumpy(),
              "input_grad": group.get_input_grads()[0].asnumpy(),
              "grad_w_dev0": group.grad_arrays[0][0].asnumpy(), "grad_w_dev1": group.grad_arrays[0][1].asnumpy()}
    info = {"slices": [[s.start, s.stop] for s in group.slices], "batch_size": group.batch_size,
            "param_names": group.param_names, "arg_names": group.arg_names, "aux_names": group.aux_names,
            "data_arrays_slices": [[[s.start, s.stop], list(a.shape)] for s, a in group.data_arrays[0]],
            "label_arrays_slices": [[[s.start, s.stop], list(a.shape)] for s, a in group.label_arrays[0]],
            "param_array_shapes": [[list(a.shape) for a in block] for block in group.param_arrays],
            "output_shapes": [[k, list(v)] for k, v in group.get_output_shapes()],
            "outputs_unmerged_shapes": [[list(o.shape) for o in outs]
                                        for outs in group.get_outputs(merge_multi_context=False)],
            "output_layouts": group.output_layouts, "data_layouts": group.data_layouts,
            "grad_req": group.grad_req, "num_outputs": group.num_outputs}
    acc = mx.metric.Accuracy()
    group.update_metric(acc, [mx.nd.array(y)], pre_sliced=False)
    info["accuracy"] = list(acc.get())
    return info, arrays


def main():
    os.makedirs(OUT, exist_ok=True)
    lay = layout()
    beh = behaviour()
    info, arrays = executor_group()
    beh["executor_group"] = info
    with open(os.path.join(OUT, "layout.json"), "w") as f:
        json.dump(lay, f, indent=0, sort_keys=True)
    with open(os.path.join(OUT, "behaviour.json"), "w") as f:
        json.dump(beh, f, indent=1, sort_keys=True)
    np.savez(os.path.join(OUT, "executor_group.npz"), **arrays)


if __name__ == "__main__":
    main()
