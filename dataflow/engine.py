"""`mx.engine`: the bulk-execution size (`set_bulk_size`, `with bulk(n):`).

MXNet bundles up to that many consecutive imperative ops into one engine push. dataflow already runs a bound
graph as one push and small imperative ops inline in the calling thread (ARCHITECTURE.md, "Small work runs
inline"), so the size is kept and reported, as MXNet's API promises, but changes no execution.
"""

# MXNet starts with bulk size 0 (no bulking of imperative ops)
_bulk_size = 0


def set_bulk_size(size):
    """Set the bulk size; returns the previous one."""
    global _bulk_size
    previous, _bulk_size = _bulk_size, int(size)
    return previous


class _BulkScope:
    """`with bulk(size):` sets the size and restores the previous one on exit."""

    def __init__(self, size):
        self._size = size
        self._old_size = None

    def __enter__(self):
        self._old_size = set_bulk_size(self._size)
        return self

    def __exit__(self, ptype, value, trace):
        set_bulk_size(self._old_size)


def bulk(size):
    """A scope running with bulk size `size`."""
    return _BulkScope(size)
