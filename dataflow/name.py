"""Automatic names for symbols: `NameManager` and `Prefix`, as MXNet 1.x names them.

An op created without a name gets `<hint><n>`, where the hint is the lower-cased name the op was called by
(`_plus0`, `fullyconnected0`, `dot0`) and n counts per hint within the current manager. `Prefix` prepends a string
to every op name, explicit names included; variables are never renamed.
"""
import threading

_state = threading.local()


class NameManager:
    """Gives unique names to unnamed ops; use as a context manager to make it current."""

    def __init__(self):
        self._counter = {}
        self._old_manager = None

    def get(self, name, hint):
        """`name` if given, else the next `<hint><n>`."""
        if name:
            return name
        count = self._counter.get(hint, 0)
        self._counter[hint] = count + 1
        return "%s%d" % (hint, count)

    def __enter__(self):
        self._old_manager = current()
        _state.current = self
        return self

    def __exit__(self, *exc):
        _state.current = self._old_manager


class Prefix(NameManager):
    """A NameManager that prepends `prefix` to every name it gives (explicit names included)."""

    def __init__(self, prefix):
        super().__init__()
        self._prefix = prefix

    def get(self, name, hint):
        return self._prefix + super().get(name, hint)


def current():
    """The NameManager in effect in this thread."""
    manager = getattr(_state, "current", None)
    if manager is None:
        manager = _state.current = NameManager()
    return manager
