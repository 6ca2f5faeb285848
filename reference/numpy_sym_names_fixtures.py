"""Records the public names of MXNet 1.9.1's `mx.sym.np`, `mx.sym.np.linalg` and `mx.sym.np.random` into
tests/fixtures/mxnet-1.9.1/numpy_sym/mxnet_names.json, which tests/test_numpy_symbol_coverage.py compares with
dataflow's `mx.sym.np`. Run with /work/mxvenv/bin/python reference/numpy_sym_names_fixtures.py."""
import inspect
import json
import os

import mxnet as mx

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "mxnet-1.9.1", "numpy_sym", "mxnet_names.json")


def public_functions(module):
    """The public callables of `module` that are not classes or modules (functions and their aliases)."""
    return sorted(name for name, value in vars(module).items()
                  if not name.startswith("_") and callable(value) and not inspect.isclass(value))


def main():
    names = {"np": public_functions(mx.sym.np), "np.linalg": public_functions(mx.sym.np.linalg),
             "np.random": public_functions(mx.sym.np.random)}
    with open(OUT, "w") as f:
        json.dump(names, f, indent=0, sort_keys=True)
        f.write("\n")
    print({k: len(v) for k, v in names.items()})


if __name__ == "__main__":
    main()
