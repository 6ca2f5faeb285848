"""The BLAS thread policy (dataflow/threads.py, Note [one BLAS thread]), as threadpoolctl reports it.

Each case runs in a fresh interpreter (the policy is applied at import and is process-wide). numpy is imported
first and its BLAS set to 2 threads, as a user's program may have done before importing dataflow."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="BLAS runs on one thread anyway on one core")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(body, **env):
    """Run `body` after `import numpy` (BLAS at 2 threads) in a fresh interpreter; returns what it prints (JSON)."""
    code = textwrap.dedent("""
        import json, warnings
        import numpy as np
        import threadpoolctl
        threadpoolctl.threadpool_limits(2, user_api="blas")
        def blas_threads():
            return sorted({i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"})
        """) + textwrap.dedent(body)
    environ = {k: v for k, v in os.environ.items() if k not in ("DATAFLOW_BLAS_THREADS", "OPENBLAS_NUM_THREADS")}
    environ.update(env)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_one_blas_thread_by_default_and_for_libraries_loaded_later():
    out = run("""
        before = blas_threads()
        import dataflow as mx
        after = blas_threads()
        import scipy.linalg                    # a second OpenBLAS, loaded after dataflow
        print(json.dumps([before, after, blas_threads(), mx.threads.get_blas_threads(),
                          [i["num_threads"] for i in mx.threads.blas_info()]]))
        """)
    before, after, later, policy, info = out
    assert before == [2] and after == [1] and later == [1]
    assert policy == 1 and info and set(info) == {1}


def test_environment_switch():
    assert run("import dataflow\nprint(json.dumps(blas_threads()))", DATAFLOW_BLAS_THREADS="2") == [2]
    # 0: dataflow leaves BLAS alone (here: the 2 threads the program set)
    assert run("import dataflow\nprint(json.dumps([blas_threads(), dataflow.threads.get_blas_threads()]))",
               DATAFLOW_BLAS_THREADS="0") == [[2], None]


def test_bad_environment_value_warns_and_uses_one_thread():
    out = run("""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import dataflow
        messages = [str(w.message) for w in caught if "DATAFLOW_BLAS_THREADS" in str(w.message)]
        print(json.dumps([blas_threads(), messages]))
        """, DATAFLOW_BLAS_THREADS="many")
    assert out[0] == [1] and len(out[1]) == 1 and "'many'" in out[1][0]


def test_set_blas_threads_at_run_time():
    out = run("""
        import dataflow as mx
        previous = mx.threads.set_blas_threads(2)
        two = blas_threads()
        errors = []
        for bad in (0, -1, 1.5, "2", True):
            try:
                mx.threads.set_blas_threads(bad)
            except mx.MXNetError as error:
                errors.append(str(error))
        mx.threads.set_blas_threads(1)
        one = blas_threads()
        mx.threads.set_blas_threads(None)       # unmanaged: the libraries stay as they are
        print(json.dumps([previous, two, one, blas_threads(), mx.threads.get_blas_threads(), errors]))
        """)
    previous, two, one, unmanaged, policy, errors = out
    assert previous == 1 and two == [2] and one == [1] and unmanaged == [1] and policy is None
    assert len(errors) == 5 and all("set_blas_threads" in e for e in errors)


def test_openblas_variable_for_children_set_only_where_unset():
    show = "import os, dataflow\nprint(json.dumps(os.environ.get('OPENBLAS_NUM_THREADS')))"
    assert run(show) == "1"
    assert run(show, OPENBLAS_NUM_THREADS="3") == "3"
