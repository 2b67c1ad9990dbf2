"""LambdaCallback: a callback made of plain functions."""
from bptt.callbacks.base import Callback


class LambdaCallback(Callback):
    """A callback made of functions: on_epoch_begin(epoch, logs), on_epoch_end(epoch, logs),
    on_train_begin(logs), on_train_end(logs), on_train_batch_begin(batch, logs),
    on_train_batch_end(batch, logs); any other hook given by keyword (e.g. on_test_end=...).
    As in Keras, every function gets `logs`, None where the loop has none to give."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end}
        for key, value in kwargs.items():
            if _is_hook(key) and callable(value):
                hooks[key] = value
            else:
                setattr(self, key, value)  # Keras keeps any other keyword as an attribute
        for hook, function in hooks.items():
            if function is not None:
                setattr(self, hook, _with_logs(function, "epoch" in hook or "batch" in hook))


def _is_hook(name):
    return name.startswith("on_") and name.endswith(("_begin", "_end"))


def _with_logs(function, takes_index):
    if takes_index:
        return lambda index, logs=None: function(index, logs)
    return lambda logs=None: function(logs)
