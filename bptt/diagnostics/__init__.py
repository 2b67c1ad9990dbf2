"""What happens inside: the gradient that flows back through time, and the gates' values.

    gradient_flow(model, x, y)           {layer: {"x", "h", "c": (T,)}}: the mean over the batch
                                         of |dL/dx_t|, |dL/dh_t| and (LSTM) |dL/dc_t| at each step
    state_gradients(model, x, y)         the same gradients themselves, (B, T, ·) each
    gradient_through_time(model, x, y)   {layer name: (T,) mean |dL/dx_t|} for each recurrent
                                         layer: how much the loss still feels step t
    gate_activations(model, x, layer)    {name: (B, T, H)}: LSTM gates i, f, c, o (c is the
                                         candidate tanh(.)) or GRU z, r, h (h the candidate),
                                         and the states h_t (every cell) and c_t (LSTM)
    plot_gradient_through_time(...)      the gradient as a picture (needs matplotlib: bptt[plot])
    plot_gates(traces, words, ...)       gates and states as heatmaps over the words of a text
    cost(model, timesteps, batch)        weights, FLOPs and the activations BPTT keeps, per layer

bptt.callbacks.GradientFlow records gradient_flow on a fixed batch during fit.

BPTT multiplies the gradient by one Jacobian per step it goes back. For a SimpleRNN that
Jacobian is diag(1 - h_t^2) @ recurrent_kernel^T, whose norm is usually below 1, so |dL/dh_t|
and |dL/dx_t| shrink geometrically with the distance from the end: the vanishing gradient. An
LSTM's cell state passes the gradient back multiplied only by the forget gate
(dc_{t-1} = dc_t * f_t), so with f near 1 it survives many steps.

Nothing here changes a weight: the backward pass fills the layers' grads and stops there.
"""
from bptt.diagnostics.cost import Cost, LayerCost, cost
from bptt.diagnostics.flow import gradient_flow, gradient_through_time, state_gradients
from bptt.diagnostics.gates import GATE_NAMES, STATE_NAMES, gate_activations
from bptt.diagnostics.plots import plot_gates, plot_gradient_through_time

__all__ = ["Cost", "GATE_NAMES", "LayerCost", "STATE_NAMES", "cost", "gate_activations",
           "gradient_flow", "gradient_through_time", "plot_gates", "plot_gradient_through_time",
           "state_gradients"]
