"""`AttrScope`: attributes attached to every symbol created inside a `with` block (MXNet's `mx.AttrScope`)."""
import threading

_state = threading.local()


class AttrScope:
    """Attach `**kwargs` (strings) as attributes to the symbols created in this scope; scopes nest."""

    def __init__(self, **kwargs):
        for value in kwargs.values():
            if not isinstance(value, str):
                raise ValueError("Attributes need to be strings, got %r" % (value,))
        self._attr = kwargs
        self._old_scope = None

    def get(self, attr):
        """The scope's attributes updated with `attr` (explicit attributes win)."""
        if not self._attr:
            return dict(attr) if attr else {}
        merged = dict(self._attr)
        merged.update(attr or {})
        return merged

    def __enter__(self):
        self._old_scope = current()
        merged = dict(self._old_scope._attr)
        merged.update(self._attr)
        self._attr = merged
        _state.current = self
        return self

    def __exit__(self, *exc):
        _state.current = self._old_scope


# Attribute names MXNet stores with double underscores (`ctx_group` -> `__ctx_group__`), so that ops do not
# mistake them for params; `Symbol.attr` finds them by either name.
HIDDEN_KEYS = ("ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage", "profiler_scope")


def node_attrs(attrs):
    """`attrs` as stored on a node: hidden keys get their double underscores."""
    return {("__%s__" % k if k in HIDDEN_KEYS else k): v for k, v in attrs.items()}


def shown(attrs):
    """`attrs` as MXNet's `list_attr`/`attr_dict` show them: each hidden key under both of its names."""
    result = dict(attrs)
    for key in HIDDEN_KEYS:
        if "__%s__" % key in attrs:
            result[key] = attrs["__%s__" % key]
    return result


def current():
    """The AttrScope in effect in this thread."""
    scope = getattr(_state, "current", None)
    if scope is None:
        scope = _state.current = AttrScope()
    return scope
