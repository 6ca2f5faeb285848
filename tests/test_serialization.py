"""`mx.nd.save` / `mx.nd.load`: MXNet's NDArray file format, checked against files written by real MXNet 1.9.1.

The fixtures are `mx.nd.save` output of MXNet 1.9.1 (see the fixtures README). The hex strings below are also
MXNet 1.9.1 output (or, for the older record formats, hand-made files that MXNet 1.9.1 loads to the values given).
"""
import hashlib
import json
import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dataflow as mx
from dataflow.ndarray.serialization import FormatError
from ops import registry
from ops.errors import MXNetError
from scheduler.engine import EngineError, get_engine
from tests.paths import FIXTURES

NDDIR = os.path.join(FIXTURES, "ndarray")

if not os.path.isdir(NDDIR):
    pytest.skip("MXNet fixtures not found at %s" % FIXTURES, allow_module_level=True)

with open(os.path.join(NDDIR, "manifest.json")) as _fh:
    MANIFEST = json.load(_fh)
EXPECTED = dict(np.load(os.path.join(NDDIR, "expected.npz")))
ND_FILES = ["list.params", "dict.params", "single.params", "empty_list.params", "empty_dict.params"]
MODEL_FILES = ["mlp/mlp-0000.params", "cnn/cnn-0000.params", "cnn/cnn-init.params"]

ALL_DTYPES = ["float32", "float64", "float16", "uint8", "int32", "int8", "int64", "bool", "int16", "uint16",
              "uint32", "uint64"]


def _read(path):
    with open(path, "rb") as fh:
        return fh.read()


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _model_sha():
    shas = {}
    with open(os.path.join(FIXTURES, "MANIFEST.sha256")) as fh:
        for line in fh:
            digest, name = line.split()
            shas[name] = digest
    return shas


def _dumps(tmp_path, data, name="x.params"):
    path = tmp_path / name
    mx.nd.save(str(path), data)
    return path.read_bytes()


def _same(a, b):
    """Exact equality of values, dtype and shape (NaN-safe, -0.0-safe: compares bytes)."""
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.tobytes() == b.tobytes()


# ---------------------------------------------------------------------------------------------------------------
# Fixtures written by MXNet 1.9.1
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ND_FILES)
def test_fixture_loads_to_expected(name):
    info = MANIFEST[name]
    loaded = mx.nd.load(os.path.join(NDDIR, name))
    assert type(loaded).__name__ == info["nd_load_returns"]
    if isinstance(loaded, dict):
        assert list(loaded) == info["order"]
        values = list(loaded.values())
    else:
        values = loaded
    assert len(values) == len(info["order"])
    for key, arr in zip(info["order"], values):
        ref_name = info.get("arrays_same_as", key)
        ref = EXPECTED[ref_name]
        assert isinstance(arr, mx.nd.NDArray)
        assert np.dtype(arr.dtype).name == MANIFEST["arrays"][ref_name]["dtype"]
        assert list(arr.shape) == MANIFEST["arrays"][ref_name]["shape"]
        assert arr.context == mx.cpu(0)
        _same(arr.asnumpy(), ref)


@pytest.mark.parametrize("name", ND_FILES)
def test_fixture_resaves_byte_for_byte(tmp_path, name):
    path = os.path.join(NDDIR, name)
    raw = _read(path)
    assert _sha(raw) == MANIFEST[name]["sha256"] and len(raw) == MANIFEST[name]["size"]
    out = _dumps(tmp_path, mx.nd.load(path))
    assert _sha(out) == MANIFEST[name]["sha256"]
    assert _sha(_dumps(tmp_path, mx.nd.load_frombuffer(raw))) == MANIFEST[name]["sha256"]


def test_saving_the_expected_arrays_reproduces_the_fixtures(tmp_path):
    order = MANIFEST["list.params"]["order"]
    arrays = [mx.nd.array(EXPECTED[k], dtype=EXPECTED[k].dtype) for k in order]
    assert _sha(_dumps(tmp_path, arrays)) == MANIFEST["list.params"]["sha256"]
    assert _sha(_dumps(tmp_path, dict(zip(order, arrays)))) == MANIFEST["dict.params"]["sha256"]
    assert _sha(_dumps(tmp_path, {"w": arrays[0]})) == MANIFEST["single.params"]["sha256"]


def test_empty_list_and_dict_write_the_same_32_bytes(tmp_path):
    empty = _read(os.path.join(NDDIR, "empty_list.params"))
    assert len(empty) == 32
    assert _dumps(tmp_path, [], "a") == empty
    assert _dumps(tmp_path, {}, "b") == empty
    assert mx.nd.load(str(tmp_path / "a")) == [] and mx.nd.load(str(tmp_path / "b")) == []


@pytest.mark.parametrize("name", MODEL_FILES)
def test_model_params_load_and_round_trip(tmp_path, name):
    path = os.path.join(FIXTURES, name)
    raw = _read(path)
    assert _sha(raw) == _model_sha()[name]
    params = mx.nd.load(path)
    assert isinstance(params, dict) and params
    assert all(k.startswith(("arg:", "aux:")) for k in params)
    assert any(k.startswith("arg:") and k.endswith("_weight") for k in params)
    if name.startswith("cnn"):
        assert any(k.startswith("aux:") and k.endswith("running_var") for k in params)
    assert all(v.dtype == np.float32 for v in params.values())
    assert _dumps(tmp_path, params) == raw


def test_mlp_params_shapes():
    params = mx.nd.load(os.path.join(FIXTURES, "mlp", "mlp-0000.params"))
    shapes = sorted(v.shape for v in params.values())
    assert shapes == sorted([(256, 512), (256,), (128, 256), (128,), (2, 128), (2,)])


# ---------------------------------------------------------------------------------------------------------------
# Facts checked on MXNet 1.9.1 (its output, as hex)
# ---------------------------------------------------------------------------------------------------------------

HDR1 = "120100000000000000000000000000000100000000000000"     # magic 0x112, reserved 0, one array
ORACLE = {
    # nd.save(f, [nd.array(5.0)]): a 0-d array is written with ndim 0 and one element (MXNet cannot load it back)
    "zero_d": HDR1 + "c9fa93f900000000000000000100000000000000000000000000a0400000000000000000",
    # nd.save(f, [nd.array(np.zeros((0, 3)))]): a 0-size array has its full header, then no data
    "zero_size": HDR1 + "c9fa93f90000000002000000000000000000000003000000000000000100000000000000000000000000000000"
                        "000000",
    # the context is the array's own: cpu(1), cpu_pinned(0)
    "cpu1": HDR1 + "c9fa93f9000000000100000002000000000000000100000001000000000000000000803f0000803f00000000000000"
                   "00",
    "pinned": HDR1 + "c9fa93f9000000000100000002000000000000000300000000000000000000000000803f0000803f0000000000000"
                     "000",
    "bool": HDR1 + "c9fa93f9000000000100000003000000000000000100000000000000070000000100010000000000000000",
    "float16": HDR1 + "c9fa93f900000000010000000300000000000000010000000000000002000000003c000000420000000000000000",
    "unicode_key": HDR1 + "c9fa93f9000000000100000001000000000000000100000000000000000000000000803f01000000000000000f"
                          "00000000000000d0bad0bbd18ed1875fc3a9f09f9982",
}


def test_oracle_bytes(tmp_path):
    assert _dumps(tmp_path, [mx.nd.array(5.0)]).hex() == ORACLE["zero_d"]
    assert _dumps(tmp_path, [mx.nd.array(np.zeros((0, 3)))]).hex() == ORACLE["zero_size"]
    assert _dumps(tmp_path, [mx.nd.ones((2,), ctx=mx.cpu(1))]).hex() == ORACLE["cpu1"]
    assert _dumps(tmp_path, [mx.nd.ones((2,), ctx=mx.cpu_pinned(0))]).hex() == ORACLE["pinned"]
    assert _dumps(tmp_path, [mx.nd.array([1, 0, 3], dtype="bool")]).hex() == ORACLE["bool"]
    assert _dumps(tmp_path, [mx.nd.array([1, 0, 3], dtype="float16")]).hex() == ORACLE["float16"]
    assert _dumps(tmp_path, {"ключ_é🙂": mx.nd.ones((1,))}).hex() == ORACLE["unicode_key"]


def test_oracle_files_load():
    (x,) = mx.nd.load_frombuffer(bytes.fromhex(ORACLE["zero_d"]))
    assert x.shape == () and x.asnumpy()[()] == 5.0
    (x,) = mx.nd.load_frombuffer(bytes.fromhex(ORACLE["zero_size"]))
    assert x.shape == (0, 3) and x.dtype == np.float32
    for key in ("cpu1", "pinned"):
        (x,) = mx.nd.load_frombuffer(bytes.fromhex(ORACLE[key]))
        assert x.context == mx.cpu(0)          # MXNet loads arrays saved on any CPU context onto cpu(0)
        _same(x.asnumpy(), np.ones(2, np.float32))
    (x,) = mx.nd.load_frombuffer(bytes.fromhex(ORACLE["bool"]))
    _same(x.asnumpy(), np.array([True, False, True]))
    odd = bytearray(bytes.fromhex(ORACLE["bool"]))
    odd[-11] = 2                                   # the first bool byte (before the u64 key count): 2
    odd = bytes(odd)
    (x,) = mx.nd.load_frombuffer(odd)
    _same(x.asnumpy(), np.array([True, False, True]))
    assert mx.nd.load_frombuffer(bytes.fromhex(ORACLE["unicode_key"]))["ключ_é🙂"].shape == (1,)


def test_dtype_codes_match_design_and_registry():
    assert list(registry.DTYPES) == ALL_DTYPES
    for code, name in enumerate(ALL_DTYPES):
        raw = _bytes_of([mx.nd.zeros((1,), dtype=name)])
        assert struct.unpack_from("<i", raw, 24 + 4 + 4 + 4 + 8 + 8)[0] == code


def _bytes_of(data):
    from dataflow.ndarray.serialization import _dumps as dumps
    return dumps(data)


# ---------------------------------------------------------------------------------------------------------------
# Older record formats (hand-made; MXNet 1.9.1 loads each to [[1.5, 2.5, 3.5], [4.5, 5.5, 6.5]])
# ---------------------------------------------------------------------------------------------------------------

_HDR = struct.pack("<QQ", 0x112, 0)
_VALS = np.array([[1.5, 2.5, 3.5], [4.5, 5.5, 6.5]], np.float32)
_CPU_F32 = struct.pack("<iii", 1, 0, 0)
V2_REC = struct.pack("<Iii2q", 0xF993FAC9, 0, 2, 2, 3) + _CPU_F32 + _VALS.tobytes()
V3_REC = struct.pack("<Iii2q", 0xF993FACA, 0, 2, 2, 3) + _CPU_F32 + _VALS.tobytes()
V1_REC = struct.pack("<Ii2q", 0xF993FAC8, 2, 2, 3) + _CPU_F32 + _VALS.tobytes()
LEGACY_REC = struct.pack("<3I", 2, 2, 3) + _CPU_F32 + _VALS.tobytes()


def _file(records, keys=()):
    out = _HDR + struct.pack("<Q", len(records)) + b"".join(records) + struct.pack("<Q", len(keys))
    for k in keys:
        out += struct.pack("<Q", len(k)) + k
    return out


@pytest.mark.parametrize("rec", [V2_REC, V3_REC, V1_REC, LEGACY_REC], ids=["v2", "v3", "v1", "legacy"])
def test_older_record_formats(rec):
    (x,) = mx.nd.load_frombuffer(_file([rec]))
    _same(x.asnumpy(), _VALS)
    both = mx.nd.load_frombuffer(_file([rec, V2_REC], [b"a", b"b"]))
    assert list(both) == ["a", "b"]
    _same(both["a"].asnumpy(), _VALS)


def test_older_formats_zero_d_and_zero_size():
    scalar = struct.pack("<iii", 1, 0, 0) + struct.pack("<f", 7.0)
    for rec in (struct.pack("<Ii", 0xF993FAC8, 0) + scalar, struct.pack("<I", 0) + scalar):
        x, y = mx.nd.load_frombuffer(_file([rec, V2_REC]))
        assert x.shape == () and x.asnumpy()[()] == 7.0
        _same(y.asnumpy(), _VALS)
    for rec in (struct.pack("<Ii2q", 0xF993FAC8, 2, 0, 3) + _CPU_F32, struct.pack("<3I", 2, 0, 3) + _CPU_F32):
        (x,) = mx.nd.load_frombuffer(_file([rec]))
        assert x.shape == (0, 3)


def test_gpu_context_loads_on_cpu():
    rec = struct.pack("<Iii2q", 0xF993FAC9, 0, 2, 2, 3) + struct.pack("<iii", 2, 1, 0) + _VALS.tobytes()
    (x,) = mx.nd.load_frombuffer(_file([rec]))
    assert x.context == mx.cpu(0)
    _same(x.asnumpy(), _VALS)


def test_int64_extremes_and_duplicate_keys():
    rec = struct.pack("<Iii1q", 0xF993FAC9, 0, 1, 2) + struct.pack("<iii", 1, 0, 6) + struct.pack("<2q", -2**63,
                                                                                                   2**63 - 1)
    (x,) = mx.nd.load_frombuffer(_file([rec]))
    _same(x.asnumpy(), np.array([-2**63, 2**63 - 1], np.int64))
    # MXNet returns a dict: a repeated key keeps its first position and its last value
    d = mx.nd.load_frombuffer(_file([V2_REC, rec, V2_REC], [b"a", b"b", b"a"]))
    assert list(d) == ["a", "b"] and d["a"].shape == (2, 3)


# ---------------------------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------------------------

def _np_arrays():
    dtype = st.sampled_from(ALL_DTYPES).map(np.dtype)
    shape = hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=4)
    return st.tuples(dtype, shape).flatmap(lambda ds: hnp.arrays(ds[0], ds[1]))


_keys = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=60)
@given(st.lists(_np_arrays(), max_size=5), st.data())
def test_round_trip_any_dtype_shape_and_key(tmp_path_factory, values, data):
    arrays = [mx.nd.array(v, dtype=v.dtype) for v in values]
    use_dict = data.draw(st.booleans())
    if use_dict:
        keys = data.draw(st.lists(_keys, min_size=len(values), max_size=len(values), unique=True))
        payload = dict(zip(keys, arrays))
    else:
        payload = arrays
    path = str(tmp_path_factory.mktemp("rt") / "x.params")
    mx.nd.save(path, payload)
    raw = _read(path)
    loaded = mx.nd.load(path)
    if use_dict and values:
        assert isinstance(loaded, dict) and list(loaded) == keys
        loaded = list(loaded.values())
    else:
        assert isinstance(loaded, list)
    assert len(loaded) == len(values)
    for got, want in zip(loaded, values):
        assert got.context == mx.cpu(0)
        _same(got.asnumpy(), want)
    assert _bytes_of(mx.nd.load_frombuffer(raw) if values else []) == raw


def test_single_ndarray_and_tuple(tmp_path):
    a = mx.nd.array([[1, 2], [3, 4]])
    raw = _dumps(tmp_path, a)
    assert raw == _dumps(tmp_path, [a]) == _dumps(tmp_path, (a,))
    (x,) = mx.nd.load(str(tmp_path / "x.params"))
    _same(x.asnumpy(), a.asnumpy())


def test_pathlike_and_buffer_types(tmp_path):
    a = mx.nd.arange(6).reshape((2, 3))
    mx.nd.save(tmp_path / "p.params", {"a": a})
    raw = (tmp_path / "p.params").read_bytes()
    for buf in (raw, bytearray(raw), memoryview(raw)):
        _same(mx.nd.load_frombuffer(buf)["a"].asnumpy(), a.asnumpy())
    _same(mx.nd.load(tmp_path / "p.params")["a"].asnumpy(), a.asnumpy())
    mx.nd.save(os.fsencode(tmp_path / "b.params"), [a])
    _same(mx.nd.load(os.fsencode(tmp_path / "b.params"))[0].asnumpy(), a.asnumpy())
    with pytest.raises(TypeError):
        mx.nd.save(5, [a])
    with pytest.raises(TypeError):
        mx.nd.load_frombuffer(raw.decode("latin-1"))


def test_loaded_arrays_are_independent_and_usable():
    raw = _read(os.path.join(NDDIR, "single.params"))
    w = mx.nd.load_frombuffer(raw)["w"]
    w[:] = 0
    assert float((w + 1).sum().asnumpy()[0]) == 6.0
    assert mx.nd.load_frombuffer(raw)["w"].asnumpy().tobytes() == EXPECTED["f32_2x3"].tobytes()


def test_save_waits_for_pending_writes(tmp_path):
    a = mx.nd.zeros((3,))
    b = a + 5
    mx.nd.save(str(tmp_path / "x.params"), [b])
    _same(mx.nd.load(str(tmp_path / "x.params"))[0].asnumpy(), np.full(3, 5, np.float32))


# ---------------------------------------------------------------------------------------------------------------
# Malformed input
# ---------------------------------------------------------------------------------------------------------------

def test_format_error_is_an_mxnet_error():
    assert issubclass(FormatError, MXNetError) and issubclass(FormatError, ValueError)


def test_truncation_at_every_offset(tmp_path):
    raw = _read(os.path.join(NDDIR, "dict.params"))
    path = tmp_path / "cut.params"
    for n in range(len(raw)):
        path.write_bytes(raw[:n])
        with pytest.raises(FormatError) as info:
            mx.nd.load(str(path))
        assert "cut.params" in str(info.value)


def test_truncation_messages():
    raw = _read(os.path.join(NDDIR, "list.params"))
    with pytest.raises(FormatError, match=r"buffer.*record 10 .*truncated"):
        mx.nd.load_frombuffer(raw[:-10])
    with pytest.raises(FormatError, match="truncated"):
        mx.nd.load_frombuffer(raw[:10])


def _corrupt(raw, offset, fmt, value):
    out = bytearray(raw)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


# Offsets in single.params: header 0..23, record 0: magic 24, stype 28, ndim 32, dims 36/44, ctx 52/56, dtype 60.
@pytest.mark.parametrize("offset,fmt,value,pattern", [
    (0, "<Q", 0x113, "bad magic 0x113"),
    (16, "<Q", 2**62, "array count"),
    (24, "<I", 0xDEADBEEF, "record 0 .*unknown record magic 0xdeadbeef"),
    (28, "<i", 1, "record 0 .*device type"),       # a dense record read as row_sparse (tests/test_sparse_core.py)
    (28, "<i", 2, "record 0 .*device type"),
    (28, "<i", -1, "record 0 .*undefined"),
    (28, "<i", 9, "record 0 .*unknown storage type 9"),
    (32, "<i", 2**31 - 1, "record 0 .*ndim 2147483647 is absurd"),
    (32, "<i", -3, "record 0 .*negative ndim"),
    (36, "<q", -1, "record 0 .*negative"),
    (36, "<q", 2**40, "record 0 .*truncated"),
    (36, "<q", 2**62, "record 0 .*truncated"),
    (52, "<i", 7, "record 0 .*device type 7"),
    (60, "<i", 12, "record 0 .*bfloat16"),
    (60, "<i", 13, "record 0 .*unknown dtype code 13"),
    (60, "<i", -1, "record 0 .*unknown dtype code -1"),
    (60, "<i", 1, "record 0 .*truncated"),      # float64 needs twice the bytes
    (88, "<Q", 2, "2 keys for 1 arrays"),
    (96, "<Q", 2**60, "key 0 .*truncated"),
])
def test_corrupted_fields(offset, fmt, value, pattern):
    raw = _read(os.path.join(NDDIR, "single.params"))
    with pytest.raises(FormatError, match=pattern):
        mx.nd.load_frombuffer(_corrupt(raw, offset, fmt, value))


def test_corrupted_error_names_file_and_record(tmp_path):
    raw = bytearray(_read(os.path.join(NDDIR, "list.params")))
    # the 4th record (index 3) is u8_5; find its dtype code by walking the headers
    offset = 24
    for _ in range(3):
        ndim = struct.unpack_from("<i", raw, offset + 8)[0]
        dims = struct.unpack_from("<%dq" % ndim, raw, offset + 12)
        code = struct.unpack_from("<i", raw, offset + 12 + 8 * ndim + 8)[0]
        nbytes = int(np.prod(dims)) * np.dtype(ALL_DTYPES[code]).itemsize
        offset += 12 + 8 * ndim + 12 + nbytes
    struct.pack_into("<i", raw, offset + 12 + 8 + 8, 99)
    path = tmp_path / "bad.params"
    path.write_bytes(bytes(raw))
    with pytest.raises(FormatError) as info:
        mx.nd.load(str(path))
    message = str(info.value)
    assert "bad.params" in message and "record 3" in message and "dtype code 99" in message


def test_bad_key_and_trailing_bytes():
    with pytest.raises(FormatError, match="key 0 .*UTF-8"):
        mx.nd.load_frombuffer(_file([V2_REC], [b"\xff\xfe"]))
    with pytest.raises(FormatError, match="7 unexpected bytes"):
        mx.nd.load_frombuffer(_file([V2_REC]) + b"garbage")
    with pytest.raises(FormatError, match="invalid"):     # a 0-size shape numpy cannot represent
        mx.nd.load_frombuffer(_file([struct.pack("<Iii3q", 0xF993FAC9, 0, 3, 0, 2**62, 2**62) + _CPU_F32]))


@settings(max_examples=200)
@given(st.lists(st.tuples(st.integers(0, 104), st.integers(0, 255)), min_size=1, max_size=4))
def test_random_corruption_loads_or_raises_format_error(edits):
    raw = bytearray(_read(os.path.join(NDDIR, "single.params")))
    for offset, byte in edits:
        raw[offset] = byte
    try:
        mx.nd.load_frombuffer(bytes(raw))
    except FormatError:
        pass


# ---------------------------------------------------------------------------------------------------------------
# Failed saves leave nothing behind
# ---------------------------------------------------------------------------------------------------------------

def _files(directory):
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("bad,pattern", [
    ({"a": mx.nd.ones((2,)), "b": mx.nd.zeros((3,)), "c": np.ones(2)}, "key 'c'"),
    ({"a": mx.nd.ones((2,)), 5: mx.nd.ones((2,))}, "key 5"),
    ([mx.nd.ones((2,)), mx.nd.ones((2,)), [1, 2]], "item 2"),
    (np.ones(3), "ndarray"),
    ("abc", "str"),
])
def test_failed_save_leaves_no_file_and_keeps_the_old_one(tmp_path, bad, pattern):
    new = tmp_path / "new.params"
    with pytest.raises(TypeError, match=pattern):
        mx.nd.save(str(new), bad)
    assert _files(tmp_path) == []
    old = tmp_path / "old.params"
    old.write_bytes(b"previous content")
    with pytest.raises(TypeError, match=pattern):
        mx.nd.save(str(old), bad)
    assert old.read_bytes() == b"previous content"
    assert _files(tmp_path) == ["old.params"]


def test_unencodable_key(tmp_path):
    with pytest.raises(ValueError, match="UTF-8"):
        mx.nd.save(str(tmp_path / "x.params"), {"\ud800": mx.nd.ones((1,))})
    assert _files(tmp_path) == []


def test_failed_pending_write_aborts_save(tmp_path):
    a = mx.nd.ones((2,))

    def boom():
        raise RuntimeError("kernel failed")
    get_engine().push(boom, [], [a._var], "boom")
    old = tmp_path / "old.params"
    old.write_bytes(b"previous content")
    with pytest.raises(EngineError, match="kernel failed"):
        mx.nd.save(str(old), {"ok": mx.nd.ones((1,)), "a": a})
    with pytest.raises(EngineError):
        mx.nd.waitall()                      # clear the engine's stored error for later tests
    assert old.read_bytes() == b"previous content"
    assert _files(tmp_path) == ["old.params"]
