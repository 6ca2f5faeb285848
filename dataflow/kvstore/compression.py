"""Gradient compression (`KVStore.set_gradient_compression`): MXNet's 2-bit quantisation with a residual.

Each pushing context keeps a residual per key; a push adds the gradient to it, and each element sends +threshold
when the residual reached threshold, -threshold when it reached -threshold, else 0, subtracting what it sent. The
store sums the dequantised values, so the numbers are MXNet's.

On the wire (`TwoBitWire`), a dist store whose workers push one array per key sends MXNet's packed form: 2 bits per
value, 16 values to a 4-byte word, value i in byte i // 4 at bits 7-6, 5-4, 3-2, 1-0 for i % 4 = 0..3, 0b11 for
+threshold, 0b10 for -threshold, 0b00 for 0 (an eighth of float32's bytes, sixteenth with padding aside). Packed
codes cannot be summed by an allreduce, so each worker's words are gathered to every worker (Iallgather), which
decodes and sums them in rank order: on 2 workers bit for bit MPI's sum of the dequantised values (v0 + v1); the
gathered bytes are N/16 of a float32 allreduce's 2 (N-1)/N, so it pays up to a few dozen workers. Several contexts
per key sum their quantised values first (no longer 2-bit values): those pushes travel as float32.
"""
import numba
import numpy as np

from ..base import MXNetError


@numba.njit(nogil=True, cache=True)
def _quantize_2bit(grad, residual, threshold, out):
    for i in range(grad.size):
        r = residual[i] + grad[i]
        q = threshold if r >= threshold else (-threshold if r <= -threshold else 0.0)
        residual[i] = r - q
        out[i] = q


@numba.njit(nogil=True, cache=True)
def _encode_2bit(values, threshold, out):
    for i in range(values.size):
        v = values[i]
        if v >= threshold:
            out[i >> 2] |= np.uint8(0xC0 >> (2 * (i & 3)))
        elif v <= -threshold:
            out[i >> 2] |= np.uint8(0x80 >> (2 * (i & 3)))


@numba.njit(nogil=True, cache=True)
def _add_decoded_2bit(codes, threshold, out):
    for i in range(out.size):
        code = (codes[i >> 2] >> (6 - 2 * (i & 3))) & 3
        if code == 3:
            out[i] += threshold
        elif code == 2:
            out[i] -= threshold


class TwoBitWire:
    """The packed wire form of 2-bit quantised float32 values (see the module's docstring)."""

    def __init__(self, threshold):
        self.threshold = np.float32(threshold)

    @staticmethod
    def nbytes(n):
        """Bytes of the packed form of n values: whole 4-byte words of 16 values."""
        return 4 * -(-n // 16)

    def encode(self, values):
        """The packed bytes (uint8) of the flat float32 `values`, each of them -threshold, 0 or +threshold."""
        out = np.zeros(self.nbytes(values.size), np.uint8)
        _encode_2bit(np.ascontiguousarray(values, np.float32).reshape(-1), self.threshold, out)
        return out

    def decode_sum(self, gathered, n):
        """The float32 sum, in row order, of the n values each row of `gathered` (one packed form per worker)
        encodes."""
        total = np.zeros(n, np.float32)
        for row in gathered:
            _add_decoded_2bit(row, self.threshold, total)
        return total


class TwoBit:
    """2-bit quantisation with threshold `threshold` (> 0) and one residual per (key, context)."""

    def __init__(self, threshold=0.5):
        threshold = float(threshold)
        if not threshold > 0:
            raise MXNetError("gradient compression 2bit: threshold must be positive, got %r" % threshold)
        self.threshold = threshold
        self._residuals = {}
        self.wire = TwoBitWire(threshold)

    def __call__(self, key, slot, grad):
        """The quantised `grad` (numpy float32) pushed for `key` from context number `slot`."""
        flat = np.ascontiguousarray(grad, dtype=np.float32).reshape(-1)
        residual = self._residuals.get((key, slot))
        if residual is None or residual.size != flat.size:
            residual = self._residuals[(key, slot)] = np.zeros(flat.size, np.float32)
        out = np.empty_like(flat)
        _quantize_2bit(flat, residual, np.float32(self.threshold), out)
        return out.reshape(np.shape(grad))


def create(params):
    """The compressor for MXNet's `compression_params` dict ({'type': '2bit', 'threshold': 0.5})."""
    params = dict(params or {})
    kind = params.pop("type", None)
    if kind is None:
        raise MXNetError("gradient compression: compression_params needs a 'type' (only '2bit' exists)")
    if kind == "none":
        return None
    if kind != "2bit":
        raise MXNetError("gradient compression: unknown type %r (only '2bit' exists)" % (kind,))
    unknown = set(params) - {"threshold"}
    if unknown:
        raise MXNetError("gradient compression 2bit: unknown parameter(s) %s" % ", ".join(sorted(unknown)))
    return TwoBit(params.get("threshold", 0.5))
