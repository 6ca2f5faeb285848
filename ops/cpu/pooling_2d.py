"""Pooling over 2-D planes (1-D and 2-D data, any batch and channel count) in single passes over each plane.

max, avg and sum pool a rectangle, and a rectangle's max or sum is the max or sum over its rows of each row's max
or sum: each plane is pooled along W into a (H, OW) float64 row buffer (one loop per kernel column, running over
the outputs: contiguous for stride 1, so LLVM vectorises it), then along H (one loop per kernel row, over the
outputs again). That is kh + kw reads per output instead of kh * kw. The forward of max over float data
(`pool2d_forward_max`) goes down the columns first instead: per output row, the max of its window's input rows
(contiguous loops, vectorised), then along that one row with the stride; at stride 2 that halves the strided reads
(measured, one thread, CPU time: 3x3 stride 2 pad 1 over 512 planes of 112x112 8.3 -> 4.3 ms, 64 planes 1.0 ->
0.47; stride 1 over 256 planes of 28x28 0.57 -> 0.51). The backward of avg and sum runs the same two
passes in reverse. The backward of max gives each output's gradient to the first input of its window (row-major)
equal to the output, as ops/cpu/pooling.py's general loops, but finds it with one vectorised pass over the plane
per window position (`pool2d_backward_max`; one thread, CPU time, 3x3 stride 2 pad 1 over 512 planes of 112x112:
36 -> 10 ms float32, 42 -> 18 float64; MXNet's oneDNN kernel, which keeps the argmax from the forward rather than
reading x again, 9 ms float32). Sums accumulate in float64, as those loops do.

Planes [m0, m1) per call, so the caller can spread blocks of planes over the cores (ops/cpu/conv_parallel.py).
"""
import numba
import numpy as np

__all__ = ["divisors", "max_backward_scratch", "pool2d_backward_max", "pool2d_backward_sum", "pool2d_forward",
           "pool2d_forward_max"]


@numba.njit(nogil=True, cache=True)
def _column_ranges(k, size, out_size, stride, pad):
    """lo[kx], hi[kx]: the outputs o in [lo, hi) are those whose window column kx, o * stride - pad + kx, lies
    inside [0, size)."""
    lo = np.empty(k, np.int64)
    hi = np.empty(k, np.int64)
    for kx in range(k):
        first = pad - kx                     # o * stride >= first
        lo[kx] = 0 if first <= 0 else (first + stride - 1) // stride
        last = size - 1 + pad - kx           # o * stride <= last
        hi[kx] = max(lo[kx], 0 if last < 0 else min(out_size, last // stride + 1))
    return lo, hi


@numba.njit(nogil=True, cache=True)
def _rows_of(o, k, s, p, size):
    start = o * s - p
    return max(start, 0), min(start + k, size)


@numba.njit(nogil=True, cache=True, fastmath={"reassoc"})
def pool2d_forward(x, m0, m1, kernel, stride, pad, is_max, lowest, ydiv, xdiv, rows, out):
    """out[m] = max/sum of x[m] over each window, divided by ydiv[oy] * xdiv[ox] (avg; 0 where that is 0; ones for
    sum and max), for planes m0..m1. x (M, H, W), out (M, OH, OW), rows a (H + 1, OW) scratch: float64 for sums,
    x's dtype for max (exact in any dtype; float32 loops run twice as wide)."""
    _, H, W = x.shape
    _, OH, OW = out.shape
    kh, kw = kernel
    sh, sw = stride
    ph, pw = pad
    start = lowest if is_max else 0.0
    lo, hi = _column_ranges(kw, W, OW, sw, pw)
    for m in range(m0, m1):
        # no row views (x[m, y]) in these loops: each view costs an atomic reference count, as much as the row's work
        for y in range(H):
            for ox in range(OW):
                rows[y, ox] = start
            for kx in range(kw):
                off = kx - pw
                if is_max:
                    for ox in range(lo[kx], hi[kx]):
                        v = x[m, y, ox * sw + off]
                        a = rows[y, ox]
                        rows[y, ox] = v if v > a else a          # strict >: NaN never wins, as the general loops
                else:
                    for ox in range(lo[kx], hi[kx]):
                        rows[y, ox] += x[m, y, ox * sw + off]
        for oy in range(OH):
            y0, y1 = _rows_of(oy, kh, sh, ph, H)
            for ox in range(OW):
                rows[H, ox] = start
            for y in range(y0, y1):
                if is_max:
                    for ox in range(OW):
                        v = rows[y, ox]
                        a = rows[H, ox]
                        rows[H, ox] = v if v > a else a
                else:
                    for ox in range(OW):
                        rows[H, ox] += rows[y, ox]
            if is_max:
                for ox in range(OW):
                    out[m, oy, ox] = rows[H, ox]
            else:
                d = ydiv[oy]
                for ox in range(OW):
                    area = d * xdiv[ox]
                    out[m, oy, ox] = rows[H, ox] / area if area > 0 else 0.0


@numba.njit(nogil=True, cache=True)
def pool2d_forward_max(x, m0, m1, kernel, stride, pad, lowest, span, out):
    """out[m] = max of x[m] over each window for planes m0..m1, down the columns first: per output row, the max of
    its window's input rows (contiguous, vectorised) into span (a ((OW - 1) * sw + kw,) scratch whose element i is
    input column i - pw, `lowest` outside the image), then each output the max of its kw elements of span. The
    strided reads are then OH * OW * kw, not H * OW * kw as pool2d_forward's row pass (half at stride 2)."""
    _, H, W = x.shape
    _, OH, OW = out.shape
    kh, kw = kernel
    sh, sw = stride
    ph, pw = pad
    n = span.shape[0]
    c0, c1 = min(pw, n), min(pw + W, n)         # span[c0:c1] holds input columns 0 .. c1 - pw - 1
    for i in range(c0):
        span[i] = lowest
    for i in range(c1, n):
        span[i] = lowest
    for m in range(m0, m1):
        plane = x[m]
        for oy in range(OH):
            y0, y1 = _rows_of(oy, kh, sh, ph, H)
            inner = span[c0:c1]
            if y1 <= y0:
                inner[:] = lowest
            else:
                first = plane[y0]
                for i in range(c1 - c0):
                    v = first[i]
                    inner[i] = v if v > lowest else lowest      # strict >: NaN never wins, as the general loops
                for y in range(y0 + 1, y1):
                    row = plane[y]
                    for i in range(c1 - c0):
                        v = row[i]
                        a = inner[i]
                        inner[i] = v if v > a else a
            for ox in range(OW):
                a = lowest
                for kx in range(kw):
                    v = span[ox * sw + kx]
                    a = v if v > a else a
                out[m, oy, ox] = a


@numba.njit(nogil=True, cache=True, fastmath={"reassoc"})
def pool2d_backward_sum(dy, m0, m1, kernel, stride, pad, ydiv, xdiv, clear, cols, row, dx):
    """dx[m] += the gradient of sum/avg pooling (dy spread over each window, divided by ydiv[oy] * xdiv[ox]) for
    planes m0..m1; dx[m] = that gradient when `clear`. dy (M, OH, OW), dx (M, H, W), cols a (H, OW) and row a
    (max(W, OW),) float64 scratch."""
    _, H, W = dx.shape
    _, OH, OW = dy.shape
    kh, kw = kernel
    sh, sw = stride
    ph, pw = pad
    lo, hi = _column_ranges(kw, W, OW, sw, pw)
    for m in range(m0, m1):
        for y in range(H):                  # (no row views: see pool2d_forward)
            for ox in range(OW):
                cols[y, ox] = 0.0
        for oy in range(OH):
            y0, y1 = _rows_of(oy, kh, sh, ph, H)
            d = ydiv[oy]
            for ox in range(OW):
                area = d * xdiv[ox]
                row[ox] = dy[m, oy, ox] / area if area > 0 else 0.0
            for y in range(y0, y1):
                for ox in range(OW):
                    cols[y, ox] += row[ox]
        for y in range(H):
            for i in range(W):
                row[i] = 0.0
            for kx in range(kw):
                off = kx - pw
                for ox in range(lo[kx], hi[kx]):
                    row[ox * sw + off] += cols[y, ox]
            if clear:
                for i in range(W):
                    dx[m, y, i] = row[i]
            else:
                for i in range(W):
                    dx[m, y, i] += row[i]


def max_backward_scratch(in_hw, out_hw, kernel, stride, pad, dtype):
    """One worker's scratch for pool2d_backward_max: (phases, ypad, first). phases (sh, sw, R, C) and ypad
    (OH, C) start NaN, and the kernel only ever writes their data positions: the padding stays NaN, which equals
    nothing."""
    (H, W), (OH, OW), (kh, kw), (sh, sw), (ph, pw) = in_hw, out_hw, kernel, stride, pad
    R = max(OH + (kh - 1) // sh, (H - 1 + ph) // sh + 1)       # every window row, every input row
    C = max(OW + (kw - 1) // sw, (W - 1 + pw) // sw + 1)
    phases = np.full((sh, sw, R, C), np.nan, dtype)
    ypad = np.full((OH, C), np.nan, dtype)
    first = np.empty(OH * C, np.int32 if np.dtype(dtype).itemsize <= 4 else np.int64)    # one vector width
    return phases, ypad, first


@numba.njit(nogil=True, cache=True)
def pool2d_backward_max(dy, x, y, m0, m1, kernel, stride, pad, clear, phases, ypad, first, dx):
    """dx[m] (flattened, (M, H * W)) += dy at the first input (row-major) of each window equal to the output, for
    planes m0..m1; dx[m] is zeroed first when `clear`. phases, ypad, first: max_backward_scratch's.

    The padded plane is split by row and column phase (phases[r % sh, c % sw, r // sh, c // sw] = padded x[r, c]),
    so that one window position (ky, kx) of every output is one contiguous run of phases, row for row with the
    outputs laid out C wide (ypad). One pass per window position, in reverse row-major order, over all the
    plane's outputs marks an output whose input there equals it: the last mark standing is the first equal input,
    found in long loops with no branch, which vectorise; then one add per output. (A scan per output that stops at
    its first hit branches unpredictably: 3.6x slower at 3x3 stride 2; passes per output row are too short for the
    vector loops.)"""
    _, H, W = x.shape
    _, OH, OW = dy.shape
    kh, kw = kernel
    sh, sw = stride
    ph, pw = pad
    _, _, R, C = phases.shape
    flat, yflat = phases.reshape(-1), ypad.reshape(-1)
    # unsigned indices in the inner loops: no wraparound checks, so LLVM vectorises them
    n, one = np.uint64(OH * C), np.uint64(1)
    for m in range(m0, m1):
        if clear:
            for i in range(H * W):
                dx[m, i] = 0.0
        for yy in range(H):
            rp, i = (yy + ph) % sh, (yy + ph) // sh
            if sw == 1:
                for c in range(np.uint64(W)):
                    phases[rp, 0, i, np.uint64(pw) + c] = x[m, yy, c]
            elif sw == 2:               # both phases in one loop: LLVM deinterleaves with shuffles
                even, j0, j1 = pw % 2, np.uint64(pw // 2), np.uint64((pw + 1) // 2)
                for t in range(np.uint64(W // 2)):
                    a, b = x[m, yy, t + t], x[m, yy, t + t + one]
                    phases[rp, even, i, j0 + t] = a
                    phases[rp, 1 - even, i, j1 + t] = b
                if W % 2:
                    c = W - 1 + pw
                    phases[rp, c % 2, i, c // 2] = x[m, yy, W - 1]
            else:
                for c in range(W):
                    phases[rp, (c + pw) % sw, i, (c + pw) // sw] = x[m, yy, c]
        for oy in range(OH):
            for ox in range(OW):
                ypad[oy, ox] = y[m, oy, ox]
        for o in range(n):
            first[o] = -1
        for ky in range(kh - 1, -1, -1):
            for kx in range(kw - 1, -1, -1):
                mark = first.dtype.type(ky * W + kx)         # in first's type: selects of one width
                q = kx // sw
                base = np.uint64((((ky % sh) * sw + kx % sw) * R + ky // sh) * C + q)
                # outputs o >= n - q (columns past OW) are skipped: their reads would run off the end of phases
                for o in range(n - np.uint64(q)):
                    kept, hit = first[o], flat[base + o] == yflat[o]
                    first[o] = mark if hit else kept
        start = -(ph * W + pw)
        for oy in range(OH):
            for ox in range(OW):
                mark = first[oy * C + ox]
                if mark >= 0:
                    dx[m, start + oy * sh * W + ox * sw + mark] += dy[m, oy, ox]


def divisors(out_size, k, s, p, size, count_pad):
    """Per output along one dim: its window's length, within the padded input (count_include_pad) or the real
    one (MXNet's avg divisor is the product over dims)."""
    o = np.arange(out_size)
    start = o * s - p
    if count_pad:
        return (np.minimum(start + k, size + p) - start).astype(np.float64)
    return np.maximum(np.minimum(start + k, size) - np.maximum(start, 0), 0).astype(np.float64)
