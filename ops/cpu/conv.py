"""CPU kernels of Convolution and Deconvolution, and of their backward ops (Pooling: ops/cpu/pooling.py).

Which algorithm runs (issue 17):
- depthwise convolution (num_group == channels > 1): the direct loops of ops/cpu/conv_depthwise.py (a GEMM per
  channel would be all overhead), via ops/cpu/conv_direct.py; the 1-D and 2-D forward reads phase planes of the
  padded channel (any stride) in L1-sized blocks of output rows;
- unit strides with wide columns (ops/cpu/conv_unfold.py) and at least TAPS_MIN_COLUMNS output positions (the
  forward: FORWARD_TAPS_MIN_COLUMNS, 28x28 and up): one GEMM per kernel tap straight over the zero-padded image,
  forward and both gradients (ops/cpu/conv_taps.py): no col, no col2im; 0.75-0.84x the time of im2col + GEMM at
  28x28-56x56;
- the forward of a 2-D 3x3 convolution with unit stride and dilation and one group, where it measured faster
  (Note [when Winograd pays]: enough channels and tiles): Winograd F(2x2, 3x3), 16 GEMMs over all tiles between an
  input and an output transform (ops/cpu/winograd.py), 2.25x fewer multiplies; inference folding's `_conv_fused`
  keeps the weights' transform between calls (Note [kept weight transforms]), which pays with fewer tiles;
- a 1x1 kernel with unit stride and no padding: no unfolding, the GEMM reads the sample itself, and its data
  gradient is W.T @ dy written straight into dx;
- the forward of a strided 2-D convolution of one group over the phase planes of the padded image
  (ops/cpu/conv_phase_taps.py): one GEMM per kernel tap reading the planes in place where there are enough channels
  and columns (0.78-0.91x the im2col forward), or, for the few-channel stems with a col larger than L2 (a 7x7 stem
  on 224x224), the col built and multiplied in blocks of output rows (0.76-0.82x);
- everything else (strides, small images, other grouped convolutions): im2col + one GEMM per sample and group.
Every path runs per sample on the cores (ops/cpu/conv_parallel.py: each thread takes the next sample, with its own
buffers). A batch smaller than the thread count splits each sample instead (`_forward_split`): by output rows
where each thread's share stays wide (plain im2col: each thread unfolds its own rows), else by output channels
over one unfolding; no thread repeats another's unfolding. The forward with plain im2col puts several samples'
columns side by side in one GEMM up to BATCH_COLUMNS (`_forward_batched`): at 7x7 one sample's 49 columns keep
BLAS at 2/3 of its rate (measured 21.5 -> 14.7 ms for 8 samples of (512 x 4608) @ 49), while at 28x28 and up
batching measured no gain (32 x (96x576 @ 576x838), load average ~6) or a loss, so larger images stay per sample.
`_conv_fused` (inference folding's epilogue, ops/fold.py) is the forward with a folded BatchNorm's per-channel scale
and shift and an activation (relu, clip, leaky) applied in the pass that crops the GEMM's output
(ops/cpu/conv_epilogue.py).

The general path is im2col + GEMM, one sample at a time. An unfolding turns one sample's image (C, *spatial) into
`col`, one row per (channel, kernel offset) and one column per output position, and BLAS computes
out = W (F, C/g * prod(kernel)) @ col for each group g. The backward reuses the pair: dW += dy @ col.T, and
dcol = W.T @ dy is folded back into dx (col2im, a scatter-add); where they measured faster, narrow samples share
one GEMM and the per-tap weight gradient reads a channels-last image (ops/cpu/conv_grads.py), 3x3 layers of
28x28 and up take Winograd F(2x2, 3x3) for both gradients in bands of tile rows (ops/cpu/winograd_grads.py),
smaller 3x3 layers with enough channels and tiles their data gradient as a Winograd convolution of dy
(`_winograd_data_grad`), and strided 2-D layers both gradients by one GEMM per tap over the phase planes, or for
the few-channel stems the weight gradient with the col in blocks of rows (ops/cpu/conv_phase_taps.py, Note
[phase-plane backward]).
Deconvolution is the transpose of Convolution: its forward is Convolution's data gradient and its data gradient a
Convolution forward, the image being its output.

The unfoldings and Note [wide columns] are in ops/cpu/conv_unfold.py, the epilogue in ops/cpu/conv_epilogue.py.

Geometry: every kernel works in three spatial dims; 1-D and 2-D inputs are viewed with leading spatial dims of 1
(kernel 1, stride 1, pad 0, dilate 1 there), so one numba function serves all ranks. numba functions are `nogil`,
and numpy's BLAS releases the GIL. float16 is computed in float32 and rounded once (MXNet 1.9.1 has no float16
GEMM on CPU and raises; we compute it).
"""
import numpy as np

from ..registry import ADD, NULL
from .common import F16, F32, assign, store
from . import conv_phase_taps, winograd
from .conv_epilogue import Activation, activation, channel_args
from .conv_direct import direct_backward, direct_forward, direct_path
from .conv_parallel import for_each, reduce_over, shares, threads
from . import conv_grads, winograd_grads
from .conv_unfold import group_gemm as _group_gemm
from .conv_unfold import unfolding

__all__ = ["_backward_convolution", "_backward_deconvolution", "conv_geometry", "convolution",
           "convolution_fused", "deconv_pad", "deconvolution"]

# A single sample's forward is split over the threads by output channels, at least this many per thread.
ROWS_PER_PART = 16
# ... or by output rows (plain im2col), where each thread's share keeps at least this many GEMM columns.
SPLIT_MIN_COLUMNS = 256
# Plain im2col puts several samples' columns side by side in one GEMM, up to about this many columns (and no more
# samples than each thread's share of the batch). Measured (one thread, CPU time, 8 samples): (512 x 4608) @ 49
# columns 21.5 ms per sample, 14.7 ms batched; (256 x 2304) @ 196: 16.4 -> 15.1; (128 x 1152) @ 784: 7.8 -> 8.9
# for 4 samples (slower: large images stay per sample).
BATCH_COLUMNS = 400


# ---------------------------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------------------------

def _pad3(values, fill):
    """A per-dim param as a 3-tuple, leading dims filled (1-D and 2-D run as 3-D with size-1 leading dims)."""
    values = tuple(values)
    return (fill,) * (3 - len(values)) + values


def _spatial3(shape):
    """(batch, channels, d, h, w) view shape of an NC* array."""
    return tuple(shape[:2]) + _pad3(shape[2:], 1)


def conv_geometry(p, nd):
    """(kernel, stride, pad, dilate) of a Convolution/Deconvolution/Pooling node as 3-tuples with MXNet's defaults
    (stride 1, pad 0, dilate 1 where a param is ())."""
    kernel = _pad3(p.kernel, 1)
    stride = _pad3(p.stride or (1,) * nd, 1)
    pad = _pad3(p.pad or (0,) * nd, 0)
    dilate = _pad3(getattr(p, "dilate", ()) or (1,) * nd, 1)
    return kernel, stride, pad, dilate


def deconv_pad(p, data_spatial):
    """Deconvolution's pad per dim (nd-tuple): p.pad, or with target_shape set, MXNet's pad for it.

    With target_shape, the full output s * (x - 1) + dilate * (k - 1) + 1 is cut down to target: pad = ceil(cut / 2)
    at each end, and adj = cut % 2 adds one back at the far end (the shape rule checks adj < stride)."""
    nd = len(p.kernel)
    if not any(p.target_shape):
        return tuple(p.pad) or (0,) * nd
    stride = tuple(p.stride) or (1,) * nd
    dilate = tuple(p.dilate) or (1,) * nd
    return tuple((s * (x - 1) + d * (k - 1) + 1 - t + 1) // 2
                 for s, d, k, x, t in zip(stride, dilate, p.kernel, data_spatial, p.target_shape))


def _compute(arr):
    """arr in its compute dtype (float16 -> float32), C-contiguous."""
    return np.ascontiguousarray(arr, dtype=F32 if arr.dtype == F16 else arr.dtype)


def _conv_unfolding(p, x_shape, y_shape, dtype, transposed, forward=False, wide=True):
    """Convolution unfolds its data x into columns for its output y; Deconvolution its output y for its data x.
    `forward`: for Convolution's forward; `wide` False: plain im2col only (a backward's batched chunks)."""
    kernel, stride, pad, dilate = conv_geometry(p, len(p.kernel))
    x_dims, y_dims = _spatial3(x_shape)[2:], _spatial3(y_shape)[2:]
    if transposed:
        pad = _pad3(deconv_pad(p, x_shape[2:]), 0)
        return unfolding(y_shape[1], y_dims, x_dims, kernel, stride, pad, dilate, dtype)
    return unfolding(x_shape[1], x_dims, y_dims, kernel, stride, pad, dilate, dtype, forward, wide)


# ---------------------------------------------------------------------------------------------------------------
# GEMM and accumulation helpers
# ---------------------------------------------------------------------------------------------------------------

class _Accumulator:
    """A compute-dtype buffer for an output that kernels accumulate into (col2im, summed weight gradients).

    The output itself where it can be (cleared for WRITE/INPLACE, as is for ADD, so ADD needs no scratch copy);
    a zeroed scratch for float16 outputs, stored into the output by `finish` as req says."""

    def __init__(self, out, req, clear=True):
        self.out, self.req = out, req
        # `clear` False: the caller overwrites buf first (WRITE/INPLACE into out itself, or any req into a scratch)
        self.cleared = clear
        if out.dtype != F16 and out.flags.c_contiguous:
            self.buf = out
            if req != ADD and clear:
                out[...] = 0
        else:
            self.buf = (np.zeros if clear else np.empty)(out.shape, F32 if out.dtype == F16 else out.dtype)

    def clear(self):
        """Clear a buffer made with clear=False for kernels that add into it (ADD into the output itself: as is)."""
        if not self.cleared and (self.buf is not self.out or self.req != ADD):
            self.buf[...] = 0
        self.cleared = True

    def finish(self):
        if self.buf is not self.out:
            assign(self.out, self.req, self.buf)


def _bias_grad(dy, out, req):
    """out (req) sum of dy over the batch and spatial dims."""
    if req != NULL:
        dyc = dy.reshape(dy.shape[0], dy.shape[1], -1)
        assign(out, req, dyc.sum(axis=(0, 2)))


def _add_bias(dst, b):
    if b is not None:
        dst.reshape(dst.shape[0], -1)[...] += b[:, None]


# ---------------------------------------------------------------------------------------------------------------
# Convolution and Deconvolution
# ---------------------------------------------------------------------------------------------------------------

def _direct(p, x_shape):
    """(path, geometry) of a Convolution's direct loops ('depthwise': ops/cpu/conv_direct.py), or (None, geometry)
    for im2col + GEMM."""
    return direct_path(p, x_shape[1]), conv_geometry(p, len(p.kernel))


def _conv_forward(x, w, b, p, dst, act=None, scale=None, keep=False):
    """dst = conv(x, w) * scale + b per output channel (scale None: 1), then the Activation act (None: none;
    ops/cpu/conv_epilogue.py): the epilogue of inference folding, applied as the GEMM's output is cropped;
    x (N, C, ...), w (F, C/g, *k), dst (N, F, ...), all C-contiguous in one dtype, except that dst may be
    batch-strided (each sample C-contiguous: Concat elision at batch > 1, scheduler/elision.py): every path but the
    direct loops writes dst sample by sample. `keep`: w is the caller's array and rarely changes (inference), so
    Winograd keeps its transform between calls (`winograd.kept_transform`, Note [kept weight transforms])."""
    path, geometry = _direct(p, x.shape)
    if path is not None and not dst.flags.c_contiguous:
        for i in range(x.shape[0]):
            _conv_forward(x[i:i + 1], w, b, p, dst[i:i + 1], act, scale, keep)
        return
    if path is not None:
        if scale is not None:       # depthwise weights are small: scale them instead
            w = w * scale.reshape((-1,) + (1,) * (w.ndim - 1))
        direct_forward(geometry, x.reshape(_spatial3(x.shape)), w, b, dst.reshape(_spatial3(dst.shape)), act)
        return
    if winograd_pays(p, x.shape, dst.shape, dst.dtype, keep):
        scale, b = channel_args(scale, b, dst.shape[1], dst.dtype)
        winograd.forward(x, w, geometry[2][1:], dst, scale, b, (act or Activation.none(dst.dtype)).args(), for_each,
                         threads(), u=winograd.kept_transform(w) if keep else None)
        return
    phase = x.ndim == 4 and conv_phase_taps.path(*geometry, p.num_group, _spatial3(x.shape)[2:],
                                                 _spatial3(dst.shape)[2:], x.shape[1], dst.dtype)
    if phase:
        scale, b = channel_args(scale, b, dst.shape[1], dst.dtype)
        conv_phase_taps.forward(x, w, tuple(v[1:] for v in geometry), dst, scale, b,
                                (act or Activation.none(dst.dtype)).args(), for_each, threads(), phase == "blocked")
        return
    w2 = w.reshape(w.shape[0], -1)
    weights = []        # the weight in the unfolding's layout, made once by the first worker
    # fewer samples than threads (batch 1): each sample's output channels split into `parts` row blocks
    n, filters, cores = x.shape[0], w.shape[0], threads()
    parts = 1 if p.num_group > 1 or n >= cores else max(1, min(cores // n, filters // ROWS_PER_PART))
    if parts > 1 or (n > 1 and p.num_group == 1):
        unfold = _conv_unfolding(p, x.shape, dst.shape, dst.dtype, transposed=False, forward=True)
        if parts > 1 and not unfold.taps:   # per tap, each thread pads the image into its own buffer: split below
            _forward_split(unfold, x, w2, b, dst, act, scale, parts)
            return
        per_gemm = min(n // cores, -(-BATCH_COLUMNS // unfold.L)) if unfold.batches else 1
        if parts == 1 and per_gemm > 1:
            _forward_batched(unfold, x, w2, b, dst, act, scale, per_gemm)
            return

    def make_worker():
        unfold = _conv_unfolding(p, x.shape, dst.shape, dst.dtype, transposed=False, forward=True)
        if not weights:
            weights.append(unfold.weights(w2))
        wk = weights[0]

        def item(k):
            i, part = divmod(k, parts)
            ext = unfold.gemm_out(dst[i])
            if parts == 1:
                unfold.forward(wk, x[i], ext, p.num_group, None)
                unfold.crop(ext, dst[i], bias=b, act=act, scale=scale)
                return
            f0, f1 = filters * part // parts, filters * (part + 1) // parts
            unfold.forward(wk, x[i], ext, 1, (f0, f1))
            unfold.crop(ext[f0:f1], dst[i][f0:f1], bias=None if b is None else b[f0:f1], act=act,
                        scale=None if scale is None else scale[f0:f1])
        return item
    for_each(n * parts, make_worker, 2.0 * dst.size * w2.shape[1])


# Note [when Winograd pays]: Winograd F(2x2, 3x3) (ops/cpu/winograd.py) does 2.25x fewer multiplies but adds three
# transforms, so it wins only where the GEMMs dominate them. Measured on this 2-core machine (one thread, process CPU
# time, medians of 7-9 side by side against the taps/im2col forward with the relu epilogue, load average 6-9), batch
# 1 / 8: resnet18's layers 64 at 56x56 0.90x / 0.89x, 128 at 28x28 0.83x / 0.79x, 256 at 14x14 0.94x / 0.68x, 512 at
# 7x7 1.85x / 0.84x (4: 1.11x): the weights are transformed at every call (512 x 512: ~2-3 ms, as much as 16 tiles'
# GEMMs), so large weights need many tiles; 64 at 7x7 0.58x (16 tiles), 128 at 10x10 0.96x (25), 256 at 8x8 1.63x
# (16); 64 -> 96 at 28x28 0.85x, 96 at 28x28 (8) 0.91x. Few channels lose or barely win: 32 -> 64 at 56x56 1.04x,
# 16 -> 16 at 32x32 1.06x / 1.21x, 3 -> 16 1.18x / 1.48x (32 -> 32 0.73x / 0.98x). So: at least
# WINOGRAD_MIN_CHANNELS input and output channels, and at least one tile column per call for every
# WINOGRAD_PAIRS_PER_TILE (input, output) channel pairs: 128 for 512 x 512, 32 for 256 x 256, 2 for 64 x 64.
# With the weight transform kept between calls (inference folding's `_conv_fused`, Note [kept weight transforms] in
# ops/cpu/winograd.py: a check of the weights' bits replaces the transform, 0.69 against 1.6 ms at 512 x 512),
# measured the same way (one thread, CPU time, medians of 7, 2 rounds, load ~4), batch 1 unless said: 256 at 14x14
# 0.67x (0.80x transformed per call), 512 at 14x14 0.80-0.89x (0.90-0.95x), 256 at 10x10 0.86x (1.08x), 256 at 7x7
# 1.00x (1.24x), 128 at 7x7 0.82-0.98x, 512 at 7x7 batch 3 0.91x (1.05x); but 512 at 7x7 1.11x (1.52x), batch 2
# 0.97-1.04x, 512 at 10x10 1.10x: with 16-32 tiles the GEMMs read U, 16/9 of the weights, plus the check's two
# reads of them, for few columns (memory-bound), where im2col reads the weights once. So WINOGRAD_KEPT_PAIRS_PER_TILE.
WINOGRAD_MIN_CHANNELS = 64
WINOGRAD_PAIRS_PER_TILE = 2048
WINOGRAD_KEPT_PAIRS_PER_TILE = 6144
# The data gradient as a Winograd convolution (`_winograd_data_grad`): only against im2col + col2im, and only with
# at least this many channels and tiles per call.
WINOGRAD_DATA_GRAD_MIN_CHANNELS = 128
WINOGRAD_DATA_GRAD_MIN_TILES = 192


def winograd_pays(p, x_shape, y_shape, dtype, kept=False):
    """Whether this Convolution's forward runs Winograd F(2x2, 3x3): where it can (`winograd.applies`) and where it
    measured faster (Note [when Winograd pays]; `kept`: with the weight transform kept between calls)."""
    kernel, stride, _, dilate = conv_geometry(p, len(p.kernel))
    return _winograd_chosen(p, kernel, stride, dilate, x_shape, y_shape, dtype, kept)


def _winograd_chosen(p, kernel, stride, dilate, x_shape, y_shape, dtype, kept=False):
    """`winograd_pays` of a 3x3 convolution from x_shape to y_shape (a forward, or a data gradient as one)."""
    if not winograd.applies(kernel, stride, dilate, p.num_group, len(p.kernel), dtype):
        return False
    channels, filters = x_shape[1], y_shape[1]
    tile_h, tile_w = winograd.tiles(*y_shape[2:])
    pairs_per_tile = WINOGRAD_KEPT_PAIRS_PER_TILE if kept else WINOGRAD_PAIRS_PER_TILE
    return (min(channels, filters) >= WINOGRAD_MIN_CHANNELS
            and y_shape[0] * tile_h * tile_w * pairs_per_tile >= channels * filters)


def _forward_batched(unfold, x, w2, b, dst, act, scale, per_gemm):
    """The forward with `per_gemm` samples' columns side by side in one GEMM (plain im2col, one group): for small
    images one sample's GEMM is too narrow for BLAS to run at its rate."""
    n, (filters, depth) = x.shape[0], w2.shape
    gemms = -(-n // per_gemm)

    def make_worker():
        columns = per_gemm * unfold.L
        col, out = np.empty((depth, columns), dst.dtype), np.empty((filters, columns), dst.dtype)
        return lambda k: unfold.forward_samples(w2, x[k * n // gemms:(k + 1) * n // gemms], col, out,
                                                dst[k * n // gemms:(k + 1) * n // gemms], b, act, scale)
    for_each(gemms, make_worker, 2.0 * dst.size * depth)


def _forward_split(unfold, x, w2, b, dst, act, scale, parts):
    """The forward of fewer samples than threads (batch 1), each sample on `parts` threads without any thread
    repeating another's unfolding: by output rows where each share keeps at least SPLIT_MIN_COLUMNS GEMM columns
    (plain im2col: each thread unfolds and multiplies its own rows, `forward_rows`), else by output channels over
    the sample's columns unfolded once first. One group."""
    for i in range(x.shape[0]):
        _split_sample(unfold, x[i], w2, b, dst[i], act, scale, parts)


def _split_sample(unfold, xi, w2, b, di, act, scale, parts):
    filters, depth = w2.shape
    flops = 2.0 * di.size * depth
    out_dims = _spatial3((1,) + di.shape)[2:]
    rows, width = out_dims[0] * out_dims[1], out_dims[2]
    if unfold.rows_split and rows >= parts and rows // parts * width >= SPLIT_MIN_COLUMNS:
        def make_worker():
            share = -(-rows // parts) * width
            col, out = np.empty((depth, share), di.dtype), np.empty((filters, share), di.dtype)
            return lambda part: unfold.forward_rows(w2, xi, (rows * part // parts, rows * (part + 1) // parts),
                                                    col, out, di, b, act, scale)
        for_each(parts, make_worker, flops)
        return
    col, ext = unfold.cols(xi), unfold.gemm_out(di)

    def channels(part):
        f0, f1 = filters * part // parts, filters * (part + 1) // parts
        np.dot(w2[f0:f1], col, out=ext[f0:f1])
        unfold.crop(ext[f0:f1], di[f0:f1], bias=None if b is None else b[f0:f1], act=act,
                    scale=None if scale is None else scale[f0:f1])
    for_each(parts, lambda: channels, flops)


def _deconv_forward(x, w, b, p, dst):
    """dst = conv_transpose(x, w) + b: col = W_g.T @ x[n]_g, folded into dst[n]. x (N, C, ...), w (C, F/g, *k)."""
    w2 = w.reshape(w.shape[0], -1)

    def make_worker():
        unfold = _conv_unfolding(p, x.shape, dst.shape, dst.dtype, transposed=True)
        col = np.empty((w2.shape[1] * p.num_group, unfold.L), dst.dtype)

        def sample(i):
            dst[i] = 0
            _group_gemm(w2, unfold.ext(x[i]), col, p.num_group, trans_a=True)
            unfold.fold_into(col, dst[i])
            _add_bias(dst[i], b)
        return sample
    for_each(x.shape[0], make_worker, 2.0 * x.size * w2.shape[1])


def _forward_kernel(compute):
    def kernel(ctx, p, inputs, outputs, req):
        x, w = _compute(inputs[0]), _compute(inputs[1])
        b = None if p.no_bias else _compute(inputs[2])
        out = outputs[0]
        if out.dtype == F16 and req[0] != NULL:
            tmp = np.empty(out.shape, x.dtype)
            compute(x, w, b, p, tmp)
            assign(out, req[0], tmp)
        else:
            store(out, req[0], lambda dst: compute(x, w, b, p, dst))
    return kernel


convolution = _forward_kernel(_conv_forward)
convolution.__doc__ = "out = conv(data, weight) + bias: im2col + GEMM per sample and group."
convolution.batch_strided = True        # takes a batch-strided output as it is (scheduler/plan.py `_SampleBySample`)


def convolution_fused(ctx, p, inputs, outputs, req):
    """`_conv_fused` (ops/fold.py): out = conv(data, weight) * scale + shift with scale_shift (else + bias), then
    its activation (act_type), all in the pass that crops the GEMM's output."""
    x, w = _compute(inputs[0]), _compute(inputs[1])
    scale = b = None
    if p.scale_shift:
        scale, b = (_compute(a).astype(x.dtype, copy=False) for a in inputs[2:4])
    elif not p.no_bias:
        b = _compute(inputs[2]).astype(x.dtype, copy=False)
    out = outputs[0]
    act = activation(p, x.dtype)
    keep = w is inputs[1]       # the parameter array itself (not a float16 one's float32 copy)
    if out.dtype == F16 and req[0] != NULL:
        tmp = np.empty(out.shape, x.dtype)
        _conv_forward(x, w, b, p, tmp, act, scale, keep)
        assign(out, req[0], tmp)
    else:
        store(out, req[0], lambda dst: _conv_forward(x, w, b, p, dst, act, scale, keep))


convolution_fused.batch_strided = True

deconvolution = _forward_kernel(_deconv_forward)
deconvolution.__doc__ = "out = conv_transpose(data, weight) + bias: GEMM + col2im per sample and group."


def _conv_backward(p, dy, x, w, outputs, req, transposed):
    """Gradients of Convolution (transposed=False) or Deconvolution (True) into outputs (dx, dw[, db]).

    Convolution, per sample n and group g, with col = im2col(x[n]):  dx[n] = col2im(W_g.T @ dy[n]_g),
    dW_g += dy[n]_g @ col_g.T.  Deconvolution, with col = im2col(dy[n]):  dx[n]_g = W_g @ col_g,
    dW_g += x[n]_g @ col_g.T.  db = sum of dy over batch and space for both. Samples spread over the cores
    (ops/cpu/conv_parallel.py), each thread with its own buffers; narrow samples go several to a GEMM (Note
    [batched backward] in ops/cpu/conv_grads.py)."""
    want_dx, want_dw = req[0] != NULL, req[1] != NULL
    if not p.no_bias:
        _bias_grad(dy, outputs[2], req[2])
    if not (want_dx or want_dw):
        return
    # cleared only for the kernels that add into it: the Winograd data gradients write every element
    dx = _Accumulator(outputs[0], req[0], clear=False) if want_dx else None
    path, geometry = (None, None) if transposed else _direct(p, x.shape)
    if path is not None:
        dw = _Accumulator(outputs[1], req[1]) if want_dw else None
        if want_dx:
            dx.clear()
        direct_backward(geometry, dy.reshape(_spatial3(dy.shape)), x.reshape(_spatial3(x.shape)), w,
                        dx.buf.reshape(_spatial3(x.shape)) if want_dx else None, dw.buf if want_dw else None)
        for acc in (dx, dw):
            if acc is not None:
                acc.finish()
        return
    if not transposed and _phase_backward(p, dy, x, w, dx, outputs[1], req[1]):
        return
    if want_dx and not transposed and (_banded_data_grad(p, dy, w, dx) or _winograd_data_grad(p, dy, w, dx)):
        want_dx, dx_done, dx = False, dx, None
    else:
        dx_done = None
        if want_dx:
            dx.clear()
    if want_dw and not transposed and _winograd_weight_grad(p, dy, x, outputs[1], req[1]):
        want_dw = False
    if not (want_dx or want_dw):
        if dx_done is not None:
            dx_done.finish()
        return
    w2 = w.reshape(w.shape[0], -1)
    n = x.shape[0]
    unfold = _conv_unfolding(p, x.shape, dy.shape, x.dtype, transposed)
    per = 1 if transposed or unfold.taps else conv_grads.chunk_samples(n, unfold.L, shares(n))
    wide = per == 1     # a chunk's GEMM would multiply wide columns' junk too: plain im2col

    def make_unfold():
        return _conv_unfolding(p, x.shape, dy.shape, x.dtype, transposed, wide=wide)
    if not wide and unfold.wide:
        unfold = make_unfold()
    # the first share's summed weight gradient may be the output itself (no clearing, no add), unless req adds to
    # it or the per-tap layout needs a transpose
    dw, total, own = None, None, False
    if want_dw:
        own = not unfold.taps and (req[1] != ADD or outputs[1].dtype == F16 or not outputs[1].flags.c_contiguous)
        dw = _Accumulator(outputs[1], req[1], clear=not own)
        total = dw.buf.reshape(w2.shape)
    flops = 2.0 * (x if transposed else dy).size * w2.shape[1] * (int(want_dx) + int(want_dw))
    parts = ()
    if want_dx or want_dw:
        chunks, spare = -(-n // per), [unfold]
        parts = reduce_over(chunks, lambda: conv_grads.BackwardWorker(
            p, dy, x, w2, dx, dw, transposed, spare.pop() if spare else make_unfold(), chunks,
            total if own else None), flops)
    if want_dw:
        parts = [part for part in parts if part is not None]
        if not dw.cleared and not any(part is total for part in parts):
            total[...] = 0      # the first share ran no GEMM
        for part in parts:      # in share order: Note [a reduction's bits] in ops/cpu/conv_parallel.py
            if part is not total:
                total += part
    for acc in (dx, dw, dx_done):
        if acc is not None:
            acc.finish()


def _phase_backward(p, dy, x, w, dx, dw_out, dw_req):
    """Both gradients of a strided 2-D convolution over the phase planes of the padded image where they apply
    (ops/cpu/conv_phase_taps.py, Note [phase-plane backward]): dx (an _Accumulator or None) written or added to,
    dw_out (dw_req) assigned. Whether they ran."""
    kernel, stride, pad, dilate = conv_geometry(p, len(p.kernel))
    phase = x.ndim == 4 and conv_phase_taps.backward_path(kernel, stride, pad, dilate, p.num_group,
                                                          _spatial3(x.shape)[2:], _spatial3(dy.shape)[2:],
                                                          x.shape[1], x.dtype, dx is not None)
    if not phase:
        return False
    add = dx is not None and dx.buf is dx.out and dx.req == ADD
    dw = conv_phase_taps.backward(dy, x, w, tuple(v[1:] for v in (kernel, stride, pad, dilate)),
                                  None if dx is None else dx.buf, add, dw_req != NULL, reduce_over,
                                  phase == "blocked")
    if dw is not None:
        assign(dw_out, dw_req, dw.reshape(dw_out.shape))
    if dx is not None:
        dx.finish()
    return True


def _winograd_weight_grad(p, dy, x, out, req):
    """out (req) = the weight gradient by Winograd where it pays (ops/cpu/winograd_grads.py, Note [Winograd weight
    gradient]). Whether it did."""
    kernel, stride, pad, dilate = conv_geometry(p, len(p.kernel))
    if not winograd_grads.pays(p, kernel, stride, dilate, x.shape, dy.shape, x.dtype):
        return False
    assign(out, req, winograd_grads.weight_grad(x, dy, pad[1:], reduce_over).reshape(out.shape))
    return True


def _add_unless_written(dx, dst):
    """After a data gradient computed into dst: add it into dx (an _Accumulator) unless dst is dx's buffer."""
    if dst is not dx.buf:
        dx.clear()
        dx.buf += dst


def _banded_data_grad(p, dy, w, dx):
    """dx (an _Accumulator) += the data gradient by Winograd in bands of tile rows where the weight gradient's
    Winograd pays (ops/cpu/winograd_grads.py, Note [Winograd data gradient in bands]). Whether it did."""
    kernel, stride, pad, dilate = conv_geometry(p, len(p.kernel))
    if (not winograd_grads.DATA_GRAD or max(pad[1:]) > 2
            or not winograd_grads.pays(p, kernel, stride, dilate, dx.out.shape, dy.shape, dy.dtype)):
        return False
    dst = dx.buf if dx.req != ADD else np.empty(dx.out.shape, dy.dtype)
    winograd_grads.data_grad(dy, w, pad[1:], dst, for_each)
    _add_unless_written(dx, dst)
    return True


def _winograd_data_grad(p, dy, w, dx):
    """dx (an _Accumulator) += the data gradient of a convolution by Winograd where it measured faster: the data
    gradient of a unit-stride 3x3 convolution with pad q is the convolution of dy with the flipped, transposed
    weights (C, F, 3, 3) and pad 2 - q. Whether it did.

    Measured (one thread, process CPU time, medians of 7, the whole backward with the weight gradient, load ~7):
    against im2col and col2im (small images) 0.68x-0.88x with many tiles and channels (512 x 7x7 at batch 8, 16,
    32: 0.85x, 0.74x, 0.68x; 256 x 7x7 at 8 0.88x, x 10x10 0.84x; 128 x 7x7 at 8 0.95x) and a loss below (256 x
    7x7 at batch 4 1.02x, 128 at batch 2 1.11x, 64 x 7x7 at batch 8 1.05x); beside the per-tap weight gradient
    (thread CPU time, medians of 9 interleaved, load ~5.6) 256 x 14x14 at batch 4, 8, 16: 0.95x, 0.88x, 0.80x,
    512 x 14x14 at 8 0.88x. Since im2col and col2im copy unit-stride rows as plain copies (ops/cpu/conv_unfold.py,
    ~0.75x their time at 7x7), measured the same way (load ~2.5): 512 x 7x7 at batch 8 1.07-1.10x (a loss), 12
    0.98x, 16 0.95x; 256 x 7x7 at 8 1.02x, 16 0.93x; 256 x 10x10 at 8 0.91x, 16 0.87x; inside resnet18_v1's training
    step at batch 8 (its three 512 x 7x7 layers, thread CPU time per op) 108-111 ms by im2col against 121-154 by
    Winograd. So: at least
    WINOGRAD_DATA_GRAD_MIN_CHANNELS channels and WINOGRAD_DATA_GRAD_MIN_TILES tiles, and the forward's rule."""
    kernel, stride, pad, dilate = conv_geometry(p, len(p.kernel))
    if max(pad[1:]) > 2 or not _winograd_chosen(p, kernel, stride, dilate, dy.shape, dx.out.shape, dy.dtype):
        return False
    tile_h, tile_w = winograd.tiles(*dx.out.shape[2:])
    if (min(dy.shape[1], dx.out.shape[1]) < WINOGRAD_DATA_GRAD_MIN_CHANNELS
            or dy.shape[0] * tile_h * tile_w < WINOGRAD_DATA_GRAD_MIN_TILES):
        return False
    channels = dx.out.shape[1]
    ones, zeros = channel_args(None, None, channels, dy.dtype)
    dst = dx.buf if dx.req != ADD and dx.buf.flags.c_contiguous else np.empty(dx.out.shape, dy.dtype)
    winograd.forward(dy, None, (2 - pad[1], 2 - pad[2]), dst, ones, zeros, Activation.none(dy.dtype).args(),
                     for_each, threads(), u=winograd.data_grad_transform(w, dy.dtype))
    _add_unless_written(dx, dst)
    return True


def _backward_kernel(transposed):
    def kernel(ctx, p, inputs, outputs, req):
        dy, x, w = (_compute(a) for a in inputs[:3])
        _conv_backward(p, dy, x, w, outputs, req, transposed)
    return kernel


_backward_convolution = _backward_kernel(False)
_backward_convolution.batch_strided = True      # reads contiguous copies; dx and dw through `_Accumulator`
_backward_convolution.__doc__ = "(out_grad, data, weight) -> (data_grad, weight_grad[, bias_grad]) of Convolution."
_backward_deconvolution = _backward_kernel(True)
_backward_deconvolution.__doc__ = ("(out_grad, data, weight) -> (data_grad, weight_grad[, bias_grad]) of "
                                   "Deconvolution.")
