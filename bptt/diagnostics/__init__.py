"""What happens inside: the gradient that flows back through time, and the gates' values.

    gradient_through_time(model, x, y)   {layer name: (T,) mean |dL/dx_t|} for each recurrent
                                         layer: how much the loss still feels step t
    gate_activations(model, x, layer)    {gate name: (B, T, H)}: LSTM i, f, c, o (c is the
                                         candidate tanh(.)) or GRU z, r, h (h the candidate)
    plot_gradient_through_time(...)      the same as a picture (needs matplotlib: bptt[plot])

BPTT multiplies the gradient by one Jacobian per step it goes back. For a SimpleRNN that
Jacobian is diag(1 - h_t^2) @ recurrent_kernel^T, whose norm is usually below 1, so |dL/dx_t|
shrinks geometrically with the distance from the end: the vanishing gradient. An LSTM's cell
state passes the gradient back multiplied only by the forget gate f_t (dc_{t-1} = dc_t * f_t),
so with f near 1 it survives many steps.

Nothing here changes a weight: the backward pass fills the layers' grads and stops there.
"""
from bptt.diagnostics.cost import Cost, LayerCost, cost
from bptt.diagnostics.flow import gradient_through_time, plot_gradient_through_time
from bptt.diagnostics.gates import GATE_NAMES, gate_activations

__all__ = ["Cost", "GATE_NAMES", "LayerCost", "cost", "gate_activations", "gradient_through_time",
           "plot_gradient_through_time"]
