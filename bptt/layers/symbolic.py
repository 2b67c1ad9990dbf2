"""Symbolic tensors and nodes: the graph behind the functional API.

    inputs = Input(shape=(None, 8))                 # a KerasTensor: a shape, a dtype, no values
    h = LSTM(16, return_sequences=True)(inputs)     # builds the LSTM, records a Node
    outputs = Dense(1)(h)
    model = Model(inputs, outputs)                  # walks back from outputs to inputs

Calling a layer on KerasTensors computes nothing. It builds the layer from the input shapes,
works out the output shapes (`compute_output_shape`) and records a Node: the layer, the tensors
that went in, the tensors that came out. Every KerasTensor remembers the node that made it
(`tensor.node`) and which of that node's outputs it is (`tensor.index`), so a Model can find
its layers by walking back from its outputs (bptt.models.functional).
"""
import itertools

from bptt import backend

_TENSOR_COUNTER = itertools.count()


class KerasTensor:
    """A placeholder for an array of `shape` (None for the batch and any free axis)."""

    def __init__(self, shape, dtype=None, node=None, index=0, name=None):
        self.shape = tuple(None if s is None else int(s) for s in shape)
        self.dtype = dtype or backend.floatx()
        self.node = node
        self.index = index
        self.name = name or f"keras_tensor_{next(_TENSOR_COUNTER)}"

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __len__(self):
        raise TypeError(f"{self!r} is symbolic: it has no values and no len(). It holds the "
                        "place of an array until the model runs.")

    def __array__(self, *args, **kwargs):
        raise TypeError(
            f"{self!r} is a symbolic tensor of the functional API, not an array: it can only be "
            "passed to bptt layers (e.g. layers.Dense(4)(x)) and to Model(inputs, outputs).")

    def _no_ops(self, *args, **kwargs):
        raise TypeError(
            "bptt does not have arithmetic or indexing on symbolic tensors (Keras' ops on "
            "KerasTensors): use the layers that do it, e.g. layers.Add()([a, b]), "
            "layers.Multiply()([a, b]), layers.Subtract()([a, b]), layers.Reshape(...), "
            "layers.Permute(...), layers.Concatenate()([a, b]).")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _no_ops
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __neg__ = __pow__ = _no_ops
    __getitem__ = _no_ops


class Node:
    """One call of `layer` in a graph: what went in, what came out.

    inputs      the KerasTensors passed as the first argument (one, or a list of them)
    states      the KerasTensors passed as initial_state (recurrent layers), or []
    outputs     the KerasTensors made, flat; `nested` says how to regroup them into what the
                layer returns (one tensor, or a list, possibly nested)
    """

    def __init__(self, layer, inputs, states, outputs, inputs_are_list, nested):
        self.layer = layer
        self.inputs = list(inputs)
        self.states = list(states)
        self.outputs = list(outputs)
        self.inputs_are_list = inputs_are_list
        self.nested = nested

    @property
    def parents(self):
        return [tensor.node for tensor in self.inputs + self.states]

    def pack_inputs(self, values):
        """The first call argument, from one value per input tensor."""
        return list(values) if self.inputs_are_list else values[0]

    def pack_outputs(self, flat):
        return pack(self.nested, list(flat))

    def __repr__(self):
        return f"<Node {self.layer.name}: {len(self.inputs)} in, {len(self.outputs)} out>"


def flatten(structure):
    """Leaves of nested lists/tuples (a shape tuple of ints counts as a leaf)."""
    if isinstance(structure, list) or (isinstance(structure, tuple) and structure
                                       and isinstance(structure[0], (list, tuple))):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def template(structure):
    """The nesting of `structure` with its leaves dropped: None for a leaf, else a list."""
    if isinstance(structure, list) or (isinstance(structure, tuple) and structure
                                       and isinstance(structure[0], (list, tuple))):
        return [template(item) for item in structure]
    return None


def pack(nested, flat):
    """The inverse of flatten: consumes `flat` (a list) into the nesting `nested`."""
    if nested is None:
        return flat.pop(0)
    return [pack(item, flat) for item in nested]


def is_symbolic(value):
    return isinstance(value, KerasTensor)


def any_symbolic(x, kwargs=None):
    values = list(x) if isinstance(x, (list, tuple)) else [x]
    for value in (kwargs or {}).values():
        values.extend(value if isinstance(value, (list, tuple)) else [value])
    return any(is_symbolic(value) for value in values)


def _as_tensor_list(value, what, layer):
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if not is_symbolic(item):
            raise TypeError(
                f"Layer '{layer.name}' was called with a mix of symbolic tensors and "
                f"{type(item).__name__} in {what}: in the functional API every input must come "
                "from keras.Input(...) or from another layer's output.")
    return items


def _check_compatible(layer, shapes):
    """Keras' input check for a layer that is already built (shared or called again): the
    feature axis must match what the weights were made for. Other axes may differ, as Keras'
    input specs allow (an Embedding or Dense shared by sequences of different lengths)."""
    built = getattr(layer, "input_shape", None)
    if (not layer.built or built is None or isinstance(built, list) or len(shapes) != 1
            or hasattr(layer, "input_dim") or not layer.params):
        return
    shape = shapes[0]
    want, got = built[-1], shape[-1] if shape else None
    if want is not None and got is not None and want != got:
        raise ValueError(
            f'Input 0 of layer "{layer.name}" is incompatible with the layer: expected axis -1 '
            f"of input shape to have value {want}, but received input with shape {shape}")


def _state_count(layer):
    """How many initial states a layer takes (None: it takes none)."""
    count = getattr(layer, "state_count", None)
    if callable(count):
        return count()
    if hasattr(layer, "state_names"):
        return len(layer.state_names)
    if hasattr(layer, "forward_layer"):
        inner = _state_count(layer.forward_layer)
        return None if inner is None else inner + _state_count(layer.backward_layer)
    return None


def call(layer, x, training=False, initial_state=None, **kwargs):
    """layer(x) where x holds KerasTensors: build, infer the output shapes, record a Node."""
    if kwargs:
        raise TypeError(f"{type(layer).__name__} got unexpected call argument(s) "
                        f"{sorted(kwargs)}.")
    inputs = _as_tensor_list(x, "its inputs", layer)
    states = [] if initial_state is None else _as_tensor_list(initial_state, "initial_state",
                                                              layer)
    inputs_are_list = isinstance(x, (list, tuple))
    shape = [t.shape for t in inputs] if inputs_are_list else inputs[0].shape
    if states:
        expected = _state_count(layer)
        if expected is None:
            raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) takes no "
                             "initial_state: only recurrent layers do.")
        if len(states) != expected:
            raise ValueError(
                f"Layer '{layer.name}' expects {expected} initial state tensor(s), got "
                f"{len(states)}. An LSTM takes [h, c]; SimpleRNN and GRU take [h]; "
                "Bidirectional takes the forward layer's states then the backward layer's.")
    _check_compatible(layer, [shape] if not inputs_are_list else shape)
    if not layer.built:
        layer.build(shape)
    out_shape = layer.compute_output_shape(shape)
    nested = template(out_shape)
    dtype = getattr(layer, "output_dtype", None) or backend.floatx()
    outputs = [KerasTensor(s, dtype) for s in flatten(out_shape)]
    node = Node(layer, inputs, states, outputs, inputs_are_list, nested)
    for index, tensor in enumerate(outputs):
        tensor.node, tensor.index = node, index
    layer._inbound_nodes = getattr(layer, "_inbound_nodes", []) + [node]
    return node.pack_outputs(outputs)


def input_tensor(input_layer):
    """The KerasTensor an InputLayer stands for, made once (Input(...) returns it)."""
    existing = getattr(input_layer, "_output_tensor", None)
    if existing is not None:
        return existing
    tensor = KerasTensor(input_layer.input_shape, input_layer.input_dtype or backend.floatx(),
                         name=input_layer.name)
    node = Node(input_layer, [], [], [tensor], False, None)
    tensor.node = node
    input_layer._inbound_nodes = [node]
    input_layer._output_tensor = tensor
    return tensor
