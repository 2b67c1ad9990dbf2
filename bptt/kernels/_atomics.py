"""Atomic operations on the elements of an int64 array, for compiled loops that run on two
threads at once and hand each other work step by step (bptt.kernels.lstm_stack).

Numba has no atomics on the CPU, so these are LLVM instructions emitted directly:

    load_acquire(flags, i)            flags[i], and every write the other thread made before
                                      its matching store_release is visible after it
    store_release(flags, i, value)    flags[i] = value, after every earlier write of this thread
    fetch_add(flags, i, value)        flags[i] += value, returning the old value
    compare_swap(flags, i, old, new)  flags[i] = new if flags[i] == old; True if it did

A plain load in a spin loop is not enough: LLVM may read it once and loop forever.
"""
from numba import types
from numba.extending import intrinsic


def _element_pointer(context, builder, array_type, array, index):
    data = context.make_array(array_type)(context, builder, array).data
    return builder.gep(data, [index])


def _check(flags, *ints):
    return (isinstance(flags, types.Array) and flags.dtype == types.int64
            and all(isinstance(i, types.Integer) for i in ints))


@intrinsic
def load_acquire(typingctx, flags, index):
    if not _check(flags, index):
        return None

    def codegen(context, builder, sig, args):
        pointer = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        return builder.load_atomic(pointer, "acquire", 8)
    return types.int64(flags, index), codegen


@intrinsic
def store_release(typingctx, flags, index, value):
    if not _check(flags, index, value):
        return None

    def codegen(context, builder, sig, args):
        pointer = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        value = context.cast(builder, args[2], sig.args[2], types.int64)
        builder.store_atomic(value, pointer, "release", 8)
        return context.get_dummy_value()
    return types.void(flags, index, value), codegen


@intrinsic
def fetch_add(typingctx, flags, index, value):
    if not _check(flags, index, value):
        return None

    def codegen(context, builder, sig, args):
        pointer = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        value = context.cast(builder, args[2], sig.args[2], types.int64)
        return builder.atomic_rmw("add", pointer, value, "acq_rel")
    return types.int64(flags, index, value), codegen


@intrinsic
def compare_swap(typingctx, flags, index, old, new):
    if not _check(flags, index, old, new):
        return None

    def codegen(context, builder, sig, args):
        pointer = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        old = context.cast(builder, args[2], sig.args[2], types.int64)
        new = context.cast(builder, args[3], sig.args[3], types.int64)
        result = builder.cmpxchg(pointer, old, new, "acq_rel", "acquire")
        return builder.extract_value(result, 1)
    return types.boolean(flags, index, old, new), codegen
