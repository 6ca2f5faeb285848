"""Records the public names of MXNet 1.9.1's numpy interface: `mx.sym.np` (with `.linalg`, `.random`) into
tests/fixtures/mxnet-1.9.1/numpy_sym/mxnet_names.json, which tests/test_numpy_symbol_coverage.py compares with
dataflow's `mx.sym.np`; `mx.np` (with `.linalg`, `.random`) and `mx.npx` into
tests/fixtures/mxnet-1.9.1/numpy/mxnet_names.json, which tests/test_numpy_names.py compares with dataflow's.
Run with /work/mxvenv/bin/python reference/numpy_sym_names_fixtures.py."""
import inspect
import json
import os

import mxnet as mx

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1")


def public_functions(module):
    """The public callables of `module` that are not classes or modules (functions and their aliases)."""
    return sorted(name for name, value in vars(module).items()
                  if not name.startswith("_") and callable(value) and not inspect.isclass(value))


def public_constants(module):
    """The public float constants of `module` (`pi`, `NINF` ...)."""
    return sorted(name for name, value in vars(module).items() if not name.startswith("_") and type(value) is float)


def write(path, names):
    with open(path, "w") as f:
        json.dump(names, f, indent=0, sort_keys=True)
        f.write("\n")
    print(path, {k: len(v) for k, v in names.items()})


def main():
    write(os.path.join(FIXTURES, "numpy_sym", "mxnet_names.json"),
          {"np": public_functions(mx.sym.np), "np.linalg": public_functions(mx.sym.np.linalg),
           "np.random": public_functions(mx.sym.np.random)})
    write(os.path.join(FIXTURES, "numpy", "mxnet_names.json"),
          {"np": public_functions(mx.np), "np constants": public_constants(mx.np),
           "np.linalg": public_functions(mx.np.linalg), "np.random": public_functions(mx.np.random),
           "npx": public_functions(mx.npx)})


if __name__ == "__main__":
    main()
