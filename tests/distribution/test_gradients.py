"""Summing a step's gradients over processes through one flat buffer, with a stand-in
communicator: two processes whose gradients are equal, so every sum is twice the input."""
import numpy as np

from bptt.distribution.gradients import GradientSum
from bptt.optimizers.base import RowGradient


class TwoEqualProcesses:
    size = 2

    def __init__(self):
        self.sizes = []

    def sum_in_place(self, buffer):
        self.sizes.append(buffer.size)
        buffer *= 2
        return buffer


def table_gradient(rng, rows, V=6, D=3):
    summed = np.zeros((V, D), np.float32)
    summed[rows] = rng.standard_normal((len(rows), D))
    looked_up = np.zeros(V, bool)
    looked_up[rows] = True
    return RowGradient(summed, summed ** 2, looked_up, None)


def test_dense_and_looked_up_rows_come_back_summed(rng):
    comm = TwoEqualProcesses()
    kernel = rng.standard_normal((4, 2)).astype(np.float32)
    table = table_gradient(rng, [1, 4])
    pairs = [(table, np.zeros((6, 3), np.float32)), (kernel, np.zeros((4, 2), np.float32))]
    (new_table, _), (new_kernel, _) = GradientSum(comm)(pairs)
    np.testing.assert_allclose(new_kernel, 2 * kernel)
    np.testing.assert_allclose(new_table.summed, 2 * table.summed)
    np.testing.assert_allclose(new_table.squares, 2 * table.squares)
    np.testing.assert_array_equal(new_table.rows, table.rows)
    # The flags of the 6 rows, then 2 rows x 3 x 2 (sum and squares) + the 8-float kernel.
    assert comm.sizes == [6, 2 * 3 * 2 + 8]


def test_rows_of_an_earlier_step_do_not_linger(rng):
    summing = GradientSum(TwoEqualProcesses())
    weight = np.zeros((6, 3), np.float32)
    summing([(table_gradient(rng, [0, 2, 5]), weight)])
    later = table_gradient(rng, [3])
    (new, _), = summing([(later, weight)])
    np.testing.assert_allclose(new.summed, 2 * later.summed)  # rows 0, 2, 5 are zero again
    np.testing.assert_allclose(new.squares, 2 * later.squares)
    np.testing.assert_array_equal(np.flatnonzero(new.rows), [3])


def test_a_table_without_looked_up_rows_travels_whole(rng):
    comm = TwoEqualProcesses()
    summed = rng.standard_normal((5, 2)).astype(np.float32)
    (new, _), = GradientSum(comm)([(RowGradient(summed, summed ** 2), np.zeros((5, 2)))])
    np.testing.assert_allclose(new.summed, 2 * summed)
    assert comm.sizes == [2 * 5 * 2]
