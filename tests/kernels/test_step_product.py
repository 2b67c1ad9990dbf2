"""bptt.kernels.step_product: the per-step product asked for either way round gives the same
outputs and gradients as the reference in every cell, the choice is measured once per shape,
and small products are not timed at all."""
import numpy as np
import pytest

from bptt.kernels import lstm as fused
from bptt.kernels import step_product
from bptt.kernels import threads as threads_model
from tests.kernels import test_gru as gru_tests
from tests.kernels import test_simple_rnn as simple_rnn_tests
from tests.kernels.test_lstm import (
    MASKS, SHAPES, assert_fused_matches_reference, assert_inference_matches_reference, make_inputs,
)


@pytest.fixture(autouse=True)
def measured_afresh(monkeypatch):
    """Each test starts with nothing forced and nothing remembered, and leaves it so."""
    monkeypatch.setattr(step_product, "_CHOSEN", {})
    monkeypatch.delenv("BPTT_STEP_PRODUCT", raising=False)
    yield
    step_product.force(None)


@pytest.mark.parametrize("flipped", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T, B, H", SHAPES + [(20, 32, 64)])
@pytest.mark.parametrize("mask", MASKS)
def test_lstm_equals_reference_either_way_round(rng, flipped, dtype, T, B, H, mask):
    step_product.force(flipped)
    assert_fused_matches_reference(make_inputs(rng, T, B, H, dtype, "all", mask))


@pytest.mark.parametrize("flipped", [False, True])
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("T, B, H", SHAPES + [(20, 32, 64)])
@pytest.mark.parametrize("mask", MASKS)
def test_gru_equals_reference_either_way_round(rng, flipped, reset_after, T, B, H, mask):
    step_product.force(flipped)
    inputs = gru_tests.make_inputs(rng, T, B, H, np.float64, reset_after, "all", mask)
    gru_tests.assert_fused_matches_reference(inputs, reset_after)


@pytest.mark.parametrize("flipped", [False, True])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("T, B, H", SHAPES + [(20, 32, 64)])
@pytest.mark.parametrize("mask", MASKS)
def test_simple_rnn_equals_reference_either_way_round(rng, flipped, activation, T, B, H, mask):
    step_product.force(flipped)
    inputs = simple_rnn_tests.make_inputs(rng, T, B, H, np.float64, "all", mask)
    simple_rnn_tests.assert_fused_matches_reference(inputs, activation)


@pytest.mark.parametrize("flipped", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T, B, D, H", [(1, 1, 1, 1), (9, 3, 4, 5), (5, 70, 3, 3), (12, 40, 8, 64)])
def test_lstm_inference_equals_reference_either_way_round(rng, flipped, dtype, T, B, D, H):
    step_product.force(flipped)
    for go_backwards in (False, True):
        assert_inference_matches_reference(rng, T, B, D, H, dtype, go_backwards, True)


@pytest.mark.parametrize("flipped", [False, True])
def test_lstm_rows_split_over_threads_either_way_round(rng, monkeypatch, handoff, flipped):
    monkeypatch.setattr(threads_model, "_REQUESTED", 3)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "rows_without_team", 1)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "rows", 1)
    step_product.force(flipped)
    assert_fused_matches_reference(make_inputs(rng, 5, 7, 5, np.float32, "all", "shared"))


def test_both_ways_give_the_same_products(rng):
    """What the timing compares is one product: forward h @ U and backward da @ U^T, each way."""
    for kind in ("forward", "backward"):
        rows, kernel, kernel_t, out, out_t = step_product._operands(kind, 16, 64, 4, np.float64)
        step_product._forward_written(rows, kernel, kernel_t, out, out_t, 1)
        written = out.copy()
        out[:] = np.nan
        step_product._forward_transposed(rows, kernel, kernel_t, out, out_t, 1)
        np.testing.assert_allclose(out, rows @ kernel, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(written, rows @ kernel, rtol=1e-12, atol=1e-12)


def test_copy_transposed(rng):
    source = rng.normal(size=(37, 5))
    target = np.empty((5, 37))
    step_product.copy_transposed(source, target)
    np.testing.assert_array_equal(target, source.T)


def test_a_shape_is_measured_once_and_remembered(monkeypatch):
    calls = []

    def measure(*shape):
        calls.append(shape)
        return True

    monkeypatch.setattr(step_product, "_measure", measure)
    assert step_product.transposed("forward", 32, 256, 4, np.float32) is True
    assert step_product.transposed("forward", 32, 256, 4, np.float32) is True
    assert step_product.transposed("backward", 32, 256, 4, np.float32) is True
    assert len(calls) == 2  # forward and backward are separate shapes; the repeat is remembered


def test_small_products_run_as_written_untimed(monkeypatch):
    monkeypatch.setattr(step_product, "_measure", lambda *shape: pytest.fail("timed a tiny product"))
    assert step_product.transposed("forward", 4, 8, 4, np.float32) is False
    assert step_product.transposed("forward", 1, 512, 4, np.float32) is False  # one row: a gemv


def test_the_measurement_answers_a_bool():
    assert step_product._measure("forward", 16, 64, 4, np.dtype(np.float32)) in (True, False)


def test_force_and_the_environment_override_the_measurement(monkeypatch):
    monkeypatch.setattr(step_product, "_measure", lambda *shape: pytest.fail("measured"))
    step_product.force(True)
    assert step_product.transposed("forward", 32, 256, 4, np.float32) is True
    step_product.force(False)
    assert step_product.transposed("forward", 32, 256, 4, np.float32) is False
    step_product.force(None)
    monkeypatch.setenv("BPTT_STEP_PRODUCT", "transposed")
    assert step_product.transposed("backward", 32, 256, 4, np.float32) is True
    monkeypatch.setenv("BPTT_STEP_PRODUCT", "written")
    assert step_product.transposed("backward", 32, 256, 4, np.float32) is False


def test_bad_settings_say_what_is_accepted(monkeypatch):
    with pytest.raises(ValueError, match="True, False or None"):
        step_product.force("yes")
    monkeypatch.setenv("BPTT_STEP_PRODUCT", "sideways")
    with pytest.raises(ValueError, match="'written', 'transposed' or 'measure'.*'sideways'"):
        step_product.transposed("forward", 32, 256, 4, np.float32)


def test_step_kernel_gives_the_operand_only_when_transposed():
    U = np.arange(16.0).reshape(2, 8)  # H = 2, four gate blocks
    step_product.force(True)
    forward = step_product.step_kernel("forward", U, 32)
    backward = step_product.step_kernel("backward", U, 32)
    assert forward.flags.c_contiguous and np.array_equal(forward, U.T)
    assert backward.flags.c_contiguous and np.array_equal(backward, U)
    assert step_product.step_kernel("forward", U, 32, masks=4).shape == (0, 2)  # a mask per gate
    step_product.force(False)
    assert step_product.step_kernel("forward", U, 32).shape == (0, 2)
    assert step_product.step_kernel("backward", U, 32).shape == (0, 8)


def test_backward_kernels_copy_only_the_operand_the_loop_uses():
    U = np.arange(16.0).reshape(2, 8)  # H = 2, four gate blocks
    step_product.force(True)
    flipped, written = step_product.backward_kernels(U, 32)
    assert np.array_equal(flipped, U) and written.shape == (0, 2)
    step_product.force(False)
    flipped, written = step_product.backward_kernels(U, 32)
    assert flipped.shape == (0, 8) and written.flags.c_contiguous and np.array_equal(written, U.T)
