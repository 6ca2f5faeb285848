"""Run the seed tutorial's snippets on dataflow, one top-level statement at a time, and report what failed.

`examples/seed_snippets.py` is the seed script with only its imports changed (`import dataflow as mx`). This
runner executes it statement by statement in one namespace, so a snippet that dataflow cannot run yet (it is
named in the summary with its error) does not hide the ones after it. With `--compare`, the printed lines are
checked against what real MXNet 1.9.1 printed (`examples/seed/seed_snippets.mxnet-1.9.1.out`).

    python examples/run_seed.py              # the demo: the snippets' output, then a summary
    python examples/run_seed.py --compare    # ... and a line-by-line comparison with MXNet's output

The exit status is 0 when every statement ran and (with `--compare`) every record MXNet printed matches, except
the records in DIFFER_BY_DESIGN; otherwise 1, and the summary names each failing statement and record.
"""
import argparse
import ast
import contextlib
import io
import os
import re
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "seed_snippets.py")
EXPECTED = os.path.join(HERE, "seed", "seed_snippets.mxnet-1.9.1.out")

# Records that differ by design (examples/seed/README.md): timings, file paths, values drawn from MXNet's own random
# generator (the seeded init, and the hybridized output of the same net), and the class name of the graphviz object
# (MXNet ran with an older graphviz package: `graphviz.dot.Digraph`; 0.21 has no `graphviz.dot`).
DIFFER_BY_DESIGN = ("[S1] TIMING", "[S1] imperative net(x) (seeded init", "[S1] hybridized net(x)",
                    "[S2] plot source file", "[S3] plot source file", "[S5] ConvFactory plot source file",
                    "[S5] in3a plot source file", "[S2] plot_network returned type")


def run(script=SCRIPT, stream=None):
    """Execute `script` statement by statement; returns (printed text, [(line, statement, error)])."""
    with open(script, encoding="utf-8") as fh:
        source = fh.read()
    tree = ast.parse(source, script)
    namespace = {"__name__": "__main__", "__file__": os.path.abspath(script)}
    failures = []
    buffer = io.StringIO()
    cwd = os.getcwd()
    try:
        for stmt in tree.body:
            code = compile(ast.Module([stmt], []), script, "exec")
            out = _Tee(buffer, stream)
            try:
                with contextlib.redirect_stdout(out):
                    exec(code, namespace)
            except Exception as err:  # noqa: BLE001 - report every failing snippet and go on
                first = ast.get_source_segment(source, stmt).splitlines()[0]
                failures.append((stmt.lineno, first, "%s: %s" % (type(err).__name__, str(err).splitlines()[0]
                                                                if str(err) else "")))
                if os.environ.get("DATAFLOW_DEBUG"):
                    traceback.print_exc()
    finally:
        os.chdir(cwd)
    return buffer.getvalue(), failures


class _Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = [s for s in streams if s is not None]

    def write(self, text):
        for s in self.streams:
            s.write(text)
        return len(text)

    def flush(self):
        for s in self.streams:
            s.flush()


# -- comparing with MXNet's output --------------------------------------------------------------------------------

_LABEL = re.compile(r"^\[(S\d+)\] ")
_FLOAT = re.compile(r"-?\d+\.\d*(?:e[-+]?\d+)?|-?\d+e[-+]?\d+")


def records(text):
    """Group printed text into records: a line starting with `[Sn] ` and the unlabelled lines after it."""
    result, current = [], None
    for line in text.splitlines():
        if _LABEL.match(line) or line.startswith("=== ["):
            current = [line]
            result.append(current)
        elif current is not None:
            current.append(line)
    return ["\n".join(r).rstrip() for r in result]


def key_of(record):
    """The record's label: the text before the first ': ' or ' = ' (or the whole first line)."""
    first = record.splitlines()[0]
    for separator in (": ", " = "):
        if separator in first:
            return first.split(separator, 1)[0].rstrip()
    return first


def same(expected, actual, tol=1e-4):
    """Equal up to float differences of `tol` (MXNet prints floats from its own kernels)."""
    if expected == actual:
        return True
    e_parts, a_parts = _FLOAT.split(expected), _FLOAT.split(actual)
    if e_parts != a_parts:
        return False
    e_nums, a_nums = _FLOAT.findall(expected), _FLOAT.findall(actual)
    return len(e_nums) == len(a_nums) and all(abs(float(x) - float(y)) <= tol * max(1.0, abs(float(x)))
                                              for x, y in zip(e_nums, a_nums))


def compare(actual_text, expected_text):
    """[(key, expected record, actual record or None, equal)] for every record MXNet printed."""
    actual = {}
    for r in records(actual_text):
        actual.setdefault(key_of(r), []).append(r)
    rows = []
    for r in records(expected_text):
        key = key_of(r)
        got = actual.get(key, [])
        a = got.pop(0) if got else None
        rows.append((key, r, a, a is not None and same(r, a)))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", action="store_true", help="compare with MXNet 1.9.1's output")
    args = parser.parse_args(argv)
    text, failures = run(stream=sys.stdout)
    print("\n--- summary: %d statements failed ---" % len(failures))
    for lineno, stmt, err in failures:
        print("  line %d: %s\n      %s" % (lineno, stmt, err))
    wrong = 0
    if args.compare:
        with open(EXPECTED, encoding="utf-8") as fh:
            rows = compare(text, fh.read())
        ok = sum(1 for row in rows if row[3])
        print("\n--- %d of %d MXNet output records match ---" % (ok, len(rows)))
        for key, _, got, equal in rows:
            if equal:
                continue
            expected = key.startswith(DIFFER_BY_DESIGN)
            wrong += not expected
            print("  %s %s%s" % ("differs:" if got else "missing:", key, "  (by design)" if expected else ""))
        print("--- %s ---" % ("every other record matches" if not wrong else
                              "%d records differ from MXNet's that should not" % wrong))
    return 1 if failures or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
