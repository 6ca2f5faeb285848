"""`python -m dataflow.run script.py [args]`: run an unmodified MXNet program on dataflow.

`import mxnet` (and every `mxnet.X.Y`) inside the program gives dataflow's modules (`install_as_mxnet`), and the
program runs as `python script.py [args]` would run it: `__name__ == "__main__"`, `sys.argv == ['script.py',
args...]`, `sys.path[0]` the script's directory, the exit code of `sys.exit(...)`, and an uncaught exception printed
as Python prints it (the traceback starts at the script; none of this runner's frames) with exit code 1.
`python -m dataflow.run -m package.module [args]` runs a module as `python -m` does.
"""
import builtins
import importlib.machinery
import io
import os
import runpy
import sys
import types
import zipfile

from ._mxnet_alias import install_as_mxnet

USAGE = "usage: python -m dataflow.run script.py [args ...]\n       python -m dataflow.run -m module [args ...]"


def main(argv=None):
    """Run the program named by `argv` (default `sys.argv[1:]`); returns the exit code for a clean finish."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] == "-m" and len(argv) < 2:
        print(USAGE, file=sys.stderr if not argv or argv[0] == "-m" else sys.stdout)
        return 2 if not argv or argv[0] == "-m" else 0
    install_as_mxnet()
    _alias_in_child_processes()
    if argv[0] == "-m":
        sys.argv = [argv[1]] + argv[2:]     # run_module(alter_sys=True) puts the module's file in argv[0]
        sys.path[0] = os.getcwd()
        return _run(lambda: runpy.run_module(argv[1], run_name="__main__", alter_sys=True))
    script = argv[0]
    if not os.path.exists(script):
        print("%s: can't open file %r: [Errno 2] No such file or directory"
              % (os.path.basename(sys.executable), os.path.abspath(script)), file=sys.stderr)
        return 2
    sys.argv = argv
    if os.path.isdir(script) or not script.endswith(".py") and zipfile.is_zipfile(script):
        del sys.path[0]     # run_path puts the directory or zip itself first, as Python does
        return _run(lambda: runpy.run_path(script, run_name="__main__"))   # a directory or zip with __main__.py
    # Python puts the script's directory (symbolic links resolved) first on the path.
    sys.path[0] = os.path.dirname(os.path.realpath(script))
    return _run(lambda: _run_script(os.path.abspath(script)))


def _run_script(path):
    """Run the file at `path` as Python runs `python path`: in a new `__main__` module that stays in
    `sys.modules` (so pickling and `atexit` see it), with `__file__` and traceback lines the absolute path, while
    `sys.argv[0]` stays as the user wrote it (`runpy.run_path` would make it absolute)."""
    with io.open_code(path) as fh:
        source = fh.read()
    main = types.ModuleType("__main__")
    main.__dict__.update(__file__=path, __builtins__=builtins, __cached__=None,
                         __loader__=importlib.machinery.SourceFileLoader("__main__", path))
    sys.modules["__main__"] = main
    exec(compile(source, path, "exec", dont_inherit=True), main.__dict__)   # noqa: S102 - running the program


def _alias_in_child_processes():
    """Put the `mxnet` shim package (dataflow/_mxnet_shim) last on PYTHONPATH, which child Pythons inherit, and
    on sys.path, which `spawn`ed multiprocessing workers copy: their `import mxnet` gives dataflow as well (such
    a worker re-imports the program). In this process the alias finder comes first and the shim is never used."""
    shim = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_mxnet_shim")
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if shim not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join(paths + [shim])
    if shim not in sys.path:
        sys.path.append(shim)


def _run(run):
    try:
        run()
    except SystemExit:
        raise
    except BaseException as error:          # noqa: BLE001 - printed as the interpreter prints it, then exit 1
        error.__traceback__ = _without_runner_frames(error.__traceback__)   # what the default hook prints
        sys.excepthook(type(error), error, error.__traceback__)
        return 130 if isinstance(error, KeyboardInterrupt) else 1
    return 0


def _without_runner_frames(tb):
    """The traceback from the program's first frame on (this module's and runpy's frames dropped)."""
    runner_files = {os.path.abspath(__file__), os.path.abspath(runpy.__file__), "<frozen runpy>"}
    while tb is not None and tb.tb_frame.f_code.co_filename in runner_files:
        tb = tb.tb_next
    return tb


if __name__ == "__main__":
    sys.exit(main())
