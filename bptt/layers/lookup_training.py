"""An Embedding followed by an LSTM, in training (fit, train_on_batch): the LSTM's input
projection made from the table's rows instead of the looked-up vectors.

The LSTM's first step is xw = x @ kernel + bias for every looked-up vector: B * T rows of GEMM,
and its backward two more of that size, dkernel = x^T dxw and dx = dxw @ kernel^T. But those
vectors are rows of the Embedding's table, and a small vocabulary has far fewer rows than a
batch has lookups (a character model: 84 characters, 6,400 lookups a batch). So here

    forward    projected = table[rows] @ kernel + bias      (P, 4H), rows: the P distinct ids
               xw = projected[position of each id]         (T, B, 4H), a gather
    backward   dprojected = dxw summed by id                (P, 4H), a segment sum
               dkernel = table[rows]^T @ dprojected,  dbias = dprojected summed over its rows
               dx = dxw @ kernel^T, one row per lookup, handed to the Embedding's backward

and no (B, T, D) embedded copy is made. Every product is the same sum of the same terms as the
layers run one after the other, in another order, so the loss, the gradients and the weights
after the optimizer's steps equal theirs to float rounding (tests/layers/test_lookup_training.py).

dx stays one row per lookup, not dprojected @ kernel^T per table row: the Embedding's backward
takes it unchanged, and with it the per-lookup squares that Keras/TF's Adam and RMSprop put in
their second moment and the per-lookup slices that clipvalue clips (bptt.optimizers.base.
RowGradient), so the optimizers see exactly what they see without this path.

The LSTM keeps its own backward: its cache holds, where the time-major input would be, a
`ProjectedRows` that does the projection's backward the way above (LSTM.backward asks it, in
_project_backward). So a model's backward walks the layers as always.

Used where it pays, a vocabulary of at most VOCABULARY_SHARE times the lookups of a batch (the
tutorial's Embedding(20000, 128) at 32 x 200 = 6,400 lookups runs the layers one by one), and
where it applies: fused kernels, an LSTM with its fused time loop, no mask (mask_zero=False and
none from below), no dropout or recurrent_dropout, the table's width the LSTM's input features
and its dtype the LSTM's; otherwise `forward` returns None and the two layers run one by one.
Sequential models only: a functional Model runs its layers one by one.
"""
import numpy as np

from bptt import backend, kernels
from bptt.layers.lookup_inference import distinct_rows

VOCABULARY_SHARE = 0.5  # at most this many table rows per lookup for the one-call path to pay


def applies(embedding, recurrent, ids, mask=None):
    """Whether `forward` runs the pair as one on this batch of ids (see the module docstring)."""
    if (getattr(recurrent, "cell", None) != "lstm" or embedding.mask_zero or mask is not None
            or not (embedding.built and recurrent.built) or backend.get_kernels() != "fused"
            or recurrent.dropout or recurrent.recurrent_dropout
            or recurrent.inference_function() is None):  # None: no fused cell for its options
        return False
    ids = np.asarray(ids)
    table, kernel = embedding.params["embeddings"], recurrent.params["kernel"]
    return (ids.ndim == 2 and ids.size > 0 and table.shape[1] == kernel.shape[0]
            and table.dtype == kernel.dtype and table.shape[0] <= VOCABULARY_SHARE * ids.size)


class ProjectedRows:
    """What the LSTM's cache holds in place of its input x_in (T, B, D) after `forward`: the
    table rows the batch used, each lookup's position among them, and the backward of
    xw = table[rows][positions] @ kernel + bias."""

    def __init__(self, table_rows, positions):
        self.table_rows = table_rows  # (P, D) the distinct rows looked up, in id order
        self.positions = positions  # (T, B) int32: lookup (t, b)'s row among them, time-major

    def project_backward(self, dxw, kernel):
        """dxw (T, B, 4H) -> (dkernel (D, 4H), dx_tm (T, B, D), dbias (4H,))."""
        from bptt.kernels.lookup_training import lookup_backward

        steps, batch, width = dxw.shape
        dx2, dprojected = lookup_backward(dxw.reshape(steps * batch, width),
                                          self.positions.reshape(-1), kernel,
                                          self.table_rows.shape[0])
        dkernel = kernels.gemm_functions(batch)[0](
            np.ascontiguousarray(self.table_rows.T), dprojected)  # (D, 4H)
        return dkernel, dx2.reshape(steps, batch, -1), dprojected.sum(axis=0)


def forward(embedding, recurrent, x, mask=None):
    """recurrent.forward(embedding.forward(x, training=True)) with the caches both backwards
    need, in one pass; None where it does not apply (nothing has changed then)."""
    if not applies(embedding, recurrent, x, mask):
        return None
    ids = embedding.check_ids(x)  # (B, T) intp; the Embedding's own errors for bad ids
    embedding.cache = ids  # what Embedding.backward reads
    table, kernel = embedding.params["embeddings"], recurrent.params["kernel"]
    rows, position = distinct_rows(ids, table.shape[0])  # (P,), (V,) id -> its row in rows
    positions = position[ids.T[::-1] if recurrent.go_backwards else ids.T]  # (T, B) time-major
    table_rows = table[rows]  # (P, D)
    projection, _ = kernels.projection_functions(ids.shape[0])
    projected = projection(table_rows, kernel, recurrent.input_bias())  # (P, 4H)
    from bptt.kernels.lookup_training import gather

    steps, batch = positions.shape
    xw = gather(projected, positions.reshape(-1)).reshape(steps, batch, -1)  # (T, B, 4H)
    states = recurrent._initial_states(None, batch, kernel.dtype)
    recurrent.functions = recurrent.sequence_functions(per_gate_masks=False)
    hs, last_states, op_cache = recurrent.run_forward(xw, states, None, None)
    recurrent.cache = (ProjectedRows(table_rows, positions), None, None, None, op_cache)
    recurrent._keep_states(last_states)
    output = hs.transpose(1, 0, 2) if recurrent.return_sequences else last_states[0]
    return recurrent._outputs(output, last_states)
