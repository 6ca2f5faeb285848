"""Array views for the Plan compiler's generated code (scheduler/codegen.py), made without numba's generic code.

`arena[o:o + nbytes].view(np.float32).reshape((a, b))` and `x.reshape((n,))` compile through numba's general
slicing, `view` and `reshape` (bounds wrapping, size checks raising exceptions, an internal function compiled per
dtype change): 0.3-0.5 s of LLVM for a segment of a dozen views, more than the rest of the segment (measured here,
2026-12-07). The generated code knows its views are valid (offsets, shapes and sizes come from the memory plan), so
these intrinsics only fill in the array's fields:
  arena_view(arena, offset, dtype, shape)   the C-contiguous array of `shape` and `dtype` at byte `offset` of arena
  flat(x, n)                                x's n elements as one dimension (x is C-contiguous, n its size)
Each view shares its base's memory (and keeps it alive, as numba's own views do).
"""
from numba.core import cgutils, types
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array


def _c_strides(builder, context, shape, itemsize):
    strides, step = [], context.get_constant(types.intp, itemsize)
    for extent in reversed(shape):
        strides.insert(0, step)
        step = builder.mul(step, extent)
    return strides


def _fill(context, builder, base_type, base, aryty, data, shape):
    source = make_array(base_type)(context, builder, base)
    ary = make_array(aryty)(context, builder)
    itemsize = context.get_abi_sizeof(context.get_data_type(aryty.dtype))
    populate_array(ary, data=builder.bitcast(data, ary.data.type), shape=shape,
                   strides=_c_strides(builder, context, shape, itemsize),
                   itemsize=context.get_constant(types.intp, itemsize), meminfo=source.meminfo, parent=source.parent)
    return impl_ret_borrowed(context, builder, aryty, ary._getvalue())


@intrinsic
def arena_view(typingctx, arena, offset, dtype, shape):
    if not (isinstance(arena, types.Array) and isinstance(offset, types.Integer)
            and isinstance(dtype, (types.NumberClass, types.DType)) and isinstance(shape, types.BaseTuple)):
        return None
    aryty = types.Array(getattr(dtype, "instance_type", getattr(dtype, "dtype", None)), len(shape), "C")

    def codegen(context, builder, sig, args):
        source = make_array(arena)(context, builder, args[0])
        start = context.cast(builder, args[1], offset, types.intp)
        shape_values = [context.cast(builder, v, t, types.intp)
                        for v, t in zip(cgutils.unpack_tuple(builder, args[3]), shape)]
        return _fill(context, builder, arena, args[0], aryty, builder.gep(source.data, [start]), shape_values)

    return aryty(arena, offset, dtype, shape), codegen


@intrinsic
def flat(typingctx, x, n):
    if not (isinstance(x, types.Array) and isinstance(n, types.Integer)):
        return None
    aryty = types.Array(x.dtype, 1, "C")

    def codegen(context, builder, sig, args):
        data = make_array(x)(context, builder, args[0]).data
        return _fill(context, builder, x, args[0], aryty, data, [context.cast(builder, args[1], n, types.intp)])

    return aryty(x, n), codegen
