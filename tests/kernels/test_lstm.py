"""bptt.kernels.lstm (fused) equals its reference bptt.ops.lstm: outputs and every gradient, in
float32 and float64, on odd shapes, with and without each upstream gradient and recurrent mask."""
import numpy as np
import pytest

from bptt.kernels import threads as threads_model
from bptt import kernels
from bptt.kernels import _common
from bptt.kernels import lstm as fused
from bptt.ops import lstm as reference
from tests.helpers import assert_close, recurrent_mask

SHAPES = [(1, 1, 3), (1, 4, 5), (6, 1, 7), (9, 3, 5)]  # (T, B, H)
REALISTIC = (50, 32, 64)  # the tutorial's first LSTM layer: maxlen 50, batch 32, 64 units
UPSTREAM = {"none": (), "dhs": ("dhs",), "last": ("dh_last", "dc_last"), "all": ("dhs", "dh_last", "dc_last")}
MASKS = [None, "shared", "per_gate"]
NAMES = ("hs", "h_last", "c_last", "dxw", "drecurrent_kernel", "dh0", "dc0")


def make_inputs(rng, T, B, H, dtype, upstream="all", mask=None):
    given = UPSTREAM[upstream]
    inputs = dict(
        xw=rng.normal(size=(T, B, 4 * H)),
        recurrent_kernel=rng.normal(size=(H, 4 * H)) / np.sqrt(H),
        h0=rng.normal(size=(B, H)),  # non-zero initial states
        c0=rng.normal(size=(B, H)),
        dhs=rng.normal(size=(T, B, H)) if "dhs" in given else None,
        dh_last=rng.normal(size=(B, H)) if "dh_last" in given else None,
        dc_last=rng.normal(size=(B, H)) if "dc_last" in given else None,
    )
    inputs = {k: None if v is None else v.astype(dtype) for k, v in inputs.items()}
    inputs["recurrent_mask"] = recurrent_mask(rng, mask, 4, B, H, dtype)
    return inputs


def run(module, inp):
    hs, (h_last, c_last), cache = module.lstm_forward(
        inp["xw"], inp["recurrent_kernel"], inp["h0"], inp["c0"], recurrent_mask=inp["recurrent_mask"])
    dxw, drecurrent_kernel, dh0, dc0 = module.lstm_backward(inp["dhs"], inp["dh_last"], inp["dc_last"], cache)
    return dict(hs=hs, h_last=h_last, c_last=c_last, dxw=dxw, drecurrent_kernel=drecurrent_kernel,
                dh0=dh0, dc0=dc0)


def assert_fused_matches_reference(inp):
    ours, theirs = run(fused, inp), run(reference, inp)
    for name in NAMES:
        assert_close(ours[name], theirs[name], name)  # dtype, shape, 1e-5 (float32) / 1e-10 (float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T, B, H", SHAPES)
@pytest.mark.parametrize("upstream", list(UPSTREAM))
@pytest.mark.parametrize("mask", MASKS)
def test_fused_lstm_matches_reference(rng, dtype, T, B, H, upstream, mask):
    assert_fused_matches_reference(make_inputs(rng, T, B, H, dtype, upstream, mask))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask", MASKS)
def test_fused_lstm_matches_reference_realistic(rng, dtype, mask):
    assert_fused_matches_reference(make_inputs(rng, *REALISTIC, dtype, "all", mask))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask", MASKS)
def test_fused_lstm_rows_split_across_threads(rng, monkeypatch, handoff, dtype, mask):
    """Rows [0, 2), [2, 4), [4, 7) on three threads: the same as the reference."""
    monkeypatch.setattr(threads_model, "_REQUESTED", 3)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "rows_without_team", 1)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "rows", 1)
    assert_fused_matches_reference(make_inputs(rng, 5, 7, 5, dtype, "all", mask))


def test_fused_lstm_leaves_inputs_and_blas_threads_alone(rng):
    inp = make_inputs(rng, 5, 3, 4, np.float32, "all", "shared")
    before = {k: v.copy() for k, v in inp.items()}
    threads = [c.get_num_threads() for c in _common._numba_blas_controllers()]
    run(fused, inp)
    for name, value in inp.items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    assert [c.get_num_threads() for c in _common._numba_blas_controllers()] == threads


def test_supports_only_tanh_and_sigmoid():
    assert fused.supports(activation="tanh", recurrent_activation="sigmoid")
    assert not fused.supports(activation="relu", recurrent_activation="sigmoid")
    assert not fused.supports(activation="tanh", recurrent_activation="hard_sigmoid")
    assert not fused.supports(activation="tanh", recurrent_activation="sigmoid", unknown_option=1)


def test_dispatcher_picks_fused_or_reference(kernels_setting):
    options = dict(activation="tanh", recurrent_activation="sigmoid")
    kernels_setting("fused")
    assert kernels.sequence_functions("lstm", **options) == (fused.lstm_forward, fused.lstm_backward)
    assert kernels.sequence_functions("lstm", activation="relu", recurrent_activation="sigmoid") == (
        reference.lstm_forward, reference.lstm_backward)  # unsupported: the reference runs
    kernels_setting("reference")
    assert kernels.sequence_functions("lstm", **options) == (reference.lstm_forward, reference.lstm_backward)


# --- lstm_inference: the forward outputs, nothing cached -------------------------------------------

INFERENCE_SHAPES = [(1, 1, 1, 1), (1, 4, 3, 5), (6, 1, 2, 7), (9, 3, 4, 5), (5, 70, 3, 3)]  # (T, B, D, H)


def assert_inference_matches_reference(rng, T, B, D, H, dtype, go_backwards, return_sequences, bias=True):
    x = rng.normal(size=(B, T, D)).astype(dtype)  # (B, T, D) batch-major, as the layer gets it
    kernel = (rng.normal(size=(D, 4 * H)) / np.sqrt(D)).astype(dtype)
    bias_value = rng.normal(size=4 * H).astype(dtype) if bias else None
    recurrent_kernel = (rng.normal(size=(H, 4 * H)) / np.sqrt(H)).astype(dtype)
    h0, c0 = rng.normal(size=(B, H)).astype(dtype), rng.normal(size=(B, H)).astype(dtype)
    # The specification: project the time-major input in one GEMM, then the reference loop.
    x_tm = x.transpose(1, 0, 2)[::-1] if go_backwards else x.transpose(1, 0, 2)  # (T, B, D)
    xw = np.ascontiguousarray(x_tm).reshape(T * B, D) @ kernel  # (T*B, 4H)
    xw = xw.reshape(T, B, 4 * H) + (bias_value if bias else 0)
    hs, (h_last, c_last), _ = reference.lstm_forward(xw, recurrent_kernel, h0, c0)
    ys, (h, c) = fused.lstm_inference(x, kernel, bias_value, recurrent_kernel, h0, c0,
                                      go_backwards=go_backwards, return_sequences=return_sequences)
    if return_sequences:
        assert_close(ys, hs.transpose(1, 0, 2), "ys")  # (B, T, H) in step order
    else:
        assert ys is None
    assert_close(h, h_last, "h_last")
    assert_close(c, c_last, "c_last")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T, B, D, H", INFERENCE_SHAPES)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_fused_lstm_inference_matches_reference_forward(rng, dtype, T, B, D, H, go_backwards, return_sequences):
    assert_inference_matches_reference(rng, T, B, D, H, dtype, go_backwards, return_sequences)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_lstm_inference_without_bias_and_realistic(rng, dtype):
    assert_inference_matches_reference(rng, 4, 3, 2, 5, dtype, False, True, bias=False)
    assert_inference_matches_reference(rng, 50, 37, 128, 64, dtype, False, True)  # the tutorial's layer


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_fused_lstm_inference_rows_split_across_threads_and_chunks(rng, monkeypatch, handoff, threads):
    """70 rows over 1-3 threads, each running its rows 32 at a time: the same as the reference."""
    monkeypatch.setattr(threads_model, "_REQUESTED", threads)
    assert_inference_matches_reference(rng, 7, 70, 5, 3, np.float64, True, True)


def test_dispatcher_gives_inference_only_when_fused_and_supported(kernels_setting):
    options = dict(activation="tanh", recurrent_activation="sigmoid")
    kernels_setting("fused")
    assert kernels.inference_function("lstm", **options) is fused.lstm_inference
    assert kernels.inference_function("lstm", activation="relu", recurrent_activation="sigmoid") is None
    kernels_setting("reference")
    assert kernels.inference_function("lstm", **options) is None


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_lookup_inference_equals_inference_on_the_looked_up_rows(rng, monkeypatch, handoff, threads,
                                                                 go_backwards, return_sequences):
    """Step t of row b reading row positions[b, t] of a projected table (repeats included, rows
    split over up to 3 threads, 2 rows a part) is the layer's inference on table rows projected
    one by one: x @ kernel is row by row the same product."""
    monkeypatch.setattr(threads_model, "_REQUESTED", threads)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "inference", 2)
    T, B, D, H, V = 6, 7, 5, 3, 4
    table = rng.normal(size=(V, D))  # an Embedding's rows, float64
    kernel = rng.normal(size=(D, 4 * H)) / np.sqrt(D)
    bias, recurrent_kernel = rng.normal(size=4 * H), rng.normal(size=(H, 4 * H)) / np.sqrt(H)
    h0, c0 = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    positions = rng.integers(0, V, size=(B, T))
    expected = fused.lstm_inference(table[positions], kernel, bias, recurrent_kernel, h0, c0,
                                    go_backwards=go_backwards, return_sequences=return_sequences)
    ys, (h, c) = fused.lstm_lookup_inference(positions, table @ kernel, bias, recurrent_kernel, h0,
                                             c0, go_backwards=go_backwards,
                                             return_sequences=return_sequences)
    if return_sequences:
        assert_close(ys, expected[0], "ys")
    else:
        assert ys is None
    assert_close(h, expected[1][0], "h_last")
    assert_close(c, expected[1][1], "c_last")
