"""examples/forecast.py's protocol in bptt or in Keras: the same run() (split, train-only
scaler, windows, model, early stopping, baselines), with the framework's modules in place of
bptt's.

    python -m benchmarks.forecast_frameworks --framework bptt --series sunspots --seed 0
    python -m benchmarks.forecast_frameworks --framework keras --series sunspots --seed 0

The Keras run needs Keras 3 and bptt's dependencies in one environment (`pip install -e
'.[bench-keras]'` puts TensorFlow beside bptt); bptt then only loads the series and makes the
baselines. Windows come from each framework's own timeseries_dataset_from_array, models from
its own layers, fit from its own loop. The last line is `RESULT {...}` as JSON: each period's
RMSE and MAE per forecaster, the epochs, the best epoch and fit's seconds.
"""
import argparse
import importlib.util
import json
import os
import platform
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # run as a file too


def load_example():
    spec = importlib.util.spec_from_file_location(
        "forecast_example", os.path.join(ROOT, "examples", "forecast.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def use_keras(example):
    """Point the example's framework names at Keras' own modules."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    example.layers, example.models = keras.layers, keras.models
    example.callbacks, example.utils = keras.callbacks, keras.utils
    return f"keras {keras.__version__} ({keras.backend.backend()})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--framework", choices=["bptt", "keras"], required=True)
    parser.add_argument("--series", choices=["msft", "sp500", "sunspots"], required=True)
    parser.add_argument("--target", choices=["returns", "level"], default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    example = load_example()
    if args.framework == "keras":
        ran = use_keras(example)
    else:
        import bptt

        ran = f"bptt {bptt.__version__}"
    result = example.run(args.series, target=args.target, seed=args.seed, verbose=0)
    summary = {
        "framework": ran, "series": args.series, "target": result["target"],
        "seed": args.seed, "epochs": result["epochs"], "best_epoch": result["best_epoch"],
        "fit_seconds": round(result["seconds"], 2),
        "errors": {part: {name: {"rmse": round(rmse, 4), "mae": round(mae, 4)}
                          for name, (rmse, mae) in by_name.items()}
                   for part, by_name in result["errors"].items()},
        "machine": platform.machine(), "cpus": os.cpu_count(),
    }
    print(f"{ran}: {args.series} ({result['target']}), test RMSE "
          + ", ".join(f"{k} {v['rmse']}" for k, v in summary["errors"]["test"].items())
          + f"; fit {summary['fit_seconds']} s")
    print("RESULT " + json.dumps(summary))


if __name__ == "__main__":
    main()
