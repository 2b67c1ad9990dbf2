"""How a global batch is cut over processes, and dropout draws that match one process's."""
import numpy as np
import pytest

from bptt.distribution import sharding


@pytest.mark.parametrize("rows, size", [(8, 2), (5, 2), (8, 3), (2, 3), (1, 4), (7, 7)])
def test_shards_cover_the_batch_once_and_weigh_to_one(rows, size):
    shards = [sharding.Shard(rows, rank, size) for rank in range(size)]
    owned = np.concatenate([np.arange(rows)[s.start:s.stop] for s in shards if s.rows])
    np.testing.assert_array_equal(owned, np.arange(rows))
    assert sum(s.weight for s in shards) == pytest.approx(1.0)
    assert all(s.weight == s.rows / rows for s in shards)
    for s in shards:
        if s.rows == 0:  # a stand-in row that weighs nothing
            assert (s.start, s.stop, s.weight) == (0, 1, 0.0)


def test_a_shard_draws_its_rows_of_the_global_draw():
    whole = np.random.default_rng(4).random((2, 7, 3))  # (masks, B, features), batch axis 1
    pieces = []
    for rank in range(3):
        shard = sharding.Shard(7, rank, 3)
        with sharding.drawing(shard):
            pieces.append(sharding.uniform(np.random.default_rng(4), (2, shard.rows, 3), 1))
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), whole)


def test_outside_a_sharded_step_and_without_a_batch_axis_draws_are_plain():
    plain = np.random.default_rng(1).random((3, 2))
    np.testing.assert_array_equal(sharding.uniform(np.random.default_rng(1), (3, 2)), plain)
    with sharding.drawing(sharding.Shard(9, 1, 3)):
        np.testing.assert_array_equal(
            sharding.uniform(np.random.default_rng(1), (3, 2), batch_axis=None), plain)
