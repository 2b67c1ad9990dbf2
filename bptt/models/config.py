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
import heapq

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
    """Replay the calls of the config: each runs once the tensors it takes exist and the
    layer's earlier calls have run.

    The order is that of passes over the file's list of calls, each pass running every call
    that is ready when it is reached (so layers are built, and draw their initial weights, in
    that order). Each call counts what it still waits for and carries the pass it will run in,
    so the replay takes time in proportion to the calls, in whatever order the file lists them.
    """
    created = {}  # layer name -> list of each call's output tensors (flat)
    calls = []  # (layer, its n-th call, that call's entry), in the file's order
    for entry in config["layers"]:
        layer = _layer_from(entry)
        if layer.name in created:
            raise ValueError(f"The model config has two layers named {layer.name!r}.")
        if isinstance(layer, InputLayer):
            created[layer.name] = [[symbolic.input_tensor(layer)]]
        else:
            created[layer.name] = []
            calls.extend((layer, n, call) for n, call in enumerate(entry["inbound_nodes"]))

    def tensor(ref):
        name, index, position = ref
        outputs = created.get(name, [])
        if index >= len(outputs):
            return None
        if not 0 <= position < len(outputs[index]):
            raise ValueError(f"The model config refers to output {position} of layer {name!r}'s "
                             f"call {index}, which has {len(outputs[index])} outputs.")
        return outputs[index][position]

    number_of = {(layer.name, n): number for number, (layer, n, _) in enumerate(calls)}
    waiting_on = {}  # call number -> the calls that wait for it
    missing = []  # per call: how many of the calls it waits for have not run
    run_in_pass = [0] * len(calls)
    ready = []  # heap of (pass, call number)
    for number, (layer, n, call) in enumerate(calls):
        needs = {(ref[0], ref[1]) for ref in call["args"] + call["states"]
                 if tensor(ref) is None}
        if n:
            needs.add((layer.name, n - 1))  # a layer's calls replay in order
        if any(need not in number_of for need in needs):
            raise ValueError("The model config's layers cannot be connected: a layer takes a "
                             "tensor that no layer makes. The file may be damaged.")
        for need in needs:
            waiting_on.setdefault(number_of[need], []).append(number)
        missing.append(len(needs))
        if not needs:
            heapq.heappush(ready, (0, number))
    ran = 0
    while ready:
        _, number = heapq.heappop(ready)
        layer, n, call = calls[number]
        args = [tensor(ref) for ref in call["args"]]
        states = [tensor(ref) for ref in call["states"]]
        ran += 1
        x = args if call["list"] else args[0]
        out = layer(x, initial_state=states) if states else layer(x)
        created[layer.name].append(symbolic.flatten(out))
        for waiter in waiting_on.pop(number, []):
            # a call listed after this one runs in the same pass, one listed before in the next
            later = run_in_pass[number] + (0 if waiter > number else 1)
            run_in_pass[waiter] = max(run_in_pass[waiter], later)
            missing[waiter] -= 1
            if not missing[waiter]:
                heapq.heappush(ready, (run_in_pass[waiter], waiter))
    if ran < len(calls):
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
