"""Ctrl-C and the dependency engine (scheduler/engine.py): an interrupt never lands inside its bookkeeping.

Note [interrupts]
Python raises a KeyboardInterrupt in the main thread between almost any two bytecodes. Landing inside the
engine's bookkeeping (an op counted in flight but never retired, a var half granted) it would leave `waitall`
waiting forever. So the engine puts its own SIGINT handler in place of Python's default one (only that one, from
the main thread, when the first engine is made): like the default it raises KeyboardInterrupt, except while the
innermost engine frame of the main thread is bookkeeping (a function marked `@_bookkeeping`); then the interrupt
waits for the bookkeeping to end (`push` raises it as it returns). This is trio's KeyboardInterrupt protection,
by code object instead of a frame-local flag. An op's own fn is never protected (`_call_fn` marks where it
starts): an interrupt inside it, or a KeyboardInterrupt/SystemExit it raises, ends the op part way, so its
writes get an EngineError "interrupted ...; its outputs are incomplete" that later reads raise. Run in the
pushing thread (an inline op, NaiveEngine) the exception itself goes on to the caller of `push`, and `waitall`
does not report it again; on a worker it is an ordinary op error. Waits are not protected: Ctrl-C interrupts
`wait_for_var` and `waitall` and leaves the engine as it was. A handler the program installs itself replaces
ours, and with it the protection.
"""
import signal
import sys
import threading


_BOOKKEEPING = set()  # code objects of the functions that change the engine's state


def _bookkeeping(function):
    """Mark `function` as engine bookkeeping: a SIGINT arriving while the main thread runs it is deferred."""
    _BOOKKEEPING.add(function.__code__)
    return function


def _call_fn(fn):
    """Run an op's fn. Its frame tells the SIGINT handler that what runs above it is the op's, not bookkeeping."""
    fn()


class _Sigint:
    pending = 0         # the id of the (main) thread whose SIGINT was deferred in bookkeeping; 0: none
    installed = False


def _on_sigint(signum, frame):
    """Python's SIGINT handler (it runs in the main thread, between two bytecodes of `frame`): raise
    KeyboardInterrupt as Python's default handler does, unless the innermost engine frame is bookkeeping."""
    if frame is None:  # CPython 3.11 passes None when the signal wakes a blocked lock acquire
        frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code is _call_fn.__code__:
            break
        if code in _BOOKKEEPING:
            _Sigint.pending = threading.get_ident()
            return
        frame = frame.f_back
    raise KeyboardInterrupt


def _raise_deferred():
    """At the end of bookkeeping: raise the SIGINT deferred in it, if it was this thread's."""
    if _Sigint.pending == threading.get_ident():
        _Sigint.pending = 0
        raise KeyboardInterrupt


def _raise_interrupt(exc):
    """Raise what interrupted an fn run in this thread; a SIGINT deferred meanwhile is the same Ctrl-C."""
    if _Sigint.pending == threading.get_ident():
        _Sigint.pending = 0
    raise exc


def _install_sigint_handler():
    """Put `_on_sigint` in place of Python's default SIGINT handler (only that one, only from the main thread)."""
    if _Sigint.installed or threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _on_sigint)
        _Sigint.installed = True
    except (ValueError, OSError):  # no signals here (an embedded interpreter): nothing to protect from
        _Sigint.installed = True


# A wait wakes this often (s) to let Python run a pending SIGINT handler: a blocked lock is woken only by a
# signal the OS delivered to the main thread, not by one caught by another thread or by `_thread.interrupt_main`.
_WAKE_S = 0.1
