"""`pad_sequences`: a list of variable-length sequences -> one (N, T) array, as Keras does.

N is the number of sequences, T the common length (`maxlen`, or the longest sequence). Any
trailing shape of the elements (a sequence of feature vectors, say) is kept: (N, T, ...).
"""
import numpy as np

_SIDES = ("pre", "post")


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pad (and truncate) sequences to the same length, exactly as `keras.utils.pad_sequences`.

    Sequences shorter than T are filled with `value`; longer ones are cut to T. `padding` says
    where the filling goes and `truncating` which end is cut: "pre" (the default for both)
    fills in front and keeps the last T items, "post" fills at the back and keeps the first T.
    An empty sequence becomes a row of `value`.

    >>> pad_sequences([[1], [2, 3], [4, 5, 6]])
    array([[0, 0, 1],
           [0, 2, 3],
           [4, 5, 6]], dtype=int32)
    >>> pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2)
    array([[0, 1],
           [2, 3],
           [5, 6]], dtype=int32)

    Pre-padding is the default because a recurrent layer then ends on real items; with
    padding="post" and no mask, the last steps an LSTM sees are padding.

    Args:
        sequences: a list (anything with a length) of sequences of numbers, or of equally
            shaped arrays.
        maxlen: the length T of every row; None means the length of the longest sequence.
        dtype: the output's dtype ("int32" by default; use `object` for strings).
        padding: "pre" or "post": where the filling goes.
        truncating: "pre" or "post": which end of a too long sequence is cut.
        value: what the filling is (0 by default).

    Returns:
        A NumPy array of shape (N, T) + the elements' own shape.
    """
    if padding not in _SIDES:
        raise ValueError(f'padding must be "pre" or "post", got {padding!r}.')
    if truncating not in _SIDES:
        raise ValueError(f'truncating must be "pre" or "post", got {truncating!r}.')
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer))
                               or maxlen < 0):
        raise ValueError(f"maxlen must be None or an int >= 0, got {maxlen!r}.")
    if not hasattr(sequences, "__len__"):
        raise ValueError(
            f"`sequences` must be iterable with a length (a list of sequences), got "
            f"{type(sequences).__name__}; wrap a generator in list(...)."
        )

    # the element shape comes from the first non-empty sequence; the others must match it
    lengths = []
    sample_shape = ()
    found_sample = False
    for position, s in enumerate(sequences):
        try:
            lengths.append(len(s))
        except TypeError as e:
            raise ValueError(
                f"`sequences` must be a list of sequences; the item at position {position} "
                f"is {s!r} ({type(s).__name__}), which has no length."
            ) from e
        if not found_sample and len(s):
            sample_shape = np.asarray(s).shape[1:]
            found_sample = True

    if maxlen is None:
        maxlen = max(lengths, default=0)
    maxlen = int(maxlen)

    is_dtype_str = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_dtype_str:
        raise ValueError(
            f"dtype {dtype} cannot hold the string value {value!r}; use dtype=object for "
            "variable length strings."
        )

    x = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)  # (N, T, ...)
    if maxlen == 0:
        return x
    for position, s in enumerate(sequences):
        if not len(s):
            continue  # an empty sequence stays all `value`
        kept = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {kept.shape[1:]} of sequence at position {position} is "
                f"different from expected shape {sample_shape} (that of the first non-empty "
                "sequence)."
            )
        if padding == "post":
            x[position, :len(kept)] = kept
        else:
            x[position, -len(kept):] = kept
    return x
