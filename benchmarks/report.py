"""The numbers into rows: medians, ratios to PyTorch, targets, the markdown table, the JSON.

A row is {"values": {framework: {"median", "min", "max", "reps", "text", ...}},
"ratios": {"bptt/torch": ..., "keras-tf/torch": ...}, "target": bptt/PyTorch target or None,
"meets_target": bool}; ratios are of medians.
"""
import json
import os
import statistics

LABELS = {"bptt": "bptt", "torch": "PyTorch", "keras-tf": "Keras/TF", "keras-jax": "Keras/JAX"}

# key, label, unit, bptt/PyTorch target (None: no target)
ROWS = [
    ("train_b32", "training step, batch 32", "ms/step", 0.6),
    ("train_b128", "training step, batch 128", "ms/step", 0.9),
    ("latency_b1", "one review, batch 1", "ms", 0.3),
    ("latency_spaced", "one review every 20 ms, median call", "ms", None),
    ("predict_5k", "predict 5,000 reviews, batch 1000", "ms", 1.0),
    ("peak_rss", "peak RSS, 200 steps at batch 32", "MiB", 0.7),
    ("first_run", "first run: import + build + first step", "s", None),
    # The cost of skipping padding (benchmarks/run.py padding_section): 32 reviews post-padded
    # to 200 ids, the same model and batch with the padding computed and with it skipped (bptt:
    # Embedding(mask_zero=False / True); PyTorch: plain / pack_padded_sequence). The target is
    # bptt's skipped / computed, not a ratio to PyTorch.
    ("train_padded", "training step, 32 reviews post-padded to 200, padding computed", "ms/step",
     None),
    ("train_padded_skip", "the same, padding skipped: bptt mask_zero=True, PyTorch packed",
     "ms/step", None),
    ("padding_cost", "cost of skipping padding", "skipped / computed", 1.15),
]
TARGETS = {key: target for key, _, _, target in ROWS}


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "reps": values}


def fmt(value, digits=None):
    if digits is None:
        digits = 0 if value >= 100 else 1 if value >= 10 else 2
    return f"{value:.{digits}f}"


def results_table(results, columns):
    """rows x (frameworks, bptt/PyTorch, target, Keras/PyTorch): the markdown the README pastes."""
    labels = [LABELS[c] for c in columns]
    keras = [c for c in columns if c.startswith("keras")]
    head = (["", *labels, "bptt / PyTorch", "target"]
            + [f"{LABELS[k]} / PyTorch" for k in keras])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label, unit, target in ROWS:
        row = results.get(key)
        if not row:
            continue
        cells = []
        for name in columns:
            value = row["values"].get(name)
            disturbed = value is not None and value.get("contended_reps")
            cells.append("—" if value is None else value["text"] + (" †" if disturbed else ""))
        ratios = row.get("ratios", {})
        ratio = ratios.get("bptt/torch")
        cells.append("—" if ratio is None else f"{ratio:.2f}x")
        cells.append(row.get("target_text") or ("—" if target is None else f"≤ {target}x"))
        cells += ["—" if ratios.get(f"{k}/torch") is None else f"{ratios[f'{k}/torch']:.2f}x"
                  for k in keras]
        lines.append(f"| {row.get('label', label)} ({unit}) | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("median (min–max) of interleaved repetitions; ratios of medians; peak RSS is "
                 "VmHWM of one fresh process" + ("; † some repetitions ran while other programs "
                                                 "used the CPUs" if "†" in "".join(lines) else ""))
    if results.get("padding_cost"):
        lines[-1] += ("; cost of skipping padding: median (min–max) over repetitions of each "
                      "framework's skipped / computed step, the two timed back to back in one "
                      "process")
    return "\n".join(lines)


def timed_row(values, target):
    """Entries "torch (<setting>)" are PyTorch run another way (benchmarks/run.py VARIANTS): all
    of PyTorch's go to row["torch_variants"], and the fastest by median is the "torch" value
    that the ratios divide by."""
    row = {"values": {}, "ratios": {}, "target": target}
    for name, reps in values.items():
        if reps:
            s = summary(reps)
            s["text"] = f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])})"
            row["values"][name] = s
    variants = {name: row["values"].pop(name) for name in list(row["values"])
                if name.startswith("torch (")}
    if variants and "torch" in row["values"]:
        variants["torch (default threads)"] = row["values"].pop("torch")
        best = min(variants, key=lambda name: variants[name]["median"])
        row["torch_variants"] = variants
        row["values"]["torch"] = dict(variants[best], variant=best)
        row["values"]["torch"]["text"] += ", " + best[len("torch ("):-1]
    return with_ratios(row)


def with_ratios(row):
    torch = row["values"].get("torch", {}).get("median")
    for name, value in row["values"].items():
        if name != "torch" and torch:
            row["ratios"][f"{name}/torch"] = value["median"] / torch
    ratio = row["ratios"].get("bptt/torch")
    if ratio is not None and row.get("target") is not None:
        row["meets_target"] = ratio <= row["target"]
    return row


def padding_rows(values, foreign, threshold):
    """values, foreign: {framework: {"computed": [per rep], "skipped": [per rep]}}, the two modes
    of a rep timed back to back -> the rows train_padded (computed), train_padded_skip and
    padding_cost: each rep's skipped / computed, median (min-max); the target is bptt's."""
    def contended(reps):
        return sum(f is not None and f > threshold for f in reps)

    rows = {}
    for key, mode in (("train_padded", "computed"), ("train_padded_skip", "skipped")):
        row = timed_row({name: modes[mode] for name, modes in values.items()}, TARGETS[key])
        for name, value in row["values"].items():
            value["foreign_cores"] = foreign[name][mode]
            value["contended_reps"] = contended(foreign[name][mode])
        rows[key] = row
    target = TARGETS["padding_cost"]
    cost = {"values": {}, "ratios": {}, "target": target, "target_text": f"bptt ≤ {target}x"}
    for name, modes in values.items():
        pairs = [s / c for c, s in zip(modes["computed"], modes["skipped"])]
        if not pairs:
            continue
        value = summary(pairs)
        value["text"] = f"{value['median']:.2f}x ({value['min']:.2f}–{value['max']:.2f})"
        value["ratio_of_medians"] = (statistics.median(modes["skipped"])
                                     / statistics.median(modes["computed"]))
        value["contended_reps"] = contended(foreign[name]["computed"] + foreign[name]["skipped"])
        cost["values"][name] = value
    if "bptt" in cost["values"]:
        cost["meets_target"] = cost["values"]["bptt"]["median"] <= target
    rows["padding_cost"] = cost
    return rows


def first_run_row(runs, threshold):
    row = {"values": {}, "ratios": {}, "target": TARGETS["first_run"]}
    for name, kinds in runs.items():
        if name == "bptt" and not ("cold" in kinds and "cached" in kinds):
            continue
        s = summary([r["total_s"] for r in kinds["cold" if name == "bptt" else "fresh process"]])
        s["contended_reps"] = sum(r["foreign_cores"] is not None and r["foreign_cores"] > threshold
                                  for runs_of_kind in kinds.values() for r in runs_of_kind)
        s["text"] = fmt(s["median"])
        if name == "bptt":
            s["cached_median"] = statistics.median(r["total_s"] for r in kinds["cached"])
            s["text"] = f"{fmt(s['median'])} cold, {fmt(s['cached_median'])} cached"
        row["values"][name] = s
    return with_ratios(row)


def rss_row(rss, settings):
    row = {"values": {}, "ratios": {}, "target": TARGETS["peak_rss"],
           "label": f"peak RSS, {settings['steps']} steps at batch {settings['batch']}"}
    for name, r in rss.items():
        mib = r["peak_rss_kib"] / 1024
        row["values"][name] = {"median": mib, "text": f"{mib:.0f}", **r}
    return with_ratios(row)


def write(report, output_dir, quick, stamp):
    """A full run: <date>.json and latest.json; a quick one only overwrites latest-quick.json."""
    os.makedirs(output_dir, exist_ok=True)
    names = ["latest-quick.json"] if quick else [f"{stamp}.json", "latest.json"]
    for name in names:
        with open(os.path.join(output_dir, name), "w") as f:
            json.dump(report, f, indent=1, default=str)
            f.write("\n")
    return names
