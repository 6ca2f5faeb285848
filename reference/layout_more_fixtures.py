"""Record MXNet 1.9.1's answers for the modules added in issue 13 item 2 (estimator, python/sequential modules,
profiler, log, misc, engine, library, contrib.autograd/io/text/svrg_optimization, gluon.contrib.data), for
tests/test_estimator.py, tests/test_modules_more.py and tests/test_contrib_text_svrg.py (run with the oracle's
python):

    MXNET_MKLDNN_ENABLED=0 /work/mxvenv/bin/python reference/layout_more_fixtures.py

Writes tests/fixtures/mxnet-1.9.1/layout_more/{modules.json, behaviour.json, arrays.npz}; see the README there.
"""
import inspect
import io
import json
import logging
import os
import tempfile
import warnings

import numpy as np

import mxnet as mx
from mxnet import gluon, profiler
from mxnet.gluon.contrib import estimator as est_mod

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mxnet-1.9.1",
                   "layout_more")
rng = np.random.RandomState(20261206)
ARRAYS = {}

MODULES = ["gluon.contrib.estimator", "gluon.contrib.estimator.estimator", "gluon.contrib.estimator.event_handler",
           "gluon.contrib.estimator.batch_processor", "gluon.contrib.estimator.utils", "gluon.contrib.data",
           "gluon.contrib.data.sampler", "gluon.contrib.data.text", "gluon.contrib.cnn",
           "gluon.contrib.cnn.conv_layers", "gluon.contrib.rnn", "module.python_module", "module.sequential_module",
           "profiler", "log", "misc", "engine", "library", "contrib.autograd", "contrib.io", "contrib.tensorboard",
           "io.utils", "rtc", "space", "ndarray_doc", "symbol_doc", "contrib.text.utils", "contrib.text.vocab",
           "contrib.text.embedding", "contrib.svrg_optimization.svrg_module",
           "contrib.svrg_optimization.svrg_optimizer"]


# modules whose classes' public methods are recorded too
METHODS_OF = {"gluon", "module", "profiler", "contrib", "misc", "engine"}
SKIP_METHODS_OF = ("gluon.contrib.rnn", "gluon.contrib.cnn")


def default_repr(value):
    """repr of a default, without the addresses in function and object reprs (a second run writes the same)."""
    import re
    return "<function %s>" % value.__name__ if inspect.isfunction(value) else re.sub(" at 0x[0-9a-f]+", "",
                                                                                          repr(value))


def signature(obj):
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    return [[p.name, str(p.kind), None if p.default is inspect.Parameter.empty else default_repr(p.default)]
            for p in sig.parameters.values() if p.name != "self"]


def modules():
    """For each module: its public names, those defined in it or listed in its `__all__` (functions and classes,
    with their signatures and, in METHODS_OF modules, their public methods') and its upper-case constants."""
    result = {}
    for name in MODULES:
        mod = __import__("mxnet." + name, fromlist=["_"])
        exported = set(getattr(mod, "__all__", ()))
        names = {}
        for attr in sorted(dir(mod)):
            obj = getattr(mod, attr)
            if attr.startswith("_") or inspect.ismodule(obj):
                continue
            if inspect.isclass(obj) or inspect.isfunction(obj):
                if obj.__module__ != "mxnet." + name and attr not in exported:
                    continue        # imported for the module's own use
                names[attr] = signature(obj)
                if inspect.isclass(obj) and name.split(".")[0] in METHODS_OF \
                        and not name.startswith(SKIP_METHODS_OF):
                    names[attr + ".methods"] = {m: signature(getattr(obj, m)) for m, v in vars(obj).items()
                                                if inspect.isfunction(v) and not m.startswith("_")}
            elif attr.isupper():
                names[attr] = None
        result[name] = names
    return result


# -- estimator ---------------------------------------------------------------------------------------------------

def _net(hybridize=False):
    net = gluon.nn.HybridSequential(prefix="net_")
    with net.name_scope():
        net.add(gluon.nn.Dense(5, activation="relu", in_units=4, prefix="dense0_"))
        net.add(gluon.nn.Dense(3, in_units=5, prefix="dense1_"))
    net.initialize(mx.init.Zero(), ctx=mx.cpu())
    for key in ("w0", "b0", "w1", "b1"):
        if key not in ARRAYS:
            shape = {"w0": (5, 4), "b0": (5,), "w1": (3, 5), "b1": (3,)}[key]
            ARRAYS[key] = rng.uniform(-0.5, 0.5, shape).astype(np.float32)
    params = net.collect_params()
    params["net_dense0_weight"].set_data(mx.nd.array(ARRAYS["w0"]))
    params["net_dense0_bias"].set_data(mx.nd.array(ARRAYS["b0"]))
    params["net_dense1_weight"].set_data(mx.nd.array(ARRAYS["w1"]))
    params["net_dense1_bias"].set_data(mx.nd.array(ARRAYS["b1"]))
    if hybridize:
        net.hybridize()
    return net


def _loaders():
    if "x" not in ARRAYS:
        ARRAYS["x"] = rng.normal(size=(10, 4)).astype(np.float32)
        ARRAYS["y"] = rng.randint(0, 3, size=10).astype(np.float32)
        ARRAYS["vx"] = rng.normal(size=(6, 4)).astype(np.float32)
        ARRAYS["vy"] = rng.randint(0, 3, size=6).astype(np.float32)
    train = gluon.data.DataLoader(gluon.data.ArrayDataset(ARRAYS["x"], ARRAYS["y"]), batch_size=4)
    val = gluon.data.DataLoader(gluon.data.ArrayDataset(ARRAYS["vx"], ARRAYS["vy"]), batch_size=4)
    return train, val


def _estimator(net, **kwargs):
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5, "momentum": 0.9})
    est = est_mod.Estimator(net, gluon.loss.SoftmaxCrossEntropyLoss(), trainer=trainer, context=mx.cpu(), **kwargs)
    stream = io.StringIO()
    est.logger.handlers = [logging.StreamHandler(stream)]
    return est, stream


class Recorder(est_mod.TrainBegin, est_mod.EpochBegin, est_mod.BatchBegin, est_mod.BatchEnd, est_mod.EpochEnd,
               est_mod.TrainEnd):
    def __init__(self, log, priority):
        self.log, self.priority = log, priority

    def train_begin(self, estimator, *args, **kwargs):
        self.log.append("train_begin")

    def epoch_begin(self, estimator, *args, **kwargs):
        self.log.append("epoch_begin")

    def batch_begin(self, estimator, *args, **kwargs):
        self.log.append("batch_begin")

    def batch_end(self, estimator, *args, **kwargs):
        self.log.append("batch_end %s" % [round(float(m.get()[1]), 6) for m in estimator.train_metrics])
        return False

    def epoch_end(self, estimator, *args, **kwargs):
        self.log.append("epoch_end")
        return False

    def train_end(self, estimator, *args, **kwargs):
        self.log.append("train_end")


def _scrub(text):
    """Log text without timings (digits after 'in', 'total', 'time/interval')."""
    import re
    text = re.sub(r"Finished in [0-9.]+s", "Finished in Xs", text)
    text = re.sub(r"total [0-9]+s", "total Xs", text)
    return re.sub(r"time/interval: [0-9.]+s", "time/interval: Xs", text)


def estimator():
    out = {}
    train, val = _loaders()
    est, stream = _estimator(_net())
    out["train_metric_names"] = [m.name for m in est.train_metrics]
    out["val_metric_names"] = [m.name for m in est.val_metrics]
    est.max_epoch, est.max_batch = 2, None
    out["default_handlers"] = [[type(h).__name__, float(getattr(h, "priority", 0))]
                               for h in est._prepare_default_handlers(val, [])]
    out["default_handlers_with_user"] = [[type(h).__name__, float(getattr(h, "priority", 0))] for h in
                                         est._prepare_default_handlers(val, [Recorder([], 0)])]
    out["default_validation_handlers"] = [[type(h).__name__, float(getattr(h, "priority", 0))]
                                          for h in est._prepare_default_validation_handlers(None)]
    events = []
    est.fit(train, val_data=val, epochs=2, event_handlers=[Recorder(events, 0)])
    out["fit_epochs_events"] = events
    out["fit_epochs_log"] = _scrub(stream.getvalue()).splitlines()
    out["fit_epochs_train_metrics"] = [list(m.get()) for m in est.train_metrics]
    out["fit_epochs_val_metrics"] = [list(m.get()) for m in est.val_metrics]
    for k, v in est.net.collect_params().items():
        ARRAYS["fit_epochs/" + k] = v.data().asnumpy()

    est, stream = _estimator(_net())
    est.fit(train, batches=4, event_handlers=[est_mod.LoggingHandler(log_interval=1, metrics=est.train_metrics)])
    out["fit_batches_log"] = _scrub(stream.getvalue()).splitlines()
    for k, v in est.net.collect_params().items():
        ARRAYS["fit_batches/" + k] = v.data().asnumpy()

    # two contexts: each batch split in two, the gradients summed by the trainer
    net = _net()
    net.collect_params().reset_ctx([mx.cpu(0), mx.cpu(1)])
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5, "momentum": 0.9})
    est = est_mod.Estimator(net, gluon.loss.SoftmaxCrossEntropyLoss(), trainer=trainer,
                            context=[mx.cpu(0), mx.cpu(1)])
    est.logger.handlers = []
    est.fit(train, epochs=2)
    out["two_contexts_metrics"] = [list(m.get()) for m in est.train_metrics]
    for k, v in est.net.collect_params().items():
        ARRAYS["two_contexts/" + k] = v.data(mx.cpu(1)).asnumpy()

    est, stream = _estimator(_net())
    est.evaluate(val)
    out["evaluate_log"] = _scrub(stream.getvalue()).splitlines()
    out["evaluate_metrics"] = [list(m.get()) for m in est.val_metrics]

    # early stopping on the training loss: mode='min', patience 1, a baseline nothing beats
    est, _ = _estimator(_net())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stopper = est_mod.EarlyStoppingHandler(est.train_metrics[1], mode="min", patience=2, baseline=-1.0)
    est.fit(train, epochs=10, event_handlers=[stopper])
    out["early_stopping"] = {"stopped_epoch": stopper.stopped_epoch, "current_epoch": stopper.current_epoch,
                             "wait": stopper.wait}

    # checkpoints: hybridized net, every epoch and every 2 batches, keep 2, best by training accuracy
    with tempfile.TemporaryDirectory() as tmp:
        est, stream = _estimator(_net(hybridize=True))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            handler = est_mod.CheckpointHandler(tmp, model_prefix="m", monitor=est.train_metrics[0],
                                                save_best=True, epoch_period=None, batch_period=2,
                                                max_checkpoints=2, verbose=1)
        out["checkpoint_auto_mode_warning"] = [str(w.message) for w in caught]
        est.fit(train, batches=7, event_handlers=[handler])
        out["checkpoint_files"] = sorted(os.listdir(tmp))
        with open(os.path.join(tmp, "m-symbol.json")) as f:
            out["checkpoint_symbol_args"] = mx.sym.load_json(f.read()).list_arguments()
        out["checkpoint_log"] = [line.replace(tmp, "DIR") for line in _scrub(stream.getvalue()).splitlines()
                                 if "Checkpoint" in line]
        # resume: a new estimator continuing from the newest checkpoint trains the remaining batches
        est2, stream2 = _estimator(_net())
        resume = est_mod.CheckpointHandler(tmp, model_prefix="m", epoch_period=None, batch_period=2,
                                           resume_from_checkpoint=True)
        est2.fit(train, batches=7, event_handlers=[resume])
        out["resume"] = {"trained_epoch": resume.trained_epoch, "trained_batch": resume.trained_batch,
                         "max_batch_after": est2.max_batch, "files": sorted(os.listdir(tmp)),
                         "log": [line for line in stream2.getvalue().splitlines() if "Checkpoint" in line]}
    # errors
    errors = {}
    for key, call in {
        "fit_both": lambda: _estimator(_net())[0].fit(train, epochs=1, batches=1),
        "fit_not_loader": lambda: _estimator(_net())[0].fit([1, 2], epochs=1),
        "bad_loss": lambda: est_mod.Estimator(_net(), "loss"),
        "bad_metric": lambda: est_mod.Estimator(_net(), gluon.loss.L2Loss(), train_metrics=["acc"]),
        "bad_handler": lambda: _estimator(_net())[0].fit(train, epochs=1, event_handlers=[1]),
        "foreign_metric": lambda: _estimator(_net())[0].fit(
            train, epochs=1, event_handlers=[est_mod.MetricHandler([mx.metric.Accuracy()])]),
        "bad_log_interval": lambda: est_mod.LoggingHandler(log_interval="batch"),
    }.items():
        try:
            call()
            errors[key] = None
        except Exception as e:  # noqa: BLE001
            errors[key] = [type(e).__name__, str(e)]
    out["errors"] = errors
    l2 = est_mod.Estimator(_net(), gluon.loss.L2Loss(), trainer=gluon.Trainer(_net().collect_params(), "sgd"))
    out["l2_metric_names"] = [m.name for m in l2.train_metrics] + [m.name for m in l2.val_metrics]
    return out


# -- modules -----------------------------------------------------------------------------------------------------

def sequential():
    out = {}
    for key, shape in {"fc1_weight": (5, 4), "fc1_bias": (5,), "fc2_weight": (3, 5), "fc2_bias": (3,)}.items():
        ARRAYS["seq/" + key] = rng.uniform(-0.5, 0.5, shape).astype(np.float32)
    ARRAYS["seq/x"] = rng.normal(size=(6, 4)).astype(np.float32)
    ARRAYS["seq/y"] = rng.randint(0, 3, size=6).astype(np.float32)
    params = {k[4:]: mx.nd.array(v) for k, v in ARRAYS.items() if k.startswith("seq/fc")}
    data = mx.sym.var("data")
    net1 = mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=5, name="fc1"), act_type="relu", name="relu1")
    net2 = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=3, name="fc2"), name="softmax")
    mod1 = mx.mod.Module(net1, label_names=None, context=mx.cpu())
    mod2 = mx.mod.Module(net2, context=mx.cpu())
    seq = mx.mod.SequentialModule().add(mod1).add(mod2, take_labels=True, auto_wiring=True)
    batch = mx.io.DataBatch([mx.nd.array(ARRAYS["seq/x"])], [mx.nd.array(ARRAYS["seq/y"])])
    seq.bind(data_shapes=[("data", (6, 4))], label_shapes=[("softmax_label", (6,))], inputs_need_grad=True)
    seq.init_params(arg_params=params, allow_missing=False)
    seq.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.1})
    out["output_shapes"] = [[n, list(s)] for n, s in seq.output_shapes]
    out["label_shapes"] = [[n, list(s)] for n, s in seq.label_shapes]
    out["data_names"], out["output_names"] = seq.data_names, seq.output_names
    seq.forward(batch, is_train=True)
    ARRAYS["seq/output"] = seq.get_outputs()[0].asnumpy()
    seq.backward()
    # (MXNet's SequentialModule.bind never sets its own inputs_need_grad, so its get_input_grads always fails
    # its assertion; the first module holds the gradients)
    out["input_grads_assertion"] = _raises(seq.get_input_grads)
    ARRAYS["seq/input_grad"] = mod1.get_input_grads()[0].asnumpy()
    seq.update()
    arg, _ = seq.get_params()
    for k, v in arg.items():
        ARRAYS["seq/updated_" + k] = v.asnumpy()
    metric = mx.metric.Accuracy()
    seq.update_metric(metric, batch.label)
    out["accuracy"] = list(metric.get())
    try:
        mx.mod.SequentialModule().add(mod1, take_label=True)
    except AssertionError as e:
        out["bad_meta"] = str(e)
    # a Module followed by a PythonLossModule whose gradient is softmax(scores) - onehot(label)
    mod1 = mx.mod.Module(mx.sym.FullyConnected(data, num_hidden=3, name="fc2"), label_names=None, context=mx.cpu())

    def grad_func(scores, labels):
        p = mx.nd.softmax(scores)
        return p - mx.nd.one_hot(labels, 3)
    loss = mx.mod.PythonLossModule(grad_func=grad_func)
    seq = mx.mod.SequentialModule().add(mod1).add(loss, take_labels=True, auto_wiring=True)
    seq.bind(data_shapes=[("data", (6, 5))], label_shapes=[("softmax_label", (6,))])
    seq.init_params(arg_params={"fc2_weight": params["fc2_weight"], "fc2_bias": params["fc2_bias"]})
    seq.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.1})
    ARRAYS["pyloss/x"] = rng.normal(size=(6, 5)).astype(np.float32)
    seq.forward_backward(mx.io.DataBatch([mx.nd.array(ARRAYS["pyloss/x"])], [mx.nd.array(ARRAYS["seq/y"])]))
    seq.update()
    ARRAYS["pyloss/updated_fc2_weight"] = seq.get_params()[0]["fc2_weight"].asnumpy()
    out["pyloss_output_shapes"] = [[n, list(s)] for n, s in loss.output_shapes]
    out["pyloss_output_names"] = loss.output_names
    return out


def small_modules():
    out = {}
    # gluon.contrib.data
    from mxnet.gluon.contrib.data import IntervalSampler
    out["interval_sampler"] = [[n, i, r, list(IntervalSampler(n, i, rollover=r)), len(IntervalSampler(n, i, r))]
                               for n, i, r in [(13, 3, True), (13, 3, False), (5, 5, True), (7, 1, False),
                                               (10, 4, True)]]
    # engine
    first = mx.engine.set_bulk_size(7)
    second = mx.engine.set_bulk_size(first)
    with mx.engine.bulk(3):
        inside = mx.engine.set_bulk_size(3)
    out["bulk_size"] = [first, second, inside, mx.engine.set_bulk_size(first)]
    # misc
    sched = mx.misc.FactorScheduler(step=2, factor=0.5)
    out["factor_scheduler"] = [sched(i) for i in range(7)]
    errors = {}
    for key, call in {"step0": lambda: mx.misc.FactorScheduler(0), "factor1": lambda: mx.misc.FactorScheduler(2, 1.0),
                      "base": lambda: mx.misc.LearningRateScheduler()(3)}.items():
        try:
            call()
        except Exception as e:  # noqa: BLE001
            errors[key] = [type(e).__name__, str(e)]
    out["misc_errors"] = errors
    # log: a fixed record through MXNet's formatter
    record = logging.LogRecord("t", logging.WARNING, "/x/f.py", 12, "hello %s", ("you",), None, func="fn")
    record.created, record.msecs, record.process = 1765000000.0, 0.0, 4321
    out["log_formatted"] = {str(level): mx.log._Formatter().format(_with_level(record, level))
                            for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR,
                                          logging.CRITICAL, 5)}
    logger = mx.log.get_logger("layout_more_test", level=mx.log.INFO)
    out["get_logger"] = [logger.level, len(logger.handlers), type(logger.handlers[0]).__name__,
                         len(mx.log.get_logger("layout_more_test").handlers)]
    # library.load errors
    lib_errors = {}
    with tempfile.TemporaryDirectory() as tmp:
        txt = os.path.join(tmp, "lib.txt")
        open(txt, "w").close()
        for key, path in {"missing": os.path.join(tmp, "nope.so"), "not_library": txt}.items():
            try:
                mx.library.load(path)
            except Exception as e:  # noqa: BLE001
                lib_errors[key] = [type(e).__name__, str(e).replace(tmp, "TMP")]
    out["library_errors"] = lib_errors
    # contrib.autograd
    from mxnet.contrib import autograd as cag
    ARRAYS["cag/x"] = rng.normal(size=(2, 3)).astype(np.float32)
    ARRAYS["cag/y"] = rng.normal(size=(2, 3)).astype(np.float32)

    def f(a, b):
        return a * b + mx.nd.exp(a)
    grads, loss = cag.grad_and_loss(f)(mx.nd.array(ARRAYS["cag/x"]), mx.nd.array(ARRAYS["cag/y"]))
    ARRAYS["cag/grad_x"], ARRAYS["cag/grad_y"], ARRAYS["cag/loss"] = grads[0].asnumpy(), grads[1].asnumpy(), \
        loss.asnumpy()
    ARRAYS["cag/grad_only_y"] = cag.grad(f, argnum=1)(mx.nd.array(ARRAYS["cag/x"]),
                                                      mx.nd.array(ARRAYS["cag/y"]))[0].asnumpy()
    states = []
    with cag.train_section():
        states.append([mx.autograd.is_recording(), mx.autograd.is_training()])
        with cag.test_section():
            states.append([mx.autograd.is_recording(), mx.autograd.is_training()])
        states.append([mx.autograd.is_recording(), mx.autograd.is_training()])
    states.append([mx.autograd.is_recording(), mx.autograd.is_training()])
    out["cag_states"] = states
    # contrib.io.DataLoaderIter: 10 examples in batches of 4 (the last padded)
    from mxnet.contrib.io import DataLoaderIter
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    loader = gluon.data.DataLoader(gluon.data.ArrayDataset(x, np.arange(10, dtype=np.float32)), batch_size=4)
    it = DataLoaderIter(loader, dtype="float32")
    out["dataloaderiter"] = {"provide_data": [[d.name, list(d.shape), str(np.dtype(d.dtype))] for d in it.provide_data],
                             "provide_label": [[d.name, list(d.shape)] for d in it.provide_label],
                             "batches": [[b.pad, b.data[0].asnumpy()[:4 - b.pad].tolist(),
                                          b.label[0].asnumpy()[:4 - b.pad].tolist(), b.data[0].shape[0]]
                                         for b in it]}
    it.reset()
    out["dataloaderiter"]["after_reset"] = len(list(it))
    # contrib.text
    from mxnet.contrib import text
    source = " Life is great ! \n life is good . \n *a*b*\n"
    counts = text.utils.count_tokens_from_str(source)
    out["count_tokens"] = sorted(counts.items())
    out["count_tokens_lower_star"] = sorted(text.utils.count_tokens_from_str(source, "\\*| ", "\n", True).items())
    out["count_tokens_update"] = sorted(text.utils.count_tokens_from_str("x y", counter_to_update=counts).items())
    counter = __import__("collections").Counter(["c", "b", "a", "b", "c", "<pad>", "d", "c", "e", "e"])
    vocabs = {}
    for key, kwargs in {"default": {}, "reserved": {"reserved_tokens": ["<pad>", "<eos>"]},
                        "most2": {"most_freq_count": 2}, "min2": {"min_freq": 2},
                        "most2_reserved": {"most_freq_count": 2, "reserved_tokens": ["<pad>"]},
                        "unk": {"unknown_token": "?", "min_freq": 3}}.items():
        v = text.vocab.Vocabulary(counter, **kwargs)
        vocabs[key] = [v.idx_to_token, v.to_indices(["c", "zz", "<pad>"]), v.to_tokens([1, 0]), len(v)]
    out["vocab"] = vocabs
    out["vocab_errors"] = {"bad_index": _raises(lambda: text.vocab.Vocabulary(counter).to_tokens(99)),
                           "unk_reserved": _raises(lambda: text.vocab.Vocabulary(reserved_tokens=["<unk>"])),
                           "dup_reserved": _raises(lambda: text.vocab.Vocabulary(reserved_tokens=["a", "a"])),
                           "not_counter": _raises(lambda: text.vocab.Vocabulary({"a": 1})),
                           "min0": _raises(lambda: text.vocab.Vocabulary(min_freq=0))}
    out["embedding"] = embedding()
    return out


def embedding():
    """contrib.text.embedding on small files: CustomEmbedding (with and without a vocabulary), lookups, updates,
    CompositeEmbedding, the warnings and errors."""
    from mxnet.contrib import text
    import collections
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        first, second = os.path.join(tmp, "a.txt"), os.path.join(tmp, "b.txt")
        with open(first, "w") as f:
            f.write("3 3\nhello 0.1 0.2 0.3\nworld 0.4 0.5 0.6\nhello 9 9 9\nhi -1 -2 -3\n")
        with open(second, "w") as f:
            f.write("world|1|2\n<unk>|5|6\nfoo|3|4\n")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            e1 = text.embedding.CustomEmbedding(first)
        out["warnings"] = [str(w.message).replace(tmp, "TMP") for w in caught]
        out["e1"] = [e1.idx_to_token, e1.idx_to_vec.asnumpy().tolist(), e1.vec_len,
                     e1.get_vecs_by_tokens(["Hello", "world", "x"], lower_case_backup=True).asnumpy().tolist(),
                     e1.get_vecs_by_tokens(["Hello", "world"]).asnumpy().tolist(),
                     e1.get_vecs_by_tokens("hi").asnumpy().tolist()]
        e1.update_token_vectors("world", mx.nd.array([7, 8, 9]))
        e1.update_token_vectors(["<unk>", "hi"], mx.nd.array([[1, 1, 1], [2, 2, 2]]))
        out["e1_updated"] = e1.idx_to_vec.asnumpy().tolist()
        out["e1_update_unknown"] = _raises(lambda: e1.update_token_vectors("nope", mx.nd.array([1, 2, 3])))
        e2 = text.embedding.CustomEmbedding(second, elem_delim="|", init_unknown_vec=mx.nd.ones)
        out["e2"] = [e2.idx_to_token, e2.idx_to_vec.asnumpy().tolist()]
        vocabulary = text.vocab.Vocabulary(collections.Counter(["world", "world", "foo", "hello", "zz"]),
                                           reserved_tokens=["<pad>"])
        e3 = text.embedding.CustomEmbedding(first, vocabulary=vocabulary, init_unknown_vec=mx.nd.ones)
        out["e3"] = [e3.idx_to_token, e3.token_to_idx, e3.reserved_tokens, e3.idx_to_vec.asnumpy().tolist()]
        composite = text.embedding.CompositeEmbedding(vocabulary, [e2, text.embedding.CustomEmbedding(first)])
        out["composite"] = [composite.idx_to_token, composite.vec_len, composite.idx_to_vec.asnumpy().tolist()]
        out["bad_path"] = _raises(lambda: text.embedding.CustomEmbedding(os.path.join(tmp, "none.txt")))
        with open(first, "a") as f:
            f.write("bad 1 2\n")
        out["bad_dim"] = [_raises(lambda: text.embedding.CustomEmbedding(first))[0]]
    out["registered"] = sorted(text.embedding.get_pretrained_file_names())
    out["unknown_name"] = _raises(lambda: text.embedding.get_pretrained_file_names("nope"))
    return out


def svrg():
    """SVRGModule.fit on a linear regression (10 examples in batches of 4: the last one padded by 2)."""
    from mxnet.contrib.svrg_optimization.svrg_module import SVRGModule
    x = rng.normal(size=(10, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5], np.float32) + 0.3 + rng.normal(scale=0.1, size=10)).astype(np.float32)
    w = rng.uniform(-0.5, 0.5, (1, 3)).astype(np.float32)
    ARRAYS.update({"svrg/x": x, "svrg/y": y, "svrg/w": w})
    net = mx.sym.LinearRegressionOutput(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=1, name="fc1"),
                                        mx.sym.var("lin_reg_label"), name="lro")
    out = {}
    for epochs in (1, 3):
        it = mx.io.NDArrayIter(x, y, batch_size=4, label_name="lin_reg_label")
        mod = SVRGModule(net, data_names=["data"], label_names=["lin_reg_label"], update_freq=2)
        mod.fit(it, eval_metric="mse", optimizer="sgd", optimizer_params=(("learning_rate", 0.025),),
                num_epoch=epochs, arg_params={"fc1_weight": mx.nd.array(w), "fc1_bias": mx.nd.zeros(1)})
        arg, _ = mod.get_params()
        ARRAYS["svrg/epochs%d_weight" % epochs] = arg["fc1_weight"].asnumpy()
        ARRAYS["svrg/epochs%d_bias" % epochs] = arg["fc1_bias"].asnumpy()
        ARRAYS["svrg/epochs%d_full_weight" % epochs] = mod._param_dict[0]["fc1_weight"].asnumpy()
    out["idx2name"] = {str(k): v for k, v in mod._optimizer.idx2name.items()}
    out["errors"] = {"none": _raises(lambda: SVRGModule(net, label_names=["lin_reg_label"])),
                     "zero": _raises(lambda: SVRGModule(net, label_names=["lin_reg_label"], update_freq=0))}
    return out


def _raises(call):
    try:
        call()
    except Exception as e:  # noqa: BLE001
        return [type(e).__name__, str(e)]
    return None


def _with_level(record, level):
    import copy
    record = copy.copy(record)
    record.levelno, record.levelname = level, logging.getLevelName(level)
    return record


def profile():
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        fname = os.path.join(tmp, "profile.json")
        profiler.set_config(profile_all=True, aggregate_stats=True, filename=fname)
        profiler.set_state("run")
        a = mx.nd.ones((10, 10))
        b = mx.nd.dot(a, a)
        b.wait_to_read()
        domain = profiler.Domain("mydomain")
        task = domain.new_task("mytask")
        task.start()
        task.stop()
        frame = profiler.Frame(domain, "myframe")
        frame.start()
        frame.stop()
        event = profiler.Event("myevent")
        event.start()
        event.stop()
        counter = domain.new_counter("mycounter", 5)
        counter += 3
        counter -= 1
        counter.increment(10)
        counter.decrement(2)
        counter.set_value(42)
        domain.new_marker("mymarker").mark("process")
        profiler.set_state("stop")
        table = profiler.dumps()
        as_json = json.loads(profiler.dumps(format="json"))
        profiler.dump()
        with open(fname) as f:
            trace = json.load(f)
    out["trace_keys"] = sorted(trace)
    out["display_time_unit"] = trace.get("displayTimeUnit")
    mine = [e for e in trace["traceEvents"] if str(e.get("name", "")).startswith("my")
            or "mycounter" in str(e.get("args", ""))]
    out["my_events"] = [{k: v for k, v in e.items() if k not in ("ts", "pid", "tid", "dur", "id")} for e in mine]
    out["event_keys"] = sorted({k for e in trace["traceEvents"] for k in e})
    out["phases"] = sorted({e.get("ph") for e in trace["traceEvents"]})
    # (the engine's own entries, such as WaitForVar, come and go between runs: only ours are kept)
    out["op_events"] = sorted({e["name"] for e in trace["traceEvents"] if e.get("ph") in ("B", "X")
                               and e.get("cat") == "operator"} & {"dot", "_ones"})
    import re
    sections = table.split("\n\n")
    kept = [sections[0].split("Device Storage")[0]] + [section for section in sections[1:]
                                                        if section.startswith(("my", "event"))]
    out["table_lines"] = [re.sub(r"[0-9]+(\.[0-9]+)?", "N", line) for line in "\n\n".join(kept).splitlines()]
    out["json_unit"] = as_json["Unit"]
    out["json_counter"] = as_json["Time"]["mydomain"]["mycounter"]
    out["json_time_entry"] = {cat: {name: sorted(stats) for name, stats in entries.items()}
                              for cat, entries in as_json["Time"].items() if cat.startswith(("my", "event"))}
    out["metadata_events"] = [{k: v for k, v in e.items() if k not in ("pid", "tid")}
                              for e in trace["traceEvents"] if e.get("ph") == "M"][:6]
    out["json_keys"] = sorted(as_json)
    out["json_sample"] = {k: sorted(v) if isinstance(v, dict) else v for k, v in as_json.items()}
    errors = {}
    for key, call in {"bad_state": lambda: profiler.set_state("go"),
                      "bad_format": lambda: profiler.dumps(format="xml"),
                      "bad_sort": lambda: profiler.dumps(sort_by="name"),
                      "bad_key": lambda: profiler.set_config(nonsense=True)}.items():
        try:
            call()
            errors[key] = None
        except Exception as e:  # noqa: BLE001
            errors[key] = [type(e).__name__, str(e).splitlines()[0][:200]]
    out["errors"] = errors
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "modules.json"), "w") as f:
        json.dump(modules(), f, sort_keys=True)
    behaviour = {"estimator": estimator(), "sequential": sequential(), "small": small_modules(),
                 "profiler": profile(), "svrg": svrg()}
    with open(os.path.join(OUT, "behaviour.json"), "w") as f:
        json.dump(behaviour, f, indent=1, sort_keys=True, default=float)
    save_npz(os.path.join(OUT, "arrays.npz"), ARRAYS)


def save_npz(path, arrays):
    """np.savez_compressed with a fixed timestamp per member, so a second run writes the same bytes."""
    import zipfile
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())


if __name__ == "__main__":
    main()
