"""Keras' `keras.preprocessing` for sequences: `preprocessing.sequence.pad_sequences`.

`timeseries_dataset_from_array` is the one in bptt.utils, when bptt has it; the image and
directory readers are not part of bptt (their errors say what to use).
"""
from bptt.preprocessing import sequence


def __getattr__(name):
    if name == "timeseries_dataset_from_array":
        from bptt import utils

        if hasattr(utils, name):
            return getattr(utils, name)
    from bptt import _missing

    _missing.refuse(__name__, "preprocessing", name)


__all__ = ["sequence"]
