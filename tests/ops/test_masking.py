"""The reference ops with a (T, B) mask: Keras' masked time loop, checked three ways.

1. Per row, against the op without a mask run on that row's real steps only (the unmasked op is
   itself checked against PyTorch in tests/ops/test_<cell>.py): the outputs at the real steps
   and the last states must be the same; at a masked step the output repeats the output of the
   last real step, and is zero before the first one; the states of an all-padding row stay the
   initial states.
2. Every gradient by finite differences in float64, through pre-padding, post-padding, holes and
   an all-padding row, with the output sequence, the last states and the initial states all in
   the loss.
3. mask=None runs the textbook loop bit for bit; an all-ones mask gives the same bits.

Letters: T time, B batch, H units.
"""
import numpy as np
import pytest

from bptt.ops import gru, lstm, simple_rnn
from tests.helpers import assert_close, recurrent_mask
from tests.helpers.gradcheck import assert_grad_close, numerical_grad

CELLS = ["simple_rnn", "lstm", "gru", "gru_reset_before"]
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3, "gru_reset_before": 3}
STATES = {"simple_rnn": 1, "lstm": 2, "gru": 1, "gru_reset_before": 1}


def make_mask(kind, T, B):
    """(T, B) bool masks with every pattern a padded batch has: post-, pre-padding, holes, an
    all-padding row and a full row."""
    rows = {
        "post": [[True] * (T - k) + [False] * k for k in range(B)],
        "pre": [[False] * k + [True] * (T - k) for k in range(B)],
        "holes": [[t % (k + 2) != 1 for t in range(T)] for k in range(B)],
        "with_empty_row": [[False] * T] + [[t < T - k for t in range(T)] for k in range(1, B)],
        "all_ones": [[True] * T for _ in range(B)],
    }[kind]
    return np.array(rows, dtype=bool).T.copy()  # (T, B)


def make_inputs(rng, cell, T, B, H, dtype, dropout=None):
    G = GATES[cell]
    inp = dict(
        xw=rng.normal(size=(T, B, G * H)),
        recurrent_kernel=rng.normal(size=(H, G * H)) / np.sqrt(H),
        recurrent_bias=rng.normal(size=3 * H) if cell == "gru" else None,
        states=[rng.normal(size=(B, H)) for _ in range(STATES[cell])],
        dhs=rng.normal(size=(T, B, H)),
        dlast=[rng.normal(size=(B, H)) for _ in range(STATES[cell])],
    )
    cast = {k: (None if v is None else [a.astype(dtype) for a in v] if isinstance(v, list)
                else v.astype(dtype)) for k, v in inp.items()}
    cast["recurrent_mask"] = recurrent_mask(rng, dropout, G, B, H, dtype)
    return cast


def run_forward(cell, inp, mask, xw=None, states=None):
    """-> (outputs (T, B, H), [last states], cache) from the op of `cell`."""
    xw = inp["xw"] if xw is None else xw
    states = inp["states"] if states is None else states
    rmask = inp["recurrent_mask"]
    if cell == "simple_rnn":
        hs, h, cache = simple_rnn.simple_rnn_forward(xw, inp["recurrent_kernel"], states[0],
                                                     recurrent_mask=rmask, mask=mask)
        return hs, [h], cache
    if cell == "lstm":
        hs, (h, c), cache = lstm.lstm_forward(xw, inp["recurrent_kernel"], *states,
                                              recurrent_mask=rmask, mask=mask)
        return hs, [h, c], cache
    hs, h, cache = gru.gru_forward(xw, inp["recurrent_kernel"], inp["recurrent_bias"], states[0],
                                   reset_after=cell == "gru", recurrent_mask=rmask, mask=mask)
    return hs, [h], cache


def run_backward(cell, dhs, dlast, cache):
    """-> dict of the gradients: dxw, drecurrent_kernel, dstates (list), drecurrent_bias."""
    if cell == "simple_rnn":
        dxw, drk, dh0 = simple_rnn.simple_rnn_backward(dhs, dlast[0], cache)
        return dict(dxw=dxw, drecurrent_kernel=drk, dstates=[dh0], drecurrent_bias=None)
    if cell == "lstm":
        dxw, drk, dh0, dc0 = lstm.lstm_backward(dhs, *dlast, cache)
        return dict(dxw=dxw, drecurrent_kernel=drk, dstates=[dh0, dc0], drecurrent_bias=None)
    dxw, drk, drb, dh0 = gru.gru_backward(dhs, dlast[0], cache)
    return dict(dxw=dxw, drecurrent_kernel=drk, dstates=[dh0], drecurrent_bias=drb)


# -- 1. the rule, row by row, against the unmasked op on the real steps ------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["post", "pre", "holes", "with_empty_row"])
@pytest.mark.parametrize("cell", CELLS)
def test_masked_steps_hold_the_states_and_repeat_the_last_output(rng, dtype, kind, cell):
    T, B, H = 6, 4, 3
    inp = make_inputs(rng, cell, T, B, H, dtype, dropout="per_gate")
    mask = make_mask(kind, T, B)
    outputs, last, _ = run_forward(cell, inp, mask)
    for b in range(B):
        real = np.flatnonzero(mask[:, b])
        row = {**inp, "recurrent_mask": inp["recurrent_mask"][:, b:b + 1]}  # (G, 1, H)
        states = [s[b:b + 1] for s in inp["states"]]
        if len(real) == 0:
            expected_outputs = np.zeros((T, 1, H), dtype)
            expected_last = states
        else:
            alone, alone_last, _ = run_forward(cell, row, None,
                                               xw=np.ascontiguousarray(inp["xw"][real, b:b + 1]),
                                               states=states)
            # output t: that of the last real step at or before t, zero before the first one
            seen = np.cumsum(mask[:, b]) - 1  # index into the real steps, -1 before the first
            expected_outputs = np.where(seen[:, None, None] >= 0, alone[np.maximum(seen, 0)], 0)
            expected_last = alone_last
        assert_close(outputs[:, b:b + 1], expected_outputs.astype(dtype), f"outputs row {b}")
        for name, got, want in zip(("h", "c"), last, expected_last):
            assert_close(got[b:b + 1], want, f"last {name} row {b}")


@pytest.mark.parametrize("cell", CELLS)
def test_an_all_padding_row_gives_zero_outputs_its_initial_states_and_no_nan(rng, cell):
    T, B, H = 5, 3, 4
    inp = make_inputs(rng, cell, T, B, H, np.float64)
    inp["xw"] *= 1e3  # saturating inputs at the padded steps must not leak anywhere
    mask = make_mask("with_empty_row", T, B)
    outputs, last, cache = run_forward(cell, inp, mask)
    np.testing.assert_array_equal(outputs[:, 0], 0)
    for got, initial in zip(last, inp["states"]):
        np.testing.assert_array_equal(got[0], initial[0])
    grads = run_backward(cell, inp["dhs"], inp["dlast"], cache)
    np.testing.assert_array_equal(grads["dxw"][:, 0], 0)  # no step of the row counts
    for dstate, dlast in zip(grads["dstates"], inp["dlast"]):
        np.testing.assert_array_equal(dstate[0], dlast[0])  # held all the way through
    for value in [outputs, *last, *(g for g in grads.values() if isinstance(g, np.ndarray))]:
        assert np.isfinite(value).all()


# -- 2. finite differences ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["post", "pre", "holes", "with_empty_row"])
@pytest.mark.parametrize("dropout", [None, "per_gate"])
@pytest.mark.parametrize("cell", CELLS)
def test_masked_gradients_match_finite_differences(rng, kind, dropout, cell):
    T, B, H = 5, 3, 2
    inp = make_inputs(rng, cell, T, B, H, np.float64, dropout=dropout)
    mask = make_mask(kind, T, B)

    def loss():
        outputs, last, _ = run_forward(cell, inp, mask)
        return float((outputs * inp["dhs"]).sum() + sum((s * d).sum() for s, d in zip(last, inp["dlast"])))

    _, _, cache = run_forward(cell, inp, mask)
    grads = run_backward(cell, inp["dhs"], inp["dlast"], cache)
    assert_grad_close(grads["dxw"], numerical_grad(loss, inp["xw"]), "dxw")
    assert_grad_close(grads["drecurrent_kernel"], numerical_grad(loss, inp["recurrent_kernel"]),
                      "drecurrent_kernel")
    for k, state in enumerate(inp["states"]):
        assert_grad_close(grads["dstates"][k], numerical_grad(loss, state), f"dstate{k}")
    if cell == "gru":
        assert_grad_close(grads["drecurrent_bias"], numerical_grad(loss, inp["recurrent_bias"]),
                          "drecurrent_bias")


@pytest.mark.parametrize("upstream", ["outputs", "last"])
@pytest.mark.parametrize("cell", CELLS)
def test_masked_gradients_with_one_upstream_match_finite_differences(rng, upstream, cell):
    """The output sequence alone (dh_last None) and the last states alone (dhs None)."""
    T, B, H = 4, 3, 2
    inp = make_inputs(rng, cell, T, B, H, np.float64)
    mask = make_mask("post", T, B)
    dhs = inp["dhs"] if upstream == "outputs" else None
    dlast = [None] * STATES[cell] if upstream == "outputs" else inp["dlast"]

    def loss():
        outputs, last, _ = run_forward(cell, inp, mask)
        if upstream == "outputs":
            return float((outputs * dhs).sum())
        return float(sum((s * d).sum() for s, d in zip(last, dlast)))

    _, _, cache = run_forward(cell, inp, mask)
    grads = run_backward(cell, dhs, dlast, cache)
    assert_grad_close(grads["dxw"], numerical_grad(loss, inp["xw"]), "dxw")
    assert_grad_close(grads["dstates"][0], numerical_grad(loss, inp["states"][0]), "dh0")


# -- 3. no mask: the textbook loop, bit for bit ----------------------------------------------------
def textbook_forward(cell, inp):
    """The loop over the step functions, as the ops ran it before they took a mask."""
    xw, rk, rmask = inp["xw"], inp["recurrent_kernel"], inp["recurrent_mask"]
    states, hs = list(inp["states"]), []
    for t in range(len(xw)):
        if cell == "simple_rnn":
            h, _ = simple_rnn.simple_rnn_step_forward(xw[t], states[0], rk, recurrent_mask=rmask)
            states = [h]
        elif cell == "lstm":
            h, c, _ = lstm.lstm_step_forward(xw[t], *states, rk, recurrent_mask=rmask)
            states = [h, c]
        else:
            h, _ = gru.gru_step_forward(xw[t], states[0], rk, inp["recurrent_bias"],
                                        reset_after=cell == "gru", recurrent_mask=rmask)
            states = [h]
        hs.append(states[0])
    return np.stack(hs), states


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cell", CELLS)
def test_no_mask_runs_the_textbook_loop_bit_for_bit(rng, dtype, cell):
    inp = make_inputs(rng, cell, 5, 3, 4, dtype, dropout="shared")
    outputs, last, _ = run_forward(cell, inp, None)
    want_outputs, want_last = textbook_forward(cell, inp)
    np.testing.assert_array_equal(outputs, want_outputs)
    for got, want in zip(last, want_last):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cell", CELLS)
def test_an_all_ones_mask_gives_the_same_bits_as_no_mask(rng, dtype, cell):
    T, B, H = 5, 3, 4
    inp = make_inputs(rng, cell, T, B, H, dtype, dropout="per_gate")
    results = []
    for mask in (None, make_mask("all_ones", T, B)):
        outputs, last, cache = run_forward(cell, inp, mask)
        grads = run_backward(cell, inp["dhs"], inp["dlast"], cache)
        results.append([outputs, *last, grads["dxw"], grads["drecurrent_kernel"], *grads["dstates"]])
    for got, want in zip(*results):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("cell", CELLS)
def test_the_mask_is_kept_in_the_cache_and_the_inputs_are_left_alone(rng, cell):
    T, B, H = 4, 3, 2
    inp = make_inputs(rng, cell, T, B, H, np.float64)
    mask = make_mask("holes", T, B)
    before = {k: [np.copy(a) for a in v] if isinstance(v, list) else np.copy(v)
              for k, v in inp.items() if v is not None}
    _, _, cache = run_forward(cell, inp, mask)
    assert cache.mask is mask
    run_backward(cell, inp["dhs"], inp["dlast"], cache)
    for key, value in before.items():
        np.testing.assert_array_equal(np.asarray(inp[key]), np.asarray(value), err_msg=key)
    np.testing.assert_array_equal(mask, make_mask("holes", T, B))
