"""The dependency engine: run pushed ops in an order that respects the vars they read and write (MXNet's).

Contract. Every storage chunk has a `Var`. `push(fn, reads, writes, name)` schedules `fn()` to run after every
earlier-pushed op that writes one of its vars, and after every earlier-pushed op that reads one of its writes;
reads after reads run together. A var in both `reads` and `writes` counts as a write; duplicates are ignored.
`wait_for_var(var)` blocks until the writes of `var` pushed so far have finished; `waitall()` until everything
has. Both raise the stored error, if any (see Note [errors]).

Engines. `NaiveEngine` runs `fn` inside `push`, one op at a time across threads (for debugging: a wrong answer
that goes away under it is an ordering bug). `ThreadedEngine` hands ready ops to `MXNET_CPU_WORKER_NTHREADS`
(default 1) daemon threads through a `queue.SimpleQueue`. Pending ops wait in per-var queues (MXNet's
ThreadedVar), each op counting the vars not yet granted to it, all under one lock. Consecutive reads of a var are
granted together; a write is granted once every earlier read and write of it has finished. An op granted
everything at push time goes straight to the workers. Both engines may be pushed to from several Python threads.
`get_engine()` picks by `MXNET_ENGINE_TYPE`: `NaiveEngine`, or `ThreadedEngine` (the default;
`ThreadedEnginePerDevice` is a synonym).

Vars are the same for every engine: `Var()` is what `new_var` returns, and NDArrays make theirs directly.

Cost (2 cores, CPython 3.11, empty fn, 200k pushes then one waitall): push + run + retire takes 1.6-1.9 µs per
op on ThreadedEngine (1 or 2 workers; up to ~4 µs in runs where the GIL hands over badly), 0.5-0.6 µs on
NaiveEngine. A push followed at once by `wait_for_var` is a thread round trip: 7-10 µs (~75 µs while other
processes keep the cores busy) against 0.6 µs. Ops under ~30 µs gain nothing from the thread hop: push a whole
Plan as one op, or pass `inline=True` for a small op: when its vars are free at push time, it then runs at once
in the pushing thread (ordering is unchanged: it was ready; only the overlap with Python is given up). Such an
op runs in `_run_if_ready` holding the engine's lock (Note [inline ops]): 0.3 µs per push against 1.6 µs through
`_Op` (empty fn, one read, one write; 0.9 µs when it took the lock twice and marked its vars).

Rules for `fn`: it may push further ops, but must never wait (`wait_for_var`, `waitall`) on the engine: with
one worker that deadlocks. Code inside `fn` that must run NDArray ops and wait (a custom op's Python callback,
ops/custom.py) makes an `ImmediateEngine` (a NaiveEngine that raises at push) its thread's engine with `scoped`.
Engines are re-created in a forked child (Note [fork]).

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
overwrites the value and clears the stored error. A write that covers only part of a var's storage (`y[0:1] = 5`,
dataflow/ndarray/indexing.py; an op's `out=y[0:1]` and `copyto` into a slice, `_partial_writes` in
dataflow/ndarray/ndarray.py) must therefore declare the var as read too, or it would expose the rest of a
failed value. `wait_for_var` leaves the error on the var (a second wait raises again). `waitall` raises the first
error raised by an `fn` since the last `waitall`, and forgets the others (they stay on their vars).
MXNet differs in both: a wait that raises an error forgets it (its exception_ptr is shared by every var the error
reached and by WaitForAll's list), so a second `asnumpy()` of a failed output returns uninitialised memory, and
whether `waitall` still raises depends on which thread's wait raced to raise it first. We keep the error on the
var (no silent wrong results) and report every failure at the next `waitall` even if a wait raised it already
(the same answer whatever the threads did); code that caught an error and goes on may call `waitall` once to
acknowledge it.

Ctrl-C: Note [interrupts] in scheduler/interrupts.py (an interrupt never lands in the middle of bookkeeping).

Note [inline ops]
An inline op whose vars are free runs its fn inside `_run_if_ready` while holding the engine's lock. Nothing can
be granted or retired meanwhile, so its vars need no marking: the ops running on workers were granted before,
when its reads were not being written and its writes were neither read nor written, and none can start until it
ends. This is one lock hold and no `_Op` per op, which is most of the imperative path's engine cost (0.3 µs against
0.9 µs with two holds and marked vars). The price: a worker whose op ends meanwhile waits to retire it, and so
does another thread's push or wait (inline ops are small: `_INLINE_BYTES` in dataflow/ndarray/calls.py). The lock
is re-entrant because an fn may push: such a push first marks the running inline op's vars as granted
(`_hold_inline`), so an op it pushes over those vars waits for it, as any later op would.

Note [fork]
Worker threads and locks held by other threads do not survive `os.fork()` (multiprocessing's default on Linux),
so `os.register_at_fork` hooks re-create each engine in the child. A ThreadedEngine's lock is held across the
fork. It is held while an inline fn runs (a few µs: Note [inline ops]), so a fork waits for an inline op to end,
but never for a worker's op: waiting for those could deadlock with other fork hooks (logging's holds its lock
while a worker may be importing and logging; our hook runs before logging's, which was registered earlier). In
the child the engine gets a fresh lock, queue and workers; the ops in flight at the fork are sorted: an op whose
fn had started on a worker is lost, and its writes hold an error saying so; every other
op is queued again in push order and runs in the child (its reads are the child's copy). A NaiveEngine's lock,
unless the forking thread holds it, is replaced, and the op another thread was running is lost the same way.
MXNet instead waits in the parent for all pushed work before forking; here a value still being computed when
the process forks must be waited for (`wait_to_read`, `waitall`) before forking if the child needs it.
"""
import collections
import contextlib
import os
import queue
import threading
import weakref

from ops.errors import MXNetError

from .interrupts import (_WAKE_S, _bookkeeping, _call_fn, _install_sigint_handler, _raise_deferred,
                         _raise_interrupt, _Sigint)

__all__ = ["Engine", "EngineError", "ImmediateEngine", "NaiveEngine", "ThreadedEngine", "Var", "get_engine",
           "scoped", "set_engine"]


class EngineError(MXNetError, RuntimeError):
    """An exception raised inside a pushed op, re-raised at a wait; `original` is what `fn` raised."""

    def __init__(self, op_name, original):
        if isinstance(original, Exception):
            message = str(original) or type(original).__name__
        else:  # KeyboardInterrupt, SystemExit: the op stopped part way, see Note [interrupts]
            message = f"interrupted by {type(original).__name__}; its outputs are incomplete"
        super().__init__(f"Error in operator {op_name}: {message}")
        self.op_name = op_name
        self.original = original
        self.__cause__ = original


class Var:
    """An engine variable: one per storage chunk. Holds the dependency bookkeeping and the stored error."""
    __slots__ = ("_error", "_queue", "_readers", "_writing", "name")

    def __init__(self, name=None):
        self.name = name
        self._queue = ()                   # (op, mode) not yet granted, in push order: a deque once one waits
        self._readers = 0                  # granted reads not yet finished
        self._writing = False              # a granted write not yet finished
        self._error = None                 # EngineError of the last write, see Note [errors]

    def __repr__(self):
        return f"Var({self.name!r})" if self.name is not None else f"Var(at {id(self):#x})"


def _enqueue(v, entry):
    """Queue `entry` on var v (lock held); most vars never wait, so their queue is made on the first."""
    if v._queue:
        v._queue.append(entry)
    else:
        v._queue = collections.deque((entry,))


_READ, _WRITE, _WAIT = 0, 1, 2  # how a queued op uses a var; _WAIT: wait_for_var's marker, runs nothing
_STARTED = -1                   # an op's `pending` once a thread has begun running its fn


class _Op:
    __slots__ = ("checks", "done", "error", "fn", "name", "pending", "reads", "writes")

    def __init__(self, fn, name, reads, writes):
        self.fn = fn
        self.name = name
        writes, reads = tuple(writes), tuple(reads)  # our own copies: the caller may reuse its lists
        if len(writes) > 1:
            writes = tuple(dict.fromkeys(writes))    # a write queued twice would wait for itself
        # a read listed twice is granted and released twice, consistently: no need to pay for removing it
        self.writes = writes
        self.checks = reads  # vars whose stored error stops the op (read-modify-write too)
        self.reads = [v for v in reads if v not in writes] if writes else reads
        self.pending = 0
        self.error = None


def _raise(error):
    raise error.with_traceback(None)  # one object is raised at many waits: keep its traceback from growing


# ---- engines -------------------------------------------------------------------------------------------------

_ENGINES = weakref.WeakSet()  # every engine made, for the fork handlers (Note [fork])


class Engine:
    """The interface: `new_var`, `push`, `wait_for_var`, `waitall`."""

    def __init__(self):
        self._errors = []  # errors raised by an fn since the last waitall, in the order they happened
        _install_sigint_handler()
        _ENGINES.add(self)

    def new_var(self, name=None):
        return Var(name)

    def push(self, fn, reads=(), writes=(), name="op", inline=False):
        raise NotImplementedError

    def wait_for_var(self, var):
        raise NotImplementedError

    def waitall(self):
        raise NotImplementedError

    @staticmethod
    @_bookkeeping
    def _run(op):
        """Run op.fn unless a var it reads holds an error; set op.error; return what fn raised, or None."""
        for v in op.checks:
            if v._error is not None:
                op.error = v._error
                return None
        try:
            _call_fn(op.fn)
        except BaseException as e:  # whatever fn raises belongs to the vars it writes (a worker must not die)
            op.error = EngineError(op.name, e)
            return e
        return None

    def _before_fork(self):
        pass

    def _after_fork(self, in_child):
        pass


def _lose(ops):
    """In a forked child: the fns of `ops` were running in threads the child does not have."""
    for op in ops:
        error = EngineError(op.name, RuntimeError("the process forked while this op was running; its outputs "
                                                  "are lost in the child"))
        for v in op.writes:
            v._error = error


class NaiveEngine(Engine):
    """Runs every op synchronously inside `push`, one at a time across threads; errors are still stored and
    raised at the wait. A KeyboardInterrupt (any BaseException) from fn goes on to the caller of push."""

    def __init__(self):
        super().__init__()
        self._lock = threading.RLock()  # re-entrant: an fn may push
        self._active = []               # ops whose fn runs now (an fn may push: a stack)

    @_bookkeeping
    def push(self, fn, reads=(), writes=(), name="op", inline=False):
        op = _Op(fn, name, reads, writes)
        with self._lock:
            self._active.append(op)
            raised = self._run(op)
            self._active.pop()
            for v in op.writes:
                v._error = op.error
            if isinstance(raised, Exception):
                self._errors.append(op.error)
        if raised is not None and not isinstance(raised, Exception):
            _raise_interrupt(raised)
        if _Sigint.pending:
            _raise_deferred()

    def wait_for_var(self, var):
        with self._lock:  # an op another thread is running has not finished writing
            error = var._error
        if error is not None:
            _raise(error)

    def waitall(self):
        with self._lock:
            errors, self._errors = self._errors, []
        if errors:
            _raise(errors[0])

    def _after_fork(self, in_child):
        if in_child and not self._lock._is_owned():  # held, if at all, by a thread the child does not have
            self._lock = threading.RLock()
            _lose(self._active)
            self._active = []


class ImmediateEngine(NaiveEngine):
    """A NaiveEngine whose `push` raises the op's error at once, for code running inside a pushed op (a custom
    op's Python callback, dataflow/operator.py): there a stored error would be lost and a wait on the outer engine
    could deadlock. Use it through `scoped`."""

    @_bookkeeping
    def push(self, fn, reads=(), writes=(), name="op", inline=False):
        op = _Op(fn, name, reads, writes)
        with self._lock:
            self._active.append(op)
            raised = self._run(op)
            self._active.pop()
            for v in op.writes:
                v._error = op.error
        if raised is not None and not isinstance(raised, Exception):
            _raise_interrupt(raised)
        if op.error is not None:
            _raise(op.error)
        if _Sigint.pending:
            _raise_deferred()


class ThreadedEngine(Engine):
    """Worker threads fed by a SimpleQueue; ops wait in per-var queues until every var grants them."""

    def __init__(self, num_workers=None):
        super().__init__()
        if num_workers is None:
            num_workers = int(os.environ.get("MXNET_CPU_WORKER_NTHREADS", "1"))
        if num_workers < 1:
            raise ValueError(f"ThreadedEngine needs at least one worker, got {num_workers}")
        self.num_workers = num_workers
        self._running = {}  # ops pushed and not yet retired (a dict: ordered, and O(1) to remove)
        self._inline = None  # [reads, writes, marked] of the inline op running now (Note [inline ops])
        self._start()

    def _start(self):
        self._waiters = 0   # threads in waitall: only then does retiring the last op notify `_idle`
        self._lock = threading.RLock()   # re-entrant: an inline fn runs holding it, and may push
        self._idle = threading.Condition(self._lock)  # notified when the last op in flight retires
        self._ready = queue.SimpleQueue()
        for i in range(self.num_workers):
            threading.Thread(target=self._work, name=f"engine-worker-{i}", daemon=True).start()

    @_bookkeeping
    def push(self, fn, reads=(), writes=(), name="op", inline=False):
        if not (inline and self._run_if_ready(fn, reads, writes, name)):
            op = _Op(fn, name, reads, writes)
            with self._lock:
                if self._inline is not None:
                    self._hold_inline()
                pending = self._admit(op)
            if not pending:
                self._ready.put(op)
        if _Sigint.pending:
            _raise_deferred()

    @_bookkeeping
    def _run_if_ready(self, fn, reads, writes, name):
        """Run an inline op now, in this thread, if every var is free for it and no read holds an error; return
        whether it ran. It runs holding the engine's lock (Note [inline ops]), so its vars need no marking unless
        its fn pushes, and no `_Op` is made: a worker's op that ends meanwhile retires once this one has."""
        with self._lock:
            if self._inline is not None:
                self._hold_inline()
            for v in reads:
                if v._writing or v._queue or v._error is not None:
                    return False     # pushed as usual: it waits, or passes the read's error on
            for v in writes:
                if v._writing or v._readers or v._queue:
                    return False
            held = [reads, writes, False]
            outer, self._inline = self._inline, held
            error = raised = None
            try:
                _call_fn(fn)
            except BaseException as e:  # noqa: BLE001 - it belongs to the op's writes, as on a worker
                error, raised = EngineError(name, e), e
                if isinstance(e, Exception):
                    self._errors.append(error)
            self._inline = outer
            for v in writes:
                v._error = error    # a full overwrite clears a stored error (Note [errors])
            if held[2]:             # its fn pushed: release the vars `_hold_inline` marked
                ready = []
                for v in writes:
                    v._writing = False
                    if v._queue:
                        self._grant(v, ready)
                for v in reads:
                    v._readers -= 1
                    if not v._readers and v._queue:
                        self._grant(v, ready)
                for r in ready:
                    self._ready.put(r)
        if raised is not None and not isinstance(raised, Exception):
            _raise_interrupt(raised)  # the caller gets the interrupt; the outputs keep the error
        return True

    def _hold_inline(self):
        """A push from inside a running inline fn (this thread holds the lock): mark that op's vars as granted, as
        `_admit` would have, so that what the push depends on waits for the op to end (lock held)."""
        held = self._inline
        if not held[2]:
            for v in held[0]:
                v._readers += 1
            for v in held[1]:
                v._writing = True
            held[2] = True

    @_bookkeeping
    def _admit(self, op):
        """Count op in flight and queue it on the vars not free for it (lock held); return how many."""
        self._running[op] = None
        pending = 0
        for v in op.reads:
            if v._writing or v._queue:
                _enqueue(v, (op, _READ))
                pending += 1
            else:
                v._readers += 1
        for v in op.writes:
            if v._writing or v._readers or v._queue:
                _enqueue(v, (op, _WRITE))
                pending += 1
            else:
                v._writing = True
        op.pending = pending
        return pending

    def wait_for_var(self, var):
        marker, error = self._wait_marker(var)
        if marker is not None:
            while not marker.done.acquire(timeout=_WAKE_S):  # Ctrl-C ends this; the marker left holds nothing
                pass
            error = marker.error
        if error is not None:
            _raise(error)

    @_bookkeeping
    def _wait_marker(self, var):
        """(marker, None) when writes of var are pending: a marker queued behind them, released when granted;
        else (None, the var's error)."""
        with self._lock:
            if not (var._writing or var._queue):
                return None, var._error
            marker = _Op(None, "wait_for_var", (), ())
            marker.done = threading.Lock()  # held until granted; cheaper than an Event
            marker.done.acquire()
            _enqueue(var, (marker, _WAIT))
        return marker, None

    def waitall(self):
        with self._lock:
            self._waiters += 1
            try:
                while self._running:
                    self._idle.wait(_WAKE_S)  # Ctrl-C ends this (Condition.wait restores the lock)
            finally:
                self._waiters -= 1
        errors = self._take_errors()
        if errors:
            _raise(errors[0])

    @_bookkeeping
    def _take_errors(self):
        with self._lock:
            errors, self._errors = self._errors, []
        return errors

    def _work(self):
        while True:
            op = self._ready.get()
            op.pending = _STARTED
            self._finish(op, self._run(op) is not None)

    @_bookkeeping
    def _finish(self, op, report):
        """Retire an executed op and queue the ops it made ready; `report`: add its error to waitall's."""
        with self._lock:
            if self._running.pop(op, self) is self:  # pushed before a fork, retired in the child: Note [fork]
                return
            if report:
                self._errors.append(op.error)
            ready = self._retire(op)
            if self._waiters and not self._running:
                self._idle.notify_all()
        for r in ready:
            self._ready.put(r)

    @_bookkeeping
    def _retire(self, op):
        """Release op's vars (lock held); return the ops this made ready."""
        ready = []
        for v in op.writes:
            v._error = op.error
            v._writing = False
            if v._queue:
                self._grant(v, ready)
        for v in op.reads:
            v._readers -= 1
            if not v._readers and v._queue:
                self._grant(v, ready)
        return ready

    @staticmethod
    @_bookkeeping
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

    def _before_fork(self):
        self._lock.acquire()  # held across the fork: the child copies a consistent state (Note [fork])

    def _after_fork(self, in_child):
        if not in_child:
            self._lock.release()
            return
        ops = list(self._running)
        self._running = {}
        self._start()  # fresh lock and queue; the parent's workers do not exist here
        for op in ops:
            for v in (*op.reads, *op.writes):
                v._queue = ()
                v._readers, v._writing = 0, False
        _lose([op for op in ops if op.pending == _STARTED])
        ready = []
        with self._lock:  # the ops not started yet run again here, in push order
            for op in ops:
                if op.pending != _STARTED and not self._admit(op):
                    ready.append(op)
        for op in ready:
            self._ready.put(op)


_ENGINE_TYPES = {"NaiveEngine": NaiveEngine, "ThreadedEngine": ThreadedEngine,
                 "ThreadedEnginePerDevice": ThreadedEngine}
_engine = None
_engine_lock = threading.Lock()
class _ThreadEngine(threading.local):
    engine = None               # a class default: `_thread.engine` never raises (getattr's miss costs 0.3 us)


_thread = _ThreadEngine()       # `scoped`'s per-thread engine


def get_engine():
    """This thread's engine: the one `scoped` set, else the process-wide one, created at first use from
    `MXNET_ENGINE_TYPE` (default `ThreadedEngine`)."""
    scoped_engine = getattr(_thread, "engine", None)
    if scoped_engine is not None:
        return scoped_engine
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


@contextlib.contextmanager
def scoped(engine):
    """Make `engine` the calling thread's engine inside the block (other threads keep theirs)."""
    old = getattr(_thread, "engine", None)
    _thread.engine = engine
    try:
        yield engine
    finally:
        _thread.engine = old


# ---- fork: Note [fork] ---------------------------------------------------------------------------------------

_forking = []  # the engines prepared by _before_fork, in order


def _before_fork():
    for engine in list(_ENGINES):
        engine._before_fork()
        _forking.append(engine)


def _after_fork(in_child):
    global _engine_lock
    if in_child:
        _engine_lock = threading.Lock()
    while _forking:
        _forking.pop()._after_fork(in_child)


os.register_at_fork(before=_before_fork, after_in_parent=lambda: _after_fork(False),
                    after_in_child=lambda: _after_fork(True))
