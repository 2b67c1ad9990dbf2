"""bptt.kernels.adam (fused) equals its reference, bptt.optimizers.Adam's NumPy update: weights
and slots after several steps, float32 and float64, with amsgrad, weight decay and every kind of
clipping (clipping runs in NumPy in front of either update)."""
import numpy as np
import pytest

from bptt.kernels import threads as threads_model
from bptt import optimizers
from bptt.kernels import adam as fused
from tests.helpers.optimizers import (assert_fused_matches_reference, kernels, make_problem,
                                      run_optimizer)

CASES = {
    "defaults": dict(),
    "amsgrad": dict(learning_rate=0.01, amsgrad=True),
    "betas": dict(learning_rate=0.05, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
    "weight_decay": dict(learning_rate=0.01, weight_decay=0.1),
    "weight_decay_amsgrad": dict(learning_rate=0.01, weight_decay=0.004, amsgrad=True),
    "clipnorm": dict(learning_rate=0.01, clipnorm=0.5),
    "global_clipnorm": dict(learning_rate=0.01, global_clipnorm=0.5, weight_decay=0.01),
    "clipvalue": dict(learning_rate=0.01, clipvalue=0.1),
    "schedule": dict(learning_rate=lambda: 0.003),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(CASES))
def test_fused_adam_matches_reference(rng, dtype, case):
    params, grads = make_problem(rng, dtype=dtype, steps=6)
    assert_fused_matches_reference(lambda: optimizers.Adam(**CASES[case]), params, grads,
                                   fused, "adam_update")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_adam_equals_reference_bit_for_bit(rng, dtype):
    # Same operations in the same order and no fastmath: equal, not just close. (The tolerance
    # tests above are the contract; this one says where we stand, and catches an FMA creeping in.)
    params, grads = make_problem(rng, dtype=dtype, steps=4)
    make = lambda: optimizers.Adam(0.01, amsgrad=True, weight_decay=0.01)  # noqa: E731
    ours, theirs = assert_fused_matches_reference(make, params, grads, fused, "adam_update")
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_fused_adam_propagates_inf_and_nan_like_the_reference(rng, amsgrad):
    params, grads = make_problem(rng, shapes=[(4, 5)], dtype=np.float32, steps=3)
    grads[1][0][0, 0], grads[1][0][1, 1], grads[2][0][2, 2] = np.inf, np.nan, -np.inf
    make = lambda: optimizers.Adam(0.01, amsgrad=amsgrad)  # noqa: E731
    with np.errstate(invalid="ignore"):  # the reference's inf - inf, expected here
        ours, _, calls = run_optimizer(make, params, grads, "fused", fused, "adam_update")
        theirs, _, _ = run_optimizer(make, params, grads, "reference", fused, "adam_update")
    assert len(calls) == 3
    assert np.isnan(theirs[0]).any()
    np.testing.assert_array_equal(ours[0], theirs[0])  # NaN where the reference has NaN


def test_float32_stays_float32_inside_the_kernel(rng):
    # A float64 scalar in a float32 loop would widen every element to float64 and back: still
    # close to the reference, so the comparisons above would not see it. The compiled
    # signatures do: every scalar has the arrays' type.
    params, grads = make_problem(rng, dtype=np.float32, steps=1)
    with kernels("fused"):
        optimizers.Adam(weight_decay=0.1, amsgrad=True).apply_gradients(zip(grads[0], params))
    for signature in fused._adam_flat.signatures:
        dtypes = {str(getattr(t, "dtype", t)) for t in signature} - {"bool"}
        assert len(dtypes) == 1, signature


def test_variables_the_kernel_cannot_take_use_the_reference(rng):
    # Not C-contiguous (a Fortran-ordered array), or not float32/float64: the NumPy update runs
    # for that variable, the kernel for the others, and the results are the reference's.
    params, grads = make_problem(rng, shapes=[(3, 4), (5, 6)], dtype=np.float64, steps=3)
    params[1] = np.asfortranarray(params[1])
    assert_fused_matches_reference(lambda: optimizers.Adam(0.01, weight_decay=0.1), params, grads,
                                   fused, "adam_update", fused_count=3)
    half, _, calls = run_optimizer(lambda: optimizers.Adam(0.01), [np.ones(3, np.float16)],
                                   [[np.ones(3, np.float16)]], "fused", fused, "adam_update")
    assert calls == [] and half[0].dtype == np.float16 and (half[0] < 1).all()


def test_the_callers_gradients_are_not_modified(rng):
    params, grads = make_problem(rng, dtype=np.float32, steps=2)
    before = [[g.copy() for g in step] for step in grads]
    run_optimizer(lambda: optimizers.Adam(weight_decay=0.1), params, grads, "fused", fused,
                  "adam_update")
    for step, step_before in zip(grads, before):
        for g, b in zip(step, step_before):
            np.testing.assert_array_equal(g, b)


def test_the_tutorial_embedding_size(rng):
    # 20,000 x 128 as in the tutorial (2.56 M weights), float32, a few steps, as the model
    # hands them over: a gradient that is zero outside the rows of the batch.
    V, D = 20000, 128
    params = [rng.uniform(-0.05, 0.05, (V, D)).astype(np.float32)]
    grads = []
    for _ in range(3):
        g = np.zeros((V, D), np.float32)
        g[rng.integers(0, V, 1600)] = rng.standard_normal((1600, D)).astype(np.float32) * 1e-3
        grads.append([g])
    assert_fused_matches_reference(optimizers.Adam, params, grads, fused, "adam_update")


# -- lazy_rows=True (opt-in, not Keras' rule) ----------------------------------------------------
def sparse_row_problem(rng, dtype, steps=5):
    """An embedding-like table and a bias, with gradients that are zero on most rows."""
    params = [rng.standard_normal((40, 6)).astype(dtype), rng.standard_normal(9).astype(dtype),
              np.asarray(rng.standard_normal(), dtype=dtype)]
    grads = []
    for step in range(steps):
        table = np.zeros((40, 6), dtype)
        rows = rng.integers(0, 40, 7)
        table[rows] = rng.standard_normal((7, 6))
        table[rows[0], :3] = 0  # a partly zero row is still a touched row
        bias = np.where(rng.random(9) < 0.5, rng.standard_normal(9), 0).astype(dtype)
        scalar = np.asarray(0.0 if step % 2 else rng.standard_normal(), dtype=dtype)
        grads.append([table, bias, scalar])
    return params, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [dict(), dict(amsgrad=True), dict(weight_decay=0.1),
                                    dict(clipnorm=0.5, amsgrad=True)])
def test_fused_lazy_rows_adam_matches_reference(rng, dtype, kwargs):
    params, grads = sparse_row_problem(rng, dtype)
    ours, theirs = assert_fused_matches_reference(
        lambda: optimizers.Adam(0.01, lazy_rows=True, **kwargs), params, grads, fused,
        "adam_update")
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


# -- an embedding's RowGradient (Keras' dense rule, squares per lookup) --------------------------
def row_gradient_steps(rng, dtype, steps=4, V=37, D=5):
    """RowGradients as bptt.layers.Embedding hands them over: summed and squares +0 outside
    the looked-up rows (runs of both kinds, first and last rows included in some steps)."""
    from bptt.optimizers import RowGradient

    out = []
    for step in range(steps):
        ids = rng.integers(0, V, 9)
        ids[0] = 0 if step % 2 else V - 1
        summed = np.zeros((V, D), dtype)
        squares = np.zeros((V, D), dtype)
        for i in ids:
            g = rng.standard_normal(D).astype(dtype)
            summed[i] += g
            squares[i] += g * g
        rows = np.zeros(V, bool)
        rows[ids] = True
        out.append(RowGradient(summed, squares, rows))
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [dict(), dict(amsgrad=True, weight_decay=0.01),
                                    dict(global_clipnorm=0.5), dict(clipvalue=0.1)])
def test_row_gradient_update_equals_reference_bit_for_bit(rng, dtype, kwargs):
    # The fused update reads neither the squares nor (unclipped) the gradient off the looked-up
    # rows, where the reference reads their zeros: the same arithmetic with g = 0, so equal.
    w0 = rng.standard_normal((37, 5)).astype(dtype)
    steps = row_gradient_steps(rng, dtype)
    results = {}
    for mode in ("reference", "fused"):
        w = w0.copy()
        optimizer = optimizers.Adam(0.01, **kwargs)
        with kernels(mode):
            for grad in steps:
                optimizer.apply_gradients([(grad, w)])
        results[mode] = [w, *optimizer._slots_for(w).values()]
    for ours, theirs in zip(results["fused"], results["reference"]):
        np.testing.assert_array_equal(ours, theirs)


def test_zero_off_rows_does_not_read_the_gradient_there(rng):
    # The kernel's promise, seen directly: garbage off the flagged rows is never read.
    w0 = rng.standard_normal((8, 3)).astype(np.float32)
    rows = np.array([True, False, False, True, True, False, True, False])
    g = np.where(rows[:, None], rng.standard_normal((8, 3)), 0).astype(np.float32)
    squares = (g * g * 0.5).astype(np.float32)
    slots = [np.full_like(w0, 0.01), np.full_like(w0, 0.02)]
    expected = [w0.copy(), *(s.copy() for s in slots)]
    fused.adam_update(expected[0], g, *expected[1:], None, 0.01, 0.9, 0.999, 1e-7,
                      grad_square=squares, square_rows=rows)
    poisoned = np.where(rows[:, None], g, np.nan).astype(np.float32)
    got = [w0.copy(), *(s.copy() for s in slots)]
    fused.adam_update(got[0], poisoned, *got[1:], None, 0.01, 0.9, 0.999, 1e-7,
                      grad_square=squares, square_rows=rows, zero_off_rows=True)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("row_gradient", [False, True])
def test_rows_split_over_threads_equal_one_thread(rng, monkeypatch, handoff, row_gradient):
    # Where NumPy's BLAS pool is quiet, a big variable's rows are split over the kernel threads;
    # the update is element-wise, so the result is the one-thread result exactly. (Small sizes
    # here: the threshold is lowered so the split happens, into uneven parts.)
    from bptt.kernels import _common

    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "elements", 7)
    monkeypatch.setattr(threads_model, "_REQUESTED", 2)
    steps = row_gradient_steps(rng, np.float32, steps=3, V=37, D=5)
    w0 = rng.standard_normal((37, 5)).astype(np.float32)
    results = {}
    for busy in (True, False):
        monkeypatch.setattr(_common, "numpy_blas_busy", busy)
        w = w0.copy()
        slots = [np.zeros_like(w0) for _ in range(3)]
        for t, grad in enumerate(steps, start=1):
            square = dict(grad_square=grad.squares, square_rows=grad.rows, zero_off_rows=True)
            fused.adam_update(w, grad.summed, *slots, 0.01 * t, 0.9, 0.999, 1e-7,
                              weight_decay=0.01, lr=0.01, **(square if row_gradient else {}))
        results[busy] = [w, *slots]
    assert threads_model.parts("elements", 37 * 5) == 2  # (the split above really happened)
    for ours, theirs in zip(results[False], results[True]):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("team", [True, False])
def test_gemm_functions_say_whether_numpy_blas_ran(monkeypatch, team):
    from bptt import backend, kernels
    from bptt.kernels import _common

    monkeypatch.setattr(backend, "_KERNELS", "fused")
    monkeypatch.setattr(threads_model, "_REQUESTED", 2)
    monkeypatch.setattr(_common, "team_threads", lambda: team)
    kernels.gemm_functions(2 * threads_model.MIN_PER_THREAD["rows_without_team"])
    assert _common.numpy_blas_busy is False
    kernels.gemm_functions(1)
    assert _common.numpy_blas_busy is (not team)  # numba's team takes even a small batch's GEMMs
