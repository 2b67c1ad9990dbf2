"""bptt.kernels.team: one parallel region runs a compiled loop over row ranges, called through
the address of its compiled code. Every range runs once, with its own bounds (and part number),
for each argument type the loop is compiled for, as the loop itself would run them one by one."""
import numpy as np
import pytest
from numba import njit

from bptt.kernels import _common, team


@njit(nogil=True)
def _fill(out, scale, r0, r1):
    for r in range(r0, r1):
        for j in range(out.shape[1]):
            out[r, j] += scale * (r + 1) + j  # += : a range run twice would show


@njit(nogil=True)
def _fill_numbered(out, parts, part, r0, r1):
    for r in range(r0, r1):
        out[r] += part + 1
    parts[part] = r1 - r0


@njit(nogil=True)
def _answers(out, r0, r1):
    return r1 - r0


def _one_by_one(loop, bounds, args, numbered=False):
    for i in range(len(bounds) - 1):
        loop(*args, *((i,) if numbered else ()), bounds[i], bounds[i + 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_every_range_runs_once_as_the_loop_would_run_it(dtype, parts):
    bounds = _common.bounds_of(20, parts)
    out, expected = np.zeros((20, 3), dtype), np.zeros((20, 3), dtype)
    _common.team_of(min(parts, 2))
    team.each_range(_fill, bounds, (out, dtype(0.5)))
    _one_by_one(_fill, bounds, (expected, dtype(0.5)))
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("parts", [2, 5])
def test_numbered_ranges_get_their_part_number(parts):
    bounds = _common.bounds_of(11, parts)
    out, sizes = np.zeros(11), np.zeros(parts, np.int64)
    team.each_range(_fill_numbered, bounds, (out, sizes), numbered=True)
    expected, expected_sizes = np.zeros(11), np.zeros(parts, np.int64)
    _one_by_one(_fill_numbered, bounds, (expected, expected_sizes), numbered=True)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(sizes, np.diff(bounds))


def test_each_argument_type_gets_its_own_compiled_loop():
    bounds = _common.bounds_of(4, 2)
    team.each_range(_fill, bounds, (np.zeros((4, 2), np.float32), np.float32(1)))
    team.each_range(_fill, bounds, (np.zeros((4, 2)), 1.0))
    addresses = {address for key, address in team._ADDRESSES.items() if key[0] is _fill}
    assert len(addresses) == 2
    out = np.zeros((4, 2), np.float64)  # the float64 one again: its own answer, not float32's
    team.each_range(_fill, bounds, (out, 1.0))
    expected = np.zeros((4, 2))
    _one_by_one(_fill, bounds, (expected, 1.0))
    np.testing.assert_array_equal(out, expected)


def test_a_loop_that_returns_something_is_refused():
    with pytest.raises(TypeError, match="must return nothing"):
        team.each_range(_answers, _common.bounds_of(4, 2), (np.zeros(4),))
