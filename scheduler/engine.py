"""The dependency engine: run pushed ops in an order that respects the vars they read and write (MXNet's).

Contract. Every storage chunk has a `Var`. `push(fn, reads, writes, name)` schedules `fn()` to run after every
earlier-pushed op that writes one of its vars, and after every earlier-pushed op that reads one of its writes;
reads after reads run together. A var in both `reads` and `writes` counts as a write; duplicates are ignored.
`wait_for_var(var)` blocks until the writes of `var` pushed so far have finished; `waitall()` until everything
has. Both raise the stored error, if any (see Note [errors]).

Engines. `NaiveEngine` runs `fn` inside `push` (for debugging: a wrong answer that goes away under it is an
ordering bug). `ThreadedEngine` hands ready ops to `MXNET_CPU_WORKER_NTHREADS` (default 1) daemon threads
through a `queue.SimpleQueue`. Pending ops wait in per-var queues (MXNet's ThreadedVar), each op counting the
vars not yet granted to it, all under one lock. Consecutive reads of a var are granted together; a write is
granted once every earlier read and write of it has finished. An op granted everything at push time goes
straight to the workers. `get_engine()` picks by `MXNET_ENGINE_TYPE`: `NaiveEngine`, or `ThreadedEngine` (the
default; `ThreadedEnginePerDevice` is a synonym).

Cost (2 cores, CPython 3.11, empty fn, 200k pushes then one waitall): push + run + retire takes 1.6-1.9 µs per
op on ThreadedEngine (1 or 2 workers; up to ~4 µs in runs where the GIL hands over badly), 0.5-0.6 µs on
NaiveEngine. A push followed at once by `wait_for_var` is a thread round trip: 7-10 µs (~75 µs while other
processes keep the cores busy) against 0.6 µs. Ops under ~30 µs gain nothing from the thread hop: push a whole
Plan as one op, or pass `inline=True` for a small op: when its vars are free at push time, it then runs at once
in the pushing thread (ordering is unchanged: it was ready; only the overlap with Python is given up).

Rules for `fn`: it may push further ops, but must never wait (`wait_for_var`, `waitall`) on the engine: with
one worker that deadlocks. Workers are threads and do not survive `fork`: subprocesses must use `spawn`.

Example (any engine; NaiveEngine keeps it deterministic):
>>> eng = NaiveEngine()
>>> a, b, box = eng.new_var("a"), eng.new_var("b"), {}
>>> eng.push(lambda: box.update(a=1), writes=[a], name="init")
>>> eng.push(lambda: box.update(b=box["a"] + 1), reads=[a], writes=[b], name="add")
>>> eng.wait_for_var(b); box["b"]
2
>>> eng.push(lambda: 1 / 0, writes=[a], name="div")
>>> try:
...     eng.wait_for_var(a)
... except EngineError as e:
...     print(e, "|", type(e.original).__name__)
Error in operator div: division by zero | ZeroDivisionError

Note [errors]
If `fn` raises, the op's `EngineError` ("Error in operator <name>: <message>"; `.original` and `__cause__` are
the exception) is stored on each var it writes. An op that reads a var holding an error (read-modify-write
included) does not run `fn`; it passes the same error on to its writes, so a failure surfaces at the wait that
reads any output depending on it. A var that is only written does not stop the op: a write that runs fully
overwrites the value and clears the stored error. `wait_for_var` leaves the error on the var (a second wait
raises again). `waitall` raises the first error raised by an `fn` since the last `waitall`, and forgets the
others (they stay on their vars).
"""
import collections
import os
import queue
import threading

from ops.errors import MXNetError

__all__ = ["Engine", "EngineError", "NaiveEngine", "ThreadedEngine", "Var", "get_engine", "set_engine"]


class EngineError(MXNetError, RuntimeError):
    """An exception raised inside a pushed op, re-raised at a wait; `original` is what `fn` raised."""

    def __init__(self, op_name, original):
        super().__init__(f"Error in operator {op_name}: {str(original) or type(original).__name__}")
        self.op_name = op_name
        self.original = original
        self.__cause__ = original


class Var:
    """An engine variable: one per storage chunk. Holds the dependency bookkeeping and the stored error."""
    __slots__ = ("_error", "_queue", "_readers", "_writing", "name")

    def __init__(self, name=None):
        self.name = name
        self._queue = collections.deque()  # (op, mode) not yet granted, in push order
        self._readers = 0                  # granted reads not yet finished
        self._writing = False              # a granted write not yet finished
        self._error = None                 # EngineError of the last write, see Note [errors]

    def __repr__(self):
        return f"Var({self.name!r})" if self.name is not None else f"Var(at {id(self):#x})"


_READ, _WRITE, _WAIT = 0, 1, 2  # how a queued op uses a var; _WAIT: wait_for_var's marker, runs nothing


class _Op:
    __slots__ = ("checks", "done", "error", "fn", "name", "pending", "reads", "writes")

    def __init__(self, fn, name, reads, writes):
        self.fn = fn
        self.name = name
        writes, reads = tuple(writes), tuple(reads)  # our own copies: the caller may reuse its lists
        if len(writes) > 1:
            writes = tuple(dict.fromkeys(writes))
        if len(reads) > 1:
            reads = tuple(dict.fromkeys(reads))
        self.writes = writes
        self.checks = reads  # vars whose stored error stops the op (read-modify-write too)
        self.reads = [v for v in reads if v not in writes] if writes else reads
        self.pending = 0
        self.error = None


def _raise(error):
    raise error.with_traceback(None)  # one object is raised at many waits: keep its traceback from growing


class Engine:
    """The interface: `new_var`, `push`, `wait_for_var`, `waitall`."""

    def __init__(self):
        self._errors = []  # errors raised by an fn since the last waitall, in the order they happened

    def new_var(self, name=None):
        return Var(name)

    def push(self, fn, reads=(), writes=(), name="op", inline=False):
        raise NotImplementedError

    def wait_for_var(self, var):
        raise NotImplementedError

    def waitall(self):
        raise NotImplementedError

    _catch = Exception  # what a failing fn may raise and still become an EngineError

    def _execute(self, op):
        """Run op.fn unless a var it reads holds an error; set op.error; return the error if fn raised it."""
        for v in op.checks:
            if v._error is not None:
                op.error = v._error
                return None
        try:
            op.fn()
        except self._catch as e:  # whatever fn raises belongs to the vars it writes
            op.error = EngineError(op.name, e)
            return op.error
        return None


class NaiveEngine(Engine):
    """Runs every op synchronously inside `push`; errors are still stored and raised at the wait."""

    def push(self, fn, reads=(), writes=(), name="op", inline=False):
        op = _Op(fn, name, reads, writes)
        if self._execute(op) is not None:
            self._errors.append(op.error)
        for v in op.writes:
            v._error = op.error

    def wait_for_var(self, var):
        if var._error is not None:
            _raise(var._error)

    def waitall(self):
        errors, self._errors = self._errors, []
        if errors:
            _raise(errors[0])


class ThreadedEngine(Engine):
    """Worker threads fed by a SimpleQueue; ops wait in per-var queues until every var grants them."""
    _catch = BaseException  # a worker must not die (even on SystemExit): every later wait would hang

    def __init__(self, num_workers=None):
        super().__init__()
        if num_workers is None:
            num_workers = int(os.environ.get("MXNET_CPU_WORKER_NTHREADS", "1"))
        if num_workers < 1:
            raise ValueError(f"ThreadedEngine needs at least one worker, got {num_workers}")
        self.num_workers = num_workers
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # notified when the last op in flight retires
        self._inflight = 0
        self._ready = queue.SimpleQueue()
        for i in range(num_workers):
            threading.Thread(target=self._work, name=f"engine-worker-{i}", daemon=True).start()

    def push(self, fn, reads=(), writes=(), name="op", inline=False):
        op = _Op(fn, name, reads, writes)
        pending = 0
        with self._lock:
            self._inflight += 1
            for v in op.reads:
                if v._writing or v._queue:
                    v._queue.append((op, _READ))
                    pending += 1
                else:
                    v._readers += 1
            for v in op.writes:
                if v._writing or v._readers or v._queue:
                    v._queue.append((op, _WRITE))
                    pending += 1
                else:
                    v._writing = True
            op.pending = pending
        if not pending:
            if inline:      # ready now and small: running it here costs less than the thread hop
                self._finish(op, self._execute(op))
            else:
                self._ready.put(op)

    def wait_for_var(self, var):
        with self._lock:
            if var._writing or var._queue:  # writes pending: queue a marker behind them, sleep until granted
                marker = _Op(None, "wait_for_var", (), ())
                marker.done = threading.Lock()  # held until granted; cheaper than an Event
                marker.done.acquire()
                var._queue.append((marker, _WAIT))
            else:
                marker = None
                error = var._error
        if marker is not None:
            marker.done.acquire()
            error = marker.error
        if error is not None:
            _raise(error)

    def waitall(self):
        with self._lock:
            while self._inflight:
                self._idle.wait()
            errors, self._errors = self._errors, []
        if errors:
            _raise(errors[0])

    def _work(self):
        while True:
            op = self._ready.get()
            self._finish(op, self._execute(op))

    def _finish(self, op, raised):
        """Retire an executed op and queue the ops it made ready."""
        with self._lock:
            if raised is not None:
                self._errors.append(raised)
            ready = self._retire(op)
            self._inflight -= 1
            if not self._inflight:
                self._idle.notify_all()
        for r in ready:
            self._ready.put(r)

    def _retire(self, op):
        """Release op's vars (lock held); return the ops this made ready."""
        ready = []
        for v in op.writes:
            v._error = op.error
            v._writing = False
            self._grant(v, ready)
        for v in op.reads:
            v._readers -= 1
            if not v._readers:
                self._grant(v, ready)
        return ready

    @staticmethod
    def _grant(v, ready):
        """Grant v to the ops at the head of its queue: one write, or a run of reads (lock held)."""
        q = v._queue
        while q and not v._writing:
            op, mode = q[0]
            if mode == _WRITE:
                if v._readers:
                    return
                v._writing = True
            q.popleft()
            if mode == _WAIT:  # every earlier write has finished: wake the waiter, hold nothing
                op.error = v._error
                op.done.release()
                continue
            if mode == _READ:
                v._readers += 1
            op.pending -= 1
            if not op.pending:
                ready.append(op)


_ENGINE_TYPES = {"NaiveEngine": NaiveEngine, "ThreadedEngine": ThreadedEngine,
                 "ThreadedEnginePerDevice": ThreadedEngine}
_engine = None
_engine_lock = threading.Lock()


def get_engine():
    """The process-wide engine, created at first use from `MXNET_ENGINE_TYPE` (default `ThreadedEngine`)."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                kind = os.environ.get("MXNET_ENGINE_TYPE", "ThreadedEngine")
                if kind not in _ENGINE_TYPES:
                    raise ValueError(f"MXNET_ENGINE_TYPE={kind!r}: expected one of {sorted(_ENGINE_TYPES)}")
                _engine = _ENGINE_TYPES[kind]()
    return _engine


def set_engine(engine):
    """Replace the process-wide engine and return the old one (None: create anew from the environment)."""
    global _engine
    with _engine_lock:
        old, _engine = _engine, engine
    return old
