"""numpy reference of ops/resize.py (BilinearResize2D), written from MXNet 1.9.1's documented behaviour and the
coordinates checked on it (tests/fixtures/mxnet-1.9.1/contrib_nlp/): gathers of the four neighbours, in float64."""
import numpy as np


def _coords(n_out, n_in, align_corners):
    d = np.arange(n_out, dtype=np.float64)
    if n_out == 1:
        src = np.zeros(1)
    elif align_corners:
        src = d * (n_in - 1) / (n_out - 1)
    else:
        src = np.maximum((d + 0.5) * n_in / n_out - 0.5, 0)
    low = np.minimum(np.floor(src).astype(int), n_in - 1)
    return low, np.minimum(low + 1, n_in - 1), src - low


def out_size(p, shape, like_shape=None):
    h, w = shape[2:]
    if p.mode == "like":
        return like_shape[2:]
    if p.mode == "size":
        if p.scale_height is None:
            return p.height, p.width
        return int(h * p.scale_height), int(w * p.scale_width)
    if p.mode == "odd_scale":
        return tuple(int((s - 1) * k) + 1 if s % 2 else int(s * k) for s, k in ((h, p.scale_height),
                                                                                  (w, p.scale_width)))
    even, up = p.mode.startswith("to_even"), p.mode.endswith("up")
    return tuple(s + (1 if up else -1) if (s % 2 == 1) == even else s for s in (h, w))


def bilinear_resize(p, x, like=None):
    oh, ow = out_size(p, x.shape, None if like is None else like.shape)
    h0, h1, lh = _coords(oh, x.shape[2], p.align_corners)
    w0, w1, lw = _coords(ow, x.shape[3], p.align_corners)
    v = x.astype(np.float64)
    lh, lw = lh[:, None], lw[None, :]
    top = (1 - lw) * v[:, :, h0][:, :, :, w0] + lw * v[:, :, h0][:, :, :, w1]
    bottom = (1 - lw) * v[:, :, h1][:, :, :, w0] + lw * v[:, :, h1][:, :, :, w1]
    return ((1 - lh) * top + lh * bottom).astype(x.dtype)
