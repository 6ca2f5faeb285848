"""`mx.model`: checkpoints in MXNet's files, and the record that batch callbacks receive.

A checkpoint is two files: `prefix-symbol.json` (the Symbol as MXNet's JSON) and `prefix-%04d.params` (an
`nd.save` dict whose keys are `arg:NAME` for arguments and `aux:NAME` for auxiliary states). Real MXNet reads
ours and we read its (and gluon's `export`, which writes the same layout).

Examples
--------
>>> import os, tempfile, dataflow as mx
>>> net = mx.sym.FullyConnected(mx.sym.var('data'), num_hidden=2, name='fc')
>>> prefix = os.path.join(tempfile.mkdtemp(), 'net')
>>> mx.model.save_checkpoint(prefix, 3, net, {'fc_weight': mx.nd.ones((2, 4)), 'fc_bias': mx.nd.zeros(2)}, {})
>>> sorted(os.listdir(os.path.dirname(prefix)))
['net-0003.params', 'net-symbol.json']
>>> sym, args, aux = mx.model.load_checkpoint(prefix, 3)
>>> sym.list_arguments(), sorted(args), aux
(['data', 'fc_weight', 'fc_bias'], ['fc_bias', 'fc_weight'], {})
"""
import logging
from collections import namedtuple

from . import symbol as sym
from .context import cpu
from .ndarray import serialization
from .util import finish_pending_save, write_files

__all__ = ["BatchEndParam", "load_checkpoint", "load_params", "save_checkpoint"]

# what `batch_end_callback`s receive (MXNet's names, the typename included)
BatchEndParam = namedtuple("BatchEndParams", ["epoch", "nbatch", "eval_metric", "locals"])


def save_checkpoint(prefix, epoch, symbol, arg_params, aux_params, remove_amp_cast=True):
    """Write `prefix-symbol.json` (unless `symbol` is None) and `prefix-%04d.params` with `arg:`/`aux:` keys,
    committed together: after a crash `load_checkpoint` sees both old or both new files (Note [saving files] in
    dataflow/util.py); a failure raises `dataflow.util.SaveError` and leaves the old files.

    `remove_amp_cast` is accepted for MXNet's signature; dataflow has no AMP cast nodes to remove."""
    files = checkpoint_files(prefix, epoch, symbol, arg_params, aux_params)
    write_files(files)
    logging.info('Saved checkpoint to "%s"', files[-1][0])


def checkpoint_files(prefix, epoch, symbol, arg_params, aux_params):
    """[(path, bytes)] of a checkpoint: the symbol's JSON first (unless `symbol` is None), then the params."""
    files = [] if symbol is None else [("%s-symbol.json" % prefix, symbol.tojson().encode("utf-8"))]
    save_dict = {"arg:%s" % k: v.as_in_context(cpu()) for k, v in arg_params.items()}
    save_dict.update({"aux:%s" % k: v.as_in_context(cpu()) for k, v in aux_params.items()})
    files.append(("%s-%04d.params" % (prefix, epoch), serialization.to_bytes(save_dict)))
    return files


def split_params(save_dict, source):
    """(arg_params, aux_params) from a dict with `arg:`/`aux:` keys; other keys are an error naming `source`."""
    arg_params, aux_params = {}, {}
    for key, value in save_dict.items():
        kind, _, name = key.partition(":")
        if kind == "arg" and name:
            arg_params[name] = value
        elif kind == "aux" and name:
            aux_params[name] = value
        else:
            raise serialization.FormatError("Invalid param file %s: key %r is neither 'arg:NAME' nor 'aux:NAME'"
                                            % (source, key))
    return arg_params, aux_params


def load_params(prefix, epoch):
    """(arg_params, aux_params) from `prefix-%04d.params`."""
    fname = "%s-%04d.params" % (prefix, epoch)
    save_dict = serialization.load(fname)
    if not save_dict:
        logging.warning("Params file '%s' is empty", fname)
        return {}, {}
    if not isinstance(save_dict, dict):
        raise serialization.FormatError("Invalid param file %s: it holds a list of arrays, not a dict with arg:/aux: "
                                        "keys" % fname)
    return split_params(save_dict, fname)


def load_checkpoint(prefix, epoch):
    """(symbol, arg_params, aux_params) from `prefix-symbol.json` and `prefix-%04d.params` (first finishing a
    checkpoint save that a crash interrupted after its commit point)."""
    finish_pending_save("%s-symbol.json" % prefix)
    symbol = sym.load("%s-symbol.json" % prefix)
    arg_params, aux_params = load_params(prefix, epoch)
    return symbol, arg_params, aux_params
