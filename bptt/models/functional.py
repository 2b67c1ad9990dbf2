"""The functional Model: a graph of layer calls from `Input`s to outputs.

    encoder_inputs = Input(shape=(None, 6))
    _, h, c = LSTM(8, return_state=True)(encoder_inputs)
    decoder_inputs = Input(shape=(None, 7))
    seq = LSTM(8, return_sequences=True)(decoder_inputs, initial_state=[h, c])
    model = Model([encoder_inputs, decoder_inputs], Dense(7, activation="softmax")(seq))

The model keeps the nodes (bptt.layers.symbolic) between its inputs and outputs in an order
where every node comes after the nodes that feed it. Forward runs them in that order; backward
runs them in reverse and sums the gradients of a tensor that feeds several nodes (a shared
layer, a tensor used twice), micrograd's topological backward at the size of layers. A layer
called at several nodes has one set of weights and one cache: what its forward keeps is set
aside per node and put back before that node's backward, and its weight gradients are summed
over its nodes.
"""
import numpy as np

from bptt.layers import InputLayer
from bptt.layers import symbolic
from bptt.layers.base import output_mask
from bptt.models import graph, shared
from bptt.models.compile_args import logits_activation
from bptt.models.training import Trainer, one_call_at_a_time


def _flat(value):
    """The leaves of nested lists / tuples (tensors or arrays)."""
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flat(item)]
    return [value]


def _template(value):
    """The nesting of `value`: None for a leaf, else a list of the items' nestings."""
    return [_template(item) for item in value] if isinstance(value, (list, tuple)) else None


def _flatten_structure(value, what):
    """(flat list of KerasTensors, names if a dict, nesting: None for one tensor, else a
    list template such as [None, [None, None], None])."""
    if isinstance(value, dict):
        return list(value.values()), list(value.keys()), [None] * len(value)
    return _flat(value), None, _template(value)


def _pack(flat, nested, keys):
    if keys is not None:
        return dict(zip(keys, flat))
    return flat[0] if nested is None else symbolic.pack(nested, list(flat))


def _check_tensors(tensors, what):
    for tensor in tensors:
        if not symbolic.is_symbolic(tensor):
            raise TypeError(
                f"Model {what} must be symbolic tensors, from keras.Input(...) and layer calls "
                f"on them; got {type(tensor).__name__}. Build the model as in Keras: "
                "inputs = Input(shape=...); outputs = layers.Dense(1)(inputs); "
                "Model(inputs, outputs).")


def _masks_per_output(node, mask):
    """A layer's compute_mask result as one mask (or None) per output tensor of the node."""
    def spread(nested, value):
        if nested is None:
            return [value]
        if not isinstance(value, (list, tuple)) or len(value) != len(nested):
            value = [value if not isinstance(value, (list, tuple)) else None] * len(nested)
        return [leaf for sub, item in zip(nested, value) for leaf in spread(sub, item)]

    return spread(node.nested, mask)


def _flatten_value(nested, value):
    """A layer's return value as a flat list, following the node's output nesting."""
    if nested is None:
        return [value]
    return [leaf for sub, item in zip(nested, value) for leaf in _flatten_value(sub, item)]


class Model(Trainer):
    """Keras' Model. `Model(inputs, outputs, name=None)` makes a Functional model (as in Keras,
    where type(model).__name__ is 'Functional'); Sequential is a Model too."""

    def __new__(cls, *args, **kwargs):
        return super().__new__(Functional if cls is Model else cls)

    def __init__(self, *args, **kwargs):
        raise TypeError(
            "bptt's Model is the functional model: Model(inputs, outputs). Subclassed models (a "
            "Model with its own call method) are not supported, since every layer's backward "
            "pass is written by hand and an arbitrary call has none: build the same network "
            "with Input and layer calls, or with Sequential.")


    @classmethod
    def from_config(cls, config):
        from bptt.models.config import functional_from_config

        return functional_from_config(Functional, config)


class Functional(Model):
    """A graph of layer calls: Model(inputs, outputs, name=None)."""

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        if inputs is None or outputs is None:
            Model.__init__(self)
        if kwargs:
            raise TypeError(f"Model got unexpected keyword argument(s) {sorted(kwargs)}.")
        Trainer.__init__(self, name=name, trainable=trainable, prefix="functional")
        flat_inputs, input_keys, self._inputs_nested = _flatten_structure(inputs, "inputs")
        flat_outputs, output_keys, self._outputs_nested = _flatten_structure(outputs, "outputs")
        _check_tensors(flat_inputs, "inputs")
        _check_tensors(flat_outputs, "outputs")
        for tensor in flat_inputs:
            if not isinstance(tensor.node.layer, InputLayer):
                raise ValueError(
                    f"Model inputs must come from keras.Input(...); {tensor} is the output of "
                    f"layer '{tensor.node.layer.name}'. To reuse part of a model, call it on a "
                    "new Input.")
        self._inputs, self._outputs = flat_inputs, flat_outputs
        self._nodes, self._layer_list, self._depths = graph.ordered_nodes(flat_inputs, flat_outputs)
        self._input_keys, self._output_keys = input_keys, output_keys
        self._outputs_are_dict = output_keys is not None
        self.input_names = input_keys or [t.node.layer.name for t in flat_inputs]
        self.output_names = output_keys or [t.node.layer.name for t in flat_outputs]
        uses = {}
        for node in self._nodes:
            uses[id(node.layer)] = uses.get(id(node.layer), 0) + 1
        self._shared = {key for key, count in uses.items() if count > 1}
        consumers = {}
        for node in self._nodes:
            for tensor in node.inputs + node.states:
                consumers[id(tensor)] = consumers.get(id(tensor), 0) + 1
        for tensor in flat_outputs:
            consumers[id(tensor)] = consumers.get(id(tensor), 0) + 1
        self._consumers = consumers
        self._saved = {}
        self._values = None
        self.built = True
        self.input_shape = flat_inputs[0].shape if self._inputs_nested is None \
            else [t.shape for t in flat_inputs]

    # -- structure -----------------------------------------------------------------------------
    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input(self):
        return _pack(self._inputs, self._inputs_nested, self._input_keys)

    @property
    def output(self):
        return _pack(self._outputs, self._outputs_nested, self._output_keys)

    def _unique_layers(self):
        return self._layer_list

    def _sequential_like(self):
        """Keras' test for summary's short form: one node per depth, each taking at most one
        tensor, and no layer called twice."""
        depths = {}
        for node, depth in zip(self._nodes, self._depths):
            depths.setdefault(depth, []).append(node)
        return all(len(nodes) == 1 and len(nodes[0].inputs + nodes[0].states) <= 1
                   for nodes in depths.values()) and not self._shared

    def _output_shapes(self):
        return [t.shape for t in self._outputs]

    def _pack_outputs(self, outputs):
        return _pack(outputs, self._outputs_nested, self._output_keys)

    # -- running the graph -----------------------------------------------------------------------
    def _run(self, xs, training, keep):
        """Every node in order; `keep`: keep what backward needs (else layers' infer)."""
        values = {id(t): x for t, x in zip(self._inputs, xs)}
        masks = {}  # id(tensor) -> the (B, T) mask it carries, where it carries one
        self._saved = {}
        for index, node in enumerate(self._nodes):
            layer = node.layer
            if isinstance(layer, InputLayer):
                continue
            args = node.pack_inputs([values[id(t)] for t in node.inputs])
            in_masks = [masks.get(id(t)) for t in node.inputs]
            mask = node.pack_inputs(in_masks) if any(m is not None for m in in_masks) else None
            kwargs = {"initial_state": [values[id(t)] for t in node.states]} if node.states else {}
            if mask is not None and layer.takes_mask():
                kwargs["mask"] = mask
            is_shared = id(layer) in self._shared
            before = shared.state_of(layer) if is_shared and keep else None
            if keep:
                out = layer.forward(args, training=training, **kwargs)
            else:
                out = layer.infer(args, **kwargs)
            if before is not None:
                self._saved[index] = shared.changed(before, shared.state_of(layer))
            for tensor, value in zip(node.outputs, _flatten_value(node.nested, out)):
                values[id(tensor)] = value
            out_mask = output_mask(layer, args, mask)
            if out_mask is not None:
                for tensor, m in zip(node.outputs, _masks_per_output(node, out_mask)):
                    if m is not None:
                        masks[id(tensor)] = m
        self._values = values if keep else None
        self._output_masks = [masks.get(id(t)) for t in self._outputs]
        return [values[id(t)] for t in self._outputs]

    def _forward_all(self, xs, training):
        return self._run(xs, training, keep=True)

    def _infer_all(self, xs):
        return self._run(xs, False, keep=False)

    def _logits_node(self, index):
        """The node whose pre-activation the loss of output `index` may read: a single-output,
        unshared layer whose output goes nowhere else."""
        tensor = self._outputs[index]
        node, layer = tensor.node, tensor.node.layer
        if (len(node.outputs) != 1 or id(layer) in self._shared or self._consumers[id(tensor)] != 1
                or not hasattr(layer, "backward_from_logits")):
            return None
        wanted = logits_activation(self._losses[index]) if self._losses else None
        return node if wanted is not None and getattr(layer, "activation", None) == wanted else None

    def _output_logits(self, index):
        node = self._logits_node(index)
        return None if node is None else getattr(node.layer, "logits", None)

    def _backward_all(self, douts, from_logits):
        """Back through the nodes in reverse; returns the gradient of each model input."""
        if self._values is None:
            raise RuntimeError(
                f"Model '{self.name}': a backward pass needs the caches of a forward pass in "
                "training, and the last pass kept none (predict, evaluate or calling the model).")
        grads = {}
        logits_nodes = set()
        for index, (tensor, dout) in enumerate(zip(self._outputs, douts)):
            if dout is None:
                continue
            if from_logits[index]:
                logits_nodes.add(id(tensor.node))
            grads[id(tensor)] = dout if id(tensor) not in grads else grads[id(tensor)] + dout
        summed = {}
        reached = set()
        for index in range(len(self._nodes) - 1, -1, -1):
            node = self._nodes[index]
            layer = node.layer
            if isinstance(layer, InputLayer) or not any(id(t) in grads for t in node.outputs):
                continue
            if index in self._saved:
                shared.restore(self._saved[index])
            dys = [grads.get(id(t)) for t in node.outputs]
            dys = [np.zeros_like(self._values[id(t)]) if dy is None else dy
                   for t, dy in zip(node.outputs, dys)]
            dy = node.pack_outputs(dys)
            if id(node) in logits_nodes:
                dx = layer.backward_from_logits(dy)
            else:
                dx = layer.backward(dy)
            reached.add(id(layer))
            if id(layer) in self._shared:
                for leaf in shared.leaf_layers(layer):
                    shared.accumulate(summed.setdefault(id(leaf), (leaf, {}))[1], leaf)
            dxs = dx if node.inputs_are_list else [dx]
            state_grads = list(getattr(layer, "initial_state_grads", None) or []) \
                if node.states else []
            for tensor, grad in zip(node.inputs + node.states, list(dxs) + state_grads):
                if grad is not None:
                    grads[id(tensor)] = grad if id(tensor) not in grads \
                        else grads[id(tensor)] + grad
        for layer, total in summed.values():  # a shared layer: the sums over its nodes
            for attribute, values in total.items():
                setattr(layer, attribute, values)
        for layer in self._layer_list:  # a layer no gradient reached gets zeros, not stale ones
            if id(layer) not in reached:
                for leaf in shared.leaf_layers(layer):
                    leaf.zero_grads()
        return [grads.get(id(t)) for t in self._inputs]

    # -- checks ------------------------------------------------------------------------------
    def _check_inputs(self, xs, what, check_ids):
        for tensor, x in zip(self._inputs, xs):
            expected = tensor.shape[1:]
            got = tuple(np.shape(x)[1:])
            if len(got) != len(expected) or any(
                    e is not None and e != g for e, g in zip(expected, got)):
                shape = ", ".join("None" if s is None else str(s) for s in tensor.shape)
                raise ValueError(
                    f"{what}: input '{tensor.node.layer.name}' of model '{self.name}' expects "
                    f"arrays of shape ({shape}), got an array of shape {np.shape(x)}.")
        if check_ids:
            from bptt.layers import Embedding

            positions = {id(t): i for i, t in enumerate(self._inputs)}
            for node in self._nodes:  # an Embedding fed by an input: its ids, before any change
                if isinstance(node.layer, Embedding) and id(node.inputs[0]) in positions:
                    node.layer.check_ids(xs[positions[id(node.inputs[0])]])

    # -- the layer contract, so a Model can be called inside another model --------------------
    def build(self, input_shape):
        self.built = True

    def compute_output_shape(self, input_shape):
        return _pack([t.shape for t in self._outputs], self._outputs_nested, None)

    def _as_inputs(self, x):
        if isinstance(x, dict) and self._input_keys is not None:
            return [x[key] for key in self._input_keys]
        return [x] if self._inputs_nested is None else _flat(x)

    def forward(self, x, training=False):
        return _pack(self._forward_all(self._as_inputs(x), training), self._outputs_nested, None)

    def infer(self, x):
        return _pack(self._infer_all(self._as_inputs(x)), self._outputs_nested, None)

    def backward(self, dy):
        douts = [dy] if self._outputs_nested is None else _flat(dy)
        dxs = self._backward_all(douts, [False] * len(douts))
        return dxs[0] if self._inputs_nested is None else _pack(dxs, self._inputs_nested, None)

    @one_call_at_a_time
    def __call__(self, x, training=False, **kwargs):
        if symbolic.any_symbolic(x, kwargs):
            return symbolic.call(self, x, training=training, **kwargs)
        xs, _, _ = self._prepare(x, what="call", check_ids=False)
        outputs = self._forward_all(xs, True) if training else self._infer_all(xs)
        return self._pack_outputs(outputs)

    # -- config ------------------------------------------------------------------------------------
    def get_config(self):
        from bptt.models.config import functional_config

        return functional_config(self)

