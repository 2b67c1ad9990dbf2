"""`model.summary()`: Keras 3's table of layers, output shapes and parameter counts."""


def _readable_size(num_bytes):
    for unit in ("B", "KB", "MB", "GB"):
        if num_bytes < 1024 or unit == "GB":
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024


def _shape_text(shape):
    if isinstance(shape, list):
        return ", ".join(_shape_text(s) for s in shape)
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _rows(model):
    shape = getattr(model, "_build_input_shape", None) if model.built else None
    rows = []
    for layer in model.layers:
        label = f"{layer.name} ({type(layer).__name__})"
        if shape is not None:
            shape = layer.compute_output_shape(shape)
            rows.append((label, _shape_text(shape), f"{layer.count_params():,}"))
        else:
            rows.append((label, "?", "0 (unbuilt)"))
    return rows


def summary_text(model, line_length=None):
    widths = [33, 24, 15]
    if line_length:
        scale = line_length / (sum(widths) + 4)
        widths = [max(int(w * scale), 8) for w in widths]
    rows = _rows(model)
    for label, shape, params in rows:  # widen columns that would overflow
        widths = [max(w, len(cell) + 2) for w, cell in zip(widths, (label, shape, params))]

    def line(left, fill, middle, right):
        return left + middle.join(fill * w for w in widths) + right

    def cells(values, edge):
        parts = [f" {values[0]:<{widths[0] - 2}} ", f" {values[1]:<{widths[1] - 2}} ",
                 f" {values[2]:>{widths[2] - 2}} "]
        return edge + edge.join(parts) + edge

    out = [f'Model: "{model.name}"', line("┏", "━", "┳", "┓"),
           cells(("Layer (type)", "Output Shape", "Param #"), "┃"), line("┡", "━", "╇", "┩")]
    for index, row in enumerate(rows):
        if index:
            out.append(line("├", "─", "┼", "┤"))
        out.append(cells(row, "│"))
    out.append(line("└", "─", "┴", "┘"))
    trainable = sum(l.count_params() for l in model.layers if l.trainable and model.trainable)
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
