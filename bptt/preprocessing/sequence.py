"""`keras.preprocessing.sequence.pad_sequences`: the same function as `utils.pad_sequences`."""
from bptt.utils.sequence import pad_sequences

__all__ = ["pad_sequences"]
