"""`mx.gluon.utils`: splitting a batch over contexts, clipping gradients by their global norm, files and downloads.

`download` fetches with the standard library (http, https, file URLs). Without network access it fails with an
error naming the URL and the local path to put the file at, so a program can be run offline by placing the file
there first (an existing file whose SHA-1 matches is never downloaded again).
"""
import hashlib
import os
import uuid
import warnings
import weakref
from collections import OrderedDict

import numpy as np

from .. import ndarray
from ..util import is_np_shape

__all__ = ["split_data", "split_and_load", "clip_global_norm", "check_sha1", "download", "replace_file",
           "shape_is_known"]


def split_data(data, num_slice, batch_axis=0, even_split=True):
    """Split `data` into `num_slice` slices along `batch_axis` (the first ones one longer when uneven).

    Examples
    --------
    >>> import dataflow as mx
    >>> [s.shape for s in mx.gluon.utils.split_data(mx.nd.zeros((5, 2)), 2, even_split=False)]
    [(3, 2), (2, 2)]
    >>> mx.gluon.utils.split_data(mx.nd.zeros((5, 2)), 2)      # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: data with shape (5, 2) cannot be evenly split into 2 slices along axis 0. Use a batch size ...
    """
    size = data.shape[batch_axis]
    if even_split and size % num_slice != 0:
        raise ValueError("data with shape %s cannot be evenly split into %d slices along axis %d. Use a batch size "
                         "that's multiple of %d or set even_split=False to allow uneven partitioning of data."
                         % (str(data.shape), num_slice, batch_axis, num_slice))
    each, extras = divmod(size, num_slice)
    bounds = np.cumsum([0] + [each + 1] * extras + [each] * (num_slice - extras))
    if batch_axis == 0:
        return [data[int(bounds[i]):int(bounds[i + 1])] for i in range(num_slice)]
    return [ndarray.slice_axis(data, axis=batch_axis, begin=int(bounds[i]), end=int(bounds[i + 1]))
            for i in range(num_slice)]


def split_and_load(data, ctx_list, batch_axis=0, even_split=True):
    """Split `data` along `batch_axis` and put one slice on each context of `ctx_list`."""
    if not isinstance(data, ndarray.NDArray):
        data = ndarray.array(data, ctx=ctx_list[0])
    if len(ctx_list) == 1:
        return [data.as_in_context(ctx_list[0])]
    slices = split_data(data, len(ctx_list), batch_axis, even_split)
    return [s.as_in_context(ctx) for s, ctx in zip(slices, ctx_list)]


def clip_global_norm(arrays, max_norm, check_isfinite=True):
    """Rescale `arrays` in place so that their joint 2-norm is at most `max_norm`; returns the norm before.

    Examples
    --------
    >>> import dataflow as mx
    >>> a = mx.nd.array([3.0, 4.0])
    >>> float(mx.gluon.utils.clip_global_norm([a], 1.0))
    5.0
    >>> a.asnumpy().round(4)
    array([0.6, 0.8], dtype=float32)
    """
    assert len(arrays) > 0
    ctx = arrays[0].context
    squares = [ndarray.dot(a.reshape((-1,)), a.reshape((-1,))).as_in_context(ctx) for a in arrays]
    total_norm = ndarray.sqrt(ndarray.add_n(*squares))
    if check_isfinite and not np.isfinite(total_norm.asscalar()):
        warnings.warn(UserWarning("nan or inf is detected. Clipping results will be undefined."), stacklevel=2)
    scale = max_norm / (total_norm + 1e-8)
    scale = ndarray.min(ndarray.concat(scale, ndarray.ones(1, ctx=ctx), dim=0))
    for a in arrays:
        a *= scale.as_in_context(a.context)
    return total_norm.asscalar() if check_isfinite else total_norm


def _indent(text, spaces):
    """Indent every line of `text` but the first by `spaces` (for nested reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return "\n".join([lines[0]] + [" " * spaces + line for line in lines[1:]])


def check_sha1(filename, sha1_hash):
    """True when the file's SHA-1 is `sha1_hash` (a hex string)."""
    sha1 = hashlib.sha1()
    with open(filename, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha1.update(chunk)
    return sha1.hexdigest() == sha1_hash


def shape_is_known(shape):
    """True when no dimension of `shape` is unknown: 0 in MXNet 1.x's legacy shape semantics, -1 under NumPy shape
    semantics (`mx.util.is_np_shape()`), where `()` is a known (scalar) shape."""
    if shape is None:
        return False
    unknown = -1 if is_np_shape() else 0
    if len(shape) == 0:
        return unknown == -1
    for dim in shape:
        if dim == unknown:
            return False
        assert dim > unknown, "shape dimension size cannot be less than %d, while received %d" % (unknown, dim)
    return True


def replace_file(src, dst):
    """Move `src` onto `dst` atomically (replacing it); on failure remove `src` and raise OSError."""
    try:
        os.replace(src, dst)
    except OSError as error:
        try:
            os.remove(src)
        except OSError:
            pass
        raise OSError("Moving downloaded temp file - %s, to %s failed. Please retry the download." % (src, dst)) \
            from error


def download(url, path=None, overwrite=False, sha1_hash=None, retries=5, verify_ssl=True):
    """Download `url` to `path` (a file, or a directory to put it in; default: its name in the current
    directory) unless the file is there already (with the SHA-1 `sha1_hash`, when given). Returns the file name.

    A failed try is retried (`retries` tries in all); the last failure raises RuntimeError naming the URL and the
    absolute path to put the file at by hand. A downloaded file whose SHA-1 differs from `sha1_hash` counts as a
    failure (UserWarning, as MXNet raises).

    Examples
    --------
    >>> import os, tempfile, dataflow as mx
    >>> folder = tempfile.mkdtemp()
    >>> source = os.path.join(folder, 'a.txt')
    >>> _ = open(source, 'w').write('hello')
    >>> got = mx.gluon.utils.download('file://' + source, path=os.path.join(folder, 'b.txt'))  # doctest: +ELLIPSIS
    Downloading .../b.txt from file://.../a.txt...
    >>> open(got).read()
    'hello'
    """
    if path is None:
        fname = url.split("/")[-1]
        assert fname, "Can't construct file-name from this URL. Please set the `path` option manually."
    else:
        path = os.path.expanduser(path)
        fname = os.path.join(path, url.split("/")[-1]) if os.path.isdir(path) else path
    assert retries >= 0, "Number of retries should be at least 0, currently it's {}".format(retries)
    if not verify_ssl:
        warnings.warn("Unverified HTTPS request is being made (verify_ssl=False). Adding certificate verification "
                      "is strongly advised.", stacklevel=2)
    if not overwrite and os.path.exists(fname) and (not sha1_hash or check_sha1(fname, sha1_hash)):
        return fname
    os.makedirs(os.path.dirname(os.path.abspath(fname)), exist_ok=True)
    while True:
        try:
            print("Downloading {} from {}...".format(fname, url))
            _fetch(url, fname, sha1_hash, verify_ssl, overwrite)
            return fname
        except Exception as error:  # noqa: BLE001 - any failure is retried; the last one is explained
            retries -= 1
            if retries <= 0:
                if isinstance(error, UserWarning):
                    raise
                raise RuntimeError("Failed downloading url %s (%s: %s). Without network access, download the file "
                                   "elsewhere and put it at %s%s" % (url, type(error).__name__, error,
                                                                     os.path.abspath(fname),
                                                                     " (SHA-1 %s)" % sha1_hash if sha1_hash else ""))\
                    from error
            print("download failed due to {}, retrying, {} attempt{} left".format(
                repr(error), retries, "s" if retries > 1 else ""))


def _fetch(url, fname, sha1_hash, verify_ssl, overwrite):
    """One download try: into a temporary file next to `fname`, then moved onto it. (MXNet 1.9.1 keeps an
    existing file even with `overwrite`, against its documentation; here `overwrite` replaces it.)"""
    import ssl                      # imported here: ssl and urllib.request take ~30 ms to import (cold start)
    import urllib.request
    context = None if verify_ssl else ssl._create_unverified_context()     # noqa: S323 - the caller asked
    temp = "{}.{}".format(fname, uuid.uuid4())
    try:
        with urllib.request.urlopen(url, timeout=60, context=context) as response, open(temp, "wb") as out:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
    if overwrite or not os.path.exists(fname) or (sha1_hash and not check_sha1(fname, sha1_hash)):
        replace_file(temp, fname)
    else:           # another process put a good file there meanwhile
        os.remove(temp)
        warnings.warn("File {} exists in file system so the downloaded file is deleted".format(fname), stacklevel=3)
    if sha1_hash and not check_sha1(fname, sha1_hash):
        raise UserWarning("File {} is downloaded but the content hash does not match. The repo may be outdated or "
                          "download may be incomplete. If the \"repo_url\" is overridden, consider switching to the "
                          "default repo.".format(fname))


def _get_repo_url():
    """The base URL of the Gluon dataset and model repository: $MXNET_GLUON_REPO or MXNet's default, ending in
    '/'."""
    repo_url = os.environ.get("MXNET_GLUON_REPO", "https://apache-mxnet.s3-accelerate.dualstack.amazonaws.com/")
    return repo_url if repo_url.endswith("/") else repo_url + "/"


def _get_repo_file_url(namespace, filename):
    """The URL of `filename` under `namespace` in the Gluon repository."""
    return "{}{}/{}".format(_get_repo_url(), namespace, filename)


def _brief_print_list(lst, limit=7):
    """`'a', 'b', ..., 'z'`: the items quoted, at most about `limit` of them (the first and last ones)."""
    lst = list(lst)
    if len(lst) > limit:
        return _brief_print_list(lst[:limit // 2], limit) + ", ..., " + _brief_print_list(lst[-limit // 2:], limit)
    return ", ".join("'%s'" % str(item) for item in lst)


class HookHandle:
    """A handle that attaches a hook to a dict of hooks and detaches it (`with handle:` detaches on exit)."""

    def __init__(self):
        self._hooks_dict_ref = None
        self._id = None

    def attach(self, hooks_dict, hook):
        assert not self._hooks_dict_ref, "The same handle cannot be attached twice."
        self._id = id(hook)
        hooks_dict[self._id] = hook
        self._hooks_dict_ref = weakref.ref(hooks_dict)

    def detach(self):
        hooks_dict = self._hooks_dict_ref() if self._hooks_dict_ref is not None else None
        if hooks_dict is not None and self._id in hooks_dict:
            del hooks_dict[self._id]

    def __getstate__(self):
        return (self._hooks_dict_ref() if self._hooks_dict_ref is not None else None, self._id)

    def __setstate__(self, state):
        hooks = state[0] if state[0] is not None else OrderedDict()
        self._hooks_dict_ref = weakref.ref(hooks)
        self._id = state[1]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.detach()
