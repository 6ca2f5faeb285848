"""`mx.profiler`: MXNet's profiler API, recording the user's own scopes and writing chrome://tracing JSON.

What is recorded: the durations of `Task`s, `Frame`s and `Event`s (started and stopped by the caller), `Counter`
values and `Marker` instants, while the profiler runs (`set_state('run')`) and is not paused. `dump()` writes them
to the configured file as MXNet does (`{"traceEvents": [...], "displayTimeUnit": "ms"}`, MXNet's phases and
categories: a task is `b`/`e` in its domain's category, a frame `(`/`)` in `<domain>,frame`, an event `B`/`E` in
`event`, a counter `C`, a marker `n` in `<domain>,instant_marker`; one `process_name` metadata event per
category). With `aggregate_stats=True`, `dumps()` returns MXNet's table (or JSON) of count/total/min/max/avg per
name and category.

Operators: while it runs with `profile_all`, `profile_symbolic` or `profile_imperative` set (the last two are on by
default), every operator run is recorded in MXNet's `operator` category (a `B`/`E` pair in the trace, a row of the
table): each step of a Plan (Executor, hybridized blocks, autograd's backward; compiled Plans run their steps
interpreted meanwhile, a fused loop having no operator boundaries) and each imperative call, by its op name
(scheduler/op_timing.py). Not recorded: C API calls and memory (MXNet's `MXNET_C_API` and `Device Storage`
sections), and a GPU kernel's device time (its host launch is what is timed). A counter's statistics follow
MXNet's count, min, max and total (its current value), all in MXNet's units (the value / 1000); its average here
is the mean of its values, which MXNet computes otherwise.
"""
import json
import threading
import time
import warnings

from scheduler import op_timing

from .base import MXNetError
from .util import write_files

# MXNet's profiler config keys and their defaults (`ProfileConfigParam`)
_DEFAULT_CONFIG = {"profile_all": False, "profile_symbolic": True, "profile_imperative": True,
                   "profile_memory": True, "profile_api": True, "filename": "profile.json", "continuous_dump": False,
                   "dump_period": 1.0, "aggregate_stats": False, "profile_process": "worker"}
_STATES = {"stop": 0, "run": 1}
_PROCESSES = {"worker": 0, "server": 1}


class _Recorder:
    """The profiler's state: config, run/pause flags, the trace events and the aggregate statistics."""

    def __init__(self):
        self.config = dict(_DEFAULT_CONFIG)
        self.running = False
        self.paused = False
        self.events = []
        self.stats = {}                 # category -> name -> [count, total, min, max, sum]
        self.categories = []            # in first-seen order; a category's index is its trace pid
        self.lock = threading.Lock()
        self.origin = time.perf_counter()

    def now_us(self):
        return (time.perf_counter() - self.origin) * 1e6

    def active(self):
        return self.running and not self.paused

    def add(self, category, name, phase, **extra):
        """Append one trace event (while running and not paused); returns its timestamp or None."""
        if not self.active():
            return None
        ts = self.now_us()
        with self.lock:
            if category not in self.categories:
                self.categories.append(category)
            self.events.append(dict(name=name, cat=category, ph=phase, ts=ts, pid=self.categories.index(category),
                                    tid=threading.get_ident() % 1000003, **extra))
        return ts

    def operator(self, name, start, end):
        """An operator's run from `start` to `end` (time.perf_counter() seconds): a B/E pair and its time in ms."""
        begin_us, end_us = (start - self.origin) * 1e6, (end - self.origin) * 1e6
        with self.lock:
            if "operator" not in self.categories:
                self.categories.append("operator")
            pid, tid = self.categories.index("operator"), threading.get_ident() % 1000003
            self.events += [dict(name=name, cat="operator", ph="B", ts=begin_us, pid=pid, tid=tid),
                            dict(name=name, cat="operator", ph="E", ts=end_us, pid=pid, tid=tid)]
        self.aggregate("operator", name, (end - start) * 1e3)

    def update_operator_timer(self):
        """Time operators (scheduler/op_timing.py) exactly while recording with an operator profile on."""
        config = self.config
        wanted = self.active() and (config["profile_all"] or config["profile_symbolic"]
                                    or config["profile_imperative"])
        op_timing.timer = self.operator if wanted else None

    def aggregate(self, category, name, value, total=None):
        """Count `value` (ms) under `category`/`name`: count, total (the sum, or `total` when given: a counter's
        current value), min, max, and the sum the average divides."""
        if not self.config["aggregate_stats"]:
            return
        with self.lock:
            entry = self.stats.setdefault(category, {}).get(name)
            if entry is None:
                entry = self.stats[category][name] = [0, 0.0, value, value, 0.0]
            entry[0] += 1
            entry[4] += value
            entry[1] = entry[4] if total is None else total
            entry[2] = min(entry[2], value)
            entry[3] = max(entry[3], value)


_recorder = _Recorder()
profiler_kvstore_handle = None


def _check_process(profile_process):
    """'worker' or 'server' (a KeyError otherwise, as MXNet's lookup); only the worker exists here."""
    return _PROCESSES[profile_process]


def set_kvstore_handle(handle):
    """MXNet passes the kvstore to profile its servers; there are no kvstore servers here."""
    global profiler_kvstore_handle
    profiler_kvstore_handle = handle


def _parse(key, value):
    default = _DEFAULT_CONFIG[key]
    if isinstance(default, bool):
        text = str(value).strip().lower()
        if text not in ("true", "false", "1", "0"):
            raise MXNetError("Invalid Parameter format for %s expect boolean but value='%s'" % (key, value))
        return text in ("true", "1")
    if isinstance(default, float):
        return float(value)
    return str(value)


def set_config(**kwargs):
    """Configure the profiler (keyword arguments only): filename, profile_all, profile_symbolic,
    profile_imperative, profile_memory, profile_api, continuous_dump, dump_period, aggregate_stats,
    profile_process. An unknown key is an MXNetError listing the known ones, as MXNet's parameter parser."""
    for key in kwargs:
        if key not in _DEFAULT_CONFIG:
            raise MXNetError("Cannot find argument '%s', Possible Arguments:\n%s"
                             % (key, "\n".join(sorted(_DEFAULT_CONFIG))))
    _recorder.config.update({key: _parse(key, value) for key, value in kwargs.items()})
    _recorder.update_operator_timer()


def profiler_set_config(mode="symbolic", filename="profile.json"):
    """Deprecated: `set_config(profile_<mode>=True, filename=filename)`."""
    warnings.warn("profiler.profiler_set_config() is deprecated. Please use profiler.set_config() instead",
                  stacklevel=2)
    set_config(**{"profile_" + mode: True, "filename": filename})


def set_state(state="stop", profile_process="worker"):
    """'run' starts recording, 'stop' stops it (a KeyError for anything else, as MXNet's lookup)."""
    _recorder.running = bool(_STATES[state])
    _check_process(profile_process)
    _recorder.update_operator_timer()


def profiler_set_state(state="stop"):
    """Deprecated: `set_state(state)`."""
    warnings.warn("profiler.profiler_set_state() is deprecated. Please use profiler.set_state() instead",
                  stacklevel=2)
    set_state(state)


def dump(finished=True, profile_process="worker"):
    """Write the trace recorded so far to the configured file (chrome://tracing JSON). With `finished`, the
    recorded events are dropped afterwards, so the next dump starts a new trace."""
    _check_process(profile_process)
    with _recorder.lock:
        metadata = [dict(name="process_name", ph="M", pid=pid, tid=0, args=dict(name=category))
                    for pid, category in enumerate(_recorder.categories)]
        trace = {"traceEvents": metadata + list(_recorder.events), "displayTimeUnit": "ms"}
        if finished is True:
            _recorder.events = []
    write_files([(_recorder.config["filename"], json.dumps(trace, indent=4).encode())])


def dump_profile():
    """Deprecated: `dump(True)`."""
    warnings.warn("profiler.dump_profile() is deprecated. Please use profiler.dump() instead", stacklevel=2)
    dump(True)


_SORT_COLUMNS = {"total": 1, "avg": None, "min": 2, "max": 3, "count": 0}


def dumps(reset=False, format="table", sort_by="total", ascending=False):  # noqa: A002 (MXNet's name)
    """The aggregate statistics (collected with `aggregate_stats=True`) as MXNet's table or JSON
    (`{"Time": {category: {name: {Count, Total, Min, Max, Avg}}}, "Memory": {}, "Unit": {...}}`), entries sorted
    by `sort_by` within each category; `reset` clears them afterwards."""
    assert format in ("table", "json"), "Invalid value provided for format: {0}. Support: 'table', 'json'".format(
        format)
    assert sort_by in _SORT_COLUMNS, ("Invalid value provided for sort_by: {0}.             Support: 'total', "
                                      "'avg', 'min', 'max', 'count'".format(sort_by))
    assert ascending in (False, True), "Invalid value provided for ascending: {0}. Support: False, True".format(
        ascending)
    assert reset in (False, True), "Invalid value provided for reset: {0}. Support: False, True".format(reset)
    with _recorder.lock:
        stats = {category: dict(entries) for category, entries in sorted(_recorder.stats.items())}
        if reset:
            _recorder.stats = {}

    def key(item):
        count, total, low, high, summed = item[1]
        column = _SORT_COLUMNS[sort_by]
        return summed / count if column is None else (count, total, low, high)[column]

    ordered = {category: sorted(entries.items(), key=key, reverse=not ascending)
               for category, entries in stats.items()}
    if format == "json":
        return json.dumps({"Time": {category: {name: {"Count": c, "Total": t, "Min": lo, "Max": hi, "Avg": sm / c}
                                               for name, (c, t, lo, hi, sm) in entries}
                                    for category, entries in ordered.items()},
                           "Memory": {}, "Unit": {"Time": "ms", "Memory": "kB"}})
    lines = ["", "Profile Statistics:", "\tNote the difference in units for different entries."]
    for category, entries in ordered.items():
        lines += [category, "=================",
                  "%-30s%11s%17s%17s%17s%17s" % ("Name", "Total Count", "Time (ms)", "Min Time (ms)",
                                                 "Max Time (ms)", "Avg Time (ms)"),
                  "%-30s%11s%17s%17s%17s%17s" % ("----", "-----------", "---------", "-------------",
                                                 "-------------", "-------------")]
        lines += ["%-30s%11d%17.4f%17.4f%17.4f%17.4f" % (name, c, t, lo, hi, sm / c)
                  for name, (c, t, lo, hi, sm) in entries]
        lines.append("")
    return "\n".join(lines) + "\n"


def pause(profile_process="worker"):
    """Stop recording until `resume()` (the profiler stays in its state)."""
    _check_process(profile_process)
    _recorder.paused = True
    _recorder.update_operator_timer()


def resume(profile_process="worker"):
    """Record again after `pause()`."""
    _check_process(profile_process)
    _recorder.paused = False
    _recorder.update_operator_timer()


class Domain:
    """A category grouping tasks, frames, counters and markers (chrome://tracing's `cat`)."""

    def __init__(self, name):
        self.name = name
        self.handle = self       # MXNet's ProfileHandle; nothing native here

    def __str__(self):
        return self.name

    def new_task(self, name):
        return Task(self, name)

    def new_frame(self, name):
        return Frame(self, name)

    def new_counter(self, name, value=None):
        return Counter(self, name, value)

    def new_marker(self, name):
        return Marker(self, name)


class _Duration:
    """A named span timed between `start()` and `stop()`, traced as a begin/end pair in `_category`."""
    _phases = ("B", "E")

    def __init__(self, category, name):
        self.name = name
        self.handle = self
        self._category = category
        self._started = None

    def start(self):
        """Start timing."""
        self._started = _recorder.add(self._category, self.name, self._phases[0], **self._extra())

    def stop(self):
        """Stop timing (the span is counted in the statistics if its start was recorded)."""
        ended = _recorder.add(self._category, self.name, self._phases[1], **self._extra())
        if self._started is not None and ended is not None:       # timestamps in us, statistics in ms
            _recorder.aggregate(self._category, self.name, (ended - self._started) / 1000.0)
        self._started = None

    def _extra(self):
        return {}

    def __str__(self):
        return self.name


class Task(_Duration):
    """A unit of work of one thread; its passes are aggregated together (trace phases `b`/`e`)."""
    _phases = ("b", "e")

    def __init__(self, domain, name):
        super().__init__(domain.name, name)

    def _extra(self):
        return {"id": id(self) % 1000003}


class Frame(_Duration):
    """A frame: each pass a separate numbered span (trace phases `(` / `)`, category `<domain>,frame`)."""
    _phases = ("(", ")")

    def __init__(self, domain, name):
        super().__init__(domain.name + ",frame", name)


class Event(_Duration):
    """A span of the calling thread's work, in category `event` (trace phases `B`/`E`)."""

    def __init__(self, name):
        super().__init__("event", name)


class Counter:
    """A value traced over time (phase `C`, `args {name: value}`); `+=`/`-=` adjust it."""

    def __init__(self, domain, name, value=None):
        self.name = name
        self.handle = self
        self._domain = domain
        self._value = 0
        if value is not None:
            self.set_value(value)

    def set_value(self, value):
        self._value = int(value)
        # MXNet counts a counter's values as if they were microseconds, its total being the current value
        if _recorder.add(self._domain.name, self.name, "C", args={self.name: self._value}) is not None:
            _recorder.aggregate(self._domain.name, self.name, self._value / 1000.0, total=self._value / 1000.0)

    def increment(self, delta=1):
        self.set_value(self._value + int(delta))

    def decrement(self, delta=1):
        self.set_value(self._value - int(delta))

    def __iadd__(self, delta):
        self.increment(delta)
        return self

    def __isub__(self, delta):
        self.decrement(delta)
        return self

    def __str__(self):
        return self.name


class Marker:
    """An instant (phase `n`, category `<domain>,instant_marker`, `s` the scope's first letter)."""

    def __init__(self, domain, name):
        self.name = name
        self.domain = domain

    def mark(self, scope="process"):
        """Record the instant; `scope` is 'global', 'process', 'thread', 'task' or 'marker'."""
        category = self.domain.name + ",instant_marker"
        if _recorder.add(category, self.name, "n", s=scope[0]) is not None and _recorder.config["aggregate_stats"]:
            with _recorder.lock:
                _recorder.stats.setdefault(category, {})       # listed, without entries, as MXNet's
