"""`mx.log`: MXNet's logger setup: `get_logger` (and the deprecated `getLogger`), with a glog-like format:
a coloured level letter, date `MMDD HH:MM:SS`, process id, `path:function:line]`, then the message."""
import logging
import warnings

CRITICAL = logging.CRITICAL
ERROR = logging.ERROR
WARNING = logging.WARNING
INFO = logging.INFO
DEBUG = logging.DEBUG
NOTSET = logging.NOTSET

_LABELS = {CRITICAL: "C", ERROR: "E", WARNING: "W", INFO: "I", DEBUG: "D"}


class _Formatter(logging.Formatter):
    """`W1206 14:03:11 1234 file.py:func:12] message`, the prefix coloured red (warning and above), green
    (info) or blue (debug)."""

    def __init__(self):
        super().__init__(datefmt="%m%d %H:%M:%S")

    def _get_color(self, level):
        if level >= logging.WARNING:
            return "\x1b[31m"
        if level >= logging.INFO:
            return "\x1b[32m"
        return "\x1b[34m"

    def _get_label(self, level):
        return _LABELS.get(level, "U")

    def format(self, record):
        self._style._fmt = (self._get_color(record.levelno) + self._get_label(record.levelno)
                            + "%(asctime)s %(process)d %(pathname)s:%(funcName)s:%(lineno)d]\x1b[0m %(message)s")
        return super().format(record)


def getLogger(name=None, filename=None, filemode=None, level=WARNING):  # noqa: N802 (MXNet's name)
    """Deprecated: `get_logger`."""
    warnings.warn("getLogger is deprecated, Use get_logger instead.", DeprecationWarning, stacklevel=2)
    return get_logger(name, filename, filemode, level)


def get_logger(name=None, filename=None, filemode=None, level=WARNING):
    """`logging.getLogger(name)`, given (once per name, and never for the root logger) a handler at `level`:
    a file handler on `filename` (mode `filemode`, default 'a'), or a stream handler with MXNet's format."""
    logger = logging.getLogger(name)
    if name is not None and not getattr(logger, "_init_done", None):
        logger._init_done = True
        if filename:
            handler = logging.FileHandler(filename, filemode if filemode else "a")
        else:
            handler = logging.StreamHandler()
            handler.setFormatter(_Formatter())      # colour codes suit a terminal, not a file
        logger.addHandler(handler)
        logger.setLevel(level)
    return logger
