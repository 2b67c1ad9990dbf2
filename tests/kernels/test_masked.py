"""The fused SimpleRNN, LSTM and GRU kernels with Keras' (T, B) mask equal their references in
bptt.ops (the rule itself is checked in tests/ops/test_masking.py, row by row and by finite
differences): the outputs, the last states and every gradient, in float32 and float64, on odd
shapes, with pre- and post-padding, holes, all-padding rows, zero and non-zero initial states,
each upstream gradient alone and each form of recurrent dropout; rows split over threads.
mask=None and an all-ones mask give the same bits.

Letters: T time, B batch, H units.
"""
import numpy as np
import pytest

from bptt.kernels import threads as threads_model
from bptt import kernels, layers
from bptt.kernels import _common
from bptt.kernels import gru as fused_gru
from bptt.kernels import lstm as fused_lstm
from bptt.kernels import simple_rnn as fused_simple_rnn
from bptt.ops import gru as reference_gru
from bptt.ops import lstm as reference_lstm
from bptt.ops import simple_rnn as reference_simple_rnn
from tests.helpers import assert_close, recurrent_mask

MODULES = {"simple_rnn": (fused_simple_rnn, reference_simple_rnn), "lstm": (fused_lstm, reference_lstm),
           "gru": (fused_gru, reference_gru)}
CELLS = ["simple_rnn", "simple_rnn_relu", "lstm", "gru", "gru_reset_before"]
GATES = {"simple_rnn": 1, "simple_rnn_relu": 1, "lstm": 4, "gru": 3, "gru_reset_before": 3}
STATES = {"simple_rnn": 1, "simple_rnn_relu": 1, "lstm": 2, "gru": 1, "gru_reset_before": 1}
KINDS = ["post", "pre", "holes", "with_empty_row", "random"]
SHAPES = [(1, 1, 3), (1, 4, 5), (6, 1, 7), (9, 5, 5), (7, 6, 1)]  # (T, B, H): T=1, B=1, odd H
UPSTREAM = {"all": ("dhs", "dlast"), "outputs": ("dhs",), "last": ("dlast",), "none": ()}


def make_mask(kind, T, B, rng):
    """(T, B) bool, True at a real step, for any T and B (rows cycle through the lengths T..1,
    so a batch wider than T gets all-padding rows with post- and pre-padding too)."""
    lengths = [T - b % (T + 1) for b in range(B)]  # T, T-1, ..., 0, T, ...
    steps = np.arange(T)[:, None]  # (T, 1)
    if kind == "post":
        return steps < np.array(lengths)
    if kind == "pre":
        return steps >= T - np.array(lengths)
    if kind == "holes":
        return steps % (np.arange(B) + 2) != 1
    if kind == "with_empty_row":
        mask = steps < np.array(lengths)
        mask[:, 0] = False
        return mask
    if kind == "random":
        return rng.random((T, B)) < 0.6
    assert kind == "all_ones"
    return np.ones((T, B), bool)


def make_inputs(rng, cell, T, B, H, dtype, upstream="all", dropout=None, zero_states=False):
    G = GATES[cell]
    given = UPSTREAM[upstream]
    states = [np.zeros((B, H)) if zero_states else rng.normal(size=(B, H)) for _ in range(STATES[cell])]
    inp = dict(
        xw=rng.normal(size=(T, B, G * H)),
        recurrent_kernel=rng.normal(size=(H, G * H)) / np.sqrt(H),
        recurrent_bias=rng.normal(size=3 * H) if cell == "gru" else None,
        states=states,
        dhs=rng.normal(size=(T, B, H)) if "dhs" in given else None,
        dlast=[rng.normal(size=(B, H)) if "dlast" in given else None for _ in states],
    )
    cast = {k: (None if v is None else [None if a is None else a.astype(dtype) for a in v]
                if isinstance(v, list) else v.astype(dtype)) for k, v in inp.items()}
    cast["recurrent_mask"] = recurrent_mask(rng, dropout, G, B, H, dtype)
    return cast


def run(cell, which, inp, mask):
    """The forward and backward of `cell` from the fused (which=0) or reference (1) module
    -> dict of every result."""
    name = "gru" if cell.startswith("gru") else "simple_rnn" if cell.startswith("simple_rnn") else cell
    module = MODULES[name][which]
    xw, rk, states, rmask = inp["xw"], inp["recurrent_kernel"], inp["states"], inp["recurrent_mask"]
    if name == "simple_rnn":
        activation = "relu" if cell == "simple_rnn_relu" else "tanh"
        hs, h, cache = module.simple_rnn_forward(xw, rk, states[0], activation=activation,
                                                 recurrent_mask=rmask, mask=mask)
        dxw, drk, dh0 = module.simple_rnn_backward(inp["dhs"], inp["dlast"][0], cache)
        return dict(hs=hs, h=h, dxw=dxw, drecurrent_kernel=drk, dh0=dh0)
    if name == "lstm":
        hs, (h, c), cache = module.lstm_forward(xw, rk, *states, recurrent_mask=rmask, mask=mask)
        dxw, drk, dh0, dc0 = module.lstm_backward(inp["dhs"], *inp["dlast"], cache)
        return dict(hs=hs, h=h, c=c, dxw=dxw, drecurrent_kernel=drk, dh0=dh0, dc0=dc0)
    hs, h, cache = module.gru_forward(xw, rk, inp["recurrent_bias"], states[0], reset_after=cell == "gru",
                                      recurrent_mask=rmask, mask=mask)
    dxw, drk, drb, dh0 = module.gru_backward(inp["dhs"], inp["dlast"][0], cache)
    out = dict(hs=hs, h=h, dxw=dxw, drecurrent_kernel=drk, dh0=dh0)
    if drb is not None:
        out["drecurrent_bias"] = drb
    return out


def assert_fused_matches_reference(cell, inp, mask):
    ours, theirs = run(cell, 0, inp, mask), run(cell, 1, inp, mask)
    assert ours.keys() == theirs.keys()
    for name in theirs:
        assert_close(ours[name], theirs[name], name)  # dtype, shape, 1e-5 (float32) / 1e-10 (float64)
    return ours


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T, B, H", SHAPES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cell", CELLS)
def test_fused_masked_matches_reference(rng, dtype, T, B, H, kind, cell):
    assert_fused_matches_reference(cell, make_inputs(rng, cell, T, B, H, dtype), make_mask(kind, T, B, rng))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("upstream", list(UPSTREAM))
@pytest.mark.parametrize("zero_states", [False, True])
@pytest.mark.parametrize("cell", CELLS)
def test_fused_masked_matches_reference_per_upstream_and_initial_state(rng, dtype, upstream, zero_states,
                                                                        cell):
    """Each upstream gradient alone; zero initial states, where the kernels write the outputs
    into the states' own array (they are the same numbers then)."""
    T, B, H = 6, 5, 3
    inp = make_inputs(rng, cell, T, B, H, dtype, upstream, zero_states=zero_states)
    assert_fused_matches_reference(cell, inp, make_mask("pre", T, B, rng))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell, dropout", [(cell, "shared") for cell in CELLS]
                         + [(cell, "per_gate") for cell in CELLS if GATES[cell] > 1])
def test_fused_masked_matches_reference_with_recurrent_dropout(rng, dtype, cell, dropout):
    """One recurrent dropout mask for every gate, or one per gate (LSTM and GRU)."""
    T, B, H = 6, 5, 3
    inp = make_inputs(rng, cell, T, B, H, dtype, dropout=dropout)
    assert_fused_matches_reference(cell, inp, make_mask("holes", T, B, rng))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell", CELLS)
def test_fused_masked_matches_reference_realistic(rng, dtype, cell):
    """The tutorial's first layer's size, post-padded to lengths between 10 and 50."""
    T, B, H = 50, 32, 64
    lengths = rng.integers(10, T + 1, size=B)
    mask = np.arange(T)[:, None] < lengths  # (T, B)
    assert_fused_matches_reference(cell, make_inputs(rng, cell, T, B, H, dtype), mask)


@pytest.mark.parametrize("cell", CELLS)
def test_fused_masked_rows_split_across_threads(rng, monkeypatch, handoff, cell):
    """Rows [0, 2), [2, 4), [4, 7) on three threads: the same as the reference."""
    monkeypatch.setattr(threads_model, "_REQUESTED", 3)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "rows_without_team", 1)
    monkeypatch.setitem(threads_model.MIN_PER_THREAD, "rows", 1)
    T, B, H = 5, 7, 5
    inp = make_inputs(rng, cell, T, B, H, np.float64, dropout="shared")
    assert_fused_matches_reference(cell, inp, make_mask("holes", T, B, rng))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell", CELLS)
def test_an_all_padding_row_keeps_its_states_and_gets_no_gradient(rng, dtype, cell):
    """Exact values, not only close: zero outputs, the initial states, zero dxw, and the last
    states' gradients straight through to the initial states, with saturating inputs."""
    T, B, H = 5, 3, 4
    inp = make_inputs(rng, cell, T, B, H, dtype)
    inp["xw"] *= 1e3
    ours = run(cell, 0, inp, make_mask("with_empty_row", T, B, rng))
    np.testing.assert_array_equal(ours["hs"][:, 0], 0)
    np.testing.assert_array_equal(ours["h"][0], inp["states"][0][0])
    np.testing.assert_array_equal(ours["dxw"][:, 0], 0)
    np.testing.assert_array_equal(ours["dh0"][0], inp["dlast"][0][0])
    if cell == "lstm":
        np.testing.assert_array_equal(ours["c"][0], inp["states"][1][0])
        np.testing.assert_array_equal(ours["dc0"][0], inp["dlast"][1][0])
    for value in ours.values():
        assert np.isfinite(value).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dropout", [None, "shared"])
@pytest.mark.parametrize("cell", CELLS)
def test_no_mask_and_an_all_ones_mask_give_the_same_bits(rng, dtype, dropout, cell):
    T, B, H = 6, 5, 3
    inp = make_inputs(rng, cell, T, B, H, dtype, dropout=dropout)
    unmasked = run(cell, 0, inp, None)
    masked = run(cell, 0, inp, make_mask("all_ones", T, B, rng))
    for name, value in unmasked.items():
        np.testing.assert_array_equal(masked[name], value, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_fused_masked_leaves_its_inputs_alone(rng, cell):
    T, B, H = 4, 3, 2
    inp = make_inputs(rng, cell, T, B, H, np.float32)
    mask = make_mask("holes", T, B, rng)
    before = {k: [np.copy(a) for a in v] if isinstance(v, list) else np.copy(v)
              for k, v in inp.items() if v is not None}
    mask_before = mask.copy()
    run(cell, 0, inp, mask)
    for key, value in before.items():
        np.testing.assert_array_equal(np.asarray(inp[key]), np.asarray(value), err_msg=key)
    np.testing.assert_array_equal(mask, mask_before)


# --- dispatch: a masked layer runs the fused kernels ------------------------------------------------

@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_sequence_functions_are_the_fused_ones_with_or_without_a_mask(kernels_setting, cell):
    fused, reference = MODULES[cell]
    options = {} if cell == "simple_rnn" else dict(recurrent_activation="sigmoid")
    kernels_setting("fused")
    pair = (getattr(fused, f"{cell}_forward"), getattr(fused, f"{cell}_backward"))
    assert kernels.sequence_functions(cell, activation="tanh", **options) == pair
    kernels_setting("reference")
    pair = (getattr(reference, f"{cell}_forward"), getattr(reference, f"{cell}_backward"))
    assert kernels.sequence_functions(cell, activation="tanh", **options) == pair


@pytest.mark.parametrize("layer_class", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_a_masked_layer_trains_and_infers_on_the_fused_kernels(rng, kernels_setting, layer_class):
    """Under fused kernels a masked call (training or not) runs the fused forward and backward,
    and gives the reference kernels' outputs and gradients."""
    x = rng.normal(size=(4, 6, 3)).astype(np.float32)  # (B, T, D)
    mask = make_mask("post", 6, 4, rng).T  # (B, T)
    dy = rng.normal(size=(4, 6, 5)).astype(np.float32)
    results = {}
    for setting in ("fused", "reference"):
        kernels_setting(setting)
        layer = layer_class(5, return_sequences=True, seed=3)
        layer.build(x.shape)
        y_infer = layer(x, mask=mask)
        y = layer.forward(x, training=True, mask=mask)
        module = layer.functions[0].__module__
        assert module == f"bptt.{'kernels' if setting == 'fused' else 'ops'}.{layer.cell}"
        dx = layer.backward(dy)
        results[setting] = [y_infer, y, dx, *(layer.grads[k] for k in sorted(layer.grads))]
    for got, want in zip(results["fused"], results["reference"]):
        assert_close(got, want)
