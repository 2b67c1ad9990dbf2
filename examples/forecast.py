"""Forecast tomorrow's value of a real series with an LSTM (or GRU), honestly.

The protocol: the series is cut in time into train (the first 70%), validation (the next 15%)
and test (the last 15%); the scaler is fitted on the training part only; the model sees windows
of the past made by `utils.timeseries_dataset_from_array` and predicts the next value; early
stopping watches the validation loss and keeps the best epoch's weights. The test period is
touched once, at the end, and each forecast there uses only values known the day before.

The forecasts are scored on the original scale (RMSE and MAE over the test period) next to two
baselines that any model must beat to be worth its training:
  persistence   tomorrow = today;
  AR(p)         a linear autoregression on the same p past values, least squares on the
                training part (NumPy).

Daily prices (msft, sp500) are close to a random walk: today's price is nearly all one can know
about tomorrow's. A network fed price levels cannot forecast prices above those it trained on
(its hidden state is bounded, and the test period's prices were never seen), so by default
the model reads and predicts log returns, log(p[t] / p[t-1]), which look alike in every decade,
and the predicted return becomes tomorrow's price, p[t-1] * exp(r). `--target level` shows the
price-level model failing. Sunspots (yearly, about an 11-year cycle) are modelled as levels
with an 11-year window.

    python examples/forecast.py --series msft          # LSTM on log returns
    python examples/forecast.py --series msft --target level
    python examples/forecast.py --series sp500
    python examples/forecast.py --series sunspots      # LSTM, 11-year window
    python examples/forecast.py --series sunspots --cell gru --plot sun.png
    python examples/forecast.py --series msft --quick  # a small, fast run (used by the tests)

The settings (SETTINGS below) were chosen on the validation period only. The plot of forecast
against actual over the test period needs matplotlib (`pip install matplotlib`). The last line
printed is `RESULT series=NAME rmse=X persistence_rmse=Y ar_rmse=Z ...`.
"""
import argparse
import time

import numpy as np

from bptt import callbacks, layers, models, utils
from bptt.datasets import series as series_data

# The column read, what is modelled, the window (steps of the past read), the units, the batch
# size, the most epochs and the early-stopping patience. Only the validation period chose among
# settings: sunspots' 64 units and batches of 16 had the lowest validation RMSE (mean of 3
# seeds) among 16, 32 or 64 units and batches of 8, 16 or 32; the prices' settings are first
# choices, left as they were. The test period decided nothing.
SETTINGS = {
    "msft": dict(column="Close", target="returns", window=20, units=32, batch_size=64,
                 epochs=100, patience=10),
    "sp500": dict(column="Close", target="returns", window=20, units=32, batch_size=64,
                  epochs=100, patience=10),
    "sunspots": dict(column="SUNACTIVITY", target="level", window=11, units=64, batch_size=16,
                     epochs=1000, patience=100),
}
VALIDATION_FRACTION = TEST_FRACTION = 0.15


# --- the protocol, as pure functions -------------------------------------------------------

def split_points(n, validation_fraction=VALIDATION_FRACTION, test_fraction=TEST_FRACTION):
    """(train_end, validation_end) for n time steps cut in time order: train is [0, train_end),
    validation [train_end, validation_end), test [validation_end, n) (the last `test_fraction`).
    """
    train_end = int(n * (1 - validation_fraction - test_fraction))
    validation_end = int(n * (1 - test_fraction))
    if not 0 < train_end < validation_end < n:
        raise ValueError(f"a series of {n} steps is too short to cut into train, validation "
                         f"and test parts of {1 - validation_fraction - test_fraction:.0%}, "
                         f"{validation_fraction:.0%} and {test_fraction:.0%}.")
    return train_end, validation_end


class Scaler:
    """Standardise with the mean and standard deviation of the values it is fitted on (the
    training part only: the validation and test parts must not leak into the model's input)."""

    def fit(self, values):
        self.mean = float(np.mean(values))
        self.std = float(np.std(values)) or 1.0
        return self

    def transform(self, values):
        return (np.asarray(values) - self.mean) / self.std

    def inverse(self, values):
        return np.asarray(values) * self.std + self.mean


def log_returns(prices):
    """r[i] = log(p[i + 1] / p[i]): (N,) prices give (N - 1,) returns."""
    prices = np.asarray(prices, dtype=np.float64)
    return np.log(prices[1:] / prices[:-1])


def prices_from_returns(previous_prices, returns):
    """Each next price from the price before it and the (predicted) log return between them."""
    return np.asarray(previous_prices) * np.exp(returns)


def persistence(values, first, last=None):
    """Tomorrow = today: the forecasts of values[first:last] are values[first - 1:last - 1]."""
    last = len(values) if last is None else last
    return np.asarray(values)[first - 1:last - 1]


def lagged(values, p, first, last):
    """(last - first, p) rows of the p values before each of values[first:last], oldest first."""
    values = np.asarray(values)
    return np.stack([values[t - p:t] for t in range(first, last)])


def fit_autoregression(values, p, first, last):
    """Least-squares AR(p) with an intercept, fitted to predict values[first:last] (first >= p)
    from the p values before each: (p + 1,) coefficients, the intercept first."""
    design = np.hstack([np.ones((last - first, 1)), lagged(values, p, first, last)])
    coefficients, *_ = np.linalg.lstsq(design, np.asarray(values)[first:last], rcond=None)
    return coefficients


def autoregression_forecast(coefficients, values, first, last):
    """The AR forecasts of values[first:last], each from the true values before it."""
    p = len(coefficients) - 1
    return coefficients[0] + lagged(values, p, first, last) @ coefficients[1:]


def windows(values, window, first, last, batch_size, shuffle=False, seed=0):
    """(window, 1) slices of the past and the value after each, for the targets
    values[first:last], as Keras documents it: data values[:-delay], targets values[delay:]."""
    data = np.asarray(values[first - window:last - 1], dtype="float32")[:, None]  # (T, 1)
    targets = np.asarray(values[first:last], dtype="float32")
    return utils.timeseries_dataset_from_array(data, targets, sequence_length=window,
                                               batch_size=batch_size, shuffle=shuffle,
                                               seed=seed)


def errors(forecast, actual):
    """(RMSE, MAE) of a forecast."""
    difference = np.asarray(forecast) - np.asarray(actual)
    return float(np.sqrt(np.mean(difference ** 2))), float(np.mean(np.abs(difference)))


# --- the run -------------------------------------------------------------------------------

def build(cell, window, units):
    recurrent = {"lstm": layers.LSTM, "gru": layers.GRU}[cell]
    model = models.Sequential([layers.Input((window, 1)), recurrent(units), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def plot(path, dates, actual, forecasts, title):
    try:
        import matplotlib
    except ImportError:
        print("No plot: it needs matplotlib (pip install matplotlib, or pip install "
              "'bptt[plot]').")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(11, 4.5))
    axes.plot(dates, actual, color="black", linewidth=1.2, label="actual")
    for (name, values), style in zip(forecasts.items(), ["-", "--", ":"]):
        axes.plot(dates, values, style, linewidth=1, label=name)
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"Plot of the test period: {path}")


def run(name, target=None, cell="lstm", window=None, units=None, batch_size=None,
        epochs=None, patience=None, seed=0, quick=False, verbose=1):
    """Train on `name`'s training part, stop on its validation part, forecast its test part.
    Arguments left None take SETTINGS[name]. Returns a dict: "errors" ({"validation" | "test":
    {forecaster: (RMSE, MAE)}}), "test" (dates, actual and each forecaster's forecasts),
    "epochs", "best_epoch", "seconds" (the time fit took) and the settings used."""
    settings = dict(SETTINGS[name])
    target = target or settings["target"]
    window = window or settings["window"]
    epochs = epochs or (3 if quick else settings["epochs"])
    units = units or (8 if quick else settings["units"])
    batch_size = batch_size or settings["batch_size"]
    patience = settings["patience"] if patience is None else patience
    say = print if verbose else (lambda *a, **k: None)
    utils.set_random_seed(seed)

    loaded = series_data.load(name)
    values, dates = loaded.column(settings["column"]), loaded.dates
    if quick:  # the last 600 steps are enough to run every part of the protocol
        values, dates = values[-600:], dates[-600:]
    n = len(values)
    train_end, validation_end = split_points(n)
    say(f"{name} {settings['column']}: {n} steps, {dates[0]} to {dates[-1]}. Train "
        f"{dates[0]} to {dates[train_end - 1]} ({train_end}), validation to "
        f"{dates[validation_end - 1]} ({validation_end - train_end}), test to {dates[-1]} "
        f"({n - validation_end}).")

    # The modelled series z and where values[t] sits in it: z[t - shift].
    if target == "returns":
        z, shift = log_returns(values), 1
        to_values = lambda t, predicted: prices_from_returns(values[t - 1], predicted)
    else:
        z, shift = values.astype(np.float64), 0
        to_values = lambda t, predicted: predicted
    first = window + shift  # the first target with a whole window of the past before it
    scaler = Scaler().fit(z[:train_end - shift])  # the training part only
    scaled = scaler.transform(z)
    parts = {"train": (first, train_end), "validation": (train_end, validation_end),
             "test": (validation_end, n)}
    data = {part: windows(scaled, window, a - shift, b - shift, batch_size,
                          shuffle=(part == "train"), seed=seed)
            for part, (a, b) in parts.items()}
    say(f"Model: {cell.upper()}({units}) on {window} steps of "
        f"{'log returns' if target == 'returns' else 'the level'}, scaled with the training "
        f"part's mean {scaler.mean:.4g} and standard deviation {scaler.std:.4g}.")

    model = build(cell, window, units)
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                   restore_best_weights=True)
    start = time.perf_counter()
    history = model.fit(data["train"], validation_data=data["validation"], epochs=epochs,
                        callbacks=[stop], verbose=0 if not verbose else 2 if quick else 1)
    seconds = time.perf_counter() - start
    trained = len(history.history["loss"])
    best = int(np.argmin(history.history["val_loss"])) + 1
    say(f"\n{trained} epochs in {seconds:.1f} s; the weights of epoch {best} (lowest "
        "validation loss) are kept.")

    coefficients = fit_autoregression(z, window, first - shift, train_end - shift)
    result = dict(series=name, target=target, cell=cell, window=window, units=units,
                  batch_size=batch_size, patience=patience, seed=seed, epochs=trained,
                  best_epoch=best, seconds=seconds, errors={})
    for part in ("validation", "test"):
        a, b = parts[part]
        actual = values[a:b]
        predicted = scaler.inverse(model.predict(data[part], verbose=0)[:, 0])
        forecasts = {
            cell.upper(): to_values(np.arange(a, b), predicted),
            "persistence": persistence(values, a, b),
            f"AR({window})": to_values(np.arange(a, b), autoregression_forecast(
                coefficients, z, a - shift, b - shift)),
        }
        result["errors"][part] = {k: errors(v, actual) for k, v in forecasts.items()}
        say(f"\n{part.capitalize()} period, {b - a} forecasts ({dates[a]} to {dates[b - 1]}):")
        for k, (rmse, mae) in result["errors"][part].items():
            say(f"  {k:<12} RMSE {rmse:10.4f}   MAE {mae:10.4f}")
    result["test"] = dict(dates=dates[a:b], actual=actual, forecasts=forecasts)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", choices=series_data.NAMES, default="msft")
    parser.add_argument("--target", choices=["returns", "level"], default=None,
                        help="what the model reads and predicts (default: returns for prices, "
                             "level for sunspots)")
    parser.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    parser.add_argument("--window", type=int, default=None, help="steps of the past read")
    parser.add_argument("--units", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None, help="at most this many")
    parser.add_argument("--patience", type=int, default=None,
                        help="epochs without a better validation loss before stopping")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a small, fast run")
    parser.add_argument("--plot", default=None, help="PNG path (default forecast_SERIES.png)")
    parser.add_argument("--no-plot", action="store_true", help="write no PNG")
    args = parser.parse_args()
    result = run(args.series, args.target, args.cell, args.window, args.units,
                 epochs=args.epochs, patience=args.patience, seed=args.seed, quick=args.quick)
    test = result["test"]
    if not args.no_plot:
        modelled = "log returns" if result["target"] == "returns" else "the level"
        plot(args.plot or f"forecast_{args.series}.png", test["dates"], test["actual"],
             test["forecasts"], f"{args.series}: one step ahead over the test period "
             f"({args.cell.upper()} on {modelled})")
    rmse, mae = result["errors"]["test"][args.cell.upper()]
    persistence_rmse = result["errors"]["test"]["persistence"][0]
    ar_rmse = result["errors"]["test"][f"AR({result['window']})"][0]
    print(f"RESULT series={args.series} rmse={rmse:.4f} persistence_rmse={persistence_rmse:.4f} "
          f"ar_rmse={ar_rmse:.4f} mae={mae:.4f} target={result['target']} cell={args.cell} "
          f"train_s={result['seconds']:.1f}")


if __name__ == "__main__":
    main()
