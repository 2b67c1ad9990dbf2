"""The check fit and train_on_batch make before applying a step: is the loss finite, and is
every gradient?

One NaN or inf in a batch (in its inputs, its targets, or from a learning rate that is too high)
reaches every weight in one update, and from then on every loss is NaN. So the step's loss and
gradients are checked before the optimizer applies them, with one reduction per gradient (its
sum is finite exactly when every element is, short of an overflow that would be as fatal): for
the tutorial's model a few tens of microseconds on a 6 ms step. An Embedding's gradient is
checked on the rows the batch looked up (the other rows are zero).

`bptt.config.set_check_finite(False)` turns the check off (Keras does not make it).
"""
import math

import numpy as np

from bptt.optimizers import RowGradient


def _checked_values(grad):
    """The values of a gradient whose sum tells whether it is all finite."""
    if isinstance(grad, RowGradient):
        if grad.lookups is not None:
            return grad.lookups[1]  # (N, D) each lookup's gradient; the rows are their sums
        return grad.summed if grad.rows is None else grad.summed[grad.rows]
    return grad


def first_nonfinite(total, grads):
    """None when the loss `total` and every gradient in `grads` are finite; otherwise "loss",
    or the index in `grads` of the first gradient that holds NaN or inf."""
    if not math.isfinite(total):
        return "loss"
    with np.errstate(invalid="ignore", over="ignore"):  # NaN and inf are what is looked for
        for index, grad in enumerate(grads):
            values = _checked_values(grad)
            if values.size and not math.isfinite(float(np.add.reduce(values, axis=None))):
                return index
    return None


def describe(found, total, names):
    """What first_nonfinite found, in words: the loss's value or the gradient's weight name."""
    if found == "loss":
        return f"the loss is {total}"
    return f"the gradient of '{names[found]}' holds NaN or inf (the loss was {total:.6g})"


LIKELY_CAUSES = ("Likely causes: NaN or inf in this batch's inputs or targets (check them with "
                 "np.isfinite), or a learning rate too high for this model (try a lower one, or "
                 "clipnorm=1.0 in the optimizer).")
