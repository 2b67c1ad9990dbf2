"""Merge layers against PyTorch (autograd gives the input gradients) and finite differences."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bptt import layers
from tests.helpers.gradcheck import assert_grad_close, numerical_grad

TOL = {np.dtype("float32"): 1e-5, np.dtype("float64"): 1e-12}


def keras_rank(ts):
    """Keras' rule for inputs of different ranks: size-1 axes inserted after the batch axis."""
    ndim = max(t.ndim for t in ts)
    return [t.reshape(t.shape[:1] + (1,) * (ndim - t.ndim) + t.shape[1:]) for t in ts]


def stacked(ts):
    return torch.stack(torch.broadcast_tensors(*keras_rank(ts)))


ELEMENTWISE = {
    layers.Add: lambda *ts: sum(keras_rank(ts)[1:], keras_rank(ts)[0]),
    layers.Subtract: lambda a, b: torch.sub(*keras_rank([a, b])),
    layers.Multiply: lambda *ts: torch.prod(stacked(ts), dim=0),
    layers.Average: lambda *ts: torch.mean(stacked(ts), dim=0),
    layers.Maximum: lambda *ts: torch.amax(stacked(ts), dim=0),
    layers.Minimum: lambda *ts: torch.amin(stacked(ts), dim=0),
}
SHAPES = [
    [(3, 5, 7), (3, 5, 7), (3, 5, 7)],  # equal shapes
    [(4, 1), (4, 5)],  # (batch, 1) against (batch, D)
    [(2, 3, 1), (2, 1, 5), (2, 3, 5)],  # size-1 axes on both sides
    [(3, 5), (3, 4, 5)],  # lower rank: (B, D) meets (B, T, D) as (B, 1, D)
    [(1, 1, 1), (1, 1, 1)],
]


def torch_reference(fn, xs, dy):
    """fn's output and the gradients of sum(fn(xs) * dy) with respect to each input."""
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    y = fn(*ts)
    (y * torch.tensor(dy)).sum().backward()
    return y.detach().numpy(), [t.grad.numpy() for t in ts]


def run(layer, xs, dy):
    y = layer.forward(xs)
    return y, layer.backward(dy)


def assert_matches(actual, expected, dtype, name):
    np.testing.assert_allclose(actual, expected, rtol=TOL[dtype], atol=TOL[dtype], err_msg=name)
    assert actual.dtype == dtype, name


def check_by_finite_differences(layer, xs, dy):
    """Every input's gradient of sum(y * dy) against central differences (float64)."""
    _, dxs = run(layer, xs, dy)
    assert len(dxs) == len(xs)
    for i, x in enumerate(xs):
        numeric = numerical_grad(lambda: float(np.sum(layer.forward(xs) * dy)), x)
        assert_grad_close(dxs[i], numeric, name=f"dx{i}")


def inputs(rng, shapes, dtype):
    return [rng.normal(size=s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("cls", list(ELEMENTWISE), ids=lambda c: c.__name__)
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_elementwise_matches_torch(cls, shapes, floatx, rng):
    shapes = shapes[:2] if cls is layers.Subtract else shapes
    layer = cls()
    layer.build([(None,) + s[1:] for s in shapes])
    xs = inputs(rng, shapes, floatx)  # continuous draws: no ties for Maximum / Minimum
    out_shape = ELEMENTWISE[cls](*[torch.tensor(x) for x in xs]).shape
    dy = rng.normal(size=out_shape).astype(floatx)
    y_ref, dxs_ref = torch_reference(ELEMENTWISE[cls], xs, dy)
    y, dxs = run(layer, xs, dy)
    assert_matches(y, y_ref, floatx, "y")
    for i, (dx, dx_ref) in enumerate(zip(dxs, dxs_ref)):
        assert dx.shape == xs[i].shape
        assert_matches(dx, dx_ref, floatx, f"dx{i}")
    assert layer.compute_output_shape([(None,) + s[1:] for s in shapes]) == (None,) + y.shape[1:]


@pytest.mark.parametrize("cls", list(ELEMENTWISE), ids=lambda c: c.__name__)
@pytest.mark.parametrize("shapes", SHAPES[1:4], ids=str)
def test_elementwise_finite_differences(cls, shapes, float64, rng):
    shapes = shapes[:2] if cls is layers.Subtract else shapes
    xs = inputs(rng, shapes, np.float64)
    layer = cls()
    dy = rng.normal(size=layer.forward(xs).shape)
    check_by_finite_differences(layer, xs, dy)


def test_maximum_and_minimum_give_a_tie_to_the_first_input(float64):
    x = np.array([[1.0, 2.0]])
    for cls in (layers.Maximum, layers.Minimum):
        layer = cls()
        layer.forward([x, x.copy(), x.copy()])
        dxs = layer.backward(np.ones((1, 2)))
        np.testing.assert_array_equal(dxs[0], np.ones((1, 2)))
        np.testing.assert_array_equal(dxs[1] + dxs[2], np.zeros((1, 2)))


def test_multiply_gradient_with_zeros(float64, rng):
    """prod_{j != i} x_j without division: a zero input still gets the others' product."""
    xs = [rng.normal(size=(2, 3)) for _ in range(3)]
    xs[0][0, 0] = 0.0
    dy = rng.normal(size=(2, 3))
    _, dxs = run(layers.Multiply(), xs, dy)
    np.testing.assert_allclose(dxs[0], dy * xs[1] * xs[2], rtol=1e-14)
    assert dxs[1][0, 0] == 0 and dxs[2][0, 0] == 0


CONCAT = [([(2, 3, 5), (2, 4, 5), (2, 1, 5)], 1), ([(3, 2), (3, 5)], -1),
          ([(2, 3, 1), (2, 3, 4)], 2), ([(1, 2), (3, 2)], 0), ([(1, 1)], -1)]


@pytest.mark.parametrize("shapes, axis", CONCAT, ids=str)
def test_concatenate_matches_torch_and_finite_differences(shapes, axis, floatx, rng):
    xs = inputs(rng, shapes, floatx)
    layer = layers.Concatenate(axis=axis)
    dy = rng.normal(size=torch.cat([torch.tensor(x) for x in xs], dim=axis).shape).astype(floatx)
    y_ref, dxs_ref = torch_reference(lambda *ts: torch.cat(ts, dim=axis), xs, dy)
    y, dxs = run(layer, xs, dy)
    assert_matches(y, y_ref, floatx, "y")
    for i, (dx, dx_ref) in enumerate(zip(dxs, dxs_ref)):
        assert_matches(dx, dx_ref, floatx, f"dx{i}")
    if floatx == np.float64:
        check_by_finite_differences(layer, xs, dy)


# (shapes, axes, the same batched dot as an einsum over (x1, x2))
DOT = [
    ([(4, 5), (4, 5)], 1, "bk,bk->b"),
    ([(2, 3, 5), (2, 7, 3)], (1, 2), "bkp,bqk->bpq"),
    ([(1, 3, 2), (1, 1, 2, 3)], (-2, -1), "bkp,bmqk->bpmq"),
    ([(3, 4, 5), (3, 5)], (2, 1), "bpk,bk->bp"),
    ([(2, 3, 4), (2, 3, 6)], 1, "bkp,bkq->bpq"),
    ([(2, 3, 4), (2, 5, 4)], -1, "bpk,bqk->bpq"),
]


def torch_dot(equation, axes, normalize):
    def fn(t1, t2):
        if normalize:
            a1, a2 = (axes, axes) if isinstance(axes, int) else axes
            t1, t2 = F.normalize(t1, dim=a1, eps=1e-7), F.normalize(t2, dim=a2, eps=1e-7)
        y = torch.einsum(equation, t1, t2)
        return y[:, None] if y.ndim == 1 else y  # Keras keeps a rank-1 result as (B, 1)
    return fn


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("shapes, axes, equation", DOT, ids=str)
def test_dot_matches_torch(shapes, axes, equation, normalize, floatx, rng):
    xs = inputs(rng, shapes, floatx)
    fn = torch_dot(equation, axes, normalize)
    out_shape = fn(*[torch.tensor(x) for x in xs]).shape
    dy = rng.normal(size=out_shape).astype(floatx)
    y_ref, dxs_ref = torch_reference(fn, xs, dy)
    layer = layers.Dot(axes=axes, normalize=normalize)
    layer.build([(None,) + s[1:] for s in shapes])
    y, dxs = run(layer, xs, dy)
    assert_matches(y, y_ref, floatx, "y")
    for i, (dx, dx_ref) in enumerate(zip(dxs, dxs_ref)):
        assert_matches(dx, dx_ref, floatx, f"dx{i}")
    assert layer.compute_output_shape([(None,) + s[1:] for s in shapes]) == (None,) + y.shape[1:]


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("shapes, axes, equation", DOT, ids=str)
def test_dot_finite_differences(shapes, axes, equation, normalize, float64, rng):
    xs = inputs(rng, shapes, np.float64)
    layer = layers.Dot(axes=axes, normalize=normalize)
    dy = rng.normal(size=layer.forward(xs).shape)
    check_by_finite_differences(layer, xs, dy)


def test_dot_normalize_of_a_zero_vector_is_finite_as_in_torch(float64, rng):
    """Below the floor |x| = eps is a constant, so the gradient is dx_unit / eps (large, finite)."""
    xs = [rng.normal(size=(3, 4)), rng.normal(size=(3, 4))]
    xs[0][1] = 0.0
    dy = rng.normal(size=(3, 1))
    y_ref, dxs_ref = torch_reference(torch_dot("bk,bk->b", 1, True), xs, dy)
    y, dxs = run(layers.Dot(axes=1, normalize=True), xs, dy)
    np.testing.assert_allclose(y, y_ref, atol=1e-12)
    assert y[1, 0] == 0
    for dx, dx_ref in zip(dxs, dxs_ref):
        np.testing.assert_allclose(dx, dx_ref, rtol=1e-10)


@pytest.mark.parametrize("layer, shapes, expected", [
    (layers.Add(), [(None, 3, 1), (None, 1, 4)], (None, 3, 4)),
    (layers.Multiply(), [(None, None, 5), (None, 1, 5)], (None, None, 5)),
    (layers.Average(), [(None, 5), (None, 4, 5)], (None, 4, 5)),
    (layers.Maximum(), [(8, 5), (None, 5)], (8, 5)),
    (layers.Concatenate(axis=1), [(None, None, 4), (None, 3, 4)], (None, None, 4)),
    (layers.Concatenate(), [(None, 7, 2), (None, 7, 3)], (None, 7, 5)),
    (layers.Dot(axes=1), [(None, 5), (None, 5)], (None, 1)),
    (layers.Dot(axes=2), [(None, None, 4), (None, None, 4)], (None, None, None)),
    (layers.Dot(axes=(1, 2)), [(None, 3, 5), (None, 7, 3)], (None, 5, 7)),
])
def test_compute_output_shape_with_unknown_axes(layer, shapes, expected):
    assert layer.compute_output_shape(shapes) == expected


@pytest.mark.parametrize("make, shapes, message", [
    (layers.Subtract, [(2, 3)] * 3, "exactly 2 inputs"),
    (layers.Subtract, [(2, 3)], "exactly 2 inputs"),
    (lambda: layers.Dot(axes=1), [(2, 3)] * 3, "exactly 2 inputs"),
    (layers.Add, [(2, 3), (2, 4)], "incompatible shapes"),
    (layers.Add, [(2, 3, 4), (2, 2, 4)], "incompatible shapes"),
    (layers.Multiply, [(2, 3), (3, 3)], "different batch sizes"),
    (layers.Concatenate, [(1, 2, 1, 1, 5), (1, 1, 1, 1, 4)], "except for the concatenation axis"),
    (layers.Concatenate, [(2, 3), (2, 3, 1)], "ranks differ"),
    (lambda: layers.Concatenate(axis=3), [(2, 3, 4), (2, 3, 4)], r"axis must be in \[-3, 3\)"),
    (lambda: layers.Dot(axes=1), [(2, 3), (2, 4)], "axis values 3 .* != 4"),
    (lambda: layers.Dot(axes=0), [(2, 3), (2, 3)], "batch_dot over axis 0"),
    (lambda: layers.Dot(axes=(1, 5)), [(2, 3), (2, 3)], "out of range"),
    (lambda: layers.Dot(axes=1), [(2, 3), (4, 3)], "different batch sizes"),
    (lambda: layers.Dot(axes=1), [(2,), (2, 3)], "rank < 2"),
])
def test_bad_inputs_raise_in_shape_inference_and_in_a_call(make, shapes, message, rng):
    with pytest.raises(ValueError, match=message):
        make().compute_output_shape(shapes)
    with pytest.raises(ValueError, match=message):
        make()([rng.normal(size=s) for s in shapes])


def test_construction_and_call_errors(rng):
    x = rng.normal(size=(2, 3))
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add()(x)
    with pytest.raises(ValueError, match="not a list of shapes"):
        layers.Add().build((None, 3))
    with pytest.raises(TypeError, match="should be a list or an int"):
        layers.Dot(axes="1")
    with pytest.raises(ValueError, match="two elements"):
        layers.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="should be integers"):
        layers.Dot(axes=(1.0, 2))
    with pytest.raises(TypeError, match="unexpected keyword"):
        layers.Concatenate(axes=1)


def test_eager_call_on_lists_and_the_lowercase_functions(rng):
    x1, x2, x3 = (rng.normal(size=(2, 3)).astype("float32") for _ in range(3))
    layer = layers.Add()
    y = layer([x1, x2])  # equal shapes: the list must not be stacked into one array
    np.testing.assert_allclose(y, x1 + x2, rtol=1e-6)
    assert layer.built and layer.input_shape == [(None, 3), (None, 3)]
    np.testing.assert_allclose(layers.add([x1, x2, x3]), x1 + x2 + x3, rtol=1e-6)
    np.testing.assert_allclose(layers.subtract([x1, x2]), x1 - x2, rtol=1e-6)
    np.testing.assert_allclose(layers.multiply([x1, x2]), x1 * x2, rtol=1e-6)
    np.testing.assert_allclose(layers.average([x1, x2]), (x1 + x2) / 2, rtol=1e-6)
    np.testing.assert_allclose(layers.maximum([x1, x2]), np.maximum(x1, x2))
    np.testing.assert_allclose(layers.minimum([x1, x2]), np.minimum(x1, x2))
    np.testing.assert_allclose(layers.concatenate([x1, x2], axis=0), np.vstack([x1, x2]))
    np.testing.assert_allclose(layers.dot([x1, x2], axes=1), np.sum(x1 * x2, 1, keepdims=True),
                               rtol=1e-6)
    cosine = np.sum(x1 * x2, 1) / np.linalg.norm(x1, axis=1) / np.linalg.norm(x2, axis=1)
    np.testing.assert_allclose(layers.dot([x1, x2], axes=-1, normalize=True)[:, 0], cosine,
                               rtol=1e-5)
    assert layers.concatenate([x1, x2], name="joined").dtype == np.float32
    with pytest.raises(TypeError, match="unexpected keyword"):
        layers.add([x1, x2], axis=1)
    for name in ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate",
                 "dot"):
        assert name in layers.__all__ and name not in layers.LAYERS


@pytest.mark.parametrize("layer", [
    layers.Add(name="plus"), layers.Subtract(), layers.Multiply(), layers.Average(),
    layers.Maximum(), layers.Minimum(), layers.Concatenate(axis=1),
    layers.Dot(axes=(1, 2), normalize=True), layers.Dot(axes=-1)], ids=repr)
def test_config_round_trip(layer):
    copy = layers.deserialize(layers.serialize(layer))
    assert type(copy) is type(layer) and copy.get_config() == layer.get_config()
    assert layers.Concatenate().get_config()["axis"] == -1
    assert layers.Dot(axes=1).get_config()["normalize"] is False


def test_merge_masks_follow_keras():
    """Keras 3's compute_mask: elementwise merges OR the masks (none if an input has none);
    Concatenate spreads each mask over its input (all True where none), joins them along the
    axis and takes any() over the last axis; Dot gives none."""
    a = np.array([[True, False, False], [False, False, True]])
    b = np.array([[False, False, True], [False, False, True]])
    x = np.zeros((2, 3, 4))
    assert np.array_equal(layers.Add().compute_mask([x, x], [a, b]), a | b)
    assert layers.Multiply().compute_mask([x, x], [a, None]) is None
    assert layers.Add().compute_mask([x, x], None) is None
    assert np.array_equal(layers.Concatenate().compute_mask([x, x], [a, b]), a | b)
    assert layers.Concatenate().compute_mask([x, x], [a, None]).all()
    joined = layers.Concatenate(axis=1).compute_mask([x, x], [a, b])
    assert np.array_equal(joined, np.concatenate([a, b], axis=1))
    assert layers.Dot(axes=-1).compute_mask([x, x], [a, b]) is None
