"""`npx.reshape`: NumPy's reshape plus MXNet's numpy-mode special values, which differ from the legacy `Reshape`'s:

    -1 infer this dimension   -2 copy this input dimension   -3 drop this input dimension (it must be 1)
    -4 copy all the remaining input dimensions   -5 the product of two consecutive input dimensions
    -6 split one input dimension into the next two values of newshape (one of them may be -1)

With `reverse=True` the values are matched from the right. Arrays compute the output shape on the host
(`output_shape`); a Symbol's shape is unknown when it is traced, so the Symbol side translates the values into the
legacy op's codes (`legacy_codes`), which say everything but -3: that is a squeeze of the dropped axes first (its
positions are known from the values before it).
"""
import numbers

import numpy as onp

from ops.errors import ShapeError


def _tokens(newshape):
    """`newshape` as a list of groups: (-6, a, b) is one group, every other value a group of one."""
    groups, j = [], 0
    while j < len(newshape):
        if newshape[j] == -6:
            if j + 2 >= len(newshape):
                raise ShapeError("npx.reshape: -6 must be followed by two values, newshape %s" % (newshape,))
            groups.append(tuple(newshape[j:j + 3]))
            j += 3
        else:
            groups.append((newshape[j],))
            j += 1
    return groups


def output_shape(shape, newshape, reverse=False):
    """The shape `npx.reshape` gives an array of `shape`; a ShapeError naming both when it cannot."""
    newshape = (int(newshape),) if isinstance(newshape, numbers.Integral) else tuple(int(d) for d in newshape)
    src = list(shape)
    if reverse:         # matched from the right: both read backwards (a -6 then follows its two values)
        src, groups = src[::-1], _tokens(newshape[::-1])
    else:
        groups = _tokens(newshape)
    out, i, infer = [], 0, None

    def need(count):
        if i + count > len(src):
            raise ShapeError("npx.reshape: newshape %s asks for more dimensions than the input shape %s has"
                             % (newshape, tuple(shape)))
    for group in groups:
        d = group[0]
        if d >= 0 or d == -1:
            if d == -1:
                if infer is not None:
                    raise ShapeError("npx.reshape: only one -1 is allowed, newshape %s" % (newshape,))
                infer = len(out)
            out.append(d)
            i += 1
        elif d == -2:
            need(1)
            out.append(src[i])
            i += 1
        elif d == -3:
            need(1)
            if src[i] != 1:
                raise ShapeError("npx.reshape: -3 drops a dimension of size 1, but input dimension %d of %s is %d"
                                 % (i, tuple(shape), src[i]))
            i += 1
        elif d == -4:
            out.extend(src[i:])
            i = len(src)
        elif d == -5:
            need(2)
            out.append(src[i] * src[i + 1])
            i += 2
        elif d == -6:
            need(1)
            a, b = group[1], group[2]
            if a == -1:
                a = src[i] // b if b else 0
            if b == -1:
                b = src[i] // a if a else 0
            if a * b != src[i]:
                raise ShapeError("npx.reshape: -6 cannot split input dimension %d of size %d into %d x %d"
                                 % (i, src[i], group[1], group[2]))
            out.extend((a, b))
            i += 1
        else:
            raise ShapeError("npx.reshape: %d is not a valid value in newshape %s" % (d, newshape))
    size = int(onp.prod(shape))
    if infer is not None:
        known = int(onp.prod([d for k, d in enumerate(out) if k != infer]))
        if known == 0 or size % known:
            raise ShapeError("npx.reshape: cannot reshape an array of shape %s into %s"
                             % (tuple(shape), newshape))
        out[infer] = size // known
    if reverse:
        out = out[::-1]
    if int(onp.prod(out)) != size:
        raise ShapeError("npx.reshape: cannot reshape an array of shape %s (size %d) into %s"
                         % (tuple(shape), size, newshape))
    return tuple(out)


_LEGACY = {-1: -1, -2: 0, -4: -2, -5: -3, -6: -4}     # npx value -> the legacy Reshape's code for the same thing


def legacy_codes(newshape, reverse=False):
    """(the input axes that -3 drops, the legacy `Reshape` op's shape codes for the other npx values of
    `newshape`): a Symbol's npx.reshape is a squeeze of those axes (counted from the end with `reverse`), then a
    `Reshape` (which, with `reverse`, reads the codes backwards as npx does). A ValueError for what the codes cannot
    say."""
    newshape = (int(newshape),) if isinstance(newshape, numbers.Integral) else tuple(int(d) for d in newshape)
    codes, dropped, axis = [], [], 0       # axis: the input axis the next value reads (from the end if reverse)
    for group in _tokens(newshape[::-1] if reverse else newshape):
        d = group[0]
        if d == 0:
            raise ValueError("a zero-size dimension in newshape %s (the legacy op reads 0 as 'copy')" % (newshape,))
        if d == -3:
            if axis is None:
                raise ValueError("-3 after -4 in newshape %s: no input dimension is left to drop" % (newshape,))
            dropped.append(-axis - 1 if reverse else axis)
        elif d > 0:
            codes.append(d)
        elif d in _LEGACY:
            codes.append(_LEGACY[d])
            codes.extend(group[1:])
        else:
            raise ValueError("%d is not a valid value in newshape %s" % (d, newshape))
        axis = None if d == -4 or axis is None else axis + (2 if d == -5 else 1)
    return tuple(sorted(dropped)), codes[::-1] if reverse else codes
