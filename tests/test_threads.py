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
    # auto (the default): one thread at rest, the sites on; a fixed count turns them off
    show = "import dataflow\nfrom ops.cpu import blas_threads as bt\nprint(json.dumps([blas_threads(), bt._auto]))"
    assert run(show, DATAFLOW_BLAS_THREADS="auto") == [[1], True] == run(show)
    assert run(show, DATAFLOW_BLAS_THREADS="1") == [[1], False]
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
    assert previous == "auto" and two == [2] and one == [1] and unmanaged == [1] and policy is None
    assert len(errors) == 5 and all("set_blas_threads" in e for e in errors)


def test_openblas_variable_for_children_set_only_where_unset():
    show = "import os, dataflow\nprint(json.dumps(os.environ.get('OPENBLAS_NUM_THREADS')))"
    assert run(show) == "1"
    assert run(show, OPENBLAS_NUM_THREADS="3") == "3"


# ---- Note [when a 2-thread GEMM pays] (ops/cpu/blas_threads.py): the rule's logic, driven by fake clocks ----------
from ops.cpu import blas_threads as bt  # noqa: E402


def drive(chooser, seconds_of, calls, free=True):
    """Run `calls` calls through a ThreadChooser, each taking seconds_of(n) for its thread count n: the counts used."""
    used = []
    for _ in range(calls):
        n = chooser.choose(free)
        chooser.record(n, seconds_of(n))
        used.append(n)
    return used


def test_chooser_moves_to_more_threads_when_they_win_and_retimes_one_thread_now_and_then():
    chooser = bt.ThreadChooser(2)
    used = drive(chooser, {1: 2.0, 2: 1.0}.get, 200)
    assert used[0] == 2                                 # tried at once...
    assert all(n == 2 for n in used[3:bt.PROBE_EVERY])  # ...and kept
    ones = [i for i, n in enumerate(used) if n == 1 and i > 3]
    assert ones and all(b - a == bt.PROBE_EVERY for a, b in zip(ones, ones[1:]))   # one thread re-timed regularly


def test_chooser_keeps_one_thread_when_more_do_not_win_by_the_margin():
    chooser = bt.ThreadChooser(2)
    used = drive(chooser, {1: 1.0, 2: 0.95}.get, 300)  # 5% faster: below the 10% margin
    probes = [i for i, n in enumerate(used) if n == 2]
    gaps = [b - a for a, b in zip(probes, probes[1:])]
    assert used.count(2) < 12 and gaps == sorted(gaps) and gaps[-1] > 2 * gaps[0]    # tried ever more rarely


def test_chooser_backs_off_when_more_threads_collapse_and_recovers_when_they_win_again():
    chooser = bt.ThreadChooser(2)
    drive(chooser, {1: 2.0, 2: 1.0}.get, 100)
    assert chooser.using == 2
    collapse = drive(chooser, {1: 2.0, 2: 40.0}.get, 500)       # another process took the second core
    assert chooser.using == 1
    assert collapse[:4].count(2) <= bt.ThreadChooser.KEEP and collapse[-100:].count(2) <= 1
    again = drive(chooser, {1: 2.0, 2: 1.0}.get, 2 * bt.PROBE_MAX)
    assert chooser.using == 2 and again[-10:].count(2) >= 9


def test_chooser_uses_one_thread_while_the_other_cores_are_busy():
    chooser = bt.ThreadChooser(2)
    drive(chooser, {1: 2.0, 2: 1.0}.get, 100)
    assert drive(chooser, {1: 2.0, 2: 1.0}.get, 50, free=False) == [1] * 50


class Fake:
    def __init__(self, values):
        self.values = list(values)

    def __call__(self):
        return self.values.pop(0)


def test_other_load_is_the_runnable_tasks_now_less_the_caller_and_our_spinning_helpers():
    # Note [when a 2-thread GEMM pays], rule 1: a snapshot of the kernel's runnable count, not an average
    load = bt.OtherLoad(running_reader=Fake([1, 2, 2, 3, 2, 2]), clock=Fake([0.0, 0.0, 0.0, 0.01, 0.02, 0.03, 0.04]),
                        cpus=2)
    assert load.free(2)                         # t=0: only the caller runs
    assert load.others() == 1                   # one other task runs now (another process, or another of our threads)
    assert not load.free(2)
    load.ran_on(2)                              # t=0.01: a call on 2 threads ended; its helper spins a while
    assert load.others() == 1                   # t=0.02: caller + our helper + one other
    assert load.free(2)                         # t=0.03: caller + our helper only
    load.ran_on(1)                              # a call on one thread leaves no new helper behind (no clock read)
    assert load.free(2)                         # t=0.04: still within the first call's tail


def test_other_load_on_a_bigger_machine_leaves_room_for_other_work_elsewhere():
    load = bt.OtherLoad(running_reader=Fake([5, 6, 3, 3]), clock=lambda: 0.0, cpus=8)
    assert load.free(4)                         # 4 others + our 4 threads fit on 8 CPUs
    assert not load.free(4)                     # 5 others do not
    assert load.free(6) and not load.free(9)


def test_other_load_forgets_our_helpers_after_the_spin_tail_and_unknown_counts_as_busy():
    load = bt.OtherLoad(running_reader=Fake([2, 2]), clock=Fake([0.0, 0.01, 0.02 + bt.SPIN_TAIL]), cpus=2)
    load.ran_on(2)
    assert load.free(2)                         # within the tail: the second runnable task is our helper
    assert not load.free(2)                     # after it: someone else's
    assert not bt.OtherLoad(running_reader=lambda: None).free(2)


def test_run_queue_reads_the_kernels_runnable_count(tmp_path):
    fake = tmp_path / "loadavg"
    fake.write_text("0.52 0.58 0.59 3/467 12345\n")
    assert bt._RunQueue(str(fake)).read() == 3
    assert bt._RunQueue(str(tmp_path / "missing")).read() is None
    real = bt._RunQueue().read()
    assert real is None or real >= 1            # at least this thread runs


def test_gemm_site_runs_big_gemms_on_more_threads_only_in_auto_mode_and_restores_one(monkeypatch):
    import threading

    import numpy as np
    import threadpoolctl

    def blas_threads():
        return sorted({i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"})

    free = bt.OtherLoad(running_reader=lambda: 1, cpus=2)   # only the caller runs: the other core idle, for good
    monkeypatch.setattr(bt, "_other_load", free)
    monkeypatch.setattr(bt, "_usable_cores", lambda: [0, 1])
    previous = bt.set_blas_threads("auto")
    try:
        small, big = bt.GemmSite(bt.PARALLEL_FLOPS / 2), bt.GemmSite(bt.PARALLEL_FLOPS)
        assert not small.active and big.active
        a = np.ones((64, 64), np.float32)
        with big:                               # the first big call tries 2 threads (PROBE_FIRST = 1)
            inside = blas_threads()
            product = a @ a
        assert inside == [2] and blas_threads() == [1] and (product == 64).all()
        with small:
            assert blas_threads() == [1]
        # one site at a time sets the count: an inner site, or one in another thread meanwhile, leaves it alone
        big.chooser.using, big.chooser.countdown = 2, 100
        other = bt.GemmSite(bt.PARALLEL_FLOPS)
        other.chooser.countdown = 100
        seen = []
        with big:
            with other:
                seen.append(blas_threads())
            seen.append(blas_threads())
            thread = threading.Thread(target=lambda: other.__enter__() and seen.append(blas_threads())
                                      or other.__exit__(None, None, None))
            thread.start()
            thread.join()
        assert seen == [[2], [2], [2]] and blas_threads() == [1]
        assert other.chooser.times == {1: [], 2: []}        # nothing timed for the calls that set nothing
        bt.set_blas_threads(1)                  # a fixed count turns the sites off
        with bt.GemmSite(bt.PARALLEL_FLOPS):
            assert blas_threads() == [1]
    finally:
        bt.set_blas_threads(previous)


def test_gemm_site_counts_our_spinning_helper_as_ours_and_anyone_else_as_busy(monkeypatch):
    import threadpoolctl

    def blas_threads():
        return sorted({i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"})

    running = [1]
    monkeypatch.setattr(bt, "_other_load", bt.OtherLoad(running_reader=lambda: running[0], clock=lambda: 0.0,
                                                            cpus=2))
    monkeypatch.setattr(bt, "_usable_cores", lambda: [0, 1])
    previous = bt.set_blas_threads("auto")
    try:
        site = bt.GemmSite(bt.PARALLEL_FLOPS)
        site.chooser.using, site.chooser.countdown = 2, 100      # 2 threads won before
        seen = []
        for tasks in (1, 2, 3):     # idle; the caller + our helper spinning since the last call; + someone else
            running[0] = tasks
            with site:
                seen.append(blas_threads())
        assert seen == [[2], [2], [1]] and blas_threads() == [1]
    finally:
        bt.set_blas_threads(previous)
