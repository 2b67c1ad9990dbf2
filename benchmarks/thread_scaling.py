"""How bptt and PyTorch scale with threads: training at batch 128 and predicting 5,000 reviews
at 1, 2, 4, ... threads up to the cores this run may use (and that count itself), each
framework told its thread count in the same worker (bptt.config.set_num_threads,
torch.set_num_threads), the frameworks and counts interleaved repetition by repetition.
"""


def counts(cores):
    """1, 2, 4, ... below `cores`, then `cores`."""
    out, n = [], 1
    while n < cores:
        out.append(n)
        n *= 2
    return out + [cores]


def run(pool, cores, settings, interleaved, summary, log=print):
    """{"counts": [...], "rows": {"train_b128" | "predict_5k": {n: {framework: summary}}}}."""
    reps = settings["reps"]
    out = {"counts": counts(cores), "rows": {}}
    for key, cmd in (("train_b128", "train"), ("predict_5k", "predict")):
        out["rows"][key] = {}
        for n in out["counts"]:
            values, foreign = interleaved(pool, cmd, reps, dict(settings[key], threads=n))
            row = {name: dict(summary(ms), foreign_cores=foreign[name])
                   for name, ms in values.items() if ms}
            out["rows"][key][n] = row
            log(f"  {key} at {n:2d} threads: " + "  ".join(
                f"{name} {value['median']:.1f} ms" for name, value in row.items()))
    return out


def markdown(scaling):
    """One table: per thread count, the median ms of each framework and bptt / PyTorch."""
    lines = ["| threads | training step, batch 128: bptt / PyTorch (ms) | ratio | "
             "predict 5,000: bptt / PyTorch (ms) | ratio |", "|---|---|---|---|---|"]
    for n in scaling["counts"]:
        cells = [str(n)]
        for key in ("train_b128", "predict_5k"):
            row = scaling["rows"][key].get(n, {})
            b, t = row.get("bptt", {}).get("median"), row.get("torch", {}).get("median")
            cells.append(f"{b:.1f} / {t:.1f}" if b and t else "—")
            cells.append(f"{b / t:.2f}x" if b and t else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
