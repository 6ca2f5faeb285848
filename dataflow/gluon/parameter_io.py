"""Saving and loading a ParameterDict (`ParameterDict.save`, `load`, `load_dict`): MXNet's file layout (a dict of
arrays under the parameters' names, NDArray's own file format) and its messages for missing, extra or
incompatible arrays."""
from ops.errors import MXNetError

from .. import ndarray as nd


class ParameterLoadError(MXNetError, AssertionError):
    """Loading parameters failed: a missing, extra or incompatible array. An AssertionError as MXNet's, so that code
    written for MXNet catches it, and an MXNetError like every error a file can cause."""


def save(params, filename, strip_prefix=""):
    """Write the parameters of the ParameterDict `params` (each averaged over its contexts; a row_sparse one with all
    its rows, as a row_sparse record) under their names minus `strip_prefix`."""
    arrays = {}
    for param in params.values():
        if not param.name.startswith(strip_prefix):
            raise ValueError("Prefix '%s' is to be striped before saving, but Parameter's name '%s' does not "
                             "start with '%s'. this may be due to your Block shares parameters from other "
                             "Blocks or you forgot to use 'with name_scope()' when creating child blocks."
                             % (strip_prefix, param.name, strip_prefix))
        arrays[param.name[len(strip_prefix):]] = param._reduce()
    nd.save(filename, arrays)


def check_prefix(params, restore_prefix):
    for name in params.keys():
        if restore_prefix and not name.startswith(restore_prefix):
            raise ParameterLoadError("restore_prefix is '%s' but Parameters name '%s' does not start with '%s'."
                                     % (restore_prefix, name, restore_prefix))


def load_dict(params, param_dict, ctx=None, allow_missing=False, ignore_extra=False, restore_prefix="",
              filename=None, cast_dtype=False, dtype_source="current"):
    """Load the arrays of `param_dict` (a dict or pairs; keys may carry `arg:`/`aux:`) into the ParameterDict
    `params`."""
    where = "file: %s" % filename if filename else "param_dict"
    pairs = param_dict.items() if isinstance(param_dict, dict) else param_dict
    loaded = {restore_prefix + (k[4:] if k.startswith(("arg:", "aux:")) else k): v for k, v in pairs}
    if not allow_missing:
        for name in params.keys():
            if name not in loaded:
                raise ParameterLoadError("Parameter '%s' is missing in %s, which contains parameters: %s. Please "
                                         "make sure source and target networks have the same prefix."
                                         % (name[len(restore_prefix):], where, _brief(loaded.keys())))
    for name, value in loaded.items():
        if name not in params:
            if not ignore_extra:
                raise ParameterLoadError("Parameter '%s' loaded from %s is not present in ParameterDict, choices "
                                         "are: %s. Set ignore_extra to True to ignore. Please make sure source and "
                                         "target networks have the same prefix."
                                         % (name[len(restore_prefix):], where, _brief(params.keys())))
            continue
        params[name]._load_init(value, ctx, cast_dtype=cast_dtype, dtype_source=dtype_source)


def _brief(names, limit=3):
    names = list(names)
    shown = ", ".join("'%s'" % n for n in names[:limit])
    return shown + (", ..., '%s'" % names[-1] if len(names) > limit else "")
