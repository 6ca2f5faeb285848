"""dist KVStores over MPI: 2-process jobs started with `python -m dataflow.launch -n 2` (loopback only) running
tests/dist_worker.py. Truth: one process training on the concatenated batch (MXNet's dist_sync rule: the workers'
gradients summed, rescaled by one worker's batch size), and arithmetic on the values pushed. Needs the `dist` extra
(mpi4py and the mpich wheel); skipped without it."""
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("mpi4py")

import dataflow as mx  # noqa: E402
from dataflow import launch  # noqa: E402
from tests import dist_worker  # noqa: E402

WORKER = os.path.join(os.path.dirname(__file__), "dist_worker.py")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _launch(scenario, outdir, timeout=180, **env):
    return subprocess.run([sys.executable, "-m", "dataflow.launch", "-n", "2", sys.executable, WORKER, scenario,
                           str(outdir)], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=ROOT, **env))


def test_dist_sync_trainer_equals_one_process_on_the_whole_batch(tmp_path):
    result = _launch("trainer", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    ranks = [np.load(tmp_path / ("rank%d.npz" % r)) for r in range(2)]
    assert [int(r["rank"]) for r in ranks] == [0, 1] and all(int(r["workers"]) == 2 for r in ranks)
    assert [int(r["worker_id"]) for r in ranks] == [0, 1] and all(int(r["num_worker"]) == 2 for r in ranks)
    for name in ranks[0].files:
        if name.startswith("broadcast/"):
            np.testing.assert_array_equal(ranks[0][name], ranks[1][name], err_msg=name)
    with mx.name.NameManager():     # the workers' layer names (dense0...), whatever this process built before
        model = dist_worker.net(seed=0)
    trainer = mx.gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9}, kvstore=None)
    want = dist_worker.train(model, trainer, *dist_worker.data())  # both halves in one batch, step(one half)
    for name, value in want.items():
        for r in ranks:
            np.testing.assert_allclose(r[name], value, rtol=1e-5, atol=1e-6, err_msg=name)
    # each worker saved its optimizer states; they load into a Trainer over the same parameters
    trainer.load_states(str(tmp_path / "states1"))
    momentum = trainer._updater.states
    assert sorted(momentum) == list(range(len(want)))


def test_module_fit_with_dist_sync_equals_one_process_on_the_whole_batch(tmp_path):
    result = _launch("module", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    want, _ = dist_worker.module_fit("local", *dist_worker.data()).get_params()   # rescale 1 / (2 * BATCH) both
    for r in range(2):
        got = np.load(tmp_path / ("rank%d.npz" % r))
        assert sorted(got.files) == sorted(want)
        for name, value in want.items():
            np.testing.assert_allclose(got[name], value.asnumpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_dist_store_sums_workers_and_contexts_and_horovod_allreduces(tmp_path):
    result = _launch("store", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for r in range(2):
        got = np.load(tmp_path / ("rank%d.npz" % r))
        np.testing.assert_array_equal(got["init"], np.ones((2, 3)))              # rank 0's init
        np.testing.assert_array_equal(got["summed"], np.full((2, 3), 2 + 3.0))   # (1+1) from rank 0, (2+1) from 1
        np.testing.assert_array_equal(got["updated"], np.full((2, 3), 5 - 0.5 * 2))   # SGD on the summed push
        np.testing.assert_array_equal(got["horovod"], np.full(3, 10 + 11.0))


def test_a_list_pushpull_of_many_keys_equals_per_key_pushpulls(tmp_path):
    # 64-byte buckets: the 40 keys of 1-36 elements in 3 dtypes make dozens of buckets, most holding several keys
    result = _launch("buckets", tmp_path, DATAFLOW_KVSTORE_BUCKET_BYTES="64")
    assert result.returncode == 0, result.stdout + result.stderr
    inputs = [dist_worker.bucket_inputs(r) for r in range(2)]
    for r in range(2):
        got = np.load(tmp_path / ("rank%d.npz" % r))
        for k in range(len(inputs[0])):
            want = (inputs[0][k][0] + inputs[0][k][1]) + (inputs[1][k][0] + inputs[1][k][1])
            for c in range(2):
                for name in ("listed", "per_key", "horovod"):
                    value = got["%s/%d/%d" % (name, k, c)]
                    assert value.dtype == want.dtype
                    np.testing.assert_array_equal(value, want, err_msg="%s key %d context %d" % (name, k, c))
        # the workers pushed different keys: each says so, naming both lists, and nothing hangs
        assert ("rank %d: KVStore: the layout of a list push of %d keys differs between the workers: rank 0: 0 (" %
                (r, 40 - r)) in result.stdout
        assert "; rank 1: 1 (" in result.stdout


def test_mismatched_init_is_a_clear_error_on_every_worker(tmp_path):
    result = _launch("mismatch", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for r in range(2):
        assert ("rank %d: KVStore: the init of key 'w' differs between the workers: rank 0: init of key 'w': "
                "shape (3,), dtype float32; rank 1: init of key 'w': shape (4,)" % r) in result.stdout


def test_a_dead_worker_ends_the_job_with_a_clear_error(tmp_path):
    # the job ends (a hang would raise TimeoutExpired): mpiexec stops the survivor, or its collective's deadline does
    result = _launch("die", tmp_path, timeout=120, DATAFLOW_KVSTORE_TIMEOUT="20")
    assert result.returncode != 0
    assert "rank 0 finished" not in result.stdout
    assert "dataflow.launch: the job of 2 workers failed with exit status" in result.stderr


def test_launcher_command_line():
    cmd = launch.command(3, ["python", "train.py", "--lr", "0.1"], mpiexec="/x/mpiexec")
    assert cmd[:3] == ["/x/mpiexec", "-n", "3"] and cmd[-4:] == ["python", "train.py", "--lr", "0.1"]
    env = {cmd[i + 1]: cmd[i + 2] for i, a in enumerate(cmd) if a == "-genv"}
    assert env["DMLC_ROLE"] == "worker" and env["DMLC_NUM_WORKER"] == "3" and env["DMLC_NUM_SERVER"] == "0"
    with pytest.raises(SystemExit, match="hostfile"):
        launch.command(2, ["python"], hostfile="/nonexistent/hosts", mpiexec="/x/mpiexec")
    with pytest.raises(SystemExit, match="at least 1"):
        launch.command(0, ["python"], mpiexec="/x/mpiexec")


def test_dist_sync_with_overlap_equals_without_and_one_process_on_the_whole_batch(tmp_path):
    # 400-byte buckets: deep_net's backward is cut into 3 pushes, each starting a bucket's reduction
    result = _launch("overlap", tmp_path, DATAFLOW_KVSTORE_BUCKET_BYTES="400")
    assert result.returncode == 0, result.stdout + result.stderr
    model = dist_worker.deep_net(seed=0)
    trainer = mx.gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9}, kvstore=None)
    want = list(dist_worker.train(model, trainer, *dist_worker.data()).values())
    for r in range(2):
        got = np.load(tmp_path / ("rank%d.npz" % r))
        assert list(got["pushes1"]) == [3] * dist_worker.STEPS and list(got["pushes0"]) == []
        for k, value in enumerate(want):
            np.testing.assert_allclose(got["overlap1/%d" % k], got["overlap0/%d" % k], rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(got["overlap1/%d" % k], value, rtol=1e-5, atol=1e-6)


def test_a_worker_dying_while_reductions_overlap_ends_the_job(tmp_path):
    result = _launch("die_overlap", tmp_path, timeout=120, DATAFLOW_KVSTORE_TIMEOUT="10",
                     DATAFLOW_KVSTORE_BUCKET_BYTES="400")
    assert result.returncode != 0
    assert "rank 0 finished" not in result.stdout
    assert "dataflow.launch: the job of 2 workers failed with exit status" in result.stderr


def test_a_stalled_worker_while_reductions_overlap_is_a_clear_error_in_bounded_time(tmp_path):
    # rank 1's backward stalls after its Trainer queued the reduction: rank 0's bucket waits out its deadline in the
    # communication thread, and the error reaches rank 0's waitall through the engine, which aborts the job
    result = _launch("hang_overlap", tmp_path, timeout=120, DATAFLOW_KVSTORE_TIMEOUT="8",
                     DATAFLOW_KVSTORE_BUCKET_BYTES="400")
    assert result.returncode != 0
    assert "rank 0 finished" not in result.stdout
    assert "did not complete on all 2 workers within 8 s (DATAFLOW_KVSTORE_TIMEOUT)" in result.stderr
    # both workers' reductions reach their deadline at about the same moment, and the first to abort the job may
    # stop the other while it still prints its traceback (its "aborting the job" line may never come out): the
    # job's end is what is certain
    assert "dataflow.launch: the job of 2 workers failed with exit status" in result.stderr


def test_module_with_overlap_and_a_segmented_backward_equals_one_process_on_the_whole_batch(tmp_path):
    result = _launch("module", tmp_path, DATAFLOW_BACKWARD_SEGMENTS="2", DATAFLOW_KVSTORE_BUCKET_BYTES="64")
    assert result.returncode == 0, result.stdout + result.stderr
    want, _ = dist_worker.module_fit("local", *dist_worker.data()).get_params()
    for r in range(2):
        got = np.load(tmp_path / ("rank%d.npz" % r))
        for name, value in want.items():
            np.testing.assert_allclose(got[name], value.asnumpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_two_bit_pushes_travel_packed_and_give_mxnets_numbers(tmp_path):
    result = _launch("twobit", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rec = np.load(os.path.join(ROOT, "tests", "fixtures", "mxnet-1.9.1", "kvstore", "kvstore.npz"))
    for r in range(2):
        got = np.load(tmp_path / ("rank%d.npz" % r))
        steps, size = len(rec["2bit/pulls"]), rec["2bit/pulls"][0].size
        assert sorted(got["packed"]) == [size] * steps + [2 * size] * steps     # every push went packed
        for step, want in enumerate(rec["2bit/pulls"]):
            np.testing.assert_array_equal(got["per_key/%d" % step], want)
            for k in range(2):
                np.testing.assert_array_equal(got["listed/%d/%d" % (step, k)], want)
