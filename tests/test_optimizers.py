"""bptt.optimizers against torch.optim where the rules coincide, and against Keras' rules written
out here independently (from the docstrings of keras/src/optimizers/{sgd,adam,rmsprop}.py) where
they do not."""
import copy
import warnings

import numpy as np
import pytest
import torch

from bptt import optimizers
from tests.helpers import assert_close
from tests.helpers.optimizers import kernels as kernels_set_to

SHAPES = [(3, 4), (5,), (2, 3, 2)]
STEPS = 5


def make_problem(rng, dtype=np.float64, steps=STEPS):
    params = [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]
    grads = [[rng.standard_normal(shape).astype(dtype) for shape in SHAPES] for _ in range(steps)]
    return params, grads


def run_bptt(optimizer, params, grads):
    params = [p.copy() for p in params]
    for step_grads in grads:
        optimizer.apply_gradients(zip(step_grads, params))
    return params


def run_torch(make_optimizer, params, grads, clip=None):
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    optimizer = make_optimizer(tensors)
    for step_grads in grads:
        for tensor, grad in zip(tensors, step_grads):
            tensor.grad = torch.tensor(grad)
        if clip is not None:
            clip(tensors)
        optimizer.step()
    return [t.detach().numpy() for t in tensors]


def assert_all_close(actual, expected, tol=None):
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert_close(a, e, f"param {i}", tol=tol)


# -- SGD ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True), (0.5, True)])
def test_sgd_matches_torch(rng, momentum, nesterov):
    # Keras: m = mu m - lr g; w += m (or w += mu m - lr g). torch: b = mu b + g; w -= lr b
    # (or w -= lr (g + mu b)). With m = -lr b these are the same for a constant lr.
    params, grads = make_problem(rng)
    ours = run_bptt(optimizers.SGD(0.05, momentum=momentum, nesterov=nesterov), params, grads)
    theirs = run_torch(lambda t: torch.optim.SGD(t, lr=0.05, momentum=momentum, nesterov=nesterov),
                       params, grads)
    assert_all_close(ours, theirs)


# -- Adam ---------------------------------------------------------------------------------------
def keras_adam(params, grads, lr, beta_1, beta_2, epsilon, amsgrad=False, weight_decay=None):
    """Keras' Adam, written out from its docstring and update_step, in float64."""
    params = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    v_hat = [np.zeros_like(p) for p in params]
    for t, step_grads in enumerate(grads, start=1):
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        for i, g in enumerate(step_grads):
            if weight_decay:
                params[i] = params[i] - params[i] * weight_decay * lr
            m[i] = beta_1 * m[i] + (1 - beta_1) * g
            v[i] = beta_2 * v[i] + (1 - beta_2) * g * g
            v_hat[i] = np.maximum(v_hat[i], v[i])
            denom = np.sqrt(v_hat[i] if amsgrad else v[i]) + epsilon
            params[i] = params[i] - alpha * m[i] / denom
    return params


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_torch_when_epsilon_is_zero(rng, amsgrad):
    # torch adds eps to sqrt(v) / sqrt(1 - beta_2^t), Keras to sqrt(v): equal only for eps = 0.
    params, grads = make_problem(rng)
    ours = run_bptt(optimizers.Adam(0.01, epsilon=0.0, amsgrad=amsgrad), params, grads)
    theirs = run_torch(lambda t: torch.optim.Adam(t, lr=0.01, eps=0.0, amsgrad=amsgrad), params, grads)
    assert_all_close(ours, theirs)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_epsilon_hat_matches_keras_rule(rng, amsgrad):
    # Small gradients so that epsilon matters, and the two placements of it would differ.
    params, grads = make_problem(rng)
    grads = [[g * 1e-6 for g in step] for step in grads]
    ours = run_bptt(optimizers.Adam(0.01, epsilon=1e-6, amsgrad=amsgrad), params, grads)
    assert_all_close(ours, keras_adam(params, grads, 0.01, 0.9, 0.999, 1e-6, amsgrad))
    torch_like = run_torch(lambda t: torch.optim.Adam(t, lr=0.01, eps=1e-6, amsgrad=amsgrad),
                           params, grads)
    assert max(np.abs(a - b).max() for a, b in zip(ours, torch_like)) > 1e-5


def test_adam_weight_decay_is_decoupled_like_adamw(rng):
    params, grads = make_problem(rng)
    ours = run_bptt(optimizers.Adam(0.01, epsilon=0.0, weight_decay=0.1), params, grads)
    theirs = run_torch(lambda t: torch.optim.AdamW(t, lr=0.01, eps=0.0, weight_decay=0.1),
                       params, grads)
    assert_all_close(ours, theirs)
    written_out = keras_adam(params, grads, 0.01, 0.9, 0.999, 0.0, weight_decay=0.1)
    assert_all_close(ours, written_out)


def test_adam_defaults_are_keras():
    config = optimizers.Adam().get_config()
    assert (config["learning_rate"], config["beta_1"], config["beta_2"], config["epsilon"],
            config["amsgrad"], config["name"]) == (0.001, 0.9, 0.999, 1e-7, False, "adam")
    assert optimizers.SGD().get_config()["learning_rate"] == 0.01
    assert optimizers.SGD().name == "SGD"
    config = optimizers.RMSprop().get_config()
    assert (config["learning_rate"], config["rho"], config["momentum"], config["epsilon"],
            config["centered"], config["name"]) == (0.001, 0.9, 0.0, 1e-7, False, "rmsprop")


# -- RMSprop ------------------------------------------------------------------------------------
def keras_rmsprop(params, grads, lr, rho, momentum, epsilon, centered):
    """Keras' RMSprop update_step written out in float64: epsilon inside the sqrt."""
    params = [p.copy() for p in params]
    v = [np.zeros_like(p) for p in params]
    a = [np.zeros_like(p) for p in params]
    mom = [np.zeros_like(p) for p in params]
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            v[i] = rho * v[i] + (1 - rho) * g * g
            a[i] = rho * a[i] + (1 - rho) * g
            denominator = v[i] - a[i] ** 2 + epsilon if centered else v[i] + epsilon
            increment = lr * g / np.sqrt(denominator)
            mom[i] = momentum * mom[i] + increment
            params[i] = params[i] - (mom[i] if momentum > 0 else increment)
    return params


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.8])
def test_rmsprop_matches_torch_when_epsilon_is_zero(rng, centered, momentum):
    params, grads = make_problem(rng)
    ours = run_bptt(optimizers.RMSprop(0.01, rho=0.8, momentum=momentum, epsilon=0.0,
                                       centered=centered), params, grads)
    theirs = run_torch(lambda t: torch.optim.RMSprop(t, lr=0.01, alpha=0.8, eps=0.0,
                                                     momentum=momentum, centered=centered),
                       params, grads)
    assert_all_close(ours, theirs)


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.8])
def test_rmsprop_epsilon_inside_sqrt_matches_keras_rule(rng, centered, momentum):
    params, grads = make_problem(rng)
    grads = [[g * 1e-3 for g in step] for step in grads]
    ours = run_bptt(optimizers.RMSprop(0.01, momentum=momentum, epsilon=1e-6, centered=centered),
                    params, grads)
    assert_all_close(ours, keras_rmsprop(params, grads, 0.01, 0.9, momentum, 1e-6, centered))


def test_rmsprop_keras_docstring_example():
    # keras.optimizers.RMSprop docstring: var1 = 10, loss = var1^2 / 2, one step -> 9.683772
    var = np.array([10.0], dtype=np.float32)
    optimizers.RMSprop(learning_rate=0.1).apply_gradients([(var.copy(), var)])
    np.testing.assert_allclose(var, [9.683772], rtol=1e-6)


# -- clipping -----------------------------------------------------------------------------------
def test_clipnorm_clips_each_gradient_by_its_own_norm(rng):
    params, grads = make_problem(rng, steps=1)
    grads = [[g * s for g, s in zip(grads[0], (10.0, 0.01, 3.0))]]  # some above, some below 1
    ours = run_bptt(optimizers.SGD(1.0, clipnorm=1.0), params, grads)

    def clip_each(tensors):
        for t in tensors:
            torch.nn.utils.clip_grad_norm_([t], max_norm=1.0)

    theirs = run_torch(lambda t: torch.optim.SGD(t, lr=1.0), params, grads, clip=clip_each)
    assert_all_close(ours, theirs, tol=1e-6)  # torch divides by (norm + 1e-6)
    assert np.allclose(ours[1], params[1] - grads[0][1])  # below the norm: untouched


def test_global_clipnorm_clips_by_the_norm_of_all_gradients(rng):
    params, grads = make_problem(rng, steps=2)
    ours = run_bptt(optimizers.SGD(1.0, global_clipnorm=0.5), params, grads)
    theirs = run_torch(lambda t: torch.optim.SGD(t, lr=1.0), params, grads,
                       clip=lambda t: torch.nn.utils.clip_grad_norm_(t, max_norm=0.5))
    assert_all_close(ours, theirs, tol=1e-6)


def test_clipvalue_clips_elementwise(rng):
    params, grads = make_problem(rng, steps=2)
    ours = run_bptt(optimizers.SGD(1.0, clipvalue=0.3), params, grads)
    theirs = run_torch(lambda t: torch.optim.SGD(t, lr=1.0), params, grads,
                       clip=lambda t: torch.nn.utils.clip_grad_value_(t, clip_value=0.3))
    assert_all_close(ours, theirs)


def test_global_clipnorm_of_an_infinite_norm_gives_nan_as_keras():
    var = np.ones(3)
    optimizers.SGD(1.0, global_clipnorm=1.0).apply_gradients([(np.array([np.inf, 0, 0]), var)])
    assert np.isnan(var).all()


def test_clipping_does_not_modify_the_callers_gradients(rng):
    params, grads = make_problem(rng, steps=1)
    before = [g.copy() for g in grads[0]]
    for kwargs in ({"clipnorm": 0.1}, {"global_clipnorm": 0.1}, {"clipvalue": 0.1}):
        run_bptt(optimizers.Adam(**kwargs), params, grads)
        for g, b in zip(grads[0], before):
            assert np.array_equal(g, b)


def test_only_one_clip_option():
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)


# -- in place, dtype, counters ------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    lambda: optimizers.Adam(amsgrad=True, weight_decay=0.01, clipnorm=0.5),
    lambda: optimizers.RMSprop(momentum=0.5, centered=True, global_clipnorm=1.0),
])
def test_float32_updates_in_place_and_stay_float32(rng, make):
    optimizer = make()
    params, grads = make_problem(rng, np.float32)
    grads64 = [[g.astype(np.float64) for g in step] for step in grads]
    start = [p.copy() for p in params]
    identities = [id(p) for p in params]
    for step_grads in grads64:  # float64 gradients are cast to the variable's dtype, as Keras
        optimizer.apply_gradients(zip(step_grads, params))
    assert [id(p) for p in params] == identities
    assert all(p.dtype == np.float32 for p in params)
    state = optimizer.get_state(params)
    assert all(v.dtype == np.float32 for k, v in state.items() if k != "iterations")
    # and the float32 result is the float64 one to float32 precision
    expected = run_bptt(make(), [p.astype(np.float64) for p in start], grads64)
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p, e, rtol=1e-4, atol=1e-5)


def test_iterations_count_calls(rng):
    optimizer = optimizers.Adam()
    params, grads = make_problem(rng)
    for i, step_grads in enumerate(grads, start=1):
        assert optimizer.apply_gradients(zip(step_grads, params)) == i
    assert optimizer.iterations == len(grads)


def test_none_gradients_are_skipped_with_a_warning(rng):
    optimizer = optimizers.SGD(0.1)
    a, b = np.ones(2), np.ones(2)
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        optimizer.apply_gradients([(np.ones(2), a), (None, b)])
    assert np.allclose(a, 0.9) and np.allclose(b, 1.0)
    with pytest.raises(ValueError, match="No gradients"):
        optimizer.apply_gradients([(None, a)])


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        optimizers.SGD().apply_gradients([(np.ones(3), np.ones(2))])


# -- state and config ---------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: optimizers.SGD(0.1, momentum=0.9),
    lambda: optimizers.Adam(0.01, amsgrad=True),
    lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
])
def test_state_round_trip_continues_identically(rng, make):
    params, grads = make_problem(rng, steps=6)
    first = make()
    run_params = [p.copy() for p in params]
    for step_grads in grads[:3]:
        first.apply_gradients(zip(step_grads, run_params))
    state = first.get_state(run_params)

    restored_params = [p.copy() for p in run_params]
    restored = type(first).from_config(first.get_config())
    restored.set_state(restored_params, copy.deepcopy(state))
    assert restored.iterations == 3
    for step_grads in grads[3:]:
        first.apply_gradients(zip(step_grads, run_params))
        restored.apply_gradients(zip(step_grads, restored_params))
    for a, b in zip(run_params, restored_params):
        assert np.array_equal(a, b)


def test_state_names_follow_keras_slots(rng):
    params, grads = make_problem(rng, steps=1)
    optimizer = optimizers.Adam()
    optimizer.apply_gradients(zip(grads[0], params))
    assert sorted(optimizer.get_state(params)) == sorted(
        ["iterations"] + [f"{i}/{n}" for i in range(len(params)) for n in ("momentum", "velocity")])
    assert optimizers.SGD().get_state(params) == {"iterations": 0}


def test_set_state_rejects_wrong_shapes_and_foreign_state(rng):
    params, grads = make_problem(rng, steps=1)
    adam = optimizers.Adam()
    adam.apply_gradients(zip(grads[0], params))
    state = adam.get_state(params)
    with pytest.raises(ValueError, match="unexpected entries"):
        optimizers.RMSprop().set_state(params, state)
    state["0/momentum"] = np.zeros((1, 1))
    with pytest.raises(ValueError, match=r"\(1, 1\).*\(3, 4\)"):
        optimizers.Adam().set_state(params, state)


def test_config_round_trip_and_keras_keys():
    sgd = optimizers.SGD(0.1, momentum=0.5, nesterov=True, clipnorm=2.0, weight_decay=0.01, name="o")
    config = sgd.get_config()
    assert set(config) == {"name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm",
                           "clipvalue", "use_ema", "ema_momentum", "ema_overwrite_frequency",
                           "loss_scale_factor", "gradient_accumulation_steps", "momentum", "nesterov"}
    assert optimizers.SGD.from_config(config).get_config() == config


def test_get_resolves_names_dicts_and_instances():
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert isinstance(optimizers.get("ADAM"), optimizers.Adam)
    assert isinstance(optimizers.get("sgd"), optimizers.SGD)
    assert isinstance(optimizers.get("RMSprop"), optimizers.RMSprop)
    opt = optimizers.get({"class_name": "Adam", "config": {"learning_rate": 0.5}})
    assert opt.learning_rate == 0.5
    instance = optimizers.SGD()
    assert optimizers.get(instance) is instance
    with pytest.raises(ValueError, match=r"\['adam', 'adamw', 'rmsprop', 'sgd'\]"):
        optimizers.get("nadam")


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Adam(beta1=0.9)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(NotImplementedError, match="use_ema"):
        optimizers.Adam(use_ema=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optimizers.Adam(decay=0.1)
    assert "decay" in str(caught[0].message)


def test_learning_rate_can_be_changed_between_steps():
    var = np.zeros(1)
    optimizer = optimizers.SGD(0.1)
    optimizer.apply_gradients([(np.ones(1), var)])
    optimizer.learning_rate = 0.5  # what a learning-rate callback does
    optimizer.apply_gradients([(np.ones(1), var)])
    assert np.allclose(var, -0.6)
    assert optimizer.get_config()["learning_rate"] == 0.5


# -- Adam(lazy_rows=True): opt-in, not Keras' rule -----------------------------------------------
def embedding_like_problem(rng, steps=4):
    """A (12, 3) table whose gradient is non-zero only on a few rows, different each step."""
    table = rng.standard_normal((12, 3))
    grads = []
    for step in range(steps):
        g = np.zeros((12, 3))
        g[[step, step + 1, 11]] = rng.standard_normal((3, 3))  # row 11 in every batch
        grads.append([g])
    return [table], grads


@pytest.mark.parametrize("kernels", ["fused", "reference"])
def test_default_adam_updates_rows_outside_the_batch_as_keras(rng, kernels):
    # Keras' Adam is dense: a row absent from the batch still has its m and v decayed and
    # moves by its m. Default bptt must do the same, on either kernels.
    params, grads = embedding_like_problem(rng)
    with kernels_set_to(kernels):
        ours = run_bptt(optimizers.Adam(0.01), params, grads)
    assert_all_close(ours, keras_adam(params, grads, 0.01, 0.9, 0.999, 1e-7))
    assert not np.array_equal(ours[0][0], params[0][0])  # row 0 is only in the first batch


@pytest.mark.parametrize("kernels", ["fused", "reference"])
def test_lazy_rows_leaves_rows_with_zero_gradient_alone(rng, kernels):
    params, grads = embedding_like_problem(rng)
    optimizer = optimizers.Adam(0.01, lazy_rows=True)
    table = params[0].copy()
    for step, step_grads in enumerate(grads):
        before = table.copy()
        state_before = optimizer.get_state([table]) if step else None
        with kernels_set_to(kernels):
            optimizer.apply_gradients(zip(step_grads, [table]))
        untouched = np.setdiff1d(np.arange(12), [step, step + 1, 11])
        np.testing.assert_array_equal(table[untouched], before[untouched])
        if state_before is not None:
            state = optimizer.get_state([table])
            for key in ("0/momentum", "0/velocity"):
                np.testing.assert_array_equal(state[key][untouched], state_before[key][untouched])
    # Row 11, in every batch, got exactly Keras' Adam, with the global step count.
    expected = keras_adam([params[0][11]], [[g[0][11]] for g in grads], 0.01, 0.9, 0.999, 1e-7)
    assert_close(table[11], expected[0], "row 11")
    # Row 1, in batches 0 and 1 only, got two steps and was then left alone.
    expected = keras_adam([params[0][1]], [[g[0][1]] for g in grads[:2]], 0.01, 0.9, 0.999, 1e-7)
    assert_close(table[1], expected[0], "row 1")


def test_lazy_rows_is_off_by_default_and_only_in_the_config_when_set():
    assert optimizers.Adam().lazy_rows is False
    assert "lazy_rows" not in optimizers.Adam().get_config()  # the default config is Keras'
    config = optimizers.Adam(lazy_rows=True).get_config()
    assert config["lazy_rows"] is True
    assert optimizers.Adam.from_config(config).lazy_rows is True
    assert optimizers.get("adam").lazy_rows is False


@pytest.mark.parametrize("kernels", ["reference", "fused"])
@pytest.mark.parametrize("name", ["adam", "rmsprop", "sgd"])
def test_row_gradient_squares_enter_v_as_keras_tf_does(name, kernels, monkeypatch):
    """An embedding's RowGradient: v takes the given squares in place of g^2 (Keras on TF
    squares each lookup's slice before adding repeats); m and w use the summed gradient."""
    from bptt import backend
    from bptt.optimizers import RowGradient

    monkeypatch.setattr(backend, "_KERNELS", kernels)
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(5, 3)).astype(np.float32)
    g = rng.normal(size=(5, 3)).astype(np.float32)
    g[3] = 0  # a row the batch did not look up: its squares are 0 = g^2 there too
    squares = (g * g * rng.uniform(0.2, 1.0, size=g.shape)).astype(np.float32)
    rows = np.array([True, True, True, False, True])
    w = w0.copy()
    optimizer = optimizers.get(name)
    optimizer.apply_gradients([(RowGradient(g, squares, rows), w)])
    lr = np.float32(optimizer.learning_rate)
    if name == "adam":  # t = 1: m = 0.1 g, v = 0.001 s, alpha = lr sqrt(0.001) / 0.1
        alpha = lr * np.sqrt(np.float32(1 - 0.999)) / np.float32(1 - 0.9)
        expected = w0 - (np.float32(0.1) * g * alpha) / (np.sqrt(np.float32(0.001) * squares)
                                                          + np.float32(1e-7))
    elif name == "rmsprop":  # v = 0.1 s; w -= lr g / sqrt(v + eps)
        expected = w0 - lr * g / np.sqrt(np.float32(0.1) * squares + np.float32(1e-7))
    else:  # SGD is linear in g: the squares do not matter
        expected = w0 - lr * g
    np.testing.assert_allclose(w, expected, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("kernels", ["reference", "fused"])
@pytest.mark.parametrize("name, slot", [("adam", "momentum"), ("rmsprop", "velocity"),
                                        ("sgd", "momentum")])
def test_slots_never_hold_subnormals(name, slot, kernels, monkeypatch):
    """As TensorFlow's CPU kernels (flush-to-zero): a slot decaying below the smallest normal
    float becomes 0, in the fused update and the reference alike; normal values are untouched."""
    from bptt import backend

    monkeypatch.setattr(backend, "_KERNELS", kernels)
    optimizer = {"adam": optimizers.Adam(), "rmsprop": optimizers.RMSprop(),
                 "sgd": optimizers.SGD(momentum=0.9)}[name]
    w = np.ones(4, dtype=np.float32)
    optimizer.apply_gradients([(np.ones(4, dtype=np.float32), w)])
    tiny = np.finfo(np.float32).tiny
    optimizer._slots_for(w)[slot][...] = [tiny * 1.05, -tiny * 1.05, 1e-3, tiny * 20]
    optimizer.apply_gradients([(np.zeros(4, dtype=np.float32), w)])
    values = optimizer._slots_for(w)[slot]
    assert not np.any((values != 0) & (np.abs(values) < tiny)), values
    if name != "rmsprop":  # m decays by 0.9: the first two would be subnormal, so are 0
        np.testing.assert_array_equal(values[:2], 0)
    assert values[2] != 0 and values[3] != 0  # still normal: kept


def _lookups_problem():
    """An embedding gradient as its lookups: ids with repeats and each lookup's dy row."""
    from bptt.ops import embedding as reference

    rng = np.random.default_rng(3)
    ids = np.array([0, 2, 2, 2, 4, 0], dtype=np.intp)
    dy = rng.normal(size=(6, 3)).astype(np.float32)
    table = np.zeros((5, 3), np.float32)
    summed = reference.embedding_backward(dy, ids, table)
    squares = reference.embedding_backward_squares(dy, ids, table)
    rows = np.zeros(5, bool)
    rows[ids] = True
    return ids, dy, summed, squares, rows


@pytest.mark.parametrize("kernels", ["reference", "fused"])
@pytest.mark.parametrize("clip", ["clipnorm", "global_clipnorm", "clipvalue"])
def test_an_embeddings_gradient_is_clipped_as_slices_as_tf_does(clip, kernels, monkeypatch):
    """clipnorm: the norm of the slices, summed and squares scaled by s and s^2. global_clipnorm:
    the slices' squares count in the norm, and the scaled gradient is then dense (RMSprop squares
    the summed gradient). clipvalue: each lookup clipped, then added up. Checked here against
    these rules written out with RMSprop (v = 0.1 g2 at the first step), and against Keras in
    tests/test_keras_golden.py."""
    from bptt import backend
    from bptt.optimizers import RowGradient

    monkeypatch.setattr(backend, "_KERNELS", kernels)
    ids, dy, summed, squares, rows = _lookups_problem()
    given = [a.copy() for a in (dy, summed, squares)]
    c = {"clipnorm": 0.5, "global_clipnorm": 0.5, "clipvalue": 0.3}[clip]
    slices_norm = np.sqrt(squares.sum())
    assert slices_norm > c and np.sqrt((summed ** 2).sum()) != pytest.approx(slices_norm)
    if clip == "clipnorm":
        s = np.float32(c / slices_norm)
        g, g2 = summed * s, squares * (s * s)
    elif clip == "global_clipnorm":
        s = np.float32(c / slices_norm)
        g = summed * s
        g2 = g * g
    else:
        clipped = np.clip(dy, -c, c)
        g, g2 = np.zeros_like(summed), np.zeros_like(summed)
        np.add.at(g, ids, clipped)
        np.add.at(g2, ids, clipped * clipped)
    w = np.ones((5, 3), np.float32)
    optimizer = optimizers.RMSprop(learning_rate=0.1, **{clip: c})
    optimizer.apply_gradients([(RowGradient(summed, squares, rows, (ids, dy)), w)])
    expected = 1 - np.float32(0.1) * g / np.sqrt(np.float32(0.1) * g2 + np.float32(1e-7))
    np.testing.assert_allclose(w, expected, rtol=2e-6, atol=1e-7)
    for array, before in zip((dy, summed, squares), given):
        np.testing.assert_array_equal(array, before)  # the caller's arrays are left alone
