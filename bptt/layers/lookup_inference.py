"""An Embedding followed by an LSTM, at inference (predict, evaluate), as one call.

The LSTM's first step is x @ kernel for every looked-up vector: B * T rows of GEMM. But those
vectors are rows of the Embedding's table, so (table @ kernel)[ids] is the same thing, and a
large batch looks up far fewer distinct ids than it has steps: 1,000 IMDB reviews of 50 words
are 50,000 lookups of about 8,000 distinct words. So the rows the batch uses are projected once
(a GEMM of that many rows) and the LSTM's time loop reads its inputs' projections by position
(bptt.kernels.lstm.lstm_lookup_inference): no (B, T, D) embedded copy is made, and the GEMM
shrinks by the ratio of lookups to distinct ids. Each row's product is the same dot product
either way, so the outputs equal the two layers run one after the other to float rounding.

Used where it pays (fewer than half as many distinct ids as lookups) and applies: the fused
inference kernel, no mask (mask_zero=False), matching widths and dtypes; otherwise `infer`
returns None and the layers run one by one.
"""
import numpy as np

from bptt import kernels

DISTINCT_SHARE = 0.5  # at most this many distinct ids per lookup for the one-call path to pay


def distinct_rows(ids, vocabulary):
    """(rows (P,), the distinct ids in order; position (V,) int32, each of those ids' index
    among `rows`), for ids in [0, vocabulary)."""
    used = np.zeros(vocabulary, bool)  # (V,)
    used[ids] = True
    rows = np.flatnonzero(used)  # (P,)
    position = np.empty(vocabulary, np.int32)  # (V,) only the used entries are set
    position[rows] = np.arange(rows.size, dtype=np.int32)
    return rows, position


def infer(embedding, recurrent, ids):
    """recurrent.infer(embedding.infer(ids)) in one call, or None where it does not apply."""
    if (getattr(recurrent, "cell", None) != "lstm" or embedding.mask_zero
            or not (embedding.built and recurrent.built)
            or recurrent.inference_function() is None):
        return None
    ids = np.asarray(ids)
    table, kernel = embedding.params["embeddings"], recurrent.params["kernel"]
    if ids.ndim != 2 or ids.size == 0 or table.shape[1] != kernel.shape[0] \
            or table.dtype != kernel.dtype:
        return None
    embedding.check_ids(ids)  # the Embedding's own errors for bad ids
    ids = ids.astype(np.intp, copy=False)
    rows, position = distinct_rows(ids, table.shape[0])
    if rows.size > DISTINCT_SHARE * ids.size:
        return None
    matmul, _ = kernels.gemm_functions(ids.shape[0])
    projected = matmul(table[rows], kernel)  # (P, 4H) the used rows' x @ kernel
    from bptt.kernels.lstm import lstm_lookup_inference

    states = recurrent._initial_states(None, ids.shape[0], kernel.dtype)
    embedding.cache = recurrent.cache = None
    ys, last_states = lstm_lookup_inference(
        position[ids], projected, recurrent.input_bias(), recurrent.params["recurrent_kernel"],
        *states, go_backwards=recurrent.go_backwards,
        return_sequences=recurrent.return_sequences)
    recurrent._keep_states(last_states)
    return recurrent._outputs(ys if recurrent.return_sequences else last_states[0],
                              list(last_states))
