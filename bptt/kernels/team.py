"""One parallel region for every split loop: numba's team runs `loop(*args, b0, b1)` over ranges.

A fused kernel's loop takes a range of rows [b0, b1) (_common.run_rows); where numba's team
takes the parts (_common.team_threads), the ranges run as one numba parallel region. That region
could be a `prange` twin next to each loop, calling it directly; but then numba links the loop's
compiled code into the twin and LLVM optimises and compiles it again, twice (the region's body
is a function of its own, and the twin a third), so a first training step spent 6.7 of its 12 s
compiling the same loops again.

Here the region is written once (`_each_range`) and receives the loop as a number, the address
of its compiled code (`_address`), which it calls through a pointer: the region never sees the
loop's code, so the loop is compiled once, and each region costs only numba's parallel lowering
of a small loop (0.3-0.65 s a signature, cached on disk like the loops). On 2 cores the tutorial
model's first training step, kernel cache empty, went from 12.0 to 7.1 s; a region of two tiny
parts costs 3.0 us against the twin's 2.2, and the loops themselves run as fast.

Where the package directory is read-only (site-packages installed as root), numba writes its
cache to the user's (~/.cache/numba, or NUMBA_CACHE_DIR), for these regions as for the loops.
"""
import numba
import numpy as np
import numba.experimental.function_type  # noqa: F401  (numba's model of a function pointer)
from numba import njit, prange
from numba.core import cgutils, types
from numba.extending import intrinsic

from numba._dispatcher import compute_fingerprint


def _loop_at(bounds_count):
    """An intrinsic: (address, args) -> the compiled loop at that address, as numba's first-class
    function taking (*args, and bounds_count int64s) and returning nothing. The address is the
    loop's own entry point (numba's calling convention, errors passed up), found by `_address`."""

    @intrinsic
    def loop_at(typingctx, address, args):
        function = types.FunctionType(types.none(*args.types, *(types.int64,) * bounds_count))

        def codegen(context, builder, signature, llargs):
            pointer = builder.inttoptr(llargs[0], context.get_value_type(types.voidptr))
            value = cgutils.create_struct_proxy(function)(context, builder)
            value.jit_addr = pointer  # (c_addr and py_addr stay null: never asked for)
            return value._getvalue()

        return function(address, args), codegen

    return loop_at


_range_loop_at, _numbered_loop_at = _loop_at(2), _loop_at(3)


@njit(parallel=True, cache=True, nogil=True)
def _each_range(address, bounds, args):
    loop = _range_loop_at(address, args)
    for i in prange(bounds.shape[0] - 1):
        loop(*args, bounds[i], bounds[i + 1])


@njit(parallel=True, cache=True, nogil=True)
def _each_numbered_range(address, bounds, args):
    loop = _numbered_loop_at(address, args)
    for i in prange(bounds.shape[0] - 1):
        loop(*args, np.int64(i), bounds[i], bounds[i + 1])


_ADDRESSES = {}  # (loop, numbered, the arguments' type fingerprints) -> the compiled loop's address


def _address(loop, args, numbered):
    """The address of the loop compiled for these arguments and the range's int64 bounds (and
    part number); compiled (or read from numba's cache) once per argument types. The types are
    numba's for the tuple `args`, so they are the ones the region sees."""
    key = (loop, numbered, *map(compute_fingerprint, args))  # ~0.1 us an argument
    address = _ADDRESSES.get(key)
    if address is None:
        signature = (*numba.typeof(args).types, *(types.int64,) * (3 if numbered else 2))
        loop.compile(signature)
        compiled = loop.overloads[signature]  # (kept by the loop, with the code it points to)
        if compiled.signature.return_type != types.none:
            raise TypeError(f"{loop.__name__} must return nothing to run over ranges")
        address = compiled.library.get_pointer_to_function(compiled.fndesc.llvm_func_name)
        _ADDRESSES[key] = address
    return address


def each_range(loop, bounds, args, numbered=False):
    """loop(*args, bounds[i], bounds[i + 1]) (with numbered, loop(*args, i, bounds[i],
    bounds[i + 1])) for every range i, as one parallel region on numba's team."""
    if numbered:
        _each_numbered_range(_address(loop, args, True), bounds, args)
    else:
        _each_range(_address(loop, args, False), bounds, args)
