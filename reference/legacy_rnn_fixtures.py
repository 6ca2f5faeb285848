"""Record MXNet 1.9.1's legacy `mx.rnn` cells, `mx.rnn.io` and `mx.mod.BucketingModule` for tests/test_legacy_rnn.py
and tests/test_bucketing_module.py (run with the oracle's python):

    /work/mxvenv/bin/python reference/legacy_rnn_fixtures.py

(with oneDNN left on: MXNet 1.9.1's non-oneDNN CPU RNN op fails its own input count check, which FusedRNNCell needs.)

Writes tests/fixtures/mxnet-1.9.1/legacy_rnn/; see the README there. The case table, `build(mx, case)`, `sym_gen`
and the batches below are also what the tests run (they load this file with `mx` = dataflow), so both sides
build the same graphs. Nothing here imports mxnet outside `main()`.
"""
import json
import os
import random
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mxnet-1.9.1",
                   "legacy_rnn")

N, T, C, H = 2, 3, 3, 4         # batch, steps, input features, hidden units

# name -> (cell kind, layout, merge_outputs, begin states as variables, random in training)
CASES = {
    "rnn_tanh_list": ("rnn_tanh", "NTC", False, False, False),
    "rnn_relu_tnc_merged": ("rnn_relu", "TNC", True, False, False),
    "lstm_merged": ("lstm", "NTC", True, False, False),
    "lstm_state_variables": ("lstm", "NTC", None, True, False),
    "gru_tnc": ("gru", "TNC", None, False, False),
    "sequential_lstm_gru": ("sequential", "NTC", True, False, False),
    "bidirectional_merged": ("bidirectional", "NTC", True, False, False),
    "bidirectional_list_tnc": ("bidirectional", "TNC", False, True, False),
    "residual_gru": ("residual", "NTC", True, False, False),
    "residual_steps": ("residual", "TNC", False, False, False),
    "zoneout_lstm": ("zoneout", "NTC", False, False, True),
    "dropout_stack": ("dropout_stack", "NTC", True, False, True),
    "fused_lstm_2l_bi": ("fused_lstm", "TNC", True, True, False),
    "fused_gru_ntc": ("fused_gru", "NTC", True, False, False),
    "unfused_lstm_2l_bi": ("unfused_lstm", "TNC", True, True, False),
    "unfused_rnn_relu_dropout": ("unfused_rnn_relu", "NTC", True, False, True),
    "conv_rnn_tanh": ("conv_rnn", "NTC", True, False, False),
    "conv_lstm_states": ("conv_lstm", "NTC", False, True, False),
    "conv_gru_tnc": ("conv_gru", "TNC", True, False, False),
}
CONV_SAMPLE = (2, 4, 4)         # one step's input of the convolutional cells: channels, height, width
FUSED = {"fused_lstm_2l_bi", "fused_gru_ntc"}       # need the RNN op


def make_cell(mx, kind):
    """The cell of a case kind."""
    rnn = mx.rnn
    if kind == "rnn_tanh":
        return rnn.RNNCell(H, prefix="rnn_")
    if kind == "rnn_relu":
        return rnn.RNNCell(H, activation="relu", prefix="relu_")
    if kind == "lstm":
        return rnn.LSTMCell(H, prefix="lstm_")
    if kind == "gru":
        return rnn.GRUCell(H, prefix="gru_")
    if kind == "sequential":
        stack = rnn.SequentialRNNCell()
        stack.add(rnn.LSTMCell(H, prefix="l0_"))
        stack.add(rnn.GRUCell(H, prefix="l1_"))
        return stack
    if kind == "bidirectional":
        return rnn.BidirectionalCell(rnn.LSTMCell(H, prefix="fwd_"), rnn.GRUCell(H, prefix="bwd_"))
    if kind == "residual":
        return rnn.ResidualCell(rnn.GRUCell(C, prefix="res_"))
    if kind == "zoneout":
        return rnn.ZoneoutCell(rnn.LSTMCell(H, prefix="zo_"), zoneout_outputs=0.3, zoneout_states=0.2)
    if kind == "dropout_stack":
        stack = rnn.SequentialRNNCell()
        stack.add(rnn.LSTMCell(H, prefix="d0_"))
        stack.add(rnn.DropoutCell(0.5, prefix="drop_"))
        stack.add(rnn.RNNCell(H, prefix="d1_"))
        return stack
    if kind in ("fused_lstm", "unfused_lstm"):
        cell = rnn.FusedRNNCell(H, num_layers=2, mode="lstm", bidirectional=True, get_next_state=True,
                                prefix="flstm_")
        return cell if kind == "fused_lstm" else cell.unfuse()
    if kind == "fused_gru":
        return rnn.FusedRNNCell(H, num_layers=1, mode="gru", prefix="fgru_")
    if kind.startswith("conv_"):
        cls = {"conv_rnn": rnn.ConvRNNCell, "conv_lstm": rnn.ConvLSTMCell, "conv_gru": rnn.ConvGRUCell}[kind]
        extra = {"activation": "tanh"} if kind == "conv_rnn" else {}
        return cls((N,) + CONV_SAMPLE, 3, h2h_kernel=(3, 1), i2h_kernel=(3, 3), i2h_pad=(1, 1),
                   prefix=kind + "_", **extra)
    if kind == "unfused_rnn_relu":
        return rnn.FusedRNNCell(H, num_layers=2, mode="rnn_relu", dropout=0.5, prefix="frelu_").unfuse()
    raise ValueError(kind)


def _flatten(states):
    flat = []
    for s in states:
        flat.extend(_flatten(s) if isinstance(s, list) else [s])
    return flat


def build(mx, name):
    """(grouped symbol of outputs then states, the data shape) for a case, under a fresh NameManager."""
    kind, layout, merge, state_vars, _ = CASES[name]
    with mx.name.NameManager():
        cell = make_cell(mx, kind)
        data = mx.sym.Variable("data")
        begin = cell.begin_state(func=mx.sym.Variable) if state_vars else None
        outputs, states = cell.unroll(T, data, begin_state=begin, layout=layout, merge_outputs=merge)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        group = mx.sym.Group(outputs + _flatten(states))
    sample = CONV_SAMPLE if kind.startswith("conv_") else (C,)
    shape = (N, T) + sample if layout == "NTC" else (T, N) + sample
    return cell, group, shape


def input_shapes(mx, name, group, data_shape):
    """Shapes of every argument: data given, begin states (batch 0 in state_info) filled with N."""
    shapes = {"data": data_shape}
    for arg in group.list_arguments():
        if "begin_state" in arg:
            text = group.attr_dict()[arg]["__shape__"]
            shape = [int(s) for s in text.strip("()").split(",") if s.strip()]
            shapes[arg] = tuple(N if s == 0 else s for s in shape)
    return shapes


def arguments(group, shapes, seed):
    """Random values for every argument, from the inferred shapes."""
    arg_shapes, _, _ = group.infer_shape(**shapes)
    rng = np.random.RandomState(seed)
    return {n: (rng.standard_normal(s) * 0.5).astype(np.float32)
            for n, s in zip(group.list_arguments(), arg_shapes)}


# ---- BucketingModule -----------------------------------------------------------------------------------------------
VOCAB, EMBED, BATCH, BUCKETS = 7, 4, 3, (3, 5)


def sym_gen(mx, seq_len):
    """An LSTM language model over `seq_len` steps: Embedding -> LSTMCell -> FullyConnected -> SoftmaxOutput."""
    data = mx.sym.Variable("data")
    label = mx.sym.Variable("softmax_label")
    embed = mx.sym.Embedding(data=data, input_dim=VOCAB, output_dim=EMBED, name="embed")
    cell = mx.rnn.LSTMCell(H, prefix="lstm_")
    outputs, _ = cell.unroll(seq_len, inputs=embed, merge_outputs=True)
    pred = mx.sym.FullyConnected(data=mx.sym.Reshape(outputs, shape=(-1, H)), num_hidden=VOCAB, name="pred")
    label = mx.sym.Reshape(label, shape=(-1,))
    return mx.sym.SoftmaxOutput(data=pred, label=label, name="softmax"), ("data",), ("softmax_label",)


def initial_params():
    rng = np.random.RandomState(7)
    shapes = {"embed_weight": (VOCAB, EMBED), "lstm_i2h_weight": (4 * H, EMBED), "lstm_i2h_bias": (4 * H,),
              "lstm_h2h_weight": (4 * H, H), "lstm_h2h_bias": (4 * H,), "pred_weight": (VOCAB, H),
              "pred_bias": (VOCAB,)}
    return {n: (rng.standard_normal(s) * 0.3).astype(np.float32) for n, s in sorted(shapes.items())}


def batches():
    """(bucket key, data, label) for a fixed sequence of batches over both buckets."""
    rng = np.random.RandomState(11)
    out = []
    for key in (5, 3, 3, 5, 3):
        tokens = rng.randint(0, VOCAB, size=(BATCH, key + 1)).astype(np.float32)
        out.append((key, tokens[:, :-1], tokens[:, 1:]))
    return out


def data_batch(mx, key, data, label):
    return mx.io.DataBatch([mx.nd.array(data)], [mx.nd.array(label)], pad=0, bucket_key=key,
                           provide_data=[mx.io.DataDesc("data", data.shape)],
                           provide_label=[mx.io.DataDesc("softmax_label", label.shape)])


def make_fixed_iter(mx):
    """A DataIter yielding `batches()` in order (for `fit`)."""
    class FixedBucketIter(mx.io.DataIter):
        def __init__(self):
            super().__init__(BATCH)
            self.items = batches()
            self.pos = 0
            self.default_bucket_key = max(BUCKETS)
            self.provide_data = [mx.io.DataDesc("data", (BATCH, self.default_bucket_key))]
            self.provide_label = [mx.io.DataDesc("softmax_label", (BATCH, self.default_bucket_key))]

        def reset(self):
            self.pos = 0

        def next(self):
            if self.pos == len(self.items):
                raise StopIteration
            self.pos += 1
            return data_batch(mx, *self.items[self.pos - 1])
    return FixedBucketIter()


def bucketing_module(mx):
    return mx.mod.BucketingModule(lambda key: sym_gen(mx, key), default_bucket_key=max(BUCKETS),
                                  context=mx.cpu())


def train_steps(mx, mod):
    """Bind, set the initial parameters, SGD with momentum over `batches()`; the last batch's outputs."""
    mod.bind(data_shapes=[("data", (BATCH, max(BUCKETS)))], label_shapes=[("softmax_label", (BATCH, max(BUCKETS)))])
    mod.init_params(arg_params={k: mx.nd.array(v) for k, v in initial_params().items()})
    mod.init_optimizer(optimizer="sgd", optimizer_params=(("learning_rate", 0.5), ("momentum", 0.9)))
    for key, data, label in batches():
        mod.forward_backward(data_batch(mx, key, data, label))
        mod.update()
    return mod.get_outputs()[0].asnumpy()


# ---- mx.rnn.io -----------------------------------------------------------------------------------------------------
SENTENCES = [s.split() for s in """the cat sat on the mat
a dog ran
the dog sat
a cat ran to the dog
on the mat sat a cat
the end
dogs and cats and mats
it ran
a mat
the cat ran on a long mat today again""".splitlines()]


def encode_cases(mx):
    enc = mx.rnn.encode_sentences
    vocab = {"\n": -1, "the": 0, "cat": 1}
    return {
        "default": enc(SENTENCES),
        "start_label_1": enc(SENTENCES, start_label=1, invalid_label=0, invalid_key="<eos>"),
        "unknown_token": enc(SENTENCES[:2], vocab=dict(vocab), unknown_token="<unk>"),
    }


def iterate_sentences(mx, layout, buckets=None):
    """BucketSentenceIter over the encoded sentences, seeded; its buckets and batches in order."""
    coded, _ = mx.rnn.encode_sentences(SENTENCES, start_label=1, invalid_label=0)
    random.seed(3)
    np.random.seed(3)
    it = mx.rnn.BucketSentenceIter(coded, 2, buckets=buckets, invalid_label=0, layout=layout)
    out = {"buckets": list(it.buckets), "default_bucket_key": it.default_bucket_key,
           "provide_data": [list(it.provide_data[0].shape)], "batches": []}
    for batch in it:
        out["batches"].append({"key": batch.bucket_key, "data": batch.data[0].asnumpy().tolist(),
                               "label": batch.label[0].asnumpy().tolist(),
                               "provide_data": list(batch.provide_data[0].shape)})
    return out


def main():
    import mxnet as mx
    os.makedirs(OUT, exist_ok=True)
    summary = {}
    for name in CASES:
        cell, group, data_shape = build(mx, name)
        shapes = input_shapes(mx, name, group, data_shape)
        args = arguments(group, shapes, seed=sorted(CASES).index(name))
        record = {"graph": json.loads(group.tojson()), "arguments": group.list_arguments(),
                  "outputs": group.list_outputs()}
        try:
            exe = group.bind(mx.cpu(), {k: mx.nd.array(v) for k, v in args.items()},
                             args_grad={k: mx.nd.zeros(v.shape) for k, v in args.items()})
            # a random case's outputs are recorded in inference, the others in training mode (then backward)
            outs = [o.asnumpy() for o in exe.forward(is_train=not CASES[name][4])]
            arrays = {"arg:" + k: v for k, v in args.items()}
            arrays.update({"out%d" % i: o for i, o in enumerate(outs)})
            if not CASES[name][4]:
                rng = np.random.RandomState(100)
                heads = [rng.standard_normal(o.shape).astype(np.float32) for o in outs]
                # an output listed twice (the last step's output is also a state): MXNet 1.9.1 uses only the
                # last head gradient given for an entry, so the earlier ones are zero here
                names = group.list_outputs()
                for i, out_name in enumerate(names):
                    if out_name in names[i + 1:]:
                        heads[i][:] = 0
                exe.backward([mx.nd.array(h) for h in heads])
                arrays.update({"head%d" % i: h for i, h in enumerate(heads)})
                arrays.update({"grad:" + k: g.asnumpy() for k, g in exe.grad_dict.items()})
            if name == "fused_lstm_2l_bi" or name == "lstm_merged":
                unpacked = cell.unpack_weights({k: mx.nd.array(v) for k, v in args.items()})
                arrays.update({"unpacked:" + k: v.asnumpy() for k, v in unpacked.items()})
            np.savez_compressed(os.path.join(OUT, name + ".npz"), **arrays)
        except mx.base.MXNetError as error:
            print("no outputs for", name, str(error).splitlines()[0], file=sys.stderr)
            record["error"] = str(error).splitlines()[0]
        summary[name] = record

    summary["encode"] = {k: [v[0], v[1]] for k, v in encode_cases(mx).items()}
    summary["iter_nt"] = iterate_sentences(mx, "NT")
    summary["iter_tn_buckets"] = iterate_sentences(mx, "TN", buckets=[4, 6, 8])

    mod = bucketing_module(mx)
    last = train_steps(mx, mod)
    arg_params, _ = mod.get_params()
    trained = {"param:" + k: v.asnumpy() for k, v in arg_params.items()}
    trained["last_output"] = last
    fit_mod = bucketing_module(mx)
    fit_mod.fit(make_fixed_iter(mx), num_epoch=2, optimizer="sgd",
                optimizer_params=(("learning_rate", 0.5), ("momentum", 0.9)),
                arg_params={k: mx.nd.array(v) for k, v in initial_params().items()})
    trained.update({"fit:" + k: v.asnumpy() for k, v in fit_mod.get_params()[0].items()})
    np.savez_compressed(os.path.join(OUT, "bucketing.npz"), **trained)
    with mx.name.NameManager():     # save_checkpoint calls sym_gen under the current NameManager
        mod.save_checkpoint(os.path.join(OUT, "bucketing"), 1)

    with open(os.path.join(OUT, "cases.json"), "w") as fh:
        json.dump(summary, fh, separators=(",", ":"))


if __name__ == "__main__":
    main()
