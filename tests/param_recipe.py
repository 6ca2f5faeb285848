"""The deterministic parameter recipe of the model fixtures (tests/fixtures/mxnet-1.9.1/{model_zoo,gluoncv}/README.md)
and the byte-stable writers of their fixture scripts. Imports nothing but numpy and the standard library: the
fixture scripts, which run under MXNet's own python, import it too (with the tests folder on sys.path)."""
import gzip
import hashlib
import io
import json
import zipfile

import numpy as np


def deterministic_value(name, shape, rng, grad_req):
    """A gamma that is not learned (grad_req 'null') is 1 (MXNet's BatchNorm forward writes 1 into it); running
    variances and gammas uniform in [0.5, 1.5]; weights of 2 or more axes uniform with variance 1/fan_in;
    everything else (biases, betas, running means) uniform in [-0.1, 0.1]."""
    if name.endswith("gamma") and grad_req == "null":
        return np.ones(shape, np.float32)
    if name.endswith("running_var") or name.endswith("gamma"):
        return rng.uniform(0.5, 1.5, shape).astype(np.float32)
    if name.endswith("weight") and len(shape) > 1:
        fan_in = int(np.prod(shape[1:]))
        return (rng.uniform(-1, 1, shape) * np.sqrt(3.0 / fan_in)).astype(np.float32)
    return rng.uniform(-0.1, 0.1, shape).astype(np.float32)


def set_recipe_params(net):
    """Give an initialised net the recipe's values, drawn per parameter in sorted-name order from RandomState(0)."""
    rng = np.random.RandomState(0)
    params = net.collect_params()
    for pname in sorted(params.keys()):
        params[pname].set_data(deterministic_value(pname, params[pname].shape, rng, params[pname].grad_req))


def recipe_input(shape):
    """The fixtures' input: uniform in [-1, 1] from RandomState(1)."""
    return np.random.RandomState(1).uniform(-1, 1, shape).astype(np.float32)


def sha256(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def write_npz(path, arrays):
    """np.savez with a fixed timestamp, so a rerun writes the same bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.save(buf, arrays[key])
            info = zipfile.ZipInfo(key + ".npy", date_time=(2026, 12, 6, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buf.getvalue())


def write_json_gz(path, obj):
    """Sorted, compact JSON, gzipped without a timestamp or file name, so a rerun writes the same bytes."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
        fh.write(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())


def read_json_gz(path):
    with gzip.open(path) as fh:
        return json.load(fh)
