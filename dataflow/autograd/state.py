"""The recording and training flags of `mx.autograd`, per thread, and the scopes that set them."""
import threading


class _Flags(threading.local):
    recording = False   # class defaults: reading an unset thread-local attribute would raise and catch (~1 us)
    training = False


_state = _Flags()


def is_recording():
    """True inside `record()` (and not inside `pause()`), or after `set_recording(True)`."""
    return getattr(_state, "recording", False)


def is_training():
    """True in training mode: inside `record()` by default, `train_mode()`, or after `set_training(True)`."""
    return getattr(_state, "training", False)


def set_recording(is_recording):
    """Set whether imperative ops are recorded; returns the previous state."""
    previous = getattr(_state, "recording", False)
    _state.recording = bool(is_recording)
    return previous


def set_training(train_mode):
    """Set training (True) or predict (False) mode; returns the previous state."""
    previous = is_training()
    _state.training = bool(train_mode)
    return previous


class _Scope:
    """Set the recording and/or training flag inside a `with` block (None: leave it) and restore both after."""

    def __init__(self, recording, training):
        self._recording, self._training = recording, training

    def __enter__(self):
        self._old = (is_recording(), is_training())
        if self._recording is not None:
            _state.recording = self._recording
        if self._training is not None:
            _state.training = self._training
        return self

    def __exit__(self, *exc):
        _state.recording, _state.training = self._old


def record(train_mode=True):
    """Record the operations in this block for `backward()` and `grad()`; training mode by default."""
    return _Scope(True, train_mode)


def pause(train_mode=False):
    """Stop recording inside this block; predict mode by default."""
    return _Scope(False, train_mode)


def train_mode():
    """Training mode (Dropout drops, BatchNorm uses batch statistics) without changing recording."""
    return _Scope(None, True)


def predict_mode():
    """Inference mode without changing recording."""
    return _Scope(None, False)
