"""`python -m dataflow.launch -n 2 python train.py ...`: start a data-parallel job whose workers use a dist KVStore.

The processes are started by MPI's own launcher (`mpiexec` of the `dist` extra's MPICH): on one machine, N local
processes; with `--hostfile FILE` (MPICH's format: `host[:slots]` per line), across the machines in it, over ssh, as
MPI does. Each worker gets the environment variables MXNet's launcher (tools/launch.py with ps-lite) sets, which
scripts read: DMLC_ROLE=worker, DMLC_NUM_WORKER, DMLC_NUM_SERVER=0 (no servers: see dataflow/kvstore/store.py),
and DMLC_WORKER_ID, its rank, once it creates a dist store. The exit status is the job's: non-zero as soon as any
worker fails (a worker's uncaught error aborts the others, dataflow/kvstore/comm.py).
"""
import argparse
import os
import shutil
import subprocess
import sys
import sysconfig


def find_mpiexec():
    """The mpiexec beside this Python (the mpich wheel installs it there), else the first on PATH."""
    here = os.path.join(sysconfig.get_path("scripts"), "mpiexec")
    found = here if os.access(here, os.X_OK) else shutil.which("mpiexec")
    if found is None:
        raise SystemExit("dataflow.launch: no mpiexec found; install the dist extra: pip install 'dataflow[dist]'")
    return found


def command(num_workers, argv, hostfile=None, mpiexec=None):
    """The mpiexec command line that runs `argv` as `num_workers` workers."""
    if num_workers < 1:
        raise SystemExit("dataflow.launch: -n must be at least 1, got %d" % num_workers)
    cmd = [mpiexec or find_mpiexec(), "-n", str(num_workers)]
    if hostfile:
        if not os.path.isfile(hostfile):
            raise SystemExit("dataflow.launch: hostfile %r does not exist" % hostfile)
        cmd += ["-f", hostfile]
    env = {"DMLC_ROLE": "worker", "DMLC_NUM_WORKER": str(num_workers), "DMLC_NUM_SERVER": "0",
           "DMLC_LAUNCHER": "dataflow.launch"}
    for name, value in env.items():
        cmd += ["-genv", name, value]
    return cmd + list(argv)


def main(args=None):
    parser = argparse.ArgumentParser(prog="python -m dataflow.launch",
                                     description="Run a command as the workers of a data-parallel dataflow job.")
    parser.add_argument("-n", "--num-workers", type=int, required=True, help="number of worker processes")
    parser.add_argument("-H", "--hostfile", help="MPICH hostfile (host[:slots] per line) to spread the workers")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command each worker runs")
    ns = parser.parse_args(args)
    if not ns.command:
        parser.error("give the command to run, e.g. python train.py")
    status = subprocess.call(command(ns.num_workers, ns.command, ns.hostfile))
    if status != 0:
        sys.stderr.write("dataflow.launch: the job of %d workers failed with exit status %d (the first worker to fail "
                         "ended it; mpiexec stopped the others)\n" % (ns.num_workers, status))
    return status


if __name__ == "__main__":
    sys.exit(main())
