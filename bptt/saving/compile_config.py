"""A model's compile settings as JSON (optimizer, loss, metrics), and back."""
from bptt import losses


def compile_config(model):
    if not model.compiled:
        return None
    return {
        "optimizer": {"class_name": type(model.optimizer).__name__,
                      "config": optimizer_config(model.optimizer)},
        "loss": _structure(model._compile_args["loss"], _loss_config),
        "loss_weights": model._compile_args["loss_weights"],
        "metrics": _structure(model._compile_args["metrics"], _metric_name),
        "weighted_metrics": _structure(model._compile_args["weighted_metrics"], _metric_name),
    }


def optimizer_config(optimizer):
    """The optimizer's config; a learning rate that is code cannot go into a file."""
    config = optimizer.get_config()
    rate = config.get("learning_rate")
    if callable(rate):
        name = getattr(rate, "__qualname__", None) or type(rate).__name__
        raise ValueError(
            f"Cannot save the model: the optimizer's `learning_rate` is a Python callable "
            f"({name}), and a model file holds settings, never code. Set "
            "`model.optimizer.learning_rate` to a float before saving (its current value is "
            "float(model.optimizer.learning_rate)) and set the callable again after loading, "
            "or change the rate during training with callbacks.LearningRateScheduler, whose "
            "schedule is not part of the file.")
    return config


def _structure(spec, leaf):
    """compile's argument (one item, a list or a dict, nested once) with each item as JSON."""
    if isinstance(spec, dict):
        return {key: _structure(value, leaf) for key, value in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [_structure(value, leaf) for value in spec]
    return None if spec is None else leaf(spec)


def _loss_config(loss):
    loss = losses.get(loss)
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def _metric_name(metric):
    return metric if isinstance(metric, str) else getattr(metric, "name", None) or \
        getattr(metric, "__name__")


def compile_from(config, leaf):
    if isinstance(config, dict) and "class_name" not in config:
        return {key: compile_from(value, leaf) for key, value in config.items()}
    if isinstance(config, list):
        return [compile_from(value, leaf) for value in config]
    return None if config is None else leaf(config)
