"""Learning rate schedules, as Keras 3's: the rate as a function of the optimizer's step.

    optimizer = optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, 1000, 0.96))

The optimizer calls the schedule with its `iterations` (0 on the first update) before each
update. The formulas are Keras' (keras/src/optimizers/schedules/learning_rate_schedule.py),
computed as Keras computes them, in float32:

    ExponentialDecay      lr0 * rate ** (step / steps)          (floor of the power: staircase)
    InverseTimeDecay      lr0 / (1 + rate * step / steps)       (floor of step / steps: staircase)
    PolynomialDecay       (lr0 - end) * (1 - min(step, steps) / steps) ** power + end
                          (cycle: steps times ceil(step / steps), at least once)
    PiecewiseConstantDecay  values[i] for boundaries[i-1] < step <= boundaries[i]
    CosineDecay           lr0 * ((1 - alpha) * (1 + cos(pi * min(step, steps) / steps)) / 2
                          + alpha), after a linear warmup from lr0 to warmup_target in
                          warmup_steps when warmup_target is given

A schedule is saved with the model as its config ({'class_name': ..., 'config': {...}}); a
schedule of your own (a subclass) is code, which a model file does not hold.
"""
import math

import numpy as np

_F = np.float32


class LearningRateSchedule:
    """Base class: `__call__(step)` gives the rate; `get_config` / `from_config` round trip."""

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  "override `__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  "override `get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_steps(decay_steps):
    if decay_steps <= 0:
        raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")


class ExponentialDecay(LearningRateSchedule):
    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        _check_steps(decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step):
        p = _F(step) / _F(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return _F(self.initial_learning_rate) * np.power(_F(self.decay_rate), p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class InverseTimeDecay(ExponentialDecay):
    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        p = _F(step) / _F(self.decay_steps)
        if self.staircase:
            p = np.floor(p)
        return _F(self.initial_learning_rate) / (_F(1) + _F(self.decay_rate) * p)


class PolynomialDecay(LearningRateSchedule):
    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        _check_steps(decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle = end_learning_rate, power, cycle
        self.name = name

    def __call__(self, step):
        step, steps = _F(step), _F(self.decay_steps)
        if self.cycle:
            steps = steps * (_F(1) if step == 0 else np.ceil(step / steps))
        else:
            step = min(step, steps)
        p = step / steps
        lr0, end = _F(self.initial_learning_rate), _F(self.end_learning_rate)
        return (lr0 - end) * np.power(_F(1) - p, _F(self.power)) + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of "
                f"length {len(values)}.")
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return _F(value)
        return _F(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class CosineDecay(LearningRateSchedule):
    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_steps(decay_steps)
        self.initial_learning_rate, self.decay_steps, self.alpha = (initial_learning_rate,
                                                                    decay_steps, alpha)
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def _decay(self, step, decay_from):
        cosine = _F(0.5) * (_F(1) + np.cos(_F(math.pi) * (step / _F(self.decay_steps))))
        return decay_from * ((_F(1) - _F(self.alpha)) * cosine + _F(self.alpha))

    def __call__(self, step):
        step, lr0 = _F(step), _F(self.initial_learning_rate)
        if self.warmup_target is None:
            return self._decay(min(step, _F(self.decay_steps)), lr0)
        target, warmup = _F(self.warmup_target), _F(self.warmup_steps)
        step = min(step, _F(self.decay_steps) + warmup)
        if step < warmup:
            return (target - lr0) * (step / warmup) + lr0
        return self._decay(step - warmup, target)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


_SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay, PolynomialDecay,
                                            PiecewiseConstantDecay, CosineDecay)}


def serialize(schedule):
    """{'class_name': ..., 'config': {...}} of one of bptt's schedules."""
    if type(schedule) not in _SCHEDULES.values():
        raise ValueError(f"Cannot serialize the learning rate schedule {schedule!r}: only "
                         f"bptt's schedules ({', '.join(_SCHEDULES)}) can be saved.")
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config):
    """A schedule from {'class_name': ..., 'config': {...}}."""
    if not isinstance(config, dict) or config.get("class_name") not in _SCHEDULES:
        raise ValueError(f"Unknown learning rate schedule {config!r}; expected "
                         f"{{'class_name': one of {sorted(_SCHEDULES)}, 'config': {{...}}}}.")
    return _SCHEDULES[config["class_name"]].from_config(dict(config.get("config") or {}))


def __getattr__(name):
    if name == "CosineDecayRestarts":
        raise AttributeError("keras.optimizers.schedules.CosineDecayRestarts: bptt does not have "
                             "it; use CosineDecay, or callbacks.LearningRateScheduler")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
