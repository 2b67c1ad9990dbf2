"""Long-range memory, measured: how far back SimpleRNN, LSTM and GRU learn, and the gradient
that reaches each step.

Two synthetic tasks whose answer depends on inputs far in the past, and nothing else:

  adding   (Hochreiter & Schmidhuber 1997; the variant of Le et al. 2015 and Arjovsky et al.
           2016) T steps of two features: a value drawn from U(0, 1) and a marker, 1 at exactly
           two steps (one in the first half, one in the second) and 0 elsewhere. The target is
           the sum of the two marked values; the loss is the mean squared error. Predicting
           1.0 (the sum's mean) whatever the input scores Var(U1 + U2) = 2/12 = 0.1667: the
           trivial baseline. The lag is T: the first marked value must be held >= T/2 steps.
  copy     (Arjovsky, Shah & Bengio 2016) S symbols out of K categories, then lag - 1 blanks, a
           delimiter, and S more blanks during which the model must output the S symbols in
           order; it outputs "blank" at every other step (T_total = lag + 2S steps, a softmax
           at every step, categorical cross-entropy averaged over all of them). A model with no
           memory of the symbols can at best output blank with certainty until the delimiter
           and then a uniform guess over the K categories: S * log(K) / T_total, the baseline.

For each cell and lag the same model (one recurrent layer of --units, a Dense head) is trained
with the same budget: --steps Adam updates (learning_rate=0.01, clipnorm=1.0) of --batch fresh
sequences. clipnorm rescales each gradient array to norm <= 1: a long sequence can produce a
rare huge gradient (an exploding product of Jacobians) that one update would otherwise turn
into a wrecked model; below the threshold it changes nothing. The learning rate is ten times
Keras' default because the budget is small: the adding problem sits on the baseline's plateau
for hundreds of updates before it drops.
The test error is measured on --test held-out sequences. A cell "learns" a lag when its test
error is under 10% of the baseline's.

Then bptt.diagnostics.gradient_flow reads, from the real backward pass on the adding task, the
mean |dL/dh_t| at each step (and |dL/dc_t| for the LSTM), at initialisation and after
training, against the distance from the loss (the loss is at the last step). For SimpleRNN it
prints the measured per-step ratio of gradient norms and the spectral norm of the recurrent
kernel (Pascanu et al. 2013: the gradient shrinks at least as fast as (||W|| * max tanh')^d).

    python examples/long_range.py                 # the full experiment (about 25 min, 2 cores)
    python examples/long_range.py --quick         # tiny lags, a few updates: a check it runs
    python examples/long_range.py --out docs/images

The pictures need matplotlib (pip install 'bptt[plot]'); without it the table is still
printed. The last line printed is `RESULT adding_learned=... copy_learned=... ...`.
"""
import argparse
import math
import os
import time

import numpy as np

from bptt import diagnostics, layers, models, optimizers
from bptt.utils import set_random_seed

CELLS = {"SimpleRNN": layers.SimpleRNN, "LSTM": layers.LSTM, "GRU": layers.GRU}
TASKS = ("adding", "copy")
LEARNED = 0.1  # a cell learns a lag when its test error is under 10% of the baseline's
BLANK = 0  # copy task ids: 0 blank, 1..K the symbols, K + 1 the delimiter
ADDING_BASELINE = 2 / 12  # MSE of predicting 1.0: the variance of the sum of two U(0, 1)


# --- the tasks ---------------------------------------------------------------------------------

def adding_problem(n, steps, seed=None):
    """n sequences of the adding problem: x (n, steps, 2) float32, the value then the marker
    of each step; y (n, 1) float32, the sum of the two marked values."""
    if steps < 2:
        raise ValueError(f"the adding problem marks two steps, so it needs steps >= 2; got "
                         f"{steps}.")
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, (n, steps))  # (n, T)
    rows, half = np.arange(n), steps // 2
    first = rng.integers(0, half, n)  # one marked step in the first half
    second = rng.integers(half, steps, n)  # one in the second
    markers = np.zeros((n, steps))
    markers[rows, first] = markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1).astype(np.float32)  # (n, T, 2)
    y = (values[rows, first] + values[rows, second])[:, None].astype(np.float32)  # (n, 1)
    return x, y


def copy_task(n, lag, symbols=5, categories=8, seed=None):
    """n sequences of the copy task, T = lag + 2 * symbols steps: x (n, T, categories + 2)
    float32, one-hot ids (0 blank, 1..categories a symbol, categories + 1 the delimiter);
    y (n, T) int64, the id to output at each step (blank, then the symbols at the last
    `symbols` steps)."""
    if lag < 1 or symbols < 1 or categories < 2:
        raise ValueError(f"the copy task needs lag >= 1, symbols >= 1 and categories >= 2; got "
                         f"lag={lag}, symbols={symbols}, categories={categories}.")
    rng = np.random.default_rng(seed)
    steps = lag + 2 * symbols
    drawn = rng.integers(1, categories + 1, (n, symbols))  # (n, S)
    ids = np.full((n, steps), BLANK)
    ids[:, :symbols] = drawn
    ids[:, symbols + lag - 1] = categories + 1  # the delimiter: "now write them out"
    y = np.full((n, steps), BLANK, dtype=np.int64)
    y[:, -symbols:] = drawn
    x = np.eye(categories + 2, dtype=np.float32)[ids]  # (n, T, K + 2)
    return x, y


def copy_baseline(lag, symbols=5, categories=8):
    """The memoryless cross-entropy per step: S * log(K) / (lag + 2S)."""
    return symbols * math.log(categories) / (lag + 2 * symbols)


def baseline(task, lag, symbols, categories):
    return ADDING_BASELINE if task == "adding" else copy_baseline(lag, symbols, categories)


def data(task, n, lag, symbols, categories, seed):
    if task == "adding":
        return adding_problem(n, lag, seed)
    return copy_task(n, lag, symbols, categories, seed)


def batches(task, lag, batch, symbols, categories, seed):
    """Fresh training batches for ever, as a Python generator for fit."""
    rng = np.random.default_rng(seed)
    while True:
        yield data(task, batch, lag, symbols, categories, rng)


# --- the models --------------------------------------------------------------------------------

def build(cell, task, steps, units, learning_rate, symbols, categories):
    if task == "adding":
        model = models.Sequential([layers.Input((steps, 2)), CELLS[cell](units),
                                   layers.Dense(1)])
        loss = "mse"
    else:
        model = models.Sequential([layers.Input((steps, categories + 2)),
                                   CELLS[cell](units, return_sequences=True),
                                   layers.Dense(categories + 1, activation="softmax")])
        loss = "sparse_categorical_crossentropy"
    model.compile(optimizer=optimizers.Adam(learning_rate=learning_rate, clipnorm=1.0),
                  loss=loss)
    return model


def recalled(model, x, y, symbols):
    """The fraction of the copy task's symbols output right (argmax at the last S steps)."""
    predicted = model.predict(x, verbose=0)[:, -symbols:].argmax(axis=-1)
    return float((predicted == y[:, -symbols:]).mean())


def flow_of(model, x, y):
    """{"h": (T,), "c": (T,) for an LSTM} for the model's one recurrent layer, and the
    spectral norm of its recurrent kernel (all gate blocks together)."""
    (per_state,) = diagnostics.gradient_flow(model, x, y).values()
    recurrent = model.layers[0]
    kernel = recurrent.params["recurrent_kernel"]
    return {k: v for k, v in per_state.items() if k != "x"}, float(np.linalg.norm(kernel, 2))


def step_ratio(norms, span=50):
    """The geometric mean of |dL/dh_{t-1}| / |dL/dh_t| over the `span` steps nearest the loss:
    exp of the least-squares slope of log |dL/dh| against the distance (zeros left out)."""
    by_distance = np.asarray(norms, dtype=np.float64)[::-1][:span + 1]  # distance 0..span
    distance = np.arange(len(by_distance))
    usable = by_distance > 0
    if usable.sum() < 2:
        return float("nan")
    return float(np.exp(np.polyfit(distance[usable], np.log(by_distance[usable]), 1)[0]))


# --- the run -----------------------------------------------------------------------------------

def run(lags, steps, batch, units, learning_rate, test, symbols, categories, seed, say=print):
    """Train every cell on every task and lag. Returns a list of dicts, one per run."""
    results = []
    for task in TASKS:
        for lag in lags:
            x_test, y_test = data(task, test, lag, symbols, categories, seed + 1)
            floor = baseline(task, lag, symbols, categories)
            for cell in CELLS:
                set_random_seed(seed)
                length = x_test.shape[1]
                model = build(cell, task, length, units, learning_rate, symbols, categories)
                result = dict(task=task, lag=lag, cell=cell, baseline=floor)
                if task == "adding":
                    result["flow_init"], result["norm_init"] = flow_of(model, x_test[:64],
                                                                       y_test[:64])
                start = time.perf_counter()
                model.fit(batches(task, lag, batch, symbols, categories, seed + 2),
                          steps_per_epoch=steps, epochs=1, verbose=0)
                result["seconds"] = time.perf_counter() - start
                result["error"] = float(model.evaluate(x_test, y_test, verbose=0,
                                                       batch_size=256))
                result["learned"] = result["error"] < LEARNED * floor
                if task == "adding":
                    result["flow_trained"], result["norm_trained"] = flow_of(
                        model, x_test[:64], y_test[:64])
                else:
                    result["recalled"] = recalled(model, x_test, y_test, symbols)
                    result["cost"] = diagnostics.cost(model, length, batch)
                results.append(result)
                extra = (f", symbols recalled {result['recalled']:.0%}" if task == "copy"
                         else "")
                say(f"  {task:<6} lag {lag:>5}  {cell:<9}  test {result['error']:.4f} "
                    f"(baseline {floor:.4f}, {result['error'] / floor:6.1%}){extra}  "
                    f"{'learned' if result['learned'] else '-':<7}  {result['seconds']:.0f} s",
                    flush=True)
    return results


def table(results, lags):
    lines = []
    for task in TASKS:
        head = f"{task} ({'MSE' if task == 'adding' else 'cross-entropy per step'})"
        lines.append(f"\n{head}: test error, and its ratio to the baseline "
                     f"(* = learned: under {LEARNED:.0%} of the baseline)")
        lines.append(f"{'lag':>6} {'baseline':>9}" + "".join(f"{cell:>20}" for cell in CELLS))
        for lag in lags:
            rows = [r for r in results if r["task"] == task and r["lag"] == lag]
            cells = "".join(f"{r['error']:>10.4f} {r['error'] / r['baseline']:>7.1%}"
                            f"{'*' if r['learned'] else ' '}" for r in rows)
            lines.append(f"{lag:>6} {rows[0]['baseline']:>9.4f}{cells}")
        if task == "copy":
            lines.append(f"{'':>16}" + "".join(f"{'recalled':>20}" for _ in CELLS))
            for lag in lags:
                rows = [r for r in results if r["task"] == task and r["lag"] == lag]
                lines.append(f"{lag:>6}{'':>10}" + "".join(f"{r['recalled']:>20.1%}"
                                                            for r in rows))
    return "\n".join(lines)


def longest_learned(results, task, cell):
    lags = [r["lag"] for r in results if r["task"] == task and r["cell"] == cell and r["learned"]]
    return max(lags) if lags else 0


def gradient_report(results, lags):
    lines = ["\nGradient through time on the adding task (64 test sequences): mean |dL/dh_t| "
             "at distance d from the loss, relative to d = 0"]
    shown = sorted({min(d, lags[-1] - 1) for d in (1, 10, 30, 100, 300, 999)})
    lines.append(f"{'lag':>6} {'cell':<10} {'':<8}" + "".join(f"{'d=' + str(d):>10}"
                                                              for d in shown))
    for lag in lags:
        for r in (r for r in results if r["task"] == "adding" and r["lag"] == lag):
            for when in ("init", "trained"):
                norms = r[f"flow_{when}"]["h"][::-1]  # by distance from the loss
                lines.append(f"{lag:>6} {r['cell']:<10} {when:<8}" + "".join(
                    f"{norms[d] / norms[0]:>10.1e}" if d < lag else f"{'':>10}"
                    for d in shown))
    lines.append("\nPer-step ratio of the gradient norm going back one step (geometric mean over "
                 "the 50 steps nearest the loss; its 50th power in brackets), at init and "
                 "trained; for SimpleRNN also ||U||_2, the recurrent kernel's spectral norm "
                 "(Pascanu et al. 2013)")
    for r in (r for r in results if r["task"] == "adding"):
        for state in r["flow_init"]:
            init, trained = (step_ratio(r[f"flow_{w}"][state]) for w in ("init", "trained"))
            norms = (f"   ||U|| {r['norm_init']:.2f} -> {r['norm_trained']:.2f}"
                     if r["cell"] == "SimpleRNN" else "")
            lines.append(f"  lag {r['lag']:>5} {r['cell']:<9} dL/d{state}: init {init:.3f} "
                         f"({init ** 50:.0e}), trained {trained:.3f} ({trained ** 50:.0e})"
                         f"{norms}")
    lines.append(f"  (the tutorial's fixed factor 0.1 would give 0.1^50 = {0.1 ** 50:.0e})")
    return "\n".join(lines)


# --- the pictures ------------------------------------------------------------------------------

def pyplot():
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


COLOURS = {"SimpleRNN": "tab:red", "LSTM": "tab:blue", "GRU": "tab:green"}


def plot_errors(plt, results, lags, path, title):
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, task in zip(axes, TASKS):
        for cell in CELLS:
            rows = [r for r in results if r["task"] == task and r["cell"] == cell]
            ax.plot([r["lag"] for r in rows], [r["error"] for r in rows], "o-",
                    color=COLOURS[cell], label=cell)
        floors = [baseline(task, lag, *SHAPE) for lag in lags]
        ax.plot(lags, floors, "k--", linewidth=1, label="baseline (no memory)")
        ax.plot(lags, [LEARNED * f for f in floors], "k:", linewidth=1,
                label=f"{LEARNED:.0%} of the baseline")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("lag (steps the answer must be remembered)")
        ax.set_ylabel("test MSE" if task == "adding" else "test cross-entropy per step")
        ax.set_title("adding problem" if task == "adding" else
                     f"copy task ({SHAPE[0]} symbols of {SHAPE[1]})")
        ax.legend(fontsize=8)
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def plot_gradients(plt, results, lags, path, title):
    shown = sorted({lags[len(lags) // 2], lags[-1]})
    figure, axes = plt.subplots(len(shown), len(CELLS), figsize=(12, 3.4 * len(shown)),
                                squeeze=False, sharey="row")
    for row, lag in zip(axes, shown):
        for ax, cell in zip(row, CELLS):
            r = next(r for r in results if r["task"] == "adding" and r["lag"] == lag
                     and r["cell"] == cell)
            for when, style in (("init", "--"), ("trained", "-")):
                for state, colour in (("h", COLOURS[cell]), ("c", "tab:purple")):
                    if state not in r[f"flow_{when}"]:
                        continue
                    norms = r[f"flow_{when}"][state][::-1]  # by distance from the loss
                    shown_norms = np.where(norms > 0, norms, np.nan)  # a zero has no log
                    ax.plot(np.arange(lag), shown_norms, style, color=colour, linewidth=1.2,
                            label=f"|dL/d{state}_t| {when}")
            ax.set_yscale("log")
            ax.set_title(f"{cell}, adding, lag {lag}: test MSE {r['error']:.3f}", fontsize=9)
            ax.set_xlabel("distance from the loss (steps back)")
            ax.legend(fontsize=7)
        row[0].set_ylabel("mean gradient norm")
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


SHAPE = (5, 8)  # the copy task's (symbols, categories); main() sets them from the flags


def main(argv=None):
    global SHAPE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lags", type=int, nargs="+", default=[10, 30, 100, 300, 1000])
    parser.add_argument("--steps", type=int, default=1500, help="Adam updates per run")
    parser.add_argument("--batch", type=int, default=32, help="sequences per update")
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--test", type=int, default=512, help="held-out sequences per run")
    parser.add_argument("--symbols", type=int, default=5, help="copy task: symbols to copy")
    parser.add_argument("--categories", type=int, default=8, help="copy task: K")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="docs/images", help="folder of the two PNGs")
    parser.add_argument("--quick", action="store_true", help="tiny lags, a few updates")
    args = parser.parse_args(argv)
    if args.quick:
        args.lags, args.steps, args.batch, args.units, args.test = [4, 8], 10, 16, 8, 64
    SHAPE = (args.symbols, args.categories)
    lags = sorted(args.lags)
    settings = (f"{args.units} units, {args.steps} Adam updates (learning rate "
                f"{args.learning_rate:g}, clipnorm 1.0) of {args.batch} fresh sequences, "
                f"{args.test} test sequences, seed {args.seed}")
    print(f"Long-range memory: SimpleRNN, LSTM and GRU on the adding problem and the copy task "
          f"({args.symbols} symbols of {args.categories}) at lags {lags}; {settings}.",
          flush=True)
    start = time.perf_counter()
    results = run(lags, args.steps, args.batch, args.units, args.learning_rate, args.test,
                  args.symbols, args.categories, args.seed)
    print(table(results, lags))
    print(gradient_report(results, lags))
    lstm, gru = (next(r["cost"] for r in results if r["cell"] == c and "cost" in r)
                 for c in ("LSTM", "GRU"))
    lstm_weights, gru_weights = lstm.layers[0].weights, gru.layers[0].weights
    features = args.categories + 2
    print(f"\nWeights of the recurrent layer (copy task, {features} input features, "
          f"{args.units} units; diagnostics.cost): LSTM {lstm_weights:,}, GRU {gru_weights:,} "
          f"({1 - gru_weights / lstm_weights:.1%} fewer; the kernels alone, "
          f"3(D + H)H against 4(D + H)H, exactly 25% fewer; Keras' GRU has two bias rows).")
    seconds = time.perf_counter() - start
    plt = pyplot()
    if plt is None:
        print("No pictures: they need matplotlib (pip install 'bptt[plot]').")
    else:
        os.makedirs(args.out, exist_ok=True)
        title = f"{settings}; {'--quick run' if args.quick else 'full run'}"
        errors_png = os.path.join(args.out, "long_range_error.png")
        gradient_png = os.path.join(args.out, "long_range_gradient.png")
        plot_errors(plt, results, lags, errors_png, title)
        plot_gradients(plt, results, lags, gradient_png, title)
        print(f"saved {errors_png} and {gradient_png}")
    learned = {task: ",".join(f"{cell}:{longest_learned(results, task, cell)}" for cell in CELLS)
               for task in TASKS}
    rnn, lstm_run = ([r for r in results if r["task"] == "adding" and r["cell"] == cell]
                     for cell in ("SimpleRNN", "LSTM"))
    print(f"RESULT adding_learned={learned['adding']} copy_learned={learned['copy']} "
          f"rnn_step_ratio_init={step_ratio(rnn[-1]['flow_init']['h']):.3f} "
          f"rnn_step_ratio_trained={step_ratio(rnn[-1]['flow_trained']['h']):.3f} "
          f"lstm_c_ratio_init={step_ratio(lstm_run[-1]['flow_init']['c']):.3f} "
          f"gru_fewer_weights={1 - gru_weights / lstm_weights:.3f} lags={max(lags)} "
          f"steps={args.steps} batch={args.batch} units={args.units} seconds={seconds:.0f}")


if __name__ == "__main__":
    main()
