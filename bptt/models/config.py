"""A functional model's config and back: its layers, and which tensors each call took.

    {"name": ..., "trainable": ...,
     "layers": [{"class_name": "LSTM", "config": {...}, "name": "lstm",
                 "inbound_nodes": [{"args": [["input_layer", 0, 0]], "list": false,
                                    "states": [["lstm_1", 0, 1], ["lstm_1", 0, 2]]}]}, ...],
     "input_layers": [["input_layer", 0, 0], ...], "output_layers": [["dense", 0, 0], ...],
     "input_keys": null or [...], "output_keys": null or [...], "inputs_nested": null for one tensor, else the nesting as
     lists of nulls, "outputs_nested": the same}

A tensor is named [layer name, node index (the layer's n-th call in this model), output index],
as Keras names it. Rebuilding replays the calls: a node runs once every tensor it takes exists.
"""
from bptt.layers import InputLayer, deserialize, serialize
from bptt.layers import symbolic


def functional_config(model):
    node_index = {}  # id(node) -> (layer name, index of the node among the layer's calls)
    per_layer = {}
    for node in model._nodes:
        calls = per_layer.setdefault(id(node.layer), [])
        node_index[id(node)] = (node.layer.name, len(calls))
        calls.append(node)

    def ref(tensor):
        name, index = node_index[id(tensor.node)]
        return [name, index, tensor.index]

    layers = []
    for layer in model._layer_list:
        entry = serialize(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [] if isinstance(layer, InputLayer) else [
            {"args": [ref(t) for t in node.inputs], "list": node.inputs_are_list,
             "states": [ref(t) for t in node.states]}
            for node in per_layer[id(layer)]]
        layers.append(entry)
    return {
        "name": model.name, "trainable": model.trainable, "layers": layers,
        "input_layers": [ref(t) for t in model._inputs],
        "output_layers": [ref(t) for t in model._outputs],
        "input_keys": model._input_keys, "output_keys": model._output_keys,
        "inputs_nested": model._inputs_nested, "outputs_nested": model._outputs_nested,
    }


def functional_from_config(cls, config):
    created = {}  # layer name -> list of each call's output tensors (flat)
    pending = []
    for entry in config["layers"]:
        layer = _layer_from(entry)
        if isinstance(layer, InputLayer):
            created[layer.name] = [[symbolic.input_tensor(layer)]]
        else:
            created[layer.name] = []
            pending.extend((layer, call) for call in entry["inbound_nodes"])

    def tensor(ref):
        name, index, position = ref
        calls = created.get(name, [])
        return calls[index][position] if index < len(calls) else None

    while pending:
        progress = False
        for item in list(pending):
            layer, call = item
            args = [tensor(ref) for ref in call["args"]]
            states = [tensor(ref) for ref in call["states"]]
            # a layer's calls replay in order: its n-th call waits for the (n-1)-th
            if any(t is None for t in args + states) or \
                    sum(1 for other, _ in pending[:pending.index(item)] if other is layer):
                continue
            x = args if call["list"] else args[0]
            out = layer(x, initial_state=states) if states else layer(x)
            created[layer.name].append(symbolic.flatten(out))
            pending.remove(item)
            progress = True
        if not progress:
            raise ValueError("The model config's layers cannot be connected: a layer takes a "
                             "tensor that no layer makes. The file may be damaged.")
    inputs = [tensor(ref) for ref in config["input_layers"]]
    outputs = [tensor(ref) for ref in config["output_layers"]]
    inputs = _nest(inputs, config.get("input_keys"), config.get("inputs_nested"))
    outputs = _nest(outputs, config.get("output_keys"), config.get("outputs_nested"))
    return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))


def _layer_from(entry):
    if entry["class_name"] in ("Sequential", "Functional", "Model"):
        from bptt import models

        kind = models.Sequential if entry["class_name"] == "Sequential" else models.Functional
        return kind.from_config(entry["config"])
    return deserialize(entry)


def _nest(flat, keys, nested):
    if keys is not None:
        return dict(zip(keys, flat))
    return flat[0] if nested is None else symbolic.pack(nested, list(flat))
