"""Notebook callbacks for `Module.fit` / `model.fit`: `PandasLogger` collects the metrics in pandas DataFrames
(train every `frequent` batches, eval at each evaluation, epoch timings); the `Live*` classes draw bokeh charts
updated while training runs; `args_wrapper` merges several objects' `callback_args()` for `fit(**...)`."""
import datetime
import time
from collections import defaultdict

from ..base import MXNetError


def _require(package):
    """Import an optional package, or raise an MXNetError saying which is missing and why."""
    try:
        return __import__(package, fromlist=["_"])
    except ImportError:
        raise MXNetError("mx.notebook.callback needs the optional package '%s' (pip install %s)"
                         % (package, package.split(".")[0])) from None


def _add_new_columns(dataframe, metrics):
    """Give `dataframe` a column (of None) for every key of `metrics` it lacks."""
    for column in set(metrics.keys()) - set(dataframe.columns):
        dataframe[column] = None


def _extend(base_data, new_data):
    """Append to `base_data` the items of the longer `new_data` it does not have yet."""
    base_data.extend(new_data[len(base_data):])


class PandasLogger:
    """Logs training statistics into three pandas DataFrames: `train` (every `frequent` batches), `eval` (each
    evaluation) and `epoch` (epoch timings). Needs pandas."""

    def __init__(self, batch_size, frequent=50):
        pd = _require("pandas")
        self.batch_size = batch_size
        self.frequent = frequent
        self._dataframes = {"train": pd.DataFrame(), "eval": pd.DataFrame(), "epoch": pd.DataFrame()}
        self.last_time = time.time()
        self.start_time = datetime.datetime.now()
        self.last_epoch_time = datetime.datetime.now()

    @property
    def train_df(self):
        return self._dataframes["train"]

    @property
    def eval_df(self):
        return self._dataframes["eval"]

    @property
    def epoch_df(self):
        return self._dataframes["epoch"]

    @property
    def all_dataframes(self):
        return self._dataframes

    def elapsed(self):
        """Time since the logger was made."""
        return datetime.datetime.now() - self.start_time

    def append_metrics(self, metrics, df_name):
        """Append the dict `metrics` as a row of data frame `df_name` (new keys become columns)."""
        dataframe = self._dataframes[df_name]
        _add_new_columns(dataframe, metrics)
        dataframe.loc[len(dataframe)] = metrics

    def train_cb(self, param):
        """Batch-end callback: a train row every `frequent` batches."""
        if param.nbatch % self.frequent == 0:
            self._process_batch(param, "train")

    def eval_cb(self, param):
        """Eval-end callback: an eval row."""
        self._process_batch(param, "eval")

    def _process_batch(self, param, dataframe):
        now = time.time()
        metrics = {}
        if param.eval_metric is not None:
            metrics = dict(param.eval_metric.get_name_value())
            param.eval_metric.reset()
        try:
            speed = self.frequent / (now - self.last_time)
        except ZeroDivisionError:
            speed = float("inf")
        # (MXNet's column names: 'batches_per_sec' holds records/s and 'records_per_sec' batches/s)
        metrics["batches_per_sec"] = speed * self.batch_size
        metrics["records_per_sec"] = speed
        metrics["elapsed"] = self.elapsed()
        metrics["minibatch_count"] = param.nbatch
        metrics["epoch"] = param.epoch
        self.append_metrics(metrics, dataframe)
        self.last_time = now

    def epoch_cb(self):
        """Epoch-end callback: an epoch row with the epoch's duration."""
        now = datetime.datetime.now()
        self.append_metrics({"elapsed": self.elapsed(), "epoch_time": now - self.last_epoch_time}, "epoch")
        self.last_epoch_time = now

    def callback_args(self):
        """The keyword arguments for `fit` enabling this logger's callbacks."""
        return {"batch_end_callback": self.train_cb, "eval_end_callback": self.eval_cb,
                "epoch_end_callback": self.epoch_cb}


class LiveBokehChart:
    """Base class of the bokeh charts drawn in a notebook and refreshed at most every `display_freq` seconds;
    subclasses define `setup_chart` and `update_chart_data`. Needs bokeh (and a PandasLogger, made here unless
    given)."""

    def __init__(self, pandas_logger, metric_name, display_freq=10, batch_size=None, frequent=50):
        bokeh_io = _require("bokeh.io")
        self.pandas_logger = pandas_logger or PandasLogger(batch_size=batch_size, frequent=frequent)
        self.display_freq = display_freq
        self.last_update = time.time()
        self.metric_name = metric_name
        bokeh_io.output_notebook()
        self.handle = self.setup_chart()

    def setup_chart(self):
        """Draw the chart; returns its notebook handle."""
        raise NotImplementedError("Incomplete base class: LiveBokehChart must be sub-classed")

    def update_chart_data(self):
        """Move the new data into the chart."""
        raise NotImplementedError("Incomplete base class: LiveBokehChart must be sub-classed")

    def interval_elapsed(self):
        """Whether `display_freq` seconds passed since the last refresh."""
        return time.time() - self.last_update > self.display_freq

    def _push_render(self):
        _require("bokeh.io").push_notebook(handle=self.handle)
        self.last_update = time.time()

    def _do_update(self):
        self.update_chart_data()
        self._push_render()

    def batch_cb(self, param):
        if self.interval_elapsed():
            self._do_update()

    def eval_cb(self, param):
        self._do_update()

    def callback_args(self):
        return {"batch_end_callback": self.batch_cb, "eval_end_callback": self.eval_cb}


class LiveTimeSeries(LiveBokehChart):
    """A line of values over the elapsed time (`update_chart_data(value)`)."""

    def __init__(self, **fig_params):
        plotting = _require("bokeh.plotting")
        self.fig = plotting.Figure(x_axis_type="datetime", x_axis_label="Elapsed time", **fig_params)
        super().__init__(None, None)

    def setup_chart(self):
        self.start_time = datetime.datetime.now()
        self.x_axis_val, self.y_axis_val = [], []
        self.fig.line(self.x_axis_val, self.y_axis_val)
        return _require("bokeh.plotting").show(self.fig, notebook_handle=True)

    def elapsed(self):
        return datetime.datetime.now() - self.start_time

    def update_chart_data(self, value):
        self.x_axis_val.append(self.elapsed())
        self.y_axis_val.append(value)
        self._push_render()


class LiveLearningCurve(LiveBokehChart):
    """The training (every `frequent` batches, dotted) and validation (green) values of `metric_name` over the
    training time."""

    def __init__(self, metric_name, display_freq=10, frequent=50):
        self.frequent = frequent
        self.start_time = datetime.datetime.now()
        self._data = {"train": {"elapsed": []}, "eval": {"elapsed": []}}
        super().__init__(None, metric_name, display_freq, frequent)

    def setup_chart(self):
        plotting = _require("bokeh.plotting")
        self.fig = plotting.Figure(x_axis_type="datetime", x_axis_label="Training time")
        self.x_axis_val1, self.y_axis_val1 = [], []
        self.train1 = self.fig.line(self.x_axis_val1, self.y_axis_val1, line_dash="dotted", alpha=0.3,
                                    legend="train")
        self.train2 = self.fig.circle(self.x_axis_val1, self.y_axis_val1, size=1.5, line_alpha=0.3,
                                      fill_alpha=0.3, legend="train")
        self.train2.visible = False         # shown instead of the line once there are many points
        self.x_axis_val2, self.y_axis_val2 = [], []
        self.valid1 = self.fig.line(self.x_axis_val2, self.y_axis_val2, line_color="green", line_width=2,
                                    legend="validation")
        self.valid2 = self.fig.circle(self.x_axis_val2, self.y_axis_val2, line_color="green", line_width=2,
                                      legend=None)
        self.fig.legend.location = "bottom_right"
        self.fig.yaxis.axis_label = self.metric_name
        return plotting.show(self.fig, notebook_handle=True)

    def batch_cb(self, param):
        if param.nbatch % self.frequent == 0:
            self._process_batch(param, "train")
        if self.interval_elapsed():
            self._do_update()

    def eval_cb(self, param):
        self._process_batch(param, "eval")
        self._do_update()

    def _process_batch(self, param, df_name):
        metrics = {}
        if param.eval_metric is not None:
            metrics = dict(param.eval_metric.get_name_value())
            param.eval_metric.reset()
        metrics["elapsed"] = datetime.datetime.now() - self.start_time
        for key, value in metrics.items():
            self._data[df_name].setdefault(key, []).append(value)

    def update_chart_data(self):
        train, evaluation = self._data["train"], self._data["eval"]
        if train["elapsed"]:
            _extend(self.x_axis_val1, train["elapsed"])
            _extend(self.y_axis_val1, train[self.metric_name])
        if evaluation["elapsed"]:
            _extend(self.x_axis_val2, evaluation["elapsed"])
            _extend(self.y_axis_val2, evaluation[self.metric_name])
        if len(evaluation) > 10:        # (MXNet counts the eval columns here)
            self.train1.visible = False
            self.train2.visible = True


def args_wrapper(*args):
    """The `callback_args()` of several callback objects merged for `fit(**...)`: each keyword gets the list of
    their callbacks."""
    out = defaultdict(list)
    for callback in args:
        for key, value in callback.callback_args().items():
            out[key].append(value)
    return dict(out)
