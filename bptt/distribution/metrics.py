"""Metrics over every process: each process keeps the running totals of its own rows, and the
logs show the result of the totals added up over the processes (every bptt metric is a mean:
a total and a count)."""
import contextlib

from bptt.metrics import Mean


def means_within(metric):
    """The Mean objects whose totals make `metric`'s result (an 'accuracy' resolved on first
    use holds its Mean in `resolved`)."""
    if isinstance(metric, Mean):
        return [metric]
    inner = getattr(metric, "resolved", None)
    return means_within(inner) if inner is not None else []


def global_result(communicator, metric):
    """metric.result() as if one process had seen every process's rows."""
    means = means_within(metric)
    if communicator.size == 1 or not means:
        return float(metric.result())
    kept = [(mean.total, mean.count) for mean in means]
    sums = communicator.sum_floats([value for pair in kept for value in pair])
    try:
        for index, mean in enumerate(means):
            mean.total, mean.count = sums[2 * index], sums[2 * index + 1]
        return float(metric.result())
    finally:
        for mean, (total, count) in zip(means, kept):
            mean.total, mean.count = total, count


@contextlib.contextmanager
def uncounted(metrics):
    """Within: metric updates leave the totals as they were (a stand-in row on a process whose
    shard is empty), though an 'accuracy' still resolves its kind as on the other processes."""
    kept = [[(mean, mean.total, mean.count) for mean in means_within(m)] for m in metrics]
    try:
        yield
    finally:
        for metric, before in zip(metrics, kept):
            for mean in means_within(metric):
                mean.reset_state()
            for mean, total, count in before:
                mean.total, mean.count = total, count
