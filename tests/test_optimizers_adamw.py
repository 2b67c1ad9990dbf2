"""AdamW as keras.optimizers.AdamW: Adam with decoupled weight decay 0.004 by default, checked
against torch.optim.AdamW (equal rules when epsilon = 0) with the fused and reference kernels."""
import numpy as np
import pytest
import torch

from bptt import optimizers
from tests.helpers.optimizers import kernels
from tests.test_optimizers import assert_all_close, make_problem, run_bptt, run_torch


@pytest.mark.parametrize("choice", ["reference", "fused"])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adamw_matches_torch_adamw(rng, choice, amsgrad):
    params, grads = make_problem(rng)
    with kernels(choice):
        ours = run_bptt(optimizers.AdamW(learning_rate=0.01, epsilon=0.0, amsgrad=amsgrad),
                        params, grads)
    theirs = run_torch(lambda t: torch.optim.AdamW(t, lr=0.01, eps=0.0, weight_decay=0.004,
                                                   amsgrad=amsgrad), params, grads)
    assert_all_close(ours, theirs)


def test_adamw_defaults_names_and_config():
    optimizer = optimizers.AdamW()
    config = optimizer.get_config()
    assert (config["learning_rate"], config["weight_decay"], config["beta_1"], config["beta_2"],
            config["epsilon"], config["amsgrad"], config["name"]) == \
        (0.001, 0.004, 0.9, 0.999, 1e-7, False, "adamw")
    assert type(optimizers.get("adamw")) is optimizers.AdamW
    restored = optimizers.get({"class_name": "AdamW", "config": config})
    assert type(restored) is optimizers.AdamW and restored.get_config() == config
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)


def test_adamw_decays_a_weight_with_zero_gradient():
    w = np.ones(3)
    optimizers.AdamW(learning_rate=0.1, weight_decay=0.5).apply_gradients([(np.zeros(3), w)])
    np.testing.assert_allclose(w, 1 - 0.1 * 0.5)  # w -= lr * weight_decay * w; Adam's step is 0
