"""Models from their configs: rebuilding takes time in proportion to the layers, whatever order
a functional config lists its calls in, and replays them in the same order as before."""
import time

from bptt import layers, models
from bptt.models import Functional, Sequential


def test_a_long_sequential_config_builds_in_linear_time():
    """Each `add` built the whole stack again: 20,000 layers took minutes."""
    config = {"name": "long", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 3]}}] + [
        {"class_name": "Dropout", "config": {"rate": 0.0}}] * 20000}
    start = time.perf_counter()
    model = Sequential.from_config(config)
    assert time.perf_counter() - start < 5
    assert len(model.layers) == 20000 and model.output_shape == (None, 3)


def test_adding_after_pop_rebuilds_the_stack():
    model = Sequential([layers.Input(shape=(4,)), layers.Dense(3), layers.Dense(2)])
    model.pop()
    model.add(layers.Dense(5))
    assert model.output_shape == (None, 5)
    assert model.layers[-1].weights[0].shape == (3, 5)


def _chain_config(n, reverse):
    calls = []
    previous = "in"
    for i in range(n):
        calls.append({"class_name": "Dense", "config": {"units": 2, "name": f"d{i}"},
                      "name": f"d{i}",
                      "inbound_nodes": [{"args": [[previous, 0, 0]], "list": False,
                                         "states": []}]})
        previous = f"d{i}"
    return {"name": "chain", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 2], "name": "in"},
         "name": "in", "inbound_nodes": []}] + (calls[::-1] if reverse else calls),
        "input_layers": [["in", 0, 0]], "output_layers": [[previous, 0, 0]]}


def test_a_functional_config_listing_calls_backwards_builds_quickly():
    """Passes over the pending calls found one ready call per pass: cubic time."""
    start = time.perf_counter()
    model = Functional.from_config(_chain_config(600, reverse=True))
    assert time.perf_counter() - start < 5
    assert len(model.layers) == 601


def _build_order(config):
    built = []
    original = layers.Dense.build

    def build(self, shape):
        built.append(self.name)
        original(self, shape)

    layers.Dense.build = build
    try:
        Functional.from_config(config)
    finally:
        layers.Dense.build = original
    return built


def test_calls_replay_in_pass_order_so_weights_draw_as_before():
    """Layers are built, and draw their initial weights, in the order of passes over the list
    of calls, each pass running what is ready when reached: d1 (fed by d0) right after d0 when
    listed after it, in the next pass when listed before it."""
    inputs = layers.Input(shape=(3,), name="in")
    a = layers.Dense(2, name="d0")(inputs)
    b = layers.Dense(2, name="d1")(a)
    c = layers.Dense(2, name="d2")(inputs)
    config = models.Model(inputs, layers.Add(name="add")([b, c])).get_config()
    by_name = {entry["name"]: entry for entry in config["layers"]}
    config["layers"] = [by_name[name] for name in ("in", "d0", "d1", "d2", "add")]
    assert _build_order(config) == ["d0", "d1", "d2"]
    config["layers"] = [by_name[name] for name in ("in", "add", "d1", "d0", "d2")]
    assert _build_order(config) == ["d0", "d2", "d1"]
