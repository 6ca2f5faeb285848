"""Saving under faults (issue 14, item 8): kill -9, a full disk, the umask, symlinks and special files, long names.

Truths: the old and new contents the test itself wrote (a file after a crash must be one of them, byte for byte, and
a pair of files must be both old or both new once `finish_pending_save` / `load_checkpoint` ran), the umask and
the file type reported by the OS.

Kills run in fresh interpreters (`subprocess` with `sys.executable`: a spawn, never a fork). A child replaces the
`os` functions the writer calls (open, write, fsync, close, replace, unlink, listdir) with counters that SIGKILL the
process at call number k (mid-write: after half the bytes). `test_every_kill_point_of_a_group_write` runs every k of
a three-file group write in a light child that loads only dataflow/util.py; the API tests run `nd.save`, Gluon's
`export` and `Module.save_checkpoint` in a child importing dataflow, at k drawn (seeded) from the calls the same
save makes in this process.
"""
import errno
import inspect
import json
import os
import stat
import subprocess
import sys
import threading

import numpy as np
import pytest

import dataflow as mx
from dataflow.util import SaveError, finish_pending_save, write_files

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRAPPED = ("open", "write", "fsync", "close", "replace", "unlink", "listdir")

_KILLER = r'''
import os, signal, sys
sys.path.insert(0, %(repo)r)
KILL_AT, calls = int(os.environ["KILL_AT"]), [0]

def _wrap(name):
    real = getattr(os, name)
    def call(*args, **kwargs):
        if calls[0] == KILL_AT:
            if name == "write":                 # die in the middle of the data
                real(args[0], bytes(args[1])[:max(1, len(args[1]) // 2)])
            os.kill(os.getpid(), signal.SIGKILL)
        calls[0] += 1
        return real(*args, **kwargs)
    setattr(os, name, call)
'''


def _arm():
    return _KILLER % {"repo": REPO} + "\nfor _n in %r:\n    _wrap(_n)\n" % (WRAPPED,)


def _run_child(code, kill_at, *args):
    env = dict(os.environ, KILL_AT=str(kill_at), PYTHONPATH=REPO)
    return subprocess.run([sys.executable, "-c", code] + [str(a) for a in args], env=env, capture_output=True,
                          text=True, timeout=120)


def _count_calls(monkeypatch, fn):
    """How many calls of the wrapped `os` functions `fn()` makes in this process."""
    count = [0]
    with monkeypatch.context() as m:
        for name in WRAPPED:
            real = getattr(os, name)

            def call(*args, _real=real, **kwargs):
                count[0] += 1
                return _real(*args, **kwargs)
            m.setattr(os, name, call)
        fn()
    return count[0]


def _leftovers(directory, keep):
    return sorted(set(os.listdir(directory)) - set(keep))


def _read(path):
    with open(path, "rb") as fh:
        return fh.read()


# -- every kill point of a group write --------------------------------------------------------------------------
_GROUP_CHILD = r'''
import importlib.util, sys
spec = importlib.util.spec_from_file_location("util_under_test", %(repo)r + "/dataflow/util.py")
util = importlib.util.module_from_spec(spec)
spec.loader.exec_module(util)
files = [(sys.argv[1 + i], (b"new %%d " %% i) * (1000 + i)) for i in range(3)]
''' % {"repo": REPO} + _arm() + "util.write_files(files)\n"

OLD = [(b"old %d " % i) * (700 + i) for i in range(3)]
NEW = [(b"new %d " % i) * (1000 + i) for i in range(3)]


def test_every_kill_point_of_a_group_write(tmp_path, monkeypatch):
    names = ["net-symbol.json", "net-0001.params", "net-0001.states"]
    paths = [str(tmp_path / n) for n in names]
    write_files(list(zip(paths, OLD)))
    total = _count_calls(monkeypatch, lambda: write_files(list(zip(paths, OLD))))
    assert 15 <= total <= 60
    outcomes = set()
    for k in range(total + 1):
        write_files(list(zip(paths, OLD)))
        result = _run_child(_GROUP_CHILD, k, *paths)
        assert result.returncode in (0, -9), result.stderr
        for path, old, new in zip(paths, OLD, NEW):     # every file whole, before any recovery
            assert _read(path) in (old, new)
        finish_pending_save(paths[0])
        got = [_read(p) for p in paths]
        assert got in (OLD, NEW), "kill point %d left a torn group" % k
        outcomes.add((result.returncode, got == NEW))
        write_files(list(zip(paths, OLD)))              # the next save removes what the killed one left
        assert _leftovers(tmp_path, names) == [], "kill point %d" % k
    assert outcomes == {(-9, False), (-9, True), (0, True)}


# -- the APIs, killed at random points -------------------------------------------------------------------------


def build(mx, kind, prefix, version):
    """A closure saving version 'old' (values 1) or 'new' (values 2, other names) of `kind` at `prefix`."""
    value = 1.0 if version == "old" else 2.0
    if kind == "nd.save":
        arrays = {"w": mx.nd.full((64, 64), value), "b": mx.nd.full((64,), value)}
        return lambda: mx.nd.save(prefix + ".params", arrays)
    if kind == "export":
        net = mx.gluon.nn.Dense(3, in_units=4, prefix="%s_" % version)
        net.initialize(mx.init.Constant(value))
        net.hybridize()
        net(mx.nd.ones((2, 4)))
        return lambda: net.export(prefix, 1)
    data = mx.sym.var("data")
    mod = mx.mod.Module(mx.sym.FullyConnected(data, num_hidden=3, name="%s_fc" % version), label_names=None)
    mod.bind([("data", (2, 4))])
    mod.init_params(mx.init.Constant(value))
    return lambda: mod.save_checkpoint(prefix, 1)


_API_CHILD = """
import sys
sys.path.insert(0, %r)
import dataflow as mx
%s
save = build(mx, sys.argv[1], sys.argv[2], "new")
""" % (REPO, inspect.getsource(build)) + _arm() + "save()\n"


def _version_of_pair(prefix):
    sym, args, _ = mx.model.load_checkpoint(prefix, 1)      # finishes an interrupted commit first
    sym_version = sym.list_arguments()[1].split("_")[0]
    values = {float(v.asnumpy().ravel()[0]) for k, v in args.items() if k.endswith("weight")}
    arg_version = {"old_weight", "old_bias", "old_fc_weight", "old_fc_bias"} >= set(args) and "old" or "new"
    assert values == {1.0 if arg_version == "old" else 2.0}
    return sym_version, arg_version


@pytest.mark.parametrize("kind", ["nd.save", "export", "save_checkpoint"])
def test_a_killed_save_leaves_old_or_new_files(kind, tmp_path, monkeypatch):
    rs = np.random.RandomState(["nd.save", "export", "save_checkpoint"].index(kind))
    prefix = str(tmp_path / "net")
    save_old = build(mx, kind, prefix, "old")
    save_old()
    saved = sorted(os.listdir(tmp_path))
    total = _count_calls(monkeypatch, save_old)
    for k in sorted(rs.choice(total, size=2, replace=False)):
        save_old()
        result = _run_child(_API_CHILD, k, kind, prefix)
        assert result.returncode == -9, result.stderr[-2000:]
        if kind == "nd.save":
            values = {float(v.asnumpy().ravel()[0]) for v in mx.nd.load(prefix + ".params").values()}
            assert values in ({1.0}, {2.0})
        else:
            sym_version, arg_version = _version_of_pair(prefix)
            assert sym_version == arg_version, "kill point %d of %d: %s JSON beside %s params" % (
                k, total, sym_version, arg_version)
        save_old()
        assert sorted(os.listdir(tmp_path)) == saved, "kill point %d left files behind" % k


# -- a full disk --------------------------------------------------------------------------------------------------
def _disk_full_after(monkeypatch, budget, where="write"):
    """os.write (or os.fsync) fails with ENOSPC once `budget` bytes were written."""
    left = [budget]
    real_write, real_fsync = os.write, os.fsync

    def write(fd, data):
        if where == "write" and left[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        data = bytes(data)[:left[0]] if where == "write" else data
        left[0] -= len(data)
        return real_write(fd, data)

    def fsync(fd):
        if where == "fsync" and left[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)
    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("where", ["write", "fsync"])
@pytest.mark.parametrize("kind", ["nd.save", "export", "save_checkpoint"])
def test_disk_full_raises_an_mxnet_error_and_keeps_the_old_files(kind, where, tmp_path, monkeypatch):
    prefix = str(tmp_path / "net")
    build(mx, kind, prefix, "old")()
    before = {n: _read(tmp_path / n) for n in os.listdir(tmp_path)}
    save_new = build(mx, kind, prefix, "new")
    first = len(before["net.params" if kind == "nd.save" else "net-symbol.json"])
    budgets = (0, first // 2) + (() if kind == "nd.save" else (first + 10,))    # the first file fails, or the second
    for budget in budgets:
        with monkeypatch.context() as m:
            _disk_full_after(m, budget, where)
            with pytest.raises(mx.base.MXNetError) as info:
                save_new()
        assert isinstance(info.value, OSError) and info.value.errno == errno.ENOSPC
        assert isinstance(info.value, SaveError) and "left as they were" in str(info.value)
        assert {n: _read(tmp_path / n) for n in os.listdir(tmp_path)} == before
    save_new()
    if kind != "nd.save":
        assert _version_of_pair(prefix) == ("new", "new")


def test_a_missing_directory_is_a_save_error(tmp_path):
    with pytest.raises(SaveError) as info:
        mx.nd.save(str(tmp_path / "no" / "x.params"), mx.nd.ones(2))
    assert info.value.errno == errno.ENOENT and isinstance(info.value, mx.base.MXNetError)


# -- modes, links, special files, names ---------------------------------------------------------------------------
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_follows_the_umask(umask, tmp_path):
    old = os.umask(umask)
    try:
        mx.nd.save(str(tmp_path / "x.params"), mx.nd.ones(2))
        mx.sym.var("x").save(str(tmp_path / "x.json"))
    finally:
        os.umask(old)
    for name in ("x.params", "x.json"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o666 & ~umask


def test_an_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "x.params"
    mx.nd.save(str(path), mx.nd.ones(2))
    os.chmod(path, 0o640)
    mx.nd.save(str(path), mx.nd.zeros(3))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert mx.nd.load(str(path))[0].shape == (3,)


def test_a_symlink_is_written_through(tmp_path):
    real = tmp_path / "real.params"
    mx.nd.save(str(real), mx.nd.ones(2))
    link = tmp_path / "link.params"
    os.symlink(real, link)
    mx.nd.save(str(link), mx.nd.full((4,), 3.0))
    assert os.path.islink(link) and os.readlink(link) == str(real)
    np.testing.assert_array_equal(mx.nd.load(str(real))[0].asnumpy(), np.full(4, 3.0, np.float32))
    dangling = tmp_path / "dangling.params"
    os.symlink(tmp_path / "made.params", dangling)
    mx.nd.save(str(dangling), mx.nd.ones(1))
    assert os.path.islink(dangling) and (tmp_path / "made.params").is_file()
    assert _leftovers(tmp_path, ["real.params", "link.params", "dangling.params", "made.params"]) == []


def test_a_fifo_and_dev_null_are_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(_read(fifo)))
    reader.start()
    mx.nd.save(str(fifo), {"w": mx.nd.ones(3)})
    reader.join(30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert mx.nd.load_frombuffer(got[0])["w"].shape == (3,)
    if os.access("/dev/null", os.W_OK):
        mx.nd.save("/dev/null", mx.nd.ones(2))
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_255_byte_name_saves(tmp_path):
    name = "é" * 60 + "a" * (255 - 120 - len(".params")) + ".params"
    assert len(os.fsencode(name)) == 255
    mx.nd.save(str(tmp_path / name), mx.nd.ones(2))
    write_files([(str(tmp_path / name), b"x"), (str(tmp_path / ("b" * 255)), b"y")])
    assert sorted(os.listdir(tmp_path)) == sorted([name, "b" * 255])


def test_stale_temp_files_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = tmp_path / "x.params"
    mx.nd.save(str(path), mx.nd.ones(2))
    from dataflow.util import _tag
    tag = os.path.basename(_tag(str(path)))
    stale = tmp_path / ("%s.%d.0badf00d.tmp" % (tag, dead.pid))
    live = tmp_path / ("%s.%d.0badf00d.tmp" % (tag, os.getppid()))       # a writer that is still running
    other = tmp_path / ".y.params.1.tmp"
    for p in (stale, live, other):
        p.write_bytes(b"partial")
    mx.nd.save(str(path), mx.nd.ones(2))
    assert _leftovers(tmp_path, ["x.params"]) == sorted([live.name, other.name])


def test_a_commit_interrupted_after_its_record_finishes_on_load(tmp_path, monkeypatch):
    prefix = str(tmp_path / "net")
    build(mx, "save_checkpoint", prefix, "old")()
    save_new = build(mx, "save_checkpoint", prefix, "new")
    real_replace, renames = os.replace, []

    def replace(src, dst):
        renames.append(dst)
        if len(renames) == 3:               # the record, the JSON, then the params fail
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_replace(src, dst)
    with monkeypatch.context() as m:
        m.setattr(os, "replace", replace)
        with pytest.raises(SaveError):
            save_new()
    record = [n for n in os.listdir(tmp_path) if n.endswith(".commit")]
    assert len(record) == 1 and len(json.loads(_read(tmp_path / record[0]))) == 2
    assert _version_of_pair(prefix) == ("new", "new")
    assert _leftovers(tmp_path, ["net-symbol.json", "net-0001.params"]) == []
