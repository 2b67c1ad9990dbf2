"""How one LSTM layer's forward + backward scales with T and H: bptt against PyTorch, in GFLOP/s
and as a share of the machine's float32 GEMM peak.

Letters: B batch, T time, D input features, H units.

The cell: B = 32, D = H (a layer stacked on one of the same width), return_sequences=True,
forward then backward of dy (B, T, H) giving dx and every weight gradient.
    bptt:  layers.LSTM(H).forward(x, training=True) + .backward(dy)   (projection GEMM, the
           fused time loop, the projection's backward: what a Sequential model runs)
    torch: nn.LSTM(D, H, batch_first=True)(x) + .backward(dy), x.requires_grad
Both are counted with the same nominal FLOPs, the GEMMs only:
    forward  2 T B (D + H) 4H      (x @ kernel, then h @ recurrent_kernel at each step)
    backward 2 x forward           (dx and dkernel; dh and drecurrent_kernel)
    total    24 T B H (D + H)
The peak is NumPy's float32 (2048, 2048) @ (2048, 2048), best of several, in the bptt worker at
NumPy's default threads (PyTorch's torch.mm on the same sizes is reported beside it).

The tables give each cell's best repetition (the JSON keeps every one, and the medians): on a
shared 2-core machine a multi-threaded loop that loses a core for a moment stalls at every
barrier, and small cells are short enough that this shows in single repetitions.
"""
T_GRID = (25, 50, 100, 200, 400)
H_GRID = (32, 64, 128, 256, 512)
BATCH = 32


def flops(T, B, D, H):
    return 24.0 * T * B * H * (D + H)


def run(workers, referee, t_grid=T_GRID, h_grid=H_GRID, reps=3, min_seconds=0.2, log=print):
    """{"cells": [...], "peak": {...}}; the frameworks interleaved cell by cell, rep by rep;
    referee (benchmarks.contention.Referee) retries a repetition disturbed by other programs."""
    peak = {name: referee.measure(lambda w=w: w.request("matmul_peak", n=2048, repeats=20),
                                  [w.pid])[0]
            for name, w in workers.items()}
    names = list(workers)
    cells = []
    for H in h_grid:
        for T in t_grid:
            D = H
            times = {name: [] for name in names}
            foreign = {name: [] for name in names}
            for rep in range(reps):
                order = names[rep % len(names):] + names[:rep % len(names)]
                for name in order:
                    w = workers[name]
                    answer, watch = referee.measure(
                        lambda: w.request("lstm", T=T, B=BATCH, D=D, H=H, min_seconds=min_seconds),
                        [w.pid])
                    times[name].append(answer["ms"])
                    foreign[name].append(watch["foreign_cores"])
            cell = {"T": T, "H": H, "D": D, "B": BATCH, "gflop": flops(T, BATCH, D, H) / 1e9}
            for name in names:
                best, median = min(times[name]), sorted(times[name])[len(times[name]) // 2]
                cell[name] = {"ms_min": best, "ms_median": median, "ms_reps": times[name],
                              "gflops": cell["gflop"] / (best / 1e3),
                              "gflops_median": cell["gflop"] / (median / 1e3),
                              "foreign_cores": foreign[name]}
            if "bptt" in cell and "torch" in cell:
                cell["ratio_bptt_torch"] = cell["bptt"]["ms_min"] / cell["torch"]["ms_min"]
                cell["ratio_bptt_torch_median"] = (cell["bptt"]["ms_median"]
                                                   / cell["torch"]["ms_median"])
            log(f"  H={H:3d} T={T:3d}: " + "  ".join(
                f"{n} {cell[n]['ms_min']:8.2f} ms {cell[n]['gflops']:6.1f} GF/s" for n in names))
            cells.append(cell)
    return {"cells": cells, "peak": peak, "batch": BATCH, "D": "H", "reps": reps,
            "min_seconds_per_rep": min_seconds, "disturbed_over_cores": referee.threshold}


def markdown(scaling):
    """Two tables: GFLOP/s (bptt / PyTorch, % of peak) and the time ratio bptt / PyTorch."""
    peak = scaling["peak"]["bptt"]["gflops"]
    cells = {(c["T"], c["H"]): c for c in scaling["cells"]}
    ts = sorted({t for t, _ in cells})
    hs = sorted({h for _, h in cells})
    torch_peak = scaling["peak"].get("torch")
    lines = [f"LSTM layer forward + backward, B = {scaling['batch']}, D = H, float32; "
             f"GEMM peak {peak:.0f} GFLOP/s (NumPy 2048^3"
             + (f"; torch.mm {torch_peak['gflops']:.0f}" if torch_peak else "") + ").",
             "",
             "GFLOP/s at the best repetition, bptt / PyTorch (bptt's % of peak):",
             "",
             "| H \\ T | " + " | ".join(str(t) for t in ts) + " |",
             "|---|" + "---|" * len(ts)]
    for h in hs:
        row = []
        for t in ts:
            c = cells[(t, h)]
            b, p = c["bptt"]["gflops"], c.get("torch", {}).get("gflops")
            text = (f"{b:.1f} / {p:.1f} ({100 * b / peak:.0f}%)" if p is not None
                    else f"{b:.1f} ({100 * b / peak:.0f}%)")
            foreign = [f for n in ("bptt", "torch") for f in c.get(n, {}).get("foreign_cores", [])]
            if any(f is not None and f > scaling["disturbed_over_cores"] for f in foreign):
                text += " †"  # a repetition ran while other programs used the CPUs
            row.append(text)
        lines.append(f"| {h} | " + " | ".join(row) + " |")
    if all("ratio_bptt_torch" in c for c in cells.values()):
        lines += ["", "time ratio bptt / PyTorch, best repetitions (< 1: bptt faster):", "",
                  "| H \\ T | " + " | ".join(str(t) for t in ts) + " |", "|---|" + "---|" * len(ts)]
        for h in hs:
            lines.append(f"| {h} | " + " | ".join(f"{cells[(t, h)]['ratio_bptt_torch']:.2f}"
                                                  for t in ts) + " |")
    return "\n".join(lines)
