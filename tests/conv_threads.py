"""A fixed thread count for the convolutions' loops (ops/cpu/conv_parallel.py) in tests."""
import contextlib
import os

from ops.cpu import conv_parallel


@contextlib.contextmanager
def conv_threads(n, min_flops=0, serial=False):
    """Convolutions on n threads however small the work (the real MIN_PARALLEL_FLOPS would keep test shapes on one
    thread; `min_flops` sets another), with no backing off to one thread on a busy machine (Note [a busy core]) —
    or, `serial`, every call on the calling thread alone while DATAFLOW_CONV_THREADS still says n (as when the
    machine is busy)."""
    old_env, old_min = os.environ.get("DATAFLOW_CONV_THREADS"), conv_parallel.MIN_PARALLEL_FLOPS
    old_wait = conv_parallel.WAIT_LIMIT
    os.environ["DATAFLOW_CONV_THREADS"], conv_parallel.MIN_PARALLEL_FLOPS = str(n), min_flops
    conv_parallel.WAIT_LIMIT = float("inf")
    conv_parallel._serial_calls = 10 ** 9 if serial else 0
    assert conv_parallel.threads() == n
    try:
        yield
    finally:
        conv_parallel.MIN_PARALLEL_FLOPS, conv_parallel.WAIT_LIMIT = old_min, old_wait
        conv_parallel._serial_calls = 0
        if old_env is None:
            del os.environ["DATAFLOW_CONV_THREADS"]
        else:
            os.environ["DATAFLOW_CONV_THREADS"] = old_env
