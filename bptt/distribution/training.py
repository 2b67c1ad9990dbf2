"""What the one training loop (bptt.models.training) asks of a data-parallel distribution:
the shard of a batch, the sum of a step's gradients and losses, the start of fit, gathering
predictions, and who writes files. Each function is called on every process at the same point
of the loop, so the collectives inside meet."""
import numpy as np

from bptt import backend
from bptt.distribution import gradients, sharding


def shard(distribution, global_rows):
    communicator = distribution.communicator
    return sharding.Shard(global_rows, communicator.rank, communicator.size)


def sum_losses(distribution, shard, total, parts):
    """The batch's total loss and per-output losses: each process's, weighted by its share of
    the rows, added up (the one-process mean)."""
    present = [index for index, part in enumerate(parts) if part is not None]
    sums = distribution.communicator.sum_floats(
        [shard.weight * total] + [shard.weight * parts[index] for index in present])
    parts = list(parts)
    for index, value in zip(present, sums[1:]):
        parts[index] = value
    return sums[0], parts


def sum_gradients(distribution, pairs):
    """The step's (gradient, weight) pairs with each gradient summed over the processes."""
    if distribution._gradient_sum is None:
        distribution._gradient_sum = gradients.GradientSum(distribution.communicator)
    return distribution._gradient_sum(pairs)


def start_fit(distribution, model):
    """Every process starts from rank 0's weights and random generator (so an unseeded script
    trains as one), after checking what data parallelism cannot split."""
    stateful = [layer.name for layer in _all_layers(model) if getattr(layer, "stateful", False)]
    if stateful:
        raise ValueError(
            f"Data-parallel fit cannot split stateful layers {stateful}: their states belong to "
            "the rows of one batch. Train them on one process (bptt.distribution."
            "set_distribution(None)) or use stateful=False.")
    if getattr(model.optimizer, "clipvalue", None) is not None:
        raise ValueError(
            "Data-parallel fit does not support clipvalue (it clips each embedding lookup, "
            "which stays on its process): use clipnorm or global_clipnorm instead.")
    communicator = distribution.communicator
    weights = [np.ascontiguousarray(w) for w in model.get_weights()]
    for weight in weights:
        communicator.broadcast_array(weight)
    if weights:
        model.set_weights(weights)
    rng = backend.global_rng()
    rng.bit_generator.state = communicator.broadcast_object(rng.bit_generator.state)


def _all_layers(model):
    for layer in model._unique_layers():
        yield layer
        inner = getattr(layer, "_unique_layers", None)
        if callable(inner):
            yield from _all_layers(layer)
        for attribute in ("layer", "forward_layer", "backward_layer"):
            wrapped = getattr(layer, attribute, None)
            if wrapped is not None and hasattr(wrapped, "stateful"):
                yield wrapped


def gather_predictions(distribution, batches):
    """Each process's outputs of its rows of every batch -> every batch's outputs whole, in
    order, on every process."""
    everyone = distribution.communicator.gather_objects(batches)
    whole = []
    for step in range(len(batches)):
        pieces = [rank_batches[step] for rank_batches in everyone]
        whole.append([np.concatenate(outputs, axis=0) for outputs in zip(*pieces)])
    return whole
