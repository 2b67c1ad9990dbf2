"""PyTorch as the oracle: Keras-layout weights in, outputs and every gradient out, in Keras' layout.

Letters: B batch, T time, I input features, H units, G gates (1, 4 or 3).

    simple_rnn(x, kernel, recurrent_kernel, bias, h0=None, *, dhs=None, dh_last=None, ...)
    lstm(x, kernel, recurrent_kernel, bias, h0=None, c0=None, *, dhs=None, dh_last=None, dc_last=None, ...)
    gru(x, kernel, recurrent_kernel, bias, h0=None, *, dhs=None, dh_last=None, reset_after=True, ...)
    dense(x, kernel, bias=None, *, dy=None, activation="linear")
    activation(name, a, dy)
    bidirectional(cell, x, forward_weights, backward_weights, *, merge_mode, return_sequences,
                  dy, dstates=None)

Layout. x is batch-major (B, T, I), as Keras' layers take it; with time_major=True it is
(T, B, I). hs and dhs follow x. h0, c0, dh_last, dc_last and the returned h_last, c_last are
(B, H); a missing h0 / c0 is zeros. Weights are Keras' (kernel (I, G*H), recurrent_kernel
(H, G*H), bias (G*H,), or (2, 3H) for GRU reset_after=True; None for use_bias=False), and so are
the gradients returned. recurrent_mask is None, (B, H) shared by every gate, or (G, B, H), one per
gate, multiplied onto h_{t-1} where Keras 3 does (see bptt/ops/*.py).

Loss. The gradients are those of L = sum(hs * dhs) + sum(h_last * dh_last) + sum(c_last * dc_last),
terms whose upstream gradient is None left out: dhs, dh_last, dc_last are the upstream gradients.

Engine. engine="auto" runs PyTorch's own module (nn.RNN, nn.LSTM, nn.GRU, nn.Linear), loaded through
bptt.converters, whenever one computes the configuration; otherwise (recurrent masks, activations
its modules lack, GRU reset_after=False) the cell's equations written out in torch and
differentiated by autograd. engine="module" / "autograd" forces one; tests show the two agree
where both apply, so the autograd equations are themselves checked against PyTorch.

To get dL/dxw for an op that takes xw = x @ kernel + bias, pass x = xw (time-major), kernel =
identity (G*H, G*H) and a zero input bias: then dx is dxw.

Every function returns a dict of NumPy arrays in x's dtype: outputs ("hs", "h_last", "c_last",
"y") and gradients ("dx", "dkernel", "drecurrent_kernel", "dbias", "dh0", "dc0"); "dbias" is None
without a bias.
"""
import numpy as np
import torch

from bptt import converters

TORCH_ACTIVATIONS = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "linear": lambda a: a,
    # Keras 3's clip(a / 6 + 1/2, 0, 1), spelled out: F.hardsigmoid's backward multiplies by a
    # float32 1/6 even in float64 (5e-9 off), too coarse for a float64 oracle.
    "hard_sigmoid": lambda a: torch.clamp(a / 6 + 0.5, 0, 1),
    "softmax": lambda a: torch.softmax(a, dim=-1),
}


def _leaf(a):
    """A float tensor copy of a NumPy array (dtype kept) that collects its gradient."""
    return torch.tensor(np.array(a)).requires_grad_(True)


def _numpy(t):
    return None if t is None else t.detach().numpy().copy()


def _grad(t):
    return None if t is None else _numpy(t.grad)


def _loss(pairs):
    """sum(out * d) over the pairs with an upstream gradient d; 0 * out keeps the graph otherwise."""
    loss = 0 * pairs[0][0].sum()
    for out, d in pairs:
        if d is not None:
            loss = loss + (out * torch.tensor(np.array(d))).sum()
    return loss


def _gate_masks(recurrent_mask, gates):
    """The mask as a list of `gates` (B, H) tensors, or None."""
    if recurrent_mask is None:
        return None
    mask = torch.tensor(np.array(recurrent_mask))
    return [mask] * gates if mask.ndim == 2 else list(mask)


def _recurrent(h, recurrent_kernel, masks, H):
    """(h * m_g) @ U_g for every gate block g, concatenated: (B, G*H)."""
    if masks is None:
        return h @ recurrent_kernel
    return torch.cat([(h * m) @ recurrent_kernel[:, g * H:(g + 1) * H] for g, m in enumerate(masks)], dim=1)


def _prepare(x, h0, c0, H, time_major, with_c):
    """Leaves for x and the initial states (zeros when missing)."""
    B = x.shape[1] if time_major else x.shape[0]
    zeros = np.zeros((B, H), dtype=x.dtype)
    x_t = _leaf(x)
    h0_t = _leaf(zeros if h0 is None else h0)
    c0_t = _leaf(zeros if c0 is None else c0) if with_c else None
    return x_t, h0_t, c0_t


def _time_major(x_t, time_major):
    return x_t if time_major else x_t.transpose(0, 1)


def _load(module, state, dtype):
    """The module in x's dtype (set first, so float64 weights are not rounded through float32), loaded."""
    module = module.to(torch.float64 if dtype == np.float64 else torch.float32)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    return module


def _check_engine(engine, module_can):
    if engine == "module" and not module_can:
        raise ValueError("PyTorch has no module for this configuration; use engine='auto' or 'autograd'.")
    return engine == "module" or (engine == "auto" and module_can)


def simple_rnn(x, kernel, recurrent_kernel, bias, h0=None, *, dhs=None, dh_last=None, activation="tanh",
               recurrent_mask=None, time_major=False, engine="auto"):
    """SimpleRNN: h_t = act(x_t @ kernel + bias + (h_{t-1} * m) @ recurrent_kernel)."""
    H = recurrent_kernel.shape[0]
    x_t, h0_t, _ = _prepare(x, h0, None, H, time_major, with_c=False)
    use_module = _check_engine(engine, activation in ("tanh", "relu") and recurrent_mask is None)
    if use_module:
        module = _load(torch.nn.RNN(kernel.shape[0], H, nonlinearity=activation, bias=bias is not None,
                                    batch_first=not time_major),
                       converters.simple_rnn_keras_to_torch(kernel, recurrent_kernel, bias), x.dtype)
        hs, _ = module(x_t, h0_t[None])
        h_last = hs[-1] if time_major else hs[:, -1]
        _loss([(hs, dhs), (h_last, dh_last)]).backward()
        p = dict(module.named_parameters())
        grads = converters.simple_rnn_torch_to_keras(
            _grad(p["weight_ih_l0"]), _grad(p["weight_hh_l0"]), _grad(p.get("bias_ih_l0")),
            _grad(p.get("bias_hh_l0")), gradients=True)
    else:
        weights = [_leaf(w) for w in (kernel, recurrent_kernel)] + [None if bias is None else _leaf(bias)]
        K, U, b = weights
        masks = _gate_masks(recurrent_mask, 1)
        act = TORCH_ACTIVATIONS[activation]
        xw = _time_major(x_t, time_major) @ K + (0 if b is None else b)  # (T, B, H)
        h, steps = h0_t, []
        for t in range(xw.shape[0]):
            h = act(xw[t] + _recurrent(h, U, masks, H))
            steps.append(h)
        hs = torch.stack(steps) if time_major else torch.stack(steps, dim=1)
        _loss([(hs, dhs), (h, dh_last)]).backward()
        grads = [_grad(w) for w in weights]
    return dict(hs=_numpy(hs), h_last=_numpy(hs[-1] if time_major else hs[:, -1]), dx=_grad(x_t),
                dkernel=grads[0], drecurrent_kernel=grads[1], dbias=grads[2] if bias is not None else None,
                dh0=_grad(h0_t))


def lstm(x, kernel, recurrent_kernel, bias, h0=None, c0=None, *, dhs=None, dh_last=None, dc_last=None,
         activation="tanh", recurrent_activation="sigmoid", recurrent_mask=None, time_major=False,
         engine="auto"):
    """LSTM, gates i, f, c, o: c_t = f * c_{t-1} + i * act(a_c), h_t = o * act(c_t)."""
    H = recurrent_kernel.shape[0]
    x_t, h0_t, c0_t = _prepare(x, h0, c0, H, time_major, with_c=True)
    module_can = activation == "tanh" and recurrent_activation == "sigmoid" and recurrent_mask is None
    if _check_engine(engine, module_can):
        module = _load(torch.nn.LSTM(kernel.shape[0], H, bias=bias is not None, batch_first=not time_major),
                       converters.lstm_keras_to_torch(kernel, recurrent_kernel, bias), x.dtype)
        hs, (h_n, c_n) = module(x_t, (h0_t[None], c0_t[None]))
        h, c = h_n[0], c_n[0]
        _loss([(hs, dhs), (h, dh_last), (c, dc_last)]).backward()
        p = dict(module.named_parameters())
        grads = converters.lstm_torch_to_keras(
            _grad(p["weight_ih_l0"]), _grad(p["weight_hh_l0"]), _grad(p.get("bias_ih_l0")),
            _grad(p.get("bias_hh_l0")), gradients=True)
    else:
        weights = [_leaf(w) for w in (kernel, recurrent_kernel)] + [None if bias is None else _leaf(bias)]
        K, U, b = weights
        masks = _gate_masks(recurrent_mask, 4)
        act, rec_act = TORCH_ACTIVATIONS[activation], TORCH_ACTIVATIONS[recurrent_activation]
        xw = _time_major(x_t, time_major) @ K + (0 if b is None else b)  # (T, B, 4H)
        h, c, steps = h0_t, c0_t, []
        for t in range(xw.shape[0]):
            a = xw[t] + _recurrent(h, U, masks, H)
            i, f, g, o = rec_act(a[:, :H]), rec_act(a[:, H:2 * H]), act(a[:, 2 * H:3 * H]), rec_act(a[:, 3 * H:])
            c = f * c + i * g
            h = o * act(c)
            steps.append(h)
        hs = torch.stack(steps) if time_major else torch.stack(steps, dim=1)
        _loss([(hs, dhs), (h, dh_last), (c, dc_last)]).backward()
        grads = [_grad(w) for w in weights]
    return dict(hs=_numpy(hs), h_last=_numpy(h), c_last=_numpy(c), dx=_grad(x_t), dkernel=grads[0],
                drecurrent_kernel=grads[1], dbias=grads[2] if bias is not None else None,
                dh0=_grad(h0_t), dc0=_grad(c0_t))


def gru(x, kernel, recurrent_kernel, bias, h0=None, *, dhs=None, dh_last=None, reset_after=True,
        activation="tanh", recurrent_activation="sigmoid", recurrent_mask=None, time_major=False,
        engine="auto"):
    """GRU, gates z, r, h: h_t = z * h_{t-1} + (1 - z) * hh_t; bias (2, 3H) if reset_after else (3H,)."""
    H = recurrent_kernel.shape[0]
    x_t, h0_t, _ = _prepare(x, h0, None, H, time_major, with_c=False)
    module_can = (reset_after and activation == "tanh" and recurrent_activation == "sigmoid"
                  and recurrent_mask is None)
    if _check_engine(engine, module_can):
        module = _load(torch.nn.GRU(kernel.shape[0], H, bias=bias is not None, batch_first=not time_major),
                       converters.gru_keras_to_torch(kernel, recurrent_kernel, bias), x.dtype)
        hs, h_n = module(x_t, h0_t[None])
        h = h_n[0]
        _loss([(hs, dhs), (h, dh_last)]).backward()
        p = dict(module.named_parameters())
        grads = converters.gru_torch_to_keras(_grad(p["weight_ih_l0"]), _grad(p["weight_hh_l0"]),
                                              _grad(p.get("bias_ih_l0")), _grad(p.get("bias_hh_l0")))
    else:
        weights = [_leaf(w) for w in (kernel, recurrent_kernel)] + [None if bias is None else _leaf(bias)]
        K, U, b = weights
        if b is None:
            input_bias = recurrent_bias = 0
        elif reset_after:
            input_bias, recurrent_bias = b[0], b[1]
        else:
            input_bias, recurrent_bias = b, 0
        masks = _gate_masks(recurrent_mask, 3)
        act, rec_act = TORCH_ACTIVATIONS[activation], TORCH_ACTIVATIONS[recurrent_activation]
        xw = _time_major(x_t, time_major) @ K + input_bias  # (T, B, 3H)
        h, steps = h0_t, []
        for t in range(xw.shape[0]):
            xz, xr, xh = xw[t, :, :H], xw[t, :, H:2 * H], xw[t, :, 2 * H:]
            if reset_after:
                rec = _recurrent(h, U, masks, H) + recurrent_bias
                z, r = rec_act(xz + rec[:, :H]), rec_act(xr + rec[:, H:2 * H])
                hh = act(xh + r * rec[:, 2 * H:])
            else:
                rec = _recurrent(h, U[:, :2 * H], None if masks is None else masks[:2], H)
                z, r = rec_act(xz + rec[:, :H]), rec_act(xr + rec[:, H:])
                h_masked = h if masks is None else h * masks[2]
                hh = act(xh + (r * h_masked) @ U[:, 2 * H:])
            h = z * h + (1 - z) * hh
            steps.append(h)
        hs = torch.stack(steps) if time_major else torch.stack(steps, dim=1)
        _loss([(hs, dhs), (h, dh_last)]).backward()
        grads = [_grad(w) for w in weights]
    return dict(hs=_numpy(hs), h_last=_numpy(h), dx=_grad(x_t), dkernel=grads[0], drecurrent_kernel=grads[1],
                dbias=grads[2] if bias is not None else None, dh0=_grad(h0_t))


def dense(x, kernel, bias=None, *, dy=None, activation="linear"):
    """Dense through nn.Linear: y = act(x @ kernel + bias), x (..., I) -> y (..., U)."""
    x_t = _leaf(x)
    module = _load(torch.nn.Linear(kernel.shape[0], kernel.shape[1], bias=bias is not None),
                   converters.dense_keras_to_torch(kernel, bias), x.dtype)
    y = TORCH_ACTIVATIONS[activation](module(x_t))
    _loss([(y, dy)]).backward()
    p = dict(module.named_parameters())
    grads = converters.dense_torch_to_keras(_grad(p["weight"]), _grad(p.get("bias")))
    return dict(y=_numpy(y), dx=_grad(x_t), dkernel=grads[0], dbias=grads[1] if bias is not None else None)


def activation(name, a, dy):
    """(y, da) for y = act(a) and upstream gradient dy, by torch autograd."""
    a_t = _leaf(a)
    y = TORCH_ACTIVATIONS[name](a_t)
    _loss([(y, dy)]).backward()
    return _numpy(y), _grad(a_t)


_BIDIRECTIONAL = {
    # cell: (PyTorch's module, Keras -> PyTorch weights, PyTorch -> Keras gradients)
    "simple_rnn": (torch.nn.RNN, converters.simple_rnn_keras_to_torch,
                   lambda *g: converters.simple_rnn_torch_to_keras(*g, gradients=True)),
    "lstm": (torch.nn.LSTM, converters.lstm_keras_to_torch,
             lambda *g: converters.lstm_torch_to_keras(*g, gradients=True)),
    "gru": (torch.nn.GRU, converters.gru_keras_to_torch, converters.gru_torch_to_keras),
}


def bidirectional(cell, x, forward_weights, backward_weights, *, merge_mode, return_sequences,
                  dy, dstates=None):
    """Keras' Bidirectional through PyTorch's bidirectional=True module (SimpleRNN with tanh,
    LSTM, GRU with reset_after=True), whose reverse direction reads the sequence backwards and
    returns its outputs in forward time order.

    x (B, T, I); the weights are each direction's Keras list. The output is the two directions'
    sequences (or last states: the reverse one's sits at t = 0) merged by merge_mode ("concat",
    "sum", "mul", "ave", or None for the pair); dy is its upstream gradient (a pair for None).
    dstates, when given, are the upstream gradients of the returned states in Keras' order
    (forward h [, c], then backward h [, c]).

    Returns y (an array, or a pair), states (that order), dx, and "forward" / "backward": each
    direction's gradients in Keras' layout [dkernel, drecurrent_kernel, dbias (None without)].
    """
    module_class, to_torch, to_keras = _BIDIRECTIONAL[cell]
    H = forward_weights[1].shape[0]
    use_bias = forward_weights[2] is not None
    state = to_torch(*forward_weights, suffix="_l0")
    state.update(to_torch(*backward_weights, suffix="_l0_reverse"))
    module = _load(module_class(x.shape[-1], H, bias=use_bias, batch_first=True,
                                bidirectional=True), state, x.dtype)
    x_t = _leaf(x)
    hs, last = module(x_t)  # hs (B, T, 2H); last: h_n (2, B, H), or (h_n, c_n) for the LSTM
    if cell == "lstm":  # forward h, c, then backward h, c
        states = [last[0][0], last[1][0], last[0][1], last[1][1]]
    else:
        states = [last[0], last[1]]
    f, b = hs[..., :H], hs[..., H:]
    if not return_sequences:
        f, b = f[:, -1], b[:, 0]
    if merge_mode is None:
        y, pairs = [f, b], [(f, dy[0]), (b, dy[1])]
    else:
        y = {"concat": lambda: torch.cat([f, b], dim=-1), "sum": lambda: f + b,
             "mul": lambda: f * b, "ave": lambda: (f + b) / 2}[merge_mode]()
        pairs = [(y, dy)]
    pairs += list(zip(states, dstates or []))
    _loss(pairs).backward()
    p = dict(module.named_parameters())

    def direction(suffix):
        grads = to_keras(*[_grad(p.get(f"{name}_l0{suffix}"))
                           for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")])
        return grads if use_bias else grads[:2] + [None]

    return dict(y=[_numpy(t) for t in y] if merge_mode is None else _numpy(y),
                states=[_numpy(t) for t in states], dx=_grad(x_t),
                forward=direction(""), backward=direction("_reverse"))
