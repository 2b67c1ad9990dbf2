"""`model.summary()`: Keras 3's table of layers, output shapes and parameter counts.

A functional model whose graph branches (several inputs, a merge, a shared layer) gets Keras'
fourth column, "Connected to": the tensors each call took, as `layer[node][tensor]`. Cells wrap
at spaces as Keras' table does; a word wider than its column is cut with "…".
"""

# Keras' column widths (padding included) for its default 80-column output.
_WIDTHS = {3: [33, 24, 15], 4: [21, 19, 12, 19]}


def _readable_size(num_bytes):
    for unit in ("B", "KB", "MB", "GB"):
        if num_bytes < 1024 or unit == "GB":
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024


def _shape_text(shape):
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


def _shapes_text(shapes):
    if len(shapes) == 1:
        return _shape_text(shapes[0])
    return "[" + ", ".join(_shape_text(s) for s in shapes) + "]"


def _flat_shapes(shape):
    from bptt.layers.symbolic import flatten

    return flatten(shape) if isinstance(shape, list) else [shape]


def _params(layer):
    return f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"


def _label(layer):
    return f"{layer.name} ({type(layer).__name__})"


def _sequential_rows(model):
    shape = getattr(model, "_build_input_shape", None) if model.built else None
    rows = []
    for layer in model.layers:
        if shape is not None:
            shape = layer.compute_output_shape(shape)
            rows.append((_label(layer), _shapes_text(_flat_shapes(shape)), _params(layer)))
        else:
            rows.append((_label(layer), "?", "0 (unbuilt)"))
    return rows


def _connections(model, layer):
    parts = []
    for node in model._nodes:
        if node.layer is not layer:
            continue
        for tensor in node.inputs + node.states:
            producer = tensor.node.layer
            parts.append(f"{producer.name}[{producer._inbound_nodes.index(tensor.node)}]"
                         f"[{tensor.index}]")
    return ", ".join(parts) or "-"


def _functional_rows(model, connected):
    rows = []
    for layer in model.layers:
        nodes = [node for node in model._nodes if node.layer is layer]
        shapes = [t.shape for t in nodes[-1].outputs] if nodes else None
        row = [_label(layer), _shapes_text(shapes) if shapes else "?", _params(layer)]
        if connected:
            row.append(_connections(model, layer))
        rows.append(tuple(row))
    return rows


def _wrap(text, width):
    """Greedy word wrap at spaces; a word wider than `width` is cut with an ellipsis."""
    lines, line = [], ""
    for word in text.split(" "):
        if len(word) > width:
            word = word[:width - 1] + "…"
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return lines


def summary_text(model, line_length=None):
    connected = hasattr(model, "_nodes") and not model._sequential_like()
    rows = _functional_rows(model, connected) if hasattr(model, "_nodes") \
        else _sequential_rows(model)
    header = ("Layer (type)", "Output Shape", "Param #", "Connected to")[:4 if connected else 3]
    widths = list(_WIDTHS[len(header)])
    if line_length:
        scale = line_length / (sum(widths) + len(widths) + 1)
        widths = [max(int(w * scale), 8) for w in widths]
    right = {2}  # Param # is right-aligned

    def line(left, fill, middle, end):
        return left + middle.join(fill * w for w in widths) + end

    def cells(values, edge):
        wrapped = [_wrap(value, w - 2) for value, w in zip(values, widths)]
        height = max(len(lines) for lines in wrapped)
        out = []
        for i in range(height):
            parts = []
            for column, (lines, w) in enumerate(zip(wrapped, widths)):
                text = lines[i] if i < len(lines) else ""
                parts.append(f" {text:>{w - 2}} " if column in right else f" {text:<{w - 2}} ")
            out.append(edge + edge.join(parts) + edge)
        return out

    out = [f'Model: "{model.name}"', line("┏", "━", "┳", "┓"), *cells(header, "┃"),
           line("┡", "━", "╇", "┩")]
    for index, row in enumerate(rows):
        if index:
            out.append(line("├", "─", "┼", "┤"))
        out.extend(cells(row, "│"))
    out.append(line("└", "─", "┴", "┘"))
    trainable = sum(w.size for w in model.trainable_weights)
    total = model.count_params()
    bytes_per = 4 if all(w.dtype.itemsize == 4 for w in model.weights) else 8
    out.append(f" Total params: {total:,} ({_readable_size(total * bytes_per)})")
    out.append(f" Trainable params: {trainable:,} ({_readable_size(trainable * bytes_per)})")
    out.append(f" Non-trainable params: {total - trainable:,} "
               f"({_readable_size((total - trainable) * bytes_per)})")
    optimizer_params = getattr(model.optimizer, "num_state_values", None) \
        if model.optimizer is not None else None
    if callable(optimizer_params) and optimizer_params():
        count = optimizer_params()
        out.append(f" Optimizer params: {count:,} ({_readable_size(count * bytes_per)})")
    return "\n".join(out)
