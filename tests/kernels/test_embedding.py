"""bptt.kernels.embedding (fused) equals its reference, bptt.ops.embedding.embedding_backward,
call after call on one reused buffer: each call must clear what the previous one wrote."""
import numpy as np
import pytest

from bptt.kernels import threads as threads_model
from bptt.kernels import embedding as fused
from bptt.ops import embedding as reference
from tests.helpers import assert_close

V, D = 23, 5  # odd sizes


def id_batches(rng, shape):
    """Several batches of ids: overlapping, disjoint, with repeats, then all one id."""
    batches = [rng.integers(0, V, size=shape) for _ in range(3)]
    batches.append(rng.integers(V // 2, V, size=shape))  # disjoint from most earlier rows
    repeated = rng.integers(0, 3, size=shape)  # few rows, each many times
    batches += [repeated, np.zeros(shape, dtype=np.int64)]
    return batches


def dy_like(rng, ids, dtype, layout):
    dy = rng.normal(size=ids.shape + (D,)).astype(dtype)
    if layout == "time_major_view":  # (B, T, D) seen through a transposed (T, B, D) array
        return np.ascontiguousarray(dy.transpose(1, 0, 2)).transpose(1, 0, 2)
    if layout == "strided":  # every other row of a larger array: neither layout above
        wide = np.zeros((ids.shape[0] * 2,) + dy.shape[1:], dtype)
        wide[::2] = dy
        return wide[::2]
    return dy


SHAPES_AND_LAYOUTS = [(shape, layout) for shape in [(1, 1), (4, 7), (7, 4)]
                      for layout in ["contiguous", "time_major_view", "strided"]]
SHAPES_AND_LAYOUTS += [((9,), "contiguous"), ((2, 3, 4), "contiguous")]  # ids of other ranks


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, layout", SHAPES_AND_LAYOUTS)
def test_fused_embedding_backward_matches_reference_call_after_call(rng, dtype, shape, layout):
    embeddings = rng.normal(size=(V, D)).astype(dtype)
    buffer = np.zeros_like(embeddings)
    rows_before = np.empty(0, np.intp)
    for ids in id_batches(rng, shape):
        ids = ids.astype(np.intp)
        dy = dy_like(rng, ids, dtype, layout)
        expected = reference.embedding_backward(dy, ids, embeddings)
        out = fused.embedding_backward_into(buffer, rows_before, ids, dy)
        assert out is buffer
        assert_close(buffer, expected, "dembeddings")
        assert np.count_nonzero(buffer[~np.isin(np.arange(V), ids)]) == 0  # stale rows cleared
        rows_before = ids.copy()


def test_repeated_ids_sum_in_the_references_order(rng):
    # Summing a row's dy in np.add.at's order rounds the same way: equal bit for bit.
    embeddings = np.zeros((3, 4), np.float32)
    ids = np.array([[1, 1, 1, 1, 2, 1]], dtype=np.intp)
    scales = 10.0 ** rng.integers(-4, 4, size=(1, 6, 1))  # so that the order of the sums matters
    dy = (rng.normal(size=(1, 6, 4)) * scales).astype(np.float32)
    out = fused.embedding_backward_into(np.zeros_like(embeddings), np.empty(0, np.intp), ids, dy)
    np.testing.assert_array_equal(out, reference.embedding_backward(dy, ids, embeddings))


def test_the_tutorial_size(rng):
    # 20,000 x 128, batch 32 x 50, padded reviews (id 0 many times), two steps in a row.
    embeddings = np.zeros((20000, 128), np.float32)
    buffer, rows_before = np.zeros_like(embeddings), np.empty(0, np.intp)
    for _ in range(2):
        ids = rng.integers(0, 20000, size=(32, 50)).astype(np.intp)
        ids[:, :20] = 0
        dy = rng.normal(size=(50, 32, 128)).astype(np.float32).transpose(1, 0, 2)
        fused.embedding_backward_into(buffer, rows_before, ids, dy)
        np.testing.assert_array_equal(buffer, reference.embedding_backward(dy, ids, embeddings))
        rows_before = ids.copy()


@pytest.mark.parametrize("split", [False, True])
def test_gradient_squares_and_rows_split_over_threads_or_not(rng, monkeypatch, handoff, split):
    """embedding_backward_with_squares_into, call after call, on one thread or with the table's
    rows split over the kernel threads: the reference's gradient and squares bit for bit."""
    from bptt.kernels import _common

    monkeypatch.setattr(_common, "numpy_blas_busy", not split)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "lookups", 1)
    embeddings = np.zeros((37, 5), np.float32)
    buffers = [np.zeros_like(embeddings), np.zeros_like(embeddings), np.zeros(37, np.bool_)]
    rows_before = np.empty(0, np.intp)
    for _ in range(3):
        ids = rng.integers(0, 37, size=(4, 9)).astype(np.intp)
        ids[:, :3] = 0  # repeats
        dy = rng.normal(size=(9, 4, 5)).astype(np.float32).transpose(1, 0, 2)  # time-major view
        grad, squares, looked_up = fused.embedding_backward_with_squares_into(
            *buffers, rows_before, ids, dy)
        np.testing.assert_array_equal(grad, reference.embedding_backward(dy, ids, embeddings))
        np.testing.assert_array_equal(squares,
                                      reference.embedding_backward_squares(dy, ids, embeddings))
        expected_rows = np.zeros(37, np.bool_)
        expected_rows[ids] = True
        np.testing.assert_array_equal(looked_up, expected_rows)
        rows_before = ids.copy()
