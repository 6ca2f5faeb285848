"""`mx.notebook`: live training plots and logs for Jupyter notebooks (`callback`): pandas data frames of the
metrics (`PandasLogger`) and bokeh charts (`LiveLearningCurve`, `LiveTimeSeries`). pandas and bokeh are optional:
the classes needing them raise an MXNetError naming the missing package when made."""
from . import callback  # noqa: F401
