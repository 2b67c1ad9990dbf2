"""The `bptt` command.

    bptt summary MODEL                 print a saved model's layers and parameter counts
    bptt predict MODEL "text" ...      P(positive) of each text, for a model trained on
                                       bptt.datasets.imdb (encoded the same way)
    bptt info                          versions, float type, kernels, BLAS in use
"""
import argparse
import sys


def _summary(args):
    from bptt.models import load_model

    load_model(args.model, compile=False).summary()


def _predict(args):
    from bptt.datasets import imdb
    from bptt.models import load_model

    model = load_model(args.model, compile=False)
    embedding = model.layers[0]
    maxlen = model._build_input_shape[1] or 50
    ids = imdb.encode(args.texts, num_words=embedding.input_dim, maxlen=maxlen)
    for text, p in zip(args.texts, model.predict(ids, verbose=0)[:, 0]):
        print(f"{p:.3f}  {text}")


def _info(args):
    import numpy
    from threadpoolctl import threadpool_info

    import bptt

    print(f"bptt {bptt.__version__}, numpy {numpy.__version__}, floatx {bptt.floatx()}, "
          f"kernels {bptt.get_kernels()}")
    for pool in threadpool_info():
        print(f"  {pool.get('internal_api')} {pool.get('version')} "
              f"({pool.get('architecture')}, {pool.get('num_threads')} threads): "
              f"{pool.get('filepath')}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bptt", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    summary = commands.add_parser("summary", help="print a saved model's summary")
    summary.add_argument("model")
    summary.set_defaults(run=_summary)
    predict = commands.add_parser("predict", help="score texts with a saved sentiment model")
    predict.add_argument("model")
    predict.add_argument("texts", nargs="+")
    predict.set_defaults(run=_predict)
    info = commands.add_parser("info", help="versions, kernels and BLAS")
    info.set_defaults(run=_info)
    args = parser.parse_args(argv)
    args.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
