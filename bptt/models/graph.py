"""The order of a functional model's nodes, as Keras' map_graph gives it.

A depth-first walk back from each output gives a topological order and the order in which layers
are first met; a node's depth is its longest distance to an output. Layers come in decreasing
depth, ties in the order first met, so two branches at one depth keep their call order; every
input comes first even if no output needs it. A node whose inputs no earlier node or model input
makes is an error: the graph is disconnected.
"""
from bptt.layers import InputLayer


def ordered_nodes(inputs, outputs):
    """Keras' map_graph: the nodes from `inputs` to `outputs`, and the layers by depth.

    A depth-first walk back from each output gives a topological order and the order in which
    layers are first met; a node's depth is its longest distance to an output. Layers come in
    decreasing depth, ties in the order first met (so two branches at one depth keep their
    call order)."""
    input_ids = {id(t) for t in inputs}
    finished, in_progress, order, first_met = set(), set(), [], {}

    def visit(tensor):
        node = tensor.node
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f"Tensor {tensor} from layer '{node.layer.name}' is part of a cycle.")
        first_met.setdefault(id(node.layer), (len(first_met), node.layer))
        in_progress.add(id(node))
        if not isinstance(node.layer, InputLayer) and id(tensor) not in input_ids:
            for parent in node.inputs + node.states:
                visit(parent)
        finished.add(id(node))
        in_progress.discard(id(node))
        order.append(node)

    for tensor in outputs:
        visit(tensor)
    depth, layer_depth = {}, {}
    for node in reversed(order):
        d = max(depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        depth[id(node)] = layer_depth[id(node.layer)] = d
        for parent in node.parents:
            depth[id(parent)] = max(depth.get(id(parent), 0), d + 1)
    for tensor in inputs:  # an input no output depends on still belongs to the model
        if id(tensor.node.layer) not in layer_depth:
            layer_depth[id(tensor.node.layer)] = 0
            first_met.setdefault(id(tensor.node.layer), (len(first_met), tensor.node.layer))
            order.insert(0, tensor.node)
    layers = sorted((layer for _, layer in first_met.values()),
                    key=lambda layer: (-layer_depth[id(layer)], first_met[id(layer)][0]))
    nodes = sorted(order, key=lambda node: -depth.get(id(node), 0))  # stable: keeps topology
    check_connected(inputs, nodes)
    return nodes, layers, [depth.get(id(node), 0) for node in nodes]


def check_connected(inputs, nodes):
    known = {id(t) for t in inputs}
    done = []
    for node in nodes:
        if isinstance(node.layer, InputLayer):
            if id(node.outputs[0]) not in known:
                raise ValueError(
                    f"Graph disconnected: cannot find parent for tensor {node.outputs[0]} at "
                    f"layer '{node.layer.name}'. The following previous layers were accessed "
                    f"without issue: {done}. Pass every Input the outputs depend on in "
                    "Model(inputs=[...]).")
            continue
        for tensor in node.inputs + node.states:
            if id(tensor) not in known:
                raise ValueError(
                    f"Graph disconnected: cannot find parent for tensor {tensor} at layer "
                    f"'{node.layer.name}'. The following previous layers were accessed without "
                    f"issue: {done}. Pass every Input the outputs depend on in "
                    "Model(inputs=[...]).")
        done.append(node.layer.name)
        known.update(id(t) for t in node.outputs)
