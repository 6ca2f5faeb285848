"""CPU kernels of ops/image.py: MXNet's `image` ops on (H, W, C) images and (N, H, W, C) batches.

The colour arithmetic runs in float32 as MXNet's kernels do, and goes back to the image's dtype with MXNet's
`saturate_cast`: uint8 clamps to [0, 255] and truncates, other dtypes are a plain C cast (floats round to the
dtype, integers truncate). Resizing is separable: one (out, in) weight matrix per axis with OpenCV's sampling
positions for each interpolation code (`resize_weights`), then out = rows @ image @ cols^T per channel.
"""
import numpy as np

from ..random_state import generator
from .common import assign

GRAY = np.array([0.299, 0.587, 0.114], np.float32)     # RGB -> luma, MXNet's coefficients

# AlexNet's PCA of ImageNet's RGB: eigenvalues times eigenvectors, as MXNet's lighting kernels use them
_EIGVAL = np.array([55.46, 4.794, 1.148], np.float32)
_EIGVEC = np.array([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]], np.float32)


def saturate(values, dtype):
    """float32 `values` as `dtype` the way MXNet's saturate_cast does it."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        values = np.clip(values, 0.0, 255.0)
    if dtype.kind in "iu":
        values = np.trunc(values)
    return values.astype(dtype)


# ---- to_tensor, normalize ---------------------------------------------------------------------------------------

def to_tensor(ctx, p, inputs, outputs, req):
    x = inputs[0]
    axes = (2, 0, 1) if x.ndim == 3 else (0, 3, 1, 2)
    assign(outputs[0], req[0], x.astype(np.float32).transpose(axes) / np.float32(255))


def _per_channel(values, dtype):
    """mean or std (one value, or one per channel) shaped to broadcast over (C, H, W) or (N, C, H, W)."""
    return np.asarray(values, dtype).reshape((-1, 1, 1))


def _compute_dtype(dtype):
    return np.float64 if dtype == np.float64 else np.float32


def normalize(ctx, p, inputs, outputs, req):
    x = inputs[0]
    cdt = _compute_dtype(x.dtype)
    mean, std = (_per_channel(v, cdt) for v in (p.mean, p.std))
    assign(outputs[0], req[0], saturate((x.astype(cdt) - mean) / std, x.dtype) if x.dtype.kind in "iu"
           else (x.astype(cdt) - mean) / std)


def backward_normalize(ctx, p, inputs, outputs, req):
    dy = inputs[0]
    assign(outputs[0], req[0], dy / _per_channel(p.std, _compute_dtype(dy.dtype)))


# ---- resize -----------------------------------------------------------------------------------------------------

def _cubic(t, a=-0.75):
    t = np.abs(t)
    return np.where(t <= 1, ((a + 2) * t - (a + 3)) * t * t + 1,
                    np.where(t < 2, ((t - 5) * t + 8) * t * a - 4 * a, 0.0))


def _lanczos4(t):
    t = np.asarray(t, np.float64)
    safe = np.where(t == 0, 1.0, t)
    weight = 4 * np.sin(np.pi * safe) * np.sin(np.pi * safe / 4) / (np.pi * np.pi * safe * safe)
    return np.where(t == 0, 1.0, weight)


def resize_weights(n_in, n_out, interp, shrinking=True):
    """(n_out, n_in) float64 matrix resampling one axis as OpenCV's cv::resize does for `interp` (0 nearest,
    1 bilinear, 2 bicubic, 3 area, 4 Lanczos over 8 taps); borders replicate. Area averages boxes only where the
    whole image `shrinking` (no side grows); otherwise OpenCV blends two neighbours on both axes."""
    scale = n_in / n_out
    matrix = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    if interp == 0:
        matrix[rows, np.minimum(np.floor(rows * scale).astype(np.int64), n_in - 1)] = 1.0
        return matrix
    if interp == 3 and shrinking:           # each output averages the inputs it covers, by overlap
        for i in rows:
            low, high = i * scale, (i + 1) * scale
            for j in range(int(np.floor(low)), min(int(np.ceil(high)), n_in)):
                matrix[i, j] = min(high, j + 1) - max(low, j)
        return matrix / scale
    if interp == 3:                         # some side grows: linear between neighbours over a sharpened step
        base = np.floor(rows * scale).astype(np.int64)
        frac = (rows + 1) - (base + 1) / scale
        frac = np.where(frac <= 0, 0.0, frac - np.floor(frac))
        taps, weights = (0, 1), (1 - frac, frac)
    else:
        centre = (rows + 0.5) * scale - 0.5
        base = np.floor(centre).astype(np.int64)
        frac = centre - base
        if interp == 1:
            taps, weights = (0, 1), (1 - frac, frac)
        elif interp == 2:
            taps = (-1, 0, 1, 2)
            weights = tuple(_cubic(frac - k) for k in taps)
        else:
            taps = tuple(range(-3, 5))
            weights = [_lanczos4(frac - k) for k in taps]
            total = np.sum(weights, axis=0)
            weights = tuple(w / total for w in weights)
    for k, weight in zip(taps, weights):
        np.add.at(matrix, (rows, np.clip(base + k, 0, n_in - 1)), weight)
    return matrix


def resize(ctx, p, inputs, outputs, req):
    x, out = inputs[0], outputs[0]
    height, width = out.shape[-3:-1]
    shrinking = height <= x.shape[-3] and width <= x.shape[-2]
    rows = resize_weights(x.shape[-3], height, p.interp, shrinking)
    cols = resize_weights(x.shape[-2], width, p.interp, shrinking)
    resized = np.einsum("ij,...jkc,lk->...ilc", rows, x.astype(np.float64), cols)
    if x.dtype.kind in "iu":                # OpenCV rounds to the nearest and saturates
        info = np.iinfo(x.dtype)
        resized = np.clip(np.rint(resized), info.min, info.max)
    assign(out, req[0], resized.astype(out.dtype))


# ---- crop, flips ------------------------------------------------------------------------------------------------

def _crop_region(p):
    return (Ellipsis, slice(p.y, p.y + p.height), slice(p.x, p.x + p.width), slice(None))


def crop(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], inputs[0][_crop_region(p)])


def backward_crop(ctx, p, inputs, outputs, req):
    dy, x = inputs
    dx = np.zeros(x.shape, dy.dtype)
    dx[_crop_region(p)] = dy
    assign(outputs[0], req[0], dx)


def flip_left_right(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], inputs[0][:, ::-1])


def flip_top_bottom(ctx, p, inputs, outputs, req):
    assign(outputs[0], req[0], inputs[0][::-1])


def random_flip_left_right(ctx, p, inputs, outputs, req):
    x = inputs[0]
    assign(outputs[0], req[0], x[:, ::-1] if generator().random() < 0.5 else x)


def random_flip_top_bottom(ctx, p, inputs, outputs, req):
    x = inputs[0]
    assign(outputs[0], req[0], x[::-1] if generator().random() < 0.5 else x)


# ---- colour -----------------------------------------------------------------------------------------------------
# Each `adjust_*` maps a float32 (H, W, C) image (C is 1 or 3) to float32.

def adjust_brightness(image, alpha):
    return image * np.float32(alpha)


def adjust_contrast(image, alpha):
    gray_mean = (image @ GRAY).mean() if image.shape[-1] == 3 else image.mean()
    return image * np.float32(alpha) + np.float32((1 - alpha) * gray_mean)


def adjust_saturation(image, alpha):
    if image.shape[-1] == 1:
        return image
    # MXNet 1.9.1's kernel overwrites its gray sum per channel, so the "gray" it blends with is blue's term alone
    gray = image[..., 2:3] * GRAY[2]
    return gray * np.float32(1 - alpha) + image * np.float32(alpha)


def adjust_hue(image, alpha):
    """Rotate the hue by alpha * 360 degrees in HLS space (MXNet's conversion of each pixel, in float32)."""
    if image.shape[-1] == 1:
        return image
    rgb = image / np.float32(255)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    vmax, vmin = rgb.max(axis=-1), rgb.min(axis=-1)
    diff = vmax - vmin
    light = (vmax + vmin) * np.float32(0.5)
    colour = diff > np.finfo(np.float32).eps
    with np.errstate(divide="ignore", invalid="ignore"):
        sat = np.where(light < 0.5, diff / (vmax + vmin), diff / (2 - vmax - vmin))
        step = np.float32(60) / diff
        hue = np.where(vmax == r, (g - b) * step,
                       np.where(vmax == g, (b - r) * step + 120, (r - g) * step + 240))
    hue = np.where(hue < 0, hue + 360, hue)
    sat, hue = np.where(colour, sat, 0).astype(np.float32), np.where(colour, hue, 0).astype(np.float32)
    hue = np.mod((hue + np.float32(alpha) * np.float32(360)) * np.float32(1 / 60), np.float32(6))
    p2 = np.where(light <= 0.5, light * (1 + sat), light + sat - light * sat)
    p1 = 2 * light - p2
    sector = np.minimum(hue.astype(np.int64), 5)
    frac = hue - sector
    table = np.stack([p2, p1, p1 + (p2 - p1) * (1 - frac), p1 + (p2 - p1) * frac], axis=-1)
    # per sector: which table entry is (b, g, r)
    picks = np.array([[1, 3, 0], [1, 0, 2], [3, 0, 1], [0, 2, 1], [0, 1, 3], [2, 1, 0]])[sector]
    bgr = np.take_along_axis(table, picks, axis=-1)
    out = bgr[..., ::-1] * np.float32(255)
    grey = (sat == 0)[..., None]
    return np.where(grey, light[..., None] * np.float32(255), out).astype(np.float32)


def adjust_lighting_values(image, alpha):
    if image.shape[-1] == 1:
        return image
    shift = (_EIGVEC * _EIGVAL) @ np.asarray(alpha, np.float32)
    return image + shift.astype(np.float32)


def _colour_kernel(name, adjust, draw):
    """The kernel `name`: `adjust(image, *draw(p))` on a float32 copy of the image."""
    def kernel(ctx, p, inputs, outputs, req):
        x = inputs[0]
        assign(outputs[0], req[0], saturate(adjust(x.astype(np.float32), *draw(p)), x.dtype))
    kernel.__name__ = kernel.__qualname__ = name
    return kernel


def _uniform(p):
    return (generator().uniform(p.min_factor, p.max_factor),)


random_brightness = _colour_kernel("random_brightness", adjust_brightness, _uniform)
random_contrast = _colour_kernel("random_contrast", adjust_contrast, _uniform)
random_saturation = _colour_kernel("random_saturation", adjust_saturation, _uniform)
random_hue = _colour_kernel("random_hue", adjust_hue, _uniform)
adjust_lighting = _colour_kernel("adjust_lighting", adjust_lighting_values, lambda p: (p.alpha,))
random_lighting = _colour_kernel("random_lighting", adjust_lighting_values,
                                 lambda p: (generator().normal(0, p.alpha_std, 3),))


def _jitter(image, steps):
    for adjust, alpha in steps:
        image = adjust(image, alpha)
    return image


def _jitter_steps(p):
    """The enabled adjustments in a random order, each with its factor 1 + uniform(-amount, amount) (hue: the
    rotation uniform(-hue, hue)), drawn in that order as MXNet does."""
    rng = generator()
    steps = []
    for which in rng.permutation(4):
        adjust, amount = ((adjust_brightness, p.brightness), (adjust_contrast, p.contrast),
                          (adjust_saturation, p.saturation), (adjust_hue, p.hue))[which]
        if amount > 0:
            shift = rng.uniform(-amount, amount)
            steps.append((adjust, shift if adjust is adjust_hue else 1 + shift))
    return (steps,)


random_color_jitter = _colour_kernel("random_color_jitter", _jitter, _jitter_steps)
